"""Drift injections for the fail2ban role's controls (see extensions/molecule/drift_matrix.py).

In the site scenario fail2ban bans through ufw, every jail's maxretry is 3 (fail2ban_maxretry), and
the Apache jails run. FAIL2BAN-EFFECTIVE-JAILS is the one control that judges what is in effect: the
module behind it reads the drop-ins fail2ban reads after ours and asks the running server for its
jails, their settings and ban actions and its own log settings. A later drop-in or a run-time change
of a jail or a daemon setting is therefore named as FAIL2BAN-EFFECTIVE-JAILS (with the file, jail and
setting in its reasons); FAIL2BAN-JAILS and FAIL2BAN-DAEMON are our two files as written.
"""

from drift_matrix import Injection, NotInjectable, until

CONF = "/etc/fail2ban"
JAILS = f"{CONF}/jail.d/bulwark.local"
DAEMON = f"{CONF}/fail2ban.d/bulwark.local"
LOG = "/var/log/fail2ban.log"
# A restart, then wait until the server answers with its jails again (the next command needs it).
RESTART = "systemctl restart fail2ban && " + until("fail2ban-client status sshd >/dev/null 2>&1")
EFFECTIVE = "FAIL2BAN-EFFECTIVE-JAILS"

INJECTIONS = [
    # ------------------------------------------------------------------ FAIL2BAN-LOG
    Injection(
        control="FAIL2BAN-LOG",
        via="file",
        what="fail2ban's log, which recidive reads, made world-writable (anyone can forge the offences it bans on)",
        inject=f"chmod 0666 {LOG}",
        expect=("OS-AUDIT-FINDINGS",),  # a world-writable file, where os_baseline's audit runs (site)
        scenarios=("site", "fail2ban"),
    ),
    NotInjectable(
        control="FAIL2BAN-LOG",
        via="override",
        why=(
            "The log is one file; nothing is read in its place. Where fail2ban writes is its logtarget, a daemon "
            "setting: a fail2ban.d drop-in or a run-time change moving it is judged in effect as "
            "FAIL2BAN-EFFECTIVE-JAILS (injected there: fail2ban-client set logtarget)."
        ),
    ),
    NotInjectable(
        control="FAIL2BAN-LOG",
        via="daemon",
        why=(
            "The running server's log target is compared with the declared one as FAIL2BAN-EFFECTIVE-JAILS "
            "(injected there: fail2ban-client set logtarget); the file itself has no running state."
        ),
    ),
    # ------------------------------------------------------------------ FAIL2BAN-JAILS
    Injection(
        control="FAIL2BAN-JAILS",
        via="file",
        what="our jail.d/bulwark.local edited in place: maxretry 30 instead of 3 (fail2ban not restarted)",
        inject=f"sed -i 's/^maxretry = 3$/maxretry = 30/' {JAILS} && grep -q '^maxretry = 30$' {JAILS}",
        scenarios=("site", "fail2ban"),
    ),
    NotInjectable(
        control="FAIL2BAN-JAILS",
        via="override",
        why=(
            "A jail.d drop-in read after ours is judged with the merged configuration as FAIL2BAN-EFFECTIVE-JAILS "
            "(injected there: a [DEFAULT] ban action our jails inherit); this control is our file as written."
        ),
    ),
    NotInjectable(
        control="FAIL2BAN-JAILS",
        via="daemon",
        why=(
            "The running jails are asked for their settings as FAIL2BAN-EFFECTIVE-JAILS (injected there: "
            "fail2ban-client set sshd maxretry / addignoreip, fail2ban-client stop sshd); this control is our "
            "file as written."
        ),
    ),
    # ------------------------------------------------------------------ FAIL2BAN-DAEMON
    Injection(
        control="FAIL2BAN-DAEMON",
        via="file",
        what="our fail2ban.d/bulwark.local edited in place: loglevel DEBUG (fail2ban not restarted)",
        inject=f"sed -i 's/^loglevel = INFO$/loglevel = DEBUG/' {DAEMON} && grep -q '^loglevel = DEBUG$' {DAEMON}",
        scenarios=("site", "fail2ban"),
    ),
    NotInjectable(
        control="FAIL2BAN-DAEMON",
        via="override",
        why=(
            "A fail2ban.d drop-in read after ours is judged with the server's answer as FAIL2BAN-EFFECTIVE-JAILS "
            "(injected there: fail2ban.d/zz-local.local setting loglevel); this control is our file as written."
        ),
    ),
    NotInjectable(
        control="FAIL2BAN-DAEMON",
        via="daemon",
        why=(
            "The running server's loglevel, logtarget and dbpurgeage are compared as FAIL2BAN-EFFECTIVE-JAILS "
            "(injected there: fail2ban-client set logtarget); this control is our file as written."
        ),
    ),
    # ------------------------------------------------------------------ FAIL2BAN-EFFECTIVE-JAILS
    NotInjectable(
        control=EFFECTIVE,
        via="file",
        why=(
            "This control is the merged configuration and the running server; it writes no file. Our two files "
            "are FAIL2BAN-JAILS and FAIL2BAN-DAEMON (injected there); a file read after them is this control's "
            "override (injected)."
        ),
    ),
    Injection(
        control=EFFECTIVE,
        via="override",
        what=(
            "a later jail.d/zz-local.local sets [DEFAULT] banaction = dummy (our sshd and Apache jails inherit it: "
            "bans do nothing), fail2ban restarted with it"
        ),
        inject=f"printf '[DEFAULT]\\nbanaction = dummy\\n' > {CONF}/jail.d/zz-local.local && {RESTART}"
        " && fail2ban-client get sshd actions | grep -qx dummy",
        # The role never edits the admin's drop-in: the repair refuses, naming the file and line.
        undo=f"rm {CONF}/jail.d/zz-local.local",
        scenarios=("site", "fail2ban"),
    ),
    Injection(
        control=EFFECTIVE,
        via="override",
        what="a later fail2ban.d/zz-local.local sets loglevel = CRITICAL (recidive sees no bans), fail2ban restarted",
        inject=f"printf '[Definition]\\nloglevel = CRITICAL\\n' > {CONF}/fail2ban.d/zz-local.local && {RESTART}"
        " && fail2ban-client get loglevel | grep -q CRITICAL",
        undo=f"rm {CONF}/fail2ban.d/zz-local.local",
        scenarios=("site", "fail2ban"),
    ),
    Injection(
        control=EFFECTIVE,
        via="daemon",
        what="run-time changes to the sshd jail: fail2ban-client set sshd maxretry 30 and addignoreip 203.0.113.0/24",
        inject=(
            "fail2ban-client set sshd maxretry 30 >/dev/null && fail2ban-client set sshd addignoreip 203.0.113.0/24"
            ' >/dev/null && test "$(fail2ban-client get sshd maxretry)" = 30'
        ),
        scenarios=("site", "fail2ban"),
    ),
    Injection(
        control=EFFECTIVE,
        via="daemon",
        what="the sshd jail stopped at run time (fail2ban-client stop sshd); the daemon and its files untouched",
        inject="fail2ban-client stop sshd >/dev/null && ! fail2ban-client status sshd >/dev/null 2>&1",
        scenarios=("site", "fail2ban"),
    ),
    Injection(
        control=EFFECTIVE,
        via="daemon",
        what="fail2ban's log target moved at run time (fail2ban-client set logtarget): recidive reads nothing new",
        inject=(
            "fail2ban-client set logtarget /var/log/fail2ban-elsewhere.log >/dev/null"
            " && fail2ban-client get logtarget | grep -q fail2ban-elsewhere"
        ),
        scenarios=("site", "fail2ban"),
    ),
    Injection(
        control=EFFECTIVE,
        via="daemon",
        what=(
            "a lost restart: fail2ban restarted on a jail file with maxretry 30, then the file put back with its "
            "old modification time (cp -p)"
        ),
        inject=(
            f"cp -p {JAILS} /root/bulwark.local.kept && sed -i 's/^maxretry = 3$/maxretry = 30/' {JAILS} && {RESTART}"
            f' && cp -p /root/bulwark.local.kept {JAILS} && test "$(fail2ban-client get sshd maxretry)" = 30'
        ),
        scenarios=("site", "fail2ban"),
    ),
    # ------------------------------------------------------------------ FAIL2BAN-PACKAGES
    Injection(
        control="FAIL2BAN-PACKAGES",
        via="file",
        what="python3-pyinotify (fail2ban's file watcher) removed; the running daemon keeps what it loaded",
        inject="DEBIAN_FRONTEND=noninteractive apt-get remove -y -q python3-pyinotify >/dev/null"
        " && ! dpkg -s python3-pyinotify 2>/dev/null | grep -q '^Status: install ok installed'",
        scenarios=("site", "fail2ban"),
    ),
    NotInjectable(
        control="FAIL2BAN-PACKAGES",
        via="override",
        why="dpkg's status database is the only place a package is installed; no higher-priority place exists.",
    ),
    NotInjectable(
        control="FAIL2BAN-PACKAGES",
        via="daemon",
        why=(
            "A package has no running state; the running fail2ban is FAIL2BAN-SERVICE (stopped) and "
            "FAIL2BAN-EFFECTIVE-JAILS (what it runs), both injected."
        ),
    ),
    # ------------------------------------------------------------------ FAIL2BAN-SERVICE
    Injection(
        control="FAIL2BAN-SERVICE",
        via="file",
        what="fail2ban disabled at boot (its multi-user.target.wants link removed), still running",
        inject="systemctl disable fail2ban 2>/dev/null && ! systemctl is-enabled -q fail2ban",
        scenarios=("site", "fail2ban"),
    ),
    Injection(
        control="FAIL2BAN-SERVICE",
        via="override",
        what="fail2ban masked (/etc/systemd/system/fail2ban.service -> /dev/null over the package's unit), running",
        inject='systemctl mask fail2ban 2>/dev/null && test "$(systemctl is-enabled fail2ban)" = masked',
        # systemctl refuses to enable a masked unit, and the role does not unmask what an admin masked.
        undo="systemctl unmask fail2ban 2>/dev/null",
        scenarios=("site", "fail2ban"),
    ),
    Injection(
        control="FAIL2BAN-SERVICE",
        via="daemon",
        what="fail2ban stopped (systemctl stop fail2ban), still enabled",
        inject="systemctl stop fail2ban && ! systemctl is-active -q fail2ban",
        # A stopped server answers nothing: FAIL2BAN-EFFECTIVE-JAILS' run-time injections would go unseen.
        alone=True,
        scenarios=("site", "fail2ban"),
    ),
]

"""Drift injections for the ssh_hardening role's controls (see extensions/molecule/drift_matrix.py).

sshd keeps the first value it reads for a keyword, and the role writes its own before the
``Include /etc/ssh/sshd_config.d/*.conf`` line: a drop-in's global keyword the role sets is
ignored. What a drop-in can still change is what accumulates (HostKey) and what a Match block
sets for its connections - those are the overrides here. A change that leaves the daemon behind
its files is reloaded where the injection means "and sshd runs it"; what the running daemon
holds apart from its files is SSH-SERVICE's (the load record and the live ``ssh -vv`` probe).
"""

from dataclasses import replace

from drift_matrix import Injection, NotInjectable, until

CONFIG = "/etc/ssh/sshd_config"
DROP_INS = "/etc/ssh/sshd_config.d"
# sed -i through the symlink some hosts keep sshd_config behind (it would replace the link).
SED = "sed -i --follow-symlinks"
KEEP = "/root/.bulwark-drift-sshd_config"
# sshd re-reads its files a while after SIGHUP (it re-executes itself): put the hardened file back only
# once the live daemon offers password logins, or it may read the file put back instead.
OFFERS_PASSWORD = until(
    "ssh -o BatchMode=yes -o PreferredAuthentications=none -o StrictHostKeyChecking=no"
    " -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5"
    " -p $(sshd -T 2>/dev/null | awk '$1 == \"port\" {print $2; exit}') root@127.0.0.1 true 2>&1 | grep -q password"
)

INJECTIONS = [
    # ---------------------------------------------------------------- SSH-PACKAGE
    Injection(
        control="SSH-PACKAGE",
        via="file",
        what="openssh-server removed (its configuration and host keys kept, as apt-get remove does)",
        inject="DEBIAN_FRONTEND=noninteractive apt-get remove -y -q openssh-server >/dev/null",
        # Without sshd the hardened configuration is not in effect: the check says a run installs,
        # hardens and starts it (SSH-CONFIG). The keys, moduli and service tasks need sshd and do not run.
        # The packages only openssh-server needed (runit-helper, ncurses-term, libwrap0 on Debian 12) are
        # left unused: minimal_packages' autoremove would purge them (PACKAGES-BLOCKLISTED).
        expect=("SSH-CONFIG", "PACKAGES-BLOCKLISTED"),
        alone=True,
    ),
    NotInjectable(
        control="SSH-PACKAGE",
        via="override",
        why="dpkg's status database is the only place a package is installed; no higher-priority place exists.",
    ),
    NotInjectable(
        control="SSH-PACKAGE",
        via="daemon",
        why=(
            "Installed or not is dpkg's record, not a process; removing the package stops sshd (its prerm)."
            " A running sshd that differs from its files is SSH-SERVICE's (injected there)."
        ),
    ),
    # ---------------------------------------------------------------- SSH-BANNER
    Injection(
        control="SSH-BANNER",
        via="file",
        what="/etc/issue.net replaced by another text",
        inject="printf 'Debian GNU/Linux\\n' > /etc/issue.net",
    ),
    Injection(
        control="SSH-BANNER",
        via="override",
        what="a drop-in's Match all sets Banner none (sshd reloaded)",
        inject=f"printf 'Match all\\n    Banner none\\n' > {DROP_INS}/zz-banner.conf && systemctl reload ssh",
        undo=f"rm -f {DROP_INS}/zz-banner.conf",
    ),
    NotInjectable(
        control="SSH-BANNER",
        via="daemon",
        why=(
            "sshd opens the Banner file for every connection and holds no copy of it; a daemon that runs"
            " another Banner keyword than its files runs another configuration, SSH-SERVICE's drift (injected"
            " there: reloaded on another file that was then put back)."
        ),
    ),
    # ---------------------------------------------------------------- SSH-HOST-KEYS
    Injection(
        control="SSH-HOST-KEYS",
        via="file",
        what="the RSA host key replaced by a 2048-bit one (sshd reloaded)",
        inject=(
            "rm -f /etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_rsa_key.pub"
            " && ssh-keygen -q -N '' -t rsa -b 2048 -f /etc/ssh/ssh_host_rsa_key && systemctl reload ssh"
        ),
    ),
    Injection(
        control="SSH-HOST-KEYS",
        via="override",
        what="an early drop-in's HostKey adds a 2048-bit RSA key that sshd loads (sshd reloaded)",
        inject=(
            "ssh-keygen -q -N '' -t rsa -b 2048 -f /etc/ssh/drift_rsa_key"
            f" && printf 'HostKey /etc/ssh/drift_rsa_key\\n' > {DROP_INS}/05-hostkey.conf && systemctl reload ssh"
        ),
        undo=f"rm -f {DROP_INS}/05-hostkey.conf /etc/ssh/drift_rsa_key /etc/ssh/drift_rsa_key.pub",
    ),
    NotInjectable(
        control="SSH-HOST-KEYS",
        via="daemon",
        why=(
            "sshd reads its host keys only when it (re)loads; a daemon holding other keys than the files is"
            " compared by SSH-SERVICE, whose files include every HostKey (injected there)."
        ),
    ),
    # ---------------------------------------------------------------- SSH-MODULI
    Injection(
        control="SSH-MODULI",
        via="file",
        what="a 2048-bit group (from the role's backup of the stock file) appended to /etc/ssh/moduli",
        inject=(
            "line=$(grep -hE '^[0-9]+ [0-9]+ [0-9]+ [0-9]+ 2047 ' /etc/ssh/moduli.*~ | head -n 1)"
            ' && [ -n "$line" ] && printf "%s\\n" "$line" >> /etc/ssh/moduli'
        ),
    ),
    NotInjectable(
        control="SSH-MODULI",
        via="override",
        why=(
            "sshd reads the groups from the one file ModuliFile names; the role sets ModuliFile /etc/ssh/moduli"
            " before the Include (sshd keeps the first value), and ModuliFile is not allowed in a Match block."
        ),
    ),
    NotInjectable(
        control="SSH-MODULI",
        via="daemon",
        why=(
            "sshd holds no copy of the groups: its privileged monitor opens the moduli file for each"
            " group-exchange key exchange."
        ),
    ),
    # ---------------------------------------------------------------- SSH-CONFIG
    Injection(
        control="SSH-CONFIG",
        via="file",
        what="sshd_config edited to PasswordAuthentication yes (sshd reloaded)",
        inject=(
            f"{SED} 's/^PasswordAuthentication no$/PasswordAuthentication yes/' {CONFIG}"
            f" && grep -q '^PasswordAuthentication yes$' {CONFIG} && systemctl reload ssh"
        ),
    ),
    Injection(
        control="SSH-CONFIG",
        via="override",
        what="a drop-in's Match all reopens password logins (sshd reloaded)",
        inject=(
            f"printf 'Match all\\n    PasswordAuthentication yes\\n' > {DROP_INS}/zz-reopen.conf"
            " && systemctl reload ssh"
        ),
        undo=f"rm -f {DROP_INS}/zz-reopen.conf",
    ),
    NotInjectable(
        control="SSH-CONFIG",
        via="daemon",
        why=(
            "A daemon running another configuration than sshd_config is SSH-SERVICE's control (sshd running its"
            " configuration), injected there: reloaded on a weak file that was then put back."
        ),
    ),
    # ---------------------------------------------------------------- SSH-PORT-FIREWALL
    Injection(
        control="SSH-PORT-FIREWALL",
        via="file",
        what="sshd_config moved to port 2200 by hand and ufw's SSH rules deleted: the run that puts sshd back on "
        "bulwark_ssh_port (22) must let 22 in first, or it cuts the next login off",
        inject=f"{SED} 's/^Port 22$/Port 2200/' /etc/ssh/sshd_config && grep -qx 'Port 2200' /etc/ssh/sshd_config"
        " && for n in $(ufw status numbered | awk -F'[][]' '$3 ~ /^ 22\\/tcp /{print $2 + 0}' | sort -rn);"
        " do ufw --force delete $n >/dev/null; done && ! ufw status | grep -q '^22/tcp'",
        # The file differs (SSH-CONFIG), sshd still runs the old one (SSH-SERVICE), the rule set lacks the
        # SSH rules (UFW-RULESET).
        expect=("SSH-CONFIG", "SSH-SERVICE", "UFW-RULESET"),
        alone=True,  # another injection's reload of sshd would make it run the moved file (not SSH-SERVICE)
    ),
    NotInjectable(
        control="SSH-PORT-FIREWALL",
        via="override",
        why="ufw reads its rules from its own rule files only, with no higher-priority place; sshd's Port in a"
        " drop-in or Match block is SSH-CONFIG's override (injected there), and the firewall check reads the"
        " ports of the effective configuration either way.",
    ),
    NotInjectable(
        control="SSH-PORT-FIREWALL",
        via="daemon",
        why="A live ufw that differs from its rule files is the ufw role's daemon drift (UFW-LIVE, injected); a"
        " sshd listening elsewhere than its files say is SSH-SERVICE's.",
    ),
    # ---------------------------------------------------------------- SSH-SERVICE
    Injection(
        control="SSH-SERVICE",
        via="file",
        what="ssh.service disabled (its enablement link removed)",
        inject="systemctl disable --quiet ssh",
    ),
    Injection(
        control="SSH-SERVICE",
        via="daemon",
        what="sshd stopped",
        inject="systemctl stop ssh",
        # systemd removes the unit's RuntimeDirectory, /run/sshd, when it stops: nothing else can be
        # evaluated then (the check names the directory a run creates).
        expect=("SSH-PRIVSEP-DIR",),
        alone=True,
    ),
    Injection(
        control="SSH-SERVICE",
        via="daemon",
        what="sshd reloaded on a file with PasswordAuthentication yes, then the hardened file put back (cp -p)",
        inject=(
            f"cp -p {CONFIG} {KEEP}"
            f" && {SED} 's/^PasswordAuthentication no$/PasswordAuthentication yes/' {CONFIG}"
            f" && systemctl reload ssh && {OFFERS_PASSWORD} && cp -p {KEEP} {CONFIG} && rm -f {KEEP}"
        ),
    ),
    Injection(
        control="SSH-SERVICE",
        via="daemon",
        what=(
            "sshd sent SIGHUP behind systemd's back on a file with passwords and aes128-ctr, then the hardened"
            " file put back (cp -p): only the live daemon differs"
        ),
        inject=(
            f"cp -p {CONFIG} {KEEP}"
            f" && {SED} -e 's/^PasswordAuthentication no$/PasswordAuthentication yes/'"
            f" -e 's/^Ciphers .*/Ciphers aes256-gcm@openssh.com,aes128-ctr/' {CONFIG}"
            f" && kill -HUP $(systemctl show -p MainPID --value ssh) && {OFFERS_PASSWORD}"
            f" && cp -p {KEEP} {CONFIG} && rm -f {KEEP}"
        ),
    ),
    Injection(
        control="SSH-SERVICE",
        via="override",
        what="SSHD_OPTS in /etc/default/ssh passes -o PasswordAuthentication=yes (sshd restarted)",
        inject=("printf 'SSHD_OPTS=\"-o PasswordAuthentication=yes\"\\n' >> /etc/default/ssh && systemctl restart ssh"),
        undo="sed -i '/^SSHD_OPTS=\"-o PasswordAuthentication=yes\"$/d' /etc/default/ssh",
    ),
    # ---------------------------------------------------------------- SSH-PRIVSEP-DIR
    Injection(
        control="SSH-PRIVSEP-DIR",
        via="file",
        what="/run/sshd removed (sshd refuses new connections; sshd -T cannot run)",
        inject="rm -rf /run/sshd",
        # Nothing else can be evaluated without it (the Match contexts, the live probe).
        alone=True,
    ),
    NotInjectable(
        control="SSH-PRIVSEP-DIR",
        via="override",
        why="The directory is compiled into sshd (/run/sshd); no configuration file names another.",
    ),
    NotInjectable(
        control="SSH-PRIVSEP-DIR",
        via="daemon",
        why=(
            "A path sshd uses for each new connection, not a setting it holds: removing it under a running"
            " sshd is the file injection."
        ),
    ),
]

# Each runs in the site scenario, or (when site's batches are full) in the ssh_hardening scenario,
# whose hosts run the role alone: every injection above that expects only SSH controls names the
# same controls there (one that also expects another role's needs site).
INJECTIONS = [
    replace(item, scenarios=("site", "ssh_hardening"))
    if isinstance(item, Injection) and all(control.startswith("SSH-") for control in item.expected())
    else item
    for item in INJECTIONS
]

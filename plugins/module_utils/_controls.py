# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogue of the collection's drift controls, by ID: the one place for each control's
title, measure and CIS references.

A task that can change a host names its control by ID only (``vars: {bulwark_control: SSH-CONFIG}``).
The drift_report callback reads this catalogue on the controller, whether the collection runs from a
source tree or is installed; scripts/check-controls.py refuses an ID not in it, an entry no task
uses, and a task that restates a measure; scripts/role-docs.py renders each role's table from it.

Per entry: ``role`` (the role whose tasks implement it), ``title`` (what the report names it),
``measure`` (what the control requires and the document that asks for it) and, where the benchmark
has them, ``cis`` (its recommendation numbers in CIS Debian Linux 12 v1.1.0) and ``cis13`` (in CIS
Debian 13 v1.0.0): each a list of numbers and ranges within one section ("5.1.4-5.1.7, 5.1.10").
The two benchmarks number and split their recommendations differently, so each control states both;
scripts/cis-coverage.py checks every number against meta/cis/ and renders the coverage table.
Data only: nothing here runs on a managed host.
"""

from __future__ import annotations

CONTROLS = {
    # common
    "COMMON-RECORD": {
        "role": "common",
        "title": "Record of the managing collection",
        "measure": (
            "Local fact naming the collection and version that manage the host (minimum requirements #6: audit; server"
            " checklist #13: document)"
        ),
    },
    # ssh_hardening
    "SSH-PACKAGE": {
        "role": "ssh_hardening",
        "title": "OpenSSH server installed",
        "measure": "OpenSSH server, the one remote administration path (i-doit guide: Securing SSH)",
    },
    "SSH-BANNER": {
        "role": "ssh_hardening",
        "title": "SSH login banner",
        "measure": "Warning banner shown before SSH login (from CIS; no seed document asks for it)",
        "cis": "1.6.3, 1.6.6",
        "cis13": "1.6.3, 1.6.6",
    },
    "SSH-HOST-KEYS": {
        "role": "ssh_hardening",
        "title": "Strong SSH host keys, root's alone",
        "measure": (
            "Strong SSH host keys: Ed25519, RSA of at least ssh_hardening_rsa_host_key_min_bits (i-doit guide: "
            "Securing SSH); the keys and sshd_config owned by root, private keys and sshd_config 0600, public keys "
            "0644 at most (CIS)"
        ),
        "cis": "5.1.1-5.1.3",
        "cis13": "5.1.1-5.1.3",
    },
    "SSH-MODULI": {
        "role": "ssh_hardening",
        "title": "Diffie-Hellman moduli",
        "measure": (
            "No Diffie-Hellman group shorter than ssh_hardening_moduli_min_bits (minimum requirements #2: harden the "
            "services)"
        ),
    },
    "SSH-CONFIG": {
        "role": "ssh_hardening",
        "title": "Hardened sshd_config",
        "measure": (
            "No root login, keys only, strong algorithms, login limits, no forwarding (i-doit guide: Securing SSH; "
            "server checklist #5)"
        ),
        "cis": "5.1.4-5.1.7, 5.1.10-5.1.22",
        "cis13": "5.1.4-5.1.7, 5.1.10-5.1.23",
    },
    "SSH-PORT-FIREWALL": {
        "role": "ssh_hardening",
        "title": "Moved SSH port let in by the firewall",
        "measure": (
            "A moved SSH port (bulwark_ssh_port) is let in by the active firewall before sshd moves there, so the"
            " operator is never locked out"
        ),
    },
    "SSH-SERVICE": {
        "role": "ssh_hardening",
        "title": "sshd running its configuration",
        "measure": (
            "sshd enabled and running the configuration on disk (i-doit guide: Securing SSH, restart after a change)"
        ),
    },
    "SSH-PRIVSEP-DIR": {
        "role": "ssh_hardening",
        "title": "sshd runtime directory",
        "measure": (
            "sshd's runtime directory /run/sshd, which sshd -T needs to test a configuration before it goes live "
            "(i-doit guide: Securing SSH)"
        ),
    },
    # ufw
    "UFW-DEFAULTS": {
        "role": "ufw",
        "title": "Default firewall policies",
        "measure": (
            "Incoming and routed traffic denied by default, IPv6 filtered like IPv4 (i-doit guide: Firewall and Open "
            "Ports, IPv4 versus IPv6)"
        ),
        "cis": "4.2.7",
        "cis13": "4.1.3, 4.1.5",
    },
    "UFW-PACKAGE": {
        "role": "ufw",
        "title": "ufw installed",
        "measure": (
            "ufw, the host firewall as an additional line of defence (i-doit guide: Firewall and Open Ports; minimum "
            "requirements #3)"
        ),
        "cis": "4.2.1",
        "cis13": "4.1.1",
    },
    "UFW-LIVE": {
        "role": "ufw",
        "title": "Live firewall",
        "measure": (
            "The live firewall is the configured one: policies, IPv6 and rules reloaded after a lost reload, no rule "
            "inserted by hand accepting traffic (i-doit guide: Firewall and Open Ports)"
        ),
    },
    "UFW-RULESET": {
        "role": "ufw",
        "title": "Firewall rules",
        "measure": (
            "Only the declared ports open (before.rules and after.rules included), SSH rate-limited, ufw active "
            "(i-doit guide: Firewall and Open Ports; server checklist #3)"
        ),
        "cis": "4.2.3, 4.2.6, 4.2.7",
        "cis13": "4.1.2, 4.1.3, 4.1.5",
    },
    # fail2ban
    "FAIL2BAN-LOG": {
        "role": "fail2ban",
        "title": "fail2ban log file",
        "measure": "fail2ban's own log, which the recidive jail reads (server checklist #7: logging)",
    },
    "FAIL2BAN-JAILS": {
        "role": "fail2ban",
        "title": "fail2ban jails",
        "measure": (
            "Jails banning brute force on SSH and Apache, repeat offenders longer (i-doit guide: Automatic Defense "
            "against Attacks)"
        ),
    },
    "FAIL2BAN-DAEMON": {
        "role": "fail2ban",
        "title": "fail2ban daemon settings",
        "measure": (
            "fail2ban's log level, log file and ban history (i-doit guide: Automatic Defense against Attacks; server "
            "checklist #7)"
        ),
    },
    "FAIL2BAN-EFFECTIVE-JAILS": {
        "role": "fail2ban",
        "title": "fail2ban in effect",
        "measure": (
            "The running fail2ban is the declared one: its jails, their settings and ban actions and its own log "
            "settings as the server answers them, no drop-in overrides them, no restart pending (i-doit guide: "
            "Automatic Defense against Attacks)"
        ),
    },
    "FAIL2BAN-PACKAGES": {
        "role": "fail2ban",
        "title": "fail2ban installed",
        "measure": (
            "fail2ban with its journal reader and ban backend (i-doit guide: Automatic Defense against Attacks; server"
            " checklist #3)"
        ),
    },
    "FAIL2BAN-SERVICE": {
        "role": "fail2ban",
        "title": "fail2ban running",
        "measure": "fail2ban enabled and running (i-doit guide: Automatic Defense against Attacks)",
    },
    # unattended_upgrades
    "UPDATES-CONFIG": {
        "role": "unattended_upgrades",
        "title": "Automatic security updates",
        "measure": (
            "Automatic security updates from the declared origins (i-doit guide: Update, Updates, Updates; server "
            "checklist #1; minimum requirements #5)"
        ),
        "cis": "1.2.2.1",
        "cis13": "1.2.2.1",
    },
    "UPDATES-NEEDRESTART": {
        "role": "unattended_upgrades",
        "title": "Service restarts after updates",
        "measure": (
            "Services using replaced libraries restarted after updates, sshd left alone (minimum requirements #5: "
            "security patches)"
        ),
    },
    "UPDATES-PACKAGES": {
        "role": "unattended_upgrades",
        "title": "Update tools installed",
        "measure": (
            "unattended-upgrades and needrestart installed (i-doit guide: Update, Updates, Updates; minimum "
            "requirements #5)"
        ),
    },
    "UPDATES-ORIGINS": {
        "role": "unattended_upgrades",
        "title": "Update origins",
        "measure": (
            "apt's effective Origins-Pattern is the declared list, no other file adds a source (minimum requirements "
            "#5, #6: patches, audit)"
        ),
    },
    "UPDATES-SECURITY-PENDING": {
        "role": "unattended_upgrades",
        "title": "Pending security updates",
        "measure": "security updates installed promptly (minimum requirements #5: patches; BSI M 4.97)",
    },
    "UPDATES-SCHEDULE": {
        "role": "unattended_upgrades",
        "title": "Update timer schedule",
        "measure": "The declared schedule of apt's download and upgrade timers (server checklist #1: regular updates)",
    },
    "UPDATES-TIMERS": {
        "role": "unattended_upgrades",
        "title": "Update timers running",
        "measure": (
            "apt's download and upgrade timers enabled and running (i-doit guide: Update, Updates, Updates; server "
            "checklist #1)"
        ),
        "cis": "1.2.2.1",
        "cis13": "1.2.2.1",
    },
    # minimal_packages
    "PACKAGES-MASKED-SERVICES": {
        "role": "minimal_packages",
        "title": "Unneeded services masked",
        "measure": (
            "Services kept installed but not needed are masked (BSI M 4.97/M 4.95; i-doit guide: Minimum Operating "
            "System)"
        ),
        "cis": "2.1.13",
        "cis13": "2.1.13",
    },
    "LISTENER-UNDECLARED": {
        "role": "minimal_packages",
        "title": "Only declared services listen",
        "measure": (
            "Only the services declared in bulwark_services listen (BSI M 4.97: one service per server; minimum "
            "requirements #1, #6)"
        ),
        "cis": "2.1.22",
        "cis13": "2.1.23",
    },
    "PACKAGES-BLOCKLISTED": {
        "role": "minimal_packages",
        "title": "Unneeded packages purged",
        "measure": (
            "Minimal system, unneeded servers and clients purged (BSI M 4.97/M 4.95; i-doit guide: Minimum Operating "
            "System)"
        ),
        "cis": "2.1.1-2.1.12, 2.1.14-2.1.17, 2.1.19, 2.1.20, 2.2.1-2.2.6, 3.1.3",
        "cis13": "1.5.6, 1.5.7, 2.1.1-2.1.12, 2.1.14-2.1.18, 2.1.20, 2.1.21, 2.2.1-2.2.6, 3.1.3",
    },
    # apache_hardening
    "APACHE-CONFIG": {
        "role": "apache_hardening",
        "title": "Hardened Apache configuration",
        "measure": (
            "ServerTokens Prod, security headers, only needed modules (i-doit guide: Transport Encryption, Minimum "
            "Operating System)"
        ),
    },
    "APACHE-SERVICE": {
        "role": "apache_hardening",
        "title": "Apache running its configuration",
        "measure": (
            "Apache enabled and running on its tested configuration (minimum requirements #2: harden the services)"
        ),
    },
    "APACHE-PACKAGES": {
        "role": "apache_hardening",
        "title": "Apache packages installed",
        "measure": (
            "Apache when it is to be installed, python3-cryptography for certificates (i-doit guide: Transport "
            "Encryption)"
        ),
    },
    "APACHE-TLS-SELF-SIGNED": {
        "role": "apache_hardening",
        "title": "Self-signed test certificate",
        "measure": (
            "Self-signed ECDSA certificate for labs and tests, valid one year (i-doit guide: Transport Encryption)"
        ),
    },
    # php_hardening
    "PHP-INI": {
        "role": "php_hardening",
        "title": "Hardened php.ini",
        "measure": (
            "expose_php Off, disable_functions, open_basedir, strict session cookies per SAPI (i-doit guide: Securing "
            "PHP)"
        ),
    },
    "PHP-EXTENSIONS": {
        "role": "php_hardening",
        "title": "Unneeded PHP modules disabled",
        "measure": "xdebug and other unneeded PHP modules disabled (i-doit guide: Minimum Operating System)",
    },
    "PHP-SERVICE": {
        "role": "php_hardening",
        "title": "PHP running its configuration",
        "measure": "PHP-FPM, or Apache for mod_php, running the PHP configuration on disk (i-doit guide: Securing PHP)",
    },
    "PHP-FPM-POOL": {
        "role": "php_hardening",
        "title": "PHP-FPM pool open_basedir",
        "measure": "open_basedir of each declared PHP-FPM pool (i-doit guide: Securing PHP)",
    },
    # immutable
    "IMMUTABLE-APT-HOOK": {
        "role": "immutable",
        "title": "Updates unlock locked files",
        "measure": (
            "Locked package files unlocked while dpkg runs, so updates still install (i-doit guide: Authorizations in "
            "the File System)"
        ),
    },
    "IMMUTABLE-APP-WRITABLE": {
        "role": "immutable",
        "title": "Writable application directories",
        "measure": (
            "An application tree's writable directories exist, mode 0770 (i-doit guide: Authorizations in the File "
            "System)"
        ),
    },
    "IMMUTABLE-APP": {
        "role": "immutable",
        "title": "Locked application trees",
        "measure": (
            "Application tree: directories 0550, files 0440, chattr +i (i-doit guide: Authorizations in the File "
            "System)"
        ),
    },
    "IMMUTABLE-PATHS": {
        "role": "immutable",
        "title": "Locked system paths",
        "measure": "Declared system paths locked with chattr +i (i-doit guide: Authorizations in the File System)",
    },
    "IMMUTABLE-UPDATE-WINDOW": {
        "role": "immutable",
        "title": "Update window",
        "measure": (
            "Locks lifted for an update window, restored after it (i-doit guide: Authorizations in the File System)"
        ),
    },
    # os_baseline
    "OS-SYSCTL": {
        "role": "os_baseline",
        "title": "Kernel parameters in effect",
        "measure": (
            "Process and network kernel parameters (ASLR, ptrace scope, no set-ID core dumps, no redirects, source"
            " routes or forwarding, reverse-path filter, SYN cookies, no IPv6 router advertisements), live and at boot,"
            " with no later sysctl.d file overriding them (CIS)"
        ),
        "cis": "1.5.1-1.5.3, 3.3.1-3.3.11",
        "cis13": "1.5.1-1.5.5, 1.5.8-1.5.10, 3.3.1.1-3.3.1.18, 3.3.2.1-3.3.2.8",
    },
    "OS-KERNEL-MODULES": {
        "role": "os_baseline",
        "title": "Unused kernel modules disabled",
        "measure": (
            "Unused file-system, USB storage and network protocol modules cannot be loaded and are not loaded (CIS)"
        ),
        "cis": "1.1.1.1-1.1.1.5, 1.1.1.9, 3.2.1-3.2.4",
        "cis13": "1.1.1.1-1.1.1.5, 1.1.1.9, 1.1.1.10, 3.2.1-3.2.6",
    },
    "OS-MOUNTS": {
        "role": "os_baseline",
        "title": "Mount options",
        "measure": (
            "nodev, nosuid and noexec on /tmp, /dev/shm, /var/tmp, /var/log and /var/log/audit, nodev and nosuid on"
            " /home and /var, where each is a separate file system: live and for the next boot (CIS)"
        ),
        "cis": (
            "1.1.2.1.2-1.1.2.1.4, 1.1.2.2.2-1.1.2.2.4, 1.1.2.3.2-1.1.2.3.3, 1.1.2.4.2-1.1.2.4.3, 1.1.2.5.2-1.1.2.5.4,"
            " 1.1.2.6.2-1.1.2.6.4, 1.1.2.7.2-1.1.2.7.4"
        ),
        "cis13": (
            "1.1.2.1.2-1.1.2.1.4, 1.1.2.2.2-1.1.2.2.4, 1.1.2.3.2-1.1.2.3.3, 1.1.2.4.2-1.1.2.4.3, 1.1.2.5.2-1.1.2.5.4,"
            " 1.1.2.6.2-1.1.2.6.4, 1.1.2.7.2-1.1.2.7.4"
        ),
    },
    "OS-FILE-PERMISSIONS": {
        "role": "os_baseline",
        "title": "Account, boot, cron and apt file permissions",
        "measure": (
            "passwd, group, shadow, gshadow (and their backups), shells, opasswd, the boot loader's configuration,"
            " crontab and the cron directories, apt's keyrings, sources and credentials owned by root and no more"
            " permissive than CIS allows (server checklist #10: permissions)"
        ),
        "cis": "1.4.2, 2.4.1.2-2.4.1.7, 7.1.1-7.1.10",
        "cis13": "1.2.1.3-1.2.1.9, 1.4.2, 2.4.1.2-2.4.1.8, 7.1.1-7.1.10",
    },
    "OS-APPARMOR": {
        "role": "os_baseline",
        "title": "AppArmor",
        "measure": (
            "apparmor and apparmor-utils installed, AppArmor enabled in the running kernel and on the command line"
            " GRUB generates, every loaded profile in enforce or complain mode, no process unconfined that a profile"
            " names (CIS)"
        ),
        "cis": "1.3.1.1-1.3.1.3",
        "cis13": "1.3.1.1-1.3.1.2",
    },
    "OS-PASSWORD-AGEING": {
        "role": "os_baseline",
        "title": "Password ageing and hashing",
        "measure": (
            "login.defs: passwords expire after 365 days with 7 days' warning, yescrypt, umask 027; accounts locked 45"
            " days after their password expired; the existing accounts with a password aged alike, none expired by"
            " the change; no last password change in the future (CIS)"
        ),
        "cis": "5.4.1.1, 5.4.1.3-5.4.1.6",
        "cis13": "5.4.1.1, 5.4.1.3-5.4.1.6",
    },
    "OS-PAM": {
        "role": "os_baseline",
        "title": "PAM: lockout, password quality and history, su",
        "measure": (
            "pam_faillock (5 failures, 15 minutes), pam_pwquality (14 characters, 4 classes, dictionary, root too),"
            " pam_pwhistory (24 remembered) and pam_unix without nullok, with yescrypt and use_authtok, through"
            " pam-auth-update profiles and judged on the live PAM stacks; su restricted to an empty group"
            " (pam_wheel) (CIS)"
        ),
        "cis": (
            "5.2.7, 5.3.1.1-5.3.1.3, 5.3.2.1-5.3.2.4, 5.3.3.1.1-5.3.3.1.2, 5.3.3.2.1-5.3.3.2.8, 5.3.3.3.1-5.3.3.3.3,"
            " 5.3.3.4.1-5.3.3.4.4"
        ),
        "cis13": (
            "5.2.7, 5.3.1.1-5.3.1.3, 5.3.2.1-5.3.2.4, 5.3.3.1.1-5.3.3.1.2, 5.3.3.2.1-5.3.3.2.8, 5.3.3.3.1-5.3.3.3.3,"
            " 5.3.3.4.1-5.3.3.4.4"
        ),
    },
    "OS-SUDO": {
        "role": "os_baseline",
        "title": "sudo hardened",
        "measure": (
            "sudo installed; as sudo itself applies it to root and the admin: commands in a pseudo-terminal, logged"
            " to a file, authentication not switched off, credentials cached briefly (CIS)"
        ),
        "cis": "5.2.1-5.2.3, 5.2.5, 5.2.6",
        "cis13": "5.2.1-5.2.3, 5.2.5, 5.2.6",
    },
    "OS-BANNERS": {
        "role": "os_baseline",
        "title": "Local login banners",
        "measure": (
            "Message of the day and local login banner state the policy and reveal no system details, mode 0644 (CIS)"
        ),
        "cis": "1.6.1, 1.6.2, 1.6.4, 1.6.5",
        "cis13": "1.6.1, 1.6.2, 1.6.4, 1.6.5",
    },
    "OS-JOB-ACCESS": {
        "role": "os_baseline",
        "title": "Who may schedule jobs",
        "measure": (
            "cron.allow and at.allow list root and the users the site allows (os_baseline_cron_allow, "
            "os_baseline_at_allow), owned by root, mode 0640 (CIS)"
        ),
        "cis": "2.4.1.8, 2.4.2.1",
        "cis13": "2.4.1.9, 2.4.2.1",
    },
    "OS-SHELL": {
        "role": "os_baseline",
        "title": "Shell timeout and umask",
        "measure": (
            "Idle login shells end after a timeout; login shells create files that others cannot read (umask 027 in"
            " /etc/profile.d, and UMASK in login.defs under OS-PASSWORD-AGEING) (CIS)"
        ),
        "cis": "5.4.3.2-5.4.3.3",
        "cis13": "5.4.3.2-5.4.3.3",
    },
    "OS-CORE-DUMPS": {
        "role": "os_baseline",
        "title": "Core dumps restricted",
        "measure": "No core dumps written by any process, nor stored by systemd-coredump (CIS)",
        "cis": "1.5.3",
        "cis13": "1.5.11-1.5.13",
    },
    "OS-AUDIT-FINDINGS": {
        "role": "os_baseline",
        "title": "File, account and system audit",
        "measure": (
            "No world-writable file or directory without the sticky bit, no unowned file, no unreviewed set-ID"
            " program; accounts shadowed, none with an empty password, no duplicate or orphaned IDs and names; root"
            " the only UID 0 and GID 0, a root login umask of 027 and a PATH only root can write, no system account"
            " with a login shell, no account without one that is not locked; no wireless interface; cron, where"
            " installed, enabled and running (CIS)"
        ),
        "cis": "2.4.1.1, 3.1.2, 5.4.2.1-5.4.2.8, 7.1.11-7.1.13, 7.2.1-7.2.8",
        "cis13": "2.4.1.1, 3.1.2, 5.4.2.1-5.4.2.8, 7.1.11-7.1.13, 7.2.1-7.2.8",
    },
}


def control(ident):
    """The catalogue entry of a control ID (title, measure, cis; cis empty when there is none), or None."""
    entry = CONTROLS.get(ident) if isinstance(ident, str) else None
    if entry is None:
        return None
    return {"id": ident, "title": entry["title"], "measure": entry["measure"], "cis": entry.get("cis", "")}

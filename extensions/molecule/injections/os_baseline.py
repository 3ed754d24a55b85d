"""Drift injections for the os_baseline role's controls (see extensions/molecule/drift_matrix.py).

They run in the os_baseline scenario (containers, the role with its defaults). What only a kernel of the
host's own can show - a value changed in the running kernel, a module loaded, modprobe's merged
configuration - is injected on the kernel scenario's VM instead (extensions/molecule/kernel/tests/
test_kernel.py, test_a_drift_check_judges_the_live_kernel_and_a_later_sysctl_file), where /proc/sys is
writable and kmod is installed.
"""

from drift_matrix import Injection, NotInjectable

SYSCTL = "/etc/sysctl.d/90-bulwark-hardening.conf"
MODPROBE = "/etc/modprobe.d/00-bulwark-hardening.conf"
SUDOERS = "/etc/sudoers.d/bulwark-hardening"
PROFILE = "/etc/profile.d/bulwark-hardening.sh"
LIMITS = "/etc/security/limits.d/bulwark-hardening.conf"
ON_THE_VM = (
    "a container's kernel is the host's (/proc/sys read-only, no kmod): injected on the kernel scenario's VM "
    "(test_kernel.py, one drift run with a runtime value, a hand-loaded module, a later sysctl.d file and an "
    "earlier modprobe.d file)"
)
MOUNTS_ON_THE_VM = (
    "a container's mounts are the engine's (every mount point is not applicable there): injected on the kernel "
    "scenario's VM (test_kernel.py: /dev/shm remounted exec in its drift run; /tmp's fstab line, which prepare.yml "
    "wrote with defaults only, given the flags)"
)
APPARMOR_ELSEWHERE = (
    "a container's AppArmor is the host kernel's, and the test VM boots its kernel without GRUB (no grub.d file to "
    "drift): the boot line's resolution, a later grub.d file resetting it and the profile modes are unit-tested "
    "(test_apparmor_state.py); the VM proves AppArmor enabled with every profile accepted (test_kernel.py)"
)
NO_PROCESS = "no process holds it: {what} is read afresh at every {when}, so the files are what is in effect."

SCENARIOS = ("os_baseline",)

INJECTIONS = [
    # ---------------------------------------------------------------- OS-SYSCTL
    Injection(
        control="OS-SYSCTL",
        via="file",
        what="ASLR switched off in our sysctl.d file (kernel.randomize_va_space = 0)",
        inject=f"sed -i 's/^kernel.randomize_va_space = 2$/kernel.randomize_va_space = 0/' {SYSCTL}",
        scenarios=SCENARIOS,
    ),
    Injection(
        control="OS-SYSCTL",
        via="override",
        what="a later sysctl.d file accepts ICMP redirects (99-zz-local.conf: net.ipv4.conf.all.accept_redirects = 1)",
        inject="printf 'net.ipv4.conf.all.accept_redirects = 1\\n' > /etc/sysctl.d/99-zz-local.conf",
        undo="rm /etc/sysctl.d/99-zz-local.conf",
        scenarios=SCENARIOS,
    ),
    NotInjectable(control="OS-SYSCTL", via="daemon", why=ON_THE_VM),
    # ---------------------------------------------------------------- OS-KERNEL-MODULES
    Injection(
        control="OS-KERNEL-MODULES",
        via="file",
        what="usb-storage made loadable again in our modprobe.d file (its install and blacklist lines removed)",
        inject=f"sed -i '/usb.storage/d' {MODPROBE}",
        scenarios=SCENARIOS,
    ),
    NotInjectable(control="OS-KERNEL-MODULES", via="override", why=ON_THE_VM),
    NotInjectable(control="OS-KERNEL-MODULES", via="daemon", why=ON_THE_VM),
    # ---------------------------------------------------------------- OS-APPARMOR
    NotInjectable(control="OS-APPARMOR", via="file", why=APPARMOR_ELSEWHERE),
    NotInjectable(control="OS-APPARMOR", via="override", why=APPARMOR_ELSEWHERE),
    NotInjectable(control="OS-APPARMOR", via="daemon", why=APPARMOR_ELSEWHERE),
    # ---------------------------------------------------------------- OS-MOUNTS
    NotInjectable(control="OS-MOUNTS", via="file", why=MOUNTS_ON_THE_VM),
    NotInjectable(control="OS-MOUNTS", via="override", why=MOUNTS_ON_THE_VM),
    NotInjectable(control="OS-MOUNTS", via="daemon", why=MOUNTS_ON_THE_VM),
    # ---------------------------------------------------------------- OS-FILE-PERMISSIONS
    Injection(
        control="OS-FILE-PERMISSIONS",
        via="file",
        what="/etc/shadow made world-readable (chmod 0644), /etc/cron.d opened to all (chmod 0755), "
        "apt's archive key made writable by all (a file matched by the pattern /usr/share/keyrings/*)",
        inject="chmod 0644 /etc/shadow && chmod 0755 /etc/cron.d"
        " && chmod 0666 /usr/share/keyrings/debian-archive-keyring.gpg",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-FILE-PERMISSIONS",
        via="override",
        why="a file's owner and mode live in its inode; nothing read with higher priority can change them.",
    ),
    NotInjectable(
        control="OS-FILE-PERMISSIONS",
        via="daemon",
        why=NO_PROCESS.format(what="a file's owner and mode", when="open"),
    ),
    # ---------------------------------------------------------------- OS-PASSWORD-AGEING
    Injection(
        control="OS-PASSWORD-AGEING",
        via="file",
        what="login.defs: passwords never expire again (PASS_MAX_DAYS 99999)",
        inject="sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\\t99999/' /etc/login.defs",
        scenarios=SCENARIOS,
    ),
    Injection(
        control="OS-PASSWORD-AGEING",
        via="override",
        what="a later PASS_WARN_AGE line in login.defs (shadow reads the last one)",
        inject="printf 'PASS_WARN_AGE 1\\n' >> /etc/login.defs",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-PASSWORD-AGEING",
        via="daemon",
        why=NO_PROCESS.format(what="login.defs and /etc/shadow", when="login, password change or useradd"),
    ),
    # ---------------------------------------------------------------- OS-PAM
    Injection(
        control="OS-PAM",
        via="file",
        what="a PAM file edited: pam_pwquality's line deleted from /etc/pam.d/common-password",
        inject="sed -i '/pam_pwquality.so/d' /etc/pam.d/common-password",
        scenarios=SCENARIOS,
    ),
    Injection(
        control="OS-PAM",
        via="override",
        what="a second minlen line, after ours in pwquality.conf, sets minlen = 8 (the later line wins)",
        inject="printf 'minlen = 8\\n' >> /etc/security/pwquality.conf",
        undo="sed -i '/^minlen = 8$/d' /etc/security/pwquality.conf",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-PAM",
        via="daemon",
        why=NO_PROCESS.format(what="each PAM stack and its modules' settings", when="login, sudo or password change"),
    ),
    # ---------------------------------------------------------------- OS-SUDO
    Injection(
        control="OS-SUDO",
        via="file",
        what="our sudoers file caches credentials for an hour (timestamp_timeout=60)",
        inject=f"sed -i 's/^Defaults timestamp_timeout=.*/Defaults timestamp_timeout=60/' {SUDOERS}",
        scenarios=SCENARIOS,
    ),
    Injection(
        control="OS-SUDO",
        via="override",
        what="a later sudoers.d file switches the pseudo-terminal off (zz-local: Defaults !use_pty)",
        inject="printf 'Defaults !use_pty\\n' > /etc/sudoers.d/zz-local && chmod 0440 /etc/sudoers.d/zz-local",
        undo="rm /etc/sudoers.d/zz-local",
        scenarios=SCENARIOS,
    ),
    NotInjectable(control="OS-SUDO", via="daemon", why=NO_PROCESS.format(what="sudoers", when="sudo command")),
    # ---------------------------------------------------------------- OS-BANNERS
    Injection(
        control="OS-BANNERS",
        via="file",
        what="the local login banner names the system again (\\S \\r on /etc/issue)",
        inject="printf 'Debian GNU/Linux \\\\S \\\\r\\n' > /etc/issue",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-BANNERS",
        via="override",
        why="agetty also shows /etc/issue.d/*.issue, which the role does not judge yet (the next step of the role).",
    ),
    NotInjectable(control="OS-BANNERS", via="daemon", why=NO_PROCESS.format(what="/etc/issue", when="login")),
    # ---------------------------------------------------------------- OS-SHELL
    Injection(
        control="OS-SHELL",
        via="file",
        what="our profile.d file's shell timeout lifted (TMOUT=0)",
        inject=f"sed -i 's/TMOUT=[0-9]*/TMOUT=0/' {PROFILE}",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-SHELL",
        via="override",
        why="a later profile.d file (umask 022) is not judged yet: a login shell's effective umask comes next.",
    ),
    NotInjectable(control="OS-SHELL", via="daemon", why=NO_PROCESS.format(what="profile.d", when="login")),
    # ---------------------------------------------------------------- OS-JOB-ACCESS
    Injection(
        control="OS-JOB-ACCESS",
        via="file",
        what="cron.allow lets another user use crontab (mallory appended)",
        inject="printf 'mallory\\n' >> /etc/cron.allow",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-JOB-ACCESS",
        via="override",
        why="crontab and at read cron.deny and at.deny only where there is no allow file: nothing overrides one.",
    ),
    NotInjectable(
        control="OS-JOB-ACCESS", via="daemon", why=NO_PROCESS.format(what="cron.allow", when="crontab or at")
    ),
    # ---------------------------------------------------------------- OS-CORE-DUMPS
    Injection(
        control="OS-CORE-DUMPS",
        via="file",
        what="our limits.d file allows core dumps (* hard core unlimited)",
        inject=f"sed -i 's/^\\* hard core 0$/* hard core unlimited/' {LIMITS}",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-CORE-DUMPS",
        via="override",
        why="a later limits.d file is not judged yet: a login's effective hard limit (ulimit -Hc) comes next.",
    ),
    NotInjectable(
        control="OS-CORE-DUMPS",
        via="daemon",
        why=NO_PROCESS.format(
            what="limits.d (by pam_limits) and coredump.conf (by systemd-coredump)", when="login or crash"
        ),
    ),
    # ---------------------------------------------------------------- OS-AUDIT-FINDINGS
    Injection(
        control="OS-AUDIT-FINDINGS",
        via="file",
        what="a world-writable file (/srv/bulwark-matrix-open, 0777) and a user with an empty password",
        inject="install -m 0777 /dev/null /srv/bulwark-matrix-open && useradd -M bulwarkmx && passwd -qd bulwarkmx",
        undo="rm -f /srv/bulwark-matrix-open && userdel bulwarkmx",
        scenarios=SCENARIOS,
    ),
    Injection(
        control="OS-AUDIT-FINDINGS",
        via="file",
        what="a system account given a login shell (games: /bin/bash), root's login umask loosened in /root/.profile",
        inject="usermod -s /bin/bash games && printf 'umask 022 # bulwark-matrix\\n' >> /root/.profile",
        undo="usermod -s /usr/sbin/nologin games && sed -i '/# bulwark-matrix$/d' /root/.profile",
        scenarios=SCENARIOS,
    ),
    NotInjectable(
        control="OS-AUDIT-FINDINGS",
        via="override",
        why="the audit reads the file systems and the account files themselves; there is no configuration to override.",
    ),
    NotInjectable(control="OS-AUDIT-FINDINGS", via="daemon", why="no daemon: the audit walks the host at each run."),
]

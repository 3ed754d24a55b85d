"""Drift injections for the immutable role's controls (see extensions/molecule/drift_matrix.py).

The site scenario locks the web root /var/www/html (no writable directory, no system path) and
installs the APT hook; the immutable scenario adds writable directories (/var/www/app/log, ...) and
locked system paths (/etc/apache2, /etc/bulwark-fixture/app.conf), so those injections run there.
"""

from drift_matrix import Injection, NotInjectable

HOOK = "/etc/apt/apt.conf.d/80bulwark-immutable"
NO_PROCESS = (
    "No process holds a lock: the kernel checks the inode's immutable flag and mode at every open, so "
    "what a running daemon sees is what the files say."
)

INJECTIONS = [
    # ---------------------------------------------------------------- IMMUTABLE-APT-HOOK
    Injection(
        control="IMMUTABLE-APT-HOOK",
        via="file",
        what="our APT hook file no longer runs the helper before dpkg",
        inject=f"sed -i '/^DPkg::Pre-Invoke/d' {HOOK} && ! grep -q Pre-Invoke {HOOK}",
        scenarios=("site", "immutable"),
    ),
    Injection(
        control="IMMUTABLE-APT-HOOK",
        via="override",
        what="a later apt.conf.d file (99zz-nohook) clears DPkg::Pre-Invoke: dpkg runs on locked files",
        inject="echo '#clear DPkg::Pre-Invoke;' > /etc/apt/apt.conf.d/99zz-nohook"
        " && ! apt-config dump DPkg::Pre-Invoke | grep -q bulwark-immutable",
        undo="rm /etc/apt/apt.conf.d/99zz-nohook",
        scenarios=("site", "immutable"),
    ),
    NotInjectable(
        control="IMMUTABLE-APT-HOOK",
        via="daemon",
        why="apt reads its configuration afresh at every run; no process holds the hook.",
    ),
    # ---------------------------------------------------------------- IMMUTABLE-APP
    Injection(
        control="IMMUTABLE-APP",
        via="file",
        what="a file of the locked web root unlocked (chattr -i) and made writable",
        inject="chattr -i /var/www/html/index.php && chmod 0664 /var/www/html/index.php",
        scenarios=("site",),
    ),
    Injection(
        control="IMMUTABLE-APP",
        via="file",
        what="a new file in the locked application tree (the directory unlocked, the file added, the directory "
        "locked again)",
        # A new name each time: the repair locks the file, it does not remove it.
        inject="chattr -i /var/www/app && echo '<?php phpinfo();' > /var/www/app/drift-$(date +%s%N).php"
        " && chattr +i /var/www/app",
        scenarios=("immutable",),
    ),
    Injection(
        control="IMMUTABLE-APP",
        via="file",
        what="a writable directory of the application tree locked (chattr +i): the tree's walk keeps them mutable",
        inject="chattr +i /var/www/app/upload && lsattr -d /var/www/app/upload | cut -d' ' -f1 | grep -q i",
        scenarios=("immutable",),
    ),
    Injection(
        control="IMMUTABLE-APP",
        via="override",
        what="another file bind-mounted over a file of the locked web root: readers get the mounted file",
        inject="cp /var/www/html/index.php /root/bulwark-drift.php && echo '<?php // drift' >> /root/bulwark-drift.php"
        " && mount --bind /root/bulwark-drift.php /var/www/html/index.php && grep -q drift /var/www/html/index.php",
        # The role never unmounts: the repair run refuses, naming the mount.
        undo="umount /var/www/html/index.php && rm /root/bulwark-drift.php",
        scenarios=("site",),
    ),
    Injection(
        control="IMMUTABLE-APP",
        via="override",
        what="another file bind-mounted over a file of the locked application tree: readers get the mounted file",
        inject="cp /var/www/app/index.html /root/bulwark-drift.html && echo drift >> /root/bulwark-drift.html"
        " && mount --bind /root/bulwark-drift.html /var/www/app/index.html && grep -q drift /var/www/app/index.html",
        undo="umount /var/www/app/index.html && rm /root/bulwark-drift.html",
        scenarios=("immutable",),
    ),
    NotInjectable(control="IMMUTABLE-APP", via="daemon", why=NO_PROCESS),
    # ---------------------------------------------------------------- IMMUTABLE-APP-WRITABLE
    Injection(
        control="IMMUTABLE-APP-WRITABLE",
        via="file",
        what="a writable directory of the application tree made read-only (0550)",
        inject="chmod 0550 /var/www/app/log",
        scenarios=("immutable",),
    ),
    NotInjectable(
        control="IMMUTABLE-APP-WRITABLE",
        via="override",
        why="A directory's mode is its inode's, read by the kernel at every open; nothing ranks above it. (A "
        "mount over it is the tree's: IMMUTABLE-APP; an immutable flag set on it is cleared by the tree's walk, "
        "IMMUTABLE-APP too.)",
    ),
    NotInjectable(control="IMMUTABLE-APP-WRITABLE", via="daemon", why=NO_PROCESS),
    # ---------------------------------------------------------------- IMMUTABLE-PATHS
    Injection(
        control="IMMUTABLE-PATHS",
        via="file",
        what="a locked system file unlocked (chattr -i)",
        inject="chattr -i /etc/bulwark-fixture/app.conf"
        " && ! lsattr /etc/bulwark-fixture/app.conf | cut -d' ' -f1 | grep -q i",
        scenarios=("immutable",),
    ),
    Injection(
        control="IMMUTABLE-PATHS",
        via="file",
        what="a new file in a locked system directory (/etc/apache2/conf-available)",
        inject="chattr -i /etc/apache2/conf-available"
        " && echo '# drift' > /etc/apache2/conf-available/bulwark-drift-$(date +%s%N).conf"
        " && chattr +i /etc/apache2/conf-available",
        scenarios=("immutable",),
    ),
    NotInjectable(
        control="IMMUTABLE-PATHS",
        via="override",
        why="A lock is the inode's own flag, read by the kernel at every open; nothing ranks above it but a "
        "mount over a path below it, injected for IMMUTABLE-APP (the same walk and module).",
    ),
    NotInjectable(control="IMMUTABLE-PATHS", via="daemon", why=NO_PROCESS),
    # ---------------------------------------------------------------- IMMUTABLE-UPDATE-WINDOW
    NotInjectable(
        control="IMMUTABLE-UPDATE-WINDOW",
        via="file",
        why="The update window is an action (playbooks/unlock.yml, then lock.yml), not a state on disk: a window "
        "left open is unlocked files, named by IMMUTABLE-APP and IMMUTABLE-PATHS (a drift run skips the unlock).",
    ),
    NotInjectable(
        control="IMMUTABLE-UPDATE-WINDOW",
        via="override",
        why="No configuration of its own: a window is the unlock action; what stays unlocked is IMMUTABLE-APP/-PATHS.",
    ),
    NotInjectable(
        control="IMMUTABLE-UPDATE-WINDOW",
        via="daemon",
        why="No process: the APT hook's unlock around dpkg is IMMUTABLE-APT-HOOK, what stays unlocked "
        "IMMUTABLE-APP/-PATHS.",
    ),
]

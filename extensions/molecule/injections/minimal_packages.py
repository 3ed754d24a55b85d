"""Drift injections for the minimal_packages role's controls (see extensions/molecule/drift_matrix.py).

In the site scenario the role runs with its defaults (the blocklist, rsync.service masked although rsync
is not installed) and bulwark_services declares Apache on port 80. The minimal_packages scenario has
rsync installed, so the injection of a masked unit that runs is made there. (A mask link put back
without daemon-reload is no drift of its own: systemd drops an inactive, unreferenced unit and loads it
afresh, masked, at the next question; while the unit runs, that is the injection below.)
"""

from drift_matrix import Injection, NotInjectable, until

# A package named as the blocklist names it, built locally (no network): dpkg lists it installed.
BLOCKLISTED = """set -eu
dir=/tmp/bulwark-drift-telnet; rm -rf "$dir"; mkdir -p "$dir/DEBIAN"
printf 'Package: telnet\\nVersion: 0.0-bulwark-drift\\nArchitecture: all\\n' > "$dir/DEBIAN/control"
printf 'Maintainer: bulwark <root@localhost>\\nDescription: drift fixture\\n' >> "$dir/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$dir" /tmp/bulwark-drift-telnet.deb >/dev/null
dpkg -i /tmp/bulwark-drift-telnet.deb >/dev/null && rm -rf "$dir" /tmp/bulwark-drift-telnet.deb
dpkg-query -W -f='${Status}' telnet | grep -q 'install ok installed'
"""

SOCKET_UNIT = "/etc/systemd/system/bulwark-drift.socket"

INJECTIONS = [
    # ---------------------------------------------------------------- PACKAGES-BLOCKLISTED
    Injection(
        control="PACKAGES-BLOCKLISTED",
        via="file",
        what="a blocklisted package (telnet) installed with dpkg -i",
        inject=BLOCKLISTED,
        scenarios=("site", "minimal_packages"),
    ),
    NotInjectable(
        control="PACKAGES-BLOCKLISTED",
        via="override",
        why="dpkg's status database is the only place a package is installed; no place is read with higher priority.",
    ),
    NotInjectable(
        control="PACKAGES-BLOCKLISTED",
        via="daemon",
        why="An installed package is a record in dpkg's status database, not a process; a daemon left running "
        "after its package went is a listener (LISTENER-UNDECLARED) or a running masked unit "
        "(PACKAGES-MASKED-SERVICES).",
    ),
    # ---------------------------------------------------------------- PACKAGES-MASKED-SERVICES
    Injection(
        control="PACKAGES-MASKED-SERVICES",
        via="file",
        what="rsync.service unmasked (its /etc/systemd/system link to /dev/null removed)",
        inject="systemctl unmask rsync.service && ! systemctl is-enabled rsync.service 2>/dev/null | grep -q masked",
        scenarios=("site", "minimal_packages"),
    ),
    NotInjectable(
        control="PACKAGES-MASKED-SERVICES",
        via="override",
        why="A mask is a link to /dev/null in /etc/systemd/system: systemd reads no drop-in and no lower directory's "
        "unit file for a masked name, and the directories above it take no unit of that name "
        "(systemd-run: 'Unit rsync.service was already loaded or has a fragment file').",
    ),
    Injection(
        control="PACKAGES-MASKED-SERVICES",
        via="daemon",
        what="rsync's daemon started, then its unit masked again: masked and running",
        inject="systemctl unmask rsync.service && printf '[drift]\\npath = /tmp\\n' > /etc/rsyncd.conf"
        " && systemctl start rsync.service && systemctl mask rsync.service && systemctl is-active rsync.service",
        # The role never stops a service: the repair run refuses, naming the unit.
        undo="systemctl stop rsync.service && rm /etc/rsyncd.conf",
        scenarios=("minimal_packages",),
    ),
    # ---------------------------------------------------------------- LISTENER-UNDECLARED
    Injection(
        control="LISTENER-UNDECLARED",
        via="file",
        what="a socket unit written to /etc/systemd/system and started: systemd listens on port 8097",
        inject=f"printf '[Socket]\\nListenStream=8097\\nAccept=yes\\n' > {SOCKET_UNIT}"
        " && systemctl daemon-reload && systemctl start bulwark-drift.socket"
        " && systemctl is-active bulwark-drift.socket",
        # The role never stops a service (it reports the listener): the unit goes before the repair.
        undo=f"systemctl stop bulwark-drift.socket && rm {SOCKET_UNIT} && systemctl daemon-reload",
        scenarios=("site", "minimal_packages"),
    ),
    NotInjectable(
        control="LISTENER-UNDECLARED",
        via="override",
        why="The declaration (bulwark_services) lives in the inventory, not on the host, and the audit reads the "
        "kernel's sockets: no file on the host ranks above either.",
    ),
    Injection(
        control="LISTENER-UNDECLARED",
        via="daemon",
        what="a transient unit (systemd-run) serving HTTP on port 8099, no file on disk",
        inject="systemd-run --unit=bulwark-drift-listener --property=WorkingDirectory=/tmp"
        " /usr/bin/python3 -m http.server --bind 0.0.0.0 8099"
        " && " + until("python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", 8099), 1)' 2>/dev/null"),
        undo="systemctl stop bulwark-drift-listener",
        scenarios=("site", "minimal_packages"),
    ),
]

"""Drift injections for the unattended_upgrades role's controls (see extensions/molecule/drift_matrix.py).

In the site scenario the role runs with its defaults: the Debian security origin, no declared timer
schedule (the packaged one applies), needrestart restarting everything but ssh/sshd.
"""

from drift_matrix import Injection, NotInjectable

CONF = "/etc/apt/apt.conf.d/90bulwark-unattended-upgrades"
NEEDRESTART = "/etc/needrestart/conf.d/bulwark.conf"
TIMERS = "/etc/systemd/system"
NO_DAEMON = (
    "No process holds apt's configuration: apt.systemd.daily and unattended-upgrade read it afresh at each "
    "run the timers start; the running side is UPDATES-TIMERS."
)

# A real pending security update: a tiny package built with dpkg-deb, version 1.0 installed, 1.1 in a
# local flat repository whose Release says what Debian's security archive says (Origin Debian, Label
# Debian-Security, Codename <release>-security), published 10 days ago (the role allows 7). Only this
# repository's lists are fetched, and apt keeps every other list (List-Cleanup off).
_SECURITY_REPO = "/srv/bulwark-drift-security"
_SECURITY_LIST = "/etc/apt/sources.list.d/bulwark-drift-security.list"
PENDING_SECURITY = f"""set -eu
. /etc/os-release
root={_SECURITY_REPO}
rm -rf "$root"; mkdir -p "$root/repo"
for version in 1.0 1.1; do
  dir="$root/build-$version"; mkdir -p "$dir/DEBIAN"
  printf 'Package: bulwark-drift-sec\\nVersion: %s\\nArchitecture: all\\n' "$version" > "$dir/DEBIAN/control"
  printf 'Maintainer: bulwark <root@localhost>\\nDescription: drift fixture\\n' >> "$dir/DEBIAN/control"
  dpkg-deb --root-owner-group -Zgzip --build "$dir" "$root/bulwark-drift-sec_${{version}}_all.deb" >/dev/null
done
dpkg -i "$root/bulwark-drift-sec_1.0_all.deb" >/dev/null
cp "$root/bulwark-drift-sec_1.1_all.deb" "$root/repo/"
cd "$root/repo"
{{ dpkg-deb -f bulwark-drift-sec_1.1_all.deb; echo "Filename: ./bulwark-drift-sec_1.1_all.deb";
  echo "Size: $(stat -c %s bulwark-drift-sec_1.1_all.deb)";
  echo "SHA256: $(sha256sum bulwark-drift-sec_1.1_all.deb | cut -d' ' -f1)"; echo; }} > Packages
printf 'Origin: Debian\\nLabel: Debian-Security\\nSuite: %s-security\\nCodename: %s-security\\n' \\
  "$VERSION_CODENAME" "$VERSION_CODENAME" > Release
printf 'Date: %s\\nArchitectures: all\\nSHA256:\\n %s %s Packages\\n' \\
  "$(LC_ALL=C date -u -R -d '10 days ago')" "$(sha256sum Packages | cut -d' ' -f1)" "$(stat -c %s Packages)" >> Release
echo "deb [trusted=yes] file:$root/repo ./" > {_SECURITY_LIST}
apt-get update -qq -o Dir::Etc::SourceList={_SECURITY_LIST} -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0
"""
PENDING_SECURITY_UNDO = (
    f"dpkg -P bulwark-drift-sec >/dev/null && rm -rf {_SECURITY_REPO} {_SECURITY_LIST}"
    " /var/lib/apt/lists/_srv_bulwark-drift-security_* && apt-cache policy >/dev/null"
)


def _dropin(unit: str, directory: str, name: str, calendar: str) -> str:
    return (
        f"mkdir -p {directory}/{unit}.d && printf '[Timer]\\nOnCalendar=\\nOnCalendar={calendar}\\n'"
        f" > {directory}/{unit}.d/{name} && systemctl daemon-reload"
    )


INJECTIONS = [
    # ---------------------------------------------------------------- UPDATES-CONFIG
    Injection(
        control="UPDATES-CONFIG",
        via="file",
        what="our apt.conf.d file switches the daily unattended upgrade off",
        inject=f'sed -i \'s/^APT::Periodic::Unattended-Upgrade "1";/APT::Periodic::Unattended-Upgrade "0";/\' {CONF}'
        f" && grep -q 'Unattended-Upgrade \"0\"' {CONF}",
    ),
    Injection(
        control="UPDATES-CONFIG",
        via="override",
        what="a later apt.conf.d file (99zz-local) switches the daily unattended upgrade off",
        inject="echo 'APT::Periodic::Unattended-Upgrade \"0\";' > /etc/apt/apt.conf.d/99zz-local"
        " && apt-config dump | grep -qx 'APT::Periodic::Unattended-Upgrade \"0\";'",
        undo="rm /etc/apt/apt.conf.d/99zz-local",
    ),
    Injection(
        control="UPDATES-CONFIG",
        via="override",
        what="/etc/apt/apt.conf (read after every apt.conf.d file) turns automatic reboots on",
        inject="echo 'Unattended-Upgrade::Automatic-Reboot \"true\"; // bulwark-drift' >> /etc/apt/apt.conf"
        " && apt-config dump | grep -qx 'Unattended-Upgrade::Automatic-Reboot \"true\";'",
        undo="sed -i '/bulwark-drift/d' /etc/apt/apt.conf && { [ -s /etc/apt/apt.conf ] || rm /etc/apt/apt.conf; }",
    ),
    NotInjectable(control="UPDATES-CONFIG", via="daemon", why=NO_DAEMON),
    # ---------------------------------------------------------------- UPDATES-ORIGINS
    Injection(
        control="UPDATES-ORIGINS",
        via="file",
        what="our apt.conf.d file gains an Origins-Pattern entry allowing every origin",
        inject=f"sed -i 's/^Unattended-Upgrade::Origins-Pattern {{$/&\\n        \"origin=*\";/' {CONF}"
        " && apt-config dump | grep -q '^Unattended-Upgrade::Origins-Pattern:: \"origin=\\*\";'",
        expect=("UPDATES-CONFIG",),  # our file's content differs from the template too
    ),
    Injection(
        control="UPDATES-ORIGINS",
        via="override",
        what="a later apt.conf.d file appends an Origins-Pattern entry allowing every origin",
        inject="echo 'Unattended-Upgrade::Origins-Pattern { \"origin=*\"; };' > /etc/apt/apt.conf.d/99zz-origins"
        " && apt-config dump | grep -q '^Unattended-Upgrade::Origins-Pattern:: \"origin=\\*\";'",
        undo="rm /etc/apt/apt.conf.d/99zz-origins",
    ),
    Injection(
        control="UPDATES-ORIGINS",
        via="override",
        what="a later apt.conf.d file adds a legacy Allowed-Origins entry (Debian:stable)",
        inject="echo 'Unattended-Upgrade::Allowed-Origins { \"Debian:stable\"; };' > /etc/apt/apt.conf.d/99zz-allowed"
        " && apt-config dump | grep -q '^Unattended-Upgrade::Allowed-Origins:: \"Debian:stable\";'",
        undo="rm /etc/apt/apt.conf.d/99zz-allowed",
    ),
    NotInjectable(control="UPDATES-ORIGINS", via="daemon", why=NO_DAEMON),
    # ---------------------------------------------------------------- UPDATES-NEEDRESTART
    Injection(
        control="UPDATES-NEEDRESTART",
        via="file",
        what="our needrestart conf.d file sets the restart mode to list only",
        inject=f"sed -i \"s/^\\$nrconf{{restart}} = 'a';/\\$nrconf{{restart}} = 'l';/\" {NEEDRESTART}"
        f" && grep -q \"restart}} = 'l'\" {NEEDRESTART}",
    ),
    Injection(
        control="UPDATES-NEEDRESTART",
        via="override",
        what="a later needrestart conf.d file (zz-local.conf) sets the restart mode to list only",
        inject="echo \"\\$nrconf{restart} = 'l';\" > /etc/needrestart/conf.d/zz-local.conf",
        undo="rm /etc/needrestart/conf.d/zz-local.conf",
    ),
    Injection(
        control="UPDATES-NEEDRESTART",
        via="override",
        what="a later needrestart conf.d file (zz-all.conf) empties the units never restarted (sshd restarted)",
        inject="echo '$nrconf{override_rc} = {};' > /etc/needrestart/conf.d/zz-all.conf",
        undo="rm /etc/needrestart/conf.d/zz-all.conf",
    ),
    NotInjectable(
        control="UPDATES-NEEDRESTART",
        via="daemon",
        why="needrestart is no daemon: apt's DPkg::Post-Invoke hook starts it after each dpkg run, and it reads "
        "needrestart.conf and conf.d afresh each time.",
    ),
    # ---------------------------------------------------------------- UPDATES-PACKAGES
    Injection(
        control="UPDATES-PACKAGES",
        via="file",
        what="needrestart removed (dpkg -r): dpkg's status database no longer lists it",
        inject="dpkg -r needrestart >/dev/null && ! dpkg-query -W -f='${Status}' needrestart | grep -q installed",
        # The Perl modules apt installed for it (libterm-readkey-perl, ...) are now unused: the
        # minimal_packages role's autoremove names them (site runs every role).
        expect=("PACKAGES-BLOCKLISTED",),
    ),
    NotInjectable(
        control="UPDATES-PACKAGES",
        via="override",
        why="dpkg's status database is the only place a package is installed; no place is read with higher priority.",
    ),
    NotInjectable(
        control="UPDATES-PACKAGES",
        via="daemon",
        why="An installed package is a record in dpkg's status database, not a process; the timers that run "
        "unattended-upgrades are UPDATES-TIMERS.",
    ),
    # ---------------------------------------------------------------- UPDATES-SECURITY-PENDING
    Injection(
        control="UPDATES-SECURITY-PENDING",
        via="file",
        what="a security update (Origin Debian, Label Debian-Security, <release>-security, published 10 days ago)"
        " of an installed package is not installed",
        inject=PENDING_SECURITY,
        # The repair run never installs updates (the timers' unattended-upgrade does): the fixture goes.
        undo=PENDING_SECURITY_UNDO,
    ),
    NotInjectable(
        control="UPDATES-SECURITY-PENDING",
        via="override",
        why="A pending update is the difference between dpkg's installed versions and apt's lists; no "
        "configuration file decides it (an origin or blocklist change that stops it being installed is "
        "UPDATES-ORIGINS or UPDATES-CONFIG).",
    ),
    NotInjectable(
        control="UPDATES-SECURITY-PENDING",
        via="daemon",
        why="No process holds the patch state; the timers that would install the update are UPDATES-TIMERS, "
        "and an update left waiting is the file injection above.",
    ),
    # ---------------------------------------------------------------- UPDATES-SCHEDULE
    Injection(
        control="UPDATES-SCHEDULE",
        via="file",
        what="our schedule drop-in for apt-daily.timer, absent by declaration, written (monthly) and loaded",
        inject=_dropin("apt-daily.timer", TIMERS, "bulwark-schedule.conf", "monthly"),
    ),
    Injection(
        control="UPDATES-SCHEDULE",
        via="override",
        what="a later drop-in in /etc/systemd/system/apt-daily-upgrade.timer.d moves the upgrades to once a year",
        inject=_dropin("apt-daily-upgrade.timer", TIMERS, "zz-local.conf", "*-01-01 00:00"),
        undo=f"rm {TIMERS}/apt-daily-upgrade.timer.d/zz-local.conf",
    ),
    Injection(
        control="UPDATES-SCHEDULE",
        via="override",
        what="a runtime drop-in in /run/systemd/system/apt-daily.timer.d moves the downloads to once a year",
        inject=_dropin("apt-daily.timer", "/run/systemd/system", "zz-runtime.conf", "*-01-01 00:00"),
        undo="rm /run/systemd/system/apt-daily.timer.d/zz-runtime.conf",
    ),
    Injection(
        control="UPDATES-SCHEDULE",
        via="daemon",
        what="apt-daily-upgrade.timer loaded with a yearly drop-in that was then removed without daemon-reload",
        inject=_dropin("apt-daily-upgrade.timer", TIMERS, "zz-gone.conf", "*-01-01 00:00")
        + f" && rm {TIMERS}/apt-daily-upgrade.timer.d/zz-gone.conf"
        " && systemctl show -p NeedDaemonReload apt-daily-upgrade.timer | grep -qx NeedDaemonReload=yes",
    ),
    # ---------------------------------------------------------------- UPDATES-TIMERS
    Injection(
        control="UPDATES-TIMERS",
        via="file",
        what="apt-daily.timer disabled (its timers.target.wants link removed), still running until the next boot",
        inject="systemctl disable apt-daily.timer && ! systemctl is-enabled apt-daily.timer",
    ),
    Injection(
        control="UPDATES-TIMERS",
        via="override",
        what="apt-daily-upgrade.timer masked at run time (/run/systemd/system, read before /etc's enablement)",
        inject="systemctl mask --runtime apt-daily-upgrade.timer",
        # systemctl enable refuses a masked unit, naming the link; the role does not remove it.
        undo="systemctl unmask --runtime apt-daily-upgrade.timer",
        # A masked timer has no schedule to judge (UPDATES-SCHEDULE leaves it to this control).
        alone=True,
    ),
    Injection(
        control="UPDATES-TIMERS",
        via="daemon",
        what="apt-daily-upgrade.timer stopped (still enabled)",
        inject="systemctl stop apt-daily-upgrade.timer && ! systemctl is-active apt-daily-upgrade.timer",
    ),
]

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the package_purge module and the minimal_packages role's plan.

The purge list, end to end: the role's variables (``minimal_packages_blocklist`` and ``_extra``,
``minimal_packages_keep``, ...) go unchanged to the module ``package_purge``, which turns them into
patterns here (``purge_patterns``: NFS's packages left out when the host declares NFS), matches them
against dpkg's status file (``select``), asks apt what the purge would really remove
(``apt_argv``, ``simulation_removals``), refuses removals of ``PROTECTED`` or kept packages
(``refusals``, ``refusal_message``) and runs the same apt command for real.
"""

from __future__ import annotations

import fnmatch
import re

# dpkg package states (third word of the Status field) in which files are on disk.
INSTALLED_STATES = frozenset(
    ("installed", "half-installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending")
)
RESIDUAL_STATE = "config-files"
_ACTION_RE = re.compile(r"^(?:Purg|Remv) (\S+)", re.MULTILINE)
# apt-get's answer when another apt or dpkg holds a lock it needs (dpkg's, or the archive directory's).
LOCK_RE = re.compile(r"Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock")

# Never removed, whatever the blocklist says or apt would take along: the web stack, remote access,
# the collection's own tooling and what the other roles install. The role adds
# minimal_packages_protected_extra (the module's option protected).
PROTECTED = (
    "apache2*",
    "libapache2-mod-*",
    "php*",
    "openssh-server",
    "openssh-sftp-server",
    "openssh-client",
    "ssh",
    "rsync",
    "sudo",
    "python3",
    "python3-*",
    "python3.*",
    "libpython3*",
    "ufw",
    "nftables",
    "iptables",
    "fail2ban",
    "unattended-upgrades",
    "apt-listchanges",
    "needrestart",
    "systemd",
    "systemd-*",
    "libsystemd*",
    "libpam-systemd",
    "init",
    "dbus",
    "apt",
    "apt-*",
    "libapt-*",
    "dpkg",
    "debconf",
    "ca-certificates",
    "openssl",
    "iproute2",
    "procps",
    "e2fsprogs",
)


def parse_dpkg_status(text):
    """Map package name -> state from /var/lib/dpkg/status (``installed``, ``config-files``...)."""
    states = {}
    name = None
    for line in text.splitlines():
        if not line.strip():
            name = None
        elif line.startswith("Package:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("Status:") and name:
            words = line.split(":", 1)[1].split()
            state = words[-1] if words else "unknown"
            # A package installed for two architectures appears twice; installed wins.
            if states.get(name) not in INSTALLED_STATES:
                states[name] = state
    return states


def first_match(name, patterns):
    """The first shell-style pattern that matches ``name``, or None."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(name, pattern):
            return pattern
    return None


def select(states, patterns, keep=()):
    """``(installed, residual)``: names matching ``patterns`` and not ``keep``, by state."""
    installed, residual = [], []
    for name in sorted(states):
        if first_match(name, patterns) is None or first_match(name, keep) is not None:
            continue
        if states[name] in INSTALLED_STATES:
            installed.append(name)
        elif states[name] == RESIDUAL_STATE:
            residual.append(name)
    return installed, residual


def simulation_removals(stdout):
    """Packages an ``apt-get -s`` run would remove or purge (``Remv``/``Purg`` lines)."""
    return sorted({match.split(":", 1)[0] for match in _ACTION_RE.findall(stdout)})


def apt_argv(apt_get, names, *, autoremove, simulate, lock_timeout=0):
    """apt-get's arguments to purge *names* (and, with *autoremove*, what nothing needs any more).

    The simulation and the purge are the same command, ``--simulate`` aside, so that what was
    checked is what runs. Without names, only the autoremoval (``--purge autoremove``).
    """
    argv = [apt_get, "--simulate" if simulate else "--yes", "-q"]
    if not simulate:
        # apt waits this long for dpkg's lock instead of failing at once (apt >= 1.9.11).
        argv += ["-o", f"DPkg::Lock::Timeout={int(lock_timeout)}"]
    if not names:
        return [*argv, "--purge", "autoremove"]
    return [*argv, *(["--autoremove"] if autoremove else []), "purge", *names]


def refusals(removals, protected=(), keep=()):
    """Removals that must not happen: each ``{package, pattern, why}``."""
    refused = []
    for name in removals:
        pattern = first_match(name, protected)
        if pattern is not None:
            refused.append({"package": name, "pattern": pattern, "why": "protected"})
            continue
        pattern = first_match(name, keep)
        if pattern is not None:
            refused.append({"package": name, "pattern": pattern, "why": "kept"})
    return refused


def pattern_refusals(patterns, protected=()):
    """Blocklist entries that name a protected package themselves, installed or not."""
    refused = []
    for entry in patterns:
        pattern = first_match(entry, protected)
        if pattern is not None:
            refused.append({"package": entry, "pattern": pattern, "why": "protected"})
    return refused


def refusal_message(refused, patterns, purge):
    """The one message of a refused purge: each package, what it matched, and why it would go."""
    reasons = []
    for item in refused:
        matched = "the protected pattern" if item["why"] == "protected" else "the minimal_packages_keep entry"
        if item["package"] in patterns:
            how = "named by minimal_packages_blocklist(_extra)"
        else:
            how = "apt would remove it along with " + ", ".join(purge)
        reasons.append(f"{item['package']} matches {matched} '{item['pattern']}' ({how}); ")
    return (
        "minimal_packages refuses to purge, nothing was changed: "
        + "".join(reasons)
        + "take it out of minimal_packages_blocklist(_extra), add what apt would take along to minimal_packages_keep, "
        "or mark it manually installed (apt-mark manual)."
    )


# --------------------------------------------------------------------- the role's plan
# Purged only when the host declares no NFS service (by the name nfs or the port 2049).
NFS_PACKAGES = ("rpcbind", "nfs-kernel-server")
NFS_PORT = 2049


def unit_name(name):
    """A unit as systemd writes it: a name without a suffix is a service (``rsync`` -> ``rsync.service``)."""
    return name if "." in name else f"{name}.service"


def _nfs_declared(services):
    ports = []
    for service in services.values():
        if isinstance(service, dict):
            ports.extend(service.get("ports") or [])
    return "nfs" in services or NFS_PORT in [int(port) for port in ports]


def purge_patterns(blocklist, blocklist_extra, services):
    """The patterns to purge: *blocklist* then *blocklist_extra*, each once, NFS's packages left out
    when *services* (the host's declared services, in the shape of ``bulwark_services``) declare NFS."""
    spared = NFS_PACKAGES if _nfs_declared(services or {}) else ()
    patterns = []
    for pattern in list(blocklist) + list(blocklist_extra):
        if pattern not in spared and pattern not in patterns:
            patterns.append(pattern)
    return patterns


def purge_list(states, *, blocklist, blocklist_extra=(), keep=(), services=None, residual=False, spare=()):
    """What to hand apt, from the user's lists and dpkg's *states* (``parse_dpkg_status``).

    Returns ``patterns`` (``purge_patterns``), ``installed`` (installed matches not kept),
    ``residual`` (matches in dpkg state ``rc``, or every package in it with *residual* except those
    matching *spare* or *keep*: a protected package removed by hand keeps its configuration for the
    role that installs it again) and ``purge`` (both, sorted: the names apt purges).
    """
    patterns = purge_patterns(blocklist, blocklist_extra, services)
    installed, leftovers = select(states, patterns, keep)
    if residual:
        leftovers = sorted(
            name
            for name, state in states.items()
            if state == RESIDUAL_STATE and first_match(name, [*spare, *keep]) is None
        )
    return {
        "patterns": patterns,
        "installed": installed,
        "residual": leftovers,
        "purge": sorted(set(installed) | set(leftovers)),
    }


def role_plan(settings):
    """Check the minimal_packages role's mask against the units it never masks.

    *settings*: ``minimal_packages_mask`` and ``protected_units`` (the units the role never masks).
    Returns ``errors`` and ``units`` (the units to mask, as systemd names them). What the role
    purges is the module package_purge's to work out (``purge_patterns``).
    """
    errors = []
    units = [unit_name(str(name)) for name in settings["minimal_packages_mask"]]
    protected = [unit for unit in units if unit in settings["protected_units"]]
    if protected:
        errors.append(
            f"minimal_packages_mask must not name {', '.join(protected)} "
            "(remote access, the web server or another role's daemon); nothing was changed."
        )
    return {"errors": errors, "units": units}

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the purge_plan module: dpkg's status file, patterns, apt's simulation."""

from __future__ import annotations

import fnmatch
import re

# dpkg package states (third word of the Status field) in which files are on disk.
INSTALLED_STATES = frozenset(
    ("installed", "half-installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending")
)
RESIDUAL_STATE = "config-files"
_ACTION_RE = re.compile(r"^(?:Purg|Remv) (\S+)", re.MULTILINE)


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


def role_plan(settings):
    """Check the minimal_packages role's variables and compute what it purges and masks.

    *settings*: ``minimal_packages_blocklist``, ``minimal_packages_blocklist_extra``,
    ``minimal_packages_mask``, ``protected_units`` (the units the role never masks) and
    ``services`` (the host's declared services). Returns ``errors`` and ``patterns`` (the
    blocklist patterns to purge, NFS's left out when the host declares NFS) and ``units``
    (the units to mask, as systemd names them).
    """
    errors = []
    units = [unit_name(str(name)) for name in settings["minimal_packages_mask"]]
    protected = [unit for unit in units if unit in settings["protected_units"]]
    if protected:
        errors.append(
            f"minimal_packages_mask must not name {', '.join(protected)} "
            "(remote access, the web server or another role's daemon); nothing was changed."
        )
    spared = NFS_PACKAGES if _nfs_declared(settings["services"]) else ()
    patterns = []
    for pattern in list(settings["minimal_packages_blocklist"]) + list(settings["minimal_packages_blocklist_extra"]):
        if pattern not in spared and pattern not in patterns:
            patterns.append(pattern)
    return {"errors": errors, "patterns": patterns, "units": units}

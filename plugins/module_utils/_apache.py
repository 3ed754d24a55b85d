# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers for Debian's Apache layout (mods/conf/sites -available and -enabled)."""

from __future__ import annotations

import os
import re

# Debian's a2dismod refuses to disable these without --force (list from a2enmod).
ESSENTIAL_MODULES = frozenset(
    {
        "alias",
        "auth_basic",
        "authn_file",
        "authz_host",
        "authz_user",
        "autoindex",
        "deflate",
        "dir",
        "env",
        "filter",
        "logio",
        "mime",
        "negotiation",
        "setenvif",
        "unixd",
        "version",
        "watchdog",
    }
)

# kind -> (directory stem, suffix of the file that marks "enabled", enable command, disable command)
KINDS = {
    "modules": ("mods", ".load", "a2enmod", "a2dismod"),
    "confs": ("conf", ".conf", "a2enconf", "a2disconf"),
    "sites": ("sites", ".conf", "a2ensite", "a2dissite"),
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_DEPENDS = re.compile(r"^#\s*Depends:\s*(.*)$", re.M)
_SYNTAX_ERROR = re.compile(r"(AH\d+: )?Syntax error on line (\d+) of ([^:]+):\s*(.*)", re.S)


def bad_names(names):
    """Return the names that are not plain Apache module/conf/site names (no path, no glob)."""
    return [name for name in names if not isinstance(name, str) or not _NAME.match(name)]


def depends(load_text: str) -> list[str]:
    """Return the modules a ``mods-available/<name>.load`` file declares in ``# Depends:`` lines."""
    found = []
    for line in _DEPENDS.findall(load_text):
        found += [word for word in re.split(r"[\s,]+", line) if word]
    return found


def enabled_names(entries, suffix: str) -> set[str]:
    """Return the names enabled in a ``*-enabled`` directory listing (``ssl.load`` -> ``ssl``)."""
    return {entry[: -len(suffix)] for entry in entries if entry.endswith(suffix)}


def plan(enabled: set, enable, disable, dependencies: dict) -> dict:
    """Decide what to enable, what to disable and what to keep although asked to disable.

    ``dependencies`` maps an enabled (or to be enabled) module to the modules it depends on.
    A module that a module staying enabled depends on is kept, not broken: it goes to ``kept``
    with the names of its dependants.
    """
    to_enable = [name for name in enable if name not in enabled]
    after = (enabled | set(enable)) - set(disable)
    kept = {}
    to_disable = []
    for name in disable:
        if name not in enabled:
            continue
        users = sorted(other for other in after if name in dependencies.get(other, ()))
        if users:
            kept[name] = users
        else:
            to_disable.append(name)
    return {"enable": to_enable, "disable": dependants_first(to_disable, dependencies), "kept": kept}


def dependants_first(names, dependencies: dict) -> list[str]:
    """Order modules to disable so that no module goes before one that depends on it."""
    left = list(names)
    ordered = []
    while left:
        free = [
            name for name in left if not any(name in dependencies.get(other, ()) for other in left if other != name)
        ]
        pick = free[0] if free else left[0]  # a dependency cycle: keep the given order
        ordered.append(pick)
        left.remove(pick)
    return ordered


def configtest_message(output: str) -> str:
    """Return Apache's complaint from ``apache2ctl -t`` output, file and line first when it names them."""
    match = _SYNTAX_ERROR.search(output)
    if match:
        detail = " ".join(match.group(4).split())
        return f"{match.group(3)}:{match.group(2)}: {detail}"
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("Syntax OK")]
    return " ".join(lines) or "apache2ctl -t failed without a message"


def link_snapshot(directory: str) -> dict:
    """Return ``{entry: link target or None}`` for a ``*-enabled`` directory (None: a plain file)."""
    if not os.path.isdir(directory):
        return {}
    snapshot = {}
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        snapshot[entry] = os.readlink(path) if os.path.islink(path) else None
    return snapshot

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.config_value filter (documented in config_value.yml)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# C0 controls and DEL; a tab is allowed only where allow_tab is set.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_OR_TAB = re.compile(r"[\x00-\x1f\x7f]")


def find_control(value, path: str, allow_tab: bool = False):
    """Return ``(path, char)`` of the first control character in a value, or ``None``.

    Strings are searched; lists, tuples and dicts are walked (dict keys too), with the
    path growing like ``name[2]`` or ``name.key``; other scalars cannot hold one.
    """
    pattern = _CONTROL if allow_tab else _CONTROL_OR_TAB
    if isinstance(value, str):
        match = pattern.search(value)
        return (path, match.group()) if match else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = find_control(key, f"{path} (key {key!r})", allow_tab) or find_control(
                item, f"{path}.{key}", allow_tab
            )
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = find_control(item, f"{path}[{index}]", allow_tab)
            if found:
                return found
    return None


def config_value(value, name: str, allow_tab: bool = False):
    """Return ``value`` unchanged, or raise naming ``name`` if it holds a control character.

    Every value a role writes into a configuration file passes through here: a newline in a
    value would start a new directive (``\\nMatch all``, ``\\nignoreip = 0.0.0.0/0``).
    """
    found = find_control(value, name, allow_tab)
    if found:
        where, char = found
        raise AnsibleFilterError(
            f"{where} contains the control character {char!r}; a value written to a configuration "
            f"file must be a single line without control characters: {value!r}"
        )
    return value


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"config_value": config_value}

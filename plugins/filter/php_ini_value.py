# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.php_ini_value and php_ini_bytes filters (documented in their .yml files)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._php import PhpValueError, ini_literal, size_to_bytes


def php_ini_value(value, name: str, separator: str = ","):
    """Render ``value`` for a PHP ini line (On/Off, a bare integer, a quoted string), or raise naming ``name``."""
    try:
        return ini_literal(value, name, separator)
    except PhpValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


def php_ini_bytes(value, name: str):
    """Bytes of a PHP size such as ``8M`` (-1 for unlimited), or raise naming ``name``."""
    try:
        return size_to_bytes(value, name)
    except PhpValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"php_ini_value": php_ini_value, "php_ini_bytes": php_ini_bytes}

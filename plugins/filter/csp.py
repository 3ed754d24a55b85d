# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.csp filter (documented in csp.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._apache import CspError, csp_value


def csp(directives, name: str = "csp") -> str:
    """Return a Content-Security-Policy value (see ``csp_value``); refuse naming the variable and value."""
    try:
        return csp_value(directives, name)
    except CspError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"csp": csp}

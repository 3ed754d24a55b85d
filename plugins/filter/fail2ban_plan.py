# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.fail2ban_plan filter (documented in fail2ban_plan.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._fail2ban import role_plan


def fail2ban_plan(settings):
    """Check the fail2ban role's variables and return its plan (see ``role_plan``)."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError(f"fail2ban_plan expects a mapping of the fail2ban role's variables, got {settings!r}")
    return role_plan(settings)


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"fail2ban_plan": fail2ban_plan}

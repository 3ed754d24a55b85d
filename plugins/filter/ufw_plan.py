# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.ufw_plan filter (documented in ufw_plan.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._ufw import role_plan


def ufw_plan(settings):
    """Check the ufw role's variables and return its plan (see ``role_plan``)."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError(f"ufw_plan expects a mapping of the ufw role's variables, got {settings!r}")
    return role_plan(settings)


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"ufw_plan": ufw_plan}

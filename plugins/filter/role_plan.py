# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.role_plan filter (documented in role_plan.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils import (
    _apache,
    _apt_updates,
    _common,
    _fail2ban,
    _host,
    _immutable,
    _os_baseline,
    _packages,
    _php,
    _ssh,
    _ufw,
)

# Role name -> the role's plan: role_plan(settings) in that role's module_utils file.
PLANS = {
    "apache_hardening": _apache.role_plan,
    "common": _common.role_plan,
    "fail2ban": _fail2ban.role_plan,
    # The common role's host model (the fact bulwark_host), which every role reads.
    "host": _host.host_model,
    "immutable": _immutable.role_plan,
    "minimal_packages": _packages.role_plan,
    "os_baseline": _os_baseline.role_plan,
    "php_hardening": _php.role_plan,
    "ssh_hardening": _ssh.role_plan,
    "unattended_upgrades": _apt_updates.role_plan,
    "ufw": _ufw.role_plan,
}


def role_plan(settings, role):
    """Check one role's variables and return its plan (``errors`` plus the values it computes)."""
    if role not in PLANS:
        raise AnsibleFilterError(f"role_plan: no plan for the role {role!r}; known roles: {', '.join(sorted(PLANS))}")
    if not isinstance(settings, dict):
        raise AnsibleFilterError(f"role_plan({role!r}) expects a mapping of the role's variables, got {settings!r}")
    try:
        return PLANS[role](settings)
    except KeyError as exc:
        # Every setting is passed by the role (defaults/main.yml holds the defaults): a missing one is a bug.
        if exc.args and exc.args[0] not in settings:
            raise AnsibleFilterError(f"role_plan({role!r}): the role did not pass the setting {exc}") from exc
        raise


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"role_plan": role_plan}

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role_plan filter: one dispatch to each role's plan."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.filter.role_plan import PLANS, FilterModule, role_plan

# Each role's plan lives in its module_utils file (host: the common role's host model).
MODULES = {
    "apache_hardening": "_apache",
    "common": "_common",
    "fail2ban": "_fail2ban",
    "host": "_host",
    "immutable": "_immutable",
    "minimal_packages": "_packages",
    "os_baseline": "_os_baseline",
    "php_hardening": "_php",
    "ssh_hardening": "_ssh",
    "ufw": "_ufw",
    "unattended_upgrades": "_apt_updates",
}


def test_each_role_has_its_plan_in_its_module():
    assert sorted(PLANS) == sorted(MODULES)
    for role, module in MODULES.items():
        assert PLANS[role].__module__ == f"ansible_collections.bulwark.hardening.plugins.module_utils.{module}"


def test_the_filter_returns_the_roles_plan():
    settings = {"bulwark_rollback_window": 10, "connection_timeout": 10}
    result = role_plan(settings, "common")
    assert result["errors"] == [
        "bulwark_rollback_window must be 30-3600 seconds (at least 30, and three times the connection timeout of "
        "10 s: the confirmation logs in afresh), got 10"
    ]
    assert FilterModule().filters()["role_plan"] is role_plan


@pytest.mark.parametrize("role", ["nginx_hardening", "ssh", ""])
def test_an_unknown_role_is_refused_by_name(role):
    with pytest.raises(
        AnsibleFilterError, match=rf"role_plan: no plan for the role '{role}'; known roles: apache_hardening"
    ):
        role_plan({}, role)


def test_settings_that_are_no_mapping_are_refused():
    with pytest.raises(AnsibleFilterError, match=r"role_plan\('immutable'\) expects a mapping of the role's variables"):
        role_plan(["/var/www"], "immutable")


def test_a_setting_the_role_did_not_pass_is_named():
    with pytest.raises(
        AnsibleFilterError, match=r"role_plan\('common'\): the role did not pass the setting 'connection_timeout'"
    ):
        role_plan({"bulwark_rollback_window": 90}, "common")

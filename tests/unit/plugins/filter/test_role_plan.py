# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role_plan filter: one dispatch to each role's plan."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.filter.role_plan import PLANS, FilterModule, role_plan
from ansible_collections.bulwark.hardening.plugins.module_utils import (
    _apache,
    _apt_updates,
    _common,
    _fail2ban,
    _host,
    _immutable,
    _packages,
    _php,
    _ssh,
    _ufw,
)


@pytest.mark.parametrize(
    ("role", "plan"),
    [
        ("apache_hardening", _apache.role_plan),
        ("common", _common.role_plan),
        ("fail2ban", _fail2ban.role_plan),
        ("host", _host.host_model),
        ("immutable", _immutable.role_plan),
        ("minimal_packages", _packages.role_plan),
        ("php_hardening", _php.role_plan),
        ("ssh_hardening", _ssh.role_plan),
        ("ufw", _ufw.role_plan),
        ("unattended_upgrades", _apt_updates.role_plan),
    ],
)
def test_each_role_has_its_plan(role, plan):
    assert PLANS[role] is plan


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

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The unattended_upgrades role's plan: each rule of the former preflight loop and calendar assert."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._apt_updates import BUILTIN_ORIGINS, role_plan
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import planner, refuses_then_takes

# The role's defaults (defaults/main.yml), as vars/main.yml passes them.
DEFAULTS = {
    "unattended_upgrades_origins_security": True,
    "unattended_upgrades_origins_point_release": False,
    "unattended_upgrades_origins_updates": False,
    "unattended_upgrades_origins_backports": False,
    "unattended_upgrades_origins_extra": [],
    "unattended_upgrades_security_origins_extra": [],
    "unattended_upgrades_package_blocklist": [],
    "unattended_upgrades_automatic_reboot_time": "02:00",
    "unattended_upgrades_mail": "",
    "unattended_upgrades_mail_packages": ["bsd-mailx"],
    "unattended_upgrades_needrestart_enabled": True,
    "unattended_upgrades_needrestart_never_restart": ["ssh", "sshd"],
    "unattended_upgrades_update_schedule": [],
    "unattended_upgrades_upgrade_schedule": [],
    "calendar_rc": 0,
    "calendar_stderr": "",
}
NO_ORIGIN = {"unattended_upgrades_origins_security": False}
BAD_CALENDAR = {
    "unattended_upgrades_upgrade_schedule": ["*-*-* 06:00", "tuesday"],
    "calendar_rc": 1,
    "calendar_stderr": "Failed to parse calendar specification 'tuesday': Invalid argument\n",
}


plan = planner(role_plan, DEFAULTS)


def test_the_defaults_pass():
    result = plan()
    assert result["errors"] == []
    assert result["origins"] == [BUILTIN_ORIGINS["security"]]
    assert result["packages"] == ["unattended-upgrades", "needrestart"]


@pytest.mark.parametrize(
    ("bad", "good", "message"),
    [
        pytest.param(
            NO_ORIGIN,
            {**NO_ORIGIN, "unattended_upgrades_origins_extra": ["origin=deb.sury.org"]},
            "No origin is allowed: unattended_upgrades_origins_security, _point_release, _updates and _backports "
            "are false and unattended_upgrades_origins_extra is empty",
            id="an-origin",
        ),
        pytest.param(
            {"unattended_upgrades_origins_extra": ["deb.sury.org"]},
            {"unattended_upgrades_origins_extra": ["o=deb.sury.org,n=${distro_codename},l=a\\,b"]},
            'unattended_upgrades_origins_extra / unattended_upgrades_security_origins_extra: ["deb.sury.org"] '
            "is not key=value[,key=value...]",
            id="origin-pattern",
        ),
        pytest.param(
            {"unattended_upgrades_security_origins_extra": ['origin="x"']},
            {"unattended_upgrades_security_origins_extra": ["origin=x,codename=bookworm-security"]},
            'unattended_upgrades_origins_extra / unattended_upgrades_security_origins_extra: ["origin=\\"x\\""]',
            id="security-origin-pattern",
        ),
        pytest.param(
            {"unattended_upgrades_package_blocklist": ['linux-"image']},
            {"unattended_upgrades_package_blocklist": ["linux-image-.*"]},
            'unattended_upgrades_package_blocklist: ["linux-\\"image"] holds a double quote, '
            "which apt.conf cannot quote.",
            id="blocklist-quote",
        ),
        pytest.param(
            {"unattended_upgrades_automatic_reboot_time": 120},
            {"unattended_upgrades_automatic_reboot_time": "now"},
            'unattended_upgrades_automatic_reboot_time must be "HH:MM" (quoted: YAML reads 02:00 as a number) '
            'or "now", not 120.',
            id="reboot-time",
        ),
        pytest.param(
            {"unattended_upgrades_automatic_reboot_time": "24:00"},
            {"unattended_upgrades_automatic_reboot_time": "23:59"},
            'unattended_upgrades_automatic_reboot_time must be "HH:MM"',
            id="reboot-time-range",
        ),
        pytest.param(
            {"unattended_upgrades_mail": "ops@example.org, root"},
            {"unattended_upgrades_mail": "ops@example.org"},
            'unattended_upgrades_mail must be one address (user@host or a local user), not "ops@example.org, root".',
            id="mail",
        ),
        pytest.param(
            {"unattended_upgrades_needrestart_never_restart": ["ssh", "my service"]},
            {"unattended_upgrades_needrestart_never_restart": ["ssh", "php8.2-fpm", "getty@tty1"]},
            'unattended_upgrades_needrestart_never_restart: ["my service"] is not a systemd unit name',
            id="units",
        ),
        pytest.param(
            BAD_CALENDAR,
            {**BAD_CALENDAR, "calendar_rc": 0, "calendar_stderr": ""},
            'unattended_upgrades_upgrade_schedule: ["tuesday"] is not a systemd calendar expression '
            "(Failed to parse calendar specification 'tuesday': Invalid argument).",
            id="calendar",
        ),
    ],
)
def test_each_rule_refuses_naming_the_variable_and_takes_a_good_value(bad, good, message):
    refuses_then_takes(plan, bad, good, message)


def test_both_schedules_named_when_both_hold_a_bad_one():
    errors = plan(
        unattended_upgrades_update_schedule=["daily", "nonsense"],
        **{
            **BAD_CALENDAR,
            "calendar_stderr": BAD_CALENDAR["calendar_stderr"]
            + "Failed to parse calendar specification 'nonsense': x\n",
        },
    )["errors"]
    assert errors[0].startswith(
        'unattended_upgrades_update_schedule: ["nonsense"] unattended_upgrades_upgrade_schedule: ["tuesday"] is not'
    )


def test_a_failed_calendar_run_without_a_named_schedule_still_fails():
    errors = plan(calendar_rc=1, calendar_stderr="systemd-analyze: command failed")["errors"]
    assert errors == ["a schedule is not a systemd calendar expression (systemd-analyze: command failed)."]


def test_origins_packages_and_schedules():
    result = plan(
        unattended_upgrades_origins_updates=True,
        unattended_upgrades_origins_extra=["origin=deb.sury.org"],
        unattended_upgrades_security_origins_extra=["origin=deb.sury.org"],
        unattended_upgrades_mail="root",
        unattended_upgrades_needrestart_enabled=False,
        unattended_upgrades_update_schedule=["*-*-* 01:00"],
        unattended_upgrades_upgrade_schedule=["*-*-* 06:00"],
    )
    assert result["builtin"] == [BUILTIN_ORIGINS["security"], BUILTIN_ORIGINS["updates"]]
    assert result["origins"] == [*result["builtin"], "origin=deb.sury.org"]
    assert result["security_origins"] == [BUILTIN_ORIGINS["security"], "origin=deb.sury.org"]
    assert result["packages"] == ["unattended-upgrades", "bsd-mailx"]
    assert result["schedules"] == ["*-*-* 01:00", "*-*-* 06:00"]

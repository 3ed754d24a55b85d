# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The minimal_packages role's plan (the masks against the protected units, unit names) and the purge patterns."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._packages import purge_patterns, role_plan, unit_name
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import planner

PROTECTED_UNITS = ["ssh.service", "ssh.socket", "apache2.service", "ufw.service"]
DEFAULTS = {"minimal_packages_mask": ["rsync.service"], "protected_units": PROTECTED_UNITS}
BLOCKLIST = ["telnet", "rpcbind", "nfs-kernel-server", "cups*"]


plan = planner(role_plan, DEFAULTS)


def test_the_defaults_pass():
    result = plan()
    assert result == {"errors": [], "units": ["rsync.service"]}


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (
            ["ssh"],
            "minimal_packages_mask must not name ssh.service (remote access, the web server or another "
            "role's daemon); nothing was changed.",
        ),
        (["rsync", "ssh.socket", "apache2.service"], "minimal_packages_mask must not name ssh.socket, apache2.service"),
    ],
)
def test_a_protected_unit_is_never_masked(mask, message):
    errors = plan(minimal_packages_mask=mask)["errors"]
    assert len(errors) == 1
    assert message in errors[0]
    assert plan(minimal_packages_mask=["rsync", "avahi-daemon.socket"])["errors"] == []


@pytest.mark.parametrize(("name", "unit"), [("rsync", "rsync.service"), ("ssh.socket", "ssh.socket")])
def test_unit_names_as_systemd_writes_them(name, unit):
    assert unit_name(name) == unit


@pytest.mark.parametrize(
    "services",
    [{"nfs": {"ports": [2049]}}, {"files": {"ports": [111, "2049"], "proto": "udp"}}, {"nfs": {"ports": [20490]}}],
)
def test_nfs_packages_stay_when_the_host_declares_nfs(services):
    assert purge_patterns(BLOCKLIST, [], services) == ["telnet", "cups*"]


@pytest.mark.parametrize("services", [{"http": {"ports": [80, 443]}}, {}, None])
def test_nfs_packages_go_when_nothing_declares_nfs(services):
    result = purge_patterns(BLOCKLIST, ["telnet", "xinetd"], services)
    assert result == ["telnet", "rpcbind", "nfs-kernel-server", "cups*", "xinetd"]

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The os_baseline role's plan: the settings it computes and each rule between its variables."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils._os_baseline import role_plan
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import (
    ROLES,
    planner,
    refuses_then_takes,
    role_defaults,
)

VARS = yaml.safe_load((Path(ROLES) / "os_baseline" / "vars" / "main.yml").read_text(encoding="utf-8"))
DEFAULTS = {
    **{
        name: value
        for name, value in role_defaults("os_baseline").items()
        if name not in ("os_baseline_sysctl_enabled",)
    },
    "sysctl_defaults": VARS["_os_baseline_sysctl_defaults"],
    "forwarding_keys": VARS["_os_baseline_forwarding_keys"],
    "modules_defaults": VARS["_os_baseline_modules_defaults"],
    "sysctl_check": {},
    "modules_check": {},
}

plan = planner(role_plan, DEFAULTS)


def test_the_defaults_pass_and_switch_forwarding_off():
    result = plan()
    assert result["errors"] == []
    assert result["sysctl"]["net.ipv4.ip_forward"] == "0"
    assert result["sysctl"]["net.ipv6.conf.all.forwarding"] == "0"
    assert result["sysctl"]["kernel.randomize_va_space"] == "2"
    assert "usb-storage" in result["modules"] and "overlay" not in result["modules"]
    assert result["umask"] == "027"


def test_ip_forward_true_leaves_forwarding_unmanaged():
    result = plan(os_baseline_ip_forward=True)
    assert "net.ipv4.ip_forward" not in result["sysctl"] and "net.ipv6.conf.all.forwarding" not in result["sysctl"]


def test_overrides_change_add_and_unmanage_keys():
    result = plan(
        os_baseline_sysctl_overrides={
            "net/ipv4/tcp_syncookies": 1,
            "kernel.kptr_restrict": "1",
            "net.ipv4.conf.all.rp_filter": None,
            "net.ipv4.tcp_rmem": "4096\t87380  6291456",
        }
    )
    assert result["errors"] == []
    assert result["sysctl"]["kernel.kptr_restrict"] == "1"
    assert "net.ipv4.conf.all.rp_filter" not in result["sysctl"]
    assert result["sysctl"]["net.ipv4.tcp_rmem"] == "4096 87380 6291456"


def test_allowed_and_extra_modules():
    result = plan(
        os_baseline_kernel_modules_allowed=["usb_storage"], os_baseline_kernel_modules_extra=["udf", "cramfs"]
    )
    assert (
        "usb-storage" not in result["modules"] and result["modules"].count("cramfs") == 1 and "udf" in result["modules"]
    )


@pytest.mark.parametrize(
    ("bad", "good", "message"),
    [
        pytest.param(
            {"os_baseline_sysctl_overrides": {"net.ipv4 .x": 1}},
            {"os_baseline_sysctl_overrides": {"net.ipv4.x": 1}},
            "os_baseline_sysctl_overrides: 'net.ipv4 .x' is not a sysctl key",
            id="key",
        ),
        pytest.param(
            {"os_baseline_sysctl_overrides": {"net.ipv4.x": True}},
            {"os_baseline_sysctl_overrides": {"net.ipv4.x": 1}},
            "os_baseline_sysctl_overrides['net.ipv4.x'] must be a number or a string",
            id="yaml-boolean",
        ),
        pytest.param(
            {"os_baseline_sysctl_overrides": {"net.ipv4.x": "1\nkernel.y = 0"}},
            {"os_baseline_sysctl_overrides": {"net.ipv4.x": "1"}},
            "holds a control character",
            id="newline",
        ),
        pytest.param(
            {"os_baseline_kernel_modules_extra": ["udf;rm"]},
            {"os_baseline_kernel_modules_extra": ["udf"]},
            "os_baseline_kernel_modules_extra: 'udf;rm' is not a kernel module name",
            id="module",
        ),
        pytest.param(
            {"os_baseline_umask": "022"},
            {"os_baseline_umask": "0077"},
            "os_baseline_umask '022' lets the group write or others read",
            id="umask-weak",
        ),
        pytest.param(
            {"os_baseline_umask": 27}, {"os_baseline_umask": "027"}, "os_baseline_umask must be", id="umask-int"
        ),
        pytest.param(
            {"os_baseline_sudo_logfile": "/var/log/sudo log"},
            {"os_baseline_sudo_logfile": "/var/log/sudo-io.log"},
            "os_baseline_sudo_logfile must be an absolute path",
            id="logfile",
        ),
        pytest.param(
            {"os_baseline_banner": "Welcome to \\s \\r"},
            {"os_baseline_banner": "Welcome."},
            "os_baseline_banner holds '\\\\s'",
            id="banner-escape",
        ),
        pytest.param(
            {"os_baseline_banner": "Debian server of ACME"},
            {"os_baseline_banner": "Server of ACME"},
            "os_baseline_banner names the operating system ('Debian'",
            id="banner-os",
        ),
        pytest.param(
            {"sysctl_check": {"interfaces": ["lo", "eth0", "docker0", "veth12ab"]}},
            {"sysctl_check": {"interfaces": ["lo", "eth0"]}},
            "this host forwards packets for containers, VMs or a VPN (interfaces docker0, veth12ab)",
            id="docker-forwarding",
        ),
        pytest.param(
            {
                "sysctl_check": {
                    "overridden": {"net.ipv4.ip_forward": {"file": "/etc/sysctl.d/99-docker.conf", "value": "1"}}
                }
            },
            {"sysctl_check": {"overridden": {}}},
            "sysctl net.ipv4.ip_forward: /etc/sysctl.d/99-docker.conf sets 1",
            id="sysctl-override",
        ),
        pytest.param(
            {
                "modules_check": {
                    "overridden": {"usb_storage": "/etc/modprobe.d/usb.conf: install usb_storage /bin/true"}
                }
            },
            {"modules_check": {}},
            "kernel module usb_storage: /etc/modprobe.d/usb.conf: install usb_storage /bin/true",
            id="module-override",
        ),
        pytest.param(
            {"os_baseline_mount_options": {"/tmp": "nodev,nosuid"}},
            {"os_baseline_mount_options": {"/tmp": ["nodev", "nosuid"]}},
            "os_baseline_mount_options['/tmp'] must be a list such as [nodev, nosuid, noexec], got 'nodev,nosuid'",
            id="mount-string",
        ),
        pytest.param(
            {"os_baseline_mount_options": {"/tmp": ["nodev", "ro"]}},
            {"os_baseline_mount_options": {"/tmp": ["nodev"]}},
            "os_baseline_mount_options['/tmp']: 'ro' is not one of nodev, nosuid, noexec",
            id="mount-flag",
        ),
        pytest.param(
            {"os_baseline_mount_options": {"/": ["nodev"]}},
            {"os_baseline_mount_options": {"/srv": ["nodev"]}},
            "os_baseline_mount_options: '/' is not a mount point such as /tmp",
            id="mount-root",
        ),
        pytest.param(
            {"os_baseline_faillock": {"deny": "5\nunlock_time = 0"}},
            {"os_baseline_faillock": {"deny": 5}},
            "os_baseline_faillock['deny'] must be a number or a single word",
            id="faillock-newline",
        ),
        pytest.param(
            {"os_baseline_pwquality": "minlen=14"},
            {"os_baseline_pwquality": None},
            "os_baseline_pwquality must be a mapping of settings (or null to leave them alone)",
            id="pwquality-string",
        ),
        pytest.param(
            {"os_baseline_pam_unix": {"nullok": "no"}},
            {"os_baseline_pam_unix": {"nullok": False, "hashing": "sha512"}},
            "os_baseline_pam_unix.nullok must be true or false, got 'no'",
            id="unix-nullok",
        ),
        pytest.param(
            {"os_baseline_pam_unix": {"hashing": "md5"}},
            {"os_baseline_pam_unix": {"hashing": "yescrypt"}},
            "os_baseline_pam_unix.hashing must be yescrypt or sha512, got 'md5'",
            id="unix-hash",
        ),
        pytest.param(
            {"os_baseline_pwquality": {"minlen": False, "enforce_for_root": True}},
            {"os_baseline_pwquality": {"minlen": 14, "enforce_for_root": False}},
            "os_baseline_pwquality['minlen'] must be a number or a word, got False (YAML reads yes/no as a boolean;"
            " true or false only for enforce_for_root, local_users_only)",
            id="pwquality-yaml-no-on-a-number",
        ),
        pytest.param(
            {"os_baseline_login_defs": {"PASS_MAX_DAYS": True}},
            {"os_baseline_login_defs": {"PASS_MAX_DAYS": 180}},
            "os_baseline_login_defs['PASS_MAX_DAYS'] must be a number or a word, got True",
            id="login-defs-bool",
        ),
        pytest.param(
            {"os_baseline_password_ageing_exclude": "backup"},
            {"os_baseline_password_ageing_exclude": ["backup"]},
            "os_baseline_password_ageing_exclude must be a list of user names",
            id="exclude-string",
        ),
        pytest.param(
            {"os_baseline_su_group": "wheel users"},
            {"os_baseline_su_group": None},
            "os_baseline_su_group must be a group name other than root (or null to leave su alone), got 'wheel users'",
            id="su-group-space",
        ),
        pytest.param(
            {"os_baseline_su_group": "root"},
            {"os_baseline_su_group": "sugroup"},
            "os_baseline_su_group must be a group name other than root",
            id="su-group-root",
        ),
        pytest.param(
            {"os_baseline_cron_allow": "www-data"},
            {"os_baseline_cron_allow": ["www-data"]},
            "os_baseline_cron_allow must be a list of user names (root is always allowed), got 'www-data'",
            id="cron-allow-string",
        ),
        pytest.param(
            {"os_baseline_at_allow": ["deploy\nmallory"]},
            {"os_baseline_at_allow": ["deploy"]},
            "os_baseline_at_allow: 'deploy\\nmallory' is not a user name",
            id="at-allow-newline",
        ),
        pytest.param(
            {"os_baseline_cron_allow": ["*"]},
            {"os_baseline_cron_allow": []},
            "os_baseline_cron_allow: '*' is not a user name",
            id="cron-allow-everybody",
        ),
        pytest.param(
            {"os_baseline_mount_options": ["/tmp"]},
            {"os_baseline_mount_options": {}},
            "os_baseline_mount_options must be a mapping",
            id="mount-list",
        ),
    ],
)
def test_each_rule_refuses_by_name(bad, good, message):
    refuses_then_takes(plan, bad, good, message)


def test_cron_and_at_allow_root_first_then_the_listed_users_once():
    assert plan()["jobs"] == {"cron": ["root"], "at": ["root"]}
    jobs = plan(os_baseline_cron_allow=["www-data", "root", "backup$", "www-data"], os_baseline_at_allow=["Deploy"])[
        "jobs"
    ]
    assert jobs == {"cron": ["root", "www-data", "backup$"], "at": ["root", "Deploy"]}


def test_docker_bridges_are_fine_when_forwarding_is_kept():
    assert plan(os_baseline_ip_forward=True, sysctl_check={"interfaces": ["docker0"]})["errors"] == []


def test_mount_options_default_to_cis_and_a_null_unmanages_a_point():
    assert plan()["mounts"]["/dev/shm"] == ["nodev", "nosuid", "noexec"]
    assert plan()["mounts"]["/home"] == ["nodev", "nosuid"]
    mounts = plan(os_baseline_mount_options={"/tmp/": ["noexec", "nodev"], "/home": None, "/var": []})["mounts"]
    assert mounts == {"/tmp": ["nodev", "noexec"]}

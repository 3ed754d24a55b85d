# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ssh_hardening role's plan: each rule the preflight's Jinja rule list held, and the values it computes."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._ssh import PQ_KEX, role_plan
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import planner, refuses_then_takes

SESSION = {"is_ssh": True, "user": "deploy", "client_addr": "198.51.100.7"}
# The role's defaults (defaults/main.yml), as vars/main.yml passes them.
DEFAULTS = {
    "ssh_hardening_permit_root_login": "no",
    "ssh_hardening_max_startups": "10:30:60",
    "ssh_hardening_rsa_host_key_bits": 4096,
    "ssh_hardening_rsa_host_key_min_bits": 3072,
    "ssh_hardening_sftp_enabled": True,
    "ssh_hardening_sftp_chroot_group": "",
    "ssh_hardening_match_blocks": [],
    "ssh_hardening_extra_settings": {},
    "ssh_hardening_crypto_policy": "modern",
    "ssh_hardening_kex": [],
    "ssh_hardening_ciphers": [],
    "ssh_hardening_macs": [],
    "ssh_hardening_host_key_algorithms": [],
    "ssh_hardening_pubkey_accepted_algorithms": [],
    "ssh_hardening_lockout_guard": True,
    "ssh_hardening_admin_users": [],
    "ssh_hardening_banner": "",
    "bulwark_host": {"connection": SESSION},
    "openssh_version": "OpenSSH_9.2p1",
    "controller_kex": [],
}


plan = planner(role_plan, DEFAULTS)


def test_the_defaults_pass():
    assert plan()["errors"] == [], "the role's defaults must pass its own plan"


# Each rule: a value it refuses (the message names the variable and the value) and one it takes.
@pytest.mark.parametrize(
    ("bad", "good", "message"),
    [
        pytest.param(
            {"ssh_hardening_permit_root_login": "yes"},
            {"ssh_hardening_permit_root_login": "prohibit-password"},
            'ssh_hardening_permit_root_login must be one of no, prohibit-password, got "yes"',
            id="permit-root-login",
        ),
        pytest.param(
            {"ssh_hardening_max_startups": "abc"},
            {"ssh_hardening_max_startups": 10},
            'ssh_hardening_max_startups must be start or start:rate:full (e.g. 10:30:60), got "abc"',
            id="max-startups",
        ),
        pytest.param(
            {"ssh_hardening_max_startups": "10:30"},
            {"ssh_hardening_max_startups": "10:100:60"},
            'ssh_hardening_max_startups must be start or start:rate:full (e.g. 10:30:60), got "10:30"',
            id="max-startups-two-fields",
        ),
        pytest.param(
            {"ssh_hardening_rsa_host_key_bits": 2048},
            {"ssh_hardening_rsa_host_key_bits": 3072},
            "ssh_hardening_rsa_host_key_bits (2048) must be at least ssh_hardening_rsa_host_key_min_bits (3072)",
            id="rsa-bits",
        ),
        pytest.param(
            {"ssh_hardening_sftp_enabled": False, "ssh_hardening_sftp_chroot_group": "sftponly"},
            {"ssh_hardening_sftp_enabled": True, "ssh_hardening_sftp_chroot_group": "sftponly"},
            "ssh_hardening_sftp_chroot_group (sftponly) needs ssh_hardening_sftp_enabled=true",
            id="chroot-needs-sftp",
        ),
        pytest.param(
            {"ssh_hardening_match_blocks": ["User backup"]},
            {"ssh_hardening_match_blocks": [{"condition": "User backup", "settings": {}}]},
            'every item of ssh_hardening_match_blocks must be a dict with condition and settings, got ["User backup"]',
            id="match-block-not-a-dict",
        ),
        pytest.param(
            {"ssh_hardening_match_blocks": [{"settings": {"MaxAuthTries": 2}}]},
            {"ssh_hardening_match_blocks": [{"condition": "User backup", "settings": {"MaxAuthTries": 2}}]},
            "every item of ssh_hardening_match_blocks needs a non-empty condition",
            id="match-block-without-condition",
        ),
        pytest.param(
            {"ssh_hardening_match_blocks": [{"condition": "  ", "settings": {}}]},
            {"ssh_hardening_match_blocks": [{"condition": "Address 10.0.0.0/8"}]},
            "every item of ssh_hardening_match_blocks needs a non-empty condition",
            id="match-block-blank-condition",
        ),
        pytest.param(
            {"ssh_hardening_match_blocks": [{"condition": "User backup", "settings": ["MaxAuthTries 2"]}]},
            {"ssh_hardening_match_blocks": [{"condition": "User backup", "settings": {"MaxAuthTries": 2}}]},
            "the settings of each ssh_hardening_match_blocks item must be a dict of keyword to value",
            id="match-block-settings",
        ),
        pytest.param(
            {"ssh_hardening_extra_settings": {"Max Auth": 2}},
            {"ssh_hardening_extra_settings": {"AuthenticationMethods": "publickey"}},
            'the keys of ssh_hardening_extra_settings must be sshd keywords (letters and digits), got {"Max Auth": 2}',
            id="extra-settings-keyword",
        ),
        pytest.param(
            {"ssh_hardening_extra_settings": {"PasswordAuthentication": "yes", "port": 2222}},
            {"ssh_hardening_extra_settings": {"PrintLastLog": "no"}},
            "ssh_hardening_extra_settings sets PasswordAuthentication (the role sets it; controlled by none "
            "(always no)); port (the role sets it; controlled by bulwark_ssh_port) - sshd would keep the "
            "role's value and ignore yours",
            id="extra-settings-role-keyword",
        ),
        pytest.param(
            {"ssh_hardening_crypto_policy": "pq", "controller_kex": ["curve25519-sha256"]},
            {"ssh_hardening_crypto_policy": "pq", "controller_kex": ["curve25519-sha256", "mlkem768x25519-sha256"]},
            "ssh_hardening_crypto_policy=pq offers only hybrid post-quantum key exchange, and this controller's "
            "own ssh ('ssh -Q kex') has none of",
            id="pq-controller",
        ),
        pytest.param(
            {"ssh_hardening_crypto_policy": "pq", "controller_kex": list(PQ_KEX), "openssh_version": "OpenSSH_8.4p1"},
            {"ssh_hardening_crypto_policy": "pq", "controller_kex": list(PQ_KEX), "openssh_version": "OpenSSH_8.5p1"},
            "ssh_hardening_crypto_policy=pq needs hybrid post-quantum key exchange, which OpenSSH_8.4p1 does not have",
            id="pq-server-too-old",
        ),
    ],
)
def test_each_rule_refuses_naming_the_variable_and_takes_a_good_value(bad, good, message):
    refuses_then_takes(plan, bad, good, message)


def test_every_broken_rule_is_reported_at_once():
    errors = plan(
        ssh_hardening_max_startups="abc",
        ssh_hardening_match_blocks=[{"settings": {"MaxAuthTries": 2}}],
        ssh_hardening_extra_settings={"PasswordAuthentication": "yes"},
    )["errors"]
    assert [error.split(" ")[0] for error in errors] == [
        "ssh_hardening_max_startups",
        "every",
        "ssh_hardening_extra_settings",
    ]


def test_the_controller_is_asked_only_for_the_pq_policy():
    # controller_kex is read (and passed) only with policy pq: empty means nothing for modern.
    assert plan(ssh_hardening_crypto_policy="modern", controller_kex=[])["errors"] == []


@pytest.mark.parametrize(
    ("value", "written"), [(False, "no"), ("no", "no"), ("prohibit-password", "prohibit-password")]
)
def test_permit_root_login_reads_yaml_no_as_no(value, written):
    result = plan(ssh_hardening_permit_root_login=value)
    assert result["errors"] == []
    assert result["permit_root_login"] == written
    assert result["enforced"]["PermitRootLogin"] == written
    assert result["enforced"]["PasswordAuthentication"] == "no"


@pytest.mark.parametrize(
    ("banner", "enforced"), [("", None), ("  ", None), ("Authorised access only.", "/etc/issue.net")]
)
def test_a_banner_is_enforced_in_every_match_context(banner, enforced):
    assert plan(ssh_hardening_banner=banner)["enforced"].get("Banner") == enforced


@pytest.mark.parametrize(("openssh", "version"), [("OpenSSH_9.2p1", [9, 2]), ("OpenSSH_10.0p1", [10, 0])])
def test_the_version_and_the_policy_lists(openssh, version):
    result = plan(openssh_version=openssh)
    assert result["version"] == version
    assert result["algorithms"]["Ciphers"][0] == "chacha20-poly1305@openssh.com"
    assert "diffie-hellman-group16-sha512" not in result["algorithms"]["KexAlgorithms"]
    assert list(result["algorithms"]) == [
        "KexAlgorithms",
        "Ciphers",
        "MACs",
        "HostKeyAlgorithms",
        "PubkeyAcceptedAlgorithms",
    ]


def test_a_declared_list_replaces_the_policy_list():
    result = plan(ssh_hardening_ciphers=["aes256-gcm@openssh.com"], ssh_hardening_crypto_policy="intermediate")
    assert result["algorithms"]["Ciphers"] == ["aes256-gcm@openssh.com"]
    assert "diffie-hellman-group16-sha512" in result["algorithms"]["KexAlgorithms"]


@pytest.mark.parametrize(
    ("connection", "admins", "guard", "expected"),
    [
        (SESSION, ["alice"], True, ("deploy", [], True)),
        ({"is_ssh": False}, ["alice", "bob"], True, ("alice", ["bob"], True)),
        ({"is_ssh": False}, [], True, ("root", [], False)),
        (SESSION, [], False, ("deploy", [], False)),
    ],
)
def test_the_guarded_connection(connection, admins, guard, expected):
    result = plan(
        bulwark_host={"connection": connection}, ssh_hardening_admin_users=admins, ssh_hardening_lockout_guard=guard
    )
    assert (result["guard_user"], result["guard_others"], result["guard_active"]) == expected


def test_a_missing_setting_is_a_programming_error():
    settings = dict(DEFAULTS)
    del settings["ssh_hardening_max_startups"]
    with pytest.raises(KeyError, match="ssh_hardening_max_startups"):
        role_plan(settings)

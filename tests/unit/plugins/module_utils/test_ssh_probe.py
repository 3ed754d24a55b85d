# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live sshd probe: parsing what the host's own ``ssh -vv`` saw, and comparing it with ``sshd -T``.

The fixtures are real runs of Debian 12's and 13's ssh client against their sshd (PasswordAuthentication
yes, Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com, ed25519, ecdsa and RSA host keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._ssh import (
    expected_auth_methods,
    host_key_offer,
    offer_differences,
    parse_ssh_probe,
    probe_target,
)

FIXTURES = Path(__file__).parent / "fixtures"
HOST_KEY_ALGORITHMS = (
    "ssh-ed25519-cert-v01@openssh.com,rsa-sha2-512-cert-v01@openssh.com,ssh-ed25519,ecdsa-sha2-nistp256,"
    "ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"
)
KEX_12 = (
    "sntrup761x25519-sha512,sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,"
    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,"
    "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"
)
MACS = (
    "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1"
)
# sshd -T of the files the probed daemon ran (Debian 12), as parse_sshd_config_dump returns it.
FILES_12 = {
    "pubkeyauthentication": "yes",
    "passwordauthentication": "yes",
    "kbdinteractiveauthentication": "no",
    "hostbasedauthentication": "no",
    "gssapiauthentication": "no",
    "authenticationmethods": "any",
    "kexalgorithms": KEX_12,
    "ciphers": "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
    "macs": MACS,
    "hostkeyalgorithms": HOST_KEY_ALGORITHMS,
}
KEY_TYPES = ["ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519"]


def probe(release):
    return parse_ssh_probe((FIXTURES / f"ssh-probe-{release}.txt").read_text())


@pytest.mark.parametrize("release", ["bookworm", "trixie"])
def test_parse_reads_the_servers_proposal_not_the_clients(release):
    offered = probe(release)
    assert offered["methods"] == ["publickey", "password"]
    assert offered["ciphers"] == ["aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"]
    assert offered["hostkeyalgorithms"] == ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"]
    assert offered["macs"] == MACS.split(",")
    # The extension and strict-KEX signals are no algorithms; the client's own list (printed first,
    # and by Debian 13 again after NEWKEYS) is not the server's.
    assert "kex-strict-s-v00@openssh.com" not in offered["kexalgorithms"]
    assert "ext-info-s" not in offered["kexalgorithms"]
    assert "ext-info-c" not in offered["kexalgorithms"]
    if release == "trixie":
        assert "diffie-hellman-group14-sha256" not in offered["kexalgorithms"]  # the client offers it, sshd not
    else:
        assert offered["kexalgorithms"] == KEX_12.split(",")


def test_parse_reads_carriage_returns_as_ssh_prints_them():
    """ssh ends its debug lines with "\\r\\n" once it has put the terminal in raw mode."""
    text = (FIXTURES / "ssh-probe-bookworm.txt").read_text().replace("\n", "\r\n")
    assert parse_ssh_probe(text) == probe("bookworm")


def test_parse_of_a_refused_connection_is_none():
    refused = (
        "debug1: connect to address 127.0.0.1 port 2299: Connection refused\n"
        "ssh: connect to host 127.0.0.1 port 2299: Connection refused\n"
    )
    assert parse_ssh_probe(refused) is None
    assert parse_ssh_probe("") is None


def test_the_files_daemon_offers_what_its_files_give():
    assert offer_differences(probe("bookworm"), FILES_12, KEY_TYPES) == []


def test_a_daemon_offering_passwords_its_files_turn_off_is_named():
    files = dict(FILES_12, passwordauthentication="no")
    assert offer_differences(probe("bookworm"), files, KEY_TYPES) == [
        "the running sshd offers password that its files do not (authentication methods: publickey, password live, "
        "publickey from sshd -T)"
    ]


def test_algorithm_differences_name_what_is_extra_and_missing():
    files = dict(FILES_12, ciphers="chacha20-poly1305@openssh.com,aes128-gcm@openssh.com")
    [reason] = offer_differences(probe("bookworm"), files, KEY_TYPES)
    assert reason.startswith(
        "the running sshd offers aes256-gcm@openssh.com that its files do not and lacks aes128-gcm@openssh.com "
        "that its files give (Ciphers:"
    )


def test_host_key_algorithms_follow_the_keys_and_are_skipped_when_unknown():
    only_ed25519 = offer_differences(probe("bookworm"), FILES_12, ["ssh-ed25519"])
    assert only_ed25519 == [
        "the running sshd offers rsa-sha2-512, rsa-sha2-256, ecdsa-sha2-nistp256 that its files do not (host key "
        "algorithms: rsa-sha2-512, rsa-sha2-256, ecdsa-sha2-nistp256, ssh-ed25519 live, ssh-ed25519 from sshd -T)"
    ]
    assert offer_differences(probe("bookworm"), FILES_12, None) == []


def test_a_list_sshd_t_did_not_print_is_not_compared():
    files = {key: value for key, value in FILES_12.items() if key != "macs"}
    assert offer_differences(probe("bookworm"), files, KEY_TYPES) == []


@pytest.mark.parametrize(
    ("settings", "methods"),
    [
        ({"pubkeyauthentication": "yes"}, ["publickey"]),
        (
            {"pubkeyauthentication": "yes", "passwordauthentication": "yes", "kbdinteractiveauthentication": "yes"},
            ["publickey", "password", "keyboard-interactive"],
        ),
        ({"gssapiauthentication": "yes", "hostbasedauthentication": "yes"}, ["hostbased", "gssapi-with-mic"]),
        # Only the first method of each chain is offered first.
        (
            {"pubkeyauthentication": "yes", "passwordauthentication": "yes",
             "authenticationmethods": "publickey,password"},
            ["publickey"],
        ),
        (
            {"pubkeyauthentication": "yes", "kbdinteractiveauthentication": "yes",
             "authenticationmethods": "publickey keyboard-interactive:pam"},
            ["publickey", "keyboard-interactive"],
        ),
    ],
)  # fmt: skip
def test_expected_auth_methods(settings, methods):
    assert sorted(expected_auth_methods(settings)) == sorted(methods)


def test_host_key_offer_keeps_the_configured_algorithms_the_keys_can_sign():
    assert host_key_offer(HOST_KEY_ALGORITHMS, ["ssh-ed25519", "ssh-rsa"]) == [
        "ssh-ed25519",
        "rsa-sha2-512",
        "rsa-sha2-256",
    ]


@pytest.mark.parametrize(
    ("settings", "target"),
    [
        ({"port": ["22"], "listenaddress": ["[::]:22", "0.0.0.0:22"]}, ("127.0.0.1", 22)),
        ({"port": ["2222"], "listenaddress": ["[::]:2222"]}, ("::1", 2222)),
        ({"port": ["22"], "listenaddress": ["192.0.2.5:2200", "0.0.0.0:22"]}, ("192.0.2.5", 2200)),
        ({"port": ["2222"]}, ("127.0.0.1", 2222)),
        ({}, ("127.0.0.1", 22)),
    ],
)
def test_probe_target(settings, target):
    assert probe_target(settings) == target

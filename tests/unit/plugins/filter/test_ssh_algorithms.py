# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.filter.ssh_algorithms import (
    FilterModule,
    ssh_algorithms,
)

AEAD = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"]
CTR = ["aes256-ctr", "aes192-ctr", "aes128-ctr"]
MACS = ["hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"]
CURVE = ["curve25519-sha256", "curve25519-sha256@libssh.org"]
FFDH = ["diffie-hellman-group18-sha512", "diffie-hellman-group16-sha512", "diffie-hellman-group-exchange-sha256"]
PQ_85 = ["sntrup761x25519-sha512@openssh.com"]
PQ_99 = ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"]
ED = ["ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519"]
SK = ["sk-ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519@openssh.com"]
RSA_PLAIN = ["rsa-sha2-512", "rsa-sha2-256"]
RSA_CERTS = [
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-256",
]

VERSIONS = {
    "7.4": {"kex": CURVE, "host": ED + RSA_PLAIN, "pubkey": ED + RSA_PLAIN},
    "8.4": {"kex": CURVE, "host": ED + RSA_CERTS, "pubkey": ED + SK + RSA_CERTS},
    "9.2": {"kex": PQ_85 + CURVE, "host": ED + RSA_CERTS, "pubkey": ED + SK + RSA_CERTS},
    "9.9": {"kex": PQ_99 + CURVE, "host": ED + RSA_CERTS, "pubkey": ED + SK + RSA_CERTS},
    "10.0": {"kex": PQ_99 + CURVE, "host": ED + RSA_CERTS, "pubkey": ED + SK + RSA_CERTS},
}


@pytest.mark.parametrize("version", sorted(VERSIONS))
@pytest.mark.parametrize("policy", ["modern", "intermediate"])
def test_lists_per_policy_and_version(policy, version):
    expected = VERSIONS[version]
    result = ssh_algorithms(version, policy=policy)
    assert sorted(result) == ["ciphers", "host_key_algorithms", "kex", "macs", "pubkey_accepted_algorithms"]
    if policy == "modern":
        assert result["kex"] == expected["kex"]
        assert result["ciphers"] == AEAD
    else:
        assert result["kex"] == expected["kex"] + FFDH
        assert result["ciphers"] == AEAD + CTR
    assert result["macs"] == MACS
    assert result["host_key_algorithms"] == expected["host"]
    assert result["pubkey_accepted_algorithms"] == expected["pubkey"]


def test_default_policy_is_modern():
    assert ssh_algorithms("9.2p1") == ssh_algorithms("9.2", policy="modern")


@pytest.mark.parametrize(
    "text, kex_head",
    [
        ("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024", "sntrup761x25519-sha512@openssh.com"),
        ("OpenSSH_10.0p2 Debian-7, OpenSSL 3.5.1 1 Jul 2025", "mlkem768x25519-sha256"),
        ("OpenSSH_8.4p1", "curve25519-sha256"),
        ("OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026", "sntrup761x25519-sha512@openssh.com"),
        ("9.9p1", "mlkem768x25519-sha256"),
        ("8.5", "sntrup761x25519-sha512@openssh.com"),
        (9.2, "sntrup761x25519-sha512@openssh.com"),
        (
            "unknown option -- V\n"
            "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024\n"
            "usage: sshd [-46DdeGiqTtV]",
            "sntrup761x25519-sha512@openssh.com",
        ),
    ],
)
def test_version_formats(text, kex_head):
    assert ssh_algorithms(text)["kex"][0] == kex_head


@pytest.mark.parametrize(
    "policy, version",
    [(policy, version) for policy in ("modern", "intermediate") for version in sorted(VERSIONS)]
    + [("pq", version) for version in ("9.2", "9.9", "10.0")],
)
def test_nothing_weak_ever(policy, version):
    result = ssh_algorithms(version, policy=policy)
    everything = [name for names in result.values() for name in names]
    for name in everything:
        assert "sha1" not in name and "cbc" not in name and "nistp" not in name, name
        assert "dss" not in name and "ecdsa" not in name, name
        assert name not in ("ssh-rsa", "ssh-rsa-cert-v01@openssh.com", "diffie-hellman-group14-sha1"), name
        assert "3des" not in name and "arcfour" not in name and "md5" not in name, name
    assert all(mac.endswith("-etm@openssh.com") for mac in result["macs"])
    assert len(everything) == sum(len(set(names)) for names in result.values())


@pytest.mark.parametrize("policy", ["strict", "Modern", "", None])
def test_unknown_policy_is_named(policy):
    with pytest.raises(AnsibleFilterError, match=f"unknown policy '{policy}'"):
        ssh_algorithms("9.2p1", policy=policy)


@pytest.mark.parametrize("text", ["", "Dropbear_2022.83", "ssh", "v9.2", None, True])
def test_unparsable_version_is_named(text):
    with pytest.raises(AnsibleFilterError, match=f"cannot parse OpenSSH version '{text}'"):
        ssh_algorithms(text)


@pytest.mark.parametrize("text", ["7.3p1", "OpenSSH_6.6.1p1 Ubuntu-2ubuntu2", "5.3"])
def test_too_old_version(text):
    with pytest.raises(AnsibleFilterError, match=r"older than 7\.4"):
        ssh_algorithms(text)


def test_registered_name():
    assert FilterModule().filters()["ssh_algorithms"] is ssh_algorithms


@pytest.mark.parametrize(
    "version, kex",
    [
        ("8.5", PQ_85),
        ("OpenSSH_9.2p1 Debian-2+deb12u3", PQ_85),
        ("9.9", PQ_99),
        ("OpenSSH_10.0p2 Debian-7", PQ_99),
    ],
)
def test_pq_policy_offers_hybrid_kex_only(version, kex):
    result = ssh_algorithms(version, policy="pq")
    assert result["kex"] == kex
    assert not set(result["kex"]) & set(CURVE + FFDH)
    modern = ssh_algorithms(version, policy="modern")
    for kind in ("ciphers", "macs", "host_key_algorithms", "pubkey_accepted_algorithms"):
        assert result[kind] == modern[kind]


@pytest.mark.parametrize("version", ["7.4", "8.4p1"])
def test_pq_policy_refused_before_8_5(version):
    with pytest.raises(AnsibleFilterError, match="policy 'pq' needs hybrid post-quantum key exchange"):
        ssh_algorithms(version, policy="pq")

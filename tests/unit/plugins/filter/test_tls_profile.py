# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.filter.tls_profile import (
    parse_openssl_version,
    tls_profile,
    tls_settings,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.0.17-1~deb12u2", (3, 0, 17)),
        ("3.5.1-1", (3, 5, 1)),
        ("OpenSSL 3.5.9 1 Jul 2026", (3, 5, 9)),
        ("1.1.1w-0+deb11u1", (1, 1, 1)),
    ],
)
def test_version_is_read_from_debian_and_openssl_strings(text, expected):
    assert parse_openssl_version(text) == expected


@pytest.mark.parametrize("text", ["", "unknown", "3.0"])
def test_unreadable_version_is_refused_by_value(text):
    with pytest.raises(AnsibleFilterError, match="cannot read an OpenSSL version"):
        parse_openssl_version(text)


@pytest.mark.parametrize(
    ("version", "curves"),
    [
        ("3.0.17-1~deb12u2", "X25519:prime256v1:secp384r1"),
        ("3.4.0", "X25519:prime256v1:secp384r1"),
        ("3.5.1-1", "X25519MLKEM768:X25519:prime256v1:secp384r1"),
        ("4.0.0", "X25519MLKEM768:X25519:prime256v1:secp384r1"),
    ],
)
def test_hybrid_pq_group_comes_first_from_openssl_3_5(version, curves):
    assert f"SSLOpenSSLConfCmd Curves {curves}" in tls_profile("intermediate", version)


def test_intermediate_allows_tls12_and_13_with_ecdhe_aead_only():
    lines = tls_profile("intermediate", "3.0.17")
    assert lines[0] == "SSLProtocol -all +TLSv1.2 +TLSv1.3"
    tls12 = next(line for line in lines if line.startswith("SSLCipherSuite ") and "TLSv1.3" not in line)
    suites = tls12.split()[1].split(":")
    assert suites and all(suite.startswith("ECDHE-") for suite in suites)
    assert all("GCM" in suite or "CHACHA20" in suite for suite in suites)
    assert "SSLHonorCipherOrder off" in lines
    assert "SSLSessionTickets off" in lines
    assert "SSLCompression off" in lines


def test_modern_is_tls13_only_without_a_tls12_cipher_list():
    lines = tls_profile("modern", "3.0.17")
    assert lines[0] == "SSLProtocol -all +TLSv1.3"
    assert [line for line in lines if line.startswith("SSLCipherSuite ")] == [
        "SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    ]


@pytest.mark.parametrize(
    ("profile", "version", "message"),
    [
        ("old", "3.0.17", "unknown profile 'old'"),
        ("Intermediate", "3.0.17", "unknown profile 'Intermediate'"),
        ("intermediate", "1.1.0l", "OpenSSL 1.1.0 has no TLS 1.3"),
    ],
)
def test_bad_profile_or_old_openssl_is_refused_by_value(profile, version, message):
    with pytest.raises(AnsibleFilterError, match=message):
        tls_settings(profile, version)

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.tls_profile filter (documented in tls_profile.yml)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Mozilla's server-side TLS recommendations (ssl-config.mozilla.org, guidelines 5.7).
# DHE suites are left out of "intermediate": they need a tuned DH group, and every client
# the profile targets speaks ECDHE. A subset of the allowed suites stays compliant.
_TLS12_INTERMEDIATE = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)
_TLS13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
_CURVES = ("X25519", "prime256v1", "secp384r1")
# The hybrid post-quantum group, offered first where OpenSSL has it (3.5 and later).
_HYBRID_PQ = "X25519MLKEM768"
_HYBRID_PQ_SINCE = (3, 5)
# TLS 1.3 (both profiles need it) arrived in OpenSSL 1.1.1.
_MINIMUM = (1, 1, 1)

PROFILES = {
    "intermediate": {"protocols": ("TLSv1.2", "TLSv1.3"), "tls12_ciphers": _TLS12_INTERMEDIATE},
    "modern": {"protocols": ("TLSv1.3",), "tls12_ciphers": ()},
}


def parse_openssl_version(version: str) -> tuple[int, int, int]:
    """Return (major, minor, patch) from a version string such as ``3.0.17-1~deb12u2`` or ``OpenSSL 3.5.1``."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", str(version))
    if not match:
        raise AnsibleFilterError(f"tls_profile: cannot read an OpenSSL version from {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def tls_settings(profile: str, openssl_version: str) -> dict:
    """Return the settings of a Mozilla profile for the installed OpenSSL, as a dict."""
    if profile not in PROFILES:
        raise AnsibleFilterError(
            f"tls_profile: unknown profile {profile!r}; choose one of {', '.join(sorted(PROFILES))}"
        )
    version = parse_openssl_version(openssl_version)
    if version < _MINIMUM:
        raise AnsibleFilterError(
            f"tls_profile: OpenSSL {'.'.join(map(str, version))} has no TLS 1.3; at least 1.1.1 is needed"
        )
    chosen = PROFILES[profile]
    curves = ((_HYBRID_PQ,) if version[:2] >= _HYBRID_PQ_SINCE else ()) + _CURVES
    return {
        "protocols": list(chosen["protocols"]),
        "tls12_ciphers": list(chosen["tls12_ciphers"]),
        "tls13_ciphers": list(_TLS13),
        "curves": list(curves),
    }


def tls_profile(profile: str, openssl_version: str) -> list[str]:
    """Return the mod_ssl directives of a Mozilla profile for the installed OpenSSL, one per line."""
    settings = tls_settings(profile, openssl_version)
    lines = ["SSLProtocol -all " + " ".join("+" + proto for proto in settings["protocols"])]
    if settings["tls12_ciphers"]:
        lines.append("SSLCipherSuite " + ":".join(settings["tls12_ciphers"]))
    lines += [
        "SSLCipherSuite TLSv1.3 " + ":".join(settings["tls13_ciphers"]),
        "SSLOpenSSLConfCmd Curves " + ":".join(settings["curves"]),
        "SSLHonorCipherOrder off",
        "SSLSessionTickets off",
        "SSLCompression off",
    ]
    return lines


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"tls_profile": tls_profile}

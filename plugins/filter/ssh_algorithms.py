# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.ssh_algorithms filter (documented in ssh_algorithms.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._ssh import (
    find_openssh_version,
    parse_openssh_version,
)

OLDEST_SUPPORTED = (7, 4)

# (algorithm, first OpenSSH release that knows it, policies that use it), strongest first.
# Nothing here uses SHA-1, CBC, NIST P-curves, DSA or encrypt-and-MAC.
_ALL = ("modern", "intermediate", "pq")
_CLASSIC = ("modern", "intermediate")
_INTERMEDIATE = ("intermediate",)
# Hybrid post-quantum key exchange, the only KEX of the pq policy.
PQ_KEX = ("mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com")

_TABLE = {
    "kex": (
        ("mlkem768x25519-sha256", (9, 9), _ALL),
        ("sntrup761x25519-sha512", (9, 9), _ALL),
        ("sntrup761x25519-sha512@openssh.com", (8, 5), _ALL),
        ("curve25519-sha256", (7, 4), _CLASSIC),
        ("curve25519-sha256@libssh.org", (6, 5), _CLASSIC),
        ("diffie-hellman-group18-sha512", (7, 3), _INTERMEDIATE),
        ("diffie-hellman-group16-sha512", (7, 3), _INTERMEDIATE),
        ("diffie-hellman-group-exchange-sha256", (4, 4), _INTERMEDIATE),
    ),
    "ciphers": (
        ("chacha20-poly1305@openssh.com", (6, 5), _ALL),
        ("aes256-gcm@openssh.com", (6, 2), _ALL),
        ("aes128-gcm@openssh.com", (6, 2), _ALL),
        ("aes256-ctr", (5, 2), _INTERMEDIATE),
        ("aes192-ctr", (5, 2), _INTERMEDIATE),
        ("aes128-ctr", (5, 2), _INTERMEDIATE),
    ),
    "macs": (
        ("hmac-sha2-512-etm@openssh.com", (6, 2), _ALL),
        ("hmac-sha2-256-etm@openssh.com", (6, 2), _ALL),
        ("umac-128-etm@openssh.com", (6, 2), _ALL),
    ),
    "host_key_algorithms": (
        ("ssh-ed25519-cert-v01@openssh.com", (6, 5), _ALL),
        ("ssh-ed25519", (6, 5), _ALL),
        ("rsa-sha2-512-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-512", (7, 2), _ALL),
        ("rsa-sha2-256-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-256", (7, 2), _ALL),
    ),
    "pubkey_accepted_algorithms": (
        ("ssh-ed25519-cert-v01@openssh.com", (6, 5), _ALL),
        ("ssh-ed25519", (6, 5), _ALL),
        ("sk-ssh-ed25519-cert-v01@openssh.com", (8, 2), _ALL),
        ("sk-ssh-ed25519@openssh.com", (8, 2), _ALL),
        ("rsa-sha2-512-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-512", (7, 2), _ALL),
        ("rsa-sha2-256-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-256", (7, 2), _ALL),
    ),
}

POLICIES = _ALL


def ssh_algorithms(openssh_version, policy="modern"):
    """Algorithm lists for sshd_config, for one OpenSSH version and policy."""
    if policy not in POLICIES:
        raise AnsibleFilterError(f"ssh_algorithms: unknown policy '{policy}', expected one of: {', '.join(POLICIES)}")
    text = openssh_version
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(text)  # an unquoted 9.2 in YAML arrives as a float
    elif isinstance(text, str):
        text = find_openssh_version(text) or text  # multi-line 'sshd -V' stderr
    version = parse_openssh_version(text)
    if version is None:
        raise AnsibleFilterError(
            f"ssh_algorithms: cannot parse OpenSSH version '{openssh_version}' "
            "(expected output of 'sshd -V' such as 'OpenSSH_9.2p1 Debian-2+deb12u3', or '9.2p1')"
        )
    if version < OLDEST_SUPPORTED:
        raise AnsibleFilterError(
            f"ssh_algorithms: OpenSSH version '{openssh_version}' is older than "
            f"{OLDEST_SUPPORTED[0]}.{OLDEST_SUPPORTED[1]}, the oldest supported"
        )
    lists = {
        kind: [name for name, since, policies in rows if version >= since and policy in policies]
        for kind, rows in _TABLE.items()
    }
    if not lists["kex"]:
        raise AnsibleFilterError(
            f"ssh_algorithms: policy '{policy}' needs hybrid post-quantum key exchange, which OpenSSH "
            f"'{openssh_version}' does not have (sntrup761x25519-sha512@openssh.com came with 8.5)"
        )
    return lists


class FilterModule:
    """bulwark.hardening filters for SSH."""

    def filters(self):
        return {"ssh_algorithms": ssh_algorithms}

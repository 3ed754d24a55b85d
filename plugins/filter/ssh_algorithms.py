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
_BOTH = ("modern", "intermediate")
_INTERMEDIATE = ("intermediate",)

_TABLE = {
    "kex": (
        ("mlkem768x25519-sha256", (9, 9), _BOTH),
        ("sntrup761x25519-sha512", (9, 9), _BOTH),
        ("sntrup761x25519-sha512@openssh.com", (8, 5), _BOTH),
        ("curve25519-sha256", (7, 4), _BOTH),
        ("curve25519-sha256@libssh.org", (6, 5), _BOTH),
        ("diffie-hellman-group18-sha512", (7, 3), _INTERMEDIATE),
        ("diffie-hellman-group16-sha512", (7, 3), _INTERMEDIATE),
        ("diffie-hellman-group-exchange-sha256", (4, 4), _INTERMEDIATE),
    ),
    "ciphers": (
        ("chacha20-poly1305@openssh.com", (6, 5), _BOTH),
        ("aes256-gcm@openssh.com", (6, 2), _BOTH),
        ("aes128-gcm@openssh.com", (6, 2), _BOTH),
        ("aes256-ctr", (5, 2), _INTERMEDIATE),
        ("aes192-ctr", (5, 2), _INTERMEDIATE),
        ("aes128-ctr", (5, 2), _INTERMEDIATE),
    ),
    "macs": (
        ("hmac-sha2-512-etm@openssh.com", (6, 2), _BOTH),
        ("hmac-sha2-256-etm@openssh.com", (6, 2), _BOTH),
        ("umac-128-etm@openssh.com", (6, 2), _BOTH),
    ),
    "host_key_algorithms": (
        ("ssh-ed25519-cert-v01@openssh.com", (6, 5), _BOTH),
        ("ssh-ed25519", (6, 5), _BOTH),
        ("rsa-sha2-512-cert-v01@openssh.com", (7, 8), _BOTH),
        ("rsa-sha2-512", (7, 2), _BOTH),
        ("rsa-sha2-256-cert-v01@openssh.com", (7, 8), _BOTH),
        ("rsa-sha2-256", (7, 2), _BOTH),
    ),
    "pubkey_accepted_algorithms": (
        ("ssh-ed25519-cert-v01@openssh.com", (6, 5), _BOTH),
        ("ssh-ed25519", (6, 5), _BOTH),
        ("sk-ssh-ed25519-cert-v01@openssh.com", (8, 2), _BOTH),
        ("sk-ssh-ed25519@openssh.com", (8, 2), _BOTH),
        ("rsa-sha2-512-cert-v01@openssh.com", (7, 8), _BOTH),
        ("rsa-sha2-512", (7, 2), _BOTH),
        ("rsa-sha2-256-cert-v01@openssh.com", (7, 8), _BOTH),
        ("rsa-sha2-256", (7, 2), _BOTH),
    ),
}

POLICIES = _BOTH


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
    return {
        kind: [name for name, since, policies in rows if version >= since and policy in policies]
        for kind, rows in _TABLE.items()
    }


class FilterModule:
    """bulwark.hardening filters for SSH."""

    def filters(self):
        return {"ssh_algorithms": ssh_algorithms}

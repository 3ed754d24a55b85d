# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.ssh_algorithms filter (documented in ssh_algorithms.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._ssh import (
    OLDEST_SUPPORTED,
    POLICIES,
    algorithm_lists,
    find_openssh_version,
    parse_openssh_version,
)


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
    lists = algorithm_lists(version, policy)
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

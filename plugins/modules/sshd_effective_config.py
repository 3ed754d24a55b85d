# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sshd_effective_config
short_description: Read the effective sshd configuration and check that an account can still log in
description:
  - Runs C(sshd -T) to print the configuration C(sshd) would really use (defaults, C(Include) files
    and, for a given connection, C(Match) blocks applied) and returns it as a dictionary.
  - C(sshd -T) fails on an invalid configuration, so this module doubles as a configuration check;
    the failure message carries C(sshd)'s own error.
  - For a given connection it also decides whether the account would be let in (C(DenyUsers),
    C(AllowUsers), C(DenyGroups), C(AllowGroups), C(PermitRootLogin), authentication methods and
    authorized keys), so a play can stop before it locks its own operator out.
  - Never changes the configuration; always reports C(changed=false).
author:
  - bulwark.hardening contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  config:
    description:
      - Path of the C(sshd) configuration file to evaluate (C(sshd -f)).
    type: path
    default: /etc/ssh/sshd_config
  content:
    description:
      - A candidate configuration to evaluate instead of O(config), e.g. a rendered template that
        is not installed yet. It is written to a private temporary file, evaluated, and removed;
        relative C(Include) paths still resolve against C(/etc/ssh).
      - When set, O(config) is ignored.
    type: str
  sshd:
    description:
      - Path of the C(sshd) binary.
    type: path
    default: /usr/sbin/sshd
  connection:
    description:
      - A connection to evaluate the configuration for, passed to C(sshd -T -C) so that C(Match)
        blocks are applied.
      - Values may not contain commas or whitespace.
    type: dict
    suboptions:
      user:
        description:
          - Account name that logs in.
        type: str
        required: true
      host:
        description:
          - Host name the connection comes from.
          - Defaults to O(connection.addr).
        type: str
      addr:
        description:
          - IP address the connection comes from.
        type: str
        default: 127.0.0.1
      laddr:
        description:
          - Local address the connection arrives on.
        type: str
      lport:
        description:
          - Local port the connection arrives on.
        type: int
  check_access:
    description:
      - Whether to decide if O(connection.user) may log in over O(connection), returned as RV(access).
      - Defaults to V(true) when O(connection) is given and to V(false) otherwise; V(true) without
        O(connection) is an error.
    type: bool
notes:
  - C(sshd -T) needs the privilege separation directory C(/run/sshd) on Debian. When it is missing
    the module creates it (mode C(0755), as C(sshd.service) would); in check mode it does not, and
    a failing C(sshd -T) then says so.
  - The access decision mirrors C(sshd)'s own checks but cannot see PAM, C(StrictModes) permission
    checks, C(AuthenticationMethods) chains or whether a client holds the private key. When
    C(AuthorizedKeysCommand) is set, keys are assumed to come from it.
seealso:
  - module: bulwark.hardening.ssh_moduli
  - plugin: bulwark.hardening.ssh_algorithms
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Validate the configuration and read it back
  bulwark.hardening.sshd_effective_config:
  register: _sshd

- name: Show the effective ciphers
  ansible.builtin.debug:
    msg: "{{ _sshd.settings.ciphers }} on {{ _sshd.version }} ({{ _sshd.version_number }})"

- name: Make sure the operator can still log in with the candidate configuration
  bulwark.hardening.sshd_effective_config:
    config: /etc/ssh/sshd_config.candidate
    connection:
      user: deploy
      addr: 192.0.2.10
  register: _sshd_candidate

- name: Refuse to go on if the operator would be locked out
  ansible.builtin.assert:
    that: _sshd_candidate.access.allowed
    fail_msg: "{{ _sshd_candidate.access.reasons | join('; ') }}"
"""

RETURN = r"""
ansible_facts:
  description: The same effective configuration as RV(settings), as a host fact.
  returned: success
  type: dict
  contains:
    sshd_effective_config:
      description: RV(settings), available to later tasks as C(ansible_facts['sshd_effective_config']).
      type: dict
      returned: success
settings:
  description:
    - The effective configuration, keyed by lower-case option name.
    - Options that can repeat (C(acceptenv), C(allowgroups), C(allowusers), C(authorizedkeysfile),
      C(denygroups), C(denyusers), C(hostcertificate), C(hostkey), C(include), C(listenaddress),
      C(permitlisten), C(permitopen), C(port), C(setenv), C(subsystem)) are lists; word lists such as
      C(authorizedkeysfile) are split on whitespace. Every other value is a string.
    - A list option is absent when C(sshd -T) printed no line for it.
  returned: success
  type: dict
  sample:
    port: ["22"]
    permitrootlogin: "no"
    passwordauthentication: "no"
    authorizedkeysfile: [".ssh/authorized_keys", ".ssh/authorized_keys2"]
    hostkey: ["/etc/ssh/ssh_host_ed25519_key"]
    ciphers: "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com"
version:
  description:
    - The first token of the OpenSSH version line printed by C(sshd -V) (or C(ssh -V) when C(sshd)
      prints none). Debian 12's C(sshd -V) prints V(OpenSSH_9.2) while its C(ssh -V) prints
      V(OpenSSH_9.2p1); both feed P(bulwark.hardening.ssh_algorithms#filter).
    - V(null) when no version could be read.
  returned: success
  type: str
  sample: OpenSSH_9.2
version_number:
  description:
    - Major and minor version parsed from RV(version); V(null) when it could not be parsed.
  returned: success
  type: str
  sample: "9.2"
access:
  description:
    - Whether O(connection.user) may log in over O(connection) with this configuration.
  returned: when O(check_access) is true
  type: dict
  contains:
    user:
      description: The account that was checked.
      type: str
      sample: deploy
    allowed:
      description: V(true) when no rule refuses the account.
      type: bool
      sample: false
    reasons:
      description:
        - Every rule that refuses the account, each naming the account and the setting; empty when
          RV(access.allowed) is true.
      type: list
      elements: str
      sample:
        - "account 'deploy' is not matched by AllowUsers (alice bob)"
command:
  description: The C(sshd -T) command that was run.
  returned: success
  type: list
  elements: str
  sample: ["/usr/sbin/sshd", "-T", "-f", "/etc/ssh/sshd_config"]
"""

# Imports follow the documentation blocks, as in every Ansible module (hence the E402 waivers).
import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._ssh import (
    authorized_keys_paths,
    check_access,
    count_authorized_keys,
    find_openssh_version,
    parse_openssh_version,
    parse_sshd_config_dump,
)

PRIVSEP_DIR = "/run/sshd"


def connection_spec(connection):
    """The ``-C`` argument of ``sshd -T`` for a connection dict (None when not given)."""
    if not connection:
        return None
    addr = connection.get("addr") or "127.0.0.1"
    pairs = [
        ("user", connection["user"]),
        ("host", connection.get("host") or addr),
        ("addr", addr),
    ]
    if connection.get("laddr"):
        pairs.append(("laddr", connection["laddr"]))
    if connection.get("lport") is not None:
        pairs.append(("lport", str(connection["lport"])))
    for key, value in pairs:
        if not value or "," in value or any(char.isspace() for char in value):
            raise ValueError(f"connection {key} {value!r} must be non-empty without commas or whitespace")
    return ",".join(f"{key}={value}" for key, value in pairs)


def lookup_account(name):
    """Account facts for check_access(), read with pwd/grp on the target."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"name": name, "exists": False}
    gids = [entry.pw_gid]
    try:
        gids.extend(gid for gid in os.getgrouplist(name, entry.pw_gid) if gid not in gids)
    except OSError:
        pass
    groups = []
    for gid in gids:
        try:
            groups.append(grp.getgrgid(gid).gr_name)
        except KeyError:
            groups.append(str(gid))
    shell = entry.pw_shell or "/bin/sh"
    return {
        "name": name,
        "exists": True,
        "uid": entry.pw_uid,
        "home": entry.pw_dir,
        "groups": groups,
        "shell": shell,
        "shell_ok": os.path.isfile(shell) and os.access(shell, os.X_OK),
    }


def read_key_counts(paths):
    """Number of keys in each readable authorized_keys file among ``paths``."""
    counts = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                counts[path] = count_authorized_keys(handle.read())
        except OSError:
            counts[path] = 0
    return counts


def read_version(module, sshd):
    """The ``OpenSSH_X.YpZ`` token from ``sshd -V`` (or ``ssh -V``), or None."""
    _rc, out, err = module.run_command([sshd, "-V"])
    token = find_openssh_version(err) or find_openssh_version(out)
    if token is None:
        ssh = module.get_bin_path("ssh")
        if ssh:
            _rc, out, err = module.run_command([ssh, "-V"])
            token = find_openssh_version(err) or find_openssh_version(out)
    return token


def run_sshd_test(module, sshd, config, content, spec):
    """Run ``sshd -T`` on CONFIG, or on CONTENT written to a private temporary file."""
    if content is not None:
        fd, config = tempfile.mkstemp(prefix="bulwark-sshd_config.", dir=module.tmpdir)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
    command = [sshd, "-T", "-f", config]
    if spec:
        command.extend(["-C", spec])
    try:
        rc, out, err = module.run_command(command)
    finally:
        if content is not None:
            os.unlink(config)
    return command, rc, out, err


def main():
    module = AnsibleModule(
        argument_spec={
            "config": {"type": "path", "default": "/etc/ssh/sshd_config"},
            "content": {"type": "str"},
            "sshd": {"type": "path", "default": "/usr/sbin/sshd"},
            "connection": {
                "type": "dict",
                "options": {
                    "user": {"type": "str", "required": True},
                    "host": {"type": "str"},
                    "addr": {"type": "str", "default": "127.0.0.1"},
                    "laddr": {"type": "str"},
                    "lport": {"type": "int"},
                },
            },
            "check_access": {"type": "bool"},
        },
        supports_check_mode=True,
    )
    config = module.params["config"]
    sshd = module.params["sshd"]
    connection = module.params["connection"]
    want_access = module.params["check_access"]
    if want_access is None:
        want_access = connection is not None
    if want_access and connection is None:
        module.fail_json(msg="check_access=true needs connection (at least connection.user)")

    try:
        spec = connection_spec(connection)
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    if not os.path.exists(sshd):
        module.fail_json(msg=f"sshd binary {sshd} does not exist")

    privsep_missing = not os.path.isdir(PRIVSEP_DIR)
    if privsep_missing and not module.check_mode:
        try:
            os.makedirs(PRIVSEP_DIR, mode=0o755)
            os.chmod(PRIVSEP_DIR, 0o755)
        except OSError as exc:
            module.fail_json(msg=f"cannot create privilege separation directory {PRIVSEP_DIR}: {exc}")
        privsep_missing = False

    command, rc, out, err = run_sshd_test(module, sshd, config, module.params["content"], spec)
    if module.params["content"] is not None:
        config = "the candidate configuration"
    if rc != 0:
        why = (err or out).strip() or f"exit code {rc}"
        msg = f"sshd -T rejected {config}: {why}"
        if privsep_missing:
            msg += f" (privilege separation directory {PRIVSEP_DIR} is missing; it is not created in check mode)"
        module.fail_json(msg=msg, rc=rc, stdout=out, stderr=err, command=command)

    settings = parse_sshd_config_dump(out)
    version = read_version(module, sshd)
    parsed = parse_openssh_version(version) if version else None
    result = {
        "changed": False,
        "settings": settings,
        "version": version,
        "version_number": f"{parsed[0]}.{parsed[1]}" if parsed else None,
        "command": command,
        "ansible_facts": {"sshd_effective_config": settings},
    }

    if want_access:
        account = lookup_account(connection["user"])
        key_counts = {}
        if account["exists"]:
            try:
                paths = authorized_keys_paths(settings, account["name"], account["home"], account["uid"])
            except ValueError:
                paths = []  # check_access() reports the bad AuthorizedKeysFile
            key_counts = read_key_counts(paths)
        addr = connection.get("addr") or "127.0.0.1"
        result["access"] = check_access(
            settings,
            account,
            connection.get("host") or addr,
            addr,
            key_counts,
        )

    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_file
short_description: Write a configuration file that its daemon validated, with the host's rollback armed first
description:
  - Writes O(content) to O(dest) when the file differs (content, owner, group or mode), in one call.
  - The new file is written next to O(dest), checked with O(validate) (the daemon's own test, e.g.
    C(/usr/sbin/sshd -t -f %s)) and only then moved over the old one, atomically. A file the daemon refuses
    never replaces the old one.
  - With O(rollback), a change that can cut the operator off is commit-confirmed - after the validation and
    before the new file goes live, the old file is saved and a timer armed on the host that puts it back and
    runs O(rollback.actions) when O(rollback.window) ends, unless a fresh login confirmed the change first (see
    M(bulwark.hardening.rollback)).
  - A symlink at O(dest) is followed; its target is written.
version_added: 0.2.0
extends_documentation_fragment:
  - bulwark.hardening.module
  - bulwark.hardening.rollback
attributes:
  platform:
    platforms: posix
options:
  dest:
    description: The file to write.
    type: path
    required: true
  content:
    description: The whole content of the file.
    type: str
    required: true
  owner:
    description: Owner of the file.
    type: str
    default: root
  group:
    description: Group of the file.
    type: str
    default: root
  mode:
    description: Mode of the file, as an octal string.
    type: str
    default: "0644"
  validate:
    description: A command that checks the new file before it replaces the old one; C(%s) is the new file's path.
    type: str
  backup:
    description: Keep a timestamped copy of the old file next to it.
    type: bool
    default: false
seealso:
  - module: bulwark.hardening.rollback
"""

EXAMPLES = r"""
- name: Install the hardened sshd_config, commit-confirmed
  bulwark.hardening.config_file:
    dest: /etc/ssh/sshd_config
    content: "{{ lookup('ansible.builtin.template', 'sshd_config.j2') }}"
    validate: /usr/sbin/sshd -t -f %s
    backup: true
    rollback:
      what: sshd configuration
      actions: ["systemctl reload ssh.service"]
"""

RETURN = r"""
backup_file:
  description: The copy of the old file.
  returned: when a backup was made
  type: str
rollback:
  description: What is armed on the host after the call (also the fact C(bulwark_rollback)).
  returned: when the change was made with O(rollback)
  type: dict
"""

import grp
import os
import pwd
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import ROLLBACK_SPEC, arm_option


def read_current(path):
    """``(text or None, stat or None)`` of the file at ``path`` (symlinks followed)."""
    text = read_text(path, None, FileNotFoundError, "surrogateescape")
    return (None, None) if text is None else (text, os.stat(path))


def wanted_ids(module, owner, group):
    try:
        uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError as exc:
        module.fail_json(msg=f"unknown owner or group: {exc}")
    return uid, gid


def differences(text, info, content, ids, mode):
    """What differs between the file and the wanted one (empty when nothing does)."""
    if info is None:
        return ["missing"]
    found = []
    if text != content:
        found.append("content")
    if (info.st_uid, info.st_gid) != ids:
        found.append("owner")
    if info.st_mode & 0o7777 != mode:
        found.append("mode")
    return found


def main():
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path", "required": True},
            "content": {"type": "str", "required": True},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "mode": {"type": "str", "default": "0644"},
            "validate": {"type": "str"},
            "backup": {"type": "bool", "default": False},
            "rollback": ROLLBACK_SPEC,
        },
        supports_check_mode=True,
    )
    params = module.params
    dest = os.path.realpath(params["dest"])
    try:
        mode = int(params["mode"], 8)
    except ValueError:
        module.fail_json(msg=f"mode must be an octal string such as 0644, got {params['mode']!r}")
    content = params["content"]
    text, info = read_current(dest)
    uid, gid = wanted_ids(module, params["owner"], params["group"])
    changes = differences(text, info, content, (uid, gid), mode)
    result = {"changed": bool(changes), "dest": dest, "changes": changes}
    if module._diff and ("content" in changes or "missing" in changes):
        result["diff"] = {"before": text or "", "after": content, "before_header": dest, "after_header": dest}
    if not changes or module.check_mode:
        module.exit_json(**result)

    directory = os.path.dirname(dest)
    if not os.path.isdir(directory):
        module.fail_json(msg=f"the directory of {dest} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(content)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        if params["validate"]:
            if "%s" not in params["validate"]:
                module.fail_json(msg=f"validate must contain %s, got {params['validate']!r}")
            argv = [tmp if word == "%s" else word.replace("%s", tmp) for word in shlex.split(params["validate"])]
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(
                    msg=f"{argv[0]} refused the new {dest}, which was not installed: {(err or out).strip()}",
                    rc=rc,
                    stdout=out,
                    stderr=err,
                    cmd=argv,
                )
        if info is not None and params["backup"]:
            result["backup_file"] = module.backup_local(dest)
        arm_option(module, params["rollback"], [dest], dest, result)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

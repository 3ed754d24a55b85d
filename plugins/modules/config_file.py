#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_file
short_description: Write a configuration file that its daemon validated, with the host's rollback armed first
description:
  - Writes O(content) to O(dest) when the file differs (content, owner, group or mode), in one call; with
    O(state=absent) removes O(dest).
  - The new file is written next to O(dest), checked with O(validate) (the daemon's own test, e.g.
    C(/usr/sbin/sshd -t -f %s)) and only then moved over the old one, atomically. A file the daemon refuses
    never replaces the old one.
  - With O(rollback), a change that can cut the operator off is commit-confirmed - after the validation and
    before the new file goes live, the old file is saved and a timer armed on the host that puts it back and
    runs O(rollback.actions) when O(rollback.window) ends, unless a fresh login confirmed the change first (see
    M(bulwark.hardening.rollback)).
  - With O(files) instead of O(dest), writes several files in one call (the files that together make one
    setting, such as a helper, its data and the hook that runs it); the result says which of them changed.
    Every file's directory is checked before the first one is written.
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
    description:
      - The file to write (or remove). Required unless O(files) is given; not with O(files).
    type: path
  content:
    description:
      - The whole content of the file. With O(dest) and O(state=present), O(content) or O(data) is required; not
        used with O(state=absent).
    type: str
  data:
    description:
      - Instead of O(content) - data written as JSON, indented by 4 with sorted keys and a final newline (the
        layout of C(to_nice_json)). ansible-core before 2.19 turns a templated text that looks like JSON into data;
        data given as data stays exactly as written.
    type: raw
    version_added: 0.3.0
  state:
    description:
      - V(present) writes O(dest); V(absent) removes it (a missing O(dest) is already absent).
      - O(content), O(validate) and O(backup) are for the file written; V(absent) does not use them. It
        refuses O(rollback).
    type: str
    choices: [present, absent]
    default: present
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
  parents:
    description:
      - Create the missing directories above each file written (owner root, group root, mode 0755), as
        C(mkdir -p) does. Without it, a missing directory fails the call before any file is written.
    type: bool
    default: false
    version_added: 0.3.0
  files:
    description:
      - Several files to write or remove in one call, each with its own O(files[].dest), O(files[].state),
        O(files[].content), O(files[].owner), O(files[].group) and O(files[].mode); in the order given.
      - Not with O(dest), O(content), O(data), O(state), O(owner), O(group), O(mode), O(validate), O(backup) or
        O(rollback) - those stay single-file options.
    type: list
    elements: dict
    version_added: 0.3.0
    suboptions:
      dest:
        description: The file to write.
        type: path
        required: true
      state:
        description: V(present) writes the file; V(absent) removes it, as O(state) does.
        type: str
        choices: [present, absent]
        default: present
      content:
        description: The whole content of the file. With V(present), O(files[].content) or O(files[].data) is required.
        type: str
      data:
        description: Instead of O(files[].content) - data written as JSON, as O(data) is.
        type: raw
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
      control:
        description:
          - The drift control (its ID in the catalogue) this file belongs to, for a task that writes the files of
            several controls in one call (its C(bulwark_control) var lists them). The result's RV(files) carries it,
            and the drift report judges each control by its own files.
        type: str
        version_added: 0.4.0
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

- name: Write the needrestart settings, or remove them when needrestart is not wanted
  bulwark.hardening.config_file:
    dest: /etc/needrestart/conf.d/local.conf
    state: "{{ 'present' if needrestart_wanted else 'absent' }}"
    content: "$nrconf{restart} = 'l';\n"
    validate: perl -c %s

- name: Install a helper, its data and the APT hook that runs it
  bulwark.hardening.config_file:
    files:
      - dest: /usr/local/sbin/helper
        content: "{{ lookup('ansible.builtin.file', 'helper.py', rstrip=false) }}"
        mode: "0755"
      - dest: /etc/helper.json
        content: "{{ helper_data | to_nice_json }}"
      - dest: /etc/apt/apt.conf.d/80helper
        content: "{{ lookup('ansible.builtin.template', 'apt-hook.j2') }}"
"""

RETURN = r"""
dest:
  description: The file written or removed (a symlink's target).
  returned: with O(dest)
  type: str
changes:
  description:
    - What differed - V(missing), V(content), V(owner), V(mode); V(present) for a file that O(state=absent)
      removes. Empty when nothing did.
  returned: with O(dest)
  type: list
  elements: str
files:
  description:
    - Each file of O(files), in the order given, with its RV(dest), RV(changes) and C(changed), and its
      C(control) where O(files[].control) names one.
  returned: with O(files)
  type: list
  elements: dict
  sample: [{dest: /usr/local/sbin/helper, changed: false, changes: []},
           {dest: /etc/helper.json, changed: true, changes: [content], control: HELPER-DATA}]
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
import json
import os
import pwd
import shlex
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import ROLLBACK_SPEC, arm_option

# Options of the one file O(dest) that O(files) refuses.
SINGLE_FILE_OPTIONS = ("dest", "content", "data", "state", "owner", "group", "mode", "validate", "backup", "rollback")


def read_current(path):
    """``(text or None, stat or None)`` of the file at ``path`` (symlinks followed)."""
    text = read_text(path, None, FileNotFoundError, "surrogateescape")
    return (None, None) if text is None else (text, os.stat(path))


def wanted_ids(module, owner, group, where=""):
    try:
        uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError as exc:
        module.fail_json(msg=f"{where}unknown owner or group: {exc}")
    return uid, gid


def parse_mode(value):
    """The octal string ``value`` as a number; ValueError names it."""
    try:
        return int(value, 8)
    except ValueError:
        raise ValueError(f"mode must be an octal string such as 0644, got {value!r}") from None


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


def json_text(data):
    """``data`` as JSON text, laid out as ansible's to_nice_json lays it out, with a final newline."""
    return json.dumps(data, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def single_form_errors(params):
    """What the single-file form (O(dest)) refuses, each naming the option."""
    if params["state"] == "present" and params["content"] is None and params["data"] is None:
        return ["content or data is required with dest and state=present"]
    if params["state"] == "absent" and params["rollback"]:
        return ["rollback is not supported with state=absent"]
    return []


def entry_errors(entries):
    """What the files form refuses in its entries, each naming the entry."""
    return [
        f"files[{index}]: content or data is required with state=present"
        for index, entry in enumerate(entries)
        if entry["state"] == "present" and entry["content"] is None and entry["data"] is None
    ]


def make_parents(directory):
    """Create ``directory`` and the missing ones above it: root-owned, mode 0755 whatever the umask."""
    missing = []
    while directory and not os.path.isdir(directory):
        missing.append(directory)
        directory = os.path.dirname(directory)
    for path in reversed(missing):
        os.mkdir(path)
        if os.geteuid() == 0:
            os.chown(path, 0, 0)
        os.chmod(path, 0o755)


def duplicate_errors(dests):
    """``files[i]: D is also files[j]`` for each file listed twice (after symlinks are followed)."""
    seen, errors = {}, []
    for index, dest in enumerate(dests):
        if dest in seen:
            errors.append(f"files[{index}]: {dest} is also files[{seen[dest]}]")
        seen.setdefault(dest, index)
    return errors


def plan_file(module, entry, state, where):
    """The file as it is, as it should be, and what differs: a dict the rest of the call acts on."""
    if state == "absent":
        # The link itself, not its target, as ansible.builtin.file removes it.
        dest = os.path.abspath(entry["dest"])
        if os.path.isdir(dest) and not os.path.islink(dest):
            module.fail_json(msg=f"{where}{dest} is a directory; state=absent removes a file")
        present = os.path.lexists(dest)
        text = read_text(dest, None, OSError, "surrogateescape") if present else None
        changes = ["present"] if present else []
        return {"dest": dest, "state": state, "before": text, "after": None, "changes": changes, "where": where}
    dest = os.path.realpath(entry["dest"])
    text, info = read_current(dest)
    item = {"dest": dest, "state": state, "before": text, "exists": info is not None, "where": where}
    try:
        mode = parse_mode(entry["mode"])
    except ValueError as exc:
        module.fail_json(msg=f"{where}{exc}")
    ids = wanted_ids(module, entry["owner"], entry["group"], where)
    content = entry["content"] if entry["data"] is None else json_text(entry["data"])
    item.update(after=content, ids=ids, mode=mode, changes=differences(text, info, content, ids, mode))
    return item


def diff_of(item):
    return {
        "before": item["before"] or "",
        "after": item["after"] or "",
        "before_header": item["dest"],
        "after_header": item["dest"],
    }


def write(module, item, params, result):
    """Write one planned file: a temporary file beside it, validated, then moved over it."""
    dest = item["dest"]
    directory = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(item["after"])
        os.chown(tmp, *item["ids"])
        os.chmod(tmp, item["mode"])
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
        if item["exists"] and params["backup"]:
            result["backup_file"] = module.backup_local(dest)
        arm_option(module, params["rollback"], [dest], dest, result)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path"},
            "content": {"type": "str"},
            "data": {"type": "raw"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "default": "root"},
            "mode": {"type": "str", "default": "0644"},
            "validate": {"type": "str"},
            "backup": {"type": "bool", "default": False},
            "parents": {"type": "bool", "default": False},
            "rollback": ROLLBACK_SPEC,
            "files": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "dest": {"type": "path", "required": True},
                    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
                    "content": {"type": "str"},
                    "data": {"type": "raw"},
                    "owner": {"type": "str", "default": "root"},
                    "group": {"type": "str", "default": "root"},
                    "mode": {"type": "str", "default": "0644"},
                    "control": {"type": "str"},
                },
                "mutually_exclusive": [["content", "data"]],
            },
        },
        required_one_of=[["dest", "files"]],
        # validate, backup and rollback act on one file; with files, each file has its own owner, group, mode.
        mutually_exclusive=[["content", "data"]] + [["files", option] for option in SINGLE_FILE_OPTIONS],
        supports_check_mode=True,
    )
    params = module.params
    if params["files"] is None:
        errors = single_form_errors(params)
        if errors:
            module.fail_json(msg="; ".join(errors))
        items = [plan_file(module, params, params["state"], "")]
    else:
        errors = entry_errors(params["files"])
        if errors:
            module.fail_json(msg="; ".join(errors))
        items = [
            plan_file(module, entry, entry["state"], f"files[{index}]: ") for index, entry in enumerate(params["files"])
        ]
        errors = duplicate_errors([item["dest"] for item in items])
        if errors:
            module.fail_json(msg="; ".join(errors))

    changed = [item for item in items if item["changes"]]
    diffs = [diff_of(item) for item in changed if set(item["changes"]) & {"missing", "content", "present"}]
    if params["files"] is None:
        result = {"changed": bool(changed), "dest": items[0]["dest"], "changes": items[0]["changes"]}
        if module._diff and diffs:
            result["diff"] = diffs[0]
    else:
        result = {
            "changed": bool(changed),
            "files": [
                {"dest": item["dest"], "changed": bool(item["changes"]), "changes": item["changes"]}
                | ({"control": entry["control"]} if entry.get("control") else {})
                for item, entry in zip(items, params["files"])
            ],
        }
        if module._diff and diffs:
            result["diff"] = diffs
    if not changed or module.check_mode:
        module.exit_json(**result)

    # Every directory first: a call that cannot write its last file writes none.
    for item in changed:
        directory = os.path.dirname(item["dest"])
        if item["state"] == "present" and not os.path.isdir(directory):
            if not params["parents"]:
                module.fail_json(
                    msg=f"{item['where']}the directory of {item['dest']} does not exist (parents=true creates it)"
                )
            make_parents(directory)
    for item in changed:
        if item["state"] == "absent":
            os.unlink(item["dest"])
        else:
            write(module, item, params, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: file_modes
short_description: Owner, group and most permissive mode of several existing files, in one call
description:
  - For each file in O(files), sets its owner and group and removes every permission bit that O(files[].mode)
    does not allow. A file that is already stricter stays as it is (CIS asks for "0640 or more restrictive").
  - A file that does not exist is left alone and named in RV(absent); the module never creates one.
  - A symlink is not followed; its target is judged where it is listed itself.
  - A path with C(*), C(?) or C([) in its last component is a pattern (Python's glob, hidden names left out) -
    every file or symlink it matches, in name order, never a directory (a file's mode would take a directory's
    search bit away). A pattern that matches nothing is not RV(absent).
version_added: 0.4.0
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  platform:
    platforms: posix
options:
  files:
    description: The files, in the order given.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the file, or a pattern in its last component (C(/etc/apt/sources.list.d/*)).
        type: path
        required: true
      owner:
        description: Owner the file must have.
        type: str
        default: root
      group:
        description: Group the file must have; the first of several that are acceptable, see O(files[].groups).
        type: str
        default: root
      groups:
        description: Further groups that are just as acceptable as O(files[].group) (a file in one of them keeps it).
        type: list
        elements: str
        default: []
      mode:
        description: The most permissive mode allowed, as an octal string; bits beyond it are removed.
        type: str
        required: true
"""

EXAMPLES = r"""
- name: The account files, as CIS Debian 12 section 7.1 wants them
  bulwark.hardening.file_modes:
    files:
      - {path: /etc/passwd, mode: "0644"}
      - {path: /etc/shadow, group: shadow, groups: [root], mode: "0640"}
      - {path: /etc/apt/sources.list.d/*, mode: "0644"}
"""

RETURN = r"""
changed_files:
  description: The files whose owner, group or mode changed (or would change in check mode).
  returned: success
  type: list
  elements: str
  sample: [/etc/shadow]
absent:
  description: Listed files that do not exist on the host.
  returned: success
  type: list
  elements: str
  sample: [/etc/security/opasswd]
"""

import glob
import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import describe_owner_mode


def parse_mode(value):
    """An octal mode string ("0640", "640") as an int; ValueError names the value."""
    text = str(value).strip()
    if not text or any(char not in "01234567" for char in text) or int(text, 8) > 0o7777:
        raise ValueError(f"mode {value!r} is not an octal mode such as '0640'")
    return int(text, 8)


def planned(info, want_uid, want_gids, max_mode):
    """What changes for one file (*info*: its lstat): (new mode, new uid, new gid), each None when it stays."""
    mode, uid, gid = stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid
    # A symlink's own mode means nothing (Linux has no lchmod): its owner only.
    new_mode = mode if stat.S_ISLNK(info.st_mode) else mode & max_mode
    return (
        new_mode if new_mode != mode else None,
        want_uid if uid != want_uid else None,
        want_gids[0] if gid not in want_gids else None,
    )


def is_pattern(path):
    """Whether the last component of *path* holds a glob character."""
    return any(char in os.path.basename(path) for char in "*?[")


def matches(path):
    """``[(path, lstat)]``: *path* itself (``[]`` when it does not exist), or the files and symlinks its
    pattern matches, in name order."""
    if not is_pattern(path):
        try:
            return [(path, os.lstat(path))]
        except FileNotFoundError:
            return []
    found = []
    for match in sorted(glob.glob(path)):
        try:
            info = os.lstat(match)
        except FileNotFoundError:
            continue  # gone since the listing
        if not stat.S_ISDIR(info.st_mode):
            found.append((match, info))
    return found


def ids(module, entry):
    try:
        uid = pwd.getpwnam(entry["owner"]).pw_uid
    except KeyError:
        module.fail_json(msg=f"file_modes: {entry['path']}: no user {entry['owner']!r} on this host")
    gids = []
    for name in [entry["group"], *entry["groups"]]:
        try:
            gids.append(grp.getgrnam(name).gr_gid)
        except KeyError:
            if name == entry["group"]:
                module.fail_json(msg=f"file_modes: {entry['path']}: no group {name!r} on this host")
    return uid, gids


def main():
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "path": {"type": "path", "required": True},
                    "owner": {"type": "str", "default": "root"},
                    "group": {"type": "str", "default": "root"},
                    "groups": {"type": "list", "elements": "str", "default": []},
                    "mode": {"type": "str", "required": True},
                },
            }
        },
        supports_check_mode=True,
    )
    plans, absent, seen = [], [], set()
    for entry in module.params["files"]:
        if not os.path.isabs(entry["path"]):
            module.fail_json(msg=f"file_modes: {entry['path']!r} is not an absolute path")
        try:
            max_mode = parse_mode(entry["mode"])
        except ValueError as exc:
            module.fail_json(msg=f"file_modes: {entry['path']}: {exc}")
        if is_pattern(os.path.dirname(entry["path"])):
            module.fail_json(msg=f"file_modes: {entry['path']}: only the last component may be a pattern")
        uid, gids = ids(module, entry)
        found = matches(entry["path"])
        if not found and not is_pattern(entry["path"]):
            absent.append(entry["path"])
        # A file that an earlier entry listed (a pattern and a path that both reach it) is that entry's.
        for path, info in found:
            if path in seen:
                continue
            seen.add(path)
            change = planned(info, uid, gids, max_mode)
            if any(value is not None for value in change):
                plans.append((path, info, change))

    before, after = [], []
    for path, info, (mode, uid, gid) in plans:
        new = (
            stat.S_IMODE(info.st_mode) if mode is None else mode,
            info.st_uid if uid is None else uid,
            info.st_gid if gid is None else gid,
        )
        before.append(describe_owner_mode(path, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid))
        after.append(describe_owner_mode(path, *new))
        if module.check_mode:
            continue
        try:
            # Owner first: chown clears the set-ID bits a mode change would otherwise keep.
            if uid is not None or gid is not None:
                os.lchown(path, new[1], new[2])
            if not stat.S_ISLNK(info.st_mode):
                os.chmod(path, new[0])
        except OSError as exc:
            module.fail_json(msg=f"file_modes: {path}: {exc.strerror}", changed_files=[plan[0] for plan in plans])
    result = {"changed": bool(plans), "changed_files": [plan[0] for plan in plans], "absent": absent}
    if module._diff and plans:
        result["diff"] = {"before": "\n".join(before) + "\n", "after": "\n".join(after) + "\n"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

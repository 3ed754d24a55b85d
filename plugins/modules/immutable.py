# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: immutable
short_description: Lock or unlock a file or a whole tree with the immutable (or append-only) flag
version_added: 0.2.0
description:
  - Sets (O(state=locked)) or clears (O(state=unlocked)) the immutable flag (C(chattr +i)) or the
    append-only flag (C(chattr +a)) on O(path) and, with O(recurse), on every directory and regular
    file below it, in one process through the C(FS_IOC_GETFLAGS)/C(FS_IOC_SETFLAGS) ioctls.
  - Every other inode flag (ext4's C(e), C(A), ...) is kept.
  - Symlinks, FIFOs, sockets and device nodes below O(path) are skipped, never followed or opened.
  - Optionally brings owner, group and modes to the declared values in the same pass; an entry that
    is locked is unlocked for the change and locked again.
  - A file system mounted below a directory it locks (a bind mount over one of its files) hides the
    tree's own entry; the module refuses to lock then, naming the mount (RV(mounts)).
  - A locked run leaves O(exclude) mutable, with everything below them; the flag is cleared on each
    excluded entry and nothing below it is looked at.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Counts what would change and changes nothing.
  diff_mode:
    details: The diff lists a bounded sample of the paths that change, one per line, with their state.
  platform:
    platforms: posix
options:
  path:
    description:
      - The file or directory to lock or unlock.
    type: path
    required: true
  state:
    description:
      - V(locked) sets the flag, V(unlocked) clears it.
      - An absent O(path) is already unlocked. Locking an absent O(path) fails; in check mode it is
        reported as a change with a warning, so a check run on a fresh host does not stop.
    type: str
    choices: [locked, unlocked]
    default: locked
  recurse:
    description:
      - Also lock or unlock every directory and regular file below O(path).
    type: bool
    default: true
  exclude:
    description:
      - Paths or shell-style globs that stay mutable, with everything below them.
      - Absolute, or relative to O(path); an entry outside O(path), or O(path) itself, is an error.
      - Globs match the path relative to O(path) (for example V(log), V(cache/*), V(*.tmp)); C(*)
        also matches C(/).
    type: list
    elements: str
    default: []
  follow:
    description:
      - When O(path) itself is a symlink, lock its target. Without it a symlink O(path) is an error.
      - Symlinks below O(path) are never followed.
    type: bool
    default: false
  flag:
    description:
      - The flag that O(state) sets or clears; the other one is left as it is.
    type: str
    choices: [immutable, append]
    default: immutable
  owner:
    description:
      - Owner (name or number) of every entry that is not excluded. Left alone when omitted.
    type: str
  group:
    description:
      - Group (name or number) of every entry that is not excluded. Left alone when omitted.
    type: str
  mode:
    description:
      - Mode of regular files (octal string, for example V('0440')). Left alone when omitted.
    type: raw
  dir_mode:
    description:
      - Mode of directories (octal string, for example V('0550')). Left alone when omitted.
    type: raw
  exec_mode:
    description:
      - Mode of the files that O(executables) matches (octal string, for example V('0550')).
    type: raw
  executables:
    description:
      - Globs, relative to O(path), of the files that get O(exec_mode) instead of O(mode).
    type: list
    elements: str
    default: []
notes:
  - Needs root with the C(CAP_LINUX_IMMUTABLE) capability to change the flags. The error names the
    path when the capability is missing (EPERM) or the file system has no such flags (EOPNOTSUPP).
  - A failure midway stops the walk; the error reports how many entries were already changed
    (RV(changed_paths)) and an entry unlocked for a chown/chmod is locked again.
seealso:
  - name: chattr(1)
    description: The command line tool for the same flags.
    link: https://man7.org/linux/man-pages/man1/chattr.1.html
"""

EXAMPLES = r"""
- name: Lock a web application, except the directories it writes to
  bulwark.hardening.immutable:
    path: /var/www/app
    exclude: [log, imports, temp, upload]
    owner: www-data
    group: www-data
    mode: "0440"
    dir_mode: "0550"

- name: Lock sshd's configuration file
  bulwark.hardening.immutable:
    path: /etc/ssh/sshd_config
    recurse: false

- name: Unlock the application for an update
  bulwark.hardening.immutable:
    path: /var/www/app
    state: unlocked

- name: Make a log file append-only
  bulwark.hardening.immutable:
    path: /var/log/app/audit.log
    flag: append
"""

RETURN = r"""
changed_paths:
  description: Number of entries locked, unlocked and given a new owner, group or mode (or that would be).
  returned: always
  type: dict
  sample: {locked: 1, unlocked: 0, attributes: 0}
paths:
  description: The first 20 paths of each kind in RV(changed_paths).
  returned: always
  type: dict
  sample: {locked: [/var/www/app/index.php], unlocked: [], attributes: []}
seen:
  description: Number of directories and regular files looked at.
  returned: success
  type: int
  sample: 1042
passed_over:
  description: Number of symlinks, FIFOs, sockets and device nodes passed over.
  returned: success
  type: int
  sample: 3
root:
  description: The path walked (the target of O(path) with O(follow)).
  returned: always
  type: str
  sample: /var/www/app
exists:
  description: Whether O(path) exists.
  returned: success
  type: bool
  sample: true
mounts:
  description:
    - Mount points strictly below a directory O(path) that O(state=locked) locks (none in O(exclude)). A mount there
      hides the tree's own entry; check mode reports it as a change, a real run fails naming it and changes nothing.
  returned: when O(path) exists
  type: list
  elements: str
  sample: [/var/www/app/index.php]
"""

# Imports follow the documentation blocks, as in every Ansible module.
import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._immutable import (
    FLAGS,
    ImmutableError,
    Plan,
    compile_patterns,
    mounts_below,
    parse_mode,
    parse_mountinfo,
    relative_patterns,
    run,
)

MOUNTINFO = "/proc/self/mountinfo"


def mounts_over(path, plan, locking):
    """Mount points below the directory ``path`` that a locking walk covers (see mounts_below).

    A file system mounted over part of a locked tree (a bind mount over one of its files) hides the
    tree's own entry from every reader: a locked run refuses, naming it (it never unmounts).
    """
    if not locking or not os.path.isdir(path):
        return []
    try:
        with open(MOUNTINFO, encoding="utf-8", errors="replace") as handle:
            return mounts_below(path, parse_mountinfo(handle.read()), plan.exclude)
    except OSError:
        return []


def resolve_id(value, name, lookup):
    """A user or group name (or number) as a numeric id; -1 when omitted; ValueError names it."""
    if value is None or value == "":
        return -1
    if value.isdigit():
        return int(value)
    try:
        return lookup(value)
    except KeyError:
        raise ValueError(f"{name} {value!r} does not exist on this host") from None


def diff_text(samples, counts):
    """Before/after lines for the sample paths: their flag state and attributes."""
    before, after = [], []
    for kind in ("locked", "unlocked"):
        for path in samples[kind]:
            before.append(f"{path}: {'unlocked' if kind == 'locked' else 'locked'}\n")
            after.append(f"{path}: {kind}\n")
    for path in samples["attributes"]:
        before.append(f"{path}: owner/group/mode differ\n")
        after.append(f"{path}: owner/group/mode as declared\n")
    for kind in ("locked", "unlocked", "attributes"):
        if counts[kind] > len(samples[kind]):
            after.append(f"... and {counts[kind] - len(samples[kind])} more ({kind})\n")
    return "".join(before), "".join(after)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["locked", "unlocked"], "default": "locked"},
            "recurse": {"type": "bool", "default": True},
            "exclude": {"type": "list", "elements": "str", "default": []},
            "follow": {"type": "bool", "default": False},
            "flag": {"type": "str", "choices": ["immutable", "append"], "default": "immutable"},
            "owner": {"type": "str"},
            "group": {"type": "str"},
            "mode": {"type": "raw"},
            "dir_mode": {"type": "raw"},
            "exec_mode": {"type": "raw"},
            "executables": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    path = os.path.normpath(params["path"])
    lock = params["state"] == "locked"
    empty = {"locked": 0, "unlocked": 0, "attributes": 0}
    result = {"changed": False, "root": path, "changed_paths": dict(empty), "paths": {k: [] for k in empty}}

    try:
        plan = Plan(
            bit=FLAGS[params["flag"]],
            lock=lock,
            uid=resolve_id(params["owner"], "owner", lambda n: pwd.getpwnam(n).pw_uid),
            gid=resolve_id(params["group"], "group", lambda n: grp.getgrnam(n).gr_gid),
            file_mode=parse_mode(params["mode"], "mode"),
            dir_mode=parse_mode(params["dir_mode"], "dir_mode"),
            exec_mode=parse_mode(params["exec_mode"], "exec_mode"),
            executables=compile_patterns(relative_patterns(path, params["executables"])),
            exclude=compile_patterns(relative_patterns(path, params["exclude"])),
        )
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)

    if params["follow"] and os.path.islink(path):
        path = os.path.realpath(path)
        result["root"] = path

    if not os.path.lexists(path):
        result["exists"] = False
        if not lock:
            module.exit_json(**result)
        if module.check_mode:
            result["changed"] = True
            result["changed_paths"]["locked"] = 1
            result["paths"]["locked"] = [path]
            module.warn(f"{path} does not exist yet; a run without --check fails unless it is created first")
            module.exit_json(**result)
        module.fail_json(msg=f"{path}: no such file or directory; nothing to lock", **result)
    result["exists"] = True

    mounts = mounts_over(path, plan, lock and params["recurse"])
    result["mounts"] = mounts
    if mounts and not module.check_mode:
        module.fail_json(
            msg=f"{', '.join(mounts)}: mounted over the locked tree {path}, hiding its own entries; unmount "
            "(umount) it, or exclude the path",
            **result,
        )

    try:
        walk = run(path, plan, recurse=params["recurse"], check=module.check_mode)
    except ImmutableError as exc:
        changes = exc.changes or dict(empty)
        done = sum(changes.values())
        msg = str(exc)
        if done and not module.check_mode:
            msg += f" (stopped after changing {done} entries: {changes})"
        result.update(changed=bool(done) and not module.check_mode, changed_paths=changes, failed_path=exc.path)
        module.fail_json(msg=msg, **result)

    result.update(
        changed=any(walk.counts.values()) or bool(mounts),
        changed_paths=walk.counts,
        paths=walk.samples,
        seen=walk.seen,
        passed_over=walk.passed,
    )
    if module._diff and result["changed"]:
        before, after = diff_text(walk.samples, walk.counts)
        before += "".join(f"{point}: a mount over the tree\n" for point in mounts)
        after += "".join(f"{point}: the tree's own entry\n" for point in mounts)
        result["diff"] = {"before_header": path, "after_header": path, "before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the immutable module: inode flags through ioctls, and one walk over a tree.

The flags are read and written with ``FS_IOC_GETFLAGS`` / ``FS_IOC_SETFLAGS`` on a file
descriptor opened with ``O_NOFOLLOW | O_NONBLOCK`` (directories too), so one Python process
handles a whole tree and a symlink is never followed.  Every other flag (ext4's extents
flag ``e``, ``A``, ...) is kept: only the bits asked for are set or cleared.

The walk opens each entry relative to its parent directory's descriptor and lists the
directory through that descriptor, so no path is resolved twice and nothing below the
root can be swapped for a symlink between the listing and the open.  Symlinks, FIFOs,
sockets and device nodes are skipped, never opened.

The same file is the APT hook's helper (see "The APT hook" below): the immutable role copies it
to the host as /usr/local/sbin/bulwark-immutable, so it imports the Python standard library only.
"""

from __future__ import annotations

import errno
import fcntl
import fnmatch
import glob
import json
import os
import re
import stat
import struct
import sys

FS_IMMUTABLE_FL = 0x00000010
FS_APPEND_FL = 0x00000020
FLAGS = {"immutable": FS_IMMUTABLE_FL, "append": FS_APPEND_FL}
# Flags that make chmod/chown fail with EPERM.
PROTECTING = FS_IMMUTABLE_FL | FS_APPEND_FL


def _ior(kind, number, size):
    return (2 << 30) | (size << 16) | (ord(kind) << 8) | number


def _iow(kind, number, size):
    return (1 << 30) | (size << 16) | (ord(kind) << 8) | number


# The ioctl numbers encode sizeof(long); the kernel reads and writes an int.
_LONG = struct.calcsize("l")
FS_IOC_GETFLAGS = _ior("f", 1, _LONG)
FS_IOC_SETFLAGS = _iow("f", 2, _LONG)
_INT = struct.Struct("i")
# One buffer for both ioctls, passed as a mutable buffer: given bytes, fcntl.ioctl first
# tries them as a writable buffer and builds and clears a TypeError each time, which cost
# more than the rest of the call.  The module runs one walk in one thread.
_BUF = bytearray(_LONG)

OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# os.open errors that mean the entry was replaced by a symlink or removed since the listing.
_GONE = frozenset((errno.ELOOP, errno.ENOENT, errno.ENXIO))

# How many paths of each kind the result and the diff name.
SAMPLE = 20


class ImmutableError(Exception):
    """A failure that names the path; ``changes`` holds what was changed before it."""

    def __init__(self, msg, path=None, changes=None):
        super().__init__(msg)
        self.path = path
        self.changes = changes


def get_flags(fd):
    """The inode flags of an open file descriptor."""
    fcntl.ioctl(fd, FS_IOC_GETFLAGS, _BUF, True)
    return _INT.unpack_from(_BUF)[0]


def set_flags(fd, flags):
    """Write the inode flags of an open file descriptor."""
    _INT.pack_into(_BUF, 0, flags)
    fcntl.ioctl(fd, FS_IOC_SETFLAGS, _BUF, True)


def wanted_flags(current, bit, lock):
    """``current`` with ``bit`` set (lock) or cleared (unlock); every other flag kept."""
    return current | bit if lock else current & ~bit


def explain(exc, path, action):
    """A message for an OSError of the walk that names the path and what it means."""
    code = exc.errno
    if code in (errno.EOPNOTSUPP, errno.ENOTTY, errno.EINVAL) and action.endswith("flags"):
        return (
            f"{path}: the file system does not support the immutable/append-only flags "
            f"({os.strerror(code)}); it cannot be locked"
        )
    if code == errno.EPERM and action == "set flags":
        return (
            f"{path}: not permitted to change the immutable/append-only flags; this needs root "
            f"with the CAP_LINUX_IMMUTABLE capability ({os.strerror(code)})"
        )
    if code == errno.ENOENT:
        return f"{path}: no such file or directory"
    return f"{path}: cannot {action}: {os.strerror(code)}"


def relative_patterns(root, exclude):
    """Turn ``exclude`` (paths or globs, absolute or relative to ``root``) into relative globs.

    Raises ValueError naming an entry that points outside the tree, or at the root itself.
    """
    root = os.path.normpath(root)
    out = []
    for item in exclude:
        if not item or "\0" in item:
            raise ValueError(f"exclude entry {item!r} is empty or holds a NUL byte")
        if os.path.isabs(item):
            norm = os.path.normpath(item)
            if norm == root:
                raise ValueError(f"exclude entry {item} is the tree {root} itself")
            if root == "/":
                rel = norm.lstrip("/")
            elif norm.startswith(root + "/"):
                rel = norm[len(root) + 1 :]
            else:
                raise ValueError(f"exclude entry {item} is outside the tree {root}")
        else:
            rel = os.path.normpath(item)
        if rel in ("", ".") or rel == ".." or rel.startswith("../"):
            raise ValueError(f"exclude entry {item} is outside the tree {root}, or is the tree itself")
        out.append(rel)
    return out


def compile_patterns(patterns):
    """One regular expression that matches a relative path matched by any of the globs."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


class Plan:
    """What the walk wants each entry to look like.

    ``bit`` is the flag managed; ``lock`` says whether it is set or cleared.  ``uid``/``gid``
    (-1 for "leave alone"), ``file_mode``/``dir_mode``/``exec_mode`` (None for "leave alone")
    and the compiled ``executables`` regex describe ownership and modes.  ``exclude`` is the
    compiled regex of relative paths left mutable with everything below them.
    """

    def __init__(
        self,
        *,
        bit=FS_IMMUTABLE_FL,
        lock=True,
        uid=-1,
        gid=-1,
        file_mode=None,
        dir_mode=None,
        exec_mode=None,
        executables=None,
        exclude=None,
    ):
        self.bit = bit
        self.lock = lock
        self.uid = uid
        self.gid = gid
        self.file_mode = file_mode
        self.dir_mode = dir_mode
        self.exec_mode = exec_mode
        self.executables = executables
        self.exclude = exclude
        # exec_mode counts only with executables to match: alone it would apply to nothing.
        self.manages_owner = (
            uid != -1
            or gid != -1
            or file_mode is not None
            or dir_mode is not None
            or (exec_mode is not None and executables is not None)
        )

    def mode_for(self, rel, is_dir):
        if is_dir:
            return self.dir_mode
        if self.exec_mode is not None and self.executables is not None and self.executables.match(rel):
            return self.exec_mode
        return self.file_mode


def attribute_changes(st, plan, mode):
    """The (uid, gid, mode) to apply to an entry whose stat is ``st``; -1/None mean unchanged."""
    uid = plan.uid if plan.uid not in (-1, st.st_uid) else -1
    gid = plan.gid if plan.gid not in (-1, st.st_gid) else -1
    new_mode = mode if mode is not None and stat.S_IMODE(st.st_mode) != mode else None
    return uid, gid, new_mode


class Walk:
    """Bring a tree to a plan, or count what would change (``check``).

    ``counts`` holds the number of entries locked, unlocked and re-owned/re-moded,
    ``samples`` the first SAMPLE paths of each kind, ``seen`` the entries looked at and
    ``passed`` the symlinks, FIFOs, sockets and devices passed over.
    """

    def __init__(self, plan, check=False):
        self.plan = plan
        self.check = check
        self.counts = {"locked": 0, "unlocked": 0, "attributes": 0}
        self.samples = {"locked": [], "unlocked": [], "attributes": []}
        self.seen = 0
        self.passed = 0
        # Decided once for the walk, not for each entry (see tree()).
        self._bit = plan.bit
        self._lock = plan.lock
        self._kind = "locked" if plan.lock else "unlocked"
        self._exclude = plan.exclude.match if plan.exclude is not None else None
        self._needs_rel = self._exclude is not None or (
            plan.manages_owner and plan.exec_mode is not None and plan.executables is not None
        )

    def _record(self, kind, path):
        self.counts[kind] += 1
        if len(self.samples[kind]) < SAMPLE:
            self.samples[kind].append(path)

    def _fail(self, exc, path, action):
        raise ImmutableError(explain(exc, path, action), path=path, changes=dict(self.counts)) from exc

    def apply(self, fd, path, rel, is_dir, lock):
        """Bring one open entry to the plan (flag ``lock``, ownership and mode)."""
        plan = self.plan
        self.seen += 1
        try:
            flags = get_flags(fd)
        except OSError as exc:
            self._fail(exc, path, "read flags")
        want = wanted_flags(flags, plan.bit, lock)
        uid = gid = -1
        mode = None
        if plan.manages_owner:
            try:
                st = os.fstat(fd)
            except OSError as exc:
                self._fail(exc, path, "stat")
            uid, gid, mode = attribute_changes(st, plan, plan.mode_for(rel, is_dir))
        attrs = uid != -1 or gid != -1 or mode is not None
        if want == flags and not attrs:
            return
        if not self.check:
            self._change(fd, path, flags, want, (uid, gid, mode) if attrs else None)
        # Counted once done, so a failure reports only what really changed.
        if attrs:
            self._record("attributes", path)
        if want != flags:
            self._record("locked" if lock else "unlocked", path)

    def _change(self, fd, path, flags, want, attrs):
        """Apply owner/mode (``attrs``, or None) and then the flags ``want``."""
        if attrs is not None:
            uid, gid, mode = attrs
            # chown/chmod fail on an immutable or append-only inode: clear, change, restore.
            if flags & PROTECTING:
                try:
                    set_flags(fd, flags & ~PROTECTING)
                except OSError as exc:
                    self._fail(exc, path, "set flags")
            try:
                if uid != -1 or gid != -1:
                    os.fchown(fd, uid, gid)
                if mode is not None:
                    os.fchmod(fd, mode)
            except OSError as exc:
                if flags & PROTECTING:
                    try:
                        set_flags(fd, flags)
                    except OSError:
                        pass
                self._fail(exc, path, "change owner or mode")
            if want == flags & ~PROTECTING:
                return
        try:
            set_flags(fd, want)
        except OSError as exc:
            self._fail(exc, path, "set flags")

    def excluded_root(self, fd, path):
        """An excluded entry stays mutable: clear the flag on it (nothing below is touched)."""
        self.seen += 1
        try:
            flags = get_flags(fd)
        except OSError as exc:
            self._fail(exc, path, "read flags")
        want = wanted_flags(flags, self.plan.bit, False)
        if want == flags:
            return
        if not self.check:
            try:
                set_flags(fd, want)
            except OSError as exc:
                self._fail(exc, path, "set flags")
        self._record("unlocked", path)

    def flag(self, fd, prefix, name):
        """apply() for an entry below the root when the plan manages the flag alone.

        The same steps without owner and mode, and the path (``prefix + name``) is built
        only for a sample or an error: this runs once for each entry of the tree.
        """
        self.seen += 1
        try:
            flags = get_flags(fd)
        except OSError as exc:
            self._fail(exc, prefix + name, "read flags")
        want = flags | self._bit if self._lock else flags & ~self._bit
        if want == flags:
            return
        if not self.check:
            try:
                set_flags(fd, want)
            except OSError as exc:
                self._fail(exc, prefix + name, "set flags")
        # Counted once done, as in apply(); the first SAMPLE of a kind are named.
        counts = self.counts
        counts[self._kind] += 1
        if counts[self._kind] <= SAMPLE:
            self.samples[self._kind].append(prefix + name)

    def tree(self, dir_fd, path, rel):
        """Walk the directory open as ``dir_fd`` (already applied), depth first.

        ``rel`` is the path relative to the root, or None when the plan needs none (no
        exclude patterns, no executables).  What can be decided once for the walk is
        decided in __init__, and a path string is built only where one is needed.
        """
        lock, manages_owner, exclude, needs_rel = self._lock, self.plan.manages_owner, self._exclude, self._needs_rel
        open_, close = os.open, os.close
        try:
            entries = list(os.scandir(dir_fd))
        except OSError as exc:
            self._fail(exc, path, "list the directory")
        prefix = "/" if path == "/" else path + "/"
        rel_prefix = rel + "/" if rel else ""
        for entry in entries:
            # Regular files are the common case: one call for them.  d_type answers both
            # without a system call; lstat (relative to dir_fd) only where it is unknown.
            try:
                if entry.is_file(follow_symlinks=False):
                    is_dir = False
                elif entry.is_dir(follow_symlinks=False):
                    is_dir = True
                else:
                    self.passed += 1
                    continue
            except OSError:
                self.passed += 1
                continue
            name = entry.name
            try:
                fd = open_(name, OPEN_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                if exc.errno in _GONE:
                    # Replaced by a symlink or removed since the listing: nothing to lock.
                    self.passed += 1
                    continue
                self._fail(exc, prefix + name, "open")
            try:
                child_rel = rel_prefix + name if needs_rel else None
                if exclude is not None and exclude(child_rel):
                    if lock:
                        self.excluded_root(fd, prefix + name)
                    continue
                if manages_owner:
                    self.apply(fd, prefix + name, child_rel, is_dir, lock)
                else:
                    self.flag(fd, prefix, name)
                if is_dir:
                    self.tree(fd, prefix + name, child_rel)
            finally:
                close(fd)


def parse_mountinfo(text):
    """The mount points of /proc/self/mountinfo (its fifth field, octal escapes such as ``\\040`` decoded)."""
    points = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def mounts_below(root, points, exclude=None):
    """The mount points strictly below ``root`` that no ``exclude`` pattern (a compiled Plan.exclude)
    leaves mutable: a mount there hides the tree's own entry, and the walk would see the mounted one."""
    prefix = "/" if root == "/" else root.rstrip("/") + "/"
    found = []
    for point in points:
        if not point.startswith(prefix) or point == root:
            continue
        parts = point[len(prefix) :].split("/")
        rels = ["/".join(parts[: count + 1]) for count in range(len(parts))]
        if exclude is not None and any(exclude.match(rel) for rel in rels):
            continue
        if point not in found:
            found.append(point)
    return found


def run(path, plan, recurse=True, check=False):
    """Bring ``path`` (and, with ``recurse``, everything below it) to ``plan``.

    Returns the Walk (counts, samples, seen, passed).  Raises ImmutableError naming the
    path on any failure; its ``changes`` are the counts changed before the failure.
    """
    walk = Walk(plan, check=check)
    try:
        st = os.lstat(path)
    except OSError as exc:
        walk._fail(exc, path, "look at it")
    if stat.S_ISLNK(st.st_mode):
        raise ImmutableError(f"{path} is a symlink; it is never followed", path=path, changes=dict(walk.counts))
    is_dir = stat.S_ISDIR(st.st_mode)
    if not (is_dir or stat.S_ISREG(st.st_mode)):
        raise ImmutableError(f"{path} is neither a regular file nor a directory", path=path, changes=dict(walk.counts))
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        walk._fail(exc, path, "open")
    try:
        walk.apply(fd, path, "", is_dir, plan.lock)
        if is_dir and recurse:
            walk.tree(fd, path, "")
    finally:
        os.close(fd)
    return walk


def parse_mode(value, name):
    """An octal mode string ('0440') or an int (YAML's 0440) as an int; ValueError names the option."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an octal string such as '0440', not {value!r}")
    if isinstance(value, int):
        mode = value
    else:
        text = str(value).strip()
        if not text or any(c not in "01234567" for c in text):
            raise ValueError(f"{name} must be an octal string such as '0440', not {value!r}")
        mode = int(text, 8)
    if not 0 <= mode <= 0o7777:
        raise ValueError(f"{name} must be between 0000 and 7777, not {value!r}")
    return mode


# --------------------------------------------------------------------- the role's plan
def _normalised(path):
    parts = path.split("/")
    return path.startswith("/") and path == "/" + "/".join(p for p in parts if p) and not {".", ".."} & set(parts)


def _needs_writable(path, forbidden):
    """Is *path* /, one of *forbidden*, above one of them, or under one?"""
    return path == "/" or any(
        entry == path or entry.startswith(path + "/") or path.startswith(entry + "/") for entry in forbidden
    )


def role_plan(settings):
    """Check the immutable role's variables and compute the paths it locks.

    *settings*: ``immutable_trees``, ``immutable_paths`` and ``forbidden`` (the paths apt, dpkg and
    the kernel need writable). Returns ``errors`` (one per bad path, each naming it), ``paths``
    (every locked path: the trees', then ``immutable_paths``) and ``hook_state``, the STATE document
    the APT hook reads (below): each locked path with what stays mutable in it, and ``forbidden``.
    """
    errors = []
    trees = settings["immutable_trees"]
    paths = [str(tree["path"]) for tree in trees] + [str(path) for path in settings["immutable_paths"]]
    where = "in immutable_trees (path) or immutable_paths"
    bad = [path for path in paths if not _normalised(path)]
    errors.extend(
        f"'{path}' {where} must be an absolute, normalised path (no trailing slash, '.', '..' or '//')." for path in bad
    )
    forbidden = list(settings["forbidden"])
    errors.extend(
        f"'{path}' {where} is, contains or lies under a path that must stay writable ({', '.join(forbidden)}, or /)."
        for path in paths
        if path not in bad and _needs_writable(path, forbidden)
    )
    for tree in trees:
        for entry in tree.get("writable") or []:
            text = str(entry)
            if text.startswith("/") or not text or ".." in text.split("/"):
                errors.append(
                    f"writable entry '{text}' of tree {tree['path']} (immutable_trees) must be "
                    "a directory relative to the tree, without '..'."
                )
    entries = [
        {"path": str(tree["path"]), "exclude": list(tree.get("writable") or []) + list(tree.get("exclude") or [])}
        for tree in trees
    ] + [{"path": str(path), "exclude": []} for path in settings["immutable_paths"]]
    hook_state = {"managed_by": "bulwark.hardening.immutable", "paths": entries, "never_locked": forbidden}
    return {"errors": errors, "paths": paths, "hook_state": hook_state}


# The APT hook: unlock the locked paths that belong to packages before dpkg runs, and lock
# them again after.
#
# APT runs ``python3 /usr/local/sbin/bulwark-immutable pre-dpkg STATE`` from DPkg::Pre-Invoke and
# ``post-dpkg STATE`` from DPkg::Post-Invoke (/etc/apt/apt.conf.d/80bulwark-immutable). STATE is
# the JSON the immutable role writes (also the local fact bulwark_immutable): the declared
# ``paths`` (``{path, exclude}``) and the ``never_locked`` prefixes (apt's, dpkg's and the
# kernel's own). A declared path "belongs to packages" when dpkg or ucf lists it, or a file below
# it: then the whole declared path is unlocked for dpkg (it also renames files in their
# directories) - but only when it is locked, so an update window opened with
# playbooks/unlock.yml stays open. post-dpkg locks again exactly what pre-dpkg unlocked, recorded
# in RECORD (kept until the relock succeeds, so a crash is healed by the next dpkg run).

STATE = "/etc/ansible/facts.d/bulwark_immutable.fact"
RECORD = "/var/lib/bulwark-immutable/dpkg-unlocked.json"
DPKG_LISTS = "/var/lib/dpkg/info/*.list"
UCF_HASHFILE = "/var/lib/ucf/hashfile"


def say(msg):
    sys.stderr.write(f"bulwark-immutable: {msg}\n")


def is_locked(path):
    """Whether ``path`` (never followed when it is a symlink) carries the immutable flag."""
    try:
        fd = os.open(path, OPEN_FLAGS)
    except OSError:
        return False
    try:
        return bool(get_flags(fd) & FS_IMMUTABLE_FL)
    finally:
        os.close(fd)


def under_never_locked(path, never_locked):
    """Whether ``path`` is, is below or holds one of the ``never_locked`` prefixes."""
    return any(
        path == item or path.startswith(item + "/") or item.startswith(path.rstrip("/") + "/") for item in never_locked
    )


def hook_apply(entry, lock, never_locked):
    """Lock or unlock one declared path with everything below it (its excludes left mutable).

    Returns the number of entries whose flag changed; 0 for a path under ``never_locked`` (said
    and refused) or one that is neither a directory nor a regular file.
    """
    path = entry["path"]
    if under_never_locked(path, never_locked):
        say(f"refusing {path}: apt, dpkg or the kernel need it writable")
        return 0
    st = os.lstat(path)
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        return 0
    exclude = compile_patterns(relative_patterns(path, entry.get("exclude", [])))
    walk = run(path, Plan(lock=lock, exclude=exclude))
    return walk.counts["locked"] + walk.counts["unlocked"]


def package_paths(lists=DPKG_LISTS, hashfile=UCF_HASHFILE):
    """Every path dpkg (files and conffiles) or ucf (generated configuration) lists."""
    paths = set()
    for name in glob.glob(lists):
        with open(name, encoding="utf-8", errors="surrogateescape") as handle:
            paths.update(line.rstrip("\n") for line in handle)
    try:
        with open(hashfile, encoding="utf-8", errors="surrogateescape") as handle:
            paths.update(line.split(None, 1)[1].strip() for line in handle if " " in line.strip())
    except OSError:
        pass
    return paths


def belongs_to_packages(path, paths):
    if path in paths:
        return True
    prefix = path.rstrip("/") + "/"
    return any(p.startswith(prefix) for p in paths)


def load_json(name, default):
    try:
        with open(name, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return default


def save_record(entries, record=RECORD):
    os.makedirs(os.path.dirname(record), mode=0o700, exist_ok=True)
    tmp = record + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(entries, handle)
    os.replace(tmp, record)


def pre_dpkg(state, record=None):
    """Record, then unlock, every declared path that is locked and belongs to packages."""
    declared = state.get("paths", [])
    never_locked = state.get("never_locked", [])
    record = record or RECORD
    pending = load_json(record, [])
    found = package_paths() if declared else set()
    todo = [e for e in declared if is_locked(e["path"]) and belongs_to_packages(e["path"], found)]
    known = {e["path"] for e in pending}
    entries = pending + [e for e in todo if e["path"] not in known]
    if entries:
        save_record(entries, record)  # before unlocking: post-dpkg (or the next run) relocks even after a crash
    for entry in todo:
        count = hook_apply(entry, False, never_locked)
        say(f"unlocked {entry['path']} for dpkg ({count} entries)")


def post_dpkg(state, record=None):
    """Lock again what pre_dpkg recorded, then forget the record."""
    record = record or RECORD
    never_locked = state.get("never_locked", [])
    for entry in load_json(record, []):
        if os.path.lexists(entry["path"]):
            count = hook_apply(entry, True, never_locked)
            say(f"locked {entry['path']} again ({count} entries)")
    if os.path.exists(record):
        os.unlink(record)


def status(state):
    for entry in state.get("paths", []):
        sys.stdout.write(f"{'locked  ' if is_locked(entry['path']) else 'unlocked'} {entry['path']}\n")


def main(argv=None):
    """``bulwark-immutable pre-dpkg|post-dpkg|status [STATE]``; 0, 1 on a failure, 2 on a usage error."""
    args = sys.argv[1:] if argv is None else argv
    commands = {"pre-dpkg": pre_dpkg, "post-dpkg": post_dpkg, "status": status}
    if not 1 <= len(args) <= 2 or args[0] not in commands:
        say("usage: bulwark-immutable pre-dpkg|post-dpkg|status [STATE]")
        return 2
    action = args[0]
    try:
        commands[action](load_json(args[1] if len(args) == 2 else STATE, {}))
    except (OSError, ImmutableError, ValueError) as exc:
        say(f"{action} failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

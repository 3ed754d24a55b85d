# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the os_audit_scan module: the file system walk and the account checks.

The walk looks at every entry once, with ``lstat`` only (``os.scandir``, symlinks never
followed), and feeds all three file checks from that one stat: world-writable files and
directories without the sticky bit, entries without a known owner or group, and SUID/SGID
regular files. It does not descend into a mount point whose file system type is skipped
(/proc, /sys, network file systems, ...), tolerates entries vanishing under it, and stops
when its time is up, saying where.

The account checks read the texts of passwd, shadow, group and gshadow; nothing here opens
them, so the checks are tested on strings.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import time

from ansible_collections.bulwark.hardening.plugins.module_utils._logindefs import getdef_num, resolve_getdef
from ansible_collections.bulwark.hardening.plugins.module_utils._mounts import parse_mountinfo

FILE_CHECKS = ("world_writable", "unowned", "suid_sgid")
# wireless and services are read from sysfs and systemd, not from the walk.
CHECKS = (*FILE_CHECKS, "accounts", "wireless", "services")

# File system types never descended into: kernel pseudo file systems (their files are not files
# an admin owns, and /proc alone holds millions of entries), and network or FUSE file systems
# (another host's files, slow or hanging when the server is away). Kept on purpose: tmpfs
# (/dev/shm, /run and /tmp are where a world-writable file matters), devtmpfs (/dev), overlay
# (the root of a container), ext4/xfs/btrfs/vfat and the other local disk file systems.
DEFAULT_SKIP_FSTYPES = (
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "securityfs",
    "debugfs",
    "tracefs",
    "pstore",
    "bpf",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "binfmt_misc",
    "autofs",
    "efivarfs",
    "rpc_pipefs",
    "nsfs",
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "fuse.sshfs",
    "9p",
    "ceph",
    "glusterfs",
    "fuse.glusterfs",
)

# The SUID/SGID executables a minimal Debian 12 (bookworm) server ships, with the package of each:
# read from the root file system of the collection's test image (bulwark/debian-systemd:bookworm)
# and a Debian 12 host. They are expected: a report names only the others. sudo and cron are in
# every server the collection hardens (cron with Debian's default MTA, exim4, which its recommends
# bring); polkitd and libutempter0 come with common packages.
# Debian 13 (trixie) was not checked; its packages are expected to keep these paths.
# A pattern (fnmatch, '*' also matches '/') covers the multiarch directory.
DEFAULT_SUID_SGID_ALLOW = (
    "/usr/bin/chfn",  # passwd, SUID root
    "/usr/bin/chsh",  # passwd, SUID root
    "/usr/bin/gpasswd",  # passwd, SUID root
    "/usr/bin/passwd",  # passwd, SUID root
    "/usr/bin/chage",  # passwd, SGID shadow
    "/usr/bin/expiry",  # passwd, SGID shadow
    "/usr/bin/newgrp",  # login (bookworm) / util-linux, SUID root
    "/usr/bin/su",  # util-linux, SUID root
    "/usr/bin/mount",  # mount, SUID root
    "/usr/bin/umount",  # mount, SUID root
    "/usr/sbin/unix_chkpwd",  # libpam-modules-bin, SGID shadow
    "/usr/bin/sudo",  # sudo, SUID root
    "/usr/bin/crontab",  # cron, SGID crontab
    "/usr/sbin/exim4",  # exim4-daemon-light, Debian's default MTA (cron recommends one), SUID root
    "/usr/bin/dotlockfile",  # liblockfile-bin, with exim4, SGID mail
    "/usr/bin/ssh-agent",  # openssh-client, SGID _ssh
    "/usr/lib/openssh/ssh-keysign",  # openssh-client, SUID root
    "/usr/lib/dbus-1.0/dbus-daemon-launch-helper",  # dbus-daemon, SUID root, group messagebus
    "/usr/lib/*/utempter/utempter",  # libutempter0, SGID utmp
    "/usr/lib/polkit-1/polkit-agent-helper-1",  # polkitd, SUID root
)

DEFAULT_ALLOW = {"suid_sgid": DEFAULT_SUID_SGID_ALLOW}

# The mode bits without which mode_findings() has nothing to say: the walk's fast path.
_NOTABLE = stat.S_IWOTH | stat.S_ISUID | stat.S_ISGID


# ------------------------------------------------------------------------------------ mounts
def parse_mounts(text):
    """The mounts of a /proc/self/mountinfo text as ``(mount point, fstype)``, in mount order (the one
    mountinfo parser, _mounts.parse_mountinfo: escapes decoded, malformed lines skipped)."""
    return [(mount.point, mount.fstype) for mount in parse_mountinfo(text)]


def effective_mounts(mounts):
    """Mount point -> fstype of the mount on top; a later mount over the same point hides an earlier one."""
    return dict(mounts)


def skipped_points(mounts, skip_fstypes):
    """Mount point -> fstype for the points (the mount on top) whose type is in ``skip_fstypes``."""
    skip = set(skip_fstypes)
    return {point: fstype for point, fstype in effective_mounts(mounts).items() if fstype in skip}


def mount_of(path, points):
    """The mount point (a key of ``points``) holding ``path``: the longest one that is ``path`` or above it."""
    best = None
    for point in points:
        prefix = point if point.endswith("/") else point + "/"
        if (path == point or path.startswith(prefix)) and (best is None or len(point) > len(best)):
            best = point
    return best


def distinct_roots(roots):
    """``roots`` normalised, without duplicates or a root below another one, in their order."""
    # normpath keeps a leading '//' (POSIX leaves its meaning to the system); Linux reads it as '/'.
    out = ["/" + os.path.normpath(r).lstrip("/") for r in roots]
    kept = []
    for root in out:
        if root in kept:
            continue
        if any(root == other or root.startswith(other.rstrip("/") + "/") for other in out if other != root):
            continue
        kept.append(root)
    return kept


# ------------------------------------------------------------------------------------ modes
def mode_findings(mode):
    """The file checks a mode fails, as ``[(check, detail)]`` (world_writable and suid_sgid only).

    World-writable counts for regular files, and for directories without the sticky bit (a
    world-writable sticky directory such as /tmp is the intended design). SUID/SGID counts for
    regular files; a SGID directory only makes new files inherit its group.
    """
    found = []
    perm = stat.S_IMODE(mode)
    if stat.S_ISREG(mode):
        if perm & stat.S_IWOTH:
            found.append(("world_writable", f"file {perm:04o}"))
        bits = [name for bit, name in ((stat.S_ISUID, "SUID"), (stat.S_ISGID, "SGID")) if perm & bit]
        if bits:
            found.append(("suid_sgid", f"{'+'.join(bits)} file {perm:04o}"))
    elif stat.S_ISDIR(mode) and perm & stat.S_IWOTH and not perm & stat.S_ISVTX:
        found.append(("world_writable", f"directory {perm:04o} without the sticky bit"))
    return found


def owner_detail(uid, gid, uid_known, gid_known):
    """The unowned finding's detail for an entry, or None when its owner and group are known."""
    if uid_known and gid_known:
        return None
    if not uid_known and not gid_known:
        return f"no owner or group: uid {uid}, gid {gid}"
    if not uid_known:
        return f"no owner: uid {uid}"
    return f"no group: gid {gid}"


# ------------------------------------------------------------------------------------ allow
def compile_allow(patterns):
    """One regex matching any of ``patterns`` (absolute paths or fnmatch globs), or None for none."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))


def merged_allow(allow, defaults=None):
    """The allow list of each check: ``allow``'s own where it names the check, else the default.

    Raises ValueError naming an unknown check, or a file check's pattern that is not absolute.
    """
    defaults = DEFAULT_ALLOW if defaults is None else defaults
    merged = {check: list(defaults.get(check, ())) for check in CHECKS}
    for check, patterns in (allow or {}).items():
        if check not in CHECKS:
            raise ValueError(f"allow names an unknown check {check!r}; known: {', '.join(CHECKS)}")
        listed = [patterns] if isinstance(patterns, str) else list(patterns or [])
        listed = [str(p) for p in listed]
        if check in FILE_CHECKS:
            for pattern in listed:
                if not pattern.startswith("/"):
                    raise ValueError(f"allow.{check} entry {pattern!r} is not an absolute path or pattern")
        merged[check] = listed
    return merged


# ------------------------------------------------------------------------------------ walk
class Findings:
    """Unexpected findings of each check: ``items`` capped at ``limit``, ``counts`` complete, ``allowed`` counted."""

    def __init__(self, checks, allow, limit):
        self.checks = list(checks)
        self.limit = limit
        self.items = {check: [] for check in self.checks}
        self.counts = {check: 0 for check in self.checks}
        self.allowed = {check: 0 for check in self.checks}
        self._allow = {check: compile_allow(allow.get(check)) for check in self.checks}

    def add(self, check, key, value, detail):
        """Record ``value`` (a path or name, under ``key``) unless the check's allow list matches it."""
        pattern = self._allow[check]
        if pattern is not None and pattern.match(value):
            self.allowed[check] += 1
            return
        self.counts[check] += 1
        if len(self.items[check]) < self.limit:
            self.items[check].append({key: value, "detail": detail})


class Walk:
    """One walk over ``roots`` feeding the file checks of ``findings``.

    ``uid_known``/``gid_known`` answer whether an id has an owner/group (called once per id).
    ``skip`` maps skipped mount points to their type; ``deadline`` is a time.monotonic() value.
    """

    # How many entries between two looks at the clock.
    CLOCK_EVERY = 512

    def __init__(self, findings, *, uid_known, gid_known, skip, deadline, clock=time.monotonic):
        self.findings = findings
        self.skip = skip
        self.deadline = deadline
        self.clock = clock
        self.scanned = 0
        self.errors = 0
        self.skipped_mounts = []
        self.incomplete = False
        self.stopped_at = None
        self._uid_known = uid_known
        self._gid_known = gid_known
        self._uids = {}
        self._gids = {}
        checks = set(findings.checks)
        self._modes = bool(checks & {"world_writable", "suid_sgid"})
        self._owners = "unowned" in checks

    def _known(self, cache, ask, number):
        known = cache.get(number)
        if known is None:
            known = cache[number] = bool(ask(number))
        return known

    def entry(self, path, st):
        """Run the file checks on one entry (its lstat result)."""
        self.scanned += 1
        add = self.findings.add
        if self._modes and st.st_mode & _NOTABLE:
            for check, detail in mode_findings(st.st_mode):
                if check in self.findings.items:
                    add(check, "path", path, detail)
        if self._owners:
            uid_known = self._known(self._uids, self._uid_known, st.st_uid)
            gid_known = self._known(self._gids, self._gid_known, st.st_gid)
            if not (uid_known and gid_known):
                add("unowned", "path", path, owner_detail(st.st_uid, st.st_gid, uid_known, gid_known))

    def _skip(self, path):
        fstype = self.skip.get(path)
        if fstype is None:
            return False
        self.skipped_mounts.append({"path": path, "fstype": fstype})
        return True

    def run(self, roots):
        """Walk each root (checking the root itself too); stop at the deadline."""
        for root in roots:
            holder = mount_of(root, self.skip)
            if holder is not None:
                self.skipped_mounts.append({"path": root, "fstype": self.skip[holder]})
                continue
            try:
                st = os.lstat(root)
            except OSError:
                self.errors += 1
                continue
            self.entry(root, st)
            if stat.S_ISDIR(st.st_mode) and not self.tree(root):
                break
        return self

    def tree(self, root):
        """Depth-first over the directory ``root``; False when the time ran out."""
        stack = [root]
        countdown = self.CLOCK_EVERY
        entry_check = self.entry
        while stack:
            path = stack.pop()
            if self.clock() > self.deadline:
                self.incomplete = True
                self.stopped_at = path
                return False
            try:
                with os.scandir(path) as listing:
                    entries = list(listing)
            except OSError:
                # Vanished, or unreadable (EACCES without root): counted, never fatal.
                self.errors += 1
                continue
            subdirs = []
            for item in entries:
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError:
                    continue  # removed since the listing
                entry_check(item.path, st)
                if stat.S_ISDIR(st.st_mode) and not self._skip(item.path):
                    subdirs.append(item.path)
                countdown -= 1
                if countdown <= 0:
                    countdown = self.CLOCK_EVERY
                    if self.clock() > self.deadline:
                        self.incomplete = True
                        self.stopped_at = item.path
                        return False
            # Reversed so that the stack pops them in listing order.
            stack.extend(reversed(subdirs))
        return True


# ------------------------------------------------------------------------------------ accounts
def _records(text, width):
    """``(line number, fields)`` of each non-blank, non-comment line, padded to ``width`` fields."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) < width:
            fields += [""] * (width - len(fields))
        yield number, fields


def _members(field):
    return [m for m in field.split(",") if m]


def known_ids(text):
    """The numeric ids (third field) of a passwd or group text."""
    ids = set()
    for _number, fields in _records(text, 3):
        if fields[2].isdigit():
            ids.add(int(fields[2]))
    return ids


def account_findings(passwd, shadow, group, gshadow, names=None):
    """The account checks on the texts of the four files, as ``[(name, detail)]``.

    ``names`` maps each file to the path shown in details. ``shadow``/``gshadow`` may be None
    (file absent): then a passwd entry not shadowed is all that is said about them.
    """
    names = {
        "passwd": "/etc/passwd",
        "shadow": "/etc/shadow",
        "group": "/etc/group",
        "gshadow": "/etc/gshadow",
        **(names or {}),
    }
    found = []
    users = list(_records(passwd, 7))
    groups = list(_records(group, 4))

    for number, fields in users:
        if not fields[0] or not fields[2].isdigit() or not fields[3].isdigit():
            found.append((f"{names['passwd']}:{number}", f"malformed entry in {names['passwd']}"))

    by_uid, by_user = {}, {}
    for _number, fields in users:
        by_user.setdefault(fields[0], []).append(fields[2])
        if fields[2].isdigit():
            by_uid.setdefault(int(fields[2]), []).append(fields[0])
    found.extend(
        (f"uid {uid}", f"duplicate UID shared by {', '.join(sorted(set(owners)))}")
        for uid, owners in sorted(by_uid.items())
        if len(owners) > 1 and uid != 0
    )
    found.extend(
        (name, f"duplicate user name: {len(uids)} entries in {names['passwd']}")
        for name, uids in sorted(by_user.items())
        if name and len(uids) > 1
    )
    root_like = sorted({n for n in by_uid.get(0, []) if n != "root"})
    found.extend((name, "UID 0 but not root: root must be the only UID 0 account") for name in root_like)

    by_gid, by_group = {}, {}
    for _number, fields in groups:
        by_group.setdefault(fields[0], []).append(fields[2])
        if fields[2].isdigit():
            by_gid.setdefault(int(fields[2]), []).append(fields[0])
    found.extend(
        (f"gid {gid}", f"duplicate GID shared by {', '.join(sorted(set(owners)))}")
        for gid, owners in sorted(by_gid.items())
        if len(owners) > 1
    )
    found.extend(
        (name, f"duplicate group name: {len(gids)} entries in {names['group']}")
        for name, gids in sorted(by_group.items())
        if name and len(gids) > 1
    )

    for _number, fields in users:
        if fields[1] != "x":
            shown = "empty" if fields[1] == "" else "not 'x'"
            found.append((fields[0], f"password field in {names['passwd']} {shown}: not shadowed"))
        if fields[3].isdigit() and int(fields[3]) not in by_gid:
            found.append((fields[0], f"primary group {fields[3]} is not in {names['group']}"))

    if shadow is not None:
        for _number, fields in _records(shadow, 2):
            if fields[1] == "":
                found.append((fields[0], f"empty password field in {names['shadow']}"))

    # The shadow group has no members, and no account has it as its primary group.
    shadow_gids = {int(fields[2]) for _n, fields in groups if fields[0] == "shadow" and fields[2].isdigit()}
    members = set()
    for _number, fields in groups:
        if fields[0] == "shadow":
            members.update(_members(fields[3]))
    if gshadow is not None:
        for _number, fields in _records(gshadow, 4):
            if fields[0] == "shadow":
                members.update(_members(fields[3]))
    found.extend(("shadow", f"member of the shadow group: {member}") for member in sorted(members))
    found.extend(
        (fields[0], "primary group is shadow")
        for _number, fields in users
        if fields[3].isdigit() and int(fields[3]) in shadow_gids
    )
    return found


# CIS 5.4.2.7: the system accounts that may keep a login shell of their own (/bin/sync and the like).
SHELL_EXEMPT = ("root", "sync", "shutdown", "halt", "nfsnobody")
# CIS 5.4.2.6: the bits root's login umask must mask at least (027: no group write, nothing for others).
ROOT_UMASK = 0o027


def valid_shells(text):
    """The login shells of /etc/shells (absolute paths), nologin excepted as CIS counts them."""
    shells = set()
    for line in (text or "").splitlines():
        shell = line.split("#", 1)[0].strip()
        if shell.startswith("/") and not shell.endswith("/nologin"):
            shells.add(shell)
    return shells


def uid_min(login_defs_text, default=1000):
    """UID_MIN of login.defs as shadow's getdef reads it (the one reader, _logindefs), or ``default``."""
    return getdef_num(resolve_getdef(login_defs_text or "").get("UID_MIN"), default)


def login_shell_findings(passwd, shadow, shells, first_uid):
    """CIS 5.4.2.2, 5.4.2.7 and 5.4.2.8 on the passwd and shadow texts, as ``[(name, detail)]``: an
    account other than root with GID 0, a system account (UID below UID_MIN) with a valid login shell,
    and an account without a valid login shell whose password is not locked."""
    found = []
    locked = {}
    for _number, fields in _records(shadow or "", 2):
        locked[fields[0]] = fields[1].startswith(("!", "*"))
    for _number, fields in _records(passwd, 7):
        name, uid, gid, shell = fields[0], fields[2], fields[3], fields[6].strip()
        if name != "root" and gid == "0":
            found.append((name, "primary GID 0 but not root: root must be the only account in group 0"))
        if not uid.isdigit() or name in SHELL_EXEMPT:
            continue
        if int(uid) < first_uid and shell in shells:
            found.append((name, f"system account (UID {uid}) with the login shell {shell}"))
        if shell not in shells and shadow is not None and not locked.get(name, True):
            found.append((name, f"no valid login shell ({shell or 'none'}) but its password is not locked"))
    return found


def root_group_findings(group):
    """CIS 5.4.2.3: group root is the only group with GID 0."""
    return [
        (fields[0], "GID 0 but not the group root")
        for _number, fields in _records(group, 4)
        if fields[2] == "0" and fields[0] != "root"
    ]


def root_environment_findings(umask, path, stat_of):
    """CIS 5.4.2.5 and 5.4.2.6 on what root's login shell printed: its umask (octal text) and PATH.

    ``stat_of(directory)`` is os.stat (None for a missing directory). A PATH entry must be an absolute,
    existing directory owned by root that neither its group nor others can write.
    """
    found = []
    text = (umask or "").strip()
    if not re.fullmatch(r"[0-7]{1,4}", text):
        found.append(("root", f"root's login shell printed no umask ({text!r})"))
    elif int(text, 8) & ROOT_UMASK != ROOT_UMASK:
        found.append(("root", f"root's login umask is {int(text, 8):04o}: 0027 or stricter expected"))
    entries = (path or "").split(":")
    for entry in entries:
        if entry == "" or not entry.startswith("/"):
            found.append(("root", f"root's PATH has {'an empty' if entry == '' else 'the relative'} entry {entry!r}"))
            continue
        st = stat_of(entry)
        if st is None or not stat.S_ISDIR(st.st_mode):
            found.append(("root", f"root's PATH entry {entry} is not a directory"))
        elif st.st_uid != 0:
            found.append(("root", f"root's PATH entry {entry} is owned by UID {st.st_uid}, not root"))
        elif st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            found.append(("root", f"root's PATH entry {entry} is writable by its group or others"))
    return found


# ------------------------------------------------------------------------------------ wireless, services
def wireless_findings(net_dir):
    """``[(interface, detail)]``: each network interface under ``net_dir`` (/sys/class/net) that is
    wireless (a ``wireless`` or ``phy80211`` entry, as the kernel's cfg80211 makes), with its driver's
    module; CIS 3.1.2 wants it disabled."""
    found = []
    try:
        names = sorted(os.listdir(net_dir))
    except OSError:
        return found
    for name in names:
        path = os.path.join(net_dir, name)
        if not any(os.path.exists(os.path.join(path, entry)) for entry in ("wireless", "phy80211")):
            continue
        module_link = os.path.join(path, "device", "driver", "module")
        module = os.path.basename(os.path.realpath(module_link)) if os.path.exists(module_link) else None
        how = (
            f"disable its module with os_baseline_kernel_modules_extra: [{module}]"
            if module
            else "its driver is built into the kernel: disable the interface"
        )
        found.append((name, f"a wireless interface{f' (module {module})' if module else ''}; CIS 3.1.2: {how}"))
    return found


# The unit file states (what `systemctl is-enabled` says) of a unit that starts at boot.
_ENABLED = ("enabled", "enabled-runtime", "static", "indirect", "alias")


def service_findings(shown):
    """``[(unit, detail)]`` for each unit of ``shown`` (``{unit: (CIS ID, its systemctl show)}``, the show as
    ``_loaded.unit_show`` reads it) whose UnitFileState is not an enabled one or whose ActiveState is not active."""
    found = []
    for unit, (cis, show) in shown.items():
        enabled, active = show.get("UnitFileState") or "nothing", show.get("ActiveState") or "nothing"
        wrong = []
        if enabled not in _ENABLED:
            wrong.append(f"is-enabled says {enabled}")
        if active != "active":
            wrong.append(f"is-active says {active}")
        if wrong:
            found.append((unit, f"installed but {' and '.join(wrong)}; CIS {cis} wants it enabled and running"))
    return found


# ------------------------------------------------------------------------------------ report
def finding_line(check, item):
    """One line of the drift diff, e.g. ``world-writable: /srv/x (file 0777)``."""
    label = check.replace("_", "-")
    what = item.get("path", item.get("name"))
    return f"{label}: {what} ({item['detail']})"


def summary(check, items, count, first=5):
    """The warning of one check: how many unexpected findings, and the first few."""
    shown = ", ".join(finding_line(check, item).split(": ", 1)[1] for item in items[:first])
    more = f", and {count - first} more" if count > first else ""
    return f"{check}: {count} unexpected finding{'s' if count != 1 else ''}: {shown}{more}"

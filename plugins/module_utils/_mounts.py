# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mount options as the kernel has them (/proc/self/mountinfo) and as the next boot will mount them
(an /etc/fstab line, or a systemd .mount unit and its drop-ins): parsing, the flags an option string
leaves in effect, the edits that add the missing ones, and what findmnt --verify reports.

Everything here is pure: the module reads the files and runs the commands."""

from __future__ import annotations

import collections
import os
import re

# The per-mount flags this module judges and sets, in the order it writes them; each one's opposite.
FLAGS = ("nodev", "nosuid", "noexec")
OPPOSITE = {"nodev": "dev", "nosuid": "suid", "noexec": "exec"}
# mount(8): options that switch several flags at once.
IMPLIED = {
    "defaults": {"dev", "suid", "exec"},
    "user": {"nodev", "nosuid", "noexec"},
    "users": {"nodev", "nosuid", "noexec"},
    "owner": {"nodev", "nosuid"},
    "group": {"nodev", "nosuid"},
}
# systemd mounts /dev/shm itself (mount-setup.c) with these flags when no fstab line names it.
SYSTEMD_DEV_SHM = ("nosuid", "nodev")
DROP_IN_NAME = "bulwark-hardening.conf"
DROP_IN_HEADER = "# Managed by bulwark.hardening (os_baseline)\n"

# findmnt --verify's warning that /etc/fstab is newer than systemd's last reload (util-linux with systemd).
SYSTEMD_STALE = "your fstab has been modified, but systemd still uses the old version"

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")

Mount = collections.namedtuple("Mount", "mount_id parent_id device root point options fstype source")


def unescape(field):
    """A field of mountinfo or fstab with its octal escapes (``\\040`` for a blank) decoded."""
    return _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


# ---------------------------------------------------------------------------------- mountinfo
def parse_mountinfo(text):
    """The mounts of a /proc/self/mountinfo text, in its order, as Mount tuples.

    Fields (proc(5)): mount ID, parent ID, major:minor, root, mount point, per-mount options, optional
    fields ended by ``-``, file system type, source, super options. ``options`` are the per-mount
    options (where nodev, nosuid and noexec live), as a tuple. A line without the ``-`` and a type after
    it is skipped.
    """
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 7 or "-" not in fields[6:]:
            continue
        separator = fields.index("-", 6)
        if separator + 1 >= len(fields):
            continue
        try:
            mount_id, parent_id = int(fields[0]), int(fields[1])
        except ValueError:
            continue
        mounts.append(
            Mount(
                mount_id,
                parent_id,
                fields[2],
                unescape(fields[3]),
                unescape(fields[4]),
                tuple(fields[5].split(",")),
                fields[separator + 1],
                unescape(fields[separator + 2]) if separator + 2 < len(fields) else "",
            )
        )
    return mounts


def top_mount(point, mounts):
    """The mount visible at ``point`` (the one on top when several are stacked there), or None when
    ``point`` is no mount point - it is then part of the file system of a mount above it."""
    here = [mount for mount in mounts if mount.point == point]
    below = {mount.parent_id for mount in here}
    on_top = [mount for mount in here if mount.mount_id not in below]
    return (on_top or here or [None])[-1]


def live_missing(mount, required):
    """The options of ``required`` that the mount's per-mount options lack, in ``required``'s order."""
    return [option for option in required if option not in mount.options]


# ---------------------------------------------------------------------------------- options
def split_options(text):
    return [option for option in (text or "").split(",") if option]


def flags_of(options):
    """The flags of FLAGS an option list leaves in effect, read left to right as mount(8) does
    (``defaults`` means dev, suid, exec; ``user`` and ``users`` mean nodev, nosuid, noexec)."""
    found = set()
    for option in options:
        for flag in IMPLIED.get(option, {option}):
            if flag in FLAGS:
                found.add(flag)
            elif flag in OPPOSITE.values():
                found.discard("no" + flag)
    return found


def missing_flags(options, required):
    """The options of ``required`` the option list ``options`` does not leave in effect."""
    found = flags_of(options)
    return [option for option in required if option not in found]


def add_flags(options, required):
    """``options`` with each flag of ``required`` in effect: an explicit opposite (``exec``) and a flag a later
    ``defaults`` undoes removed, the missing flags appended (last wins over ``defaults`` and ``user``). Every
    other option is kept."""
    opposites = {OPPOSITE[flag] for flag in required}
    kept = [option for option in options if option not in opposites]
    missing = missing_flags(kept, required)
    return [option for option in kept if option not in missing] + missing


# ---------------------------------------------------------------------------------- fstab
def _fields(line):
    """The fields of an fstab line with their spans, or [] for a blank line or a comment."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return []
    return [(match.group(0), match.span()) for match in re.finditer(r"\S+", line)]


def fstab_entries(text):
    """``(line index, mount point, fstype, options)`` of each fstab line that mounts a file system
    (swap lines and lines of fewer than three fields left out), the mount point's escapes decoded and
    its trailing slash dropped."""
    entries = []
    for index, line in enumerate(text.splitlines()):
        fields = [field for field, _span in _fields(line)]
        if len(fields) < 3 or fields[2] == "swap":
            continue
        point = unescape(fields[1])
        point = os.path.normpath(point) if point.startswith("/") else point
        entries.append((index, point, fields[2], split_options(fields[3]) if len(fields) > 3 else ["defaults"]))
    return entries


def fstab_options(text, point):
    """The option lists of the fstab lines for ``point`` (several when the file names it twice)."""
    return [options for _index, mount_point, _fstype, options in fstab_entries(text) if mount_point == point]


def fstab_edit(text, point, required):
    """``text`` with every line for ``point`` given the flags of ``required``: the options field replaced
    in place (added after the third field when the line has none), every other byte kept."""
    lines = text.splitlines(keepends=True)
    for index, mount_point, _fstype, options in fstab_entries(text):
        if mount_point != point or not missing_flags(options, required):
            continue
        line = lines[index]
        fields = _fields(line)
        new = ",".join(add_flags(options, required))
        if len(fields) > 3:
            start, end = fields[3][1]
            lines[index] = line[:start] + new + line[end:]
        else:
            end = fields[2][1][1]
            lines[index] = line[:end] + " " + new + line[end:]
    return "".join(lines)


def fstab_append(text, line):
    """``text`` with ``line`` added at its end (after a newline the text lacked)."""
    if text and not text.endswith("\n"):
        text += "\n"
    return text + line + "\n"


def dev_shm_line(required):
    """The fstab line for /dev/shm where systemd mounted it alone (its nosuid, nodev kept)."""
    return "tmpfs /dev/shm tmpfs " + ",".join(add_flags(["defaults", *SYSTEMD_DEV_SHM], required)) + " 0 0"


# ---------------------------------------------------------------------------------- systemd units
def unit_name(point):
    """The .mount unit systemd names after ``point`` (``systemd-escape --path --suffix=mount``)."""
    path = point.strip("/")
    if not path:
        return "-.mount"
    out = []
    for position, char in enumerate(path):
        if char == "/":
            out.append("-")
        elif char.isascii() and (char.isalnum() or char in ":_" or (char == "." and position > 0)):
            out.append(char)
        else:
            out.append("".join(f"\\x{byte:02x}" for byte in char.encode("utf-8")))
    return "".join(out) + ".mount"


def unit_mount_options(texts):
    """``(options, index)``: the ``Options=`` of the [Mount] section in effect over unit texts read in
    order (the unit, then its drop-ins) - the last assignment wins, an empty one resets - and the index of
    the text that made it. ``(None, None)`` when no text assigns it."""
    value = which = None
    for index, text in enumerate(texts):
        section = None
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, sep, rest = line.partition("=")
            if sep and section == "Mount" and key.strip() == "Options":
                value, which = rest.strip(), index
    return value, which


def order_drop_ins(listing):
    """The drop-in files systemd reads, in order: ``listing`` is ``(directory, [names])`` per drop-in
    directory, the strongest first; a ``*.conf`` name is claimed by the first directory holding it, and the
    files are read in the order of their names."""
    claimed = {}
    for directory, names in listing:
        for name in names:
            if name.endswith(".conf") and not name.startswith(".") and name not in claimed:
                claimed[name] = os.path.join(directory, name)
    return [claimed[name] for name in sorted(claimed)]


def render_drop_in(options):
    """Our drop-in: the [Mount] Options= in full (systemd has no 'add to Options=')."""
    return DROP_IN_HEADER + "[Mount]\nOptions=" + ",".join(options) + "\n"


# ---------------------------------------------------------------------------------- findmnt --verify
def verify_findings(stdout):
    """``[(target, kind, message)]`` from ``findmnt --verify`` output: a line without indentation names a
    target, each ``   [E] ...`` (error) or ``   [W] ...`` (warning) line below it is a finding. The
    summary (``N parse errors, N errors, N warnings``) goes to stderr."""
    findings, target = [], None
    for line in stdout.splitlines():
        match = re.match(r"^\s+\[([EW])\] (.*)$", line)
        if match:
            message = match.group(2).strip()
            # The warning that systemd has not reloaded /etc/fstab is about the host, not a line: findmnt
            # prints it under whichever target it printed last.
            where = None if message.startswith(SYSTEMD_STALE) else target
            findings.append((where, match.group(1), message))
        elif line and not line[0].isspace():
            target = line.strip()
    return findings


def parse_errors(stderr):
    """The count of ``N parse error(s)`` in findmnt's summary, 0 when there is none."""
    match = re.search(r"(\d+) parse errors?", stderr)
    return int(match.group(1)) if match else 0


def new_findings(candidate, current):
    """The findings of the candidate file that the current file does not have (a multiset difference):
    a warning the host already lives with (a disk unplugged, a stale daemon-reload) refuses nothing."""
    left = collections.Counter(current)
    found = []
    for finding in candidate:
        if left[finding]:
            left[finding] -= 1
        else:
            found.append(finding)
    return found


def describe_findings(findings):
    return "; ".join(f"{target or '(file)'}: [{kind}] {message}" for target, kind, message in findings)


# ---------------------------------------------------------------------------------- parameters
def check_mounts(mounts):
    """``({mount point: [flags]}, errors)`` from O(mounts), each error naming its value."""
    wanted, errors = {}, []
    for point, options in (mounts or {}).items():
        if not isinstance(point, str) or not point.startswith("/"):
            errors.append(f"mounts: {point!r} is not an absolute path")
            continue
        normal = os.path.normpath(point)
        if normal in ("/", "//"):
            errors.append("mounts: '/' is refused - the root file system is never remounted by this module")
            continue
        if normal in wanted:
            errors.append(f"mounts: {point!r} names {normal} twice")
            continue
        if not isinstance(options, list) or not options:
            errors.append(f"mounts: {point} needs a non-empty list of options, got {options!r}")
            continue
        bad = [option for option in options if option not in FLAGS]
        if bad:
            errors.append(f"mounts: {point}: {', '.join(map(repr, bad))} not one of {', '.join(FLAGS)}")
            continue
        wanted[normal] = [flag for flag in FLAGS if flag in options]
    if not wanted and not errors:
        errors.append("mounts is empty; give at least one mount point")
    return wanted, errors

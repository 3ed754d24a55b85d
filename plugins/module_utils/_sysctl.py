# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel parameters (sysctl) as systemd-sysctl resolves them: key and value normalisation, the
sysctl.d file order, the parsing of one file, which assignment wins for a key, and our own file.

Everything here is pure except list_conf_dirs(), which only lists directories."""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase

HEADER = "# Managed by bulwark.hardening (os_baseline)\n"

# A key component: what the kernel's /proc/sys names hold (interface names included: eth0.100, br-lan).
_COMPONENT = re.compile(r"[A-Za-z0-9_\-.:@+]+")
_GLOB = frozenset("*?[")


def swap_separators(key):
    """Swap dots and slashes: ``net.ipv4.conf.eth0/100.rp_filter`` <-> ``net/ipv4/conf/eth0.100/rp_filter``."""
    return key.translate(str.maketrans("./", "/."))


def file_key(key):
    """A key as a sysctl.d file may write it, in dotted form, without judging it (as systemd does).

    A key whose first separator is a slash is in path form, where a dot belongs to a name (a VLAN
    interface ``eth0.100``); its dotted form swaps the two separators, as sysctl(8) prints it.
    """
    key = key.strip().lstrip("/")
    for char in key:
        if char == "/":
            return swap_separators(key)
        if char == ".":
            break
    return key


def normalize_key(key):
    """A key of O(settings) in dotted form; ValueError naming it if it is not a plain sysctl key."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"settings: {key!r} is not a sysctl key")
    if any(char in key for char in "\n\r=") or any(char.isspace() for char in key):
        raise ValueError(f"settings: {key!r} is not a sysctl key (no whitespace, newline or '=' in a key)")
    if _GLOB & set(key):
        raise ValueError(f"settings: {key!r} is a glob; name each key")
    if key.startswith("-"):
        raise ValueError(f"settings: {key!r} starts with '-' (sysctl.d's ignore-failure prefix); name the key alone")
    dotted = file_key(key)
    components = swap_separators(dotted).split("/")
    if len(components) < 2 or any(part in ("", ".", "..") or not _COMPONENT.fullmatch(part) for part in components):
        raise ValueError(f"settings: {key!r} is not a sysctl key such as net.ipv4.ip_forward or net/ipv4/ip_forward")
    return dotted


def proc_path(proc_root, key):
    """Where the kernel shows the dotted ``key``: ``/proc/sys/net/ipv4/ip_forward``."""
    return os.path.join(proc_root, swap_separators(key))


def normalize_value(value):
    """A value as the kernel prints it: its words separated by one blank (tcp_rmem prints tabs)."""
    return " ".join(str(value).split())


def setting_value(key, value):
    """The value to configure for ``key``: a string or an integer; ValueError naming the key otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"settings: {key} is a boolean ({value}); give the number the kernel expects (1 or 0)")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"settings: {key} must be a string or an integer, got {type(value).__name__} {value!r}")
    text = normalize_value(value)
    if "\n" in value.strip() or "\r" in value.strip():
        raise ValueError(f"settings: the value of {key} holds a newline: {value!r}")
    if not text:
        raise ValueError(f"settings: {key} has an empty value")
    return text


def normalize_settings(settings):
    """``{dotted key: value text}`` of O(settings), and the errors, each naming its key."""
    wanted, errors, seen = {}, [], {}
    for key, value in settings.items():
        try:
            dotted = normalize_key(key)
            text = setting_value(dotted, value)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if dotted in seen:
            errors.append(f"settings: {key!r} and {seen[dotted]!r} are the same key {dotted}")
            continue
        seen[dotted] = key
        wanted[dotted] = text
    return wanted, errors


def render(wanted):
    """Our file: a header, then ``key = value`` per key, sorted by key."""
    return HEADER + "".join(f"{key} = {wanted[key]}\n" for key in sorted(wanted))


def parse_conf(text):
    """The assignments of a sysctl.d file, in order, as systemd-sysctl reads them.

    Each is ``(dotted key, value or None, line number)``. Blank lines and lines starting with
    ``#`` or ``;`` are skipped; ``-key = value`` is an assignment (the ``-`` only tells
    systemd-sysctl to ignore a failure); ``-key`` alone (value None) keeps a key out of every glob;
    any other line without ``=`` is ignored.
    """
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, value = stripped.partition("=")
        if key.startswith("-"):
            key = key[1:]
        elif not sep:
            continue
        key = file_key(key)
        if key:
            found.append((key, value.strip() if sep else None, number))
    return found


def is_glob(key):
    return bool(_GLOB & set(key))


def glob_matches(pattern, key):
    """Whether a glob key of a file matches a dotted key: component by component, as glob(3) on /proc/sys."""
    parts, names = swap_separators(pattern).split("/"), swap_separators(key).split("/")
    return len(parts) == len(names) and all(fnmatchcase(name, part) for part, name in zip(parts, names))


def order_conf_files(entries):
    """The sysctl.d files systemd-sysctl reads, in the order it reads them.

    ``entries`` are ``(directory, name, kind)`` in the order of the directories searched; kind is
    ``file``, ``mask`` (a link to /dev/null or an empty file) or ``other`` (not a regular file,
    ignored). A name ending ``.conf`` and not hidden is claimed by the first directory holding it
    as a file or a mask; a mask hides it from every later directory. The files left are read in
    the order of their names.

    Returns ``(paths in reading order, {name: path of the entry that claimed it})``; the second
    tells which file or mask hides a later directory's file of the same name.
    """
    claimed = {}
    for directory, name, kind in entries:
        if not name.endswith(".conf") or name.startswith(".") or kind == "other" or name in claimed:
            continue
        claimed[name] = (directory, kind)
    return [os.path.join(directory, name) for name, (directory, kind) in sorted(claimed.items()) if kind == "file"], {
        name: os.path.join(directory, name) for name, (directory, kind) in claimed.items()
    }


def list_conf_dirs(directories):
    """``(directory, name, kind)`` of each entry of ``directories`` (see order_conf_files)."""
    entries = []
    for directory in directories:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            entries.append((directory, name, entry_kind(path)))
    return entries


def entry_kind(path):
    try:
        info = os.stat(path)
    except OSError:
        return "other"  # a dangling link
    if os.path.realpath(path) == os.devnull:
        return "mask"
    if not os.path.isfile(path):
        return "other"
    return "mask" if info.st_size == 0 else "file"


def resolve(files, keys):
    """Which assignment is in effect at boot for each dotted key of ``keys``.

    ``files`` are ``(path, assignments)`` in reading order (assignments as parse_conf returns
    them). A later assignment of a key replaces an earlier one. A glob applies to a key only when
    no file assigns that key itself (systemd-sysctl: "explicit setting exists"), and then the glob
    assigned last wins. Returns ``{key: {"value": value or None, "file": path}}`` for each key some
    file sets; value None means a ``-key`` line keeps the key unset.
    """
    explicit, globs = {}, {}
    for path, assignments in files:
        for key, value, _number in assignments:
            if is_glob(key):
                if value is not None:
                    globs.pop(key, None)
                    globs[key] = {"value": value, "file": path}
            else:
                explicit[key] = {"value": value, "file": path}
    found = {}
    for key in keys:
        if key in explicit:
            found[key] = explicit[key]
            continue
        matching = [entry for pattern, entry in globs.items() if glob_matches(pattern, key)]
        if matching:
            found[key] = matching[-1]
    return found


def overrides(wanted, configured, dest):
    """``{key: {"file", "value"}}`` for each key of ``wanted`` that another file sets otherwise at boot."""
    found = {}
    for key, value in wanted.items():
        entry = configured.get(key)
        if entry is None or entry["file"] == dest:
            continue
        if entry["value"] is None or normalize_value(entry["value"]) != value:
            found[key] = {"file": entry["file"], "value": entry["value"]}
    return found


def override_message(found):
    """One sentence per overridden key, naming the file and its value."""
    parts = []
    for key in sorted(found):
        entry = found[key]
        what = f"sets {key} = {entry['value']}" if entry["value"] is not None else f"unsets {key} ('-{key}')"
        parts.append(f"{entry['file']} {what}")
    return "; ".join(parts)

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What sudo really applies: its own ``sudo -l -U user`` answer, and the sudoers line behind it.

Resolution is the one sudo 1.9 uses: every Defaults entry that matches is applied in the order
of the parsed files (later wins, whatever its binding), ``sudo -l`` lists the matching generic,
host and user entries in that order, and the runas (``Defaults>``) and command (``Defaults!``)
entries separately, because they apply only to some commands.

Values as ``sudo -l`` prints them: quoted when they hold a blank (a ``"`` inside escaped with
``\\``), otherwise with ``\\`` before ``: \\ , = # "``.  Long lines are wrapped at a blank onto
lines indented like the first (only on a terminal; sudo 1.9.13 and 1.9.16 print the same).
"""

from __future__ import annotations

import os
import re

MATCHING = re.compile(r"^Matching Defaults entries for (?P<user>.+) on (?P<host>.+):$")
SPECIFIC = re.compile(r"^Runas and Command-specific defaults for (?P<user>.+):$")
ALLOWED = re.compile(r"^User (?P<user>.+) may run the following commands on ")
NOT_ALLOWED = re.compile(r"^User (?P<user>.+) is not allowed to run sudo on ")
UNKNOWN_USER = re.compile(r"unknown user:? ?(?P<user>\S*)")
ENTRY = re.compile(r"^(?P<neg>!*)\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:(?P<op>[+-]?=)\s*(?P<value>.*))?$", re.S)
DEFAULTS = re.compile(
    r"^Defaults(?:(?P<kind>[:@>!])\s*(?P<binding>(?:[^\s,]+\s*,\s*)*[^\s,]+))?(?:\s+(?P<rest>.*))?$", re.S
)
INCLUDE = re.compile(r"^[@#](?P<what>includedir|include)\s+(?P<path>.+?)\s*$")
MAX_INCLUDE_DEPTH = 128  # sudo's own limit

# Binding kinds: "" generic, "@" host, ":" user, ">" runas, "!" command.
GENERAL_KINDS = ("", "@", ":")


def split_entries(text):
    """Split a Defaults parameter list on its commas, outside quotes and ``\\`` escapes."""
    entries, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char == "," and not quoted:
            entries.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    entries.append("".join(current).strip())
    return [entry for entry in entries if entry]


def unquote(value):
    """A value as sudo stores it: quotes removed, ``\\x`` read as ``x``."""
    value = value.strip()
    out, quoted, escaped = [], False, False
    for char in value:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        else:
            out.append(char)
    return "".join(out)


def parse_entry(text):
    """One Defaults entry as ``(name, op, value)``.

    ``op`` is ``"flag"`` (``name``), ``"negate"`` (``!name``), ``"="``, ``"+="`` or ``"-="``;
    ``value`` is the unquoted string, or None for a flag.  Raises ValueError naming the entry.
    """
    match = ENTRY.match(text.strip())
    if not match:
        raise ValueError(f"not a Defaults entry: {text!r}")
    negated = len(match["neg"]) % 2 == 1
    if match["op"] is None:
        return match["name"], "negate" if negated else "flag", None
    if negated:
        raise ValueError(f"a negated Defaults entry takes no value: {text!r}")
    return match["name"], match["op"], unquote(match["value"])


def apply_entry(current, op, value):
    """The value of a setting after one entry: True/False, a string, or a list (list operators)."""
    if op == "flag":
        return True
    if op == "negate":
        return False
    if op == "=":
        return value
    items = current if isinstance(current, list) else (current.split() if isinstance(current, str) else [])
    if op == "+=":
        return items + [item for item in value.split() if item not in items]
    removed = set(value.split())
    return [item for item in items if item not in removed]


def resolve(entries, names, start=None):
    """Apply parsed entries in order (later wins) and return ``{name: value}`` for ``names``.

    A name no entry sets is None: sudo's built-in default applies.
    """
    values = dict(start) if start else dict.fromkeys(names)
    for name, op, value in entries:
        if name in values:
            values[name] = apply_entry(values[name], op, value)
    return values


def join_section(lines):
    """The indented lines of one ``sudo -l`` section as one line (wrapping broke it at blanks)."""
    return " ".join(line.strip() for line in lines if line.strip())


def parse_list_output(text):
    """``sudo -l -U user`` output as a dict.

    ``allowed`` (bool: the user may run something; sudo lists Defaults only then), ``entries``
    (the matching generic/host/user entries, parsed, in order) and ``specific`` (a list of
    ``{"kind", "binding", "entries"}`` for the runas and command Defaults).
    Raises ValueError when the text is none of sudo's answers.
    """
    sections, current = [], None
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        if line[:1].isspace():
            if current is None:
                raise ValueError(f"indented line outside a section: {line.strip()!r}")
            current[1].append(line)
        else:
            current = (line.strip(), [])
            sections.append(current)
    result = {"allowed": None, "entries": [], "specific": []}
    for header, body in sections:
        if MATCHING.match(header):
            result["entries"] = [parse_entry(entry) for entry in split_entries(join_section(body))]
        elif SPECIFIC.match(header):
            text = join_section(body)
            for chunk in re.split(r"\s+(?=Defaults[>!@:])", text):
                parsed = parse_defaults_line(chunk)
                if parsed is None:
                    raise ValueError(f"not a Defaults line: {chunk!r}")
                result["specific"].append(parsed)
        elif ALLOWED.match(header):
            result["allowed"] = True
        elif NOT_ALLOWED.match(header):
            result["allowed"] = False
    if result["allowed"] is None:
        raise ValueError(f"not the output of sudo -l: {(text or '').strip()[:120]!r}")
    return result


def parse_defaults_line(text):
    """One logical Defaults line as ``{"kind", "binding", "entries"}``, or None for another line."""
    match = DEFAULTS.match(text.strip())
    if not match or not (match["rest"] or "").strip():
        return None
    return {
        "kind": match["kind"] or "",
        "binding": re.sub(r"\s+", "", match["binding"] or ""),
        "entries": [parse_entry(entry) for entry in split_entries(match["rest"])],
    }


def strip_comment(line):
    """A sudoers line without its comment (``#`` outside quotes and escapes; not ``#include``)."""
    if INCLUDE.match(line.strip()):
        return line
    quoted = escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:index]
    return line


def logical_lines(text):
    """``(line number, text)`` of each logical sudoers line: comments gone, ``\\`` continuations joined."""
    out, parts, first = [], [], None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = strip_comment(raw).rstrip()
        if first is None:
            first = number
        if line.endswith("\\") and not line.endswith("\\\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(part.strip() for part in parts).strip()
        if joined:
            out.append((first, joined))
        parts, first = [], None
    if parts:
        joined = " ".join(part.strip() for part in parts).strip()
        if joined:
            out.append((first, joined))
    return out


def parse_sudoers(text):
    """The Defaults lines and includes of one sudoers file, in order.

    Each item is ``{"line", "kind", "binding", "entries"}`` for a Defaults line, or
    ``{"line", "include": "include"|"includedir", "path"}``.  A Defaults line sudo would refuse
    raises ValueError naming its line.
    """
    items = []
    for number, line in logical_lines(text):
        include = INCLUDE.match(line)
        if include:
            items.append({"line": number, "include": include["what"], "path": unquote(include["path"])})
            continue
        if not re.match(r"^Defaults(?:[\s:@>!]|$)", line):
            continue
        try:
            parsed = parse_defaults_line(line)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if parsed is None:
            raise ValueError(f"line {number}: a Defaults line without settings: {line!r}")
        items.append({"line": number, **parsed})
    return items


def includedir_names(names):
    """The files of an includedir that sudo reads, in its order: lexical, none ending in ``~`` or holding a ``.``."""
    return sorted(name for name in names if not name.endswith("~") and "." not in name)


def include_path(path, including_file, hostname=""):
    """An include's path as sudo opens it: ``%h`` is the short host name; relative to the including file's directory."""
    path = path.replace("%%", "\0").replace("%h", hostname.split(".")[0]).replace("\0", "%")
    return os.path.normpath(os.path.join(os.path.dirname(including_file), path))


def read_sudoers(path, hostname="", depth=0):
    """Every Defaults line of ``path`` and the files it includes, in sudo's order.

    Items as parse_sudoers() returns them, each with its ``file``.  A missing included file or
    directory is skipped (sudo warns and goes on).  Raises ValueError naming the file.
    """
    if depth > MAX_INCLUDE_DEPTH:
        raise ValueError(f"{path}: includes nested deeper than {MAX_INCLUDE_DEPTH}")
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        if depth == 0:
            raise
        return []
    try:
        items = parse_sudoers(text)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    out = []
    for item in items:
        if "include" not in item:
            out.append({"file": path, **item})
            continue
        target = include_path(item["path"], path, hostname)
        if item["include"] == "include":
            out.extend(read_sudoers(target, hostname, depth + 1))
            continue
        try:
            names = os.listdir(target)
        except OSError:
            continue
        for name in includedir_names(names):
            full = os.path.join(target, name)
            if os.path.isfile(full):
                out.extend(read_sudoers(full, hostname, depth + 1))
    return out


def binding_applies(kind, binding, user, groups=()):
    """Whether a generic, host or user Defaults line may apply to ``user`` (in ``groups``).

    Host bindings and aliases cannot be decided here: they count as applying.  A user list
    applies when an item names the user, one of its groups (``%group``) or ``ALL``, and no
    ``!item`` excludes it.
    """
    if kind in ("", "@"):
        return True
    if kind != ":":
        return False
    positive = negative = False
    for raw in binding.split(","):
        negated = raw.startswith("!")
        item = raw.lstrip("!")
        if item in (user, "ALL") or (item.startswith("%") and item[1:] in groups) or item.isupper():
            if negated:
                negative = True
            else:
                positive = True
    return positive and not negative


def same_value(wanted, effective):
    """Whether an effective value is the wanted one (numbers compared as numbers, lists as sets)."""
    if effective is None:
        return wanted is None
    if isinstance(wanted, bool) or isinstance(effective, bool):
        return wanted is effective
    if isinstance(effective, list):
        return set(str(wanted).split()) == set(effective)
    wanted = str(wanted)
    if wanted == effective:
        return True
    try:
        return float(wanted) == float(effective)
    except ValueError:
        return False


def responsible_line(items, name, wanted, effective, user, *, groups=(), kind=None, binding=None):
    """The last sudoers line behind a wrong effective value: ``(file, line)`` or ``(None, None)``.

    ``items`` come from read_sudoers().  Looked at: the general lines that may apply to the user
    (or, with ``kind``/``binding``, the runas or command lines with that binding).  Preferred: the
    last line that sets the name to exactly the effective value; else the last that sets it to
    another value than the wanted one.
    """
    exact = other = (None, None)
    for item in items:
        if kind is None:
            if not binding_applies(item["kind"], item["binding"], user, groups):
                continue
        elif item["kind"] != kind or item["binding"] != binding:
            continue
        for entry_name, op, value in item["entries"]:
            if entry_name != name:
                continue
            result = apply_entry(None, op, value)
            where = (item["file"], item["line"])
            if op in ("flag", "negate", "=") and result == effective:
                exact = where
            if op in ("+=", "-=") or not same_value(wanted, result):
                other = where
    return exact if exact[0] else other


def show_value(value):
    """A value for a message or diff."""
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value) or '""'
    return str(value)

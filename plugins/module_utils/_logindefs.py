# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Password ageing as shadow and pam_unix read it: /etc/login.defs as shadow's getdef reads it,
/etc/default/useradd as useradd reads it, their in-place edit, /etc/shadow and /etc/passwd, and
what new ageing would mean today for each account (the lockout guard).

Everything here is pure: texts in, values out."""

from __future__ import annotations

import datetime
import re

# login.defs keys whose value shadow reads as a number (getdef_num and friends).
AGING_FIELDS = {"PASS_MAX_DAYS": "max", "PASS_MIN_DAYS": "min", "PASS_WARN_AGE": "warn"}
OCTAL_KEYS = frozenset({"UMASK", "HOME_MODE"})
NUMERIC_KEYS = frozenset({*AGING_FIELDS, *OCTAL_KEYS, "UID_MIN", "UID_MAX", "SYS_UID_MIN", "SYS_UID_MAX"})
# The methods shadow's salt code knows; any other value makes it fall back to DES.
ENCRYPT_METHODS = ("DES", "MD5", "SHA256", "SHA512", "BCRYPT", "YESCRYPT")
DEFAULT_UID_MIN = 1000
INACTIVE_KEY = "INACTIVE"
_KEY = re.compile(r"[A-Z][A-Z0-9_]*")
# C's strtol(s, &end, 0) over the whole string: leading white space, a sign, then hex, octal or decimal.
_STRTOL = re.compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_C_SPACE = " \t\n\v\f\r"
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
EPOCH = datetime.date(1970, 1, 1)
FIELDS = ("max", "min", "warn", "inactive")
CHAGE_OPTIONS = {"max": "--maxdays", "min": "--mindays", "warn": "--warndays", "inactive": "--inactive"}


# ----------------------------------------------------------------- numbers and dates


def c_number(text):
    """``text`` as C's strtol with base 0 reads it when it must use the whole string (shadow's
    getlong): ``"027"`` is octal 23, ``"0x10"`` is 16; None when it is not such a number."""
    match = _STRTOL.fullmatch(text)
    if not match:
        return None
    sign, digits = match.groups()
    if digits[:2] in ("0x", "0X"):
        value = int(digits[2:], 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits)
    return -value if sign == "-" else value


def getdef_num(value, default):
    """A login.defs value as getdef_num() returns it: the number, or ``default`` when the key is
    unset or its value is not a number that fits an int."""
    number = None if value is None else c_number(value)
    return default if number is None or not INT_MIN <= number <= INT_MAX else number


def day(days):
    """Days since 1970-01-01 as an ISO date (the unit of /etc/shadow)."""
    return (EPOCH + datetime.timedelta(days=days)).isoformat()


# ----------------------------------------------------------------- /etc/login.defs (getdef)


def getdef_line(line):
    """``(key, value)`` of one login.defs line as shadow's def_load() reads it, or None.

    Trailing white space goes; a line whose first non-blank is ``#`` is a comment (a ``#`` later on
    is part of the value); the key ends at the first blank, and a key alone is no setting; the value
    starts after the blanks and double quotes that follow the key and ends at the next double quote.
    """
    text = line.rstrip(_C_SPACE).lstrip(" \t")
    if not text or text[0] == "#":
        return None
    end = min((index for index in (text.find(" "), text.find("\t")) if index >= 0), default=-1)
    if end < 0:
        return None
    value = text[end + 1 :].lstrip(' "\t')
    return text[:end], value.split('"', 1)[0]


def resolve_getdef(text):
    """``{key: value}`` of a login.defs text: a later line of a key replaces an earlier one (putdef_str)."""
    found = {}
    for line in text.splitlines():
        parsed = getdef_line(line)
        if parsed:
            found[parsed[0]] = parsed[1]
    return found


def same_getdef(key, current, wanted):
    """Whether the value in the file already is the wanted one: as numbers for a numeric key
    (``"0027"`` is ``"027"``), else as text."""
    if key in NUMERIC_KEYS:
        number = c_number(current)
        return number is not None and number == c_number(wanted)
    return current == wanted


def getdef_render(line, key, value):
    """The line setting ``key`` to ``value``: an existing line keeps its indentation and the blanks
    after its key (quotes go), a new one is ``KEY<tab>value``."""
    if line is None:
        return f"{key}\t{value}\n"
    match = re.match(r"([ \t]*)(\S+)([ \t]+)", line)
    ending = "\n" if line.endswith("\n") else ""
    return f"{match.group(1)}{key}{match.group(3)}{value}{ending}"


def useradd_line(line):
    """``(key, value)`` of one /etc/default/useradd line as useradd reads it: the text before the
    first ``=`` is the key, exactly (no blanks trimmed, no comments: ``# INACTIVE=30`` has the key
    ``# INACTIVE``), the rest is the value."""
    key, sep, value = line.rstrip("\n").partition("=")
    return (key, value) if sep else None


def useradd_inactive(value):
    """INACTIVE as useradd reads a value: a number from -1 up, anything else (or none) -1."""
    number = None if value is None else c_number(value)
    return -1 if number is None or number < -1 else number


def resolve_useradd(text):
    """The INACTIVE useradd uses: its last line wins, an invalid one resets it to -1, none is -1."""
    value = None
    for line in text.splitlines():
        parsed = useradd_line(line)
        if parsed and parsed[0] == INACTIVE_KEY:
            value = parsed[1]
    return useradd_inactive(value)


def useradd_render(line, key, value):
    return f"{key}={value}\n"


def edit_in_place(text, wanted, parse, same, render):
    """``text`` with each key of ``wanted`` set, its comments and order kept.

    The line in effect for a key (its last active line, with ``parse``) is replaced when ``same``
    says its value differs; every other active line of the key is commented out with ``#``; a key
    with no active line is appended at the end. Editing the result again changes nothing.
    """
    lines = text.splitlines(keepends=True)
    where = {}
    for index, line in enumerate(lines):
        parsed = parse(line)
        if parsed and parsed[0] in wanted:
            where.setdefault(parsed[0], []).append(index)
    added = []
    for key, value in wanted.items():
        indexes = where.get(key)
        if not indexes:
            added.append(render(None, key, value))
            continue
        for index in indexes[:-1]:
            lines[index] = "#" + lines[index]
        last = indexes[-1]
        if not same(key, parse(lines[last])[1], value):
            lines[last] = render(lines[last], key, value)
    if added and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines + added)


def edit_login_defs(text, wanted):
    return edit_in_place(text, wanted, getdef_line, same_getdef, getdef_render)


def edit_useradd(text, inactive):
    def same(_key, current, value):
        return useradd_inactive(current) == int(value)

    return edit_in_place(text, {INACTIVE_KEY: str(inactive)}, useradd_line, same, useradd_render)


# ----------------------------------------------------------------- the options


def setting_text(key, value):
    """The text to write for ``key``; ValueError naming the key and value when it cannot be one."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"settings: {key} must be a string or an integer, got {type(value).__name__} {value!r}")
    if isinstance(value, int):
        if key in OCTAL_KEYS:
            # YAML reads an unquoted 027 as the number 23: written in octal, it is what was meant.
            if value < 0:
                raise ValueError(f"settings: {key} must not be negative, got {value}")
            return "0" + format(value, "o") if value else "0"
        return str(value)
    text = value.strip()
    if not text or any(char in text for char in '"\n\r'):
        raise ValueError(f"settings: {key} needs a value on one line without double quotes, got {value!r}")
    return text


def normalize_settings(settings):
    """``{key: value text}`` of O(settings), and the errors, each naming its key and value."""
    wanted, errors = {}, []
    for key, value in settings.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            errors.append(f"settings: {key!r} is not a login.defs key (upper case, digits and _)")
            continue
        try:
            text = setting_text(key, value)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if key in NUMERIC_KEYS and getdef_num(text, None) is None:
            errors.append(f"settings: {key} must be a number, got {value!r}")
        elif key in AGING_FIELDS and getdef_num(text, 0) < -1:
            errors.append(f"settings: {key} must be -1 or more, got {value!r}")
        elif key == "ENCRYPT_METHOD" and text not in ENCRYPT_METHODS:
            errors.append(
                f"settings: ENCRYPT_METHOD must be one of {', '.join(ENCRYPT_METHODS)} (shadow falls back to DES"
                f" for any other), got {value!r}"
            )
        else:
            wanted[key] = text
    low, high = wanted.get("PASS_MIN_DAYS"), wanted.get("PASS_MAX_DAYS")
    if low is not None and high is not None and -1 < getdef_num(high, 0) < getdef_num(low, 0):
        errors.append(f"settings: PASS_MIN_DAYS {low} is more than PASS_MAX_DAYS {high}; no change would be allowed")
    return wanted, errors


def targets_of(wanted, inactive):
    """The shadow fields the settings ask of every account: ``{max, min, warn, inactive}`` (those given)."""
    targets = {field: getdef_num(wanted[key], None) for key, field in AGING_FIELDS.items() if key in wanted}
    if inactive is not None:
        targets["inactive"] = inactive
    return targets


# ----------------------------------------------------------------- /etc/passwd and /etc/shadow


def parse_passwd(text):
    """``{name: uid}`` of /etc/passwd (NIS ``+``/``-`` lines and malformed ones skipped)."""
    found = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] and fields[0][0] not in "+-" and fields[2].isdigit():
            found.setdefault(fields[0], int(fields[2]))
    return found


def shadow_number(name, label, text):
    if text == "":
        return None
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ValueError(f"the {label} of {name} is not a number: {text!r}")
    return int(text)


def parse_shadow(text):
    """The accounts of /etc/shadow, in order: ``{name, hash, lastchg, min, max, warn, inactive,
    expire}``, a number or None for an empty field. ValueError naming the account for a field that
    is not a number (glibc would read it differently from us: better stop)."""
    labels = ("last change", "min days", "max days", "warn days", "inactive days", "expiry")
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if not fields[0] or fields[0][0] in "+-" or len(fields) < 2:
            continue
        name = fields[0]
        fields += [""] * (9 - len(fields))
        numbers = [shadow_number(name, label, value) for label, value in zip(labels, fields[2:8])]
        entry = dict(zip(("lastchg", "min", "max", "warn", "inactive", "expire"), numbers))
        entries.append({"name": name, "hash": fields[1], **entry})
    return entries


def usable_hash(value):
    """Whether a password hash can be used to log in: not empty, not locked (``!``) or none (``*``)."""
    return bool(value) and value[0] not in "!*"


# ----------------------------------------------------------------- the plan and the guard


def planned_aging(entry, targets):
    """The four fields the account would get: the target, or its own value where that is stricter
    (a smaller maximum from 1 up, a larger minimum not above the maximum, a larger warning, a
    smaller inactive period from 0 up). Fields without a target stay as they are."""
    after = {field: entry[field] for field in FIELDS}
    if "max" in targets:
        target, current = targets["max"], entry["max"]
        keep = current is not None and target >= 0 and min(1, target) <= current <= target
        after["max"] = current if keep else target
    if "min" in targets:
        current, ceiling = entry["min"], after["max"]
        keep = current is not None and current >= targets["min"] and (ceiling in (None, -1) or current <= ceiling)
        after["min"] = current if keep else targets["min"]
    if "warn" in targets:
        current = entry["warn"]
        after["warn"] = current if current is not None and current >= targets["warn"] else targets["warn"]
    if "inactive" in targets:
        target, current = targets["inactive"], entry["inactive"]
        keep = current is not None and target >= 0 and 0 <= current <= target
        after["inactive"] = current if keep else target
    return after


def login_refusal(lastchg, aging, today):
    """Why pam_unix's account phase would refuse or force a password change today with ``aging``
    (its check_shadow_expiry, an empty field being -1 as glibc reads it), or None."""
    last = -1 if lastchg is None else lastchg
    most = -1 if aging["max"] is None else aging["max"]
    grace = -1 if aging["inactive"] is None else aging["inactive"]
    if last == 0:
        return "its last password change is 0: the password must be changed at the next login"
    if today < last:
        return None
    age = today - last
    changed = "it has no last change date" if lastchg is None else f"last changed {day(last)}"
    if most != -1 and grace != -1 and age > most and age > grace and age > most + grace:
        return (
            f"its password ({changed}) would have expired on {day(last + most)} with max {most} days and its"
            f" {grace} inactive days ended on {day(last + most + grace)}: the account would be locked"
        )
    if most != -1 and age > most:
        return f"its password ({changed}) would have expired on {day(last + most)} with max {most} days"
    return None


def fix_hint(name, today):
    return (
        f"set a new password for it (passwd {name}), or record today as its last change"
        f" (chage -d {day(today)} {name}), or leave its ageing alone with exclude: [{name}]"
    )


def aging_text(name, aging):
    shown = ", ".join(f"{field} {'(none)' if aging[field] is None else aging[field]}" for field in FIELDS)
    return f"{name}: {shown}\n"


def findings_of(entries, today):
    """What the accounts show that no setting fixes: a last change in the future (CIS 5.4.1.6),
    an empty password field (CIS 7.2.2)."""
    found = []
    for entry in entries:
        if entry["lastchg"] is not None and entry["lastchg"] > today:
            found.append(
                {
                    "user": entry["name"],
                    "control": "5.4.1.6",
                    "message": f"last password change {day(entry['lastchg'])} is in the future",
                }
            )
        if entry["hash"] == "":
            found.append(
                {"user": entry["name"], "control": "7.2.2", "message": "empty password field: no password asked"}
            )
    return found


def plan_accounts(entries, uids, targets, today, *, uid_min, protect=(), exclude=()):
    """What the settings would do to each account, judged before anything is written.

    Returns ``(changes, skipped, refusals)``: ``{name: {"before", "after"}}`` for each account whose
    fields would change; ``{name: reason}`` for an account left alone although it differs (not in
    /etc/passwd, excluded, or new ageing that would lock it out today); and one message per protected account
    that new ageing would lock out (the call must fail). Accounts without a usable password, below
    ``uid_min`` or in ``exclude`` are not judged.
    """
    changes, skipped, refusals = {}, {}, []
    for entry in entries:
        name = entry["name"]
        if not usable_hash(entry["hash"]):
            continue
        before = {field: entry[field] for field in FIELDS}
        after = planned_aging(entry, targets)
        if after == before:
            continue
        if name in exclude:
            skipped[name] = "left as it is: excluded (option exclude)"
            continue
        if name not in uids:
            skipped[name] = "left as it is: not in /etc/passwd, so its UID is unknown"
            continue
        if uids[name] < uid_min:
            continue
        refusal = login_refusal(entry["lastchg"], after, today)
        if refusal is None:
            changes[name] = {"before": before, "after": after}
        elif name in protect:
            refusals.append(
                f"{name} is protected (the connection's user) and new password ageing would lock it out: "
                f"{refusal}; {fix_hint(name, today)}"
            )
        else:
            skipped[name] = f"left as it is: new ageing would lock it out today - {refusal}"
    return changes, skipped, refusals


def expiry_warnings(entries, changes, protect, today, soon=7):
    """One warning per protected account whose password the new ageing makes expire within ``soon``
    days (or its warning period, when longer): not a lockout today, but one the operator must see."""
    lastchg = {entry["name"]: entry["lastchg"] for entry in entries}
    warnings = []
    for name in sorted(set(changes) & set(protect)):
        after, last = changes[name]["after"], lastchg.get(name)
        if after["max"] in (None, -1) or last is None or last > today:
            continue
        left = last + after["max"] - today
        if left < max(soon, after["warn"] or 0):
            warnings.append(
                f"{name} (protected): with the new ageing its password expires on {day(last + after['max'])}, in"
                f" {left} days; then pam_unix forces a change and a key-only login fails - set a new password first"
            )
    return warnings


def chage_argv(chage, name, before, after, root="/"):
    """The chage command setting the fields that differ."""
    argv = [chage] + (["--root", root] if root != "/" else [])
    for field in FIELDS:
        if after[field] != before[field]:
            argv += [CHAGE_OPTIONS[field], str(-1 if after[field] is None else after[field])]
    return [*argv, name]

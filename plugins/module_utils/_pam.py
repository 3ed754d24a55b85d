# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PAM on Debian as pam-auth-update builds it and as libpam reads it: the profiles of
/usr/share/pam-configs, the managed block of /etc/pam.d/common-* that pam-auth-update writes
from them, the hand edits it keeps or refuses, the stack lines libpam runs, the settings files
of pam_faillock, pam_pwquality (libpwquality) and pam_pwhistory, and the judgement of what is
in effect: a module's arguments on its line override its settings file.

Everything here is pure: text in, data out."""

from __future__ import annotations

import re

TYPES = ("auth", "account", "password", "session", "session-noninteractive")
# What the module judges: the stacks that the services include.
JUDGED = ("auth", "account", "password")
BEGIN_PRIMARY = '# here are the per-package modules (the "Primary" block)'
FALLBACK = "# here's the fallback if no module succeeds"
BEGIN_ADDITIONAL = '# and here are more per-package modules (the "Additional" block)'
END_BLOCK = "# end of pam-auth-update config"

# pam-auth-update's split of a profile line: control (a word or [...]), module, options.
_PROFILE_LINE = re.compile(r"^((\[[^]]+\]|\w+)\s+\S+)\s*(.*)")
_JUMP_NUMBER = re.compile(r"(\[[^0-9]*)[0-9]+(.*\])")
_JUMP_END = re.compile(r"(\[.*)end(.*\])")
_FIELD = re.compile(r"^(\S+):\s+(.*?)\s*$")
_HASHES = ("md5", "bigcrypt", "sha256", "sha512", "blowfish", "gost_yescrypt", "yescrypt")

# Built-in defaults where no file nor argument sets a value (pam_faillock(8), pwquality.conf(5),
# pam_pwhistory(8)); a flag absent is off.
DEFAULTS = {
    "faillock": {"deny": "3", "unlock_time": "600", "fail_interval": "900"},
    "pwquality": {"difok": "1", "minlen": "8", "maxrepeat": "0", "maxsequence": "0", "dictcheck": "1",
                  "enforcing": "1"},
    "pwhistory": {"remember": "10"},
}  # fmt: skip
# Arguments of a line that are not settings (pam_pwquality and pam_pwhistory passwords, faillock mode).
NOT_SETTINGS = {"preauth", "authfail", "authsucc", "try_first_pass", "use_first_pass", "debug"}


# ----------------------------------------------------------------- profiles (/usr/share/pam-configs)


def parse_profile(text):
    """A pam-auth-update profile as pam-auth-update reads it: ``{field: value}``.

    ``Name: value`` starts a field (``-Final`` dropped from the name); an indented line adds a
    line to the last field (stripped); ``Conflicts`` is a set of profile names. ``Priority``
    is an int (0 when absent or not a number).
    """
    profile, field = {}, None
    for raw in text.splitlines():
        match = _FIELD.match(raw) or re.match(r"^(\S+):()$", raw.rstrip())
        if match and not raw[:1].isspace():
            field = match.group(1)
            if field.endswith("-Final"):
                field = field[: -len("-Final")]
            if field == "Conflicts":
                profile["Conflicts"] = set(match.group(2).split(", ")) if match.group(2) else set()
            else:
                profile[field] = match.group(2)
            continue
        line = raw.strip()
        if field is not None and line and field != "Conflicts":
            profile[field] = f"{profile.get(field, '')}\n{line}".lstrip("\n\t ")
    if "Session-Interactive-Only" not in profile:
        for suffix in ("-Type", "", "-Initial"):
            if f"Session{suffix}" in profile:
                profile[f"Session-noninteractive{suffix}"] = profile[f"Session{suffix}"]
    try:
        profile["Priority"] = int(profile.get("Priority", "0"))
    except ValueError:
        profile["Priority"] = 0
    return profile


def render_profile(name, priority, stacks, conflicts=()):
    """A profile's text: ``stacks`` maps a field (``Auth``, ``Auth-Initial``...) to its lines;
    ``Auth-Type`` and the like are given in ``stacks`` too."""
    out = [f"Name: {name}", "Default: yes", f"Priority: {priority}"]
    if conflicts:
        out.append("Conflicts: " + ", ".join(conflicts))
    for field, value in stacks.items():
        if isinstance(value, list):
            out.append(f"{field}:")
            out.extend(f"\t{line}" for line in value)
        else:
            out.append(f"{field}: {value}")
    return "\n".join(out) + "\n"


def sort_profiles(profiles, names):
    """pam-auth-update's order: higher Priority first, then names in reverse order."""
    return sorted(names, key=lambda name: (profiles[name]["Priority"], name), reverse=True)


def saved_modules(saved_texts):
    """The profiles enabled now, as pam-auth-update records them in /var/lib/pam/<type>."""
    found = []
    for text in saved_texts:
        for line in text.splitlines():
            if line.startswith("Module: ") and line[8:] not in found:
                found.append(line[8:])
    return found


def enabled_after(profiles, current, seen, enable=(), disable=()):
    """The profiles pam-auth-update enables after ``--enable enable --disable disable``.

    ``current`` is what the live block holds, ``seen`` the names of /var/lib/pam/seen. A profile
    with ``Default: yes`` that was never seen is enabled; one disabled becomes seen. Of two
    conflicting profiles, the one that declares ``Conflicts`` drops the other.
    """
    ordered = sort_profiles(profiles, list(profiles))
    seen = set(seen) | set(disable)
    enabled = [name for name in current if name in profiles] + [name for name in ordered if name in enable]
    enabled = [name for name in enabled if name not in disable]
    if not enabled:
        seen = set()
    enabled += [name for name in ordered if profiles[name].get("Default") == "yes" and name not in seen]
    enabled = sort_profiles(profiles, list(dict.fromkeys(enabled)))
    for name in list(enabled):
        if name not in enabled:
            continue
        for other in profiles[name].get("Conflicts", ()):
            if other in enabled and other != name:
                enabled.remove(other)
    return enabled


def _field(kind):
    return "Session-noninteractive" if kind == "session-noninteractive" else kind.capitalize()


def lines_for(profile, kind, position):
    """A profile's lines for stack ``kind`` at ``position`` in its block (``-Initial`` for the first)."""
    field = _field(kind)
    if position == 0 and profile.get(f"{field}-Initial"):
        return profile[f"{field}-Initial"]
    return profile.get(field, "")


def merge_line(line, count, edits=None):
    """One profile line as pam-auth-update writes it: ``end`` becomes the jump ``count``; the
    options added or removed by hand (``edits``: ``{"add": set, "remove": set}``) kept."""
    match = _PROFILE_LINE.match(line)
    if not match:
        return line
    modline = match.group(1).replace("end", str(count))
    opts = match.group(3).split()
    edits = edits or {}
    opts = [opt for opt in opts if opt not in edits.get("remove", ())]
    added = sorted(set(edits.get("add", ())) - set(opts))
    return modline + " " + " ".join(opts + added)


def edit_key(line):
    """The key pam-auth-update files hand edits under: control and module, jump numbers dropped."""
    match = _PROFILE_LINE.match(line)
    return _JUMP_END.sub(r"\1\2", _JUMP_NUMBER.sub(r"\1\2", match.group(1))) if match else line


def block(profiles, enabled, kind, which, edits=None):
    """The lines pam-auth-update writes in the ``which`` (Primary or Additional) block of ``kind``."""
    field = _field(kind)
    stack = kind.replace("-noninteractive", "")
    chosen = [name for name in enabled if profiles[name].get(f"{field}-Type") == which]
    parts = [[line for line in lines_for(profiles[name], kind, index).split("\n") if line.strip()]
             for index, name in enumerate(chosen)]  # fmt: skip
    count = sum(len(part) for part in parts)
    if which == "Additional":
        count -= 1
    out = []
    if which == "Primary" and count == 0:
        out.append(f"{stack}\t[default=1]\t\t\tpam_permit.so")
    for part in parts:
        for line in part:
            out.append(f"{stack}\t" + merge_line(line, count, (edits or {}).get(edit_key(line))))
            count -= 1
    return out


def render_common(template, profiles, enabled, kind, edits=None):
    """The new /etc/pam.d/common-``kind``: ``template`` (the live file) with its managed block
    rebuilt; None when the template lacks a marker (pam-auth-update then writes nothing)."""
    out, state = [], 0
    for line in template.splitlines():
        if state == 1:
            if line.startswith(FALLBACK):
                out.append(line)
                state = 2
            continue
        if state == 3:
            if line.startswith(END_BLOCK):
                out.append(line)
                state = 4
            continue
        out.append(line)
        if state == 0 and line.startswith(BEGIN_PRIMARY):
            out.extend(block(profiles, enabled, kind, "Primary", edits))
            state = 1
        elif state == 2 and line.startswith(BEGIN_ADDITIONAL):
            out.extend(block(profiles, enabled, kind, "Additional", edits))
            state = 3
    return "\n".join(out) + "\n" if state == 4 else None


def render_saved(profiles, enabled, kind):
    """/var/lib/pam/``kind``: the profiles' lines as pam-auth-update last wrote them."""
    field = _field(kind)
    out = []
    for which in ("Primary", "Additional"):
        chosen = [name for name in enabled if profiles[name].get(f"{field}-Type") == which]
        for index, name in enumerate(chosen):
            lines = lines_for(profiles[name], kind, index)
            if lines:
                out += [f"Module: {name}", lines]
        if which == "Primary" and not chosen:
            out += ["Module: null", "[default=1]\t\t\tpam_permit.so"]
    return "\n".join(out) + "\n"


def hand_edits(live, saved, kind):
    """How the live common-``kind`` differs from what pam-auth-update last wrote (``saved``).

    Returns ``(refusal, edits, modules)``. ``refusal`` is ``(line number, text)`` of the first
    line that pam-auth-update cannot match (a line added or moved by hand, a missing marker:
    it then refuses to write any common-* file without --force), else None. ``edits`` maps a
    line's key to ``{"add", "remove", "line"}``: options changed by hand, which pam-auth-update
    keeps when it rewrites the line. ``modules`` are the profiles found in the block.
    """
    entries, name = [], None
    for line in saved.splitlines():
        if line.startswith("Module: "):
            name = line[8:]
            continue
        stripped = _JUMP_END.sub(r"\1\2", _JUMP_NUMBER.sub(r"\1\2", line))
        entries.append((name, stripped))
    stack = kind.replace("-noninteractive", "")
    edits, modules, state, number = {}, [], 0, 0
    for number, line in enumerate(live.splitlines(), start=1):
        if state == 0:
            state = 1 if line.startswith(BEGIN_PRIMARY) else 0
            continue
        if state == 2:
            state = 3 if line.startswith(BEGIN_ADDITIONAL) else 2
            continue
        if state == 1 and line.startswith(FALLBACK):
            state = 2
            continue
        if state == 3 and line.startswith(END_BLOCK):
            return None, edits, modules
        text = re.sub(rf"^{re.escape(stack)}\s+", "", line)
        current = _JUMP_NUMBER.sub(r"\1\2", text)
        found = None
        while entries and found is None:
            name, saved_line = entries.pop(0)
            match = _PROFILE_LINE.match(saved_line)
            if not match:
                continue
            key = match.group(1)
            rest = re.match(rf"^{re.escape(key)}\s*(.*)$", current)
            if rest:
                found = (name, key, match.group(3).split(), rest.group(1).split())
        if found is None:
            return (number, line), edits, modules
        name, key, before, after = found
        modules.append(name)
        added, removed = set(after) - set(before), set(before) - set(after)
        if added or removed:
            edits[key] = {"add": added, "remove": removed, "line": number}
    return (number, f"no {END_BLOCK!r} marker"), edits, modules


# ----------------------------------------------------------------- the stack libpam reads


def parse_control(control):
    """``[success=2 default=ignore]`` as ``{"success": "2", "default": "ignore"}``; a word as itself."""
    if control.startswith("["):
        return dict(item.split("=", 1) for item in control.strip("[]").split() if "=" in item)
    return {"": control}


def parse_args(args):
    """Module arguments as settings: ``key=value`` -> value, a bare word -> True (later wins)."""
    found = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        found[key] = value if sep else True
    return found


def parse_stack(text):
    """The lines of a /etc/pam.d file, in order: ``{"line", "type", "control", "module", "args"}``,
    or ``{"line", "include"}`` for ``@include``. Comments (``#`` to the end), blank lines and
    ``\\`` continuations as libpam reads them; ``-type`` (skip a missing module) is ``type``."""
    out, parts, first = [], [], None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].rstrip()
        if first is None:
            first = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined, parts, start, first = " ".join(parts).strip(), [], first, None
        if not joined:
            continue
        if joined.startswith("@include"):
            out.append({"line": start, "include": joined.split(None, 1)[1].strip() if " " in joined else ""})
            continue
        match = re.match(r"^-?(\S+)\s+(\[[^]]*\]|\S+)\s+(\S+)\s*(.*)$", joined)
        if not match:
            continue
        out.append(
            {
                "line": start,
                "type": match.group(1).lower(),
                "control": match.group(2),
                "module": match.group(3).rsplit("/", 1)[-1],
                "args": match.group(4).split(),
            }
        )
    return out


def includes(stack, kind):
    """Whether a service's stack takes ``common-kind`` (``@include``, ``include`` or ``substack``)."""
    target = f"common-{kind}"
    for entry in stack:
        if entry.get("include") == target:
            return True
        if entry.get("type") == kind and entry.get("control") in ("include", "substack") and entry["module"] == target:
            return True
    return False


# ----------------------------------------------------------------- settings files


def parse_settings(text):
    """A ``key = value`` / bare-flag file (faillock.conf, pwquality.conf, pwhistory.conf):
    ``{key: (value or True, line number)}``, the later line winning."""
    found = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"^([^\s=]+)\s*(=?)\s*(.*)$", line)
        key, value = match.group(1), match.group(3).strip()
        found[key] = (value if (match.group(2) or value) else True, number)
    return found


def setting_text(key, value):
    """One line of a settings file for ``value`` (True: a bare flag), or None (False: no line)."""
    if value is True:
        return key
    if value is False or value is None:
        return None
    return f"{key} = {value}"


def edit_settings(text, wanted):
    """``text`` with each key of ``wanted`` set, in place, comments kept.

    The first active line of a key is replaced, later ones are commented out; a key with no
    active line goes after its commented example (``# deny = 3``), else at the end. A flag
    wanted off (False) has its lines commented out.
    """
    lines = text.splitlines()
    done = set()
    for index, raw in enumerate(lines):
        stripped = raw.split("#", 1)[0].strip()
        key = re.split(r"[\s=]", stripped, maxsplit=1)[0] if stripped else None
        if key not in wanted:
            continue
        wanted_line = setting_text(key, wanted[key])
        if key in done or wanted_line is None:
            lines[index] = "# " + raw
        else:
            lines[index] = wanted_line
        done.add(key)
    for key, value in wanted.items():
        wanted_line = setting_text(key, value)
        if key in done or wanted_line is None:
            continue
        example = re.compile(rf"^#\s*{re.escape(key)}(\s|=|$)")
        spots = [index for index, raw in enumerate(lines) if example.match(raw)]
        if spots:
            lines.insert(spots[-1] + 1, wanted_line)
        else:
            lines.append(wanted_line)
    return "\n".join(lines) + "\n"


# The bare flags of each settings file (faillock.conf(5), pwquality.conf(5), pwhistory.conf(5)); every
# other key takes a value, so a YAML yes/no there is a mistake, not a flag.
FLAGS = {
    "faillock": ("audit", "silent", "no_log_info", "local_users_only", "nodelay", "even_deny_root"),
    "pwquality": ("enforce_for_root", "local_users_only"),
    "pwhistory": ("enforce_for_root", "debug", "use_authtok"),
}


def normalize_settings(name, values):
    """``{key: str | True | False}`` of an option's dict; ValueError naming a bad key or value."""
    out = {}
    for key, value in (values or {}).items():
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(key)):
            raise ValueError(f"{name}: {key!r} is not a setting name")
        if isinstance(value, bool) and key not in FLAGS.get(name, ()):
            raise ValueError(
                f"{name}: {key} takes a number or a word, got {value!r} (YAML reads yes/no/true/false as a boolean;"
                f" the flags here are {', '.join(FLAGS[name])})"
            )
        if isinstance(value, bool):
            out[key] = value
        elif isinstance(value, int):
            out[key] = str(value)
        elif isinstance(value, str) and value.strip() and not re.search(r"[\s#=]", value.strip()):
            out[key] = value.strip()
        else:
            raise ValueError(f"{name}: {key} must be a number, a word or a boolean flag, got {value!r}")
    return out


def layered(layers, line_args, defaults):
    """What a module applies: each settings file in reading order (later wins), then the
    arguments on its line. Returns ``{key: {"value", "source"}}``; a default where nothing sets it."""
    found = {key: {"value": value, "source": "default"} for key, value in defaults.items()}
    for path, settings in layers:
        for key, (value, number) in settings.items():
            found[key] = {"value": value, "source": f"{path}:{number}"}
    for key, value in line_args.items():
        if key not in NOT_SETTINGS:
            found[key] = {"value": value, "source": "line"}
    return found


def same(wanted, entry):
    """Whether a wanted value (str, True or False) is what ``entry`` (from layered(), or None) holds."""
    value = entry["value"] if entry else None
    if wanted is True:
        return value is True or (isinstance(value, str) and value not in ("0", ""))
    if wanted is False:
        return value in (None, False)
    return value is not None and value is not True and str(value) == str(wanted)


def show(value):
    if value is True:
        return "set"
    if value in (None, False):
        return "not set"
    return str(value)


# ----------------------------------------------------------------- judgement of the live stacks


def find(stack, kind, module, arg=None):
    """Index of each ``kind`` line of ``module`` (with ``arg`` among its arguments, if given)."""
    return [index for index, entry in enumerate(stack) if entry.get("type") == kind and entry["module"] == module
            and (arg is None or arg in entry["args"])]  # fmt: skip


def where(path, entry):
    return f"{path}:{entry['line']}"


def judge_values(what, wanted, values, path, entry):
    """Drift sentences for the values of one line that differ from ``wanted``."""
    drift = []
    for key, value in wanted.items():
        got = values.get(key)
        if same(value, got):
            continue
        source = got["source"] if got else "nothing"
        if source == "line":
            source = f"its arguments at {where(path, entry)}"
        drift.append(f"{what} {key} is {show(got['value'] if got else None)} (from {source}), wanted {show(value)}")
    return drift


def judge_faillock(auth, account, paths, layers, wanted):
    """pam_faillock: preauth before pam_unix, authfail after it and jumped over on success, an
    account line; the values of each line (faillock.conf, then its arguments)."""
    drift, effective = [], {}
    unix = find(auth, "auth", "pam_unix.so")
    pre, fail = find(auth, "auth", "pam_faillock.so", "preauth"), find(auth, "auth", "pam_faillock.so", "authfail")
    if not pre:
        drift.append(f"{paths['auth']}: no 'auth pam_faillock.so preauth' line")
    if not fail:
        drift.append(f"{paths['auth']}: no 'auth pam_faillock.so authfail' line")
    if not find(account, "account", "pam_faillock.so"):
        drift.append(f"{paths['account']}: no 'account pam_faillock.so' line")
    if unix and pre and pre[0] > unix[0]:
        drift.append(f"{where(paths['auth'], auth[pre[0]])}: pam_faillock.so preauth comes after pam_unix.so")
    if unix and fail:
        entry = auth[unix[0]]
        if fail[0] < unix[0]:
            drift.append(f"{where(paths['auth'], auth[fail[0]])}: pam_faillock.so authfail comes before pam_unix.so")
        else:
            jump = parse_control(entry["control"]).get("success", "")
            if jump.isdigit() and unix[0] + int(jump) < fail[0]:
                drift.append(
                    f"{where(paths['auth'], entry)}: pam_unix.so success=[{jump}] lands on or before pam_faillock.so "
                    f"authfail ({where(paths['auth'], auth[fail[0]])}), which then denies a good password"
                )
    for mode, indexes in (("preauth", pre), ("authfail", fail)):
        for index in indexes:
            entry = auth[index]
            values = layered(layers, parse_args(entry["args"]), DEFAULTS["faillock"])
            effective[mode] = {"line": where(paths["auth"], entry), "values": plain(values)}
            drift += judge_values(f"{where(paths['auth'], entry)}: pam_faillock.so {mode}", wanted, values,
                                  paths["auth"], entry)  # fmt: skip
    return drift, effective


def judge_password_module(password, path, module, layers, *, wanted, defaults):
    """One password module (pam_pwquality, pam_pwhistory): present, and its values."""
    indexes = find(password, "password", module)
    if not indexes:
        return [f"{path}: no 'password {module}' line"], {}
    drift, effective = [], {}
    for index in indexes:
        entry = password[index]
        values = layered(layers, parse_args(entry["args"]), defaults)
        effective = {"line": where(path, entry), "values": plain(values)}
        drift += judge_values(f"{where(path, entry)}: {module}", wanted, values, path, entry)
    return drift, effective


def judge_order(password, path, names):
    """The password modules in ``names`` must come in that order, each before the next."""
    drift, last = [], None
    for name in names:
        indexes = find(password, "password", name)
        if not indexes:
            continue
        if last is not None and indexes[0] < last[1]:
            drift.append(f"{where(path, password[indexes[0]])}: {name} comes before {last[0]}")
        last = (name, indexes[0])
    return drift


def judge_unix(stacks, paths, wanted):
    """pam_unix: on every auth, account and password stack; no ``nullok`` (when wanted so), no
    ``remember=``; the wanted hash and ``use_authtok`` on its password line."""
    drift, effective = [], {}
    for kind in JUDGED:
        indexes = find(stacks[kind], kind, "pam_unix.so")
        if not indexes:
            drift.append(f"{paths[kind]}: no '{kind} pam_unix.so' line")
            continue
        for index in indexes:
            entry = stacks[kind][index]
            here = where(paths[kind], entry)
            effective.setdefault(kind, []).append({"line": here, "args": entry["args"]})
            args = parse_args(entry["args"])
            if wanted.get("nullok") is False and "nullok" in args:
                drift.append(f"{here}: pam_unix.so has nullok (an empty password logs in)")
            if "remember" in args:
                drift.append(f"{here}: pam_unix.so has remember={args['remember']} (pam_pwhistory keeps the history)")
            if kind != "password":
                continue
            hashes = [word for word in entry["args"] if word in _HASHES]
            if wanted.get("hashing") and hashes[-1:] != [wanted["hashing"]]:
                drift.append(f"{here}: pam_unix.so hashes with {hashes[-1] if hashes else 'no hash named'}, "
                             f"wanted {wanted['hashing']}")  # fmt: skip
            if wanted.get("use_authtok", True) and "use_authtok" not in args:
                drift.append(f"{here}: pam_unix.so lacks use_authtok")
    return drift, effective


def plain(values):
    """layered() values without their sources, for the result."""
    return {key: entry["value"] for key, entry in values.items()}


# ----------------------------------------------------------------- lockout guard


def sudo_needs_password(text):
    """From ``sudo -l -U user``: whether one of the user's rules asks a password (no NOPASSWD,
    and no ``!authenticate`` default). A user sudo lets run nothing needs none."""
    if re.search(r"^User \S+ is not allowed to run sudo", text or "", re.M):
        return False
    if re.search(r"(^|[\s,])!authenticate\b", text or ""):
        return False
    rules, in_rules = [], False
    for line in (text or "").splitlines():
        if re.match(r"^User \S+ may run the following commands", line):
            in_rules = True
            continue
        if in_rules and line[:1].isspace() and line.strip():
            rules.append(line.strip())
        elif in_rules and line.strip():
            in_rules = False
    return any("NOPASSWD:" not in rule or "PASSWD:" in rule.replace("NOPASSWD:", "") for rule in rules)


def empty_password_users(shadow_text, users):
    """The users of ``users`` whose /etc/shadow hash is empty (they log in with no password under nullok)."""
    found = []
    for line in shadow_text.splitlines():
        fields = line.split(":")
        if len(fields) > 1 and fields[0] in users and fields[1] == "":
            found.append(fields[0])
    return found


def _decimal(value):
    """A setting as pam_faillock's strtol reads it (base 10), or None for a word."""
    try:
        return int(str(value).strip(), 10)
    except ValueError:
        return None


def guard(faillock, unix, protect, empty_users):
    """``(errors, warnings)`` of the lockout guard, each naming the user.

    ``faillock`` is the faillock settings in effect after the change (None when unmanaged),
    ``unix`` the unix option, ``protect`` ``[{user, sudo_needs_password}]``.
    """
    errors, warnings = [], []
    if faillock is not None:
        deny = faillock.get("deny", DEFAULTS["faillock"]["deny"])
        unlock = faillock.get("unlock_time", DEFAULTS["faillock"]["unlock_time"])
        # As pam_faillock reads them: decimal numbers ("00" is 0), or "never" for unlock_time.
        permanent = str(unlock).strip() == "never" or _decimal(unlock) == 0
        for item in protect:
            if not item.get("sudo_needs_password") or _decimal(deny) == 0:
                continue
            if permanent:
                errors.append(
                    f"faillock deny={deny} with unlock_time={unlock}: {deny} wrong sudo passwords would lock "
                    f"{item['user']}'s sudo until someone runs faillock --reset (set unlock_time above 0, or give "
                    f"{item['user']} NOPASSWD)"
                )
            else:
                warnings.append(
                    f"faillock: {deny} wrong sudo passwords lock {item['user']}'s sudo (and logins) for "
                    f"{unlock} seconds"
                )
    if unix is not None and unix.get("nullok") is False:
        for user in empty_users:
            errors.append(
                f"nullok removed while {user} has an empty password: {user} could no longer log in; "
                f"give {user} a password or a locked one first"
            )
    return errors, warnings


# ----------------------------------------------------------------- our profiles


def faillock_profiles():
    """CIS's two faillock profiles: preauth (and the account line) above pam_unix, authfail below."""
    return {
        "bulwark-faillock-notify": render_profile(
            "bulwark.hardening: pam_faillock preauth and account (before pam_unix)",
            1024,
            {"Auth-Type": "Primary", "Auth": ["requisite\t\t\tpam_faillock.so preauth"],
             "Account-Type": "Primary", "Account": ["required\t\t\tpam_faillock.so"]},
        ),
        "bulwark-faillock": render_profile(
            "bulwark.hardening: pam_faillock authfail (after pam_unix)",
            0,
            {"Auth-Type": "Primary", "Auth": ["[default=die]\t\t\tpam_faillock.so authfail"]},
        ),
    }  # fmt: skip


def pwhistory_profile(values):
    """pam_pwhistory after pam_pwquality, before pam_unix, its settings on its line (pam_pwhistory
    before Linux-PAM 1.5.3, Debian 12's, reads no pwhistory.conf); ``use_authtok`` unless False."""
    values = dict(values)
    authtok = ["use_authtok"] if values.pop("use_authtok", True) is not False else []
    args = [text.replace(" ", "") for text in (setting_text(key, values[key]) for key in sorted(values)) if text]
    line = " ".join(["requisite\t\t\tpam_pwhistory.so", *args, "try_first_pass", *authtok])
    return render_profile("bulwark.hardening: pam_pwhistory password history", 1024,
                          {"Password-Type": "Primary", "Password": [line]})  # fmt: skip


def unix_profile(debian_text, nullok, hashing):
    """Debian's unix profile with nullok dropped (unless wanted), the hash chosen, no ``remember=``,
    and ``use_authtok`` on its (non-initial) password line; it declares ``Conflicts: unix``."""
    source = parse_profile(debian_text)
    stacks = {}
    for kind in ("Auth", "Account", "Session", "Password"):
        if f"{kind}-Type" not in source:
            continue
        stacks[f"{kind}-Type"] = source[f"{kind}-Type"]
        for field in (kind, f"{kind}-Initial"):
            if field not in source:
                continue
            lines = []
            for line in source[field].split("\n"):
                match = _PROFILE_LINE.match(line)
                if not match:
                    continue
                opts = [o for o in match.group(3).split() if not o.startswith("remember=")]
                if not nullok:
                    opts = [o for o in opts if o != "nullok"]
                if kind == "Password" and "pam_unix.so" in match.group(1):
                    opts = [o for o in opts if o not in _HASHES] + [hashing]
                    if field == kind and "use_authtok" not in opts:
                        opts.insert(0, "use_authtok")
                lines.append(" ".join([match.group(1), *opts]))
            stacks[field] = lines
    return render_profile("bulwark.hardening: Unix authentication (Debian's unix, hardened)",
                          source["Priority"], stacks, conflicts=["unix"])  # fmt: skip


# ----------------------------------------------------------------- su (CIS 5.2.7)

_WHEEL = "pam_wheel.so"
_WHEEL_COMMENTED = re.compile(r"^\s*#\s*auth\s+required\s+pam_wheel\.so\b[^\n]*$", re.MULTILINE)


def su_line(group):
    return f"auth       required   pam_wheel.so use_uid group={group}"


def su_entry_ok(entry, group):
    """Whether a parsed line of /etc/pam.d/su restricts su to ``group`` (pam_wheel, required, use_uid)."""
    args = parse_args(entry.get("args", []))
    return (
        entry.get("type") == "auth"
        and entry.get("module") == _WHEEL
        and parse_control(entry.get("control", "")) in ({"": "required"}, {"": "requisite"})
        and args.get("use_uid") is True
        and args.get("group") == group
        and "deny" not in args
        and "trust" not in args
    )


def su_judge(text, group):
    """Drift sentences for /etc/pam.d/su: a pam_wheel line for ``group`` before any other auth line but
    pam_rootok's (what libpam runs first decides: a ``sufficient`` module before it would let su in)."""
    stack = parse_stack(text)
    for entry in stack:
        if su_entry_ok(entry, group):
            return []
        if entry.get("include") or (entry.get("type") == "auth" and entry.get("module") != "pam_rootok.so"):
            where = f"line {entry['line']}"
            return [
                f"/etc/pam.d/su: no 'auth required pam_wheel.so use_uid group={group}' before {where}: "
                "anyone with root's password may use su (CIS 5.2.7)"
            ]
    return [f"/etc/pam.d/su: no 'auth required pam_wheel.so use_uid group={group}' (CIS 5.2.7)"]


def su_edit(text, group):
    """/etc/pam.d/su with our pam_wheel line: in place of an active pam_wheel line, else of Debian's
    commented one, else after pam_rootok's line, else before the first other auth line or include."""
    lines = text.splitlines()
    wanted = su_line(group)
    stack = parse_stack(text)
    for entry in stack:
        if entry.get("type") == "auth" and entry.get("module") == _WHEEL:
            lines[entry["line"] - 1] = wanted
            return "\n".join(lines) + "\n"
    match = _WHEEL_COMMENTED.search(text)
    if match:
        return text[: match.start()] + wanted + text[match.end() :]
    rootok = [entry["line"] for entry in stack if entry.get("module") == "pam_rootok.so"]
    if rootok:
        lines.insert(rootok[0], wanted)
        return "\n".join(lines) + "\n"
    first = next((entry["line"] for entry in stack if entry.get("include") or entry.get("type") == "auth"), None)
    lines.insert(first - 1 if first else 0, wanted)
    return "\n".join(lines) + "\n"


def su_group_state(group, group_text, passwd_text):
    """(exists, members): the members of ``group`` in /etc/group and the users whose primary group it is."""
    gid, members = None, []
    for line in group_text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] == group:
            gid, members = fields[2], [name for name in fields[3].split(",") if name]
            break
    if gid is None:
        return False, []
    for line in passwd_text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[3] == gid and fields[0] not in members:
            members.append(fields[0])
    return True, members

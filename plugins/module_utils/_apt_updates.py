# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the apt_updates module.

An *origin* is a dict with the keys unattended-upgrades matches on: ``origin``,
``label``, ``archive`` (the suite, e.g. ``oldstable-security``), ``codename``,
``component`` and ``site`` (values from a repository's Release file, as apt's cache
holds them).  A *pattern* is one entry of ``Unattended-Upgrade::Origins-Pattern``,
``origin=Debian,codename=${distro_codename}-security,label=Debian-Security``.

Nothing here touches the system: the module reads apt's cache and files.
"""

from __future__ import annotations

import datetime
import email.utils
import fnmatch
import json
import re

# Keys of an Origins-Pattern entry, with unattended-upgrades' short forms.
PATTERN_KEYS = {
    "origin": "origin",
    "o": "origin",
    "label": "label",
    "l": "label",
    "archive": "archive",
    "suite": "archive",
    "a": "archive",
    "codename": "codename",
    "n": "codename",
    "component": "component",
    "c": "component",
    "site": "site",
}

# unattended-upgrades.log: "2026-11-24 04:09:10,238 INFO Starting unattended upgrades script"
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,\d+)? (DEBUG|INFO|WARNING|ERROR|CRITICAL) (.*)$")
_RUN_START = "Starting unattended upgrades script"
_RUN_DRY = "Option --dry-run given"
# A run that got this far finished its work (unattended-upgrade's own words).
_RUN_DONE = ("All upgrades installed", "No packages found that can be upgraded unattended")


def parse_pattern(pattern: str, distro_id: str = "Debian", codename: str = "") -> dict:
    """Split an Origins-Pattern entry into ``{key: glob}`` with long key names.

    ``${distro_id}`` and ``${distro_codename}`` are substituted as unattended-upgrades
    does; a comma inside a value is written ``\\,``.  Raises ValueError naming the
    entry when a part has no ``=`` or an unknown key.
    """
    text = pattern.replace("${distro_id}", distro_id).replace("${distro_codename}", codename)
    parsed = {}
    for token in re.split(r"(?<!\\),", text):
        key, sep, value = token.partition("=")
        key = key.strip()
        if not sep or key not in PATTERN_KEYS:
            raise ValueError(
                f"origin pattern {pattern!r}: {token!r} is not key=value with a key among "
                f"{', '.join(sorted(set(PATTERN_KEYS.values())))}"
            )
        parsed[PATTERN_KEYS[key]] = value.replace("\\,", ",")
    return parsed


def origin_matches(pattern: dict, origin: dict) -> bool:
    """True when every key of a parsed pattern matches the origin (shell-style globs, case-sensitive)."""
    return all(fnmatch.fnmatchcase(origin.get(key) or "", glob) for key, glob in pattern.items())


def matches_any(patterns: list, origins: list) -> bool:
    """True when one of the origins matches one of the parsed patterns."""
    return any(origin_matches(p, o) for p in patterns for o in origins)


def _log_time(stamp: str) -> datetime.datetime:
    return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")


def parse_log(text: str) -> list:
    """Runs recorded in unattended-upgrades.log, oldest first.

    Each run is ``{"start": datetime, "dry_run": bool, "success": bool, "errors": [str]}``;
    a run succeeded when it reached unattended-upgrade's "All upgrades installed" or
    "No packages found ..." and logged no ERROR.  Lines before the first start (a
    rotated log's tail) and continuation lines of multi-line messages are skipped.
    """
    runs = []
    for line in text.splitlines():
        match = _LOG_LINE.match(line)
        if not match:
            continue
        stamp, level, message = match.groups()
        if message.startswith(_RUN_START):
            runs.append({"start": _log_time(stamp), "dry_run": False, "done": False, "errors": []})
            continue
        if not runs:
            continue
        run = runs[-1]
        if message.startswith(_RUN_DRY):
            run["dry_run"] = True
        if message.startswith(_RUN_DONE):
            run["done"] = True
        if level in ("ERROR", "CRITICAL"):
            run["errors"].append(message)
    for run in runs:
        run["success"] = run.pop("done") and not run["errors"]
    return runs


def last_runs(runs: list) -> tuple:
    """``(last real run, last successful real run)`` of parse_log's runs; dry runs do not count."""
    real = [run for run in runs if not run["dry_run"]]
    last = real[-1] if real else None
    good = [run for run in real if run["success"]]
    return last, (good[-1] if good else None)


def parse_release_date(text: str):
    """The ``Date:`` of a Release or InRelease file as an aware UTC datetime, or None."""
    for line in text.splitlines():
        if line.startswith("Date:"):
            try:
                when = email.utils.parsedate_to_datetime(line[5:].strip())
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=datetime.timezone.utc)
            return when.astimezone(datetime.timezone.utc)
    return None


def release_candidates(index_file: str) -> list:
    """Paths where the (In)Release file of an index in apt's lists directory may be.

    ``..._dists_bookworm-security_main_binary-amd64_Packages`` has its Release at
    ``..._dists_bookworm-security_InRelease`` (or ``_Release``); a flat repository's
    ``..._srv_repo_._Packages`` at ``..._srv_repo_._Release``.  Longest prefix first.
    """
    paths = []
    cut = len(index_file)
    while True:
        cut = index_file.rfind("_", 0, cut)
        if cut <= 0:
            return paths
        prefix = index_file[:cut]
        paths.extend((prefix + "_InRelease", prefix + "_Release"))


def parse_reboot_pkgs(text: str) -> list:
    """Package names from /run/reboot-required.pkgs (one per line, repeats possible), sorted."""
    return sorted({line.strip() for line in text.splitlines() if line.strip()})


def days_between(earlier: datetime.datetime, later: datetime.datetime) -> int:
    """Whole days from ``earlier`` to ``later`` (never negative)."""
    return max(0, (later - earlier).days)


def summarise(pending: list, now: datetime.datetime) -> dict:
    """Counts and ages for the module's result from its list of pending upgrades.

    Each pending entry carries ``security`` (bool) and ``security_since`` (aware
    datetime or None: the newest date by which the security version was published).
    """
    security = [p for p in pending if p["security"]]
    dates = [p["security_since"] for p in security if p.get("security_since")]
    oldest = min(dates) if dates else None
    return {
        "pending_count": len(pending),
        "security_pending": len(security),
        "security_packages": sorted({p["name"] for p in security}),
        "security_pending_since": oldest.isoformat() if oldest else None,
        "security_pending_days": days_between(oldest, now) if oldest else None,
    }


# --------------------------------------------------------------------- effective settings
# apt reads Dir::Etc::parts (/etc/apt/apt.conf.d) in name order, then Dir::Etc::main
# (/etc/apt/apt.conf). A part counts when its name holds only letters, digits, "_", "-" and ".",
# does not start with a dot, and has no extension or ".conf" (apt's GetListOfFilesInDir).
_PART_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_TRUE = ("1", "yes", "true", "with", "on", "enable")
_FALSE = ("0", "no", "false", "without", "off", "disable")


def apt_conf_parts(names) -> list:
    """The names of a configuration directory that apt reads, in the order it reads them."""
    kept = []
    for name in names:
        if name.startswith(".") or not _PART_NAME.match(name):
            continue
        if "." in name and not name.endswith(".conf"):
            continue
        kept.append(name)
    return sorted(kept)


def _bool(value):
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def same_setting(expected, found, contains=False) -> bool:
    """Whether an effective apt setting holds the expected value, as apt reads it.

    Lists compare as lists, or with ``contains`` hold every expected item (others' hooks may sit
    beside ours); booleans as apt's StringToBool reads them ("yes" is "true"); integers as integers
    ("01" is "1"); anything else as text. An unset value (None) holds nothing.
    """
    if found is None:
        return False
    if isinstance(expected, list):
        if not isinstance(found, list):
            return False
        if contains:
            return {str(item) for item in expected} <= {str(item) for item in found}
        return [str(item) for item in expected] == [str(item) for item in found]
    if isinstance(found, list):
        return False
    if _bool(expected) is not None and not str(expected).strip().isdigit():
        return _bool(expected) == _bool(found)
    try:
        return int(str(expected).strip()) == int(str(found).strip())
    except ValueError:
        return str(expected) == str(found)


def winning_file(history):
    """The file that set a setting's value last: ``history`` is ``[(path, value after reading it)]``
    in apt's reading order (None or [] while unset). None when no file set it."""
    winner = None
    before = None
    for path, value in history:
        if value != before and not (value in (None, []) and before in (None, [])):
            winner = path  # a file that emptied a list (#clear) sets it too
        before = value
    return winner


def apt_literal(name, value) -> str:
    """A setting as an apt.conf line, for a diff: ``Key "value";`` or ``Key { "a"; "b"; };``; unset as a comment."""
    if value is None:
        return f"// {name} is not set"
    if isinstance(value, list):
        return f"{name} {{ {''.join(f'{json.dumps(str(item))}; ' for item in value)}}};"
    return f"{name} {json.dumps(str(value))};"


def settings_drift(settings, effective, history, managed):
    """The declared settings apt's merged configuration does not hold.

    ``settings`` is ``[{"name", "value", "variable", "contains"}]`` (what the role writes, the
    variable each value comes from, and whether a list need only hold the value's items);
    ``effective`` maps each name to apt's merged value (None when unset, a list for a list);
    ``history`` maps each name to ``[(path, value)]`` as each file was read in apt's order;
    ``managed`` is the role's own file. One entry per differing setting: ``name``,
    ``variable``, ``expected``, ``found``, ``file`` (the file that set the value in force, or None
    when none did or the files read in apt's order do not give apt's merged value) and ``sentence``.
    """
    drift = []
    for setting in settings:
        name, expected = setting["name"], setting["value"]
        found = effective.get(name)
        if same_setting(expected, found, setting.get("contains", False)):
            continue
        steps = history.get(name, [])
        source = winning_file(steps) if steps and steps[-1][1] == found else None
        where = f"set by {source}" if source else "set by no file" if found is None else "from an unknown source"
        if source and source != managed:
            where += f", read after {managed}"
        variable = f" ({setting['variable']})" if setting.get("variable") else ""
        declared = "lacks the declared" if setting.get("contains") else "not the declared"
        drift.append(
            {
                "name": name,
                "variable": setting.get("variable") or "",
                "expected": expected,
                "found": found,
                "file": source,
                "sentence": (
                    f"apt's effective {name} is {json.dumps(found)} ({where}), "
                    f"{declared} {json.dumps(expected)}{variable}"
                ),
            }
        )
    return drift


# --------------------------------------------------------------------- the role's plan
# Release file fields of Debian 12/13's archives (checked against their Release files), by the
# switch that allows them (unattended_upgrades_origins_<name>).
BUILTIN_ORIGINS = {
    "security": "origin=Debian,codename=${distro_codename}-security,label=Debian-Security",
    "point_release": "origin=Debian,codename=${distro_codename},label=Debian",
    "updates": "origin=Debian,codename=${distro_codename}-updates,label=Debian",
    "backports": "origin=Debian Backports,codename=${distro_codename}-backports,label=Debian Backports",
}
# One Origins-Pattern entry: key=value pairs joined by commas (a comma inside a value is "\,").
_PAIR = r"(origin|o|label|l|archive|a|suite|codename|n|component|c|site)=([^\",\\]|\\,)*"
_PATTERN_RE = re.compile(rf"^{_PAIR}(,{_PAIR})*$")
_REBOOT_TIME_RE = re.compile(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|now)$")
_MAIL_RE = re.compile(r'^([^\s"@]+@[^\s"@]+|[A-Za-z0-9._-]+)?$')
_UNIT_RE = re.compile(r"^[A-Za-z0-9@_.:-]+$")
_CALENDAR_ERROR = re.compile(r"Failed to parse calendar specification '(.*)'")


def _calendar_errors(settings):
    """The schedules ``systemd-analyze calendar`` (the preflight's run: its exit code and stderr) refused."""
    stderr = settings["calendar_stderr"]
    if settings["calendar_rc"] == 0:
        return []
    bad = set(_CALENDAR_ERROR.findall(stderr))
    named = []
    for name in ("unattended_upgrades_update_schedule", "unattended_upgrades_upgrade_schedule"):
        wrong = [str(item) for item in settings[name] if str(item) in bad]
        if wrong:
            named.append(f"{name}: {json.dumps(wrong)}")
    return [f"{' '.join(named) or 'a schedule'} is not a systemd calendar expression ({stderr.strip()})."]


def role_plan(settings):
    """Check the unattended_upgrades role's variables and compute the origins and packages.

    *settings* maps the role's variables (``unattended_upgrades_origins_security``,
    ``_point_release``, ``_updates``, ``_backports``, ``_origins_extra``, ``_security_origins_extra``,
    ``_package_blocklist``, ``_automatic_reboot_time``, ``_mail``, ``_mail_packages``,
    ``_needrestart_enabled``, ``_needrestart_never_restart``, ``_update_schedule``,
    ``_upgrade_schedule``) plus ``calendar_rc`` and ``calendar_stderr`` (what
    ``systemd-analyze calendar`` said of the schedules in the preflight; 0 and '' before it ran).
    Returns ``errors`` and ``builtin`` (the Debian origins allowed), ``origins`` (every
    Origins-Pattern entry), ``security_origins``, ``packages`` (to install) and ``schedules``
    (both schedules, for systemd-analyze).
    """
    errors = []
    builtin = [pattern for name, pattern in BUILTIN_ORIGINS.items() if settings[f"unattended_upgrades_origins_{name}"]]
    extra = list(settings["unattended_upgrades_origins_extra"])
    security_extra = list(settings["unattended_upgrades_security_origins_extra"])
    if not builtin and not extra:
        errors.append(
            "No origin is allowed: unattended_upgrades_origins_security, _point_release, _updates and _backports "
            "are false and unattended_upgrades_origins_extra is empty, so unattended-upgrades would install nothing."
        )
    bad = [str(item) for item in extra + security_extra if not _PATTERN_RE.match(str(item))]
    if bad:
        errors.append(
            f"unattended_upgrades_origins_extra / unattended_upgrades_security_origins_extra: {json.dumps(bad)} "
            "is not key=value[,key=value...] with keys origin, label, archive, codename, component, site "
            'and no double quote (e.g. "origin=deb.sury.org,codename=${distro_codename}").'
        )
    quoted = [str(item) for item in settings["unattended_upgrades_package_blocklist"] if '"' in str(item)]
    if quoted:
        errors.append(
            f"unattended_upgrades_package_blocklist: {json.dumps(quoted)} holds a double quote, "
            "which apt.conf cannot quote."
        )
    reboot = settings["unattended_upgrades_automatic_reboot_time"]
    if not _REBOOT_TIME_RE.match(str(reboot)):
        errors.append(
            'unattended_upgrades_automatic_reboot_time must be "HH:MM" (quoted: YAML reads 02:00 as a number) '
            f'or "now", not {json.dumps(reboot)}.'
        )
    mail = settings["unattended_upgrades_mail"]
    if not _MAIL_RE.match(str(mail)):
        errors.append(
            f"unattended_upgrades_mail must be one address (user@host or a local user), not {json.dumps(mail)}."
        )
    units = [
        str(unit) for unit in settings["unattended_upgrades_needrestart_never_restart"] if not _UNIT_RE.match(str(unit))
    ]
    if units:
        errors.append(
            f"unattended_upgrades_needrestart_never_restart: {json.dumps(units)} is not a systemd unit name "
            "(e.g. ssh, apache2, php8.2-fpm)."
        )
    errors.extend(_calendar_errors(settings))
    packages = ["unattended-upgrades"]
    if settings["unattended_upgrades_needrestart_enabled"]:
        packages.append("needrestart")
    if settings["unattended_upgrades_mail"]:
        packages.extend(settings["unattended_upgrades_mail_packages"])
    return {
        "errors": errors,
        "builtin": builtin,
        "origins": builtin + extra,
        "security_origins": [BUILTIN_ORIGINS["security"], *security_extra],
        "packages": packages,
        "schedules": [str(item) for item in settings["unattended_upgrades_update_schedule"]]
        + [str(item) for item in settings["unattended_upgrades_upgrade_schedule"]],
    }


# --------------------------------------------------------------------- needrestart's effective settings
# needrestart evaluates needrestart.conf as Perl, which reads conf.d/*.conf (sorted) at its end: the
# value a later file assigns wins. The module has Perl evaluate the files the same way and print the
# restart mode and, per unit never to be restarted, the values of the override_rc entries matching it.
NEEDRESTART_EVAL = r"""
my %nrconf = (restart => 'i', override_rc => {});
my $fn = shift @ARGV;
eval do { local(@ARGV, $/) = $fn; <> };
die "$fn: $@" if $@;
print "restart\t$nrconf{restart}\n";
foreach my $unit (@ARGV) {
    my @values = map { $nrconf{override_rc}->{$_} ? 1 : 0 }
        grep { "$unit.service" =~ /$_/ } keys %{$nrconf{override_rc}};
    print "unit\t$unit\t", join(",", @values), "\n";
}
"""


def parse_needrestart(text: str) -> dict:
    """The output of NEEDRESTART_EVAL as ``{"restart": str, "units": {unit: [0 or 1 per matching entry]}}``."""
    result = {"restart": None, "units": {}}
    for line in text.splitlines():
        fields = line.split("\t")
        if fields[0] == "restart" and len(fields) == 2:
            result["restart"] = fields[1]
        elif fields[0] == "unit" and len(fields) == 3:
            result["units"][fields[1]] = [int(value) for value in fields[2].split(",") if value]
    return result


def needrestart_drift(effective: dict, restart: str, never_restart: list, writers: dict, managed: str) -> list:
    """The declared needrestart settings its effective configuration does not hold.

    ``effective`` is parse_needrestart's result; ``restart`` the declared mode; ``never_restart`` the units
    that must not be restarted automatically (every override_rc entry matching ``<unit>.service`` is 0, and
    one does); ``writers`` maps ``restart`` and ``override_rc`` to the other files that assign them, in
    needrestart's reading order; ``managed`` is the role's file. One entry per differing setting: ``name``,
    ``expected``, ``found``, ``files`` and ``sentence``.
    """
    drift = []

    def add(name, key, expected, found):
        files = writers.get(key, [])
        where = f"set by {', '.join(files)}, read after {managed}" if files else f"not as {managed} sets it"
        drift.append(
            {
                "name": name,
                "expected": expected,
                "found": found,
                "files": files,
                "sentence": f"needrestart's effective {name} is {json.dumps(found)} ({where}), "
                f"not the declared {json.dumps(expected)}",
            }
        )

    if effective.get("restart") != restart:
        add("$nrconf{restart}", "restart", restart, effective.get("restart"))
    for unit in never_restart:
        values = effective.get("units", {}).get(unit, [])
        if not values or any(values):
            found = "restarted" if not values or all(values) else "restarted or not (entries disagree)"
            add(f"$nrconf{{override_rc}} for {unit}.service", "override_rc", "never restarted", found)
    return drift


def conf_writers(texts: list, managed: str) -> dict:
    """The files read after ``managed`` that assign needrestart's restart mode or an override_rc entry.

    ``texts`` is ``[(path, text)]`` in needrestart's reading order (needrestart.conf, then conf.d/*.conf
    sorted). Files read before ours cannot override it: ours assigns the mode and adds its entries last.
    Comments are ignored. Returns ``{"restart": [paths], "override_rc": [paths]}``.
    """
    names = [path for path, _text in texts]
    after = names.index(managed) + 1 if managed in names else 0
    found = {"restart": [], "override_rc": []}
    for path, text in texts[after:]:
        code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        if re.search(r"\{\s*['\"]?restart['\"]?\s*\}", code):
            found["restart"].append(path)
        if "override_rc" in code:
            found["override_rc"].append(path)
    return found


# --------------------------------------------------------------------- the timers' effective schedule
# Where systemd's system manager looks for unit files and drop-ins, highest priority first.
SYSTEMD_UNIT_DIRS = (
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
)
# A unit file there is the packaged one; anywhere else it replaces the package's.
PACKAGED_UNIT_DIRS = ("/usr/lib/systemd/system", "/lib/systemd/system")


def dropin_dir_names(unit: str) -> list:
    """The drop-in directory names systemd reads for ``unit``: the type's (``timer.d``), each dash
    prefix's (``apt-.timer.d``, ``apt-daily-.timer.d``) and the unit's own, lowest priority first."""
    stem, _dot, kind = unit.rpartition(".")
    names = [f"{kind}.d"]
    parts = stem.split("-")
    for count in range(1, len(parts)):
        names.append("-".join(parts[:count]) + f"-.{kind}.d")
    names.append(f"{unit}.d")
    return names


def parse_systemctl_show(text: str) -> dict:
    """``systemctl show -p Id,...`` of several units: ``{Id: {property: value}}`` (blocks split by blank lines)."""
    units = {}
    for block in re.split(r"\n\s*\n", text.strip()):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if props.get("Id"):
            units[props["Id"]] = props
    return units


def timer_drift(shown: dict, on_disk: dict, expected: dict) -> list:
    """How the timers systemd runs differ from the declared schedule files.

    ``shown`` is parse_systemctl_show's result (Id, LoadState, FragmentPath, DropInPaths,
    NeedDaemonReload); ``on_disk`` maps each unit to ``{"dropins": [drop-in files that exist],
    "fragments": [unit files outside the packaged directories, not links to /dev/null]}``;
    ``expected`` maps each unit to the role's drop-in path, or "" when no schedule is declared. A
    masked unit is left to the timers' own check. One entry per unit that differs: ``unit``,
    ``foreign`` (files to remove: other drop-ins, a replacing unit file), ``reload`` (systemd runs
    another version of the files) and ``sentence``.
    """
    drift = []
    for unit, ours in expected.items():
        props = shown.get(unit, {})
        if props.get("LoadState") == "masked":
            continue
        disk = on_disk.get(unit, {"dropins": [], "fragments": []})
        loaded = [path for path in props.get("DropInPaths", "").split() if path]
        foreign = sorted({path for path in [*disk["dropins"], *loaded] if path != ours and path in disk["dropins"]})
        foreign += [path for path in disk["fragments"] if path not in foreign]
        reload = props.get("NeedDaemonReload") == "yes"
        if not foreign and not reload:
            continue
        parts = []
        if foreign:
            parts.append(
                f"{', '.join(foreign)} change{'s' if len(foreign) == 1 else ''} its schedule besides "
                f"{ours or 'the packaged unit'}"
            )
        if reload:
            parts.append("systemd runs it from files that changed since its last daemon-reload")
        drift.append({"unit": unit, "foreign": foreign, "reload": reload, "sentence": f"{unit}: {'; '.join(parts)}"})
    return drift

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the fail2ban role (filter ``role_plan('fail2ban')``) and the module ``fail2ban_effective``.

``role_plan`` checks the role's variables (one message per broken rule, naming the variable,
the jail and the option) and renders the jails; ``find_overrides`` finds what a drop-in read
after ours changes in our jails; the rest parses what the running daemon says.

Nothing here touches the system.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.bulwark.hardening.plugins.module_utils._ufw import kind

# fail2ban time values: seconds, or numbers with units (10m, 1h30m, 2d, 1w, 1mo, 1y).
_TIME_RE = re.compile(r"^(?:[0-9]+(?:mo|[smhdwy])?)+$")
_TIME_PART_RE = re.compile(r"([0-9]+)(mo|[smhdwy]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "mo": 2592000, "y": 31536000}
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

BUILTIN_JAILS = {
    # Reads the journal: the stock sshd jail expects /var/log/auth.log, which a host without
    # rsyslog does not have. ssh.service is the unit name on Debian; Debian 13's OpenSSH logs
    # failures from sshd-session.
    "sshd": {
        "backend": "systemd",
        "journalmatch": "_SYSTEMD_UNIT=ssh.service + _COMM=sshd + _COMM=sshd-session",
    },
    "recidive": {
        "backend": "auto",
        "logpath": "/var/log/fail2ban.log",
        "banaction": "%(banaction_allports)s",
        "bantime": "1w",
        "findtime": "1d",
    },
}
APACHE_JAILS = ("apache-auth", "apache-badbots", "apache-noscript", "apache-overflows")
# Options that would undo what the role guarantees (loopback, the admin networks and the
# controller never banned; banning on): refused in fail2ban_jails, with the variable to use.
REFUSED_OPTIONS = {
    "ignoreip": "it would replace the role's never-ban list; add addresses with fail2ban_ignore_networks",
    "ignorecommand": "it can exempt any address from banning; add addresses with fail2ban_ignore_networks",
    "ignoreself": "the role keeps the host's own addresses exempt",
}
# Time options checked per jail, so an error names the jail and the option.
TIME_OPTIONS = ("bantime", "findtime", "bantime.maxtime")
PACKAGES = ["fail2ban", "python3-systemd", "python3-pyinotify", "netbase"]


def time_seconds(value):
    """Seconds of a fail2ban time value (``600``, ``10m``, ``1h30m``, ``-1``); ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, not a time")
    text = str(value).strip()
    if text == "-1":
        return -1
    if not _TIME_RE.match(text):
        raise ValueError(f"{value!r} is not a fail2ban time (600, 10m, 1h30m, 1d, 1w, or -1 for bantime)")
    return sum(int(number) * _SECONDS[unit] for number, unit in _TIME_PART_RE.findall(text))


def option_text(value):
    """A jail option as fail2ban reads it: booleans lower case, a list one entry per line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [option_text(item) for item in value]
    if value is None:
        return ""
    return str(value)


def _has_control(value):
    if isinstance(value, list):
        return any(_has_control(item) for item in value)
    return bool(_CONTROL_RE.search(value))


def _check_time(errors, name, value, allow_forever=False):
    try:
        seconds = time_seconds(value)
    except ValueError as exc:
        errors.append(f"{name}: {exc}")
        return None
    if seconds == -1 and not allow_forever:
        errors.append(f"{name}: -1 (forever) only makes sense for a ban time, got {value!r}")
        return None
    if seconds == 0:
        errors.append(f"{name} must be longer than 0 seconds, got {value!r}")
        return None
    return seconds


def _check_choice(errors, name, value, choices):
    if isinstance(value, bool) or value not in choices:
        errors.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def _check_number(errors, name, value, minimum, integer):
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value)) if integer else float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum or (not integer and number == 0):
        kind = "an integer" if integer else "a number"
        bound = f">= {minimum}" if integer else "> 0"
        errors.append(f"{name} must be {kind} {bound}, got {value!r}")
        return None
    return number


def _check_ignore_networks(errors, networks):
    for index, entry in enumerate(networks):
        name = f"fail2ban_ignore_networks[{index}]"
        text = str(entry)
        if not text.strip() or re.search(r"[\s,]", text) or _CONTROL_RE.search(text):
            errors.append(f"{name} must hold one address, network or host name, got {entry!r}")
            continue
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            continue  # a host name: fail2ban resolves it
        if network.prefixlen == 0:
            errors.append(f"{name} {entry!r} covers every address: nobody would ever be banned")


def _check_jails(errors, jails):
    """Check fail2ban_jails; return the jails that are fine, options rendered to text."""
    checked = {}
    for jail, options in jails.items():
        where = f"fail2ban_jails.{jail}"
        if not _NAME_RE.match(str(jail)):
            errors.append(f"fail2ban_jails: jail name {jail!r} may hold only letters, digits, '_', '.' and '-'")
            continue
        if not isinstance(options, dict):
            errors.append(f"{where} must be a mapping of jail options, got {options!r}")
            continue
        rendered = {}
        for key, value in options.items():
            name = f"{where}.{key}"
            if not _NAME_RE.match(str(key)):
                errors.append(f"{where}: option name {key!r} may hold only letters, digits, '_', '.' and '-'")
                continue
            if key in REFUSED_OPTIONS:
                errors.append(f"{name} is refused: {REFUSED_OPTIONS[key]}")
                continue
            if isinstance(value, dict):
                errors.append(f"{name} must be a string, number, boolean or list, got the mapping {value!r}")
                continue
            text = option_text(value)
            if _has_control(text):
                errors.append(f"{name} contains a control character (a newline would start a new option): {value!r}")
                continue
            if key in TIME_OPTIONS and _check_time(errors, name, value, allow_forever=key == "bantime") is None:
                continue
            if key == "maxretry" and _check_number(errors, name, value, 1, True) is None:
                continue
            rendered[key] = text
        checked[jail] = rendered
    return checked


def _check_scalars(errors, get):
    bantime = _check_time(errors, "fail2ban_bantime", get("fail2ban_bantime"), allow_forever=True)
    _check_time(errors, "fail2ban_findtime", get("fail2ban_findtime"))
    maxtime = _check_time(errors, "fail2ban_bantime_maxtime", get("fail2ban_bantime_maxtime"))
    _check_time(errors, "fail2ban_dbpurgeage", get("fail2ban_dbpurgeage"))
    _check_number(errors, "fail2ban_maxretry", get("fail2ban_maxretry"), 1, True)
    _check_number(errors, "fail2ban_bantime_factor", get("fail2ban_bantime_factor"), 0, False)
    increment = bool(get("fail2ban_bantime_increment"))
    if increment and bantime not in (None, -1) and maxtime is not None and bantime > maxtime:
        errors.append(
            f"fail2ban_bantime ({get('fail2ban_bantime')!r}, {bantime} s) must not exceed "
            f"fail2ban_bantime_maxtime ({get('fail2ban_bantime_maxtime')!r}, {maxtime} s)"
        )
    _check_choice(errors, "fail2ban_apache_jails", get("fail2ban_apache_jails"), ("auto", "enabled", "disabled"))
    _check_choice(errors, "fail2ban_banaction", get("fail2ban_banaction"), ("auto", "ufw", "nftables"))
    _check_choice(errors, "fail2ban_loglevel", get("fail2ban_loglevel"), ("NOTICE", "INFO", "DEBUG"))


def _controller(get):
    connection = get("bulwark_host").get("connection") or {}
    if not get("fail2ban_ignore_controller") or not isinstance(connection, dict):
        return None
    if not connection.get("is_ssh"):
        return None
    return str(connection.get("client_addr") or "").strip() or None


def role_plan(settings):
    """Check the fail2ban role's variables and compute what it writes.

    *settings* maps the role's variable names to their values, plus ``bulwark_host`` (the common
    role's host model), ``ufw_managed`` (the ufw role is in the play), ``have`` (names of the
    programs found: ``apache2``, ``ufw``, ``fail2ban-client``), ``ufw_active`` and ``check_mode``.
    The sshd jail watches the host model's SSH port. A declared public service (``bulwark_services``)
    whose unit is apache2 turns the Apache jails on (before Apache is even installed) and makes
    them watch its ports.

    Returns ``errors`` (one message per broken rule, each naming the variable - down to the
    jail and option - and the value), ``defaults`` (the ``[DEFAULT]`` options), ``jails``
    (name -> ``{"enabled": bool, "options": {...}}``, every policy option written into each
    enabled jail so that no other file's ``[DEFAULT]`` or earlier jail section changes it),
    ``banaction`` (``ufw`` or ``nftables``) and ``packages``.
    """
    errors = []
    get = settings.__getitem__
    plan = {"errors": errors, "defaults": {}, "jails": {}, "banaction": None, "packages": []}

    jails = get("fail2ban_jails") or {}
    networks = get("fail2ban_ignore_networks") or []
    if not isinstance(jails, dict):
        errors.append(f"fail2ban_jails must be a mapping of jail names to options, got {jails!r}")
        jails = {}
    if not isinstance(networks, (list, tuple)):
        errors.append(f"fail2ban_ignore_networks must be a list, got the {kind(networks)} {networks!r}")
        networks = []
    _check_scalars(errors, get)
    _check_ignore_networks(errors, networks)
    user_jails = _check_jails(errors, jails)

    have = set(get("have") or [])
    ufw_managed = bool(get("ufw_managed"))
    banaction = get("fail2ban_banaction")
    use_ufw = banaction == "ufw" or (banaction == "auto" and (ufw_managed or bool(get("ufw_active"))))
    if use_ufw and "ufw" not in have and not ufw_managed:
        errors.append(
            "fail2ban_banaction is ufw but ufw is not installed and the ufw role is not in the play; "
            "use nftables or add bulwark.hardening.ufw"
        )
    host = get("bulwark_host")
    services = host.get("services") or []
    web = [entry for entry in services if entry["public"] and entry["unit"] == "apache2.service"]
    apache = get("fail2ban_apache_jails")
    if apache == "enabled" and "apache2" not in have and not get("check_mode"):
        errors.append("fail2ban_apache_jails is enabled but Apache is not installed (/usr/sbin/apache2)")
    if errors:
        return plan

    ignoreip = []
    for entry in ["127.0.0.1/8", "::1", *[str(n) for n in networks], _controller(get)]:
        if entry and entry not in ignoreip:
            ignoreip.append(entry)
    policy = {
        "ignoreip": " ".join(ignoreip),
        "bantime": option_text(get("fail2ban_bantime")),
        "findtime": option_text(get("fail2ban_findtime")),
        "maxretry": option_text(get("fail2ban_maxretry")),
        "bantime.increment": option_text(bool(get("fail2ban_bantime_increment"))),
        "bantime.factor": option_text(get("fail2ban_bantime_factor")),
        "bantime.maxtime": option_text(get("fail2ban_bantime_maxtime")),
    }
    plan["banaction"] = "ufw" if use_ufw else "nftables"
    plan["defaults"] = dict(
        policy,
        banaction="ufw" if use_ufw else "nftables-multiport",
        banaction_allports="ufw" if use_ufw else "nftables-allports",
    )
    apache_on = apache == "enabled" or (apache == "auto" and ("apache2" in have or bool(web)))
    web_ports = sorted({port for entry in web for port in entry["ports"]})
    declared = {name: dict(options) for name, options in BUILTIN_JAILS.items()}
    declared["sshd"]["port"] = str(host["ssh_port"])
    declared.update(
        {
            name: {"enabled": apache_on, **({"port": ",".join(map(str, web_ports))} if web_ports else {})}
            for name in APACHE_JAILS
        }
    )
    for name, options in user_jails.items():
        declared.setdefault(name, {}).update(options)
    for name in sorted(declared):
        options = {key: option_text(value) for key, value in declared[name].items()}
        enabled = options.pop("enabled", "true").lower() in ("true", "yes", "1", "on")
        plan["jails"][name] = {"enabled": enabled, "options": dict(policy, **options) if enabled else {}}
    plan["packages"] = PACKAGES + ([] if use_ufw else ["nftables"])
    return plan


# --------------------------------------------------------------------------- #
# Effective state: drop-ins read after ours, the running daemon
# --------------------------------------------------------------------------- #
_SECTION_RE = re.compile(r"^\[([^\]]+)\]\s*$")
_OPTION_RE = re.compile(r"^([^\s=:#;][^=:]*?)\s*[=:]\s*(.*)$")


def files_after(own, names):
    """The ``jail.d/*.local`` names fail2ban reads after *own* (it reads them sorted)."""
    return sorted(n for n in names if n.endswith(".local") and n > own)


def find_overrides(text, jails):
    """Options a drop-in sets in the sections of *jails*: ``[(line_no, jail, key, value), ...]``.

    *line_no* counts from 1; a multi-line value is joined with spaces.
    """
    found = []
    section = None
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        match = _SECTION_RE.match(line)
        if match:
            section = match.group(1).strip()
            current = None
            continue
        if raw[:1].isspace():
            if current is not None:
                current[3] = f"{current[3]} {line.strip()}".strip()
            continue
        match = _OPTION_RE.match(line)
        current = None
        if match and section in jails:
            current = [number, section, match.group(1).strip(), match.group(2).strip()]
            found.append(current)
    return [tuple(item) for item in found]


def remove_options(text, line_numbers):
    """*text* without the option lines at *line_numbers* (and their continuation lines)."""
    drop = set(line_numbers)
    kept = []
    skipping = False
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        if number in drop:
            skipping = True
            continue
        if skipping and raw[:1].isspace() and raw.strip() and not raw.lstrip().startswith(("#", ";")):
            continue
        skipping = False
        kept.append(raw)
    return "".join(kept)


def parse_jail_list(text):
    """Jail names from ``fail2ban-client status`` (``Jail list:\tsshd, recidive``)."""
    for line in (text or "").splitlines():
        if "Jail list:" in line:
            names = line.split("Jail list:", 1)[1]
            return sorted(n.strip() for n in names.replace(",", " ").split() if n.strip())
    return []


def jail_mismatch(jails, running):
    """``(missing, extra)``: declared enabled jails not running, declared disabled jails running."""
    running = set(running)
    missing = sorted(name for name, jail in jails.items() if jail.get("enabled") and name not in running)
    extra = sorted(name for name, jail in jails.items() if not jail.get("enabled") and name in running)
    return missing, extra


# --------------------------------------------------------------------------- #
# The running server's own answer: its jails' settings and its daemon settings
# --------------------------------------------------------------------------- #
# Jail options whose running value the server reports (``fail2ban-client get <jail> <option>``)
# and that the role declares for every enabled jail; ``fail2ban-client set`` changes them at run time.
RUNTIME_JAIL_OPTIONS = (
    "maxretry",
    "findtime",
    "bantime",
    "ignoreip",
    "bantime.increment",
    "bantime.factor",
    "bantime.maxtime",
)
# Daemon settings (fail2ban.d) the server reports (``fail2ban-client get <setting>``).
RUNTIME_SETTINGS = ("loglevel", "logtarget", "dbpurgeage")
_TIME_VALUED = ("findtime", "bantime", "bantime.maxtime", "dbpurgeage")
_INTERPOLATION_RE = re.compile(r"%\(([^)]+)\)s")


def _ignore_entries(value):
    """The set of ignoreip entries as the server keeps them (networks normalised, names as written)."""
    items = value if isinstance(value, (list, tuple)) else str(value or "").replace(",", " ").split()
    entries = set()
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            entries.add(str(ipaddress.ip_network(text, strict=False)))
        except ValueError:
            entries.add(text)
    return entries


def _same(option, declared, running):
    """Whether a declared option text and the server's value mean the same."""
    try:
        if option in _TIME_VALUED:
            return time_seconds(declared) == int(running)
        if option == "maxretry":
            return int(str(declared)) == int(running)
        if option == "bantime.factor":
            return float(str(declared)) == float(running)
        if option == "bantime.increment":
            wanted = str(declared).strip().lower() in ("true", "yes", "1", "on")
            got = running if isinstance(running, bool) else str(running).strip().lower() in ("true", "yes", "1", "on")
            return wanted == got
    except (TypeError, ValueError):
        return False
    if option == "ignoreip":
        return _ignore_entries(declared) == _ignore_entries(running)
    if option == "loglevel":
        return str(declared).strip().upper() == str(running).strip().upper()
    return str(declared).strip() == str(running).strip()


def _shown(value):
    if isinstance(value, (list, tuple, set)):
        return " ".join(sorted(str(item) for item in value)) or "nothing"
    return str(value)


def declared_action(options, defaults):
    """The ban action a jail runs (the name ``fail2ban-client get <jail> actions`` lists), or None.

    Resolved like fail2ban's ``action = %(action_)s``: the jail's ``banaction`` (interpolated from
    *defaults*), else the ``[DEFAULT]`` one. None when the jail names its own ``action``.
    """
    if "action" in options:
        return None
    value = options.get("banaction", defaults.get("banaction"))
    for _depth in range(5):
        if value is None or "%(" not in str(value):
            break
        value = _INTERPOLATION_RE.sub(lambda m: str(defaults.get(m.group(1), m.group(0))), str(value))
    return None if value is None or "%(" in str(value) else str(value).strip()


def runtime_queries(jails, running, settings, defaults):
    """The server commands that read what is in effect: ``[["get", jail, option], ["get", setting], ...]``."""
    queries = []
    for name in sorted(running):
        jail = jails.get(name) or {}
        if not jail.get("enabled"):
            continue
        options = jail.get("options") or {}
        queries.extend(["get", name, option] for option in RUNTIME_JAIL_OPTIONS if option in options)
        if declared_action(options, defaults):
            queries.append(["get", name, "actions"])
    queries.extend(["get", setting] for setting in RUNTIME_SETTINGS if setting in settings)
    return queries


def runtime_differences(jails, settings, defaults, answers, *, jail_file, daemon_file):
    """Why the running server is not what was declared, one sentence each (naming jail and setting).

    *answers* pairs each query of ``runtime_queries`` with the server's ``[code, value]``.
    """
    reasons = []
    for query, (code, value) in answers:
        if code != 0:
            reasons.append(f"fail2ban-client {' '.join(query)} failed: {value}")
            continue
        if len(query) == 3:
            _get, name, option = query
            options = jails[name]["options"]
            if option == "actions":
                wanted = declared_action(options, defaults)
                if wanted not in [str(item) for item in value or []]:
                    reasons.append(
                        f"jail {name} bans with {_shown(value)} in the running fail2ban, "
                        f"declared {wanted} ({jail_file})"
                    )
            elif option == "ignoreip" and not _same(option, options[option], value):
                wanted, got = _ignore_entries(options[option]), _ignore_entries(value)
                parts = [f"also ignores {_shown(got - wanted)}"] if got - wanted else []
                parts += [f"does not ignore {_shown(wanted - got)}"] if wanted - got else []
                reasons.append(f"jail {name}: the running fail2ban {' and '.join(parts)} (ignoreip, {jail_file})")
            elif not _same(option, options[option], value):
                reasons.append(
                    f"jail {name}: {option} is {_shown(value)} in the running fail2ban, declared {options[option]}"
                    f" ({jail_file})"
                )
        else:
            setting = query[1]
            if not _same(setting, settings[setting], value):
                reasons.append(
                    f"{setting} is {_shown(value)} in the running fail2ban, "
                    f"declared {settings[setting]} ({daemon_file})"
                )
    return reasons


def find_default_overrides(text, jails, defaults):
    """``[DEFAULT]`` options of a jail drop-in that change our jails: the declared ``[DEFAULT]`` options an
    enabled jail does not set itself (the ban actions); ``[(line_no, "DEFAULT", key, value)]``."""
    enabled = [set(jail.get("options") or {}) for jail in jails.values() if jail.get("enabled")]
    inherited = set(defaults) - set.intersection(*enabled) if enabled else set()
    return [item for item in find_overrides(text, {"DEFAULT": {}}) if item[2] in inherited]


def find_setting_overrides(text, settings):
    """Daemon settings a ``fail2ban.d`` drop-in sets in ``[Definition]``: ``[(line_no, "Definition", key, value)]``."""
    return [item for item in find_overrides(text, {"Definition": {}}) if item[2] in settings]

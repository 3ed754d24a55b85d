# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the variables an operator set, before any role of the collection writes.

``input_errors`` takes the variables with one of the collection's prefixes (names and
values, as the play sees them) and the options that the roles' argument specs declare, and
returns one message per problem, each naming the variable the operator wrote:

* a name no role declares (a typo), with the closest declared name;
* a value of the wrong type where a role would misread it (a string where a list belongs
  is split into letters or matched by substring; argument specs accept it);
* a number outside the range the software accepts;
* a value that means "everything" and so switches a control off;
* a value the documentation forbids;
* a control character (a newline starts a new directive) in a value written to a file.

The roles' own plans keep their cross-field rules; this module checks each value alone.
"""

from __future__ import annotations

import difflib
import fnmatch
import re

from ansible_collections.bulwark.hardening.plugins.module_utils._host import (
    HOST_VARIABLES,
    declaration_errors,
    stale_errors,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._immutable import parse_mode
from ansible_collections.bulwark.hardening.plugins.module_utils._php import PhpValueError, ini_literal, size_to_bytes
from ansible_collections.bulwark.hardening.plugins.module_utils._scan import CHECKS as AUDIT_CHECKS

PREFIXES = (
    "ssh_hardening_",
    "ufw_",
    "fail2ban_",
    "unattended_upgrades_",
    "minimal_packages_",
    "apache_hardening_",
    "php_hardening_",
    "immutable_",
    "os_baseline_",
    "common_",
    "bulwark_",
)

# Names with a role prefix that are legitimately set although no argument spec declares them:
# facts and results the roles set for each other, and variables of the collection's playbooks.
INTERNAL = frozenset(
    (
        "bulwark_host",  # fact, common role: the host model
        "ufw_managed",  # fact, ufw preflight
        "unattended_upgrades_status",  # registered, unattended_upgrades report
        "bulwark_preflight_done",  # playbooks/site.yml, stage 2
        "bulwark_inputs_checked",  # playbooks/site.yml, stage 1 (after this check)
        "bulwark_hosts",  # playbooks/site.yml and drift.yml: -e bulwark_hosts=GROUP
        "bulwark_control",  # task vars: a control ID of module_utils/_controls.py (drift_report callback)
        "bulwark_drift_gate",  # playbooks/drift.yml and drift_gate.yml
        "bulwark_drift_run",  # playbooks/drift.yml: site.yml's play in check mode
        "bulwark_confirm_deferred",  # playbooks/site.yml: one commit-confirmation after ssh and ufw
        "bulwark_rollback",  # fact left by the modules that arm the host's rollback
    )
)

# Names that earlier releases read, and the one name that replaced them (the host model).
RENAMED = {
    "ssh_hardening_port": "bulwark_ssh_port",
    "ufw_ssh_port": "bulwark_ssh_port",
    "ufw_services": "bulwark_services",
    "fail2ban_services": "bulwark_services",
}

# Whole-number options: (minimum, maximum or None, what the range is).
RANGES = {
    "common_apt_cache_valid_time": (0, None, "seconds"),
    "bulwark_ssh_port": (1, 65535, "a TCP port"),
    "ssh_hardening_max_auth_tries": (1, None, "attempts; 0 would refuse every login"),
    "ssh_hardening_login_grace_time": (0, None, "seconds; 0 = no limit"),
    "ssh_hardening_max_sessions": (1, None, "sessions per connection; 0 would refuse every shell"),
    "ssh_hardening_client_alive_interval": (0, None, "seconds; 0 = off"),
    "ssh_hardening_client_alive_count_max": (0, None, "probes"),
    "ssh_hardening_rsa_host_key_min_bits": (2048, 16384, "bits, as ssh-keygen allows"),
    "ssh_hardening_rsa_host_key_bits": (2048, 16384, "bits, as ssh-keygen allows"),
    "ssh_hardening_moduli_min_bits": (2048, 8192, "bits; /etc/ssh/moduli holds 2048-8192"),
    "apache_hardening_timeout": (1, 3600, "seconds"),
    "apache_hardening_limit_request_body": (0, 2147483647, "bytes, as Apache allows; 0 = unlimited"),
    "php_hardening_max_execution_time": (0, None, "seconds; 0 = no limit"),
    "php_hardening_max_input_time": (-1, None, "seconds; -1 = max_execution_time"),
    "php_hardening_max_input_vars": (1, None, "variables"),
    "unattended_upgrades_security_pending_max_days": (0, None, "days"),
    "unattended_upgrades_download_limit": (0, None, "kB/s; 0 = none"),
    "unattended_upgrades_update_interval": (0, None, "days; 0 = off"),
    "unattended_upgrades_download_interval": (0, None, "days; 0 = off"),
    "unattended_upgrades_upgrade_interval": (0, None, "days; 0 = off"),
    "unattended_upgrades_autoclean_interval": (0, None, "days; 0 = off"),
    "os_baseline_sudo_timestamp_timeout": (0, None, "minutes; a negative value would keep the password for ever"),
    "os_baseline_shell_timeout": (0, None, "seconds; 0 = none"),
    "os_baseline_audit_time_limit": (1, 3600, "seconds"),
    "os_baseline_password_inactive": (-1, None, "days; -1 = never locked (CIS 5.4.1.5 wants 45 at most)"),
}

# Values written verbatim on several lines on purpose.
MULTILINE = frozenset(("ssh_hardening_banner", "os_baseline_banner"))

# Package names of every shape Debian has: a pattern that matches all of them matches every package.
PROBE_PACKAGES = (
    "0ad",
    "a2ps",
    "apt",
    "g++",
    "libc6",
    "linux-image-6.1.0-18-amd64",
    "openssh-server",
    "python3.11-minimal",
    "unattended-upgrades",
    "xz-utils",
    "z3",
    "zsh",
)
# Values of Release file fields (origin, label, codename, archive, component, site).
PROBE_ORIGINS = ("Debian", "Debian-Security", "Debian Backports", "deb.sury.org", "bookworm-security", "main", "x", "1")
# Origins-Pattern keys (unattended-upgrades matches each value with fnmatch).
_ORIGIN_TOKEN = re.compile(r"^\s*([A-Za-z]+)\s*=(.*)$")

_BOOLEANS = frozenset(("yes", "on", "1", "true", "y", "t", "no", "off", "0", "false", "n", "f"))
_INT_RE = re.compile(r"^\s*[-+]?[0-9]+\s*$")
_FLOAT_RE = re.compile(r"^\s*[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)\s*$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def kind(value):
    """A short English name of a value's YAML type, for messages."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    if value is None:
        return "null"
    return type(value).__name__


def declared_options(specs):
    """``{name: option spec}`` of every option of every entry point of the given argument specs.

    *specs* is a list of parsed ``meta/argument_specs.yml`` documents.
    """
    options = {}
    for document in specs:
        for entry in ((document or {}).get("argument_specs") or {}).values():
            for name, spec in ((entry or {}).get("options") or {}).items():
                options.setdefault(name, spec or {})
    return options


def unknown_names(names, declared):
    """Messages for names with one of our prefixes that no role declares, with the closest real name."""
    known = set(declared) | INTERNAL
    errors = []
    for name in sorted(set(names)):
        if name in RENAMED:
            errors.append(f"{name} is now {RENAMED[name]}, which every role reads: set that instead")
            continue
        if not name.startswith(PREFIXES) or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(declared), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "no role of bulwark.hardening reads it"
        errors.append(f"{name} is not a variable of any bulwark.hardening role ({hint})")
    return errors


def type_error(name, value, spec):
    """A message when *value* is not of the type the argument spec declares (as the role reads it), or None."""
    wanted = spec.get("type", "str")
    if value is None:
        return None
    if wanted == "list":
        if not isinstance(value, (list, tuple)):
            hint = f' (write ["{value}"] for one item)' if isinstance(value, str) else ""
            return f"{name} must be a list, got the {kind(value)} {value!r}{hint}"
        if spec.get("elements") == "dict":
            bad = [index for index, item in enumerate(value) if not isinstance(item, dict)]
            if bad:
                return f"{name}[{bad[0]}] must be a mapping, got the {kind(value[bad[0]])} {value[bad[0]]!r}"
        elif spec.get("elements") == "str":
            bad = [index for index, item in enumerate(value) if isinstance(item, (dict, list, tuple))]
            if bad:
                return f"{name}[{bad[0]}] must be a single value, got the {kind(value[bad[0]])} {value[bad[0]]!r}"
        return None
    if wanted == "dict":
        if not isinstance(value, dict):
            return f"{name} must be a mapping, got the {kind(value)} {value!r}"
        return None
    if wanted == "int":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _INT_RE.match(value))):
            return f"{name} must be a whole number, got the {kind(value)} {value!r}"
        return None
    if wanted == "float":
        if isinstance(value, bool) or not (
            isinstance(value, (int, float)) or (isinstance(value, str) and _FLOAT_RE.match(value))
        ):
            return f"{name} must be a number, got the {kind(value)} {value!r}"
        return None
    if wanted == "bool":
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return None
        if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
            return None
        return f"{name} must be true or false, got the {kind(value)} {value!r}"
    if wanted in ("str", "path") and isinstance(value, (dict, list, tuple)):
        return f"{name} must be a single value, got the {kind(value)} {value!r}"
    return None


_YAML_TRUE = frozenset(("yes", "on", "true", "y"))
_YAML_FALSE = frozenset(("no", "off", "false", "n"))


def _as_choice(value, choices):
    """*value* as argument specs compare it with *choices*: an unquoted YAML yes/no/on/off became a
    boolean, and is taken back when exactly one choice means it (ufw_logging off)."""
    if isinstance(value, bool):
        overlap = [choice for choice in choices if str(choice).lower() in (_YAML_TRUE if value else _YAML_FALSE)]
        if len(overlap) == 1:
            return overlap[0]
    return value if isinstance(value, str) else str(value)


def choice_error(name, value, spec):
    """A message when a value (or an item of a list) is not one of the declared choices, or None."""
    choices = spec.get("choices")
    if not choices:
        return None
    items = value if spec.get("type") == "list" and isinstance(value, (list, tuple)) else [value]
    for index, item in enumerate(items):
        if _as_choice(item, [str(choice) for choice in choices]) not in [str(choice) for choice in choices]:
            where = f"{name}[{index}]" if items is value else name
            return f"{where} must be one of {', '.join(map(str, choices))}, got {item!r}"
    return None


def suboption_errors(name, value, spec):
    """Unknown keys (with the closest declared one), missing required keys and wrong types inside
    the items of a list of mappings, or a mapping, whose argument spec declares ``options``."""
    options = spec.get("options")
    if not options:
        return []
    if isinstance(value, dict):
        items = [(name, value)]
    elif isinstance(value, (list, tuple)):
        items = [(f"{name}[{index}]", item) for index, item in enumerate(value) if isinstance(item, dict)]
    else:
        return []
    errors = []
    for where, item in items:
        if not item and spec.get("type") == "dict":
            continue
        for key in sorted(map(str, item)):
            if key not in options:
                close = difflib.get_close_matches(key, sorted(options), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(options))}"
                errors.append(f"{where} has the unknown key {key} ({hint})")
        for key, option in sorted(options.items()):
            if key not in item:
                if option.get("required"):
                    errors.append(f"{where} needs {key}")
                continue
            problem = type_error(f"{where}.{key}", item[key], option) or choice_error(
                f"{where}.{key}", item[key], option
            )
            if problem:
                errors.append(problem)
    return errors


def range_error(name, value):
    """A message when a whole-number option lies outside its range, or None (types are checked first)."""
    if name not in RANGES:
        return None
    low, high, what = RANGES[name]
    number = int(value)
    if number < low or (high is not None and number > high):
        span = f"{low}-{high}" if high is not None else f"{low} or more"
        return f"{name} must be {span} ({what}), got {value!r}"
    return None


def origin_matches_everything(pattern):
    """Does an Origins-Pattern entry match every origin (every value a wildcard such as ``*``)?

    unattended-upgrades matches each ``key=value`` of an entry with fnmatch and needs all of them
    to match; an empty entry matches nothing.
    """
    tokens = [token for token in str(pattern).replace("\\,", "%2C").split(",") if token.strip()]
    if not tokens:
        return False
    for token in tokens:
        match = _ORIGIN_TOKEN.match(token)
        if not match:
            return False
        value = match.group(2).strip()
        if not all(fnmatch.fnmatchcase(probe, value) for probe in PROBE_ORIGINS):
            return False
    return True


def matches_every_package(pattern, regex=False):
    """Does a package pattern match every package name (shell pattern, or a Python regex from the start)?"""
    text = str(pattern)
    if regex:
        try:
            compiled = re.compile(text)
        except re.error:
            return False
        return all(compiled.match(name) for name in PROBE_PACKAGES)
    return all(fnmatch.fnmatchcase(name, text) for name in PROBE_PACKAGES)


def _audit_allowed_errors(name, value):
    """os_baseline_audit_allowed: a check the audit has, a list of patterns each, none matching every path."""
    errors = []
    for check, patterns in value.items():
        if check not in AUDIT_CHECKS:
            errors.append(f"{name}: {check!r} is not a check of the audit; the checks are {', '.join(AUDIT_CHECKS)}")
        elif not isinstance(patterns, list) or not all(isinstance(item, str) for item in patterns):
            errors.append(f"{name}[{check!r}] must be a list of paths or patterns, got {patterns!r}")
        else:
            errors.extend(
                f"{name}[{check!r}][{index}] {pattern!r} matches every path, so the audit could never find"
                " anything; name the paths"
                for index, pattern in enumerate(patterns)
                if pattern.strip().rstrip("/*") == ""
            )
    return errors


def _everything_errors(name, value):
    if name == "os_baseline_audit_allowed" and isinstance(value, dict):
        return _audit_allowed_errors(name, value)
    if not isinstance(value, (list, tuple)):
        return []
    errors = []
    if name in ("unattended_upgrades_origins_extra", "unattended_upgrades_security_origins_extra"):
        for index, pattern in enumerate(value):
            if origin_matches_everything(pattern):
                errors.append(
                    f"{name}[{index}] {pattern!r} matches every origin (every value is a wildcard), so any "
                    "repository would be trusted; name the origin, e.g. "
                    '"origin=deb.sury.org,codename=${distro_codename}"'
                )
    elif name == "unattended_upgrades_package_blocklist":
        for index, pattern in enumerate(value):
            if matches_every_package(pattern, regex=True):
                errors.append(
                    f"{name}[{index}] {pattern!r} matches every package (a Python regular expression matched from "
                    "the start), so no upgrade would ever be installed; name the packages to hold back"
                )
    elif name in ("minimal_packages_blocklist", "minimal_packages_blocklist_extra", "minimal_packages_keep"):
        effect = (
            "so no package would ever be purged"
            if name == "minimal_packages_keep"
            else "so every package would be purged"
        )
        for index, pattern in enumerate(value):
            if matches_every_package(pattern):
                errors.append(f"{name}[{index}] {pattern!r} matches every package, {effect}; name the packages")
    return errors


def _forbidden_errors(name, value):
    if name == "php_hardening_session_name" and str(value).strip().upper() == "PHPSESSID":
        return [
            f"{name} must not be PHP's default {value!r}: the cookie name would announce PHP; "
            "choose another name of letters and digits (the role's default is SESSID)"
        ]
    return []


MODES = ("immutable_dir_mode", "immutable_file_mode", "immutable_exec_mode", "immutable_writable_mode")
TREE_MODES = ("dir_mode", "file_mode", "exec_mode", "writable_mode")


def _mode_errors(name, value):
    """File modes the immutable role would refuse only while locking, the last step of a run."""
    modes = [(name, value)] if name in MODES else []
    if name == "immutable_trees":
        modes = [
            (f"{name}[{index}].{key}", item[key])
            for index, item in enumerate(value)
            if isinstance(item, dict)
            for key in TREE_MODES
            if item.get(key) is not None
        ]
    errors = []
    for where, mode in modes:
        try:
            parse_mode(mode, where)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


# Values written into the PHP ini as they are (lists joined with the separator).
PHP_INI_VALUES = {
    "php_hardening_disable_functions": ",",
    "php_hardening_open_basedir": ":",
    "php_hardening_session_name": ",",
}
PHP_SIZES = ("php_hardening_upload_max_filesize", "php_hardening_post_max_size", "php_hardening_memory_limit")


def _php_errors(name, value):
    """PHP values the ini files and FPM pools would refuse (sizes, pools' open_basedir, ini_extra)."""
    errors = []
    try:
        if name in PHP_SIZES:
            size_to_bytes(value, name)
        elif name in PHP_INI_VALUES:
            ini_literal(value, name, PHP_INI_VALUES[name])
        elif name == "php_hardening_ini_extra":
            for key, item in value.items():
                ini_literal(item, f"{name}.{key}")
    except PhpValueError as exc:
        errors.append(str(exc))
    if name != "php_hardening_fpm_pools":
        return errors
    for pool, settings in value.items():
        where = f"{name}.{pool}"
        if not isinstance(settings, dict) or "open_basedir" not in settings:
            errors.append(f"{where} must be a mapping with open_basedir (a list of directories), got {settings!r}")
            continue
        dirs = settings["open_basedir"]
        if not isinstance(dirs, (list, tuple)) or not dirs:
            errors.append(f"{where}.open_basedir must be a non-empty list of directories, got {dirs!r}")
            continue
        bad = [str(item) for item in dirs if not isinstance(item, str) or not item.startswith("/") or ":" in item]
        if bad:
            errors.append(f"{where}.open_basedir entries must be absolute paths without ':', got {bad!r}")
            continue
        try:
            ini_literal(list(dirs), f"{where}.open_basedir", ":")
        except PhpValueError as exc:
            errors.append(str(exc))
    return errors


def _control_error(name, value):
    """The first control character in a value (walked like config_value does), as a message, or None."""
    if name in MULTILINE:
        return None

    def walk(item, path):
        if isinstance(item, str):
            match = _CONTROL.search(item)
            return (path, match.group()) if match else None
        if isinstance(item, dict):
            for key, sub in item.items():
                found = walk(key, f"{path} (key {key!r})") or walk(sub, f"{path}.{key}")
                if found:
                    return found
        elif isinstance(item, (list, tuple)):
            for index, sub in enumerate(item):
                found = walk(sub, f"{path}[{index}]")
                if found:
                    return found
        return None

    found = walk(value, name)
    if found:
        return f"{found[0]} contains the control character {found[1]!r}; values are single lines"
    return None


def input_errors(values, options):
    """Every problem with the operator's variables, one message each, naming the variable.

    *values* maps each variable with one of the collection's prefixes that the play sees to its
    value (role defaults included); *options* is ``declared_options`` of every role.
    """
    errors = unknown_names(values, options) + stale_errors(values)
    for name in sorted(values):
        if name not in options:
            continue
        value = values[name]
        problem = type_error(name, value, options[name])
        if problem:
            errors.append(problem)
            continue
        if value is None:
            continue
        problem = _control_error(name, value) or range_error(name, value) or choice_error(name, value, options[name])
        if problem:
            errors.append(problem)
            continue
        sub = suboption_errors(name, value, options[name])
        if sub:
            errors.extend(sub)
            continue
        errors.extend(_everything_errors(name, value))
        errors.extend(_forbidden_errors(name, value))
        errors.extend(_php_errors(name, value))
        errors.extend(_mode_errors(name, value))
    if not any(error.startswith(HOST_VARIABLES) for error in errors):
        # The host model's own rules (a service's ports, proto, unit; the closed ports), checked by the
        # code that builds it, once each variable has the right type.
        errors.extend(declaration_errors(values))
    return errors

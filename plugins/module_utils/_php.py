# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the PHP plugins (php_info, php_extensions, the php_ini_value filter).

Debian's layout, which everything here assumes::

    /etc/php/<version>/mods-available/<module>.ini   "; priority=NN" + extension=<so>.so
    /etc/php/<version>/<sapi>/conf.d/<NN>-<module>.ini -> ../../mods-available/<module>.ini
    /etc/php/<version>/fpm/pool.d/<file>.conf         [pool] sections

Everything here is pure except :func:`scan`, which only reads directories and files.
"""

from __future__ import annotations

import json
import os
import re

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text

SAPIS = ("apache2", "fpm", "cli")

_VERSION_RE = re.compile(r"^\d+\.\d+$")
_MODULE_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_LINK_RE = re.compile(r"^(?:(?P<priority>\d+)-)?(?P<module>[A-Za-z0-9_.-]+)\.ini$")
_EXT_LINE_RE = re.compile(r"^[ \t]*(?:zend_)?extension[ \t]*=[ \t]*\"?(?P<so>[^\s\";]+?)\"?[ \t]*(?:;.*)?$", re.M)
_SECTION_RE = re.compile(r"^[ \t]*\[(?P<name>[^\]\s]+)\][ \t]*(?:;.*)?$", re.M)
_SIZE_RE = re.compile(r"^\s*(-?\d+)\s*([KkMmGg]?)\s*$")
_FUNC_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters that end or change a value in a PHP ini file even inside double quotes:
# '"' closes the string, '\' escapes, '$' starts ${...} interpolation; ';' starts a
# comment outside quotes. A newline or other control character starts a new line.
_INI_UNSAFE_RE = re.compile(r'["\\$;\x00-\x1f\x7f]')


class PhpValueError(ValueError):
    """A value that cannot be written to a PHP ini file (message names the variable)."""


def is_version(text: str) -> bool:
    """True for a PHP version directory name like ``8.2``."""
    return bool(_VERSION_RE.match(text))


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for ``8.2`` < ``8.10``."""
    return tuple(int(part) for part in version.split("."))


def ini_literal(value, name: str, separator: str = ",") -> str:
    """Render one value for a PHP ini line, or raise PhpValueError naming ``name``.

    Booleans become ``On``/``Off``, integers stay bare, strings are double-quoted, and
    lists are joined with ``separator`` into one quoted string. A string that holds a
    character which would end the value or start a new line is refused, never escaped.
    """
    if isinstance(value, bool):
        return "On" if value else "Off"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise PhpValueError(f"{name}: {value!r} is a float; PHP ini values are integers, booleans or strings")
    if isinstance(value, (list, tuple)):
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                raise PhpValueError(f"{name}[{index}]: {item!r} must be a string")
            text = str(item)
            if text == "" or separator in text:
                raise PhpValueError(f"{name}[{index}]: {text!r} must be non-empty and must not contain {separator!r}")
            _refuse_unsafe(text, f"{name}[{index}]")
            items.append(text)
        return '"' + separator.join(items) + '"'
    if isinstance(value, str):
        _refuse_unsafe(value, name)
        return '"' + value + '"'
    raise PhpValueError(f"{name}: {value!r} ({type(value).__name__}) cannot be written to a PHP ini file")


def _refuse_unsafe(text: str, name: str) -> None:
    match = _INI_UNSAFE_RE.search(text)
    if match:
        raise PhpValueError(
            f"{name}: {text!r} contains {match.group()!r}, which would break the PHP ini line "
            '(refused: quote ", backslash, $, ; and control characters)'
        )


def size_to_bytes(value, name: str) -> int:
    """Bytes of a PHP size (``8M``, ``512K``, ``1G``, ``1048576``; ``-1`` = unlimited, returned as -1)."""
    match = _SIZE_RE.match(str(value))
    if not match or isinstance(value, bool):
        raise PhpValueError(f"{name}: {value!r} is not a PHP size (a number with an optional K, M or G suffix)")
    number = int(match.group(1))
    if number < 0:
        if number == -1 and not match.group(2):
            return -1
        raise PhpValueError(f"{name}: {value!r} must not be negative (-1 alone means unlimited)")
    return number * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]


def function_names(value, name: str) -> list[str]:
    """Check a list of PHP function names (for disable_functions); return it unchanged."""
    if not isinstance(value, (list, tuple)):
        raise PhpValueError(f"{name}: must be a list of function names, got {value!r}")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not _FUNC_RE.match(item):
            raise PhpValueError(f"{name}[{index}]: {item!r} is not a PHP function name")
    return list(value)


def module_name(value, name: str) -> str:
    """Check a phpenmod module name (``xdebug``, ``pdo_mysql``)."""
    if not isinstance(value, str) or not _MODULE_RE.match(value):
        raise PhpValueError(f"{name}: {value!r} is not a PHP module name")
    return value


def parse_module_ini(text: str) -> list[str]:
    """Shared objects a mods-available ini loads, by base name (``pdo_mysql``, ``opcache``)."""
    names = []
    for match in _EXT_LINE_RE.finditer(text):
        so = match.group("so").rsplit("/", 1)[-1]
        names.append(so[:-3] if so.endswith(".so") else so)
    return names


def enabled_modules(entries) -> dict[str, str]:
    """Modules enabled in a conf.d directory, from ``(file name, link target or None)`` pairs.

    A module is enabled when ``<NN>-<module>.ini`` is a link into ``mods-available``
    (what phpenmod makes). Plain files (our own hardening ini, an admin's file) are not
    modules. Returns ``{module: file name}``.
    """
    found = {}
    for filename, target in entries:
        if target is None:
            continue
        match = _LINK_RE.match(filename)
        if not match:
            continue
        parts = target.rstrip("/").split("/")
        if len(parts) < 2 or parts[-2] != "mods-available" or parts[-1] != f"{match.group('module')}.ini":
            continue
        found[match.group("module")] = filename
    return found


def pool_names(text: str) -> list[str]:
    """Pool names of a php-fpm pool file (its ``[section]`` headers except ``global``)."""
    return [m.group("name") for m in _SECTION_RE.finditer(text) if m.group("name").lower() != "global"]


def blocked_modules(targets, enabled, so_names, dependencies) -> dict[str, list[str]]:
    """Which target modules must stay because another enabled module requires them.

    ``targets``: modules to disable; ``enabled``: modules enabled in the SAPI;
    ``so_names``: ``{module: [so base names]}`` from the mods-available files;
    ``dependencies``: ``{extension: {dependency: kind}}`` as PHP's ReflectionExtension
    reports them for the loaded extensions (names compared case-insensitively).

    A module is blocked when an extension that stays loaded (provided by a module that
    is enabled and not disabled, or built in) lists one of its shared objects as
    ``Required``. Blocking is transitive: a blocked module stays, so what it requires
    stays too. Returns ``{module: sorted list of the extensions requiring it}``.
    """
    targets = [t for t in targets if t in enabled]
    provided = {}
    for module, sos in so_names.items():
        for so in sos:
            provided[so.lower()] = module
    staying = set(enabled) - set(targets)
    blocked: dict[str, set] = {}
    changed = True
    while changed:
        changed = False
        for name, deps in dependencies.items():
            if not isinstance(deps, dict):  # PHP's json_encode() turns an empty array into []
                continue
            ext = name.lower()
            owner = provided.get(ext)
            if owner is not None and owner not in staying:
                continue
            for dep, kind in deps.items():
                if str(kind).lower() != "required":
                    continue
                module = provided.get(dep.lower())
                if module in targets:
                    blocked.setdefault(module, set()).add(ext)
                    if module not in staying:
                        staying.add(module)
                        changed = True
    return {module: sorted(by) for module, by in sorted(blocked.items())}


# Where each SAPI's program lives on Debian; a SAPI counts as installed when it is there
# (a removed but not purged package leaves its /etc/php/<version>/<sapi> directory behind).
SAPI_PROGRAMS = {
    "apache2": "/usr/lib/apache2/modules/libphp{version}.so",
    "fpm": "/usr/sbin/php-fpm{version}",
    "cli": "/usr/bin/php{version}",
}


def _conf_entries(conf_d):
    entries = []
    try:
        names = sorted(os.listdir(conf_d))
    except OSError:
        return entries
    for filename in names:
        path = os.path.join(conf_d, filename)
        entries.append((filename, os.readlink(path) if os.path.islink(path) else None))
    return entries


def scan(etc_dir="/etc/php", programs=None):
    """Read what PHP the host has: one dict per installed version and SAPI.

    Each item: ``version``, ``sapi``, ``conf_d``, ``program`` (the SAPI's binary or
    Apache module), ``cli`` (the same version's CLI binary or None), ``enabled``
    (``{module: conf.d file name}``), ``so_names`` (``{module: [so base names]}`` of the
    version's mods-available), and for fpm ``pools`` (``{pool: pool file}``).
    """
    programs = programs or SAPI_PROGRAMS
    found = []
    try:
        versions = sorted((v for v in os.listdir(etc_dir) if is_version(v)), key=version_key)
    except OSError:
        return found
    for version in versions:
        base = os.path.join(etc_dir, version)
        mods_dir = os.path.join(base, "mods-available")
        so_names = {}
        if os.path.isdir(mods_dir):
            for filename in sorted(os.listdir(mods_dir)):
                if filename.endswith(".ini"):
                    so_names[filename[:-4]] = parse_module_ini(read_text(os.path.join(mods_dir, filename)))
        cli = programs["cli"].format(version=version)
        for sapi in SAPIS:
            program = programs[sapi].format(version=version)
            conf_d = os.path.join(base, sapi, "conf.d")
            if not (os.path.exists(program) and os.path.isdir(conf_d)):
                continue
            item = {
                "version": version,
                "sapi": sapi,
                "conf_d": conf_d,
                "program": program,
                "cli": cli if os.path.exists(cli) else None,
                "enabled": enabled_modules(_conf_entries(conf_d)),
                "so_names": so_names,
            }
            if sapi == "fpm":
                pools = {}
                pool_d = os.path.join(base, "fpm", "pool.d")
                if os.path.isdir(pool_d):
                    for filename in sorted(os.listdir(pool_d)):
                        if filename.endswith(".conf"):
                            path = os.path.join(pool_d, filename)
                            for pool in pool_names(read_text(path)):
                                pools.setdefault(pool, path)
                item["pools"] = pools
            found.append(item)
    return found


# --------------------------------------------------------------------- the role's plan
_INI_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*$")
_BASEDIR_RE = re.compile(r"^/[^:]*$")
# Settings PHP 8.4 deprecates; the role never writes them and refuses them in php_hardening_ini_extra.
DEPRECATED = ("session.sid_length", "session.sid_bits_per_character")
# Extensions always disabled, whatever php_hardening_disabled_extensions says.
ALWAYS_DISABLED = ("xdebug",)
# The role's variables written to the ini file as they are (the same rendering as hardening.ini.j2),
# with the separator of a list.
INI_VARIABLES = {
    "php_hardening_allow_url_fopen": ",",
    "php_hardening_disable_functions": ",",
    "php_hardening_open_basedir": ":",
    "php_hardening_file_uploads": ",",
    "php_hardening_upload_max_filesize": ",",
    "php_hardening_post_max_size": ",",
    "php_hardening_memory_limit": ",",
    "php_hardening_max_execution_time": ",",
    "php_hardening_max_input_time": ",",
    "php_hardening_max_input_vars": ",",
    "php_hardening_session_name": ",",
    "php_hardening_cookie_secure": ",",
    "php_hardening_cookie_samesite": ",",
}
SIZES = ("php_hardening_upload_max_filesize", "php_hardening_post_max_size", "php_hardening_memory_limit")


def _sizes(settings, errors):
    """The three sizes in bytes, or None when one is no PHP size (its error added)."""
    sizes = {}
    for name in SIZES:
        try:
            sizes[name] = size_to_bytes(settings[name], name)
        except PhpValueError as exc:
            errors.append(str(exc))
    return sizes if len(sizes) == len(SIZES) else None


def _ini_errors(settings):
    """Every value that would not fit into its PHP ini line, named as the ini file's template names it."""
    errors = []
    values = [(name, settings[name], separator) for name, separator in INI_VARIABLES.items()]
    values += [
        (f"php_hardening_ini_extra.{key}", value, ",") for key, value in settings["php_hardening_ini_extra"].items()
    ]
    for name, value, separator in values:
        if name in SIZES or (name == "php_hardening_open_basedir" and not value):
            continue  # sizes are checked as sizes; an empty open_basedir is left out of the file
        try:
            ini_literal(value, name, separator)
        except PhpValueError as exc:
            errors.append(str(exc))
    return errors


def role_plan(settings):
    """Check the php_hardening role's variables and compute what it disables.

    *settings* maps the role's variables (the ``INI_VARIABLES``, ``php_hardening_ini_extra`` and
    ``php_hardening_disabled_extensions``). Returns ``errors`` and ``disabled_extensions`` (xdebug
    and the declared ones, each once).
    """
    errors = []
    functions = [str(name) for name in settings["php_hardening_disable_functions"] if not _FUNC_RE.match(str(name))]
    if functions:
        errors.append(
            f"php_hardening_disable_functions holds names that are not PHP function names: {json.dumps(functions)}"
        )
    basedir = [str(path) for path in settings["php_hardening_open_basedir"] if not _BASEDIR_RE.match(str(path))]
    if basedir:
        errors.append(f"php_hardening_open_basedir entries must be absolute paths without ':': {json.dumps(basedir)}")
    session = settings["php_hardening_session_name"]
    if not _SESSION_NAME_RE.match(str(session)):
        errors.append(
            f"php_hardening_session_name must be letters and digits with at least one letter, not {json.dumps(session)}"
        )
    sizes = _sizes(settings, errors)
    if sizes:
        upload, post, memory = (sizes[name] for name in SIZES)
        if post != 0 and upload > post:
            errors.append(
                f"php_hardening_upload_max_filesize ({settings[SIZES[0]]}) must not exceed "
                f"php_hardening_post_max_size ({settings[SIZES[1]]}): an upload travels inside a POST request"
            )
        if memory != -1 and post > memory:
            errors.append(
                f"php_hardening_post_max_size ({settings[SIZES[1]]}) must not exceed "
                f"php_hardening_memory_limit ({settings[SIZES[2]]})"
            )
    extra = [str(key) for key in settings["php_hardening_ini_extra"]]
    bad_keys = [key for key in extra if not _INI_KEY_RE.match(key)]
    if bad_keys:
        errors.append(f"php_hardening_ini_extra keys must be ini setting names: {json.dumps(bad_keys)}")
    deprecated = [key for key in extra if key in DEPRECATED]
    if deprecated:
        errors.append(
            f"php_hardening_ini_extra sets {json.dumps(deprecated)}, which PHP 8.4 deprecates; leave them out"
        )
    errors.extend(_ini_errors(settings))
    disabled = list(ALWAYS_DISABLED)
    for name in settings["php_hardening_disabled_extensions"]:
        if name not in disabled:
            disabled.append(name)
    return {"errors": errors, "disabled_extensions": disabled}


# --------------------------------------------------------------------- the ini in effect
# PHP reads a SAPI's php.ini, then every *.ini of its scan directory (conf.d) in sorted order; the
# last value of a setting read wins. [PATH=...] and [HOST=...] sections apply to some requests only
# (CGI/FPM) and are left out; every other section name is only a heading.
_INI_LINE_RE = re.compile(r"^\s*(?P<key>[A-Za-z0-9_.]+)\s*=\s*(?P<value>.*)$")
_INI_SECTION_RE = re.compile(r"^\s*\[(?P<name>[^\]]*)\]")
_TRUE = ("1", "on", "yes", "true")
_FALSE = ("", "0", "off", "no", "false", "none")


def ini_settings(text: str) -> list[tuple[int, str, str]]:
    """``[(line number, setting, value)]`` of an ini text, in order; the value without its quotes or comment."""
    found = []
    scoped = False
    for number, line in enumerate((text or "").splitlines(), 1):
        section = _INI_SECTION_RE.match(line)
        if section:
            scoped = section.group("name").strip().upper().startswith(("PATH=", "HOST="))
            continue
        match = _INI_LINE_RE.match(line)
        if not match or scoped:
            continue
        raw = match.group("value").strip()
        if raw.startswith('"'):
            end = raw.find('"', 1)
            value = raw[1:end] if end > 0 else raw[1:]
        else:
            value = raw.split(";", 1)[0].strip()
        found.append((number, match.group("key"), value))
    return found


def ini_same(one: str, other: str) -> bool:
    """Whether two ini values mean the same: booleans in any spelling, lists with or without spaces."""
    left, right = (" ".join(str(value).split()).lower() for value in (one, other))
    if (left in _TRUE and right in _TRUE) or (left in _FALSE and right in _FALSE):
        return True
    return left.replace(", ", ",") == right.replace(", ", ",")


def ini_overrides(files, ours: str) -> list[dict]:
    """Where a later ini overrides a setting of ``ours``.

    ``files`` is ``[(path, text)]`` in the order PHP reads them (php.ini, then conf.d sorted), with
    ``ours`` among them as it will be. Returns one item per setting of ours that a later file sets to
    another value (the last one read): ``file``, ``line``, ``setting``, ``found``, ``expected``. A later
    file that sets the same value is fine.
    """
    wanted, last = {}, {}
    for path, text in files:
        for number, key, value in ini_settings(text):
            if path == ours:
                wanted[key] = value
            last[key] = (path, number, value)
    result = []
    for key, expected in wanted.items():
        path, number, value = last[key]
        if path != ours and not ini_same(value, expected):
            result.append({"file": path, "line": number, "setting": key, "found": value, "expected": expected})
    return sorted(result, key=lambda item: (item["file"], item["line"]))


def scan_order(php_ini: str, conf_d: str, names, ours: str) -> list[str]:
    """The files a SAPI reads, in order: its php.ini, then the ``*.ini`` of ``names`` (conf.d's listing)
    sorted, with ``ours`` (a file name in conf.d) among them even before it exists."""
    inis = sorted(set(name for name in names if name.endswith(".ini")) | {ours})
    return [php_ini] + [os.path.join(conf_d, name) for name in inis]


# --------------------------------------------------------------------- what else decides a SAPI's ini
# PHP_INI_SCAN_DIR replaces the conf.d a SAPI scans (a leading ':' adds to it), PHPRC the directory
# of its php.ini: either set in the daemon's environment means it may not read the hardening at all.
ENV_NAMES = ("PHP_INI_SCAN_DIR", "PHPRC")
_SHELL_ASSIGN_RE = re.compile(r"^\s*(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")


def shell_environment(text: str, names=ENV_NAMES) -> list[tuple[int, str, str]]:
    """``[(line, name, value)]`` of the assignments of ``names`` in a shell file (Apache's envvars)."""
    found = []
    for number, line in enumerate((text or "").splitlines(), 1):
        match = _SHELL_ASSIGN_RE.match(line)
        if match and match.group("name") in names:
            value = match.group("value").split(" #", 1)[0].strip().strip("\"'")
            found.append((number, match.group("name"), value))
    return found


def unit_environment(text: str, names=ENV_NAMES) -> list[tuple[int, str, str]]:
    """``[(line, name, value)]`` of ``names`` set by the ``Environment=`` lines of a systemd unit file or drop-in."""
    found = []
    for number, line in enumerate((text or "").splitlines(), 1):
        key, sep, rest = line.strip().partition("=")
        if not sep or key.strip() != "Environment":
            continue
        for word in re.findall(r'"[^"]*"|\'[^\']*\'|\S+', rest):
            name, sep, value = word.strip("\"'").partition("=")
            if sep and name in names:
                found.append((number, name, value))
    return found


def environ_values(data: bytes, names=ENV_NAMES) -> dict[str, str]:
    """``{name: value}`` of ``names`` in a process's environment (``/proc/<pid>/environ``)."""
    values = {}
    for item in (data or b"").split(b"\0"):
        name, sep, value = item.decode("utf-8", "replace").partition("=")
        if sep and name in names:
            values[name] = value
    return values


# Settings php_value/php_flag cannot change (PHP_INI_SYSTEM; open_basedir can only be narrowed there):
# only php_admin_value/php_admin_flag in Apache's configuration can.
SYSTEM_SETTINGS = frozenset(
    {
        "expose_php",
        "allow_url_fopen",
        "allow_url_include",
        "disable_functions",
        "disable_classes",
        "enable_dl",
        "file_uploads",
        "open_basedir",
    }
)
APACHE_PHP_DIRECTIVES = ("php_value", "php_flag", "php_admin_value", "php_admin_flag")


def apache_php_overrides(lines, wanted: dict) -> list[dict]:
    """Where Apache's configuration or an .htaccess it reads sets a setting of the hardening (``wanted``:
    setting -> value) to another value for mod_php.

    ``lines`` are directives as ``_apache.walk_config`` or ``_apache.htaccess_lines`` give them (an
    .htaccess line carries ``allowed``, its directory's AllowOverride: php_value and php_flag need
    Options, and php_admin_* are refused there). Items: ``file``, ``line``, ``where``, ``setting``,
    ``found``, ``expected``.
    """
    found = []
    for entry in lines:
        name = entry["name"].lower()
        if name not in APACHE_PHP_DIRECTIVES or len(entry["args"]) < 2 or not entry.get("active", True):
            continue
        if "allowed" in entry and (name.startswith("php_admin") or not entry["allowed"] & {"all", "options"}):
            continue
        setting, value = str(entry["args"][0]), " ".join(str(arg) for arg in entry["args"][1:])
        if setting not in wanted or ini_same(value, wanted[setting]):
            continue
        if not name.startswith("php_admin") and setting in SYSTEM_SETTINGS:
            continue
        inside = " ".join(f"<{section} {arg}>".replace(" >", ">") for section, arg in entry["sections"])
        where = f"{entry['file']}:{entry['line']}" + (f" in {inside}" if inside else "")
        found.append(
            {
                "file": entry["file"],
                "line": entry["line"],
                "where": where,
                "setting": setting,
                "found": f"{entry['name']} {setting} {value}",
                "expected": wanted[setting],
            }
        )
    return found


def extension_loaders(files, so_names, disabled) -> list[dict]:
    """The lines outside phpenmod's links that load a module of ``disabled`` (``extension=xdebug.so`` in
    php.ini or a plain conf.d file): phpdismod cannot switch them off. ``files`` is ``[(path, text)]``
    of a SAPI's php.ini and its conf.d files that are not module links; ``so_names`` maps a module to
    its shared objects (mods-available). Items: ``file``, ``module``."""
    owner = {so.lower(): module for module, names in so_names.items() for so in names}
    found = []
    for path, text in files:
        for so in parse_module_ini(text or ""):
            module = owner.get(so.lower(), so)
            if module in disabled:
                found.append({"file": path, "module": module})
    return found

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers for Debian's Apache layout (mods/conf/sites -available and -enabled)."""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text

# Debian's a2dismod refuses to disable these without --force (list from a2enmod).
ESSENTIAL_MODULES = frozenset(
    {
        "alias",
        "auth_basic",
        "authn_file",
        "authz_host",
        "authz_user",
        "autoindex",
        "deflate",
        "dir",
        "env",
        "filter",
        "logio",
        "mime",
        "negotiation",
        "setenvif",
        "unixd",
        "version",
        "watchdog",
    }
)

# kind -> (directory stem, suffix of the file that marks "enabled", enable command, disable command)
KINDS = {
    "modules": ("mods", ".load", "a2enmod", "a2dismod"),
    "confs": ("conf", ".conf", "a2enconf", "a2disconf"),
    "sites": ("sites", ".conf", "a2ensite", "a2dissite"),
}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_DEPENDS = re.compile(r"^#\s*Depends:\s*(.*)$", re.M)
_SYNTAX_ERROR = re.compile(r"(AH\d+: )?Syntax error on line (\d+) of ([^:]+):\s*(.*)", re.S)


def bad_names(names):
    """Return the names that are not plain Apache module/conf/site names (no path, no glob)."""
    return [name for name in names if not isinstance(name, str) or not _NAME.match(name)]


def depends(load_text: str) -> list[str]:
    """Return the modules a ``mods-available/<name>.load`` file declares in ``# Depends:`` lines."""
    found = []
    for line in _DEPENDS.findall(load_text):
        found += [word for word in re.split(r"[\s,]+", line) if word]
    return found


def enabled_names(entries, suffix: str) -> set[str]:
    """Return the names enabled in a ``*-enabled`` directory listing (``ssl.load`` -> ``ssl``)."""
    return {entry[: -len(suffix)] for entry in entries if entry.endswith(suffix)}


def plan(enabled: set, enable, disable, dependencies: dict) -> dict:
    """Decide what to enable, what to disable and what to keep although asked to disable.

    ``dependencies`` maps an enabled (or to be enabled) module to the modules it depends on.
    A module that a module staying enabled depends on is kept, not broken: it goes to ``kept``
    with the names of its dependants.
    """
    to_enable = [name for name in enable if name not in enabled]
    after = (enabled | set(enable)) - set(disable)
    kept = {}
    to_disable = []
    for name in disable:
        if name not in enabled:
            continue
        users = sorted(other for other in after if name in dependencies.get(other, ()))
        if users:
            kept[name] = users
        else:
            to_disable.append(name)
    return {"enable": to_enable, "disable": dependants_first(to_disable, dependencies), "kept": kept}


def dependants_first(names, dependencies: dict) -> list[str]:
    """Order modules to disable so that no module goes before one that depends on it."""
    left = list(names)
    ordered = []
    while left:
        free = [
            name for name in left if not any(name in dependencies.get(other, ()) for other in left if other != name)
        ]
        pick = free[0] if free else left[0]  # a dependency cycle: keep the given order
        ordered.append(pick)
        left.remove(pick)
    return ordered


def configtest_message(output: str) -> str:
    """Return Apache's complaint from ``apache2ctl -t`` output, file and line first when it names them."""
    match = _SYNTAX_ERROR.search(output)
    if match:
        detail = " ".join(match.group(4).split())
        return f"{match.group(3)}:{match.group(2)}: {detail}"
    lines = [line.strip() for line in output.splitlines() if line.strip() and not line.startswith("Syntax OK")]
    return " ".join(lines) or "apache2ctl -t failed without a message"


def link_snapshot(directory: str) -> dict:
    """Return ``{entry: link target or None}`` for a ``*-enabled`` directory (None: a plain file)."""
    if not os.path.isdir(directory):
        return {}
    snapshot = {}
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        snapshot[entry] = os.readlink(path) if os.path.islink(path) else None
    return snapshot


# --------------------------------------------------------------------- Content-Security-Policy
class CspError(ValueError):
    """A CSP mapping that cannot be rendered; the message names the variable and value."""


# CSP Level 3 and the directives browsers still act on.
SOURCE_LIST = frozenset(
    {
        "default-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "font-src",
        "connect-src",
        "media-src",
        "object-src",
        "child-src",
        "frame-src",
        "worker-src",
        "manifest-src",
        "fenced-frame-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
    }
)
TOKEN_LIST = frozenset({"sandbox", "report-uri", "report-to", "require-trusted-types-for", "trusted-types", "webrtc"})
FLAGS = frozenset({"upgrade-insecure-requests", "block-all-mixed-content"})
DIRECTIVES = SOURCE_LIST | TOKEN_LIST | FLAGS
KEYWORDS = frozenset(
    {
        "self",
        "none",
        "unsafe-inline",
        "unsafe-eval",
        "unsafe-hashes",
        "strict-dynamic",
        "report-sample",
        "wasm-unsafe-eval",
        "unsafe-allow-redirects",
        "inline-speculation-rules",
        "script",
        "allow-duplicates",
    }
)
# A nonce or a hash source, quoted or not.
_NONCE_OR_HASH = re.compile(r"^(nonce-[A-Za-z0-9+/_=-]+|sha(256|384|512)-[A-Za-z0-9+/_=-]+)$")
# What a source or token may never hold: it would end the directive, the policy or the
# quoted Apache argument.
_FORBIDDEN = re.compile(r"[\s;,\"\\\x00-\x1f\x7f]")


def _source(directive: str, value) -> str:
    """Return one source expression, keywords quoted; raise naming the directive and value."""
    if not isinstance(value, str) or not value:
        raise CspError(f"csp: {directive} holds {value!r}; every source must be a non-empty string")
    if _FORBIDDEN.search(value):
        raise CspError(
            f"csp: {directive} source {value!r} contains whitespace, ';', ',', a quote or a backslash; "
            "give one source per list item"
        )
    bare = value[1:-1] if len(value) > 1 and value[0] == value[-1] == "'" else value
    if bare in KEYWORDS or _NONCE_OR_HASH.match(bare):
        return f"'{bare}'"
    if "'" in value:
        raise CspError(
            f"csp: {directive} source {value!r} is quoted but is not a CSP keyword "
            f"({', '.join(sorted(KEYWORDS))}), nonce-... or sha256/384/512-..."
        )
    return value


def csp_value(directives, name: str = "csp") -> str:
    """Return a Content-Security-Policy value built from a mapping of directive to sources.

    A source-list directive maps to a list of sources (keywords may be written bare: ``self``
    becomes ``'self'``); ``upgrade-insecure-requests`` and ``block-all-mixed-content`` map to a
    boolean; ``None`` or ``false`` leaves a directive out.
    """
    if not isinstance(directives, dict):
        raise CspError(f"{name} must be a mapping of CSP directive to sources, not {directives!r}")
    parts = []
    for directive, value in directives.items():
        if directive not in DIRECTIVES:
            raise CspError(f"{name}: unknown CSP directive {directive!r}; known: {', '.join(sorted(DIRECTIVES))}")
        if value is None or value is False:
            continue
        if directive in FLAGS:
            if value is not True:
                raise CspError(f"{name}.{directive} takes true or false, not {value!r}")
            parts.append(directive)
            continue
        if not isinstance(value, list):
            raise CspError(f"{name}.{directive} must be a list of sources, not {value!r}")
        if directive in SOURCE_LIST and not value:
            raise CspError(f"{name}.{directive} is an empty list; write ['none'] to allow nothing")
        sources = [_source(f"{name}.{directive}", item) for item in value]
        parts.append(" ".join([directive, *sources]))
    if not parts:
        raise CspError(f"{name} yields an empty policy: {directives!r}")
    return "; ".join(parts)


# --------------------------------------------------------------------- the role's plan
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
# These two have their own variables (apache_hardening_csp, apache_hardening_hsts).
RESERVED_HEADERS = ("content-security-policy", "strict-transport-security")
_CERT_PATH = re.compile(r'^/[^"\s]*$')
_ROOT_PATH = re.compile(r'^/[^"\\]*$')
# Modules the role's own configuration needs (and the TLS site's).
BASE_MODULES = ("headers", "reqtimeout")
TLS_MODULES = ("ssl", "socache_shmcb")


def _json(value):
    return json.dumps(value, default=str)


def installed_packages(dpkg_output):
    """{package: version} of the installed packages in ``dpkg-query --show
    --showformat='${db:Status-Abbrev} ${Package} ${Version}\\n'`` output."""
    packages = {}
    for line in (dpkg_output or "").splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "ii":
            packages[words[1]] = words[2]
    return packages


def _tls_errors(get):
    errors = []
    cert, key, chain = (
        get("apache_hardening_tls_certificate"),
        get("apache_hardening_tls_certificate_key"),
        get("apache_hardening_tls_certificate_chain"),
    )
    if get("apache_hardening_tls_enabled") and not get("apache_hardening_tls_self_signed") and not cert:
        errors.append(
            "apache_hardening_tls_enabled is true but apache_hardening_tls_certificate is empty and "
            "apache_hardening_tls_self_signed is false; give a certificate or ask for a self-signed one."
        )
    if bool(cert) != bool(key):
        errors.append(
            f"apache_hardening_tls_certificate ({_json(cert)}) and "
            f"apache_hardening_tls_certificate_key ({_json(key)}) go together."
        )
    if chain and not cert:
        errors.append(
            f"apache_hardening_tls_certificate_chain ({_json(chain)}) needs apache_hardening_tls_certificate; "
            "a self-signed certificate has no chain (and no OCSP stapling)."
        )
    paths = [path for path in (cert, key, chain) if path]
    if any(not _CERT_PATH.match(str(path)) for path in paths):
        errors.append(
            "apache_hardening_tls_certificate/_key/_chain must be absolute paths without spaces or quotes: "
            f"{_json(paths)}"
        )
    return errors


def _content_errors(get):
    errors = []
    roots = get("apache_hardening_document_roots")
    if any(not _ROOT_PATH.match(str(root)) for root in roots):
        errors.append(
            f"apache_hardening_document_roots must hold absolute paths without quotes or backslashes: {_json(roots)}"
        )
    if get("apache_hardening_tls_enabled") and not roots:
        errors.append(
            "apache_hardening_tls_enabled needs a document root for the TLS site "
            "(apache_hardening_document_roots is empty)."
        )
    headers = get("apache_hardening_headers")
    names = [str(name) for name in headers]
    bad = [name for name in names if not _HEADER_NAME.match(name)]
    if bad:
        errors.append(f"apache_hardening_headers: header names are letters, digits and '-': {_json(bad)}")
    if any(name.lower() in RESERVED_HEADERS for name in names):
        errors.append(
            "apache_hardening_headers must not hold Content-Security-Policy or Strict-Transport-Security "
            f"({_json(names)}); use apache_hardening_csp and apache_hardening_hsts."
        )
    if any(value is not None and not isinstance(value, str) for value in headers.values()):
        errors.append(f"apache_hardening_headers values are strings (or null to drop a header): {_json(headers)}")
    both = [
        name for name in get("apache_hardening_modules_enabled") if name in get("apache_hardening_modules_disabled")
    ]
    if both:
        errors.append(f"apache_hardening_modules_enabled and apache_hardening_modules_disabled share {_json(both)}.")
    return errors


def _declared_port_errors(get):
    """HTTPS the role serves on 443 must be declared where the host declares Apache (the host model):
    the ufw role opens only declared ports and would close it."""
    if not get("apache_hardening_tls_enabled"):
        return []
    apache = [s for s in get("bulwark_host")["services"] if s["unit"] == "apache2.service" and s["proto"] == "tcp"]
    if not apache or any(443 in service["ports"] for service in apache):
        return []
    names = ", ".join(f"bulwark_services.{service['name']}.ports" for service in apache)
    return [
        f"apache_hardening_tls_enabled serves HTTPS on port 443, which {names} (unit apache2) does not list: "
        "the firewall would close it; add 443 there"
    ]


def role_plan(settings):
    """Check the apache_hardening role's variables and compute what it installs and writes.

    *settings* maps the role's variables (``apache_hardening_install``, ``_tls_enabled``,
    ``_tls_self_signed``, ``_tls_certificate``, ``_tls_certificate_key``, ``_tls_certificate_chain``,
    ``_document_roots``, ``_headers``, ``_csp``, ``_hsts``, ``_modules_enabled``, ``_modules_disabled``), the host
    model ``bulwark_host`` (a declared Apache service must list 443 when the role serves HTTPS), plus
    ``self_signed_cert`` and ``self_signed_key`` (the role's paths), ``dpkg_output`` (the preflight's
    dpkg-query, '' before it ran) and ``check_mode``. Returns ``errors`` and ``packages`` ({name:
    version} installed), ``present`` (apache2 installed), ``openssl`` (libssl's version),
    ``self_signed_active``, ``user_cert``, ``cert``, ``key``, ``wanted_packages``, ``crypto_ready``
    (python3-cryptography there, or a real run that installs it), ``modules_enabled``,
    ``modules_disabled``, ``csp`` (the header's value, '' for none) and ``live`` (what the running Apache must
    answer, see :func:`live_answer`).
    """
    get = settings.__getitem__
    errors = _tls_errors(get) + _content_errors(get) + _declared_port_errors(get)
    csp = ""
    if get("apache_hardening_csp"):
        try:
            csp = csp_value(get("apache_hardening_csp"), "apache_hardening_csp")
        except CspError as exc:
            errors.append(str(exc))

    packages = installed_packages(get("dpkg_output"))
    tls = bool(get("apache_hardening_tls_enabled"))
    self_signed = tls and bool(get("apache_hardening_tls_self_signed")) and not get("apache_hardening_tls_certificate")
    user_cert = tls and bool(get("apache_hardening_tls_certificate"))
    enabled = list(BASE_MODULES) + (list(TLS_MODULES) if tls else [])
    for name in get("apache_hardening_modules_enabled"):
        if name not in enabled:
            enabled.append(name)
    return {
        "errors": errors,
        "packages": packages,
        "present": "apache2" in packages,
        "openssl": packages.get("libssl3t64", packages.get("libssl3", "")),
        "self_signed_active": self_signed,
        "user_cert": user_cert,
        "cert": get("self_signed_cert") if self_signed else get("apache_hardening_tls_certificate"),
        "key": get("self_signed_key") if self_signed else get("apache_hardening_tls_certificate_key"),
        "wanted_packages": (["apache2"] if get("apache_hardening_install") else [])
        + (["python3-cryptography"] if self_signed or user_cert else []),
        "crypto_ready": "python3-cryptography" in packages or not get("check_mode"),
        "modules_enabled": enabled,
        "modules_disabled": [name for name in get("apache_hardening_modules_disabled") if name not in enabled],
        "csp": csp,
        "live": live_answer(get, csp),
    }


def live_answer(get, csp: str) -> dict:
    """What the running Apache must answer after the role (apache2_config's ``live``): ``Server: Apache``
    (ServerTokens Prod), each security header with its value once, no X-Powered-By, HSTS over HTTPS,
    and TRACE refused (TraceEnable Off). A header the role does not send is not asked about."""
    headers = {"Server": "Apache", "X-Powered-By": None}
    headers.update({str(name): str(value).strip() for name, value in get("apache_hardening_headers").items() if value})
    if csp:
        headers["Content-Security-Policy"] = csp
    https = dict(headers)
    if get("apache_hardening_hsts"):
        https["Strict-Transport-Security"] = str(get("apache_hardening_hsts")).strip()
    return {"http": headers, "https": https, "methods": {"TRACE": 405}}


# --------------------------------------------------------------------- the configuration in effect
# Apache reads apache2.conf and, at each Include/IncludeOptional, the matched files in sorted order
# (a directory: every file in it); for a server-wide directive that takes one value, the last one read
# wins, and a <VirtualHost>, <Directory>, <Location>, <Files> or <If> section beats the server-wide
# value for its requests. <IfModule> holds when a LoadModule line read before (or a built-in module)
# provides the module; the other conditional sections (<IfDefine>, <IfVersion>, ...) are read as if their
# condition held: a directive that might apply is reported, never one that does silently ignored.
CONDITIONALS = frozenset({"ifmodule", "ifdefine", "ifversion", "iffile", "ifdirective", "ifsection"})
IF_SECTIONS = frozenset({"if", "elseif", "else"})
# Directives that add to a list or a table rather than set one value: never "overridden" by a later line.
ADDITIVE = frozenset(
    {
        "header",
        "requestheader",
        "include",
        "includeoptional",
        "loadmodule",
        "loadfile",
        "define",
        "undefine",
        "setenv",
        "unsetenv",
        "passenv",
        "setenvif",
        "setenvifnocase",
        "browsermatch",
        "alias",
        "aliasmatch",
        "scriptalias",
        "redirect",
        "redirectmatch",
        "rewriterule",
        "rewritecond",
        "listen",
        "addtype",
        "addhandler",
        "logformat",
        "customlog",
    }
)
# Directives whose first argument names what they set (SSLCipherSuite TLSv1.3 ..., SSLOpenSSLConfCmd Curves ...).
KEYED = {"sslopensslconfcmd": None, "sslciphersuite": re.compile(r"^(SSL|TLSv1(\.[0-3])?)$", re.I)}
_INCLUDES = frozenset({"include", "includeoptional"})
# Compiled into Debian's apache2 (apache2 -l).
BUILTIN_MODULES = frozenset({"core", "so", "watchdog", "http", "log_config", "logio", "version", "unixd", "mpm_common"})


def config_words(text: str) -> list[tuple[int, list[str]]]:
    """``[(line number, [word, ...])]`` of an Apache configuration text: comments dropped, lines
    continued with a backslash joined, quoted arguments kept whole (without their quotes)."""
    lines = []
    pending, start = "", 0
    for number, raw in enumerate((text or "").splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        line, pending = (pending + raw).strip(), ""
        if not line or line.startswith("#"):
            continue
        words = []
        for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+)', line):
            word = match.group(1) if match.group(1) is not None else match.group(2)
            words.append(word if word is not None else match.group(3))
        lines.append((start, words))
    return lines


def walk_config(read, expand, root: str, start: str = "apache2.conf", depth: int = 0) -> list[dict]:
    """Every directive Apache reads, in the order it reads them, from ``start`` (relative to ``root``).

    ``read(path)`` returns a file's text (None: missing); ``expand(pattern)`` the files an Include
    pattern matches, in Apache's order (sorted; a directory's files). Each entry: ``file``, ``line``,
    ``name`` (as written), ``args``, ``sections`` (the enclosing non-conditional sections, as
    ``(name, argument)``, outermost first) and ``active`` (False inside an ``<IfModule>`` whose module no
    LoadModule line read before provides). Sections are tracked per file, as Apache requires them to close.
    """
    return _walk(read, expand, root, start, depth=depth, modules=set(BUILTIN_MODULES))


def _module_names(args) -> set[str]:
    """The names ``<IfModule>`` may use for a ``LoadModule x_module path/mod_x.so`` line."""
    names = set()
    if args:
        names.add(str(args[0]).lower().removesuffix("_module"))
    if len(args) > 1:
        names.add(os.path.basename(str(args[1])).lower().removeprefix("mod_").removesuffix(".so"))
    return names


def _holds(condition: str, modules: set) -> bool:
    negated = condition.startswith("!")
    name = condition.lstrip("!").strip().lower()
    name = name.removesuffix(".c").removeprefix("mod_") if name.endswith(".c") else name.removesuffix("_module")
    return (name in modules) != negated


def _walk(read, expand, root, start, *, depth, modules):
    path = start if os.path.isabs(start) else os.path.join(root, start)
    text = read(path)
    if text is None or depth > 16:
        return []
    entries = []
    stack: list[tuple[str, str]] = []
    for number, words in config_words(text):
        head = words[0]
        active = all(_holds(arg, modules) for name, arg in stack if name.lower() == "ifmodule")
        if head.startswith("</"):
            if stack:
                stack.pop()
            continue
        if head.startswith("<"):
            name = head[1:].rstrip(">")
            argument = " ".join(words[1:]).rstrip(">").strip()
            stack.append((name, argument))
            continue
        sections = tuple(item for item in stack if item[0].lower() not in CONDITIONALS)
        if head.lower() in _INCLUDES and len(words) > 1:
            pattern = words[1] if os.path.isabs(words[1]) else os.path.join(root, words[1])
            if active:
                for included in expand(pattern):
                    entries.extend(_walk(read, expand, root, included, depth=depth + 1, modules=modules))
            continue
        if head.lower() == "loadmodule" and active:
            modules |= _module_names(words[1:])
        entries.append(
            {"file": path, "line": number, "name": head, "args": words[1:], "sections": sections, "active": active}
        )
    return entries


def directive_key(name: str, args) -> tuple[str, str]:
    """What a directive sets: its name, and for a keyed one (SSLCipherSuite TLSv1.3) its first argument."""
    lower = name.lower()
    if lower in KEYED and args:
        pattern = KEYED[lower]
        if pattern is None or pattern.match(args[0]):
            return lower, args[0].lower()
    return lower, ""


def _value(args) -> str:
    return " ".join(str(arg) for arg in args).casefold()


def _where(entry) -> str:
    inside = " in " + " ".join(f"<{name} {arg}>".replace(" >", ">") for name, arg in entry["sections"])
    return f"{entry['file']}:{entry['line']}" + (inside if entry["sections"] else "")


def _text(entry) -> str:
    return " ".join([entry["name"], *(f'"{arg}"' if " " in str(arg) else str(arg) for arg in entry["args"])])


def header_names(entries) -> set[str]:
    """Header names a configuration sets or unsets with ``Header`` (``Header always set X-Frame-Options DENY``)."""
    names = set()
    for entry in entries:
        args = [str(arg) for arg in entry["args"]]
        if entry["name"].lower() != "header":
            continue
        if args and args[0].lower() in ("always", "onsuccess"):
            args = args[1:]
        if len(args) > 1:
            names.add(args[1].lower())
    return names


def overrides(entries, ours) -> list[dict]:
    """Where another file overrides what the files ``ours`` (paths as read) set server-wide.

    ``entries`` is :func:`walk_config`'s answer. Compared: each single-value directive our files set
    outside any section (the last one read wins; a later one elsewhere with another value overrides
    it, one with the same value is fine) and the same directive inside another file's section (it
    wins for that section's requests); and each header our files set, changed by another file's
    ``Header`` inside an ``<If>`` section read after ours or inside a ``<VirtualHost>`` (such sections
    are merged after ours; a plain ``Header`` line elsewhere loses to ours and is fine).
    Returns one item per overriding line: ``file``, ``line``, ``where``, ``found``, ``expected``.
    """
    ours = set(ours)
    entries = [entry for entry in entries if entry.get("active", True)]
    mine = [entry for entry in entries if entry["file"] in ours]
    if not mine:
        return []
    watched = {}
    for entry in mine:
        if not entry["sections"] and entry["name"].lower() not in ADDITIVE:
            watched[directive_key(entry["name"], entry["args"])] = entry
    found = []
    final = {}
    for entry in entries:
        key = directive_key(entry["name"], entry["args"])
        if key not in watched:
            continue
        if not entry["sections"]:
            final[key] = entry
        elif entry["file"] not in ours and _value(entry["args"]) != _value(watched[key]["args"]):
            found.append((entry, watched[key]))
    for key, entry in final.items():
        if entry["file"] not in ours and _value(entry["args"]) != _value(watched[key]["args"]):
            found.append((entry, watched[key]))
    last_ours = {}  # header name -> where our last Header line for it was read
    for index, entry in enumerate(entries):
        if entry["file"] in ours:
            last_ours.update(dict.fromkeys(header_names([entry]), index))
    for index, entry in enumerate(entries):
        if entry["file"] in ours or entry["name"].lower() != "header":
            continue
        kinds = {name.lower() for name, _arg in entry["sections"]}
        shared = {
            name for name in header_names([entry]) & set(last_ours) if index > last_ours[name] or "virtualhost" in kinds
        }
        if kinds & IF_SECTIONS and shared:
            found.append((entry, "the " + ", ".join(sorted(shared)) + " header set by " + mine[0]["file"]))
    result = []
    for entry, reference in sorted(found, key=lambda pair: (pair[0]["file"], pair[0]["line"])):
        result.append(
            {
                "file": entry["file"],
                "line": entry["line"],
                "where": _where(entry),
                "found": _text(entry),
                "expected": reference if isinstance(reference, str) else f"{_text(reference)} of {reference['file']}",
            }
        )
    return result


def override_message(item: dict) -> str:
    """One line for a report or a refusal: where, what it sets, what it overrides."""
    return f"{item['where']}: {item['found']} overrides {item['expected']}"


def listeners(entries) -> list[dict]:
    """``[{"address", "port", "scheme"}]`` of the ``Listen`` directives (443 or ``https``: HTTPS), each once."""
    found = []
    for entry in entries:
        if entry["name"].lower() != "listen" or not entry["args"] or not entry.get("active", True):
            continue
        where = str(entry["args"][0])
        host, _sep, port = where.rpartition(":")
        host = host.strip("[]")
        if not port.isdigit():
            continue
        if host in ("", "0.0.0.0", "::", "*"):
            host = "127.0.0.1"
        proto = str(entry["args"][1]).lower() if len(entry["args"]) > 1 else ("https" if port == "443" else "http")
        item = {"address": host, "port": int(port), "scheme": "https" if proto == "https" else "http"}
        if item not in found:
            found.append(item)
    return found


def probes(listen, live) -> list[dict]:
    """The requests that show what the running Apache serves, for bulwark.hardening.service_loaded.

    ``listen`` is :func:`listeners`' answer; ``live`` holds ``http`` and ``https`` (header name to the
    value each answer must carry once; None: absent) and ``methods`` (method to the status it must get,
    asked of the first listener). One GET per listener with the headers of its scheme.
    """
    found = []
    for item in listen:
        host = f"[{item['address']}]" if ":" in item["address"] else item["address"]
        url = f"{item['scheme']}://{host}:{item['port']}/"
        found.append({"url": url, "method": "GET", "headers": dict(live.get(item["scheme"]) or {}), "status": []})
    for method, status in sorted((live.get("methods") or {}).items()):
        if found:
            found.append({"url": found[0]["url"], "method": method, "headers": {}, "status": [int(status)]})
    return found


# --------------------------------------------------------------------- .htaccess files in effect
# Apache reads an AccessFileName (.htaccess) in each directory of a request's path where the
# directory's AllowOverride (or AllowOverrideList) is not None: the <Directory> sections without a
# regular expression that hold the directory or one of its parents, shortest path first, the sections
# of one path in the order read (a <VirtualHost>'s after the server's); the last one wins, None when
# there is none (Apache's default). A directive the category does not allow breaks the directory (500),
# it does not change a setting, so it is no override.
# Options whose enabling undoes the role's "Options -Indexes -Includes -ExecCGI".
RISKY_OPTIONS = frozenset({"indexes", "includes", "includesnoexec", "execcgi", "all"})
# The AllowOverride category of the directives the role watches in .htaccess files (All allows each).
OVERRIDE_CATEGORY = {
    "options": "options",
    "fileetag": "fileinfo",
    "php_value": "options",
    "php_flag": "options",
}


def _directory(entry):
    """The innermost plain <Directory> path of an entry (None: none, or a regular expression)."""
    for name, argument in reversed(entry["sections"]):
        if name.lower() == "directory":
            path = argument.strip().strip('"')
            return None if path.startswith("~") else path.rstrip("/") or "/"
    return None


def _holds_directory(pattern: str, directory: str) -> bool:
    """Whether a <Directory pattern> applies to ``directory`` (the pattern or one of its parents);
    a wildcard matches within one path component."""
    parts = [part for part in pattern.split("/") if part]
    mine = [part for part in directory.split("/") if part]
    return len(parts) <= len(mine) and all(fnmatch.fnmatchcase(m, p) for p, m in zip(parts, mine))


def allow_override(entries, directory: str) -> set[str]:
    """What ``directory``'s .htaccess may set: lowercased AllowOverride words (``all``, ``options``,
    ``options=indexes,multiviews``, ``fileinfo``...) and ``list:<directive>`` for AllowOverrideList;
    empty when none (None)."""
    found = {}
    for index, entry in enumerate(entries):
        name = entry["name"].lower()
        if name not in ("allowoverride", "allowoverridelist") or not entry.get("active", True):
            continue
        path = _directory(entry)
        if path is None or not _holds_directory(path, directory):
            continue
        in_vhost = any(section.lower() == "virtualhost" for section, _arg in entry["sections"])
        rank = (len([part for part in path.split("/") if part]), in_vhost, index)
        words = [str(arg).lower() for arg in entry["args"]]
        found.setdefault(name, []).append((rank, words))
    allowed = set()
    for name, ranked in found.items():
        words = max(ranked)[1]
        if words == ["none"]:
            continue
        allowed |= {f"list:{word}" for word in words} if name == "allowoverridelist" else set(words)
    return allowed


def _allows(allowed: set, directive: str, option: str = "") -> bool:
    if "all" in allowed or f"list:{directive}" in allowed:
        return True
    category = OVERRIDE_CATEGORY.get(directive)
    if category is None:
        return False
    if category in allowed:
        return True
    listed = [word.split("=", 1)[1].split(",") for word in allowed if word.startswith(category + "=")]
    return bool(option) and any(option in names for names in listed)


def override_roots(entries) -> list[str]:
    """The <Directory> paths under which an .htaccess may be read (AllowOverride or AllowOverrideList not None)."""
    roots = []
    for entry in entries:
        if entry["name"].lower() not in ("allowoverride", "allowoverridelist") or not entry.get("active", True):
            continue
        path = _directory(entry)
        if path is not None and [str(arg).lower() for arg in entry["args"]] != ["none"] and path not in roots:
            roots.append(path)
    return roots


def access_file_name(entries) -> list[str]:
    """The names Apache reads per directory (AccessFileName, the last one read; .htaccess by default)."""
    names = [".htaccess"]
    for entry in entries:
        if entry["name"].lower() == "accessfilename" and entry["args"] and not entry["sections"]:
            names = [str(arg) for arg in entry["args"]]
    return names


def disk_expand(pattern: str) -> list[str]:
    """The files an Include pattern matches on disk, sorted (a directory: every file under it)."""
    if os.path.isdir(pattern) and not glob.has_magic(pattern):
        return sorted(os.path.join(top, name) for top, _dirs, names in os.walk(pattern) for name in names)
    return sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]


def access_files(entries) -> list[tuple[str, str]]:
    """``[(path, text)]`` of the access files (.htaccess) under the directories whose AllowOverride
    lets Apache read them, in path order (none on Debian's default configuration). Reads the disk."""
    names = set(access_file_name(entries))
    found = {}
    for pattern in override_roots(entries):
        for top in sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]:
            for directory, _dirs, here in os.walk(top):
                for name in names & set(here):
                    path = os.path.join(directory, name)
                    text = read_text(path, None)
                    if text is not None:
                        found[path] = text
    return sorted(found.items())


def htaccess_lines(entries, files) -> list[dict]:
    """The lines of .htaccess files that Apache lets count: ``files`` is ``[(path, text)]`` of the
    access files found under :func:`override_roots`; each directive a category of its directory's
    AllowOverride allows, as ``{"file", "line", "name", "args", "sections", "active", "allowed"}``."""
    result = []
    for path, text in files:
        allowed = allow_override(entries, os.path.dirname(path))
        if not allowed:
            continue
        stack = []
        for number, words in config_words(text):
            head = words[0]
            if head.startswith("</"):
                stack = stack[:-1]
                continue
            if head.startswith("<"):
                stack.append((head[1:].rstrip(">"), " ".join(words[1:]).rstrip(">").strip()))
                continue
            result.append(
                {
                    "file": path,
                    "line": number,
                    "name": head,
                    "args": words[1:],
                    "sections": tuple(stack),
                    "active": True,
                    "allowed": allowed,
                }
            )
    return result


def _enables_risky_option(args) -> list[str]:
    """The options of an Options line that turn on what the role turns off (Indexes, Includes, ExecCGI, All)."""
    found = []
    for arg in args:
        word = str(arg).lower()
        if word.startswith("-"):
            continue
        name = word.lstrip("+")
        if name in RISKY_OPTIONS:
            found.append(name)
    return found


def htaccess_overrides(entries, ours, lines) -> list[dict]:
    """Lines of .htaccess files (:func:`htaccess_lines`) that undo what the files ``ours`` set: an
    Options line turning on Indexes, Includes or ExecCGI; a single-value directive our files set
    server-wide (ServerSignature, FileETag, LimitRequestBody...) with another value. Items as
    :func:`overrides` returns them."""
    ours = set(ours)
    mine = [entry for entry in entries if entry["file"] in ours and entry.get("active", True)]
    if not mine:
        return []
    watched = {}
    for entry in mine:
        if not entry["sections"] and entry["name"].lower() not in ADDITIVE:
            watched[entry["name"].lower()] = entry
    options = [entry for entry in mine if entry["name"].lower() == "options" and entry["sections"]]
    options = next((entry for entry in options if "-indexes" in _value(entry["args"]).split()), None)
    result = []
    for line in lines:
        name = line["name"].lower()
        reference = None
        if name == "options" and options is not None:
            risky = [word for word in _enables_risky_option(line["args"]) if _allows(line["allowed"], name, word)]
            reference = options if risky else None
        elif name in watched and _allows(line["allowed"], name):
            reference = watched[name] if _value(line["args"]) != _value(watched[name]["args"]) else None
        if reference is not None:
            result.append(
                {
                    "file": line["file"],
                    "line": line["line"],
                    "where": _where(line),
                    "found": _text(line),
                    "expected": f"{_text(reference)} of {reference['file']}",
                }
            )
    return result

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers shared by the ssh_hardening plugins.

Nothing in here touches the system: callers gather facts (``sshd -T`` output,
account data, authorized_keys contents) and pass them in, so every rule can be
unit-tested with plain data.  The matching rules follow OpenSSH's ``match.c`` and
``auth.c`` (``match_pattern``, ``match_user``, ``allowed_user``).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os.path
import re

# Keys of ``sshd -T`` output that may appear more than once (one value per line).
LIST_KEYS = frozenset(
    (
        "acceptenv",
        "allowgroups",
        "allowusers",
        "authorizedkeysfile",
        "denygroups",
        "denyusers",
        "hostcertificate",
        "hostkey",
        "include",
        "listenaddress",
        "permitlisten",
        "permitopen",
        "port",
        "setenv",
        "subsystem",
    )
)

# List keys whose values are whitespace-separated words and are split into items.
_SPLIT_KEYS = frozenset(
    (
        "acceptenv",
        "allowgroups",
        "allowusers",
        "authorizedkeysfile",
        "denygroups",
        "denyusers",
        "permitlisten",
        "permitopen",
    )
)

_VERSION_TOKEN_RE = re.compile(r"OpenSSH_[0-9A-Za-z_.+-]+")
_VERSION_RE = re.compile(
    r"^\s*(?:OpenSSH_(?:for_Windows_)?)?(?P<major>\d+)\.(?P<minor>\d+)(?:\.\d+)?(?:p\d+)?(?=$|[\s,])"
)


# --------------------------------------------------------------------- versions
def find_openssh_version(output):
    """Return the first ``OpenSSH_X.YpZ`` token found in ``output``, or None.

    Works on ``sshd -V``/``ssh -V`` output, including the usage text old sshd
    binaries print for the unknown ``-V`` option.
    """
    for line in (output or "").splitlines():
        match = _VERSION_TOKEN_RE.search(line)
        if match:
            return match.group(0).rstrip(",")
    return None


def parse_openssh_version(text):
    """Parse ``OpenSSH_9.2p1 Debian-2...``, ``9.2p1`` or ``9.2`` into ``(9, 2)``.

    Returns None when ``text`` is not an OpenSSH version.
    """
    if not isinstance(text, str):
        return None
    match = _VERSION_RE.match(text)
    if match is None:
        return None
    return int(match.group("major")), int(match.group("minor"))


# --------------------------------------------------------------------- algorithms
# Algorithm, the OpenSSH version that brought it, the policies that offer it.
OLDEST_SUPPORTED = (7, 4)

# (algorithm, first OpenSSH release that knows it, policies that use it), strongest first.
# Nothing here uses SHA-1, CBC, NIST P-curves, DSA or encrypt-and-MAC.
_ALL = ("modern", "intermediate", "pq")
_CLASSIC = ("modern", "intermediate")
_INTERMEDIATE = ("intermediate",)
# Hybrid post-quantum key exchange, the only KEX of the pq policy.
PQ_KEX = ("mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com")

ALGORITHMS = {
    "kex": (
        ("mlkem768x25519-sha256", (9, 9), _ALL),
        ("sntrup761x25519-sha512", (9, 9), _ALL),
        ("sntrup761x25519-sha512@openssh.com", (8, 5), _ALL),
        ("curve25519-sha256", (7, 4), _CLASSIC),
        ("curve25519-sha256@libssh.org", (6, 5), _CLASSIC),
        ("diffie-hellman-group18-sha512", (7, 3), _INTERMEDIATE),
        ("diffie-hellman-group16-sha512", (7, 3), _INTERMEDIATE),
        ("diffie-hellman-group-exchange-sha256", (4, 4), _INTERMEDIATE),
    ),
    "ciphers": (
        ("chacha20-poly1305@openssh.com", (6, 5), _ALL),
        ("aes256-gcm@openssh.com", (6, 2), _ALL),
        ("aes128-gcm@openssh.com", (6, 2), _ALL),
        ("aes256-ctr", (5, 2), _INTERMEDIATE),
        ("aes192-ctr", (5, 2), _INTERMEDIATE),
        ("aes128-ctr", (5, 2), _INTERMEDIATE),
    ),
    "macs": (
        ("hmac-sha2-512-etm@openssh.com", (6, 2), _ALL),
        ("hmac-sha2-256-etm@openssh.com", (6, 2), _ALL),
        ("umac-128-etm@openssh.com", (6, 2), _ALL),
    ),
    "host_key_algorithms": (
        ("ssh-ed25519-cert-v01@openssh.com", (6, 5), _ALL),
        ("ssh-ed25519", (6, 5), _ALL),
        ("rsa-sha2-512-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-512", (7, 2), _ALL),
        ("rsa-sha2-256-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-256", (7, 2), _ALL),
    ),
    "pubkey_accepted_algorithms": (
        ("ssh-ed25519-cert-v01@openssh.com", (6, 5), _ALL),
        ("ssh-ed25519", (6, 5), _ALL),
        ("sk-ssh-ed25519-cert-v01@openssh.com", (8, 2), _ALL),
        ("sk-ssh-ed25519@openssh.com", (8, 2), _ALL),
        ("rsa-sha2-512-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-512", (7, 2), _ALL),
        ("rsa-sha2-256-cert-v01@openssh.com", (7, 8), _ALL),
        ("rsa-sha2-256", (7, 2), _ALL),
    ),
}

POLICIES = _ALL


def algorithm_lists(version, policy):
    """The algorithm lists (``kex``, ``ciphers``, ``macs``, ``host_key_algorithms``,
    ``pubkey_accepted_algorithms``) of *policy* that OpenSSH *version*, a ``(major, minor)``
    tuple, knows; an empty ``kex`` means the policy needs a newer OpenSSH."""
    return {
        kind: [name for name, since, policies in rows if version >= since and policy in policies]
        for kind, rows in ALGORITHMS.items()
    }


# --------------------------------------------------------------------- sshd -T
def parse_sshd_config_dump(output):
    """Parse ``sshd -T`` output into a dict of lower-case keys.

    Keys in LIST_KEYS become lists (in output order); word lists such as
    ``authorizedkeysfile`` are split on whitespace; every other key is a string
    (last occurrence wins, as sshd prints each of them once).
    """
    settings = {}
    for raw in (output or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        key = parts[0].lower()
        value = parts[1].strip() if len(parts) > 1 else ""
        if key in LIST_KEYS:
            items = settings.setdefault(key, [])
            if key in _SPLIT_KEYS:
                items.extend(value.split())
            elif value:
                items.append(value)
        else:
            settings[key] = value
    return settings


# --------------------------------------------------------------------- matching
def match_pattern(value, pattern):
    """sshd's match_pattern(): ``*`` and ``?`` wildcards, everything else literal."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def match_pattern_list(value, patterns, lower=False):
    """sshd's match_pattern_list(): 1 match, -1 negated match, 0 no match."""
    if lower:
        value = value.lower()
    result = 0
    for raw in patterns.split(","):
        negated = raw.startswith("!")
        entry = raw[1:] if negated else raw
        if lower:
            entry = entry.lower()
        if entry and match_pattern(value, entry):
            if negated:
                return -1
            result = 1
    return result


def _addr_match_list(addr, patterns):
    """sshd's addr_match_list(): 1 match, 0 none, -1 negated match, -2 bad entry."""
    try:
        address = ipaddress.ip_address(addr) if addr else None
    except ValueError:
        address = None
    result = 0
    for raw in patterns.split(","):
        negated = raw.startswith("!")
        entry = raw[1:] if negated else raw
        if not entry:
            continue
        matched = False
        if "/" in entry:
            try:
                network = ipaddress.ip_network(entry, strict=True)
            except ValueError:
                return -2
            matched = address is not None and address.version == network.version and address in network
        elif addr:
            matched = match_pattern(addr, entry)
        if matched:
            if negated:
                return -1
            result = 1
    return result


def match_host_and_ip(host, addr, patterns):
    """sshd's match_host_and_ip(): 1 match, 0 no match, -1 invalid pattern."""
    by_addr = _addr_match_list(addr, patterns)
    if by_addr == -2:
        return -1
    if by_addr == -1:
        return 0
    by_name = match_pattern_list(host or "", patterns, lower=True)
    if by_name == -1:
        return 0
    return 1 if 1 in (by_name, by_addr) else 0


def match_user(user, host, addr, pattern):
    """sshd's match_user(): ``PATTERN`` or ``PATTERN@HOSTPATTERNS``.

    Returns 1 on match, 0 on no match, -1 when the pattern is invalid.
    """
    if "@" not in pattern:
        return 1 if match_pattern(user, pattern) else 0
    user_pattern, host_patterns = pattern.rsplit("@", 1)
    if not match_pattern(user, user_pattern):
        return 0
    return match_host_and_ip(host, addr, host_patterns)


def match_group(groups, patterns):
    """Return the first ``(group, pattern)`` pair that matches, or None."""
    for group in groups:
        for pattern in patterns:
            if match_pattern(group, pattern):
                return group, pattern
    return None


# --------------------------------------------------------------------- keys
def expand_authorized_keys_path(template, user, home, uid=None):
    """Expand %h, %u, %U and %% like sshd; relative results are under ``home``.

    Raises ValueError for an unknown ``%`` token.
    """
    out = []
    index = 0
    while index < len(template):
        char = template[index]
        if char != "%":
            out.append(char)
            index += 1
            continue
        token = template[index + 1 : index + 2]
        if token == "%":
            out.append("%")
        elif token == "h":
            out.append(home)
        elif token == "u":
            out.append(user)
        elif token == "U" and uid is not None:
            out.append(str(uid))
        else:
            raise ValueError(f"unknown token %{token} in AuthorizedKeysFile {template}")
        index += 2
    path = "".join(out)
    if not path.startswith("/"):
        path = os.path.join(home, path)
    return path


def authorized_keys_paths(settings, user, home, uid=None):
    """Absolute AuthorizedKeysFile paths for one account (``none`` dropped)."""
    paths = []
    for template in settings.get("authorizedkeysfile", []):
        if template.lower() == "none":
            continue
        path = expand_authorized_keys_path(template, user, home, uid)
        if path not in paths:
            paths.append(path)
    return paths


# --------------------------------------------------------------------- access
def _is_yes(settings, key):
    return settings.get(key, "").lower() == "yes"


def _user_reasons(who, settings, name, host, addr):
    """DenyUsers / AllowUsers, as sshd's allowed_user() applies them."""
    reasons = []
    for pattern in settings.get("denyusers", []):
        result = match_user(name, host, addr, pattern)
        if result == 1:
            reasons.append(f"{who} is matched by DenyUsers pattern '{pattern}'")
            break
        if result < 0:
            reasons.append(f"{who} is refused: invalid DenyUsers pattern '{pattern}'")
            break
    allow_users = settings.get("allowusers", [])
    if allow_users:
        results = [match_user(name, host, addr, pattern) for pattern in allow_users]
        if -1 in results:
            bad = allow_users[results.index(-1)]
            reasons.append(f"{who} is refused: invalid AllowUsers pattern '{bad}'")
        elif 1 not in results:
            reasons.append(f"{who} is not matched by AllowUsers ({' '.join(allow_users)})")
    return reasons


def _group_reasons(who, settings, groups):
    """DenyGroups / AllowGroups against every group of the account."""
    reasons = []
    deny_groups = settings.get("denygroups", [])
    hit = match_group(groups, deny_groups) if deny_groups else None
    if hit:
        reasons.append(f"{who} is in group '{hit[0]}' matched by DenyGroups pattern '{hit[1]}'")
    allow_groups = settings.get("allowgroups", [])
    if allow_groups and not match_group(groups, allow_groups):
        member_of = ", ".join(groups) or "none"
        reasons.append(f"{who} (groups: {member_of}) is not matched by AllowGroups ({' '.join(allow_groups)})")
    return reasons


def _auth_reasons(who, settings, account, key_counts):
    """PermitRootLogin and whether any authentication method is left."""
    reasons = []
    name = account["name"]
    root_login = settings.get("permitrootlogin", "prohibit-password").lower()
    is_root = account.get("uid") == 0 or name == "root"
    if is_root and root_login in ("no", "forced-commands-only"):
        reasons.append(f"{who} is refused by PermitRootLogin {root_login}")

    if is_root and root_login in ("prohibit-password", "without-password"):
        password_possible = False
        why = f"PermitRootLogin {root_login}"
    else:
        password_possible = (
            _is_yes(settings, "passwordauthentication")
            or _is_yes(settings, "kbdinteractiveauthentication")
            or _is_yes(settings, "challengeresponseauthentication")
        )
        why = "PasswordAuthentication and KbdInteractiveAuthentication are off"
    if password_possible:
        return reasons

    command = settings.get("authorizedkeyscommand", "none")
    if not _is_yes(settings, "pubkeyauthentication"):
        pubkey = settings.get("pubkeyauthentication", "no")
        reasons.append(f"{who} cannot authenticate: {why} and PubkeyAuthentication is {pubkey}")
    elif command and command.lower() != "none":
        pass  # keys come from AuthorizedKeysCommand; nothing to count here
    else:
        try:
            paths = authorized_keys_paths(settings, name, account.get("home") or "/", account.get("uid"))
        except ValueError as exc:
            reasons.append(f"{who} cannot use keys: {exc}")
        else:
            if not any(key_counts.get(path, 0) > 0 for path in paths):
                files = " ".join(paths) or "none"
                reasons.append(f"{who} has no authorized key in AuthorizedKeysFile ({files}) and {why}")
    return reasons


def check_access(settings, account, host, addr, key_counts=None):
    """Decide whether sshd, configured as ``settings``, lets ``account`` in.

    ``settings``: parsed ``sshd -T -C ...`` output (Match blocks applied).
    ``account``: dict with ``name`` and, when the account exists, ``exists: True``,
    ``uid``, ``home``, ``groups`` (primary first) and optionally ``shell`` plus
    ``shell_ok`` (False when the shell is missing or not executable).
    ``key_counts``: mapping of absolute authorized_keys path to its number of keys.

    Returns ``{'user', 'allowed', 'reasons'}``; ``reasons`` lists every rule that
    refuses the account (empty when it is allowed).
    """
    name = account["name"]
    who = f"account '{name}'"
    if not account.get("exists"):
        return {"user": name, "allowed": False, "reasons": [f"{who} does not exist"]}

    reasons = []
    if account.get("shell_ok") is False:
        reasons.append(f"{who} has shell {account.get('shell')} which does not exist or is not executable")
    reasons.extend(_user_reasons(who, settings, name, host, addr))
    reasons.extend(_group_reasons(who, settings, list(account.get("groups", []))))
    reasons.extend(_auth_reasons(who, settings, account, key_counts or {}))
    return {"user": name, "allowed": not reasons, "reasons": reasons}


# --------------------------------------------------------------------- keys and sessions
# Key types as sshd logs them ("Accepted publickey for X from A port P ssh2: ED25519 SHA256:..."),
# mapped to the PubkeyAcceptedAlgorithms names that can authenticate such a key.
LOGGED_KEY_ALGORITHMS = {
    "ED25519": ("ssh-ed25519",),
    "ED25519-CERT": ("ssh-ed25519-cert-v01@openssh.com",),
    "ED25519-SK": ("sk-ssh-ed25519@openssh.com",),
    "ED25519-SK-CERT": ("sk-ssh-ed25519-cert-v01@openssh.com",),
    "RSA": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
    "RSA-CERT": (
        "rsa-sha2-512-cert-v01@openssh.com",
        "rsa-sha2-256-cert-v01@openssh.com",
        "ssh-rsa-cert-v01@openssh.com",
    ),
    "ECDSA": ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
    "ECDSA-CERT": (
        "ecdsa-sha2-nistp256-cert-v01@openssh.com",
        "ecdsa-sha2-nistp384-cert-v01@openssh.com",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    ),
    "ECDSA-SK": ("sk-ecdsa-sha2-nistp256@openssh.com",),
    "ECDSA-SK-CERT": ("sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",),
    "DSA": ("ssh-dss",),
    "DSA-CERT": ("ssh-dss-cert-v01@openssh.com",),
}

_ACCEPTED_RE = re.compile(
    r"Accepted (?P<method>\S+) for (?P<user>\S+) from (?P<addr>\S+) port (?P<port>\d+)"
    r"(?: ssh2)?(?:: (?P<key_type>[A-Z0-9-]+) (?P<fingerprint>\S+))?"
)
_KEY_RE = re.compile(r"(?:^|\s)(?P<type>(?:ssh|ecdsa|sk)-[A-Za-z0-9@.-]+)\s+(?P<blob>[A-Za-z0-9+/]+={0,3})(?=\s|$)")
_PASSWORD_METHODS = ("password", "keyboard-interactive")


def parse_accepted_line(message):
    """Parse sshd's "Accepted <method> for <user> from <addr> port <port> ssh2[: <TYPE> <fp>]".

    Returns a dict (method, user, addr, port as int, key_type, fingerprint) or None.
    """
    match = _ACCEPTED_RE.search(message or "")
    if match is None:
        return None
    found = match.groupdict()
    found["port"] = int(found["port"])
    return found


def find_session_auth(messages, addr, port):
    """The last "Accepted ..." record among ``messages`` for the client ``addr``:``port``, or None."""
    found = None
    for message in messages:
        record = parse_accepted_line(message)
        if record and record["addr"] == addr and record["port"] == int(port):
            found = record
    return found


def key_fingerprint(blob):
    """OpenSSH's SHA256 fingerprint of a base64 public key blob (``SHA256:...``)."""
    raw = base64.b64decode(blob + "=" * (-len(blob) % 4))
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii").rstrip("=")


def parse_authorized_keys(text):
    """Keys of an authorized_keys text: ``[{'type', 'fingerprint'}]`` (options and comments skipped)."""
    keys = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _KEY_RE.search(stripped)
        if match is None:
            continue
        try:
            fingerprint = key_fingerprint(match.group("blob"))
        except ValueError:
            fingerprint = None
        keys.append({"type": match.group("type"), "fingerprint": fingerprint})
    return keys


def key_algorithms(key_type):
    """The PubkeyAcceptedAlgorithms names that can authenticate a key of ``key_type``.

    ``key_type`` is a key line's type (``ssh-rsa``, ``ecdsa-sha2-nistp256``) or a logged
    type (``RSA``, ``ED25519-CERT``).
    """
    if key_type in LOGGED_KEY_ALGORITHMS:
        return LOGGED_KEY_ALGORITHMS[key_type]
    if key_type == "ssh-rsa":
        return LOGGED_KEY_ALGORITHMS["RSA"]
    if key_type == "ssh-rsa-cert-v01@openssh.com":
        return LOGGED_KEY_ALGORITHMS["RSA-CERT"]
    return (key_type,)


def key_accepted(settings, key_type):
    """Whether ``PubkeyAcceptedAlgorithms`` (or its old name) accepts a key of ``key_type``."""
    accepted = settings.get("pubkeyacceptedalgorithms", settings.get("pubkeyacceptedkeytypes", "*"))
    return any(match_pattern_list(name, accepted) == 1 for name in key_algorithms(key_type))


def _accepted_list(settings):
    return settings.get("pubkeyacceptedalgorithms", settings.get("pubkeyacceptedkeytypes", "?"))


def parse_auth_info(text):
    """The methods a session authenticated with, from sshd's ExposeAuthInfo file (``$SSH_USER_AUTH``).

    sshd writes one line per method that succeeded (``publickey ssh-ed25519 AAAA...``,
    ``password``, ``keyboard-interactive/pam``) for the session's lifetime: no log can push it
    out. Returns an auth record like ``parse_accepted_line`` (the public key's method first) plus
    ``methods`` (every method, in order) and ``source``; None for an empty file.
    """
    entries = []
    for line in (text or "").splitlines():
        words = line.split()
        if not words:
            continue
        entry = {"method": words[0]}
        if words[0].split("/")[0] == "publickey" and len(words) >= 3:
            entry["key_type"] = words[1]
            try:
                entry["fingerprint"] = key_fingerprint(words[2])
            except ValueError:
                pass
        entries.append(entry)
    if not entries:
        return None
    first = next((entry for entry in entries if entry["method"] == "publickey"), entries[0])
    return {**first, "methods": [entry["method"] for entry in entries], "source": "ExposeAuthInfo"}


def _method_class(method):
    """password and keyboard-interactive are one credential to Ansible (the password answers both)."""
    base = method.split("/")[0].split(":")[0]
    return "password" if base in _PASSWORD_METHODS else base


def _passwords_on(settings):
    return (
        _is_yes(settings, "passwordauthentication")
        or _is_yes(settings, "kbdinteractiveauthentication")
        or _is_yes(settings, "challengeresponseauthentication")
    )


def authentication_methods_satisfied(value, used):
    """Whether an ``AuthenticationMethods`` value can be met with the methods in ``used``.

    Each space-separated list must be met in full; ``publickey,publickey`` needs two keys, so a
    list counts only when every method it names, as often as it names it, is among ``used``.
    """
    if not value or value.strip().lower() == "any":
        return True
    have = {}
    for method in used:
        have[_method_class(method)] = have.get(_method_class(method), 0) + 1
    for chain in value.split():
        need = {}
        for method in chain.split(","):
            need[_method_class(method)] = need.get(_method_class(method), 0) + 1
        if all(have.get(method, 0) >= count for method, count in need.items()):
            return True
    return False


def _known_session_reasons(who, settings, auth, keys):
    """Rules that refuse a session whose own login method (and key) is known."""
    reasons = []
    used = auth.get("methods") or [auth["method"]]
    chains = settings.get("authenticationmethods", "any")
    if not authentication_methods_satisfied(chains, used):
        reasons.append(
            f"{who} logged in to this session with {' and '.join(used)}, which cannot satisfy the new "
            f"AuthenticationMethods {chains}"
        )
    if _method_class(auth["method"]) == "password":
        if not _passwords_on(settings):
            reasons.append(
                f"{who} logged in to this session with {auth['method']}, and the new configuration turns "
                "PasswordAuthentication and KbdInteractiveAuthentication off: install a key for the account, "
                "connect with it (ansible_ssh_private_key_file) and run again"
            )
        return reasons
    if auth["method"] != "publickey" or not auth.get("key_type"):
        return reasons
    key_type = auth["key_type"]
    exact = [key["type"] for key in keys if auth.get("fingerprint") and key["fingerprint"] == auth["fingerprint"]]
    fingerprint = f", {auth['fingerprint']}" if auth.get("fingerprint") else ""
    if not key_accepted(settings, exact[0] if exact else key_type):
        shown = f"{key_type} ({exact[0]})" if exact else key_type
        reasons.append(
            f"{who} logged in to this session with key type {shown}{fingerprint}, which the new "
            f"PubkeyAcceptedAlgorithms ({_accepted_list(settings)}) does not accept"
        )
    elif not _is_yes(settings, "pubkeyauthentication"):
        reasons.append(f"{who} logged in to this session with a key, and the new PubkeyAuthentication is no")
    elif auth.get("fingerprint") and not exact and "CERT" not in key_type.upper() and _keys_from_files(settings):
        files = " ".join(settings.get("authorizedkeysfile", [])) or "none"
        reasons.append(
            f"{who} logged in to this session with the key {auth['fingerprint']} ({key_type}), which is not in "
            f"the authorized keys files the new configuration reads ({files}): that key would be refused"
        )
    return reasons


def _keys_from_files(settings):
    command = settings.get("authorizedkeyscommand", "none")
    return not command or command.lower() == "none"


def _unknown_session_reasons(who, settings, keys, current):
    """The session's method is unknown: refuse to turn any method off rather than guess."""
    reasons = []
    if current is not None:
        off = []
        if _passwords_on(current) and not _passwords_on(settings):
            off.append("password (PasswordAuthentication/KbdInteractiveAuthentication)")
        if _is_yes(current, "pubkeyauthentication") and not _is_yes(settings, "pubkeyauthentication"):
            off.append("publickey (PubkeyAuthentication)")
        chains = settings.get("authenticationmethods", "any")
        if chains.lower() != "any" and current.get("authenticationmethods", "any") != chains:
            off.append(f"any single method (AuthenticationMethods {chains})")
        if off:
            reasons.append(
                f"{who}: how this session logged in cannot be told (no ExposeAuthInfo record, and no sshd log line "
                f"of this session's process), and the new configuration turns off {', '.join(off)}: connect once "
                "with a key so the method is known, or set ssh_hardening_lockout_guard=false if you have a console"
            )
    if not _passwords_on(settings):
        refused = sorted({key["type"] for key in keys if not key_accepted(settings, key["type"])})
        if refused:
            reasons.append(
                f"{who}: the session's login could not be found in sshd's log, and authorized keys of type "
                f"{', '.join(refused)} are not accepted by the new PubkeyAcceptedAlgorithms "
                f"({_accepted_list(settings)})"
            )
    return reasons


def session_reasons(who, settings, auth, keys, current=None):
    """Rules that refuse the connection Ansible is using right now.

    ``auth``: the session's auth record (``parse_auth_info``, ``find_session_auth``) or None when
    it cannot be known. ``keys``: the account's authorized keys (``parse_authorized_keys``, all
    files the new configuration reads). ``current``: the installed configuration's settings for
    the same connection, or None (no sshd yet), to tell which methods the change turns off.
    """
    reasons = []
    if str(settings.get("maxsessions", "10")).strip() == "0":
        reasons.append(f"{who}: the new MaxSessions is 0, which allows no session at all (not even Ansible's)")
    if auth:
        return reasons + _known_session_reasons(who, settings, auth, keys)
    return reasons + _unknown_session_reasons(who, settings, keys, current)


def _listen_host(value):
    """The address part of an ``sshd -T`` listenaddress (``0.0.0.0:22``, ``[::]:22``, ``[fe80::1%eth0]:22``)."""
    text = value.split()[0]
    if text.startswith("["):
        return text[1 : text.find("]")].split("%")[0]
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def listen_reasons(settings, laddr):
    """The new ListenAddress must include ``laddr``, the address the session arrived on."""
    listen = settings.get("listenaddress") or []
    if not listen or not laddr:
        return []
    try:
        arrived = ipaddress.ip_address(laddr.split("%")[0])
    except ValueError:
        return []
    for value in listen:
        try:
            address = ipaddress.ip_address(_listen_host(value))
        except ValueError:
            continue
        if address == arrived or (address.is_unspecified and address.version == arrived.version):
            return []
    return [
        f"the new ListenAddress ({', '.join(listen)}) leaves out {laddr}, the address this session arrived on: "
        "sshd would stop listening where Ansible connects"
    ]


def usable_key_reasons(who, settings, keys):
    """For an account that is not the session's: at least one authorized key must be accepted."""
    if _passwords_on(settings) or not keys or any(key_accepted(settings, key["type"]) for key in keys):
        return []
    types = ", ".join(sorted({key["type"] for key in keys}))
    return [
        f"{who} has only keys of type {types}, none accepted by the new PubkeyAcceptedAlgorithms "
        f"({_accepted_list(settings)})"
    ]


# --------------------------------------------------------------------- Match contexts
# --------------------------------------------------------------------- the live daemon's offer
# What a running sshd offers a client, read with the host's own ssh client (``ssh -vv``, "none"
# authentication only), against what ``sshd -T`` says its files give. A daemon reloaded with another
# file that was then put back, or started with ``-o`` options, offers what no file says.
_PROBE_KEYS = {
    "KEX algorithms": "kexalgorithms",
    "host key algorithms": "hostkeyalgorithms",
    "ciphers ctos": "ciphers",
    "MACs ctos": "macs",
}
# Pseudo-algorithms sshd appends to its KEX proposal (extension negotiation, strict KEX).
_KEX_SIGNALS = ("ext-info-s", "ext-info-c", "kex-strict-s-v00@openssh.com", "kex-strict-c-v00@openssh.com")
# sshd -T keyword of each authentication method sshd can offer.
AUTH_METHOD_KEYWORDS = {
    "publickey": "pubkeyauthentication",
    "password": "passwordauthentication",
    "keyboard-interactive": "kbdinteractiveauthentication",
    "hostbased": "hostbasedauthentication",
    "gssapi-with-mic": "gssapiauthentication",
}


def probe_target(settings):
    """``(address, port)`` where the host's own client reaches the sshd of ``settings`` (``sshd -T``).

    The first IPv4 listen address, else the first one; a wildcard becomes the loopback address.
    """
    listen = settings.get("listenaddress") or []
    ordered = sorted(listen, key=lambda value: value.startswith("["))
    for value in ordered:
        text = value.split()[0]
        port = text.rsplit(":", 1)[1] if ":" in text and not text.endswith("]") else None
        host = _listen_host(value)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            continue
        if address.is_unspecified:
            host = "127.0.0.1" if address.version == 4 else "::1"
        ports = settings.get("port") or ["22"]
        return host, int(port) if port and port.isdigit() else int(ports[0])
    ports = settings.get("port") or ["22"]
    return "127.0.0.1", int(ports[0])


def parse_ssh_probe(text):
    """What the server offered in an ``ssh -vv`` run: its KEXINIT proposal and its authentication methods.

    Returns ``{"kexalgorithms", "hostkeyalgorithms", "ciphers", "macs", "methods"}`` (lists), or None when
    the output holds no server proposal (nothing answered).
    """
    offered = {}
    in_server = False
    for raw in (text or "").splitlines():
        line = raw.rstrip("\r")
        if line.startswith("debug2: peer server KEXINIT proposal"):
            in_server = True
            continue
        if in_server:
            key, sep, value = line[len("debug2: ") :].partition(": ") if line.startswith("debug2: ") else ("", "", "")
            if sep and key in _PROBE_KEYS and _PROBE_KEYS[key] not in offered:
                offered[_PROBE_KEYS[key]] = [item for item in value.strip().split(",") if item]
            elif line.startswith(("debug2: first_kex_follows", "debug1: kex: algorithm")):
                in_server = False
        if line.startswith("debug1: Authentications that can continue:") and "methods" not in offered:
            offered["methods"] = [item for item in line.split(":", 2)[2].strip().split(",") if item]
    if "kexalgorithms" not in offered:
        return None
    offered["kexalgorithms"] = [name for name in offered["kexalgorithms"] if name not in _KEX_SIGNALS]
    return offered


def expected_auth_methods(settings):
    """The methods an sshd with ``settings`` (``sshd -T -C`` for the probe's connection) offers first."""
    enabled = [method for method, keyword in AUTH_METHOD_KEYWORDS.items() if _is_yes(settings, keyword)]
    chains = settings.get("authenticationmethods", "any")
    if chains == "any":
        return enabled
    first = {chain.split(",")[0].split(":")[0] for chain in chains.split()}
    return [method for method in enabled if method in first]


def host_key_offer(configured, key_types):
    """The host key algorithms sshd offers: those of ``configured`` (HostKeyAlgorithms) its keys can sign."""
    usable = {name for key_type in key_types for name in key_algorithms(key_type)}
    return [name for name in configured.split(",") if name in usable]


def _words(items):
    return ", ".join(items) if items else "none"


def offer_differences(offered, settings, key_types=None):
    """Why the running daemon's offer is not what its files give, one sentence per difference.

    ``offered`` is parse_ssh_probe's result, ``settings`` ``sshd -T -C`` for the same connection,
    ``key_types`` the types of the host keys the files name (None when unknown: host key algorithms
    are then not compared). Lists compare as sets: the client's order decides what is used. A list
    ``sshd -T`` did not print is not compared.
    """
    reasons = []
    wanted = {"methods": expected_auth_methods(settings)}
    for key in ("kexalgorithms", "ciphers", "macs"):
        if settings.get(key):
            wanted[key] = settings[key].split(",")
    if key_types is not None and settings.get("hostkeyalgorithms"):
        wanted["hostkeyalgorithms"] = host_key_offer(settings.get("hostkeyalgorithms", ""), key_types)
    labels = {
        "methods": "authentication methods",
        "kexalgorithms": "KexAlgorithms",
        "ciphers": "Ciphers",
        "macs": "MACs",
        "hostkeyalgorithms": "host key algorithms",
    }
    for key, label in labels.items():
        if key not in wanted or key not in offered:
            continue
        expected = [item for item in wanted[key] if item]
        extra = [item for item in offered[key] if item not in expected]
        missing = [item for item in expected if item not in offered[key]]
        if extra or missing:
            parts = []
            if extra:
                parts.append(f"offers {_words(extra)} that its files do not")
            if missing:
                parts.append(f"lacks {_words(missing)} that its files give")
            reasons.append(
                f"the running sshd {' and '.join(parts)} ({label}: {_words(offered[key])} live, "
                f"{_words(expected)} from sshd -T)"
            )
    return reasons


_MATCH_CRITERIA = {"user", "group", "host", "address", "localaddress", "localport", "rdomain", "all"}


def parse_match_lines(text):
    """The criteria of every ``Match`` line in a config text: ``[{'line', 'criteria': {...}}]``.

    Criteria keys are lower case; values are the pattern lists as written.
    """
    found = []
    for raw in (text or "").splitlines():
        words = raw.strip().split()
        if not words or words[0].lower() != "match":
            continue
        criteria = {}
        index = 1
        while index < len(words):
            key = words[index].lower()
            if key == "all":
                criteria["all"] = ""
                index += 1
            else:
                criteria[key] = words[index + 1] if index + 1 < len(words) else ""
                index += 2
        found.append({"line": raw.strip(), "criteria": criteria})
    return found


def _first_literal(patterns):
    """First pattern of a comma list that is neither negated nor a wildcard, or None."""
    for pattern in patterns.split(","):
        if pattern and not pattern.startswith("!") and "*" not in pattern and "?" not in pattern:
            return pattern
    return None


def match_context(criteria, base, group_member=None):
    """A connection (dict like ``base``: user, host, addr, laddr, lport) that a Match line applies to.

    Returns None when no concrete connection can be derived (a wildcard-only pattern, an unknown
    criterion, a group without members).
    """
    context = dict(base)
    for key, value in criteria.items():
        if key == "all":
            continue
        if key not in _MATCH_CRITERIA:
            return None
        if key == "group":
            member = group_member(value) if group_member else None
            if member is None:
                return None
            context["user"] = member
            continue
        if key == "rdomain":
            return None
        literal = _first_literal(value)
        if key == "address" and literal and "/" in literal:
            try:
                network = ipaddress.ip_network(literal, strict=False)
            except ValueError:
                return None
            literal = str(network.network_address + (1 if network.num_addresses > 1 else 0))
        if literal is None:
            return None
        context[
            {"user": "user", "host": "host", "address": "addr", "localaddress": "laddr", "localport": "lport"}[key]
        ] = literal
    return context


# Values sshd -T prints under another name than the one written in sshd_config.
_VALUE_ALIASES = {"prohibit-password": "without-password"}


def _normal(value):
    text = str(value).strip().lower()
    return _VALUE_ALIASES.get(text, text)


def enforced_differences(settings, enforce):
    """``[(keyword, effective, wanted)]`` for every enforced keyword whose effective value differs."""
    return [
        (keyword, settings.get(keyword.lower(), ""), str(wanted))
        for keyword, wanted in enforce.items()
        if _normal(settings.get(keyword.lower(), "")) != _normal(wanted)
    ]


# --------------------------------------------------------------------- the role's plan
PERMIT_ROOT_LOGIN = ("no", "prohibit-password")
_MAX_STARTUPS_RE = re.compile(r"^[0-9]+(:[0-9]{1,3}:[0-9]+)?$")
_KEYWORD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")

# Keywords the role writes itself (lower case) -> the variable that controls them. Setting one in
# ssh_hardening_extra_settings would be silently ignored by sshd (it keeps the first value).
ROLE_KEYWORDS = {
    "port": "bulwark_ssh_port",
    "listenaddress": "ssh_hardening_listen_addresses",
    "hostkey": "ssh_hardening_rsa_host_key_bits (the role's Ed25519 and RSA host keys)",
    "modulifile": "ssh_hardening_moduli_min_bits (always /etc/ssh/moduli, the file it filters)",
    "kexalgorithms": "ssh_hardening_kex / ssh_hardening_crypto_policy",
    "ciphers": "ssh_hardening_ciphers / ssh_hardening_crypto_policy",
    "macs": "ssh_hardening_macs / ssh_hardening_crypto_policy",
    "hostkeyalgorithms": "ssh_hardening_host_key_algorithms / ssh_hardening_crypto_policy",
    "pubkeyacceptedalgorithms": "ssh_hardening_pubkey_accepted_algorithms / ssh_hardening_crypto_policy",
    "pubkeyacceptedkeytypes": "ssh_hardening_pubkey_accepted_algorithms / ssh_hardening_crypto_policy",
    "permitrootlogin": "ssh_hardening_permit_root_login",
    "maxauthtries": "ssh_hardening_max_auth_tries",
    "logingracetime": "ssh_hardening_login_grace_time",
    "maxstartups": "ssh_hardening_max_startups",
    "maxsessions": "ssh_hardening_max_sessions",
    "clientaliveinterval": "ssh_hardening_client_alive_interval",
    "clientalivecountmax": "ssh_hardening_client_alive_count_max",
    "allowusers": "ssh_hardening_allow_users",
    "allowgroups": "ssh_hardening_allow_groups",
    "denyusers": "ssh_hardening_deny_users",
    "denygroups": "ssh_hardening_deny_groups",
    "allowagentforwarding": "ssh_hardening_allow_agent_forwarding",
    "allowtcpforwarding": "ssh_hardening_allow_tcp_forwarding",
    "x11forwarding": "ssh_hardening_x11_forwarding",
    "permittunnel": "ssh_hardening_permit_tunnel",
    "tcpkeepalive": "ssh_hardening_tcp_keepalive",
    "compression": "ssh_hardening_compression",
    "banner": "ssh_hardening_banner",
    "subsystem": "ssh_hardening_sftp_enabled",
    "loglevel": "none (always VERBOSE)",
    "syslogfacility": "none (always AUTH)",
    "pubkeyauthentication": "none (always yes)",
    "passwordauthentication": "none (always no)",
    "kbdinteractiveauthentication": "none (always no)",
    "challengeresponseauthentication": "none (always no)",
    "permitemptypasswords": "none (always no)",
    "hostbasedauthentication": "none (always no)",
    "ignorerhosts": "none (always yes)",
    "usepam": "none (always yes)",
    "exposeauthinfo": "none (always yes; the lockout guard reads it)",
    "strictmodes": "none (always yes)",
    "permituserenvironment": "none (always no)",
    "usedns": "none (always no)",
    "gatewayports": "none (always no)",
    "printmotd": "none (always no)",
    "acceptenv": "none (always LANG LC_*)",
    "include": "none (the role includes sshd_config.d itself)",
    "match": "ssh_hardening_match_blocks",
}

# sshd_config keyword -> (the variable that overrides the policy's list, the policy's list).
ALGORITHM_VARIABLES = {
    "KexAlgorithms": ("ssh_hardening_kex", "kex"),
    "Ciphers": ("ssh_hardening_ciphers", "ciphers"),
    "MACs": ("ssh_hardening_macs", "macs"),
    "HostKeyAlgorithms": ("ssh_hardening_host_key_algorithms", "host_key_algorithms"),
    "PubkeyAcceptedAlgorithms": ("ssh_hardening_pubkey_accepted_algorithms", "pubkey_accepted_algorithms"),
}


def _json(value):
    """A value as the user wrote it in YAML/JSON, for messages."""
    return json.dumps(value, default=str)


def _match_block_errors(blocks):
    errors = []
    if any(not isinstance(block, dict) for block in blocks):
        errors.append(
            f"every item of ssh_hardening_match_blocks must be a dict with condition and settings, got {_json(blocks)}"
        )
    mappings = [block for block in blocks if isinstance(block, dict)]
    if any(not str(block.get("condition") or "").strip() for block in mappings):
        errors.append(
            'every item of ssh_hardening_match_blocks needs a non-empty condition (e.g. "User backup"), '
            f"got {_json(blocks)}"
        )
    if any(not isinstance(block.get("settings", {}), dict) for block in mappings):
        errors.append(
            "the settings of each ssh_hardening_match_blocks item must be a dict of keyword to value, "
            f"got {_json(blocks)}"
        )
    return errors


def _extra_settings_errors(extra):
    if not isinstance(extra, dict) or any(not _KEYWORD_RE.match(str(key)) for key in extra):
        return [
            f"the keys of ssh_hardening_extra_settings must be sshd keywords (letters and digits), got {_json(extra)}"
        ]
    taken = [
        f"{key} (the role sets it; controlled by {ROLE_KEYWORDS[str(key).lower()]})"
        for key in extra
        if str(key).lower() in ROLE_KEYWORDS
    ]
    if taken:
        return [
            f"ssh_hardening_extra_settings sets {'; '.join(taken)} - sshd would keep the role's value and ignore yours"
        ]
    return []


def _guard(settings):
    """The connection the lockout guard protects: the SSH session Ansible uses, else the declared admins."""
    connection = settings["bulwark_host"]["connection"]
    admins = list(settings["ssh_hardening_admin_users"])
    is_ssh = bool(connection.get("is_ssh"))
    return {
        "guard_user": connection.get("user", "") if is_ssh else (admins[0] if admins else "root"),
        "guard_others": [] if is_ssh else admins[1:],
        "guard_active": bool(settings["ssh_hardening_lockout_guard"]) and (is_ssh or bool(admins)),
    }


def role_plan(settings):
    """Check the ssh_hardening role's variables and compute what it writes.

    *settings* maps the role's variables (``ssh_hardening_permit_root_login``, ``_max_startups``,
    ``_rsa_host_key_bits``, ``_rsa_host_key_min_bits``, ``_sftp_enabled``, ``_sftp_chroot_group``,
    ``_match_blocks``, ``_extra_settings``, ``_crypto_policy``, the five algorithm overrides
    ``_kex``, ``_ciphers``, ``_macs``, ``_host_key_algorithms``, ``_pubkey_accepted_algorithms``,
    ``_lockout_guard``, ``_admin_users``, ``_banner``) plus ``bulwark_host`` (the common role's host model),
    ``openssh_version`` (the release's ``OpenSSH_X.YpZ``) and ``controller_kex`` (the controller's
    ``ssh -Q kex``, read only for the ``pq`` policy). Returns ``errors`` and ``permit_root_login``
    (YAML's unquoted no is "no"), ``version`` ([major, minor]), ``algorithms`` (keyword -> list),
    ``enforced`` (what every Match context must keep), ``guard_user``, ``guard_others``, ``guard_active``.
    """
    errors = []
    root = settings["ssh_hardening_permit_root_login"]
    permit_root_login = "no" if root is False else str(root)
    if permit_root_login not in PERMIT_ROOT_LOGIN:
        errors.append(
            f"ssh_hardening_permit_root_login must be one of {', '.join(PERMIT_ROOT_LOGIN)}, got {_json(root)}"
        )
    startups = settings["ssh_hardening_max_startups"]
    if not _MAX_STARTUPS_RE.match(str(startups)):
        errors.append(
            f"ssh_hardening_max_startups must be start or start:rate:full (e.g. 10:30:60), got {_json(startups)}"
        )
    bits, min_bits = settings["ssh_hardening_rsa_host_key_bits"], settings["ssh_hardening_rsa_host_key_min_bits"]
    if int(bits) < int(min_bits):
        errors.append(
            f"ssh_hardening_rsa_host_key_bits ({bits}) must be at least "
            f"ssh_hardening_rsa_host_key_min_bits ({min_bits})"
        )
    chroot = settings["ssh_hardening_sftp_chroot_group"]
    if chroot and not settings["ssh_hardening_sftp_enabled"]:
        errors.append(f"ssh_hardening_sftp_chroot_group ({chroot}) needs ssh_hardening_sftp_enabled=true")
    errors.extend(_match_block_errors(settings["ssh_hardening_match_blocks"]))
    errors.extend(_extra_settings_errors(settings["ssh_hardening_extra_settings"]))

    policy = settings["ssh_hardening_crypto_policy"]
    version_text = settings["openssh_version"]
    version = parse_openssh_version(version_text)
    lists = algorithm_lists(version, policy)
    if not lists["kex"]:
        errors.append(
            f"ssh_hardening_crypto_policy={policy} needs hybrid post-quantum key exchange, which {version_text} "
            "does not have (sntrup761x25519-sha512@openssh.com came with 8.5)"
        )
    if policy == "pq" and not set(settings["controller_kex"]) & set(PQ_KEX):
        errors.append(
            "ssh_hardening_crypto_policy=pq offers only hybrid post-quantum key exchange, and this controller's own "
            f"ssh ('ssh -Q kex') has none of {' / '.join(PQ_KEX)}: Ansible could not connect again. "
            "Use OpenSSH 8.5 or later on the controller, or policy modern."
        )
    algorithms = {
        keyword: list(settings[variable] or lists[kind]) for keyword, (variable, kind) in ALGORITHM_VARIABLES.items()
    }
    plan = {
        "errors": errors,
        "permit_root_login": permit_root_login,
        "version": list(version),
        "algorithms": algorithms,
        "enforced": {
            "PasswordAuthentication": "no",
            "KbdInteractiveAuthentication": "no",
            "PermitEmptyPasswords": "no",
            "HostbasedAuthentication": "no",
            "PermitRootLogin": permit_root_login,
            # A Match block may set Banner: with a banner, none may hide it.
            **({"Banner": "/etc/issue.net"} if str(settings["ssh_hardening_banner"]).strip() else {}),
        },
    }
    plan.update(_guard(settings))
    return plan

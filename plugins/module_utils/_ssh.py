# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers shared by the ssh_hardening plugins.

Nothing in here touches the system: callers gather facts (``sshd -T`` output,
account data, authorized_keys contents) and pass them in, so every rule can be
unit-tested with plain data.  The matching rules follow OpenSSH's ``match.c`` and
``auth.c`` (``match_pattern``, ``match_user``, ``allowed_user``).
"""

from __future__ import annotations

import ipaddress
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


def count_authorized_keys(text):
    """Number of key lines (not blank, not comments) in an authorized_keys text."""
    return sum(1 for line in (text or "").splitlines() if line.strip() and not line.lstrip().startswith("#"))


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

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the ufw_rules module.

A *canonical rule* is a flat dict describing one ufw rule in one address family,
exactly as ufw keeps it in one line of ``user.rules`` (IPv4) or ``user6.rules``
(IPv6).  A declared rule such as ``allow 80/tcp from any`` therefore becomes two
canonical rules (``ipv6: False`` and ``ipv6: True``); ``from 192.0.2.0/24`` only
becomes an IPv4 one.  Canonical rules compare with ``==`` and keep their order:
ufw evaluates the rules of one family top to bottom and the first match wins.

Nothing here touches the system: the module reads files and runs commands.
"""

from __future__ import annotations

import binascii
import ipaddress
import re
import shlex

from ansible_collections.bulwark.hardening.plugins.module_utils._loaded import ufw_rule_key

ACTIONS = ("allow", "deny", "reject", "limit")
PROTOS = ("tcp", "udp", "any")
DIRECTIONS = ("in", "out")
LOG_TYPES = ("log", "log-all")

# Key order of a canonical rule (also the order used to compare and print them).
RULE_KEYS = (
    "rule",
    "direction",
    "interface",
    "log",
    "proto",
    "port",
    "app",
    "from",
    "from_port",
    "from_app",
    "to",
    "comment",
    "ipv6",
)
# Keys ufw itself compares to decide that two rules are "the same rule": a new rule
# that differs from an existing one only in action, log type or comment replaces
# it in place, so one family never holds two rules with the same match key.
MATCH_KEYS = tuple(k for k in RULE_KEYS if k not in ("rule", "log", "comment"))

ANY4 = "0.0.0.0/0"
ANY6 = "::/0"

_TUPLE_RE = re.compile(r"^### tuple ###\s*(?P<body>.*?)\s*$")
_PORT_RE = re.compile(r"^(\d+)(?::(\d+))?$")
_IFACE_RE = re.compile(r"^[A-Za-z0-9_.:@+-]{1,15}$")


class UfwRuleError(ValueError):
    """A declared rule ufw would refuse (message names the rule and the value)."""


# --------------------------------------------------------------------------- #
# Normalisation of declared rules
# --------------------------------------------------------------------------- #


def kind(value):
    """A plain word for a value's type in an error message (Ansible's tagged strings are strings)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def normalise_address(value):
    """Return ``(canonical, families)`` for a ufw address.

    ``any`` (or empty) is both families; ``0.0.0.0/0`` and ``::/0`` are "any" of
    one family only (that is how ufw treats them).  Host routes lose their
    prefix length and networks are reduced to their network address, as ufw does
    ("10.0.0.5/8" -> "10.0.0.0/8", "2001:DB8::1/128" -> "2001:db8::1").
    """
    text = "" if value is None else str(value).strip()
    if text.lower() in ("", "any"):
        return "any", frozenset((4, 6))
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise UfwRuleError(f"invalid address {text!r} (expected 'any', an IP address or a CIDR network)") from None
    family = frozenset((net.version,))
    if net.prefixlen == 0:
        return "any", family
    if net.prefixlen == net.max_prefixlen:
        return str(net.network_address), family
    return str(net), family


def normalise_port(value, proto):
    """Return the port as ufw stores it (``'22'``, ``'8000:8010'``) or None for all ports."""
    if value is None:
        return None
    text = str(value).strip()
    if text == "" or text.lower() == "any":
        return None
    match = _PORT_RE.match(text)
    if not match:
        raise UfwRuleError(f"invalid port {text!r} (expected a number or a range 'low:high')")
    low = int(match.group(1))
    high = int(match.group(2)) if match.group(2) is not None else None
    for number in (low, high):
        if number is not None and not 1 <= number <= 65535:
            raise UfwRuleError(f"invalid port {text!r} (ports are 1-65535)")
    if high is None:
        return str(low)
    if high <= low:
        raise UfwRuleError(f"invalid port range {text!r} (the low port must come first)")
    if proto == "any":
        raise UfwRuleError(f"port range {text!r} needs proto tcp or udp (ufw refuses ranges for 'any')")
    return f"{low}:{high}"


def normalise_rule(rule, ipv6=True):
    """Expand one declared rule into its canonical per-family rules (IPv4 first).

    ``ipv6=False`` drops the IPv6 variant; a rule that only makes sense for IPv6
    then raises :class:`UfwRuleError`.
    """
    if not isinstance(rule, dict):
        raise UfwRuleError(f"a rule must be a dict, got {rule!r}")
    action = rule.get("rule")
    if action not in ACTIONS:
        raise UfwRuleError(f"rule {action!r}: rule must be one of {', '.join(ACTIONS)}")
    direction = rule.get("direction") or "in"
    if direction not in DIRECTIONS:
        raise UfwRuleError(f"direction {direction!r} must be in or out")
    proto = rule.get("proto") or "any"
    if proto not in PROTOS:
        raise UfwRuleError(f"proto {proto!r} must be one of {', '.join(PROTOS)}")
    interface = rule.get("interface") or None
    if interface is not None and not _IFACE_RE.match(interface):
        raise UfwRuleError(f"invalid interface name {interface!r}")
    app = rule.get("app") or None
    port = rule.get("port")
    if app is not None:
        if port not in (None, ""):
            raise UfwRuleError(f"app {app!r} and port {port!r} are mutually exclusive")
        if proto != "any":
            raise UfwRuleError(f"app {app!r} takes its protocols from the profile: drop proto {proto!r}")
        port = None
    else:
        port = normalise_port(port, proto)
    src, src_fam = normalise_address(rule.get("from"))
    dst, dst_fam = normalise_address(rule.get("to"))
    families = src_fam & dst_fam
    if not families:
        raise UfwRuleError(f"from {rule.get('from')!r} and to {rule.get('to')!r} mix IPv4 and IPv6")
    if not ipv6:
        families = families - {6}
        if not families:
            raise UfwRuleError(f"rule {_describe_declared(rule)} is IPv6-only but ipv6 is false")
    comment = rule.get("comment")
    comment = str(comment) if comment not in (None, "") else None
    if comment is not None and "\n" in comment:
        raise UfwRuleError(f"comment {comment!r} must be a single line")
    result = []
    for family in sorted(families):
        result.append(
            {
                "rule": action,
                "direction": direction,
                "interface": interface,
                "log": None,
                "proto": proto,
                "port": port,
                "app": app,
                "from": src,
                "from_port": None,
                "from_app": None,
                "to": dst,
                "comment": comment,
                "ipv6": family == 6,
            }
        )
    return result


def _describe_declared(rule):
    return " ".join(f"{k}={rule[k]}" for k in sorted(rule) if rule[k] not in (None, ""))


def match_key(entry):
    return tuple(entry[k] for k in MATCH_KEYS)


def normalise_rules(rules, ipv6=True, label="rules"):
    """Normalise a list of declared rules, keeping their order.

    Exact duplicates collapse to the first one.  Two declared rules that ufw would
    merge into one (same match key, different action or comment) raise
    :class:`UfwRuleError` because only one of them could ever exist.  Errors name
    the rule as ``label[index]`` (a role passes its variable's name).
    """
    result = []
    seen = {}
    for index, rule in enumerate(rules or []):
        try:
            entries = normalise_rule(rule, ipv6=ipv6)
        except UfwRuleError as exc:
            raise UfwRuleError(f"{label}[{index}]: {exc}") from None
        for entry in entries:
            key = match_key(entry)
            if key in seen:
                other_index, other = seen[key]
                if other == entry:
                    continue
                raise UfwRuleError(
                    f"{label}[{other_index}] ({format_rule(other)}) and {label}[{index}] ({format_rule(entry)}) "
                    "differ only in action or comment; ufw keeps one rule per match, declare one of them"
                )
            seen[key] = (index, entry)
            result.append(entry)
    return result


# --------------------------------------------------------------------------- #
# Parsing ufw's files
# --------------------------------------------------------------------------- #
def hex_decode(text):
    """Decode a ufw ``comment=`` value (hex of the UTF-8 bytes)."""
    if len(text) % 2:
        text = text[:-1]
    try:
        return binascii.unhexlify(text).decode("utf-8", "backslashreplace")
    except (binascii.Error, ValueError):
        return text


def hex_encode(text):
    return binascii.hexlify(text.encode("utf-8")).decode("ascii")


def _address_from_file(value):
    return "any" if value in (ANY4, ANY6) else value


def parse_tuple(line, v6):
    """Parse one ``### tuple ###`` line into a canonical rule.

    Returns None for lines that are not tuples, route (forward) rules and rules
    with an interface pair: this module does not manage those and leaves them
    alone.  Raises ValueError for a malformed tuple.
    """
    comment = None
    if " comment=" in line:
        line, encoded = line.split(" comment=", 1)
        comment = hex_decode(encoded.strip()) or None
    match = _TUPLE_RE.match(line)
    if not match:
        return None
    fields = match.group("body").split()
    if len(fields) not in (7, 9):
        raise ValueError(f"malformed ufw tuple (expected 7 or 9 fields): {line!r}")
    action, proto, dport, dst, sport, src = fields[:6]
    where = fields[-1]
    dapp = sapp = None
    if len(fields) == 9:
        dapp = None if fields[6] == "-" else fields[6].replace("%20", " ")
        sapp = None if fields[7] == "-" else fields[7].replace("%20", " ")
    if ":" in action or "!" in where:
        return None
    log = None
    if "_" in action:
        action, log = action.split("_", 1)
    if action not in ACTIONS or (log is not None and log not in LOG_TYPES):
        raise ValueError(f"unknown action in ufw tuple: {line!r}")
    direction, _sep, interface = where.partition("_")
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction in ufw tuple: {line!r}")
    entry = {
        "rule": action,
        "direction": direction,
        "interface": interface or None,
        "log": log,
        "proto": proto,
        "port": None if dport == "any" else dport,
        "app": dapp,
        "from": _address_from_file(src),
        "from_port": None if sport == "any" else sport,
        "from_app": sapp,
        "to": _address_from_file(dst),
        "comment": comment,
        "ipv6": bool(v6),
    }
    # Application rules are stored once per port/protocol of the profile; the
    # profile name is what identifies them.
    if dapp is not None:
        entry["port"] = None
        entry["proto"] = "any"
    if sapp is not None:
        entry["from_port"] = None
        entry["proto"] = "any"
    return entry


def parse_rules_file(text, v6):
    """Return the canonical rules of a user.rules / user6.rules text, in file order."""
    result = []
    for line in (text or "").splitlines():
        entry = parse_tuple(line, v6)
        if entry is not None and entry not in result:
            result.append(entry)
    return result


# --------------------------------------------------------------------------- #
# ufw's framework files (before.rules, after.rules): what they accept beyond the package's copy
# --------------------------------------------------------------------------- #
def framework_accepts(stock_text, text):
    """``[(line_no, line)]``: the rules of a framework file (``before.rules``...) that accept incoming or
    routed traffic and that the package's copy of the file (*stock_text*) does not hold.

    ufw loads these files as written, ahead of (before.rules) or after (after.rules) the rules it
    manages: a rule accepting a port there opens it whatever the declared rules and policies. Rules
    are compared by meaning (``ufw_rule_key``: protocol, addresses, interfaces, ports, state, target).
    """
    stock = {}
    for line in (stock_text or "").splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "-A":
            key = (words[1], ufw_rule_key(words[2:]))
            stock[key] = stock.get(key, 0) + 1
    found = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        words = line.split()
        if len(words) < 3 or words[0] != "-A":
            continue
        key = (words[1], ufw_rule_key(words[2:]))
        if stock.get(key):
            stock[key] -= 1
            continue
        incoming = words[1].endswith(("-input", "-forward"))
        if incoming and dict(key[1]).get("target") == "ACCEPT":
            found.append((number, line.strip()))
    return found


def parse_defaults(text):
    """Parse /etc/default/ufw (shell KEY=value lines) into a dict."""
    values = {}
    for raw in (text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("\"'")
    return values


def incoming_policy(defaults):
    """Map DEFAULT_INPUT_POLICY to allow|deny|reject (ufw's default is DROP = deny)."""
    policy = defaults.get("DEFAULT_INPUT_POLICY", "DROP").upper()
    return {"ACCEPT": "allow", "REJECT": "reject"}.get(policy, "deny")


def parse_app_profiles(text):
    """Parse an applications.d file: ``{name: [(proto, portspec), ...]}``.

    ``ports=80,443/tcp|53/udp``; a part without ``/proto`` applies to tcp and udp.
    """
    profiles = {}
    name = None
    for raw in (text or "").splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            profiles.setdefault(name, [])
            continue
        if name is None or not line.lower().startswith("ports"):
            continue
        key, _sep, value = line.partition("=")
        if key.strip().lower() != "ports":
            continue
        for part in value.strip().split("|"):
            spec, _sep, proto = part.strip().partition("/")
            for one in (proto,) if proto else ("tcp", "udp"):
                profiles[name].append((one, spec))
    return profiles


# --------------------------------------------------------------------------- #
# Diff
# --------------------------------------------------------------------------- #
def _family_diff(desired, current, exclusive):
    desired_keys = {match_key(e) for e in desired}
    if exclusive:
        managed = list(current)
    else:
        # Undeclared rules stay untouched, except those ufw would replace in place
        # when a declared rule with the same match key is added.
        managed = [c for c in current if match_key(c) in desired_keys]
    to_delete = [c for c in managed if c not in desired]
    kept = [c for c in managed if c in desired]
    # Additions are appended at the end of the family's list, so the kept rules
    # must be, in order, a prefix of the desired list.  Match that prefix greedily
    # against the kept rules; everything kept but not part of it is out of place
    # and is deleted and appended again in the right order.
    prefix = 0
    pos = 0
    for entry in desired:
        try:
            found = kept.index(entry, pos)
        except ValueError:
            break
        prefix += 1
        pos = found + 1
    in_place = desired[:prefix]
    to_delete.extend(c for c in kept if c not in in_place)
    to_add = desired[prefix:]
    return to_delete, to_add


def split_foreign(current, patterns, desired=()):
    """Split *current* into ``(foreign, managed)``: rules whose comment matches a pattern belong
    to another tool (fail2ban's bans) and are never deleted or reordered.

    A rule that is declared (in *desired*) is always managed, whatever its comment: a pattern
    as wide as ``.*`` must not turn the declared rules into someone else's.
    """
    compiled = [re.compile(pattern) for pattern in patterns]
    foreign = [
        e for e in current if e.get("comment") and e not in desired and any(p.search(e["comment"]) for p in compiled)
    ]
    return foreign, [e for e in current if e not in foreign]


def compute_diff(desired, current, exclusive=True):
    """Return ``(to_delete, to_add)`` turning *current* into *desired*.

    Both arguments are lists of canonical rules (IPv4 and IPv6 mixed).  With
    ``exclusive=False`` undeclared rules stay (only a rule ufw would replace by a
    declared one is listed for deletion).  ``to_delete`` keeps file order and
    ``to_add`` keeps the declared order; applying deletions first, then additions
    in that order (each appended to its family) yields exactly the declared order.
    """
    to_delete = []
    to_add_by_family = {}
    for v6 in (False, True):
        fam_desired = [e for e in desired if e["ipv6"] == v6]
        fam_current = [e for e in current if e["ipv6"] == v6]
        fam_delete, fam_add = _family_diff(fam_desired, fam_current, exclusive)
        to_delete.extend(fam_delete)
        to_add_by_family[v6] = fam_add
    # Interleave the families back in declared order (the desired list order).
    to_add = [e for e in desired if e in to_add_by_family[e["ipv6"]]]
    return to_delete, to_add


def apply_diff(current, to_delete, to_add):
    """Predict the rules ufw will hold after the diff (IPv4 first, then IPv6).

    *current* is every rule in file order, foreign ones (kept, never deleted) included:
    each family keeps its own order, additions go to the end of their family.
    """
    result = []
    for v6 in (False, True):
        result.extend(e for e in current if e["ipv6"] == v6 and e not in to_delete)
        result.extend(e for e in to_add if e["ipv6"] == v6)
    return result


# --------------------------------------------------------------------------- #
# Commands and display
# --------------------------------------------------------------------------- #
def _twin(entry):
    twin = dict(entry)
    twin["ipv6"] = not entry["ipv6"]
    return twin


def _address_arg(value, other, v6, both):
    # "any" next to a concrete address already names one family; only an
    # any-to-any rule has to spell out 0.0.0.0/0 or ::/0 to stay in its family.
    if value != "any" or both or other != "any":
        return value
    return ANY6 if v6 else ANY4


def rule_args(entry, ufw="ufw", delete=False, both=False):
    """Return the ufw argument list that adds (or deletes) *entry*.

    ``both=True`` renders an "any"-to-"any" rule for IPv4 and IPv6 at once;
    otherwise such a rule is written with ``0.0.0.0/0`` or ``::/0`` so only the
    rule of that family is touched.  Deletions leave out the comment: ufw then deletes the
    rule whatever its comment is.
    """
    args = [ufw]
    if delete:
        args.append("delete")
    args.append(entry["rule"])
    args.append(entry["direction"])
    if entry["interface"]:
        args.extend(["on", entry["interface"]])
    if entry["log"]:
        args.append(entry["log"])
    if entry["proto"] != "any":
        args.extend(["proto", entry["proto"]])
    args.extend(["from", _address_arg(entry["from"], entry["to"], entry["ipv6"], both)])
    if entry["from_app"]:
        args.extend(["app", entry["from_app"]])
    elif entry["from_port"]:
        args.extend(["port", entry["from_port"]])
    args.extend(["to", _address_arg(entry["to"], entry["from"], entry["ipv6"], both)])
    if entry["app"]:
        args.extend(["app", entry["app"]])
    elif entry["port"]:
        args.extend(["port", entry["port"]])
    if entry["comment"] and not delete:
        args.extend(["comment", entry["comment"]])
    return args


def _commands(entries, ufw, delete):
    commands = []
    done = []
    for entry in entries:
        if entry in done:
            continue
        twin = _twin(entry)
        both = entry["from"] == "any" and entry["to"] == "any" and not entry["ipv6"] and twin in entries
        commands.append(rule_args(entry, ufw=ufw, delete=delete, both=both))
        done.append(entry)
        if both:
            done.append(twin)
    return commands


def build_commands(to_delete, to_add, ufw="ufw"):
    """ufw argument lists: all deletions (by rule spec, never by number), then additions.

    An IPv4 rule and its IPv6 twin that are both "any"-to-"any" become one command,
    as if typed by hand.  That keeps the per-family order because ``to_add`` is in
    declared order and the twins are consecutive there.
    """
    return _commands(to_delete, ufw, True) + _commands(to_add, ufw, False)


def format_rule(entry):
    """Human-readable one-liner, e.g. ``limit 22/tcp from any (v6) # ssh``."""
    parts = [entry["rule"]]
    if entry["log"]:
        parts.append(entry["log"])
    if entry["direction"] == "out":
        parts.append("out")
    if entry["interface"]:
        parts.append(f"on {entry['interface']}")
    if entry["app"]:
        parts.append(f"app {entry['app']}")
    else:
        target = entry["port"] or "any"
        if entry["proto"] != "any":
            target += "/" + entry["proto"]
        parts.append(target)
    source = f"from {entry['from']}"
    if entry["from_app"]:
        source += f" app {entry['from_app']}"
    elif entry["from_port"]:
        source += f" port {entry['from_port']}"
    parts.append(source)
    if entry["to"] != "any":
        parts.append(f"to {entry['to']}")
    if entry["ipv6"]:
        parts.append("(v6)")
    text = " ".join(parts)
    if entry["comment"]:
        text += f" # {entry['comment']}"
    return text


def format_rules(entries):
    return "".join(format_rule(e) + "\n" for e in entries)


def undeclared_removals(to_delete, desired, ufw="ufw"):
    """The rules *to_delete* removes for good, each as the ufw command that would add it back.

    A rule deleted only to be appended again in the declared order is not one of them; an
    any-to-any rule and its IPv6 twin are one, as the user typed them. Each item is
    ``{"rule": "ufw allow ...", "replaced_by": None}``, or with ``replaced_by`` the declared rule
    that takes its place (ufw keeps one rule per port, protocol, addresses and interface).
    """
    gone = [entry for entry in to_delete if entry not in desired]
    declared = {match_key(entry): entry for entry in desired}
    removals = []
    done = []
    for entry in gone:
        if entry in done:
            continue
        both = entry["from"] == "any" and entry["to"] == "any" and not entry["ipv6"] and _twin(entry) in gone
        done.extend([entry, _twin(entry)] if both else [entry])
        replacement = declared.get(match_key(entry))
        removals.append(
            {
                "rule": shlex.join(rule_args(entry, ufw=ufw, both=both)),
                "replaced_by": format_rule(replacement) if replacement else None,
            }
        )
    return removals


def removal_warning(removal):
    """The run's warning for one item of :func:`undeclared_removals`: the rule, and how to keep it
    (the module's option, and the ufw role's variable in parentheses). The same words in check mode
    and in a real run, so that Ansible shows the warning of a dry-run and of the run once."""
    if removal["replaced_by"]:
        return (
            f"ufw: `{removal['rule']}` is replaced by the declared rule '{removal['replaced_by']}' "
            "(ufw keeps one rule per port, protocol and addresses). To keep yours, declare it instead "
            "(option rules; the ufw role: ufw_rules)."
        )
    return (
        f"ufw: `{removal['rule']}` is not declared, so exclusive removes it. To keep it, declare it "
        "(option rules; the ufw role: ufw_rules or bulwark_services), give it a comment that "
        "keep_comments matches (ufw_keep_comments), or set exclusive to false (ufw_exclusive: false)."
    )


# --------------------------------------------------------------------------- #
# Guard: does a connection survive the new rules?
# --------------------------------------------------------------------------- #
def _port_in(spec, port):
    for part in str(spec).split(","):
        low, _sep, high = part.partition(":")
        try:
            if int(low) <= port <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def _address_in(rule_address, address):
    if rule_address == "any":
        return True
    return address in ipaddress.ip_network(rule_address, strict=False)


def _rule_matches(entry, conn, profiles):
    """Return ``(verdict, reason)``; verdict is 'yes', 'no' or 'maybe'."""
    if entry["direction"] != "in":
        return "no", None
    if not _address_in(entry["from"], conn["source"]):
        return "no", None
    if entry["app"]:
        ports = _lookup_profile(profiles, entry["app"])
        if ports is None:
            return (
                "maybe",
                f"the ports of application profile {entry['app']!r} are unknown",
            )
        if not any(p in ("any", conn["proto"]) and _port_in(spec, conn["port"]) for p, spec in ports):
            return "no", None
    else:
        if entry["proto"] not in ("any", conn["proto"]):
            return "no", None
        if entry["port"] and not _port_in(entry["port"], conn["port"]):
            return "no", None
    if entry["from_port"] or entry["from_app"]:
        return "maybe", "it restricts the source port, which varies per connection"
    if entry["interface"] and entry["interface"] != conn.get("interface"):
        if conn.get("interface"):
            return "no", None
        return (
            "maybe",
            f"it only applies on interface {entry['interface']} (set guard interface)",
        )
    if entry["to"] != "any":
        if conn.get("destination") is not None:
            if not _address_in(entry["to"], conn["destination"]):
                return "no", None
        else:
            return (
                "maybe",
                f"it only applies to destination {entry['to']} (set guard destination)",
            )
    return "yes", None


def _lookup_profile(profiles, name):
    profiles = profiles or {}
    if name in profiles:
        return profiles[name]
    for key, value in profiles.items():
        if key.lower() == name.lower():
            return value
    return None


def _parse_ip(value, what):
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise UfwRuleError(f"guard {what} {value!r} is not an IP address") from None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address


def check_guard(rules, policy, connection, profiles=None, ipv6_enabled=True):
    """Would *connection* still be accepted by *rules* (first match wins)?

    *rules* is the full predicted list of canonical rules, *policy* the default
    incoming policy (allow|deny|reject), *connection* a dict with ``port``,
    ``source`` and optionally ``proto`` (default tcp), ``interface`` and
    ``destination``.  *profiles* maps application names to their ports (see
    :func:`parse_app_profiles`).  ``ipv6_enabled=False`` (``IPV6=no``) means ufw
    drops all IPv6 traffic.  Returns ``(True, None)`` or ``(False, message)``.

    The answer errs on the safe side: an allow rule that only might match (it is
    tied to an interface or destination the guard does not know) does not count
    as allowing, and a deny/reject rule that might match counts as cutting off.
    """
    source = _parse_ip(connection.get("source"), "source")
    destination = connection.get("destination")
    conn = {
        "source": source,
        "port": int(connection["port"]),
        "proto": connection.get("proto") or "tcp",
        "interface": connection.get("interface") or None,
        "destination": _parse_ip(destination, "destination") if destination else None,
    }
    v6 = source.version == 6
    family = "IPv6" if v6 else "IPv4"
    what = f"{conn['proto']}/{conn['port']} from {source}"
    if v6 and not ipv6_enabled:
        return (
            False,
            f"IPv6 is disabled in ufw (IPV6=no), so it drops all IPv6 traffic including {what}",
        )
    uncertain = []
    position = 0
    for entry in rules:
        if entry["ipv6"] != v6:
            continue
        position += 1
        verdict, reason = _rule_matches(entry, conn, profiles)
        if verdict == "no":
            continue
        if entry["rule"] in ("allow", "limit"):
            if verdict == "yes":
                return True, None
            uncertain.append(f"'{format_rule(entry)}' ({reason})")
            continue
        if verdict == "yes":
            return (
                False,
                f"{family} rule {position} '{format_rule(entry)}' matches {what} before any rule that allows it",
            )
        return False, (
            f"{family} rule {position} '{format_rule(entry)}' may match {what} before any rule that allows it: {reason}"
        )
    if policy == "allow":
        return True, None
    message = f"no {family} rule allows {what} and the default incoming policy is {policy}"
    if uncertain:
        message += "; not counted because they might not apply: " + ", ".join(uncertain)
    return False, message


# Where a listener is probed from: an outside address of each family (documentation ranges).
PROBE_SOURCES = {4: "192.0.2.1", 6: "2001:db8::1"}


def listening_on(listeners, port, proto="tcp"):
    """Does anything listen on *port*/*proto* on an address other hosts can reach?"""
    return any(item["port"] == int(port) and item["proto"] == proto and not item.get("loopback") for item in listeners)


def follow_moved(guards, listeners):
    """The guards to check: a session guard with ``moved_to`` follows sshd once nothing listens on its
    port any more (the next login goes to the new port)."""
    result = []
    for declared in guards:
        guard = dict(declared)
        moved_to = guard.pop("moved_to", None)
        if moved_to is not None and not listening_on(listeners, guard["port"], guard.get("proto") or "tcp"):
            guard["port"] = moved_to
        result.append(guard)
    return result


def _reachable(rules, policy, item, profiles, ipv6_enabled):
    """Would a connection from outside reach *item* (a listener) through *rules*?"""
    versions = [4] if item["family"] == "ipv4" else ([4, 6] if item.get("serves_ipv4") else [6])
    for version in versions:
        probe = {"port": item["port"], "proto": item["proto"], "source": PROBE_SOURCES[version]}
        if not item.get("wildcard") and ipaddress.ip_address(item["address"]).version == version:
            probe["destination"] = item["address"]
        if check_guard(rules, policy, probe, profiles, ipv6_enabled=ipv6_enabled)[0]:
            return True
    return False


def closed_listeners(listeners, declared, before, after, *, profiles=None, ipv6_enabled=True):
    """The public listeners that the new rules would take offline and that nobody declared.

    *declared* holds ``PORT/PROTO`` strings (the host model's ``declared``: services, SSH, the ports
    ufw_rules opens, the ports closed on purpose). *before* and *after* are ``(rules, policy,
    active)``: the rule set in effect now (``active`` false: ufw is off, everything is reachable) and
    the one after the change. Returns one dict per port: ``port``, ``proto``, ``listeners`` (as read).
    """
    found = {}
    for item in listeners:
        key = f"{item['port']}/{item['proto']}"
        # A DHCP client's replies pass ufw's before.rules whatever the rule set: never taken offline.
        if item.get("loopback") or item.get("dhcp_client") or key in declared:
            continue
        rules, policy, active = before
        if active and not _reachable(rules, policy, item, profiles, ipv6_enabled):
            continue  # already closed: the listener audit reports it, the firewall change does not
        if _reachable(after[0], after[1], item, profiles, ipv6_enabled):
            continue
        found.setdefault(key, {"port": item["port"], "proto": item["proto"], "listeners": []})["listeners"].append(item)
    return [found[key] for key in sorted(found, key=lambda k: (int(k.split("/")[0]), k))]


# --------------------------------------------------------------------------- #
# The role's plan: its variables checked and turned into the module's arguments
# --------------------------------------------------------------------------- #
POLICIES = ("allow", "deny", "reject")
LOG_LEVELS = ("off", "low", "medium", "high", "full")
SSH_RULES = ("limit", "allow")
EXEMPT_COMMENT = "ssh from the Ansible controller (not rate-limited)"


def _is_list(value):
    return isinstance(value, (list, tuple))


def _choice(errors, name, value, choices, false_means=None):
    """Return *value* as one of *choices*, or None after adding an error naming *name*.

    YAML reads an unquoted ``off`` as the boolean false: when *false_means* is given, false
    is taken as that string; any other boolean is refused, never written as "False".
    """
    if isinstance(value, bool):
        if value is False and false_means is not None:
            return false_means
        errors.append(
            f"{name} is the boolean {str(value).lower()} (YAML reads unquoted yes/no/on/off as booleans); "
            f"quote one of: {', '.join(choices)}"
        )
        return None
    if not isinstance(value, str) or value not in choices:
        errors.append(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return None
    return value


def _port_number(errors, name, value):
    if isinstance(value, bool) or not str(value).strip().isdigit() or not 1 <= int(value) <= 65535:
        errors.append(f"{name} must be a port number 1-65535, got {value!r}")
        return None
    return int(value)


def _allows_everything(entry):
    """An incoming allow rule with no port, application, source or destination: the firewall's off."""
    return (
        entry["rule"] in ("allow", "limit")
        and entry["direction"] == "in"
        and entry["port"] is None
        and entry["app"] is None
        and entry["from"] == "any"
        and entry["to"] == "any"
        and entry["interface"] is None
        and entry["proto"] == "any"
    )


def _in_sources(address, sources):
    """Is *address* inside one of *sources* (empty means anywhere)?"""
    if not sources:
        return True
    for source in sources:
        text = str(source).strip()
        if text.lower() == "any":
            return True
        try:
            if address in ipaddress.ip_network(text, strict=False):
                return True
        except (ValueError, TypeError):
            continue
    return False


def _check_scalars(get, errors, plan):
    plan["ssh_port"] = _port_number(errors, "bulwark_ssh_port", get("bulwark_host")["ssh_port"])
    plan["ssh_rule"] = _choice(errors, "ufw_ssh_rule", get("ufw_ssh_rule"), SSH_RULES)
    plan["logging"] = _choice(errors, "ufw_logging", get("ufw_logging"), LOG_LEVELS, false_means="off")
    plan["defaults"] = {
        direction: _choice(errors, f"ufw_default_{direction}", get(f"ufw_default_{direction}"), POLICIES)
        for direction in ("incoming", "outgoing", "routed")
    }


def _check_lists(get, errors, ipv6, ssh_port):
    for index, source in enumerate(get("ufw_ssh_from") or []):
        try:
            _canonical, families = normalise_address(source)
        except UfwRuleError as exc:
            errors.append(f"ufw_ssh_from[{index}]: {exc}")
            continue
        if families == frozenset((6,)) and not ipv6:
            errors.append(f"ufw_ssh_from[{index}] {source!r} is an IPv6 source but ufw_ipv6 is false")

    for index, pattern in enumerate(get("ufw_keep_comments") or []):
        try:
            re.compile(str(pattern))
        except re.error as exc:
            errors.append(f"ufw_keep_comments[{index}] {pattern!r} is not a regular expression: {exc}")

    user_rules = list(get("ufw_rules") or [])
    try:
        normalise_rules(user_rules, ipv6=ipv6, label="ufw_rules")
    except UfwRuleError as exc:
        errors.append(str(exc))
        return
    for index, rule in enumerate(user_rules):
        if rule.get("app") is None and str(rule.get("port", "")).strip() == str(ssh_port):
            errors.append(
                f"ufw_rules[{index}] opens the SSH port {ssh_port}, which bulwark_ssh_port, ufw_ssh_rule and "
                "ufw_ssh_from manage; remove it from ufw_rules"
            )
        if any(_allows_everything(e) for e in normalise_rule(rule, ipv6=ipv6)):
            errors.append(
                f"ufw_rules[{index}] allows all incoming traffic ({_describe_declared(rule)}), which undoes "
                "the default deny; set ufw_default_incoming: allow if that is really wanted"
            )


def _resolve_guard(get, errors, plan):
    """Fill ``guard``, ``guards``, ``guard_active`` and ``note``; return the first guard's source address or None.

    The SSH session in use is always guarded; a declared ``ufw_guard_connection`` (a bastion, a
    second admin path) is guarded in addition to it, never instead of it.
    """
    guard_connection = dict(get("ufw_guard_connection") or {})
    connection = dict(get("bulwark_host").get("connection") or {})
    is_ssh = bool(connection.get("is_ssh", False))
    guards = []
    if is_ssh and str(connection.get("client_addr") or "").strip():
        session = {"port": connection.get("server_port"), "source": str(connection["client_addr"]).strip()}
        if str(session["port"]) != str(plan["ssh_port"]):
            # sshd moves to bulwark_ssh_port in this run: once nothing listens on the session's port
            # any more, the next login goes to the new one.
            session["moved_to"] = plan["ssh_port"]
        guards.append(session)
    if guard_connection:
        if guard_connection.get("port") is None or guard_connection.get("source") in (None, ""):
            errors.append(f"ufw_guard_connection needs port and source, got {guard_connection!r}")
        else:
            declared = {"port": guard_connection["port"], "source": str(guard_connection["source"])}
            if guard_connection.get("proto"):
                declared["proto"] = guard_connection["proto"]
            guards.append(declared)
    plan["guards"] = guards
    plan["guard"] = guards[0] if guards else {}
    source = None
    for index, guard in enumerate(guards):
        what = "the SSH session's port" if index == 0 and is_ssh else "ufw_guard_connection.port"
        _port_number(errors, what, guard["port"])
        try:
            address = _parse_ip(guard["source"], "source")
        except UfwRuleError as exc:
            errors.append(f"ufw_guard_connection: {exc}")
            continue
        if index == 0:
            source = address

    lockout_guard = bool(get("ufw_lockout_guard"))
    plan["guard_active"] = lockout_guard and bool(guards)
    if not lockout_guard:
        plan["note"] = "ufw lockout guard off (ufw_lockout_guard=false)"
    elif guards:
        kept = " and ".join(f"{guard.get('proto', 'tcp')}/{guard['port']} from {guard['source']}" for guard in guards)
        plan["note"] = f"ufw lockout guard: the rules must keep {kept}"
    elif is_ssh:
        errors.append(
            "ufw_lockout_guard: Ansible connects over SSH but the session's client address is unknown "
            "(no SSH_CONNECTION in the login environment); set ufw_guard_connection to {port, source}, "
            "or ufw_lockout_guard=false if you have console access"
        )
    else:
        plan["note"] = (
            f"ufw lockout guard skipped: Ansible connects over {connection.get('type', 'a non-SSH connection')!r}, "
            "not SSH, so no session can be cut off; set ufw_guard_connection to guard another connection"
        )
    return source


def role_plan(settings):
    """Check the ufw role's variables and compute what the module is asked to do.

    *settings* maps the role's variable names (``ufw_rules``, ``ufw_ssh_rule``, ...) to their
    values, plus ``bulwark_host`` (the common role's host model: the SSH port, the declared
    services and ports, the connection in use).
    Returns a dict: ``errors`` (one message per broken rule, each naming the variable and its
    value; nothing else is meaningful when it is not empty), ``rules`` (the module's rules: the
    controller's exemption, one SSH rule per source, then ``ufw_rules``), ``guard`` (the
    connection to keep, or {}), ``guard_active``, ``note`` (what the guard does, for the log),
    ``exempt`` (the address exempted from the SSH rate limit, or None), ``ssh_port``,
    ``ssh_rule``, ``logging`` and ``defaults`` (validated values), ``listening_rules`` (while sshd
    still listens on the session's port and ``bulwark_ssh_port`` moves it, the SSH rules for that
    port too, kept only as long as something listens there) and ``declared`` (the ``PORT/PROTO``
    that the listener guard accepts as declared or closed on purpose).
    """
    errors = []
    get = settings.__getitem__
    plan = {
        "errors": errors,
        "rules": [],
        "listening_rules": [],
        "guard": {},
        "guards": [],
        "guard_active": False,
        "note": "",
        "exempt": None,
        "declared": list(get("bulwark_host").get("declared") or []),
    }

    for name in ("ufw_rules", "ufw_ssh_from", "ufw_keep_comments"):
        if not _is_list(get(name)):
            errors.append(f"{name} must be a list, got the {kind(get(name))} {get(name)!r}")
    if not all(isinstance(r, dict) for r in get("ufw_rules") or []) and _is_list(get("ufw_rules")):
        errors.extend(
            f"ufw_rules[{i}] must be a mapping (rule, port, proto, ...), got {r!r}"
            for i, r in enumerate(get("ufw_rules"))
            if not isinstance(r, dict)
        )
    if not isinstance(get("ufw_guard_connection") or {}, dict):
        errors.append(f"ufw_guard_connection must be a mapping, got {get('ufw_guard_connection')!r}")
    if errors:
        return plan

    ipv6 = bool(get("ufw_ipv6"))
    _check_scalars(get, errors, plan)
    _check_lists(get, errors, ipv6, plan["ssh_port"])
    source = _resolve_guard(get, errors, plan)
    if errors:
        return plan

    ssh_from = list(get("ufw_ssh_from") or [])
    port = str(plan["ssh_port"])
    if (
        get("ufw_ssh_limit_exempt")
        and plan["ssh_rule"] == "limit"
        and source is not None
        and (ipv6 or source.version == 4)
        and _in_sources(source, ssh_from)
    ):
        plan["exempt"] = str(source)
        plan["rules"].append(
            {"rule": "allow", "port": port, "proto": "tcp", "from": str(source), "comment": EXEMPT_COMMENT}
        )
    for source_text in ssh_from or ["any"]:
        if plan["exempt"] is not None and normalise_address(source_text)[0] == plan["exempt"]:
            continue  # that very address is allowed without the limit just above
        plan["rules"].append(
            {"rule": plan["ssh_rule"], "port": port, "proto": "tcp", "from": str(source_text), "comment": "ssh"}
        )
    moving = [guard for guard in plan["guards"] if guard.get("moved_to") is not None]
    if moving:
        old = str(moving[0]["port"])
        plan["listening_rules"] = [dict(rule, port=old) for rule in plan["rules"]]
    _service_rules(get, errors, plan, port)
    plan["rules"].extend(get("ufw_rules") or [])
    return plan


def _service_rules(get, errors, plan, ssh_port):
    """Allow the public ports of the host's declared services (``bulwark_services``, checked by the
    common role's host model), after the SSH rules and before ``ufw_rules``.

    SSH is the role's own rule; a port that ``ufw_rules`` already names (with its protocol) is
    left to that rule, so a user's narrower rule is not shadowed by a broad one.
    """
    named = {
        (str(rule.get("port")), str(rule.get("proto", "tcp")))
        for rule in get("ufw_rules") or []
        if isinstance(rule, dict) and rule.get("port") is not None
    }
    for entry in get("bulwark_host").get("services") or []:
        if entry["name"] == "ssh" or not entry["public"]:
            continue
        for number in entry["ports"]:
            key = (str(number), entry["proto"])
            if key in named or key == (str(ssh_port), "tcp"):
                continue
            named.add(key)
            plan["rules"].append(
                {"rule": "allow", "port": str(number), "proto": entry["proto"], "comment": f"service {entry['name']}"}
            )

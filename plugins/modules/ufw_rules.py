# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ufw_rules
short_description: Make the ufw rule set match a declared, ordered list
version_added: 0.1.0
description:
  - Reads the rules ufw keeps in C(user.rules) and C(user6.rules) (works whether
    ufw is active or not), compares them with O(rules), and adds and deletes rules
    with the C(ufw) command until they match, in the declared order.
  - A rule whose source and destination are C(any) exists twice in ufw, once for
    IPv4 and once for IPv6; a rule with an IPv4 (IPv6) address exists only for that
    family. The module manages each family's copy separately.
  - ufw evaluates rules top to bottom and the first match wins, so order matters.
    Additions are always appended; when a rule that should come earlier is
    missing, the rules after it are deleted and appended again in the declared
    order (established connections are not affected, ufw accepts them before the
    user rules).
  - With O(guard), refuses to change anything when the new rules would cut off a
    given connection (typically the SSH session Ansible itself is using).
  - With O(default_incoming), O(default_outgoing), O(default_routed) and O(logging) it
    also sets ufw's default policies and logging level (C(ufw default), C(ufw logging)),
    after the rules; with O(state=enabled) it then enables ufw (C(ufw --force enable)) when
    ufw is not active, and enables and starts C(ufw.service). All of it happens only when
    the guard passes.
  - The module never disables, resets or reloads ufw.
requirements:
  - ufw
extends_documentation_fragment:
  - bulwark.hardening.module
  - bulwark.hardening.rollback
attributes:
  check_mode:
    details: Reports the rules that would be added and removed and runs no ufw command.
  diff_mode:
    details: Before and after list the rules one per line, in evaluation order.
options:
  rules:
    description:
      - The rules, in the order ufw must evaluate them.
      - Exact duplicates are ignored. Two rules that differ only in O(rules[].rule)
        or O(rules[].comment) are an error, because ufw keeps only one of them.
    type: list
    elements: dict
    required: true
    suboptions:
      rule:
        description:
          - What to do with matching packets. V(limit) allows but rejects a source
            that opens 6 or more connections within 30 seconds.
        type: str
        required: true
        choices: [allow, deny, reject, limit]
      port:
        description:
          - Destination port, a number (V(22)) or a range (V(8000:8010), which
            needs O(rules[].proto) V(tcp) or V(udp)). Omit for all ports.
          - Mutually exclusive with O(rules[].app).
        type: str
      app:
        description:
          - Name of a ufw application profile (see C(ufw app list)) instead of
            O(rules[].port); its ports and protocols come from the profile.
        type: str
      proto:
        description: Protocol.
        type: str
        choices: [tcp, udp, any]
        default: any
      from:
        description:
          - Source address or CIDR network, or V(any).
          - V(any) means IPv4 and IPv6; V(0.0.0.0/0) or V(::/0) mean only that family.
        type: str
        default: any
      to:
        description: Destination address or CIDR network, or V(any).
        type: str
        default: any
      interface:
        description: Only match packets on this interface.
        type: str
      direction:
        description: Incoming or outgoing traffic.
        type: str
        choices: [in, out]
        default: in
      comment:
        description: Comment stored with the rule (shown by C(ufw status)).
        type: str
  exclusive:
    description:
      - When V(true), rules that are not declared are removed, each named in a warning (with the
        ways to keep it) and in RV(removed_undeclared).
      - When V(false), undeclared rules are left where they are; declared rules are
        added after them. An undeclared rule that differs from a declared one only
        in action or comment is still replaced, because ufw cannot hold both.
    type: bool
    default: true
  ipv6:
    description:
      - Manage the IPv6 copy of the rules.
      - When V(false), only IPv4 rules are managed; with O(exclusive=true) every IPv6
        rule is removed.
      - When C(IPV6=no) in O(defaults_file), ufw drops all IPv6 traffic and ignores
        C(user6.rules); the module then manages IPv4 only and warns if this is V(true).
    type: bool
    default: true
  guard:
    description:
      - A connection that must survive the change. When the new rules would no
        longer accept it, the module fails with a message naming the rule (or the
        missing rule) responsible and changes nothing, also in check mode.
      - The check follows ufw's first-match order for the connection's address
        family and the default incoming policy (O(default_incoming), or
        C(DEFAULT_INPUT_POLICY) in O(defaults_file) when that is not given). It errs
        on the safe side. A rule limited to an
        interface or destination the guard does not name does not count as
        allowing, and a deny or reject rule that might match counts as blocking.
    type: dict
    suboptions:
      port:
        description: Destination port of the connection on this host.
        type: int
        required: true
      source:
        description: Address the connection comes from (IPv4 or IPv6).
        type: str
        required: true
      proto:
        description: Protocol of the connection.
        type: str
        choices: [tcp, udp]
        default: tcp
      interface:
        description: Interface the connection arrives on, if known.
        type: str
      destination:
        description: Address of this host the connection goes to, if known.
        type: str
  guards:
    description:
      - More connections that must survive the change, each checked like O(guard) (the SSH session in use
        and a declared second path, such as a bastion).
    type: list
    elements: dict
    default: []
    suboptions:
      port:
        description: Destination port of the connection.
        type: int
        required: true
      source:
        description: Source address of the connection.
        type: str
        required: true
      proto:
        description: Protocol of the connection.
        type: str
        choices: [tcp, udp]
        default: tcp
      interface:
        description: Interface the connection arrives on.
        type: str
      destination:
        description: Destination address of the connection.
        type: str
      moved_to:
        description:
          - The port sshd moves to in this run. Once nothing listens on O(guards[].port) any more, the
            next login goes there, so that port is checked instead.
        type: int
  listening_rules:
    description:
      - Rules (same keys as O(rules)) that are declared only while something listens on their port and
        protocol on an address other hosts can reach - the SSH rules for the port sshd still listens on
        while C(bulwark_ssh_port) moves it. Appended to O(rules).
    type: list
    elements: dict
    default: []
  listener_guard:
    description:
      - Refuse, changing nothing, to close a port where something listens on a public address and that
        nobody declared. The host's listeners are read (C(/proc/net)); a listener counts as reachable now
        when ufw is off (C(ENABLED=no) in O(conf_file)) or the current rules let a connection from an
        outside address in, and as closed when the new rules do not.
      - The message names the port, the process and the unit, and the two ways out in the
        collection's variables (C(bulwark_services), C(bulwark_closed_ports)).
    type: dict
    suboptions:
      declared:
        description: The C(PORT/PROTO) that are declared (services, SSH, rules, ports closed on purpose).
        type: list
        elements: str
        default: []
  rules_dir:
    description: Directory holding C(user.rules), C(user6.rules) and C(applications.d).
    type: path
    default: /etc/ufw
  defaults_file:
    description: The ufw defaults file (C(IPV6), C(DEFAULT_INPUT_POLICY)).
    type: path
    default: /etc/default/ufw
  ufw:
    description: Path of the C(ufw) binary; looked up in E(PATH) when omitted.
    type: path
  keep_comments:
    description:
      - Regular expressions (Python C(re.search)) matched against the comment of each existing
        rule. A matching rule belongs to another tool and is left alone, even with
        O(exclusive=true); it is not shown as a change.
      - The default keeps the bans that fail2ban's C(ufw) action adds
        (comment C(by Fail2Ban after N attempts against JAIL)).
    type: list
    elements: str
    default: ["^by Fail2Ban "]
  default_incoming:
    description:
      - Default policy for incoming traffic (C(ufw default POLICY incoming)); unchanged when omitted.
      - The guard assumes this policy, so tightening it is guarded too.
    type: str
    choices: [allow, deny, reject]
    version_added: 0.2.0
  default_outgoing:
    description: Default policy for outgoing traffic (C(ufw default POLICY outgoing)); unchanged when omitted.
    type: str
    choices: [allow, deny, reject]
    version_added: 0.2.0
  default_routed:
    description: Default policy for routed traffic (C(ufw default POLICY routed)); unchanged when omitted.
    type: str
    choices: [allow, deny, reject]
    version_added: 0.2.0
  logging:
    description:
      - ufw's logging level (C(LOGLEVEL) in O(conf_file), set with C(ufw logging LEVEL)).
      - Unchanged when omitted.
    type: str
    choices: ["off", low, medium, high, full]
    version_added: 0.2.0
  state:
    description:
      - V(enabled) enables ufw after the rules and policies are in place, when C(ufw status)
        does not say it is active or C(ENABLED) in O(conf_file) is not C(yes), and enables and
        starts C(ufw.service) (C(systemctl enable --now)) when C(systemctl) says it is not
        enabled or not running.
      - When omitted, whether ufw is active is left alone.
    type: str
    choices: [enabled]
    version_added: 0.2.0
  conf_file:
    description: ufw's own configuration file (C(ENABLED), C(LOGLEVEL)).
    type: path
    default: /etc/ufw/ufw.conf
    version_added: 0.2.0
  stock_dir:
    description:
      - The package's copies of ufw's framework files (C(before.rules), C(after.rules), C(before6.rules),
        C(after6.rules)). A rule in the files of O(rules_dir) that accepts incoming or routed traffic and that
        the package's copy does not hold opens a port whatever the declared rules (ufw loads C(before.rules)
        ahead of them), so it is reported (RV(opened)) and the module refuses to change anything, naming the
        file and line to remove. The files are never edited. A file without a package copy is not judged.
      - C(before6.rules) and C(after6.rules) only count while C(IPV6=yes) in O(defaults_file).
    type: path
    default: /usr/share/ufw/iptables
    version_added: 0.4.0
notes:
  - Rules are deleted by their specification (C(ufw delete allow ...)), never by
    number, so numbering never matters.
  - Route (forward) rules and rules with an input and output interface pair are
    not managed and always left alone.
  - If the files still differ from the declared rules after the change (for
    example ufw skips IPv6 V(limit) rules when the kernel lacks support), the
    module warns.
seealso:
  - module: community.general.ufw
"""

EXAMPLES = r"""
- name: Web server firewall, guarding the current SSH session
  bulwark.hardening.ufw_rules:
    rules:
      - {rule: limit, port: 22, proto: tcp, comment: ssh}
      - {rule: allow, port: 80, proto: tcp, comment: http}
      - {rule: allow, port: 443, proto: tcp, comment: https}
      - {rule: allow, port: 9100, proto: tcp, from: 192.0.2.0/24, comment: node exporter}
    guard:
      port: 22
      source: "{{ ansible_facts['env']['SSH_CLIENT'].split()[0] }}"

- name: Add one rule and leave the others alone
  bulwark.hardening.ufw_rules:
    rules:
      - {rule: allow, app: OpenSSH}
    exclusive: false

- name: Rules, policies and logging in place, then ufw enabled
  bulwark.hardening.ufw_rules:
    rules:
      - {rule: limit, port: 22, proto: tcp, comment: ssh}
    default_incoming: deny
    default_outgoing: allow
    default_routed: deny
    logging: low
    state: enabled

- name: IPv4 only; remove every IPv6 rule
  bulwark.hardening.ufw_rules:
    rules:
      - {rule: allow, port: 22, proto: tcp}
    ipv6: false
"""

RETURN = r"""
added:
  description: The rules added (or that would be added), one human-readable string each.
  returned: always
  type: list
  elements: str
  sample: ["limit 22/tcp from any # ssh", "limit 22/tcp from any (v6) # ssh"]
removed:
  description: The rules deleted (or that would be deleted), including rules deleted only to be appended again in order.
  returned: always
  type: list
  elements: str
  sample: ["allow 8080/tcp from any", "allow 8080/tcp from any (v6)"]
removed_undeclared:
  description:
    - The rules deleted (or that would be deleted) that are not declared, each as the ufw command
      that adds it back; the run also warns about each one and says how to keep it.
    - A rule deleted only to be appended again in order is not listed; an undeclared rule that a
      declared one replaces (same port, protocol and addresses) is.
  returned: always
  type: list
  elements: str
  sample: ["ufw allow in proto tcp from any to any port 8080 comment 'my app'"]
  version_added: 0.3.0
commands:
  description: The ufw commands run (or that would be run), in order.
  returned: always
  type: list
  elements: list
  sample: [["/usr/sbin/ufw", "limit", "in", "proto", "tcp", "from", "any", "to", "any", "port", "22", "comment", "ssh"]]
rules:
  description:
    - The resulting rules in evaluation order, IPv4 first, then IPv6. Read back
      from the files after a change; predicted in check mode.
    - Keys C(log), C(from_port) and C(from_app) describe rules made outside this
      module and are null for declared rules.
  returned: always
  type: list
  elements: dict
  sample:
    - rule: limit
      direction: in
      interface: null
      log: null
      proto: tcp
      port: "22"
      app: null
      from: any
      from_port: null
      from_app: null
      to: any
      comment: ssh
      ipv6: false
opened:
  description: The rules of ufw's framework files that accept traffic the package's copies do not (see O(stock_dir)).
  returned: always
  type: list
  elements: str
  sample: ["/etc/ufw/before.rules line 27: -A ufw-before-input -p tcp --dport 8081 -j ACCEPT"]
  version_added: 0.4.0
settings:
  description:
    - The policies, logging level and activation changed (or that would be changed), each as
      C(before) and C(after); empty when they match.
  returned: always
  type: dict
  sample: {default_incoming: {before: allow, after: deny}, active: {before: false, after: true}}
  version_added: 0.2.0
diff:
  description: Rules before and after, one per line, after the policies, logging and status the module manages.
  returned: when diff mode is on
  type: dict
  sample: {before: "allow 22/tcp from any\n", after: "limit 22/tcp from any # ssh\n"}
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._listeners import read_listeners
from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import ROLLBACK_SPEC, arm_option
from ansible_collections.bulwark.hardening.plugins.module_utils._sockets import describe
from ansible_collections.bulwark.hardening.plugins.module_utils._ufw import (
    UfwRuleError,
    apply_diff,
    build_commands,
    check_guard,
    closed_listeners,
    compute_diff,
    follow_moved,
    format_rule,
    format_rules,
    framework_accepts,
    incoming_policy,
    listening_on,
    normalise_rules,
    parse_app_profiles,
    parse_defaults,
    parse_rules_file,
    removal_warning,
    split_foreign,
    undeclared_removals,
)


def _read(path):
    """Return the text of *path*, or None when it does not exist."""
    return read_text(path, None, FileNotFoundError)


def read_current(module, rules_dir, with_v6):
    """Canonical rules from user.rules (and user6.rules); missing files count as empty."""
    current = []
    missing = []
    names = [("user.rules", False)] + ([("user6.rules", True)] if with_v6 else [])
    for name, v6 in names:
        path = os.path.join(rules_dir, name)
        text = _read(path)
        if text is None:
            missing.append(path)
            continue
        try:
            current.extend(parse_rules_file(text, v6))
        except ValueError as exc:
            module.fail_json(msg=f"{path}: {exc}")
    return current, missing


def read_profiles(rules_dir):
    """The application profiles ufw reads: the regular files of applications.d, as ufw skips anything else
    (Debian 13's apache2 leaves an empty directory named apache2 there)."""
    profiles = {}
    app_dir = os.path.join(rules_dir, "applications.d")
    if os.path.isdir(app_dir):
        for name in sorted(os.listdir(app_dir)):
            if not os.path.isfile(os.path.join(app_dir, name)):
                continue
            text = _read(os.path.join(app_dir, name))
            if text is not None:
                profiles.update(parse_app_profiles(text))
    return profiles


FRAMEWORK_FILES = ("before.rules", "after.rules")


def read_opened(rules_dir, stock_dir, with_v6):
    """``["<path> line N: <rule>", ...]``: framework rules that accept what the package's copies do not."""
    names = list(FRAMEWORK_FILES) + ([n.replace(".rules", "6.rules") for n in FRAMEWORK_FILES] if with_v6 else [])
    opened = []
    for name in names:
        stock = _read(os.path.join(stock_dir, name))
        path = os.path.join(rules_dir, name)
        if stock is None:
            continue
        opened.extend(f"{path} line {number}: {line}" for number, line in framework_accepts(stock, _read(path)))
    return opened


_POLICY_KEYS = {
    "default_incoming": ("DEFAULT_INPUT_POLICY", "incoming"),
    "default_outgoing": ("DEFAULT_OUTPUT_POLICY", "outgoing"),
    "default_routed": ("DEFAULT_FORWARD_POLICY", "routed"),
}
_POLICY_NAMES = {"ACCEPT": "allow", "DROP": "deny", "REJECT": "reject"}


def settings_diff(params, defaults, conf, active, unit):
    """Return ``{setting: {"before": x, "after": y}}`` for each declared setting that differs.

    *defaults* and *conf* are the parsed defaults file and ufw.conf, *active* whether
    ``ufw status`` says active, *unit* whether ``ufw.service`` is enabled at boot and running
    (None when that cannot be told, which is then not counted).
    """
    changes = {}
    for option, (key, _direction) in _POLICY_KEYS.items():
        wanted = params.get(option)
        current = _POLICY_NAMES.get(defaults.get(key, "").upper(), defaults.get(key) or None)
        if wanted and wanted != current:
            changes[option] = {"before": current, "after": wanted}
    wanted = params.get("logging")
    current = conf.get("LOGLEVEL") or None
    if wanted and wanted != current:
        changes["logging"] = {"before": current, "after": wanted}
    if params.get("state") == "enabled":
        is_on = active and conf.get("ENABLED", "no").lower() == "yes"
        if not is_on:
            changes["active"] = {"before": False, "after": True}
        if unit is not None and not (unit["enabled"] and unit["running"]):
            before = f"{'enabled' if unit['enabled'] else 'disabled'}, {'running' if unit['running'] else 'stopped'}"
            changes["service"] = {"before": before, "after": "enabled, running"}
    return changes


def settings_commands(changes, ufw, systemctl):
    """The commands that apply *changes* (see settings_diff), in a safe order: policies, logging,
    then enabling (the rules are already in place when these run)."""
    commands = []
    for option, (_key, direction) in _POLICY_KEYS.items():
        if option in changes:
            commands.append([ufw, "default", changes[option]["after"], direction])
    if "logging" in changes:
        commands.append([ufw, "logging", changes["logging"]["after"]])
    if "active" in changes:
        commands.append([ufw, "--force", "enable"])
    if "service" in changes and systemctl:
        commands.append([systemctl, "enable", "--now", "ufw.service"])
    return commands


def format_settings(params, changes, after):
    """Lines for the diff: the managed settings as they are (or will be)."""
    lines = []
    for option in ("default_incoming", "default_outgoing", "default_routed", "logging"):
        if params.get(option):
            value = changes[option]["after" if after else "before"] if option in changes else params[option]
            lines.append(f"{option.replace('_', ' ')}: {value}\n")
    if params.get("state") == "enabled":
        is_on = True if after else ("active" not in changes)
        lines.append(f"status: {'active' if is_on else 'inactive'}\n")
    return "".join(lines)


def read_status(module, ufw, systemctl):
    """``(active, unit)``: whether ``ufw status`` says active, and ``{"enabled": bool, "running": bool}``
    for ``ufw.service`` from ``systemctl show`` (None without systemctl)."""
    active = False
    if ufw and os.path.exists(ufw):
        rc, out, _err = module.run_command([ufw, "status"], environ_update={"LC_ALL": "C"})
        active = rc == 0 and "Status: active" in out
    unit = None
    if systemctl:
        rc, out, _err = module.run_command(
            [systemctl, "show", "ufw.service", "-p", "UnitFileState", "-p", "ActiveState"],
            environ_update={"LC_ALL": "C"},
        )
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line) if rc == 0 else {}
        # UnitFileState is empty when ufw is not installed yet.
        unit = {
            "enabled": values.get("UnitFileState", "") in ("enabled", "enabled-runtime", "static", "alias"),
            "running": values.get("ActiveState", "") == "active",
        }
    return active, unit


RULES_SPEC = {
    "type": "list",
    "elements": "dict",
    "required": True,
    "options": {
        "rule": {
            "type": "str",
            "required": True,
            "choices": ["allow", "deny", "reject", "limit"],
        },
        "port": {"type": "str"},
        "app": {"type": "str"},
        "proto": {
            "type": "str",
            "choices": ["tcp", "udp", "any"],
            "default": "any",
        },
        "from": {"type": "str", "default": "any"},
        "to": {"type": "str", "default": "any"},
        "interface": {"type": "str"},
        "direction": {
            "type": "str",
            "choices": ["in", "out"],
            "default": "in",
        },
        "comment": {"type": "str"},
    },
    "mutually_exclusive": [("port", "app")],
}

ARGUMENT_SPEC = {
    "rules": RULES_SPEC,
    "listening_rules": {"type": "list", "elements": "dict", "default": []},
    "exclusive": {"type": "bool", "default": True},
    "ipv6": {"type": "bool", "default": True},
    "guard": {
        "type": "dict",
        "options": {
            "port": {"type": "int", "required": True},
            "source": {"type": "str", "required": True},
            "proto": {
                "type": "str",
                "choices": ["tcp", "udp"],
                "default": "tcp",
            },
            "interface": {"type": "str"},
            "destination": {"type": "str"},
        },
    },
    "guards": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "port": {"type": "int", "required": True},
            "source": {"type": "str", "required": True},
            "proto": {
                "type": "str",
                "choices": ["tcp", "udp"],
                "default": "tcp",
            },
            "interface": {"type": "str"},
            "destination": {"type": "str"},
            "moved_to": {"type": "int"},
        },
    },
    "listener_guard": {
        "type": "dict",
        "options": {"declared": {"type": "list", "elements": "str", "default": []}},
    },
    "rules_dir": {"type": "path", "default": "/etc/ufw"},
    "defaults_file": {"type": "path", "default": "/etc/default/ufw"},
    "ufw": {"type": "path"},
    "keep_comments": {"type": "list", "elements": "str", "default": ["^by Fail2Ban "]},
    "default_incoming": {"type": "str", "choices": ["allow", "deny", "reject"]},
    "default_outgoing": {"type": "str", "choices": ["allow", "deny", "reject"]},
    "default_routed": {"type": "str", "choices": ["allow", "deny", "reject"]},
    "logging": {"type": "str", "choices": ["off", "low", "medium", "high", "full"]},
    "state": {"type": "str", "choices": ["enabled"]},
    "conf_file": {"type": "path", "default": "/etc/ufw/ufw.conf"},
    "stock_dir": {"type": "path", "default": "/usr/share/ufw/iptables"},
    "rollback": ROLLBACK_SPEC,
}


class Listeners:
    """The host's listening sockets, read once and only when an option needs them."""

    def __init__(self, module):
        self._module = module
        self._items = None

    @property
    def items(self):
        if self._items is None:
            try:
                self._items = read_listeners(self._module)[0]
            except ValueError as exc:
                self._module.fail_json(msg=f"cannot parse /proc/net: {exc}")
        return self._items


def check_listeners(module, listeners, before, after, *, ufw_ipv6, result):
    """Fail, changing nothing, when the new rules would close a public listener nobody declared."""
    if module.params["listener_guard"] is None:
        return
    closing = closed_listeners(
        listeners.items,
        set(module.params["listener_guard"]["declared"]),
        before,
        after,
        profiles=read_profiles(module.params["rules_dir"]),
        ipv6_enabled=ufw_ipv6,
    )
    if not closing:
        return
    lines = []
    for entry in closing:
        who = "; ".join(describe(item) for item in entry["listeners"])
        lines.append(
            f"{entry['port']}/{entry['proto']}, where {who} listens: declare it in bulwark_services "
            f"(e.g. {{name: {{ports: [{entry['port']}], proto: {entry['proto']}}}}}) to keep it open, or list "
            f"{entry['port']}/{entry['proto']} in bulwark_closed_ports to close it on purpose"
        )
    result["changed"] = False
    module.fail_json(
        msg="refusing to change ufw: the new rules would take a listening service offline - "
        + "; ".join(lines)
        + "; nothing was changed",
        closing=[{"port": e["port"], "proto": e["proto"]} for e in closing],
        **result,
    )


def check_guards(module, predicted, policy, ufw_ipv6, result, *, listeners):
    """Fail, changing nothing, when the new rules would cut off O(guard) or any of O(guards)."""
    params = module.params
    guards = ([params["guard"]] if params["guard"] else []) + params["guards"]
    if any(guard.get("moved_to") is not None for guard in guards):
        guards = follow_moved(guards, listeners.items)
    profiles = read_profiles(params["rules_dir"]) if guards else {}
    for guard in guards:
        try:
            ok, message = check_guard(predicted, policy, guard, profiles, ipv6_enabled=ufw_ipv6)
        except UfwRuleError as exc:
            module.fail_json(msg=str(exc))
        if not ok:
            result["changed"] = False
            module.fail_json(msg=f"refusing to change ufw: {message}; nothing was changed", **result)


def arm_rollback(module, result):
    """Save the files ufw is about to change and arm the host's rollback (the rollback option)."""
    params = module.params
    files = [params["defaults_file"], params["conf_file"]] + [
        os.path.join(params["rules_dir"], name) for name in ("user.rules", "user6.rules")
    ]
    arm_option(module, params["rollback"], files, "ufw rules", result)


def apply(module, commands, result, *, rules_dir, ufw_ipv6, predicted, settings_after):
    """Run *commands*, read the rules back and exit with *result*."""
    for args in commands:
        rc, out, err = module.run_command(args, environ_update={"LC_ALL": "C"})
        if rc != 0:
            module.fail_json(
                msg=f"{' '.join(args)} failed (rc={rc}): {(err or out).strip()}",
                rc=rc,
                stdout=out,
                stderr=err,
                cmd=args,
                **result,
            )

    actual, _missing = read_current(module, rules_dir, ufw_ipv6)
    if actual != predicted:
        module.warn(
            "ufw stored different rules than declared (e.g. it skips IPv6 limit rules "
            "without kernel support); the next run will try again"
        )
    result["rules"] = actual
    if module._diff:
        result["diff"]["after"] = settings_after + format_rules(actual)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
    )
    params = module.params
    rules_dir = params["rules_dir"]

    defaults = parse_defaults(_read(params["defaults_file"]) or "")
    ufw_ipv6 = defaults.get("IPV6", "yes").lower() == "yes"
    ipv6 = params["ipv6"] and ufw_ipv6
    if params["ipv6"] and not ufw_ipv6:
        module.warn(
            f'IPV6 is not "yes" in {params["defaults_file"]}: ufw drops all IPv6 traffic, managing IPv4 rules only'
        )
    policy = params["default_incoming"] or incoming_policy(defaults)

    listeners = Listeners(module)
    rules = params["rules"] + [
        rule
        for rule in params["listening_rules"]
        if rule.get("port") is not None
        and listening_on(listeners.items, rule["port"], "udp" if rule.get("proto") == "udp" else "tcp")
    ]
    try:
        desired = normalise_rules(rules, ipv6=ipv6)
    except UfwRuleError as exc:
        module.fail_json(msg=str(exc))

    current, missing = read_current(module, rules_dir, ufw_ipv6)
    try:
        _foreign, managed = split_foreign(current, params["keep_comments"], desired)
    except re.error as exc:
        module.fail_json(msg=f"keep_comments holds an invalid regular expression: {exc}")
    to_delete, to_add = compute_diff(desired, managed, exclusive=params["exclusive"])
    # Every family keeps its own file order; foreign rules (fail2ban's bans) stay where their
    # owner put them and are never deleted.
    predicted = apply_diff(current, to_delete, to_add)

    ufw = params["ufw"] or module.get_bin_path("ufw")
    systemctl = module.get_bin_path("systemctl") if params["state"] == "enabled" else None
    active, unit = read_status(module, ufw, systemctl) if params["state"] == "enabled" else (False, None)
    conf = parse_defaults(_read(params["conf_file"]) or "")
    changes = settings_diff(params, defaults, conf, active, unit)
    opened = read_opened(rules_dir, params["stock_dir"], ufw_ipv6)
    changed = bool(to_delete or to_add or changes or opened)
    if changed and not module.check_mode and not ufw:
        module.fail_json(msg="ufw was not found in PATH (is ufw installed?)")
    ufw = ufw or "ufw"
    commands = build_commands(to_delete, to_add, ufw=ufw) + settings_commands(changes, ufw, systemctl)

    removals = undeclared_removals(to_delete, desired, ufw="ufw")
    for removal in removals:
        module.warn(removal_warning(removal))
    result = {
        "changed": changed,
        "added": [format_rule(e) for e in to_add],
        "removed": [format_rule(e) for e in to_delete],
        "removed_undeclared": [removal["rule"] for removal in removals],
        "commands": commands,
        "rules": predicted,
        "settings": changes,
        "opened": opened,
    }
    if module._diff:
        result["diff"] = {
            "before": "".join(f"{item}\n" for item in opened)
            + format_settings(params, changes, False)
            + format_rules(current),
            "after": format_settings(params, changes, True) + format_rules(predicted),
        }
    for item in opened:
        module.warn(f"accepted ahead of or beside the declared rules: {item}")

    check_guards(module, predicted, policy, ufw_ipv6, result, listeners=listeners)
    check_listeners(
        module,
        listeners,
        (current, incoming_policy(defaults), conf.get("ENABLED", "no").lower() == "yes"),
        (predicted, policy),
        ufw_ipv6=ufw_ipv6,
        result=result,
    )

    if not changed or module.check_mode:
        module.exit_json(**result)

    if opened:
        files = sorted({item.split(" line ", 1)[0] for item in opened})
        module.fail_json(
            msg=f"refusing to change ufw: {'; '.join(opened)} - accepts traffic the declared rules do not "
            f"(ufw loads these files as written); remove the line(s) from {', '.join(files)} (the package's "
            f"copies are in {params['stock_dir']}); to open a port, declare it in ufw_rules instead; "
            "nothing was changed",
            **result,
        )

    if missing and (to_delete or to_add):
        module.fail_json(
            msg=f"ufw rule files not found: {', '.join(missing)} (is ufw installed?)",
            **result,
        )

    arm_rollback(module, result)

    apply(
        module,
        commands,
        result,
        rules_dir=rules_dir,
        ufw_ipv6=ufw_ipv6,
        predicted=predicted,
        settings_after=format_settings(params, changes, True),
    )


if __name__ == "__main__":
    main()

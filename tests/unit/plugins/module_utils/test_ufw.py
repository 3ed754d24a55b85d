# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

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
    hex_decode,
    hex_encode,
    incoming_policy,
    listening_on,
    normalise_rule,
    normalise_rules,
    parse_app_profiles,
    parse_defaults,
    parse_rules_file,
    parse_tuple,
    removal_warning,
    role_plan,
    split_foreign,
    undeclared_removals,
)
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import host, role_defaults

# Tuple lines as written by ufw 0.36 (`ufw --dry-run <rule>` on Debian), one per
# family.  Comments are the hex of the UTF-8 text ("ssh", "db über", "web x").
SSH_LIMIT_V4 = "### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368"
SSH_LIMIT_V6 = "### tuple ### limit tcp 22 ::/0 any ::/0 in comment=737368"
HTTP_V4 = "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in"
HTTP_V6 = "### tuple ### allow tcp 80 ::/0 any ::/0 in"
DB_V4 = "### tuple ### allow tcp 3306 0.0.0.0/0 any 10.0.0.0/8 in comment=646220c3bc626572"
DENY_NET_V6 = "### tuple ### deny any any ::/0 any 2001:db8::/32 in"
RANGE_ETH0_V4 = "### tuple ### allow udp 8000:8010 0.0.0.0/0 any 0.0.0.0/0 in_eth0 comment=776562207820"
APP_V4 = "### tuple ### allow tcp 80,443 0.0.0.0/0 any 10.0.0.1 WWW%20Full - in_eth0 comment=78"
DNS_OUT_V6 = "### tuple ### allow udp 53 ::/0 any ::/0 out_eth1"
LOG_V4 = "### tuple ### allow_log tcp 22 0.0.0.0/0 any 0.0.0.0/0 in_eth0"
SPORT_V4 = "### tuple ### allow tcp any 0.0.0.0/0 22 0.0.0.0/0 in"
ROUTE_V4 = "### tuple ### route:allow tcp 80 10.0.0.2 any 0.0.0.0/0 in_eth0!out_eth1"


def user_rules(*tuples, v6=False):
    """A user.rules / user6.rules file as ufw writes it, holding *tuples*."""
    prefix = "ufw6" if v6 else "ufw"
    lines = [
        "*filter",
        f":{prefix}-user-input - [0:0]",
        f":{prefix}-user-output - [0:0]",
        "### RULES ###",
        "",
    ]
    for tup in tuples:
        lines += [tup, f"-A {prefix}-user-input -p tcp --dport 22 -j ACCEPT", ""]
    lines += ["### END RULES ###", "COMMIT", ""]
    return "\n".join(lines)


def canon(**kw):
    """A canonical rule with defaults, to keep expectations short."""
    base = {
        "rule": "allow",
        "direction": "in",
        "interface": None,
        "log": None,
        "proto": "any",
        "port": None,
        "app": None,
        "from": "any",
        "from_port": None,
        "from_app": None,
        "to": "any",
        "comment": None,
        "ipv6": False,
    }
    base.update(kw)
    return base


def declared(*rules, ipv6=True):
    return normalise_rules(list(rules), ipv6=ipv6)


def parsed(v4=(), v6=()):
    return parse_rules_file(user_rules(*v4), False) + parse_rules_file(user_rules(*v6, v6=True), True)


SSH = {"rule": "limit", "port": 22, "proto": "tcp", "comment": "ssh"}
HTTP = {"rule": "allow", "port": "80", "proto": "tcp"}
HTTPS = {"rule": "allow", "port": "443", "proto": "tcp"}


# --------------------------------------------------------------------------- #
# normalisation
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "rule, ipv6, expected",
    [
        pytest.param(
            SSH,
            True,
            [
                canon(rule="limit", proto="tcp", port="22", comment="ssh"),
                canon(rule="limit", proto="tcp", port="22", comment="ssh", ipv6=True),
            ],
            id="any-source-both-families",
        ),
        pytest.param(
            SSH,
            False,
            [canon(rule="limit", proto="tcp", port="22", comment="ssh")],
            id="ipv6-false-drops-v6",
        ),
        pytest.param(
            {"rule": "allow", "port": 443, "proto": "tcp", "from": "192.0.2.0/24"},
            True,
            [canon(proto="tcp", port="443", **{"from": "192.0.2.0/24"})],
            id="ipv4-source-v4-only",
        ),
        pytest.param(
            {"rule": "deny", "from": "2001:DB8:0::/32"},
            True,
            [canon(rule="deny", ipv6=True, **{"from": "2001:db8::/32"})],
            id="ipv6-source-v6-only-lowercased",
        ),
        pytest.param(
            {"rule": "allow", "from": "10.0.0.5/8"},
            True,
            [canon(**{"from": "10.0.0.0/8"})],
            id="host-bits-dropped-like-ufw",
        ),
        pytest.param(
            {"rule": "allow", "from": "192.0.2.1/32"},
            True,
            [canon(**{"from": "192.0.2.1"})],
            id="host-prefix-dropped",
        ),
        pytest.param(
            {"rule": "allow", "from": "10.0.0.0/255.0.0.0"},
            True,
            [canon(**{"from": "10.0.0.0/8"})],
            id="netmask-notation",
        ),
        pytest.param(
            {"rule": "allow", "port": 22, "proto": "tcp", "from": "0.0.0.0/0"},
            True,
            [canon(proto="tcp", port="22")],
            id="explicit-v4-any-is-v4-only",
        ),
        pytest.param(
            {"rule": "allow", "port": "8000:8010", "proto": "udp", "interface": "eth0"},
            True,
            [
                canon(proto="udp", port="8000:8010", interface="eth0"),
                canon(proto="udp", port="8000:8010", interface="eth0", ipv6=True),
            ],
            id="range-and-interface",
        ),
        pytest.param(
            {"rule": "allow", "app": "WWW Full", "from": "10.0.0.1", "comment": ""},
            True,
            [canon(app="WWW Full", **{"from": "10.0.0.1"})],
            id="app-empty-comment",
        ),
        pytest.param(
            {"rule": "reject", "port": "25", "direction": "out", "to": "2001:db8::25"},
            True,
            [
                canon(
                    rule="reject",
                    port="25",
                    direction="out",
                    to="2001:db8::25",
                    ipv6=True,
                )
            ],
            id="outgoing-v6-destination",
        ),
    ],
)
def test_normalise_rule(rule, ipv6, expected):
    assert normalise_rule(rule, ipv6=ipv6) == expected


@pytest.mark.parametrize(
    "rule, fragment",
    [
        ({"rule": "permit"}, "rule must be one of"),
        ({"rule": "allow", "port": "ssh"}, "invalid port 'ssh'"),
        ({"rule": "allow", "port": 70000}, "1-65535"),
        (
            {"rule": "allow", "port": "9000:8000", "proto": "tcp"},
            "low port must come first",
        ),
        ({"rule": "allow", "port": "8000:8010"}, "needs proto tcp or udp"),
        (
            {"rule": "allow", "from": "192.0.2.1", "to": "2001:db8::1"},
            "mix IPv4 and IPv6",
        ),
        ({"rule": "allow", "from": "example.org"}, "invalid address 'example.org'"),
        ({"rule": "allow", "app": "OpenSSH", "port": 22}, "mutually exclusive"),
        ({"rule": "allow", "app": "OpenSSH", "proto": "tcp"}, "drop proto"),
        ({"rule": "allow", "interface": "eth0; rm -rf /"}, "invalid interface"),
        ({"rule": "allow", "comment": "two\nlines"}, "single line"),
    ],
)
def test_normalise_rule_errors(rule, fragment):
    with pytest.raises(UfwRuleError, match=fragment):
        normalise_rule(rule)


def test_normalise_rule_ipv6_only_rule_with_ipv6_false():
    with pytest.raises(UfwRuleError, match="IPv6-only but ipv6 is false"):
        normalise_rule({"rule": "allow", "from": "2001:db8::1"}, ipv6=False)


def test_normalise_rules_keeps_order_and_drops_duplicates():
    rules = declared(
        HTTP,
        SSH,
        dict(HTTP),
        {"rule": "allow", "port": 80, "proto": "tcp", "from": "0.0.0.0/0"},
    )
    assert [format_rule(r) for r in rules] == [
        "allow 80/tcp from any",
        "allow 80/tcp from any (v6)",
        "limit 22/tcp from any # ssh",
        "limit 22/tcp from any (v6) # ssh",
    ]


@pytest.mark.parametrize(
    "other",
    [
        {"rule": "allow", "port": 22, "proto": "tcp", "comment": "ssh"},
        {"rule": "limit", "port": 22, "proto": "tcp", "comment": "other"},
    ],
)
def test_normalise_rules_conflict_names_both_rules(other):
    with pytest.raises(
        UfwRuleError,
        match=r"rules\[0\] .* and rules\[1\] .*differ only in action or comment",
    ):
        declared(SSH, other)


# --------------------------------------------------------------------------- #
# parsing
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "line, v6, expected",
    [
        (
            SSH_LIMIT_V4,
            False,
            canon(rule="limit", proto="tcp", port="22", comment="ssh"),
        ),
        (
            SSH_LIMIT_V6,
            True,
            canon(rule="limit", proto="tcp", port="22", comment="ssh", ipv6=True),
        ),
        (
            DB_V4,
            False,
            canon(proto="tcp", port="3306", comment="db über", **{"from": "10.0.0.0/8"}),
        ),
        (DENY_NET_V6, True, canon(rule="deny", ipv6=True, **{"from": "2001:db8::/32"})),
        (
            RANGE_ETH0_V4,
            False,
            canon(proto="udp", port="8000:8010", interface="eth0", comment="web x "),
        ),
        (
            APP_V4,
            False,
            canon(app="WWW Full", interface="eth0", comment="x", **{"from": "10.0.0.1"}),
        ),
        (
            DNS_OUT_V6,
            True,
            canon(proto="udp", port="53", direction="out", interface="eth1", ipv6=True),
        ),
        (LOG_V4, False, canon(log="log", proto="tcp", port="22", interface="eth0")),
        (SPORT_V4, False, canon(proto="tcp", from_port="22")),
    ],
)
def test_parse_tuple(line, v6, expected):
    assert parse_tuple(line, v6) == expected


@pytest.mark.parametrize(
    "line",
    [ROUTE_V4, "-A ufw-user-input -p tcp --dport 22 -j ACCEPT", "### RULES ###", ""],
)
def test_parse_tuple_ignores_unmanaged_lines(line):
    assert parse_tuple(line, False) is None


@pytest.mark.parametrize(
    "line",
    [
        "### tuple ### allow tcp 22 0.0.0.0/0 any",
        "### tuple ### permit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in",
    ],
)
def test_parse_tuple_malformed(line):
    with pytest.raises(ValueError):
        parse_tuple(line, False)


def test_parse_rules_file_keeps_order_and_collapses_app_ports():
    # ufw stores one tuple per port/protocol of a profile (KTorrent: 6881/tcp|4444/udp).
    text = user_rules(
        HTTP_V4,
        "### tuple ### allow tcp 6881 0.0.0.0/0 any 0.0.0.0/0 KTorrent - in",
        "### tuple ### allow udp 4444 0.0.0.0/0 any 0.0.0.0/0 KTorrent - in",
        SSH_LIMIT_V4,
    )
    assert [format_rule(r) for r in parse_rules_file(text, False)] == [
        "allow 80/tcp from any",
        "allow app KTorrent from any",
        "limit 22/tcp from any # ssh",
    ]


def test_parse_empty_file_as_installed():
    text = "*filter\n:ufw6-user-input - [0:0]\n### RULES ###\nCOMMIT\n"
    assert parse_rules_file(text, True) == []


@pytest.mark.parametrize("text", ["ssh", "db über", "", "web x "])
def test_hex_roundtrip(text):
    assert hex_decode(hex_encode(text)) == text


@pytest.mark.parametrize(
    "rule, v4, v6",
    [
        (SSH, [SSH_LIMIT_V4], [SSH_LIMIT_V6]),
        (HTTP, [HTTP_V4], [HTTP_V6]),
        (
            {
                "rule": "allow",
                "port": 3306,
                "proto": "tcp",
                "from": "10.0.0.0/8",
                "comment": "db über",
            },
            [DB_V4],
            [],
        ),
        ({"rule": "deny", "from": "2001:db8::/32"}, [], [DENY_NET_V6]),
        (
            {
                "rule": "allow",
                "app": "WWW Full",
                "from": "10.0.0.1",
                "interface": "eth0",
                "comment": "x",
            },
            [APP_V4],
            [],
        ),
    ],
)
def test_declared_rule_equals_what_ufw_writes(rule, v4, v6):
    """Idempotence hinges on this: a declared rule compares equal to ufw's tuples."""
    assert declared(rule) == parsed(v4, v6)
    assert compute_diff(declared(rule), parsed(v4, v6)) == ([], [])


@pytest.mark.parametrize(
    "text, ipv6, policy",
    [
        ('IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\n', "yes", "deny"),
        ('# comment\nIPV6=no\nDEFAULT_INPUT_POLICY="REJECT"\n', "no", "reject"),
        ("DEFAULT_INPUT_POLICY='ACCEPT'\n", None, "allow"),
        ("", None, "deny"),
    ],
)
def test_parse_defaults(text, ipv6, policy):
    values = parse_defaults(text)
    assert values.get("IPV6") == ipv6
    assert incoming_policy(values) == policy


def test_parse_app_profiles():
    text = (
        "[OpenSSH]\ntitle=Secure shell server\ndescription=x\nports=22/tcp\n\n"
        "[WWW Full]\ntitle=Web Server\nports=80,443/tcp\n\n"
        "[KTorrent]\nports=6881/tcp|4444/udp\n\n"
        "[Transmission]\nports=51413\n"
    )
    assert parse_app_profiles(text) == {
        "OpenSSH": [("tcp", "22")],
        "WWW Full": [("tcp", "80,443")],
        "KTorrent": [("tcp", "6881"), ("udp", "4444")],
        "Transmission": [("tcp", "51413"), ("udp", "51413")],
    }


# --------------------------------------------------------------------------- #
# diff
# --------------------------------------------------------------------------- #
def names(entries):
    return [format_rule(e) for e in entries]


def test_diff_empty_to_rules_adds_both_families_in_declared_order():
    to_delete, to_add = compute_diff(declared(SSH, HTTP), [])
    assert to_delete == []
    assert names(to_add) == [
        "limit 22/tcp from any # ssh",
        "limit 22/tcp from any (v6) # ssh",
        "allow 80/tcp from any",
        "allow 80/tcp from any (v6)",
    ]


def test_diff_in_sync_is_empty():
    current = parsed([SSH_LIMIT_V4, HTTP_V4], [SSH_LIMIT_V6, HTTP_V6])
    assert compute_diff(declared(SSH, HTTP), current) == ([], [])


def test_diff_missing_v6_limit_only_adds_v6():
    current = parsed([SSH_LIMIT_V4], [])
    to_delete, to_add = compute_diff(declared(SSH), current)
    assert to_delete == []
    assert names(to_add) == ["limit 22/tcp from any (v6) # ssh"]


@pytest.mark.parametrize(
    "exclusive, removed",
    [
        (True, ["allow 80/tcp from any", "allow 80/tcp from any (v6)"]),
        (False, []),
    ],
)
def test_diff_exclusive_removes_undeclared(exclusive, removed):
    current = parsed([SSH_LIMIT_V4, HTTP_V4], [SSH_LIMIT_V6, HTTP_V6])
    to_delete, to_add = compute_diff(declared(SSH), current, exclusive=exclusive)
    assert names(to_delete) == removed
    assert to_add == []


@pytest.mark.parametrize("exclusive", [True, False])
def test_diff_allow_becomes_limit(exclusive):
    """ufw cannot hold allow and limit for the same port: the old rule goes either way."""
    current = parsed(
        ["### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in"],
        ["### tuple ### allow tcp 22 ::/0 any ::/0 in"],
    )
    to_delete, to_add = compute_diff(declared(SSH), current, exclusive=exclusive)
    assert names(to_delete) == ["allow 22/tcp from any", "allow 22/tcp from any (v6)"]
    assert names(to_add) == [
        "limit 22/tcp from any # ssh",
        "limit 22/tcp from any (v6) # ssh",
    ]


def test_diff_comment_change_replaces_rule():
    current = parsed(
        ["### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=6f6c64"],
        [SSH_LIMIT_V6],
    )
    to_delete, to_add = compute_diff(declared(SSH), current, exclusive=False)
    assert names(to_delete) == ["limit 22/tcp from any # old"]
    assert names(to_add) == ["limit 22/tcp from any # ssh"]


def test_diff_rule_declared_first_rebuilds_the_rest_in_order():
    deny = {"rule": "deny", "from": "203.0.113.5"}
    current = parsed([SSH_LIMIT_V4, HTTP_V4], [SSH_LIMIT_V6, HTTP_V6])
    to_delete, to_add = compute_diff(declared(deny, SSH, HTTP), current)
    assert names(to_add) == [
        "deny any from 203.0.113.5",
        "limit 22/tcp from any # ssh",
        "allow 80/tcp from any",
    ]
    assert names(to_delete) == ["limit 22/tcp from any # ssh", "allow 80/tcp from any"]
    # IPv6 is untouched: the deny rule does not exist there.
    result = apply_diff(current, to_delete, to_add)
    assert names(result) == [
        "deny any from 203.0.113.5",
        "limit 22/tcp from any # ssh",
        "allow 80/tcp from any",
        "limit 22/tcp from any (v6) # ssh",
        "allow 80/tcp from any (v6)",
    ]


def test_diff_swap_moves_only_what_is_out_of_place():
    current = parsed([HTTP_V4, SSH_LIMIT_V4], [])
    to_delete, to_add = compute_diff(declared(SSH, HTTP, ipv6=False), current)
    assert names(to_delete) == ["allow 80/tcp from any"]
    assert names(to_add) == ["allow 80/tcp from any"]
    assert names(apply_diff(current, to_delete, to_add)) == [
        "limit 22/tcp from any # ssh",
        "allow 80/tcp from any",
    ]


def test_diff_removing_a_middle_rule_keeps_the_others():
    current = parsed(
        [
            SSH_LIMIT_V4,
            HTTP_V4,
            "### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in",
        ],
        [],
    )
    to_delete, to_add = compute_diff(declared(SSH, HTTPS, ipv6=False), current)
    assert names(to_delete) == ["allow 80/tcp from any"]
    assert to_add == []


def test_diff_non_exclusive_appends_after_unmanaged_rules():
    current = parsed([HTTP_V4], [HTTP_V6])
    to_delete, to_add = compute_diff(declared(SSH), current, exclusive=False)
    assert to_delete == []
    result = apply_diff(current, to_delete, to_add)
    assert names(result) == [
        "allow 80/tcp from any",
        "limit 22/tcp from any # ssh",
        "allow 80/tcp from any (v6)",
        "limit 22/tcp from any (v6) # ssh",
    ]


@pytest.mark.parametrize(
    "exclusive, removed",
    [
        (
            True,
            ["limit 22/tcp from any (v6) # ssh", "deny any from 2001:db8::/32 (v6)"],
        ),
        (False, []),
    ],
)
def test_diff_ipv6_false(exclusive, removed):
    current = parsed([SSH_LIMIT_V4], [SSH_LIMIT_V6, DENY_NET_V6])
    to_delete, to_add = compute_diff(declared(SSH, ipv6=False), current, exclusive=exclusive)
    assert names(to_delete) == removed
    assert to_add == []


def test_diff_leaves_route_rules_alone():
    current = parse_rules_file(user_rules(ROUTE_V4, SSH_LIMIT_V4), False)
    assert compute_diff(declared(SSH, ipv6=False), current) == ([], [])


# --------------------------------------------------------------------------- #
# commands and display
# --------------------------------------------------------------------------- #
def test_commands_merge_twins_and_keep_order():
    to_delete, to_add = compute_diff(
        declared(SSH, {"rule": "allow", "port": 443, "proto": "tcp", "from": "192.0.2.0/24"}),
        [],
    )
    assert build_commands(to_delete, to_add, ufw="/usr/sbin/ufw") == [
        [
            "/usr/sbin/ufw",
            "limit",
            "in",
            "proto",
            "tcp",
            "from",
            "any",
            "to",
            "any",
            "port",
            "22",
            "comment",
            "ssh",
        ],
        [
            "/usr/sbin/ufw",
            "allow",
            "in",
            "proto",
            "tcp",
            "from",
            "192.0.2.0/24",
            "to",
            "any",
            "port",
            "443",
        ],
    ]


def test_commands_single_family_uses_explicit_any():
    to_delete, to_add = compute_diff(declared(SSH), parsed([SSH_LIMIT_V4], [HTTP_V6]))
    assert build_commands(to_delete, to_add) == [
        [
            "ufw",
            "delete",
            "allow",
            "in",
            "proto",
            "tcp",
            "from",
            "::/0",
            "to",
            "::/0",
            "port",
            "80",
        ],
        [
            "ufw",
            "limit",
            "in",
            "proto",
            "tcp",
            "from",
            "::/0",
            "to",
            "::/0",
            "port",
            "22",
            "comment",
            "ssh",
        ],
    ]


def test_commands_delete_by_spec_without_comment():
    to_delete, to_add = compute_diff([], parsed([DB_V4, SSH_LIMIT_V4], [SSH_LIMIT_V6]))
    assert to_add == []
    assert build_commands(to_delete, to_add) == [
        [
            "ufw",
            "delete",
            "allow",
            "in",
            "proto",
            "tcp",
            "from",
            "10.0.0.0/8",
            "to",
            "any",
            "port",
            "3306",
        ],
        [
            "ufw",
            "delete",
            "limit",
            "in",
            "proto",
            "tcp",
            "from",
            "any",
            "to",
            "any",
            "port",
            "22",
        ],
    ]


@pytest.mark.parametrize(
    "line, v6, args",
    [
        (
            APP_V4,
            False,
            [
                "allow",
                "in",
                "on",
                "eth0",
                "from",
                "10.0.0.1",
                "to",
                "any",
                "app",
                "WWW Full",
                "comment",
                "x",
            ],
        ),
        (
            DNS_OUT_V6,
            True,
            [
                "allow",
                "out",
                "on",
                "eth1",
                "proto",
                "udp",
                "from",
                "::/0",
                "to",
                "::/0",
                "port",
                "53",
            ],
        ),
        (
            LOG_V4,
            False,
            [
                "allow",
                "in",
                "on",
                "eth0",
                "log",
                "proto",
                "tcp",
                "from",
                "0.0.0.0/0",
                "to",
                "0.0.0.0/0",
                "port",
                "22",
            ],
        ),
        (
            SPORT_V4,
            False,
            [
                "allow",
                "in",
                "proto",
                "tcp",
                "from",
                "0.0.0.0/0",
                "port",
                "22",
                "to",
                "0.0.0.0/0",
            ],
        ),
    ],
)
def test_commands_render_parsed_rules(line, v6, args):
    assert build_commands([], [parse_tuple(line, v6)]) == [["ufw", *args]]


@pytest.mark.parametrize(
    "line, v6, text",
    [
        (SSH_LIMIT_V6, True, "limit 22/tcp from any (v6) # ssh"),
        (DENY_NET_V6, True, "deny any from 2001:db8::/32 (v6)"),
        (APP_V4, False, "allow on eth0 app WWW Full from 10.0.0.1 # x"),
        (DNS_OUT_V6, True, "allow out on eth1 53/udp from any (v6)"),
        (LOG_V4, False, "allow log on eth0 22/tcp from any"),
        (SPORT_V4, False, "allow any/tcp from any port 22"),
    ],
)
def test_format_rule(line, v6, text):
    assert format_rule(parse_tuple(line, v6)) == text


def test_format_rules_one_per_line():
    assert format_rules(parsed([HTTP_V4], [HTTP_V6])) == "allow 80/tcp from any\nallow 80/tcp from any (v6)\n"


# --------------------------------------------------------------------------- #
# guard
# --------------------------------------------------------------------------- #
ADMIN_V4 = "192.0.2.10"
ADMIN_V6 = "2001:db8::10"
PROFILES = {"OpenSSH": [("tcp", "22")], "WWW Full": [("tcp", "80,443")]}


def guard(rules, source=ADMIN_V4, policy="deny", port=22, **conn):
    conn.update(port=port, source=source)
    return check_guard(declared(*rules), policy, conn, PROFILES)


@pytest.mark.parametrize(
    "rules, source, extra",
    [
        pytest.param([SSH], ADMIN_V4, {}, id="limit-any"),
        pytest.param([SSH], ADMIN_V6, {}, id="limit-any-ipv6"),
        pytest.param(
            [{"rule": "allow", "port": 22, "proto": "tcp", "from": "192.0.2.0/24"}],
            ADMIN_V4,
            {},
            id="source-network",
        ),
        pytest.param(
            [{"rule": "allow", "port": 22, "proto": "tcp", "from": "2001:db8::/48"}],
            ADMIN_V6,
            {},
            id="ipv6-network",
        ),
        pytest.param(
            [{"rule": "allow", "port": "20:30", "proto": "tcp"}],
            ADMIN_V4,
            {},
            id="range",
        ),
        pytest.param(
            [{"rule": "allow", "from": ADMIN_V4}],
            ADMIN_V4,
            {},
            id="all-ports-from-admin",
        ),
        pytest.param([{"rule": "allow", "app": "OpenSSH"}], ADMIN_V4, {}, id="app-profile"),
        pytest.param(
            [{"rule": "allow", "port": 22, "interface": "eth0"}],
            ADMIN_V4,
            {"interface": "eth0"},
            id="interface-known",
        ),
        pytest.param(
            [{"rule": "deny", "port": 22, "interface": "eth1"}, SSH],
            ADMIN_V4,
            {"interface": "eth0"},
            id="deny-on-other-interface",
        ),
        pytest.param(
            [{"rule": "deny", "port": 22, "proto": "udp"}, SSH],
            ADMIN_V4,
            {},
            id="deny-udp-only",
        ),
        pytest.param(
            [{"rule": "deny", "from": "203.0.113.0/24"}, SSH],
            ADMIN_V4,
            {},
            id="deny-other-source-first",
        ),
        pytest.param([SSH, {"rule": "deny", "port": 22}], ADMIN_V4, {}, id="deny-after-allow"),
        pytest.param(
            [{"rule": "allow", "port": 22, "direction": "out"}, SSH],
            ADMIN_V4,
            {},
            id="outgoing-ignored",
        ),
    ],
)
def test_guard_allowed(rules, source, extra):
    assert guard(rules, source, **extra) == (True, None)


@pytest.mark.parametrize(
    "rules, source, policy, fragments",
    [
        pytest.param(
            [HTTP],
            ADMIN_V4,
            "deny",
            [
                "no IPv4 rule allows tcp/22 from 192.0.2.10",
                "default incoming policy is deny",
            ],
            id="missing-rule",
        ),
        pytest.param([], ADMIN_V4, "reject", ["policy is reject"], id="no-rules-reject"),
        pytest.param(
            [{"rule": "allow", "port": 22, "proto": "tcp", "from": "198.51.100.0/24"}],
            ADMIN_V4,
            "deny",
            ["no IPv4 rule allows tcp/22 from 192.0.2.10"],
            id="source-restricted-elsewhere",
        ),
        pytest.param(
            [{"rule": "allow", "port": 22, "proto": "tcp", "from": "192.0.2.0/24"}],
            ADMIN_V6,
            "deny",
            ["no IPv6 rule allows tcp/22 from 2001:db8::10"],
            id="ipv6-source-only-v4-allowed",
        ),
        pytest.param(
            [{"rule": "deny", "from": "192.0.2.0/24"}, SSH],
            ADMIN_V4,
            "deny",
            ["IPv4 rule 1 'deny any from 192.0.2.0/24' matches tcp/22 from 192.0.2.10 before any rule that allows it"],
            id="deny-listed-before-allow",
        ),
        pytest.param(
            [
                HTTP,
                {"rule": "reject", "port": 22, "proto": "tcp", "from": "2001:db8::/32"},
                SSH,
            ],
            ADMIN_V6,
            "deny",
            ["IPv6 rule 2 'reject 22/tcp from 2001:db8::/32 (v6)' matches"],
            id="ipv6-reject-listed-before-allow",
        ),
        pytest.param(
            [{"rule": "deny", "port": 22}],
            ADMIN_V4,
            "allow",
            ["'deny 22 from any' matches"],
            id="deny-with-accept-policy",
        ),
        pytest.param(
            [{"rule": "allow", "port": 22, "interface": "eth0"}],
            ADMIN_V4,
            "deny",
            [
                "not counted because they might not apply",
                "only applies on interface eth0",
            ],
            id="allow-on-unknown-interface",
        ),
        pytest.param(
            [{"rule": "deny", "port": 22, "to": "198.51.100.1"}, SSH],
            ADMIN_V4,
            "deny",
            ["may match", "set guard destination"],
            id="deny-to-unknown-destination",
        ),
        pytest.param(
            [{"rule": "allow", "app": "Unknown App"}],
            ADMIN_V4,
            "deny",
            ["ports of application profile 'Unknown App' are unknown"],
            id="unknown-app",
        ),
    ],
)
def test_guard_cut_off(rules, source, policy, fragments):
    ok, message = guard(rules, source, policy)
    assert ok is False
    for fragment in fragments:
        assert fragment in message


def test_guard_accept_policy_without_rules():
    assert guard([], policy="allow") == (True, None)


def test_guard_ipv4_mapped_source_uses_ipv4_rules():
    rules = [{"rule": "allow", "port": 22, "proto": "tcp", "from": "192.0.2.0/24"}]
    assert guard(rules, source="::ffff:192.0.2.10") == (True, None)


def test_guard_ipv6_disabled_in_ufw():
    ok, message = check_guard(declared(SSH), "deny", {"port": 22, "source": ADMIN_V6}, ipv6_enabled=False)
    assert ok is False
    assert "IPV6=no" in message


def test_guard_destination_known():
    rules = [{"rule": "allow", "port": 22, "proto": "tcp", "to": "198.51.100.1"}]
    assert guard(rules, destination="198.51.100.1") == (True, None)
    assert guard(rules, destination="198.51.100.2")[0] is False


def test_guard_udp_connection():
    assert guard([SSH], port=22, proto="udp")[0] is False
    assert guard([{"rule": "allow", "port": 1194, "proto": "udp"}], port=1194, proto="udp") == (True, None)


def test_guard_bad_source():
    with pytest.raises(UfwRuleError, match="guard source 'my-laptop'"):
        guard([SSH], source="my-laptop")


# --------------------------------------------------------------------------- #
# foreign rules (fail2ban's bans) and the prediction per address family
# --------------------------------------------------------------------------- #
BAN_COMMENT = b"by Fail2Ban after 5 attempts against sshd".hex()
BAN_V4 = f"### tuple ### reject any any 0.0.0.0/0 any 192.0.2.66 in comment={BAN_COMMENT}"
BAN_V6 = f"### tuple ### reject any any ::/0 any 2001:db8::66 in comment={BAN_COMMENT}"


def test_ipv6_ban_is_predicted_in_its_own_family():
    """Issue 10: an IPv6 ban was predicted before the IPv4 rules (all foreign rules first)."""
    current = parsed([SSH_LIMIT_V4, HTTP_V4], [BAN_V6, SSH_LIMIT_V6, HTTP_V6])
    foreign, managed = split_foreign(current, ["^by Fail2Ban "])
    assert names(foreign) == ["reject any from 2001:db8::66 (v6) # by Fail2Ban after 5 attempts against sshd"]
    to_delete, to_add = compute_diff(declared(SSH, HTTP, HTTPS), managed)
    assert to_delete == []
    assert names(apply_diff(current, to_delete, to_add)) == [
        "limit 22/tcp from any # ssh",
        "allow 80/tcp from any",
        "allow 443/tcp from any",
        "reject any from 2001:db8::66 (v6) # by Fail2Ban after 5 attempts against sshd",
        "limit 22/tcp from any (v6) # ssh",
        "allow 80/tcp from any (v6)",
        "allow 443/tcp from any (v6)",
    ]


def test_bans_in_both_families_stay_first_in_each():
    current = parsed([BAN_V4, SSH_LIMIT_V4], [BAN_V6, SSH_LIMIT_V6])
    _foreign, managed = split_foreign(current, ["^by Fail2Ban "])
    to_delete, to_add = compute_diff(declared(SSH, HTTP), managed)
    assert [
        e["comment"] is not None and e["comment"].startswith("by Fail2Ban")
        for e in apply_diff(current, to_delete, to_add)
    ] == [
        True,
        False,
        False,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize("patterns", [[".*"], ["^ssh$"], [""]])
def test_declared_rules_are_never_foreign(patterns):
    """ufw_keep_comments: ['.*'] used to make the SSH rule foreign, so it was added again every run."""
    current = parsed([SSH_LIMIT_V4, HTTP_V4], [SSH_LIMIT_V6, HTTP_V6])
    desired = declared(SSH, HTTP)
    foreign, managed = split_foreign(current, patterns, desired)
    assert foreign == []
    assert compute_diff(desired, managed) == ([], [])


def test_wide_keep_pattern_keeps_undeclared_commented_rules():
    current = parsed([SSH_LIMIT_V4, DB_V4], [SSH_LIMIT_V6])
    desired = declared(SSH)
    foreign, managed = split_foreign(current, [".*"], desired)
    assert names(foreign) == ["allow 3306/tcp from 10.0.0.0/8 # db über"]
    assert compute_diff(desired, managed) == ([], [])


# --------------------------------------------------------------------------- #
# role_plan: the ufw role's variables checked and turned into the module's arguments
# --------------------------------------------------------------------------- #
DOCKER = {"type": "docker", "is_ssh": False, "client_addr": "", "server_port": ""}
SESSION = {"type": "ssh", "is_ssh": True, "client_addr": "198.51.100.7", "server_port": "22"}


def plan(connection=None, bulwark_ssh_port=22, bulwark_services=None, **settings):
    """The role's plan for its defaults with *settings* over them, on a host declared as given
    (reached over *connection*, by default a docker connection)."""
    values = dict(role_defaults("ufw"), **settings)
    values["bulwark_host"] = host(
        DOCKER if connection is None else connection,
        bulwark_ssh_port=bulwark_ssh_port,
        bulwark_services=bulwark_services or {},
        ufw_rules=values["ufw_rules"] if isinstance(values["ufw_rules"], list) else [],
    )
    return role_plan(values)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"ufw_ssh_from": "10.0.0.1"}, "ufw_ssh_from must be a list, got the string '10.0.0.1'"),
        ({"ufw_rules": "allow 80"}, "ufw_rules must be a list"),
        ({"ufw_keep_comments": "^by Fail2Ban "}, "ufw_keep_comments must be a list"),
        ({"ufw_rules": [{"rule": "allow", "port": 80}, "allow 443"]}, "ufw_rules[1] must be a mapping"),
        (
            {"ufw_rules": [{"rule": "allow", "port": 80}, {"rule": "allow", "port": "http"}]},
            "ufw_rules[1]: invalid port 'http'",
        ),
        ({"ufw_rules": [{"rule": "allow", "port": 22, "proto": "tcp"}]}, "ufw_rules[0] opens the SSH port 22"),
        ({"ufw_rules": [{"rule": "allow"}]}, "ufw_rules[0] allows all incoming traffic"),
        ({"ufw_rules": [{"rule": "allow", "from": "0.0.0.0/0"}]}, "ufw_rules[0] allows all incoming traffic"),
        ({"ufw_logging": True}, "ufw_logging is the boolean true"),
        ({"ufw_logging": "loud"}, "ufw_logging must be one of off, low, medium, high, full, got 'loud'"),
        ({"ufw_default_incoming": False}, "ufw_default_incoming is the boolean false"),
        ({"ufw_default_routed": "drop"}, "ufw_default_routed must be one of allow, deny, reject, got 'drop'"),
        ({"ufw_ssh_rule": "deny"}, "ufw_ssh_rule must be one of limit, allow, got 'deny'"),
        ({"ufw_ssh_from": ["example.org"]}, "ufw_ssh_from[0]: invalid address 'example.org'"),
        ({"ufw_ssh_from": ["2001:db8::/32"], "ufw_ipv6": False}, "ufw_ssh_from[0] '2001:db8::/32' is an IPv6 source"),
        ({"ufw_keep_comments": ["("]}, "ufw_keep_comments[0] '(' is not a regular expression"),
        ({"ufw_guard_connection": {"port": 22}}, "ufw_guard_connection needs port and source"),
        ({"ufw_guard_connection": {"port": 22, "source": "bastion"}}, "ufw_guard_connection: guard source 'bastion'"),
        (
            {"connection": dict(SESSION, client_addr="")},
            "ufw_lockout_guard: Ansible connects over SSH but the session's client address is unknown",
        ),
    ],
)
def test_plan_refuses_by_name(settings, message):
    errors = plan(**settings)["errors"]
    assert any(message in e for e in errors), errors


def test_plan_reports_each_broken_rule_once():
    errors = plan(ufw_ssh_rule="deny", ufw_logging="loud", ufw_default_outgoing="drop")["errors"]
    assert len(errors) == 3
    assert [e.split(" ")[0] for e in errors] == ["ufw_ssh_rule", "ufw_logging", "ufw_default_outgoing"]


def test_plan_yaml_off_is_the_string_off():
    result = plan(ufw_logging=False)
    assert result["errors"] == []
    assert result["logging"] == "off"


def test_plan_defaults():
    result = plan()
    assert result["errors"] == []
    assert result["defaults"] == {"incoming": "deny", "outgoing": "allow", "routed": "deny"}
    assert result["logging"] == "low"
    assert result["ssh_port"] == 22
    assert result["guard"] == {} and result["guard_active"] is False
    assert "skipped" in result["note"] and "'docker'" in result["note"]
    assert result["exempt"] is None
    assert result["rules"] == [{"rule": "limit", "port": "22", "proto": "tcp", "from": "any", "comment": "ssh"}]


EXEMPT = {
    "rule": "allow",
    "port": "22",
    "proto": "tcp",
    "comment": "ssh from the Ansible controller (not rate-limited)",
}


def test_plan_exempts_the_ssh_session_from_the_limit():
    result = plan(connection=SESSION, ufw_rules=[{"rule": "allow", "port": 80, "proto": "tcp"}])
    assert result["errors"] == []
    assert result["guard"] == {"port": "22", "source": "198.51.100.7"} and result["guard_active"] is True
    assert result["exempt"] == "198.51.100.7"
    assert result["rules"] == [
        dict(EXEMPT, **{"from": "198.51.100.7"}),
        {"rule": "limit", "port": "22", "proto": "tcp", "from": "any", "comment": "ssh"},
        {"rule": "allow", "port": 80, "proto": "tcp"},
    ]


def test_plan_exempts_the_declared_guard_connection():
    result = plan(ufw_guard_connection={"port": 22, "source": "::ffff:192.0.2.10"}, bulwark_ssh_port=2222)
    assert result["exempt"] == "192.0.2.10"
    assert result["rules"][0] == dict(EXEMPT, port="2222", **{"from": "192.0.2.10"})
    assert result["rules"][1]["rule"] == "limit"


@pytest.mark.parametrize(
    "settings",
    [
        {"ufw_ssh_limit_exempt": False},
        {"ufw_ssh_rule": "allow"},
        {"ufw_ssh_from": ["203.0.113.0/24"]},
        {"ufw_lockout_guard": False, "connection": DOCKER},
        {"connection": dict(SESSION, client_addr="2001:db8::7"), "ufw_ipv6": False},
    ],
)
def test_plan_no_exemption(settings):
    settings.setdefault("connection", SESSION)
    result = plan(**settings)
    assert result["exempt"] is None
    assert all(r.get("comment") != EXEMPT["comment"] for r in result["rules"])


def test_plan_exemption_replaces_the_limit_for_that_very_source():
    result = plan(connection=SESSION, ufw_ssh_from=["198.51.100.7", "203.0.113.0/24"])
    assert [(r["rule"], r["from"]) for r in result["rules"]] == [
        ("allow", "198.51.100.7"),
        ("limit", "203.0.113.0/24"),
    ]
    # And the module accepts the list: no two rules ufw would merge.
    normalise_rules(result["rules"])


def test_plan_guard_off_still_exempts_the_session():
    result = plan(connection=SESSION, ufw_lockout_guard=False)
    assert result["guard_active"] is False
    assert result["exempt"] == "198.51.100.7"
    assert "off" in result["note"]


def test_declared_public_services_are_allowed_after_ssh_and_before_ufw_rules():
    result = plan(
        bulwark_services={
            "http": {"ports": [80, 443], "unit": "apache2"},
            "dns": {"ports": [53], "proto": "udp"},
            "db": {"ports": [5432], "public": False},
            "ssh": {"ports": [22]},
        },
        ufw_rules=[{"rule": "allow", "port": "443", "proto": "tcp", "from": "10.0.0.0/8"}],
    )
    assert result["errors"] == []
    described = [(r["rule"], r["port"], r.get("proto"), r.get("comment")) for r in result["rules"]]
    assert described == [
        ("limit", "22", "tcp", "ssh"),
        ("allow", "80", "tcp", "service http"),
        ("allow", "53", "udp", "service dns"),
        ("allow", "443", "tcp", None),
    ]


def test_plan_guards_the_session_in_use_and_the_declared_bastion_too():
    """A declared connection is guarded in addition to the session, never instead of it (issue 19)."""
    result = plan(connection=SESSION, ufw_guard_connection={"port": 22, "source": "203.0.113.9"})
    assert result["errors"] == []
    assert result["guards"] == [{"port": "22", "source": "198.51.100.7"}, {"port": 22, "source": "203.0.113.9"}]
    assert "198.51.100.7" in result["note"] and "203.0.113.9" in result["note"]
    # The session is the one exempted from the rate limit (it is this run's connection).
    assert result["exempt"] == "198.51.100.7"
    # Rules that keep the bastion but not the controller are refused for the controller.
    rules = normalise_rules([{"rule": "allow", "port": "22", "proto": "tcp", "from": "203.0.113.9"}])
    verdicts = [check_guard(rules, "deny", guard)[0] for guard in result["guards"]]
    assert verdicts == [False, True]


# --------------------------------------------------------------------------- #
# The listener guard and a moving SSH port
# --------------------------------------------------------------------------- #
def listener(port, address="0.0.0.0", proto="tcp", **extra):
    family = "ipv6" if ":" in address else "ipv4"
    item = {"port": port, "address": address, "proto": proto, "family": family, "loopback": False}
    item.update(wildcard=address in ("0.0.0.0", "::"), serves_ipv4=family == "ipv4" or address == "::")
    item.update(extra)
    return item


WEB = listener(80, "::", process="apache2", unit="apache2.service")
QUICK_START = normalise_rules(
    [{"rule": "limit", "port": "22", "proto": "tcp"}, {"rule": "allow", "port": "443", "proto": "tcp"}]
)


def test_closing_an_undeclared_public_listener_is_found():
    closing = closed_listeners([WEB], {"22/tcp"}, ([], "deny", False), (QUICK_START, "deny"))
    assert [(c["port"], c["proto"], c["listeners"]) for c in closing] == [(80, "tcp", [WEB])]


@pytest.mark.parametrize(
    "listeners, declared, before, after",
    [
        # Declared (a service, a rule of ufw_rules, or closed on purpose).
        ([WEB], {"80/tcp"}, ([], "deny", False), (QUICK_START, "deny")),
        # Loopback only: nobody outside reaches it anyway.
        ([listener(80, "127.0.0.1", loopback=True)], set(), ([], "deny", False), (QUICK_START, "deny")),
        # Already closed by the active firewall: the listener audit reports it, not this guard.
        ([WEB], set(), (QUICK_START, "deny", True), (QUICK_START, "deny")),
        # The new rules let it in.
        ([WEB], set(), ([], "deny", False), (normalise_rules([{"rule": "allow", "port": "80"}]), "deny")),
        ([WEB], set(), ([], "deny", False), ([], "allow")),
        # A DHCP client (ufw's before.rules let its server's replies in): seen on a VM with systemd-networkd.
        (
            [listener(68, "10.0.2.15", "udp", process="systemd-networkd", dhcp_client=True)],
            set(),
            ([], "deny", False),
            (QUICK_START, "deny"),
        ),
    ],
)
def test_a_listener_that_stays_reachable_or_was_declared_is_not_found(listeners, declared, before, after):
    assert closed_listeners(listeners, declared, before, after) == []


def test_a_listener_on_one_address_is_probed_there():
    only_lan = normalise_rules([{"rule": "allow", "port": "8080", "proto": "tcp", "to": "192.0.2.10"}])
    reachable = listener(8080, "192.0.2.10")
    elsewhere = listener(8080, "192.0.2.99")
    assert closed_listeners([reachable], set(), ([], "deny", False), (only_lan, "deny")) == []
    assert closed_listeners([elsewhere], set(), ([], "deny", False), (only_lan, "deny"))[0]["port"] == 8080


def test_the_session_guard_follows_sshd_once_it_left_the_old_port():
    guards = [{"port": "22", "source": "198.51.100.7", "moved_to": 2222}, {"port": 22, "source": "203.0.113.9"}]
    still_there = follow_moved(guards, [listener(22), listener(2222)])
    assert still_there == [{"port": "22", "source": "198.51.100.7"}, {"port": 22, "source": "203.0.113.9"}]
    moved = follow_moved(guards, [listener(2222), listener(22, "127.0.0.1", loopback=True)])
    assert moved[0] == {"port": 2222, "source": "198.51.100.7"}
    assert moved[1] == {"port": 22, "source": "203.0.113.9"}
    assert listening_on([listener(22)], "22") and not listening_on([listener(22)], 22, "udp")


def test_a_port_move_keeps_the_sessions_port_while_sshd_listens_there():
    moving = plan(connection=SESSION, bulwark_ssh_port=2222)
    assert moving["errors"] == []
    assert [(r["rule"], r["port"]) for r in moving["rules"]] == [("allow", "2222"), ("limit", "2222")]
    assert [(r["rule"], r["port"]) for r in moving["listening_rules"]] == [("allow", "22"), ("limit", "22")]
    assert moving["guards"][0] == {"port": "22", "source": "198.51.100.7", "moved_to": 2222}
    # Once the session is on the new port (the confirmation moved it), nothing is kept for the old one.
    moved = plan(connection=dict(SESSION, server_port="2222"), bulwark_ssh_port=2222)
    assert moved["listening_rules"] == [] and "moved_to" not in moved["guards"][0]


def test_the_plan_hands_the_host_models_declared_ports_to_the_listener_guard():
    result = plan(bulwark_services={"http": {"ports": [80], "unit": "apache2"}})
    assert result["declared"] == ["22/tcp", "80/tcp"]


# --------------------------------------------------------------------------- #
# Rules exclusive removes: named, and the ways out
# --------------------------------------------------------------------------- #
# What `ufw allow 8080/tcp` (a user's own task) writes.
MINE_V4 = "### tuple ### allow tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in"
MINE_V6 = "### tuple ### allow tcp 8080 ::/0 any ::/0 in"
MINE_COMMAND = "ufw allow in proto tcp from any to any port 8080"


def one_run(desired, current, exclusive=True, keep=()):
    """What one run of the module decides: (removals it names, rules after it)."""
    _foreign, managed = split_foreign(current, keep, desired)
    to_delete, to_add = compute_diff(desired, managed, exclusive=exclusive)
    return undeclared_removals(to_delete, desired), apply_diff(current, to_delete, to_add), to_delete + to_add


def test_a_users_own_rule_is_undone_on_every_run_and_named_each_time():
    """The ping-pong: a user's task adds 8080/tcp, our run removes it, the user's task adds it
    again. Each of our runs changes both families, and each names the rule it removes."""
    desired = declared(SSH)
    state = parsed([SSH_LIMIT_V4], [SSH_LIMIT_V6])
    for _run in range(2):
        state = state[:1] + parsed([MINE_V4])[:1] + state[1:] + parsed((), [MINE_V6])  # the user's task
        removals, state, changes = one_run(desired, state)
        assert len(changes) == 2
        assert removals == [{"rule": MINE_COMMAND, "replaced_by": None}]
        assert state == desired
    warning = removal_warning(removals[0])
    assert f"`{MINE_COMMAND}` is not declared" in warning
    for way_out in ("ufw_rules or bulwark_services", "ufw_keep_comments", "ufw_exclusive: false"):
        assert way_out in warning


@pytest.mark.parametrize(
    "way_out",
    [
        {"desired": declared(SSH, {"rule": "allow", "port": 8080, "proto": "tcp"})},
        {"exclusive": False},
        {"keep": ["^mine$"], "comment": "mine"},
    ],
    ids=["declared", "not-exclusive", "kept-by-comment"],
)
def test_each_way_out_ends_the_ping_pong(way_out):
    comment = f" comment={hex_encode(way_out['comment'])}" if "comment" in way_out else ""
    desired = way_out.get("desired", declared(SSH))
    state = parsed([SSH_LIMIT_V4, MINE_V4 + comment], [SSH_LIMIT_V6, MINE_V6 + comment])
    removals, after, changes = one_run(desired, state, way_out.get("exclusive", True), way_out.get("keep", ()))
    assert (removals, changes, after) == ([], [], state)


def test_removals_name_rules_as_typed_not_the_reordered_ones():
    # The declared 443 comes first: 80 is deleted and appended again, which is no removal.
    desired = declared(HTTPS, HTTP)
    current = parsed(
        [HTTP_V4, "### tuple ### allow tcp 3306 0.0.0.0/0 any 10.0.0.0/8 in comment=646220c3bc626572"],
        [HTTP_V6, DENY_NET_V6],
    )
    to_delete, _to_add = compute_diff(desired, current)
    assert len(to_delete) == 4
    assert undeclared_removals(to_delete, desired) == [
        {"rule": "ufw allow in proto tcp from 10.0.0.0/8 to any port 3306 comment 'db über'", "replaced_by": None},
        {"rule": "ufw deny in from 2001:db8::/32 to any", "replaced_by": None},
    ]


def test_a_rule_a_declared_one_replaces_is_named_with_its_replacement():
    desired = declared(SSH)
    current = parsed(
        ["### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in"], ["### tuple ### allow tcp 22 ::/0 any ::/0 in"]
    )
    to_delete, _to_add = compute_diff(desired, current, exclusive=False)
    removals = undeclared_removals(to_delete, desired)
    assert removals == [
        {"rule": "ufw allow in proto tcp from any to any port 22", "replaced_by": "limit 22/tcp from any # ssh"}
    ]
    assert "is replaced by the declared rule 'limit 22/tcp from any # ssh'" in removal_warning(removals[0])


# The shapes users write in ufw_rules, with the tuples ufw 0.36 writes for them.
@pytest.mark.parametrize(
    "rule, v4, v6",
    [
        (
            {"rule": "allow", "port": "8000:8010", "proto": "tcp"},
            ["### tuple ### allow tcp 8000:8010 0.0.0.0/0 any 0.0.0.0/0 in"],
            ["### tuple ### allow tcp 8000:8010 ::/0 any ::/0 in"],
        ),
        (
            {"rule": "allow", "port": 5432, "proto": "tcp", "from": "10.0.0.0/8", "comment": "db"},
            ["### tuple ### allow tcp 5432 0.0.0.0/0 any 10.0.0.0/8 in comment=6462"],
            [],
        ),
        (
            {"rule": "allow", "port": 443, "proto": "tcp", "to": "192.0.2.10"},
            ["### tuple ### allow tcp 443 192.0.2.10 any 0.0.0.0/0 in"],
            [],
        ),
        (
            {"rule": "allow", "port": 9100, "proto": "tcp", "from": "2001:db8::/32", "comment": "node exporter"},
            [],
            ["### tuple ### allow tcp 9100 ::/0 any 2001:db8::/32 in comment=6e6f6465206578706f72746572"],
        ),
        (
            {"rule": "allow", "app": "Apache Full"},
            [
                "### tuple ### allow tcp 80,443 0.0.0.0/0 any 0.0.0.0/0 Apache%20Full - in",
            ],
            ["### tuple ### allow tcp 80,443 ::/0 any ::/0 Apache%20Full - in"],
        ),
        (
            {"rule": "allow", "port": "9000"},
            ["### tuple ### allow any 9000 0.0.0.0/0 any 0.0.0.0/0 in"],
            ["### tuple ### allow any 9000 ::/0 any ::/0 in"],
        ),
        (
            {"rule": "deny", "port": 23, "proto": "tcp", "comment": "no telnet"},
            ["### tuple ### deny tcp 23 0.0.0.0/0 any 0.0.0.0/0 in comment=6e6f2074656c6e6574"],
            ["### tuple ### deny tcp 23 ::/0 any ::/0 in comment=6e6f2074656c6e6574"],
        ),
    ],
    ids=["range", "from-net-comment", "to-address", "ipv6-source", "app-profile", "proto-any", "deny-comment"],
)
def test_a_rule_declared_in_ufw_rules_is_stable(rule, v4, v6):
    """Declared through the role (its plan, then the module's normalisation), the rule compares
    equal to what ufw wrote for it: the next run changes nothing and removes nothing."""
    result = plan(ufw_rules=[rule])
    assert result["errors"] == []
    desired = normalise_rules(result["rules"], label="ufw_rules")
    current = parsed([SSH_LIMIT_V4, *v4], [SSH_LIMIT_V6, *v6])
    removals, after, changes = one_run(desired, current)
    assert (removals, changes, after) == ([], [], current)


def test_a_service_declared_in_bulwark_services_is_stable():
    result = plan(
        bulwark_services={
            "http": {"ports": [80, 443], "unit": "apache2.service"},
            "dns": {"ports": [53], "proto": "udp"},
        }
    )
    assert result["errors"] == []
    desired = normalise_rules(result["rules"], label="ufw_rules")
    http, dns = hex_encode("service http"), hex_encode("service dns")
    v4 = [
        SSH_LIMIT_V4,
        f"### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in comment={http}",
        f"### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in comment={http}",
        f"### tuple ### allow udp 53 0.0.0.0/0 any 0.0.0.0/0 in comment={dns}",
    ]
    current = parsed(v4, [line.replace("0.0.0.0/0", "::/0") for line in v4])
    removals, after, changes = one_run(desired, current)
    assert (removals, changes, after) == ([], [], current)


STOCK_BEFORE = """*filter
:ufw-before-input - [0:0]
-A ufw-before-input -i lo -j ACCEPT
-A ufw-before-input -m conntrack --ctstate INVALID -j DROP
-A ufw-before-input -p icmp --icmp-type echo-request -j ACCEPT
-A ufw-before-output -o lo -j ACCEPT
# End required lines
COMMIT
"""


@pytest.mark.parametrize(
    "added, found",
    [
        ("", []),
        # An open port ahead of the declared rules; everything open; a routed port.
        ("-A ufw-before-input -p tcp --dport 8081 -j ACCEPT", ["-A ufw-before-input -p tcp --dport 8081 -j ACCEPT"]),
        ("-A ufw-before-input -j ACCEPT", ["-A ufw-before-input -j ACCEPT"]),
        ("-A ufw6-after-forward -p tcp --dport 25 -j ACCEPT", ["-A ufw6-after-forward -p tcp --dport 25 -j ACCEPT"]),
        # The package's own rule written twice accepts one more copy of it; a second copy still counts.
        ("-A ufw-before-input -i lo -j ACCEPT", ["-A ufw-before-input -i lo -j ACCEPT"]),
        # Dropping, or accepting outgoing traffic, opens no port.
        ("-A ufw-before-input -s 192.0.2.1 -j DROP", []),
        ("-A ufw-before-output -p tcp --dport 25 -j ACCEPT", []),
    ],
)
def test_framework_accepts(added, found):
    text = STOCK_BEFORE.replace("# End required lines", f"{added}\n# End required lines") if added else STOCK_BEFORE
    result = framework_accepts(STOCK_BEFORE, text)
    assert [line for _number, line in result] == found
    assert all(number == 7 for number, _line in result)


def test_framework_accepts_reads_rules_by_meaning():
    """The package's rules, spelt as iptables prints them, are the package's rules."""
    printed = STOCK_BEFORE.replace("--icmp-type echo-request", "-m icmp --icmp-type 8").replace(
        "-i lo", "-i lo -m comment --comment x"
    )
    assert framework_accepts(STOCK_BEFORE, printed) == []
    assert framework_accepts(STOCK_BEFORE, None) == []

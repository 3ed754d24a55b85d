# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _loaded

LOAD = {"id": "boot:5000000", "at": 1000.0}


def stamp(load_id="boot:5000000", **files):
    return {"load": load_id, "at": 1000.0, "files": {f"/etc/{name}": digest for name, digest in files.items()}}


def on_disk(**files):
    """path -> (sha256, ctime) from name=(digest, ctime)."""
    return {f"/etc/{name}": value for name, value in files.items()}


@pytest.mark.parametrize(
    "the_stamp, files, expected",
    [
        # Same load, same content: current, however new the ctime (chattr +i after the reload).
        (stamp(a="h1"), on_disk(a=("h1", 2000.0)), []),
        # Same load, other content (mtime put back or not: never read): stale.
        (stamp(a="h1"), on_disk(a=("h2", 500.0)), ["/etc/a differs from what the daemon loaded"]),
        # The daemon reloaded since the stamp (a reboot, a reload by hand): ctimes decide.
        (stamp("boot:1", a="h1"), on_disk(a=("h2", 900.0)), []),
        (stamp("boot:1", a="h1"), on_disk(a=("h1", 1000.5)), ["/etc/a changed after the daemon last (re)loaded"]),
        # No stamp (first run with this version): ctimes decide.
        (None, on_disk(a=("h1", 999.0), b=("h2", 1001.0)), ["/etc/b changed after the daemon last (re)loaded"]),
        # A file the stamp does not know: its ctime decides; a missing file is never stale.
        (
            stamp(a="h1"),
            on_disk(a=("h1", 1.0), b=("h2", 1001.0), c=(None, None)),
            ["/etc/b changed after the daemon last (re)loaded"],
        ),
        # A file that disappeared since the load is content that changed.
        (stamp(a="h1"), on_disk(a=(None, None)), ["/etc/a differs from what the daemon loaded"]),
    ],
)
def test_decide(the_stamp, files, expected):
    assert _loaded.decide(the_stamp, LOAD, files) == expected


def test_a_stopped_daemon_is_never_stale():
    assert _loaded.decide(stamp(a="h1"), None, on_disk(a=("h2", 2000.0))) == []


def test_restamp_keeps_what_was_loaded_and_leaves_out_later_changes():
    files = on_disk(a=("h-new", 2000.0), b=("hb", 900.0), c=("hc", 1500.0), d=(None, None))
    # Same load: a keeps the loaded content; b is older than the load; c changed after it.
    assert _loaded.restamp(stamp(a="h-old"), LOAD, files) == {
        "load": "boot:5000000",
        "at": 1000.0,
        "files": {"/etc/a": "h-old", "/etc/b": "hb", "/etc/d": None},
    }
    # Another load: nothing the old stamp says is kept.
    assert _loaded.restamp(stamp("boot:1", a="h-old"), LOAD, files)["files"] == {"/etc/b": "hb", "/etc/d": None}


@pytest.mark.parametrize(
    "show, expected",
    [
        ({"ActiveState": "active", "StateChangeTimestampMonotonic": "5000000"}, {"id": "b:5000000", "at": 905.0}),
        ({"ActiveState": "reloading", "StateChangeTimestampMonotonic": "5000000"}, None),
        ({"ActiveState": "active", "StateChangeTimestampMonotonic": "0"}, None),
        ({"ActiveState": "active", "StateChangeTimestampMonotonic": "x"}, None),
        ({}, None),
    ],
)
def test_current_load(show, expected):
    assert _loaded.current_load(show, "b", 1000.0, 100.0) == expected


def test_parse_show():
    assert _loaded.parse_show("ActiveState=active\nUnitFileState=enabled\nnoise\n") == {
        "ActiveState": "active",
        "UnitFileState": "enabled",
    }


def test_fingerprint_ignores_mtime_and_follows_links(tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text("ServerTokens Prod\n")
    digest, ctime = _loaded.fingerprint(str(conf))
    os.utime(conf, (1.0, 1.0))
    again, ctime_after_utime = _loaded.fingerprint(str(conf))
    assert again == digest
    # utime itself moves the ctime: what touch -r cannot hide.
    assert ctime_after_utime >= ctime
    link = tmp_path / "enabled.conf"
    link.symlink_to(conf)
    assert _loaded.fingerprint(str(link))[0] == digest
    conf.write_text("ServerTokens Full\n")
    assert _loaded.fingerprint(str(link))[0] != digest
    assert _loaded.fingerprint(str(tmp_path / "missing")) == (None, None)


def test_fingerprint_of_a_directory_is_its_listing(tmp_path):
    (tmp_path / "a").write_text("x")
    before = _loaded.fingerprint(str(tmp_path))[0]
    (tmp_path / "a").write_text("y")
    assert _loaded.fingerprint(str(tmp_path))[0] == before
    (tmp_path / "b").write_text("x")
    assert _loaded.fingerprint(str(tmp_path))[0] != before


def test_expand_keeps_literal_paths_and_sorts_globs(tmp_path):
    for name in ("b.conf", "a.conf", "c.txt"):
        (tmp_path / name).write_text("")
    literal = str(tmp_path / "missing.conf")
    assert _loaded.expand([literal, str(tmp_path / "*.conf"), str(tmp_path / "a.conf")]) == [
        literal,
        str(tmp_path / "a.conf"),
        str(tmp_path / "b.conf"),
    ]


@pytest.mark.parametrize(
    "unit, name", [("ssh", "ssh.json"), ("ssh.service", "ssh.json"), ("php8.2-fpm", "php8.2-fpm.json")]
)
def test_stamp_path(unit, name):
    assert _loaded.stamp_path(unit, "/d") == f"/d/{name}"


@pytest.mark.parametrize("unit", ["", "../x", ".service", "a/b"])
def test_stamp_path_refuses_a_unit_that_names_no_file(unit):
    with pytest.raises(ValueError, match="cannot name a stamp file"):
        _loaded.stamp_path(unit, "/d")


def test_stamp_round_trip_and_bad_stamps(tmp_path):
    path = str(tmp_path / "stamps" / "ssh.json")
    assert _loaded.read_stamp(path) is None
    _loaded.write_stamp(path, stamp(a="h1"))
    assert _loaded.read_stamp(path) == stamp(a="h1")
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("[1]")
    assert _loaded.read_stamp(path) is None


# ------------------------------------------------------------------ ufw
DEFAULTS = 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="DROP"\n'
USER_RULES = """*filter
:ufw-user-input - [0:0]
### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set
-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept
-A ufw-user-input -p tcp --dport 80 -s 10.0.0.1 -j ACCEPT
-A ufw-user-limit -j REJECT
COMMIT
"""
LIVE = """-P INPUT DROP
-P FORWARD DROP
-P OUTPUT ACCEPT
-N ufw-user-input
-A ufw-user-input -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name DEFAULT \
--mask 255.255.255.255 --rsource
-A ufw-user-input -p tcp -m tcp --dport 22 -j ufw-user-limit-accept
-A ufw-user-input -s 10.0.0.1/32 -p tcp -m tcp --dport 80 -j ACCEPT
-A ufw-user-limit -j REJECT --reject-with icmp-port-unreachable
"""
USER6_RULES = "*filter\n-A ufw6-user-input -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
LIVE6 = "-P INPUT DROP\n-N ufw6-user-input\n-A ufw6-user-input -p tcp -m tcp --dport 22 -j ACCEPT\n"


def test_ufw_live_rules_as_iptables_prints_them_match_the_files():
    assert _loaded.ufw_differences(DEFAULTS, USER_RULES, LIVE, USER6_RULES, LIVE6) == []


@pytest.mark.parametrize(
    "changed, expected",
    [
        # A rule allowed live that the files no longer hold (the weaker rule set still loaded).
        (
            {"live": LIVE + "-A ufw-user-input -p tcp -m tcp --dport 9090 -j ACCEPT\n"},
            ["the live ufw-user-input chain differs from user.rules (4 rules live, 3 in user.rules)"],
        ),
        # Another source address: the same count, another meaning.
        (
            {"live": LIVE.replace("-s 10.0.0.1/32", "-s 10.0.0.2/32")},
            ["the live ufw-user-input chain differs from user.rules (3 rules live, 3 in user.rules)"],
        ),
        # /etc/default/ufw written, not reloaded.
        (
            {"live": LIVE.replace("-P INPUT DROP", "-P INPUT ACCEPT")},
            ["DEFAULT_INPUT_POLICY=DROP in /etc/default/ufw, but the live INPUT policy is ACCEPT"],
        ),
        (
            {"defaults": DEFAULTS.replace("IPV6=yes", "IPV6=no")},
            ["IPV6=no in /etc/default/ufw, but ufw's IPv6 chains are loaded"],
        ),
        (
            {"rules6": USER6_RULES + "-A ufw6-user-input -p udp --dport 53 -j ACCEPT\n"},
            ["the live ufw6-user-input chain differs from user6.rules (1 rules live, 2 in user6.rules)"],
        ),
        # ufw not active: nothing is live, enabling it is ufw_rules' business.
        ({"live": "-P INPUT ACCEPT\n", "live6": ""}, []),
    ],
)
def test_ufw_differences(changed, expected):
    texts = {"defaults": DEFAULTS, "rules": USER_RULES, "live": LIVE, "rules6": USER6_RULES, "live6": LIVE6, **changed}
    assert _loaded.ufw_differences(**{f"{key}_text": value for key, value in texts.items()}) == expected


# ufw's framework files as the package writes them (an excerpt) and as iptables prints their chains, with
# the jump ufw appends to its user chain.
BEFORE_RULES = """*filter
:ufw-before-input - [0:0]
-A ufw-before-input -i lo -j ACCEPT
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-input -p icmp --icmp-type echo-request -j ACCEPT
# End required lines
COMMIT
"""
LIVE_BEFORE = """-N ufw-before-input
-A ufw-before-input -i lo -j ACCEPT
-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ufw-before-input -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A ufw-before-input -j ufw-user-input
"""
BEFORE6_RULES = "*filter\n-A ufw6-before-input -p icmpv6 --icmpv6-type echo-request -j ACCEPT\nCOMMIT\n"
LIVE6_BEFORE = (
    "-A ufw6-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT\n-A ufw6-before-input -j ufw6-user-input\n"
)
FRAMEWORK = {"before.rules": BEFORE_RULES, "after.rules": None, "before6.rules": BEFORE6_RULES, "after6.rules": ""}
ACCEPT_8081 = "-A INPUT -p tcp -m tcp --dport 8081 -j ACCEPT"


def framework_differences(live_extra="", live6_extra="", framework=None):
    return _loaded.ufw_differences(
        DEFAULTS,
        USER_RULES,
        LIVE + LIVE_BEFORE + live_extra,
        USER6_RULES,
        LIVE6 + LIVE6_BEFORE + live6_extra,
        framework=framework or FRAMEWORK,
    )


def test_ufw_framework_chains_as_iptables_prints_them_match_their_files():
    # ufw's own jump to its user chain is no difference; icmpv6 is ipv6-icmp.
    assert framework_differences() == []


@pytest.mark.parametrize(
    "change, expected",
    [
        # before.rules edited, not reloaded: the kernel still has the old chain.
        (
            {
                "framework": dict(
                    FRAMEWORK,
                    **{
                        "before.rules": BEFORE_RULES.replace(
                            "# End", "-A ufw-before-input -p tcp --dport 8081 -j ACCEPT\n# End"
                        )
                    },
                )
            },
            ["the live ufw-before-input chain differs from /etc/ufw/before.rules (3 rules live, 4 in before.rules)"],
        ),
        # A rule inserted by hand into ufw's before chain.
        (
            {"live6_extra": "-A ufw6-before-input -p tcp -m tcp --dport 8081 -j ACCEPT\n"},
            ["the live ufw6-before-input chain differs from /etc/ufw/before6.rules (2 rules live, 1 in before6.rules)"],
        ),
        # An ACCEPT inserted by hand into INPUT, ahead of ufw's jumps: a reload leaves it.
        (
            {"live_extra": ACCEPT_8081 + "\n"},
            [f"the live INPUT chain accepts traffic by a rule ufw did not make (iptables: {ACCEPT_8081})"],
        ),
        (
            {"live6_extra": ACCEPT_8081 + "\n"},
            [f"the live INPUT chain accepts traffic by a rule ufw did not make (ip6tables: {ACCEPT_8081})"],
        ),
    ],
)
def test_ufw_framework_and_hand_made_differences(change, expected):
    assert framework_differences(**change) == expected


def test_ufw_foreign_rules_are_only_accepts_ufw_did_not_make():
    live = (
        "-P INPUT DROP\n-A INPUT -j ufw-before-logging-input\n-A INPUT -j ufw-before-input\n"
        "-A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd\n" + ACCEPT_8081 + "\n"
        "-A ufw-before-input -i lo -j ACCEPT\n-A INPUT -s 192.0.2.1/32 -j DROP\n"
    )
    assert _loaded.ufw_foreign_rules(live) == [ACCEPT_8081]
    assert _loaded.ufw_foreign_rules("") == []

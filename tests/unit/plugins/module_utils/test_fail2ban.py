# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._fail2ban import (
    declared_action,
    files_after,
    find_default_overrides,
    find_overrides,
    find_setting_overrides,
    jail_mismatch,
    option_text,
    parse_jail_list,
    remove_options,
    role_plan,
    runtime_differences,
    runtime_queries,
    time_seconds,
)
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import host, role_defaults

SESSION = {"type": "ssh", "is_ssh": True, "client_addr": "198.51.100.7", "server_port": "22"}


@pytest.mark.parametrize(
    "value, seconds",
    [
        (600, 600),
        ("600", 600),
        ("10m", 600),
        ("1h30m", 5400),
        ("1d", 86400),
        ("1w", 604800),
        ("1mo", 2592000),
        ("-1", -1),
        (-1, -1),
    ],
)
def test_time_seconds(value, seconds):
    assert time_seconds(value) == seconds


@pytest.mark.parametrize("value", ["abc", "-5", "10 m", "1h-1", "", True, "1x", "-1m"])
def test_time_seconds_refuses(value):
    with pytest.raises(ValueError, match=r"not a fail2ban time|boolean"):
        time_seconds(value)


@pytest.mark.parametrize(
    "value, text", [(True, "true"), (False, "false"), (3, "3"), ("x", "x"), (["a", 1], ["a", "1"]), (None, "")]
)
def test_option_text(value, text):
    assert option_text(value) == text


def plan(connection=None, bulwark_ssh_port=22, bulwark_services=None, **settings):
    """The role's plan for *settings* (``have``: fail2ban installed), on a host declared as given."""
    settings = {
        "have": ["fail2ban-client"],
        "ufw_managed": False,
        "ufw_active": False,
        "check_mode": False,
        **role_defaults("fail2ban"),
        **settings,
    }
    settings["bulwark_host"] = host(
        connection, bulwark_ssh_port=bulwark_ssh_port, bulwark_services=bulwark_services or {}
    )
    return role_plan(settings)


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"fail2ban_ignore_networks": "10.0.0.0/8"},
            "fail2ban_ignore_networks must be a list, got the string '10.0.0.0/8'",
        ),
        ({"fail2ban_jails": ["sshd"]}, "fail2ban_jails must be a mapping"),
        ({"fail2ban_ignore_networks": ["10.0.0.1 10.0.0.2"]}, "fail2ban_ignore_networks[0] must hold one address"),
        ({"fail2ban_ignore_networks": ["0.0.0.0/0"]}, "fail2ban_ignore_networks[0] '0.0.0.0/0' covers every address"),
        ({"fail2ban_ignore_networks": ["::/0"]}, "covers every address"),
        ({"fail2ban_bantime": "abc"}, "fail2ban_bantime: 'abc' is not a fail2ban time"),
        ({"fail2ban_findtime": "-5"}, "fail2ban_findtime: '-5' is not a fail2ban time"),
        ({"fail2ban_findtime": "-1"}, "fail2ban_findtime: -1 (forever) only makes sense for a ban time"),
        ({"fail2ban_findtime": 0}, "fail2ban_findtime must be longer than 0 seconds, got 0"),
        ({"fail2ban_dbpurgeage": "30 days"}, "fail2ban_dbpurgeage: '30 days' is not"),
        ({"fail2ban_maxretry": 0}, "fail2ban_maxretry must be an integer >= 1, got 0"),
        ({"fail2ban_maxretry": "many"}, "fail2ban_maxretry must be an integer >= 1, got 'many'"),
        ({"fail2ban_bantime_factor": -1}, "fail2ban_bantime_factor must be a number > 0, got -1"),
        (
            {"fail2ban_bantime": "5w", "fail2ban_bantime_maxtime": "4w"},
            "fail2ban_bantime ('5w', 3024000 s) must not exceed fail2ban_bantime_maxtime ('4w', 2419200 s)",
        ),
        ({"fail2ban_loglevel": False}, "fail2ban_loglevel must be one of NOTICE, INFO, DEBUG, got False"),
        ({"fail2ban_jails": {"ssh d": {}}}, "jail name 'ssh d'"),
        ({"fail2ban_jails": {"sshd": "off"}}, "fail2ban_jails.sshd must be a mapping of jail options, got 'off'"),
        (
            {"fail2ban_jails": {"sshd": {"port": "ssh\nignoreip = 0.0.0.0/0 ::/0"}}},
            "fail2ban_jails.sshd.port contains a control character",
        ),
        (
            {"fail2ban_jails": {"sshd": {"logpath": ["/a", "/b\n[x]"]}}},
            "fail2ban_jails.sshd.logpath contains a control character",
        ),
        ({"fail2ban_jails": {"sshd": {"ignoreip": "0.0.0.0/0"}}}, "fail2ban_jails.sshd.ignoreip is refused"),
        ({"fail2ban_jails": {"sshd": {"ignorecommand": "/bin/true"}}}, "fail2ban_jails.sshd.ignorecommand is refused"),
        (
            {"fail2ban_jails": {"sshd": {"bantime": "soon"}}},
            "fail2ban_jails.sshd.bantime: 'soon' is not a fail2ban time",
        ),
        ({"fail2ban_jails": {"sshd": {"maxretry": 0}}}, "fail2ban_jails.sshd.maxretry must be an integer >= 1"),
        ({"fail2ban_jails": {"sshd": {"a=b": 1}}}, "option name 'a=b'"),
        ({"fail2ban_jails": {"sshd": {"port": {"x": 1}}}}, "fail2ban_jails.sshd.port must be a string"),
        ({"fail2ban_banaction": "ufw"}, "fail2ban_banaction is ufw but ufw is not installed"),
        ({"fail2ban_apache_jails": "enabled"}, "fail2ban_apache_jails is enabled but Apache is not installed"),
    ],
)
def test_plan_refuses_by_name(settings, message):
    errors = plan(**settings)["errors"]
    assert any(message in e for e in errors), errors


def test_plan_one_message_per_broken_rule():
    errors = plan(fail2ban_bantime="abc", fail2ban_maxretry=0, fail2ban_jails={"sshd": {"findtime": "x"}})["errors"]
    assert len(errors) == 3


def test_plan_defaults_nftables_and_builtin_jails():
    result = plan(connection=SESSION, fail2ban_ignore_networks=["192.0.2.0/24"])
    assert result["errors"] == []
    assert result["banaction"] == "nftables"
    assert result["packages"][-1] == "nftables"
    assert result["defaults"]["ignoreip"] == "127.0.0.1/8 ::1 192.0.2.0/24 198.51.100.7"
    assert result["defaults"]["banaction_allports"] == "nftables-allports"
    assert list(result["jails"]) == [
        "apache-auth",
        "apache-badbots",
        "apache-noscript",
        "apache-overflows",
        "recidive",
        "sshd",
    ]
    assert result["jails"]["apache-auth"] == {"enabled": False, "options": {}}
    sshd = result["jails"]["sshd"]
    assert sshd["enabled"] is True
    # Policy options in the jail itself, so no later [DEFAULT] changes them.
    assert sshd["options"]["maxretry"] == "5"
    assert sshd["options"]["bantime"] == "1h"
    assert sshd["options"]["ignoreip"] == "127.0.0.1/8 ::1 192.0.2.0/24 198.51.100.7"
    assert sshd["options"]["backend"] == "systemd"
    # recidive keeps its own longer times.
    assert result["jails"]["recidive"]["options"]["bantime"] == "1w"


def test_plan_user_jails_merge_and_switch_off():
    result = plan(
        fail2ban_jails={
            "sshd": {"maxretry": 3, "port": ["22", "2222"]},
            "recidive": {"enabled": False},
            "custom": {"filter": "x"},
        },
        ufw_managed=True,
        have=["fail2ban-client", "apache2"],
    )
    assert result["errors"] == []
    assert result["banaction"] == "ufw" and "nftables" not in result["packages"]
    assert result["jails"]["sshd"]["options"]["maxretry"] == "3"
    assert result["jails"]["sshd"]["options"]["port"] == ["22", "2222"]
    assert result["jails"]["recidive"] == {"enabled": False, "options": {}}
    assert result["jails"]["custom"]["enabled"] is True
    assert result["jails"]["apache-auth"]["enabled"] is True


@pytest.mark.parametrize(
    "settings, banaction",
    [
        ({"ufw_active": True, "have": ["ufw"]}, "ufw"),
        ({"ufw_active": False, "have": ["ufw"]}, "nftables"),
        ({"fail2ban_banaction": "nftables", "ufw_managed": True}, "nftables"),
    ],
)
def test_plan_banaction(settings, banaction):
    assert plan(**settings)["banaction"] == banaction


def test_plan_controller_only_over_ssh():
    docker = {"type": "docker", "is_ssh": False, "client_addr": ""}
    assert plan(connection=docker)["defaults"]["ignoreip"] == "127.0.0.1/8 ::1"
    assert plan(connection=SESSION, fail2ban_ignore_controller=False)["defaults"]["ignoreip"] == "127.0.0.1/8 ::1"


# --------------------------------------------------------------------------- #
# overrides and the running daemon
# --------------------------------------------------------------------------- #
def test_files_after():
    names = ["aa.local", "bulwark.local", "defaults-debian.conf", "zz-local.local", "zz.local.bak", "bulwark2.local"]
    assert files_after("bulwark.local", names) == ["bulwark2.local", "zz-local.local"]


ZZ = """# a hand-made drop-in
[DEFAULT]
bantime = 1m

[sshd]
enabled = false
maxretry: 99
ignoreip = 0.0.0.0/0
    ::/0

[my-own]
enabled = true
"""


def test_find_overrides():
    assert find_overrides(ZZ, {"sshd": {}, "recidive": {}}) == [
        (6, "sshd", "enabled", "false"),
        (7, "sshd", "maxretry", "99"),
        (8, "sshd", "ignoreip", "0.0.0.0/0 ::/0"),
    ]


def test_remove_options_keeps_the_rest():
    text = remove_options(ZZ, [6, 7, 8])
    assert text == ZZ.replace("enabled = false\nmaxretry: 99\nignoreip = 0.0.0.0/0\n    ::/0\n", "")
    assert find_overrides(text, {"sshd": {}}) == []
    assert "[my-own]\nenabled = true\n" in text


def test_parse_jail_list():
    out = "Status\n|- Number of jail:\t2\n`- Jail list:\trecidive, sshd\n"
    assert parse_jail_list(out) == ["recidive", "sshd"]
    assert parse_jail_list("") == []


def test_jail_mismatch():
    jails = {"sshd": {"enabled": True}, "recidive": {"enabled": True}, "apache-auth": {"enabled": False}}
    assert jail_mismatch(jails, ["recidive", "sshd"]) == ([], [])
    assert jail_mismatch(jails, ["recidive", "apache-auth"]) == (["sshd"], ["apache-auth"])


def test_plan_apache_jails_follow_the_declared_web_service():
    services = {"http": {"ports": [443, 80], "unit": "apache2"}, "admin": {"ports": [8443], "public": False}}
    # Declared but not installed yet (the first run installs it): the jails are planned, on its ports.
    result = plan(bulwark_services=services)
    assert result["errors"] == []
    assert result["jails"]["apache-auth"]["enabled"] is True
    assert result["jails"]["apache-auth"]["options"]["port"] == "80,443"
    # A port of the user's own wins; no declared web service leaves the stock ports.
    mine = plan(bulwark_services=services, fail2ban_jails={"apache-auth": {"port": "8080"}})
    assert mine["jails"]["apache-auth"]["options"]["port"] == "8080"
    stock = plan(have=["fail2ban-client", "apache2"])
    assert "port" not in stock["jails"]["apache-auth"]["options"]
    off = plan(bulwark_services=services, fail2ban_apache_jails="disabled")
    assert off["jails"]["apache-auth"]["enabled"] is False


def test_the_sshd_jail_follows_the_host_models_ssh_port():
    assert plan()["jails"]["sshd"]["options"]["port"] == "22"
    assert plan(bulwark_ssh_port=2222)["jails"]["sshd"]["options"]["port"] == "2222"
    # A port of the user's own for the jail still wins.
    mine = plan(bulwark_ssh_port=2222, fail2ban_jails={"sshd": {"port": "2222,2200"}})
    assert mine["jails"]["sshd"]["options"]["port"] == "2222,2200"


# --------------------------------------------------------------------------- #
# the running server's answers
# --------------------------------------------------------------------------- #
POLICY = {
    "ignoreip": "127.0.0.1/8 ::1 192.0.2.0/24",
    "bantime": "1h",
    "findtime": "10m",
    "maxretry": "3",
    "bantime.increment": "true",
    "bantime.factor": "1",
    "bantime.maxtime": "4w",
}
RUN_JAILS = {
    "sshd": {"enabled": True, "options": dict(POLICY, port="22")},
    "recidive": {"enabled": True, "options": dict(POLICY, banaction="%(banaction_allports)s", bantime="1w")},
    "apache-auth": {"enabled": False, "options": {}},
}
RUN_DEFAULTS = dict(POLICY, banaction="ufw", banaction_allports="ufw-allports")
SETTINGS = {"loglevel": "INFO", "logtarget": "/var/log/fail2ban.log", "dbpurgeage": "30d"}
# What fail2ban 1.0 answers for the declared values (seconds, a normalised ignore list, a bool).
ANSWERS = {
    "maxretry": 3,
    "findtime": 600,
    "bantime": 3600,
    "ignoreip": ["127.0.0.0/8", "192.0.2.0/24", "::1"],
    "bantime.increment": True,
    "bantime.factor": "1",
    "bantime.maxtime": 2419200,
    "loglevel": "INFO",
    "logtarget": "/var/log/fail2ban.log",
    "dbpurgeage": 2592000,
}


def answer(query, changes=None):
    """The server's answer to one query: the declared values, but for *changes* ({(jail, option): value})."""
    changes = changes or {}
    key = (query[1], query[2]) if len(query) == 3 else (None, query[1])
    if key in changes:
        return changes[key]
    if query[-1] == "actions":
        return [0, ["ufw-allports" if query[1] == "recidive" else "ufw"]]
    if query[1] == "recidive" and query[2] == "bantime":
        return [0, 604800]
    return [0, ANSWERS[query[-1]]]


def differences(changes=None, running=("recidive", "sshd")):
    queries = runtime_queries(RUN_JAILS, running, SETTINGS, RUN_DEFAULTS)
    answers = [(query, answer(query, changes)) for query in queries]
    return runtime_differences(
        RUN_JAILS, SETTINGS, RUN_DEFAULTS, answers, jail_file="jail.d/b.local", daemon_file="fail2ban.d/b.local"
    )


def test_runtime_queries_ask_every_running_declared_jail_and_the_settings():
    queries = runtime_queries(RUN_JAILS, ["sshd", "apache-auth", "my-own"], SETTINGS, RUN_DEFAULTS)
    assert [q for q in queries if q[1] != "sshd"] == [["get", "loglevel"], ["get", "logtarget"], ["get", "dbpurgeage"]]
    assert ["get", "sshd", "maxretry"] in queries and ["get", "sshd", "actions"] in queries
    assert ["get", "sshd", "port"] not in queries


def test_the_declared_values_as_the_server_answers_them_are_no_difference():
    assert differences() == []


@pytest.mark.parametrize(
    "changes, reason",
    [
        (
            {("sshd", "maxretry"): [0, 30]},
            "jail sshd: maxretry is 30 in the running fail2ban, declared 3 (jail.d/b.local)",
        ),
        (
            {("recidive", "bantime"): [0, 60]},
            "jail recidive: bantime is 60 in the running fail2ban, declared 1w (jail.d/b.local)",
        ),
        (
            {("sshd", "findtime"): [0, 1]},
            "jail sshd: findtime is 1 in the running fail2ban, declared 10m (jail.d/b.local)",
        ),
        (
            {("sshd", "bantime.increment"): [0, False]},
            "jail sshd: bantime.increment is False in the running fail2ban, declared true (jail.d/b.local)",
        ),
        (
            {("sshd", "ignoreip"): [0, ["127.0.0.0/8", "192.0.2.0/24", "::1", "203.0.113.0/24"]]},
            "jail sshd: the running fail2ban also ignores 203.0.113.0/24 (ignoreip, jail.d/b.local)",
        ),
        (
            {("sshd", "ignoreip"): [0, ["127.0.0.0/8", "::1"]]},
            "jail sshd: the running fail2ban does not ignore 192.0.2.0/24 (ignoreip, jail.d/b.local)",
        ),
        (
            {("sshd", "actions"): [0, ["iptables-multiport"]]},
            "jail sshd bans with iptables-multiport in the running fail2ban, declared ufw (jail.d/b.local)",
        ),
        (
            {("recidive", "actions"): [0, []]},
            "jail recidive bans with nothing in the running fail2ban, declared ufw-allports (jail.d/b.local)",
        ),
        (
            {(None, "loglevel"): [0, "DEBUG"]},
            "loglevel is DEBUG in the running fail2ban, declared INFO (fail2ban.d/b.local)",
        ),
        (
            {(None, "logtarget"): [0, "/tmp/elsewhere.log"]},
            "logtarget is /tmp/elsewhere.log in the running fail2ban, declared /var/log/fail2ban.log "
            "(fail2ban.d/b.local)",
        ),
        (
            {(None, "dbpurgeage"): [0, 86400]},
            "dbpurgeage is 86400 in the running fail2ban, declared 30d (fail2ban.d/b.local)",
        ),
        (
            {("sshd", "maxretry"): [1, "UnknownJailException('sshd')"]},
            "fail2ban-client get sshd maxretry failed: UnknownJailException('sshd')",
        ),
    ],
)
def test_a_value_changed_at_run_time_is_named_with_its_jail_and_setting(changes, reason):
    assert differences(changes) == [reason]


def test_declared_action():
    assert declared_action({}, RUN_DEFAULTS) == "ufw"
    assert declared_action({"banaction": "%(banaction_allports)s"}, RUN_DEFAULTS) == "ufw-allports"
    assert declared_action({"action": "%(action_mwl)s"}, RUN_DEFAULTS) is None
    assert declared_action({"banaction": "%(nowhere)s"}, RUN_DEFAULTS) is None


def test_default_overrides_are_the_ban_actions_a_jail_inherits():
    text = "[DEFAULT]\nbanaction = iptables-multiport\nbantime = 1m\nbanaction_allports = x\n[sshd]\nport = 2222\n"
    # recidive sets banaction itself, sshd does not; both carry bantime: only the ban actions count.
    assert find_default_overrides(text, RUN_JAILS, RUN_DEFAULTS) == [
        (2, "DEFAULT", "banaction", "iptables-multiport"),
        (4, "DEFAULT", "banaction_allports", "x"),
    ]
    assert find_default_overrides(text, {}, RUN_DEFAULTS) == []


def test_setting_overrides_are_the_declared_daemon_settings():
    text = "[Definition]\nloglevel = DEBUG\nsocket = /run/x.sock\n[Thread]\nstacksize = 0\n"
    assert find_setting_overrides(text, SETTINGS) == [(2, "Definition", "loglevel", "DEBUG")]

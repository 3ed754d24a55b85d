# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _rollback
from ansible_collections.bulwark.hardening.plugins.modules import ufw_rules
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

UFW = "/usr/sbin/ufw"

SSH_V4 = "### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=737368"
SSH_V6 = "### tuple ### limit tcp 22 ::/0 any ::/0 in comment=737368"
HTTP_V4 = "### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in"
HTTP_V6 = "### tuple ### allow tcp 80 ::/0 any ::/0 in"
OLD_V4 = "### tuple ### allow tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in comment=6f6c64"
OLD_V6 = "### tuple ### allow tcp 8080 ::/0 any ::/0 in comment=6f6c64"

SSH = {"rule": "limit", "port": 22, "proto": "tcp", "comment": "ssh"}
HTTP = {"rule": "allow", "port": 80, "proto": "tcp"}

DEFAULTS = 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\n'


def rules_file(tuples, v6=False):
    prefix = "ufw6" if v6 else "ufw"
    body = "".join(f"\n{t}\n-A {prefix}-user-input -j ACCEPT\n" for t in tuples)
    return f"*filter\n:{prefix}-user-input - [0:0]\n### RULES ###\n{body}\n### END RULES ###\nCOMMIT\n"


@pytest.fixture
def ufw_dir(monkeypatch, tmp_path):
    """A fake /etc/ufw + /etc/default/ufw; call it with the tuples of each file."""
    patch_exits(monkeypatch)
    rules_dir = tmp_path / "ufw"
    (rules_dir / "applications.d").mkdir(parents=True)
    (rules_dir / "applications.d" / "openssh-server").write_text("[OpenSSH]\ntitle=Secure shell server\nports=22/tcp\n")
    # Debian 13's apache2 leaves an empty directory there; ufw reads regular files only.
    (rules_dir / "applications.d" / "apache2").mkdir()
    defaults = tmp_path / "default-ufw"

    def make(v4=(), v6=(), defaults_text=DEFAULTS):
        (rules_dir / "user.rules").write_text(rules_file(v4))
        (rules_dir / "user6.rules").write_text(rules_file(v6, v6=True))
        defaults.write_text(defaults_text)
        return {"rules_dir": str(rules_dir), "defaults_file": str(defaults), "ufw": UFW}

    return make


class FakeRun:
    """Stands in for AnsibleModule.run_command; records each argument list."""

    def __init__(self, rc=0, err=""):
        self.calls = []
        self.rc = rc
        self.err = err

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(list(cmd))
        return self.rc, "", self.err


def run(monkeypatch, args, expect=ExitJson, fake=None):
    fake = fake or FakeRun()

    def run_command(self, cmd, **kwargs):
        return fake(self, cmd, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    with patch_module_args(args), pytest.raises(expect) as exc:
        ufw_rules.main()
    return exc.value.args[0], getattr(fake, "calls", None)


def test_in_sync_is_unchanged(monkeypatch, ufw_dir):
    args = ufw_dir([SSH_V4, HTTP_V4], [SSH_V6, HTTP_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH, HTTP]))
    assert result["changed"] is False
    assert result["added"] == [] and result["removed"] == []
    assert calls == []
    assert [r["ipv6"] for r in result["rules"]] == [False, False, True, True]


def test_check_mode_reports_without_running_ufw(monkeypatch, ufw_dir):
    args = ufw_dir([OLD_V4], [OLD_V6])
    result, calls = run(
        monkeypatch,
        dict(args, rules=[SSH], _ansible_check_mode=True, _ansible_diff=True),
    )
    assert calls == []
    assert result["changed"] is True
    assert result["added"] == [
        "limit 22/tcp from any # ssh",
        "limit 22/tcp from any (v6) # ssh",
    ]
    assert result["removed"] == [
        "allow 8080/tcp from any # old",
        "allow 8080/tcp from any (v6) # old",
    ]
    assert result["diff"] == {
        "before": "allow 8080/tcp from any # old\nallow 8080/tcp from any (v6) # old\n",
        "after": "limit 22/tcp from any # ssh\nlimit 22/tcp from any (v6) # ssh\n",
    }
    assert result["commands"][0] == [
        UFW,
        "delete",
        "allow",
        "in",
        "proto",
        "tcp",
        "from",
        "any",
        "to",
        "any",
        "port",
        "8080",
    ]


def test_apply_deletes_then_adds(monkeypatch, ufw_dir):
    args = ufw_dir([OLD_V4], [OLD_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH, HTTP]))
    assert result["changed"] is True
    assert calls == [
        [
            UFW,
            "delete",
            "allow",
            "in",
            "proto",
            "tcp",
            "from",
            "any",
            "to",
            "any",
            "port",
            "8080",
        ],
        [
            UFW,
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
        [UFW, "allow", "in", "proto", "tcp", "from", "any", "to", "any", "port", "80"],
    ]


def test_apply_reads_back_what_ufw_wrote(monkeypatch, ufw_dir, tmp_path):
    args = ufw_dir([], [])

    def fake_ufw(module, cmd, **kwargs):
        # Behave like ufw on a kernel without IPv6 "recent" support: v4 only.
        (tmp_path / "ufw" / "user.rules").write_text(rules_file([SSH_V4]))
        return 0, "Rules updated\nSkipping unsupported IPv6 'limit' rule\n", ""

    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    result, _calls = run(monkeypatch, dict(args, rules=[SSH]), fake=fake_ufw)
    assert result["changed"] is True
    assert [r["ipv6"] for r in result["rules"]] == [False]
    assert any("ufw stored different rules" in w for w in warnings)


def test_exclusive_false_keeps_undeclared(monkeypatch, ufw_dir):
    args = ufw_dir([HTTP_V4], [HTTP_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH], exclusive=False))
    assert result["removed"] == []
    assert calls == [
        [
            UFW,
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
        ]
    ]


@pytest.fixture
def warnings(monkeypatch):
    """The warnings the module gives, in order."""
    given = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: given.append(text))
    return given


@pytest.mark.parametrize("check_mode", [True, False])
def test_exclusive_names_each_rule_it_removes(monkeypatch, ufw_dir, warnings, check_mode):
    # 8080 is a rule of the user's own (both families: one rule as typed); 80 is declared but
    # out of place, so it is deleted and appended again: moved, not removed.
    args = ufw_dir([HTTP_V4, OLD_V4, SSH_V4], [HTTP_V6, OLD_V6, SSH_V6])
    result, _calls = run(monkeypatch, dict(args, rules=[SSH, HTTP], _ansible_check_mode=check_mode))
    assert result["changed"] is True
    assert len(result["removed"]) == 4
    assert result["removed_undeclared"] == ["ufw allow in proto tcp from any to any port 8080 comment old"]
    # (The fake ufw writes nothing, so a real run also warns that ufw stored other rules.)
    named = [text for text in warnings if "8080" in text]
    assert named == [warnings[0]]
    assert named[0].startswith("ufw: `ufw allow in proto tcp from any to any port 8080 comment old` is not declared")


def test_no_warning_when_nothing_undeclared_goes(monkeypatch, ufw_dir, warnings):
    args = ufw_dir([HTTP_V4, OLD_V4], [HTTP_V6, OLD_V6])
    result, _calls = run(monkeypatch, dict(args, rules=[HTTP], exclusive=False))
    assert result["removed_undeclared"] == [] and warnings == []


def test_ipv6_false_removes_v6_rules(monkeypatch, ufw_dir):
    args = ufw_dir([SSH_V4], [SSH_V6, HTTP_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH], ipv6=False))
    assert result["removed"] == [
        "limit 22/tcp from any (v6) # ssh",
        "allow 80/tcp from any (v6)",
    ]
    assert calls == [
        [
            UFW,
            "delete",
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
        ],
        [
            UFW,
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
    ]


def test_ufw_ipv6_disabled_manages_v4_only(monkeypatch, ufw_dir):
    args = ufw_dir([SSH_V4], [SSH_V6], defaults_text="IPV6=no\n")
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    result, calls = run(monkeypatch, dict(args, rules=[SSH]))
    assert result["changed"] is False
    assert calls == []
    assert any("IPv4 rules only" in w for w in warnings)


def test_guard_blocks_and_changes_nothing(monkeypatch, ufw_dir):
    args = ufw_dir([SSH_V4], [SSH_V6])
    restricted = {
        "rule": "allow",
        "port": 22,
        "proto": "tcp",
        "from": "198.51.100.0/24",
    }
    result, calls = run(
        monkeypatch,
        dict(args, rules=[restricted], guard={"port": 22, "source": "192.0.2.10"}),
        expect=FailJson,
    )
    assert calls == []
    assert result["changed"] is False
    assert "refusing to change ufw:" in result["msg"]
    assert "no IPv4 rule allows tcp/22 from 192.0.2.10" in result["msg"]


def test_guard_blocks_in_check_mode_too(monkeypatch, ufw_dir):
    args = ufw_dir([SSH_V4], [SSH_V6])
    deny_first = {"rule": "deny", "from": "2001:db8::/32"}
    result, calls = run(
        monkeypatch,
        dict(
            args,
            rules=[deny_first, SSH],
            guard={"port": 22, "source": "2001:db8::10"},
            _ansible_check_mode=True,
        ),
        expect=FailJson,
    )
    assert calls == []
    assert "IPv6 rule 1 'deny any from 2001:db8::/32 (v6)' matches tcp/22" in result["msg"]


def test_guard_passes_with_app_profile(monkeypatch, ufw_dir):
    args = ufw_dir([], [])
    result, calls = run(
        monkeypatch,
        dict(
            args,
            rules=[{"rule": "allow", "app": "OpenSSH"}],
            guard={"port": 22, "source": "192.0.2.10"},
        ),
    )
    assert result["changed"] is True
    assert calls == [[UFW, "allow", "in", "from", "any", "to", "any", "app", "OpenSSH"]]


def test_guard_accept_policy_with_no_rules(monkeypatch, ufw_dir):
    args = ufw_dir([HTTP_V4], [HTTP_V6], defaults_text='DEFAULT_INPUT_POLICY="ACCEPT"\n')
    result, calls = run(monkeypatch, dict(args, rules=[], guard={"port": 22, "source": "192.0.2.10"}))
    assert result["removed"] == ["allow 80/tcp from any", "allow 80/tcp from any (v6)"]
    assert calls == [
        [
            UFW,
            "delete",
            "allow",
            "in",
            "proto",
            "tcp",
            "from",
            "any",
            "to",
            "any",
            "port",
            "80",
        ]
    ]


def test_ufw_failure_reports_stderr(monkeypatch, ufw_dir):
    args = ufw_dir([], [])
    result, calls = run(
        monkeypatch,
        dict(args, rules=[SSH]),
        expect=FailJson,
        fake=FakeRun(rc=1, err="ERROR: Couldn't determine iptables version\n"),
    )
    assert len(calls) == 1
    assert result["rc"] == 1
    assert "ERROR: Couldn't determine iptables version" in result["msg"]
    assert result["stderr"].startswith("ERROR")


@pytest.mark.parametrize(
    "rule, fragment",
    [
        (
            {"rule": "allow", "port": "8000:8010"},
            "rules[0]: port range '8000:8010' needs proto tcp or udp",
        ),
        (
            {"rule": "allow", "from": "192.0.2.1", "to": "2001:db8::1"},
            "mix IPv4 and IPv6",
        ),
    ],
)
def test_invalid_rule_fails(monkeypatch, ufw_dir, rule, fragment):
    args = ufw_dir([], [])
    result, calls = run(monkeypatch, dict(args, rules=[rule]), expect=FailJson)
    assert calls == []
    assert fragment in result["msg"]


def test_port_and_app_are_mutually_exclusive(monkeypatch, ufw_dir):
    args = ufw_dir([], [])
    result, _calls = run(
        monkeypatch,
        dict(args, rules=[{"rule": "allow", "port": 22, "app": "OpenSSH"}]),
        expect=FailJson,
    )
    assert "mutually exclusive" in result["msg"]


def test_missing_files_check_mode_treats_as_empty(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    args = {
        "rules_dir": str(tmp_path / "nope"),
        "defaults_file": str(tmp_path / "nope-default"),
        "ufw": UFW,
    }
    result, calls = run(monkeypatch, dict(args, rules=[SSH], _ansible_check_mode=True))
    assert calls == []
    assert result["changed"] is True
    assert len(result["added"]) == 2


def test_missing_files_real_run_fails(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    args = {
        "rules_dir": str(tmp_path / "nope"),
        "defaults_file": str(tmp_path / "nope-default"),
        "ufw": UFW,
    }
    result, calls = run(monkeypatch, dict(args, rules=[SSH]), expect=FailJson)
    assert calls == []
    assert "is ufw installed?" in result["msg"]


# fail2ban's ufw action prepends "reject from ADDR to any comment 'by Fail2Ban after N attempts against JAIL'".
def _ban(addr, v6=False):
    comment = b"by Fail2Ban after 5 attempts against sshd".hex()
    anywhere = "::/0" if v6 else "0.0.0.0/0"
    return f"### tuple ### reject any any {anywhere} any {addr} in comment={comment}"


@pytest.mark.parametrize("exclusive", [True, False])
def test_fail2ban_bans_are_kept_and_not_reported(monkeypatch, ufw_dir, exclusive):
    args = ufw_dir([_ban("192.0.2.66"), SSH_V4, HTTP_V4], [_ban("2001:db8::66", v6=True), SSH_V6, HTTP_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH, HTTP], exclusive=exclusive, _ansible_diff=True))
    assert result["changed"] is False
    assert calls == []
    assert result["removed"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_fail2ban_bans_go_without_keep_comments(monkeypatch, ufw_dir):
    args = ufw_dir([_ban("192.0.2.66"), SSH_V4, HTTP_V4], [SSH_V6, HTTP_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH, HTTP], keep_comments=[]))
    assert result["changed"] is True
    assert result["removed"] == ["reject any from 192.0.2.66 # by Fail2Ban after 5 attempts against sshd"]
    assert len(calls) == 1 and calls[0][:3] == [UFW, "delete", "reject"]


def test_bad_keep_comments_pattern_is_a_clear_error(monkeypatch, ufw_dir):
    args = ufw_dir([SSH_V4], [SSH_V6])
    result, _calls = run(monkeypatch, dict(args, rules=[SSH], keep_comments=["("]), expect=FailJson)
    assert "keep_comments" in result["msg"]


def test_ipv6_ban_is_predicted_in_its_own_family(monkeypatch, ufw_dir):
    """Issue 10's false drift: all kept rules were predicted first, across both families."""
    args = ufw_dir([SSH_V4, HTTP_V4], [_ban("2001:db8::66", v6=True), SSH_V6, HTTP_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH, HTTP], _ansible_diff=True))
    assert result["changed"] is False and calls == []
    assert [(r["ipv6"], r["comment"]) for r in result["rules"]] == [
        (False, "ssh"),
        (False, None),
        (True, "by Fail2Ban after 5 attempts against sshd"),
        (True, "ssh"),
        (True, None),
    ]


def test_ipv6_ban_with_a_change_predicts_what_ufw_writes(monkeypatch, ufw_dir):
    args = ufw_dir([SSH_V4], [_ban("2001:db8::66", v6=True), SSH_V6])
    result, _calls = run(monkeypatch, dict(args, rules=[SSH, HTTP], _ansible_check_mode=True, _ansible_diff=True))
    assert result["diff"]["after"] == (
        "limit 22/tcp from any # ssh\n"
        "allow 80/tcp from any\n"
        "reject any from 2001:db8::66 (v6) # by Fail2Ban after 5 attempts against sshd\n"
        "limit 22/tcp from any (v6) # ssh\n"
        "allow 80/tcp from any (v6)\n"
    )


def test_keep_everything_pattern_settles(monkeypatch, ufw_dir):
    """ufw_keep_comments: ['.*'] made the declared SSH rule foreign and re-added it on every run."""
    args = ufw_dir([SSH_V4, HTTP_V4], [SSH_V6, HTTP_V6])
    result, calls = run(monkeypatch, dict(args, rules=[SSH, HTTP], keep_comments=[".*"]))
    assert result["changed"] is False
    assert calls == []


class FakeSystem(FakeRun):
    """run_command for `ufw status` and `systemctl show ufw.service`; records every call."""

    def __init__(self, active=True, boot="enabled", running=True):
        super().__init__()
        self.active = active
        self.boot = boot
        self.running = running

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(list(cmd))
        if cmd[1:] == ["status"]:
            return 0, "Status: active\n" if self.active else "Status: inactive\n", ""
        if cmd[1:2] == ["show"]:
            state = "active" if self.running else "inactive"
            return 0, f"UnitFileState={self.boot}\nActiveState={state}\n", ""
        return 0, "", ""


@pytest.fixture
def system(monkeypatch, ufw_dir, tmp_path):
    """ufw_dir plus a ufw.conf, an existing ufw binary and systemctl at /bin/systemctl."""
    ufw = tmp_path / "ufw-bin"
    ufw.write_text("")
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: f"/bin/{name}")

    def make(conf="ENABLED=yes\nLOGLEVEL=low\n", **kwargs):
        args = ufw_dir(**kwargs)
        (tmp_path / "ufw.conf").write_text(conf)
        return dict(args, ufw=str(ufw), conf_file=str(tmp_path / "ufw.conf"))

    return make


SETTINGS = {
    "default_incoming": "deny",
    "default_outgoing": "allow",
    "default_routed": "deny",
    "logging": "low",
    "state": "enabled",
}
DEFAULTS_ALL = 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="DROP"\n'


def test_enabled_and_in_sync_is_unchanged(monkeypatch, system):
    args = system(v4=[SSH_V4], v6=[SSH_V6], defaults_text=DEFAULTS_ALL)
    fake = FakeSystem()
    result, calls = run(monkeypatch, dict(args, rules=[SSH], **SETTINGS), fake=fake)
    assert result["changed"] is False
    assert result["settings"] == {}
    # Only the two reads.
    assert [c[1] for c in calls] == ["status", "show"]


@pytest.mark.parametrize(
    "active, conf, unit",
    [
        (False, "ENABLED=no\nLOGLEVEL=low\n", ("disabled", False)),
        (True, "ENABLED=no\nLOGLEVEL=low\n", ("enabled", True)),
        (False, "ENABLED=yes\nLOGLEVEL=low\n", ("enabled", False)),
        (False, "ENABLED=no\nLOGLEVEL=low\n", ("", False)),
    ],
)
def test_enabled_enables_after_the_rules(monkeypatch, system, active, conf, unit):
    boot, running = unit
    args = system(conf=conf, v4=[], v6=[], defaults_text=DEFAULTS_ALL)
    fake = FakeSystem(active=active, boot=boot, running=running)
    result, calls = run(monkeypatch, dict(args, rules=[SSH], **SETTINGS), fake=fake)
    assert result["changed"] is True
    assert result["settings"]["active"] == {"before": False, "after": True}
    writes = [c for c in calls if c[1] not in ("status", "show")]
    # The SSH rule first (both families in one command), then enable, then the unit.
    assert writes[0][1:3] == ["limit", "in"]
    assert writes[1][1:] == ["--force", "enable"]
    if boot != "enabled" or not running:
        assert writes[2] == ["/bin/systemctl", "enable", "--now", "ufw.service"]
    else:
        assert len(writes) == 2


def test_enabled_check_mode_reports_and_runs_nothing(monkeypatch, system):
    args = system(conf="ENABLED=no\nLOGLEVEL=low\n", v4=[SSH_V4], v6=[SSH_V6], defaults_text=DEFAULTS_ALL)
    fake = FakeSystem(active=False)
    result, calls = run(
        monkeypatch, dict(args, rules=[SSH], _ansible_check_mode=True, _ansible_diff=True, **SETTINGS), fake=fake
    )
    assert result["changed"] is True
    assert [c[1] for c in calls] == ["status", "show"]
    assert "status: inactive\n" in result["diff"]["before"]
    assert "status: active\n" in result["diff"]["after"]


def test_policies_and_logging_are_set_with_ufw(monkeypatch, system):
    defaults = (
        'IPV6=yes\nDEFAULT_INPUT_POLICY="ACCEPT"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\nDEFAULT_FORWARD_POLICY="ACCEPT"\n'
    )
    args = system(conf="ENABLED=yes\nLOGLEVEL=off\n", v4=[SSH_V4], v6=[SSH_V6], defaults_text=defaults)
    fake = FakeSystem()
    result, calls = run(monkeypatch, dict(args, rules=[SSH], **dict(SETTINGS, logging="medium")), fake=fake)
    assert result["settings"] == {
        "default_incoming": {"before": "allow", "after": "deny"},
        "default_routed": {"before": "allow", "after": "deny"},
        "logging": {"before": "off", "after": "medium"},
    }
    writes = [c[1:] for c in calls if c[1] not in ("status", "show")]
    assert writes == [["default", "deny", "incoming"], ["default", "deny", "routed"], ["logging", "medium"]]


def test_guard_assumes_the_declared_incoming_policy(monkeypatch, system):
    """The role's preflight used to point defaults_file at /dev/null to make the guard assume deny."""
    defaults = 'IPV6=yes\nDEFAULT_INPUT_POLICY="ACCEPT"\n'
    args = system(v4=[], v6=[], defaults_text=defaults)
    web = {"rule": "allow", "port": 80, "proto": "tcp"}
    guard = {"port": 22, "source": "192.0.2.10"}
    ok, _calls = run(monkeypatch, dict(args, rules=[web], guard=guard, _ansible_check_mode=True), fake=FakeSystem())
    assert ok["changed"] is True
    result, calls = run(
        monkeypatch,
        dict(args, rules=[web], guard=guard, default_incoming="deny", _ansible_check_mode=True),
        expect=FailJson,
        fake=FakeSystem(),
    )
    assert "no IPv4 rule allows tcp/22 from 192.0.2.10 and the default incoming policy is deny" in result["msg"]
    assert calls == []


def test_guard_refusal_enables_nothing(monkeypatch, system):
    args = system(conf="ENABLED=no\n", v4=[], v6=[], defaults_text=DEFAULTS_ALL)
    fake = FakeSystem(active=False)
    result, calls = run(
        monkeypatch,
        dict(args, rules=[HTTP], guard={"port": 22, "source": "192.0.2.10"}, **SETTINGS),
        expect=FailJson,
        fake=fake,
    )
    assert "refusing to change ufw:" in result["msg"]
    assert [c[1] for c in calls] == ["status", "show"]


@pytest.fixture
def rollback_state(monkeypatch, tmp_path):
    """The rollback's state dir under tmp_path; systemd-run and systemctl found."""
    state = tmp_path / "rollback-state"
    monkeypatch.setitem(_rollback.arm.__kwdefaults__, "state_dir", str(state))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    return state


def test_rollback_is_armed_before_the_first_ufw_command(monkeypatch, ufw_dir, rollback_state, tmp_path):
    args = ufw_dir([OLD_V4], [OLD_V6])
    conf = tmp_path / "ufw.conf"
    conf.write_text("ENABLED=yes\n")
    fake = FakeRun()
    result, calls = run(
        monkeypatch, dict(args, rules=[SSH], conf_file=str(conf), rollback={"actions": ["ufw reload"]}), fake=fake
    )
    assert calls[0][0] == "/usr/bin/systemd-run"
    assert all(call[0] == UFW for call in calls[1:]) and len(calls) == 3
    assert result["rollback"]["files"] == [
        args["defaults_file"],
        str(conf),
        str(tmp_path / "ufw" / "user.rules"),
        str(tmp_path / "ufw" / "user6.rules"),
    ]
    assert result["rollback"]["what"] == ["ufw rules"]
    assert (rollback_state / "armed" / "files" / "2").read_text() == rules_file([OLD_V4])
    assert result["ansible_facts"] == {"bulwark_rollback": result["rollback"]}


def test_guard_refusal_arms_nothing(monkeypatch, ufw_dir, rollback_state):
    args = ufw_dir([SSH_V4], [SSH_V6])
    guard = {"port": 22, "source": "192.0.2.10"}
    result, calls = run(monkeypatch, dict(args, rules=[HTTP], guard=guard, rollback={}), expect=FailJson)
    assert "refusing to change ufw" in result["msg"]
    assert calls == []
    assert not rollback_state.exists()


STOCK_BEFORE = "*filter\n-A ufw-before-input -i lo -j ACCEPT\n# End required lines\nCOMMIT\n"
OPEN_LINE = "-A ufw-before-input -p tcp --dport 8081 -j ACCEPT"


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_port_opened_in_before_rules_is_drift_and_refused(monkeypatch, ufw_dir, tmp_path, check_mode):
    """ufw loads before.rules ahead of the declared rules: an ACCEPT there the package's copy lacks opens a port."""
    args = ufw_dir([SSH_V4, HTTP_V4], [SSH_V6, HTTP_V6])
    stock = tmp_path / "stock"
    stock.mkdir()
    (stock / "before.rules").write_text(STOCK_BEFORE)
    before = tmp_path / "ufw" / "before.rules"
    before.write_text(STOCK_BEFORE)
    args = dict(args, rules=[SSH, HTTP], stock_dir=str(stock), _ansible_check_mode=check_mode, _ansible_diff=True)
    assert run(monkeypatch, args)[0]["changed"] is False

    before.write_text(STOCK_BEFORE.replace("# End", f"{OPEN_LINE}\n# End"))
    result, calls = run(monkeypatch, args, expect=ExitJson if check_mode else FailJson)
    found = f"{before} line 3: {OPEN_LINE}"
    assert result["changed"] is True and result["opened"] == [found]
    assert calls == []  # nothing changed, in check mode or not
    if check_mode:
        assert result["diff"]["before"].startswith(found + "\n")
    else:
        assert f"remove the line(s) from {before}" in result["msg"] and "nothing was changed" in result["msg"]
        assert before.read_text() == STOCK_BEFORE.replace("# End", f"{OPEN_LINE}\n# End")

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import time

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _loaded
from ansible_collections.bulwark.hardening.plugins.modules import fail2ban_effective
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

JAILS = {
    "sshd": {"enabled": True, "options": {}},
    "recidive": {"enabled": True, "options": {}},
    "apache-auth": {"enabled": False, "options": {}},
}
OURS = "[sshd]\nenabled = true\nmaxretry = 5\n"
ZZ = "[sshd]\nenabled = false\n\n[my-own]\nenabled = true\n"


class FakeSystem:
    """systemctl show, fail2ban-client status and the server query; records the commands."""

    def __init__(self, active="active", started_ago=0.0, jails="recidive, sshd", answers=None):
        self.calls = []
        self.active = active
        # Its last (re)load: when the fake is made by default, after the fixture wrote its files.
        self.load_us = int((time.monotonic() - started_ago) * 1e6)
        self.jails = jails
        self.answers = answers or {}

    def __call__(self, cmd):
        self.calls.append(list(cmd))
        if cmd[1] == "-c":
            queries = json.loads(cmd[4])
            return 0, json.dumps([[0, self.answers[" ".join(q[1:])]] for q in queries]), ""
        if cmd[1] == "show":
            return 0, f"ActiveState={self.active}\nStateChangeTimestampMonotonic={self.load_us}\n", ""
        if cmd[1] == "status":
            return 0, f"Status\n|- Number of jail:\t2\n`- Jail list:\t{self.jails}\n", ""
        return 1, "", "unexpected"


@pytest.fixture
def conf(tmp_path):
    """A fake /etc/fail2ban whose files are two minutes old."""
    jail_d = tmp_path / "jail.d"
    jail_d.mkdir()
    (jail_d / "bulwark.local").write_text(OURS)
    (tmp_path / "jail.conf").write_text("[DEFAULT]\n")
    old = time.time() - 120
    for path in (jail_d / "bulwark.local", tmp_path / "jail.conf"):
        os.utime(path, (old, old))
    return tmp_path


def run(monkeypatch, args, fake, expect=ExitJson):
    patch_exits(monkeypatch)
    monkeypatch.setattr(_loaded, "STAMP_DIR", str(args["conf_dir"]) + "-stamps")
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: f"/bin/{name}")
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, cmd, **kw: fake(cmd))
    with patch_module_args(args), pytest.raises(expect) as exc:
        fail2ban_effective.main()
    return exc.value.args[0]


def test_in_effect_is_unchanged(monkeypatch, conf):
    result = run(monkeypatch, {"jails": JAILS, "conf_dir": str(conf)}, FakeSystem())
    assert result["changed"] is False
    assert result["running_jails"] == ["recidive", "sshd"]
    assert result["overrides"] == [] and result["reasons"] == []


def old(path):
    stamp = time.time() - 120
    os.utime(path, (stamp, stamp))


@pytest.mark.parametrize("check_mode", [True, False])
def test_drop_in_disabling_sshd_is_drift_and_refused(monkeypatch, conf, check_mode):
    """The admin's drop-in is never edited: check mode reports it, a normal run fails naming file, line and option."""
    zz = conf / "jail.d" / "zz-local.local"
    zz.write_text(ZZ)
    old(zz)
    # The daemon already runs without sshd (it read the drop-in).
    fake = FakeSystem(jails="recidive")
    args = {"jails": JAILS, "conf_dir": str(conf), "_ansible_check_mode": check_mode}
    result = run(monkeypatch, args, fake, expect=ExitJson if check_mode else FailJson)
    assert result["changed"] is True and result["restart_needed"] is True
    assert result["overrides"] == [{"file": str(zz), "line": 2, "jail": "sshd", "option": "enabled", "value": "false"}]
    assert "jail sshd is declared but not running" in result["reasons"]
    assert zz.read_text() == ZZ
    assert sorted(p.name for p in (conf / "jail.d").iterdir()) == ["bulwark.local", "zz-local.local"]
    if not check_mode:
        assert f"{zz} line 2 (enabled)" in result["msg"] and "Nothing was changed" in result["msg"]


def test_drop_in_read_before_ours_is_not_an_override(monkeypatch, conf):
    (conf / "jail.d" / "aa-local.local").write_text(ZZ)
    old(conf / "jail.d" / "aa-local.local")
    result = run(monkeypatch, {"jails": JAILS, "conf_dir": str(conf)}, FakeSystem())
    assert result["overrides"] == []


def test_config_changed_after_the_daemon_loaded_is_a_lost_restart(monkeypatch, conf):
    """The daemon loaded 60 s ago; our file changed now, its old mtime put back: the restart was lost."""
    ours = conf / "jail.d" / "bulwark.local"
    ours.write_text(OURS.replace("5", "3"))
    old(ours)
    result = run(
        monkeypatch, {"jails": JAILS, "conf_dir": str(conf), "_ansible_check_mode": True}, FakeSystem(started_ago=60.0)
    )
    assert result["changed"] is True
    assert f"{ours} changed after the daemon last (re)loaded: fail2ban runs an older configuration" in result["reasons"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_restart_the_role_makes_anyway_is_no_warning(monkeypatch, conf, check_mode):
    """The role wrote our file one task earlier and restarts fail2ban next: the daemon running the
    replaced file is no news (no warning, no reason), but an override is still found, and what the
    running daemon answers is still compared (a reason for the report, no warning: the restart repairs it)."""
    ours = conf / "jail.d" / "bulwark.local"
    ours.write_text(OURS.replace("5", "3"))
    zz = conf / "jail.d" / "zz-local.local"
    zz.write_text(ZZ)
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    fake = FakeSystem(started_ago=60.0, jails="recidive")
    args = {"jails": JAILS, "conf_dir": str(conf), "restart_pending": True, "_ansible_check_mode": check_mode}
    result = run(monkeypatch, args, fake, expect=ExitJson if check_mode else FailJson)
    assert [o["file"] for o in result["overrides"]] == [str(zz)]
    assert len(result["reasons"]) == 2 and "overriding jail.d/bulwark.local" in result["reasons"][0]
    assert result["reasons"][1] == "jail sshd is declared but not running"
    assert not any("older configuration" in reason for reason in result["reasons"])
    assert warnings == result["reasons"][:1]
    # Without restart_pending the same host warns that the daemon runs an older configuration.
    warnings.clear()
    result = run(
        monkeypatch,
        dict(args, restart_pending=False),
        FakeSystem(started_ago=60.0, jails="recidive"),
        expect=ExitJson if check_mode else FailJson,
    )
    assert any("runs an older configuration" in text for text in warnings)


def test_content_the_daemon_loaded_is_current_whatever_its_ctime(monkeypatch, conf):
    """A stamp for the daemon's load holds the file's content: a later chattr/touch changes nothing."""
    ours = conf / "jail.d" / "bulwark.local"
    fake = FakeSystem(started_ago=60.0)
    loaded = {path: _loaded.fingerprint(path)[0] for path in fail2ban_effective.config_paths(str(conf))}
    stamp = {"load": f"{_loaded.read_boot_id()}:{fake.load_us}", "at": 0.0, "files": loaded}
    stamps = str(conf) + "-stamps"
    _loaded.write_stamp(_loaded.stamp_path("fail2ban.service", stamps), stamp)
    ours.touch()
    assert run(monkeypatch, {"jails": JAILS, "conf_dir": str(conf)}, fake)["reasons"] == []
    ours.write_text(OURS.replace("5", "3"))
    old(ours)
    assert run(monkeypatch, {"jails": JAILS, "conf_dir": str(conf)}, fake)["reasons"] == [
        f"{ours} differs from what the daemon loaded: fail2ban runs an older configuration"
    ]


def test_disabled_jail_running_needs_a_restart(monkeypatch, conf):
    result = run(monkeypatch, {"jails": JAILS, "conf_dir": str(conf)}, FakeSystem(jails="recidive, sshd, apache-auth"))
    assert result["reasons"] == ["jail apache-auth is declared off but running"]


def test_stopped_daemon_is_left_to_the_service_task(monkeypatch, conf):
    fake = FakeSystem(active="failed", jails="")
    result = run(monkeypatch, {"jails": JAILS, "conf_dir": str(conf)}, fake)
    assert result["changed"] is False
    assert [c[1] for c in fake.calls] == ["show"]


def test_daemon_not_answering_yet_is_asked_again(monkeypatch, conf):
    fake = FakeSystem()
    answers = iter([(1, "", "Failed to access socket path"), (0, "`- Jail list:\trecidive, sshd\n", "")])

    def run_command(cmd):
        if cmd[1] == "status":
            fake.calls.append(list(cmd))
            return next(answers)
        return fake(cmd)

    monkeypatch.setattr(fail2ban_effective.time, "sleep", lambda seconds: None)
    result = run(monkeypatch, {"jails": JAILS, "conf_dir": str(conf)}, run_command)
    assert result["changed"] is False
    assert [c[1] for c in fake.calls] == ["show", "status", "status"]


RUNTIME_JAILS = {
    "sshd": {"enabled": True, "options": {"maxretry": "3", "ignoreip": "127.0.0.1/8 ::1"}},
    "recidive": {"enabled": True, "options": {"maxretry": "5", "banaction": "%(banaction_allports)s"}},
}
SERVER = {
    "sshd maxretry": 3,
    "sshd ignoreip": ["127.0.0.0/8", "::1"],
    "sshd actions": ["ufw"],
    "recidive maxretry": 5,
    "recidive actions": ["ufw"],
    "loglevel": "INFO",
}


@pytest.mark.parametrize("check_mode", [True, False])
def test_values_set_at_run_time_are_drift_naming_jail_and_setting(monkeypatch, conf, check_mode):
    """fail2ban-client set sshd maxretry 30 / set loglevel DEBUG: the files are right, the server is not."""
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: f"/bin/{name}")
    args = {
        "jails": RUNTIME_JAILS,
        "defaults": {"banaction": "ufw", "banaction_allports": "ufw"},
        "settings": {"loglevel": "INFO"},
        "conf_dir": str(conf),
        "_ansible_check_mode": check_mode,
    }
    monkeypatch.setattr(fail2ban_effective, "interpreter", lambda client: "/usr/bin/python3")
    assert run(monkeypatch, args, FakeSystem(answers=SERVER))["changed"] is False
    fake = FakeSystem(answers=dict(SERVER, **{"sshd maxretry": 30, "loglevel": "DEBUG"}))
    result = run(monkeypatch, args, fake)
    expected = [
        "jail sshd: maxretry is 30 in the running fail2ban, declared 3 (jail.d/bulwark.local)",
        "loglevel is DEBUG in the running fail2ban, declared INFO (fail2ban.d/bulwark.local)",
    ]
    assert result["changed"] is True and result["restart_needed"] is True
    assert result["runtime"] == expected and result["reasons"] == expected
    # One process asked every value, over one connection, with fail2ban-client's Python.
    queries = [call for call in fake.calls if call[1] == "-c"]
    assert len(queries) == 1 and queries[0][0] == "/usr/bin/python3"
    assert queries[0][3] == "/var/run/fail2ban/fail2ban.sock"


@pytest.mark.parametrize("check_mode", [True, False])
def test_daemon_setting_and_default_ban_action_in_a_later_drop_in_are_overrides(monkeypatch, conf, check_mode):
    (conf / "fail2ban.d").mkdir()
    (conf / "fail2ban.d" / "bulwark.local").write_text("[Definition]\nloglevel = INFO\n")
    zz_daemon = conf / "fail2ban.d" / "zz.local"
    zz_daemon.write_text("[Definition]\nloglevel = DEBUG\nsocket = /run/f.sock\n")
    zz_jails = conf / "jail.d" / "zz.local"
    zz_jails.write_text("[DEFAULT]\nbanaction = iptables-multiport\nbantime = 1m\n")
    for path in (zz_daemon, zz_jails, conf / "fail2ban.d" / "bulwark.local"):
        old(path)
    args = {
        "jails": RUNTIME_JAILS,
        "defaults": {"banaction": "ufw", "banaction_allports": "ufw", "maxretry": "5"},
        "settings": {"loglevel": "INFO"},
        "conf_dir": str(conf),
        "_ansible_check_mode": check_mode,
    }
    result = run(monkeypatch, args, FakeSystem(active="inactive"), expect=ExitJson if check_mode else FailJson)
    assert [(o["file"], o["option"]) for o in result["overrides"]] == [
        (str(zz_daemon), "loglevel"),
        (str(zz_jails), "banaction"),
    ]
    assert result["reasons"][0].startswith(
        f"{zz_daemon} line 2 sets loglevel = DEBUG overriding fail2ban.d/bulwark.local"
    )
    assert result["reasons"][1].startswith(f"{zz_jails} line 2 sets banaction = iptables-multiport in [DEFAULT]")
    # Never edited, in check mode or not.
    assert zz_daemon.read_text() == "[Definition]\nloglevel = DEBUG\nsocket = /run/f.sock\n"
    assert zz_jails.read_text() == "[DEFAULT]\nbanaction = iptables-multiport\nbantime = 1m\n"
    if not check_mode:
        assert f"{zz_daemon} line 2 (loglevel)" in result["msg"]
        assert f"{zz_jails} line 2 (banaction)" in result["msg"]


def test_interpreter_is_the_clients_shebang(tmp_path):
    client = tmp_path / "fail2ban-client"
    client.write_text("#!/usr/bin/python3 -s\nimport sys\n")
    assert fail2ban_effective.interpreter(str(client)) == "/usr/bin/python3"
    client.write_text("#!/usr/bin/env python3\n")
    assert fail2ban_effective.interpreter(str(client)) == "python3"
    client.write_text("#!/usr/bin/python3\n")
    assert fail2ban_effective.interpreter(str(client)) == "/usr/bin/python3"
    assert fail2ban_effective.interpreter(str(tmp_path / "missing")) is None

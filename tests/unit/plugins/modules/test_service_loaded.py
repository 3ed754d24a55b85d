# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import http.server
import os
import threading
import time

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _loaded
from ansible_collections.bulwark.hardening.plugins.modules import service_loaded
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)


class FakeSystemd:
    """systemctl show/start/reload/restart/enable for one unit; a (re)load moves its timestamp."""

    def __init__(self, active="active", enabled="enabled", loaded_ago=60.0):
        self.calls = []
        self.active = active
        self.enabled = enabled
        self.load_us = int((time.monotonic() - loaded_ago) * 1e6)

    def __call__(self, cmd):
        self.calls.append(cmd[1])
        if cmd[1] == "show":
            state = f"ActiveState={self.active}\nUnitFileState={self.enabled}\n"
            return 0, state + f"StateChangeTimestampMonotonic={self.load_us}\n", ""
        if cmd[1] in ("start", "reload", "restart"):
            self.active = "active"
            self.load_us = int(time.monotonic() * 1e6)
        elif cmd[1] == "enable":
            self.enabled = "enabled"
        return 0, "", ""


@pytest.fixture
def conf(tmp_path, monkeypatch):
    path = tmp_path / "apache2.conf"
    path.write_text("ServerTokens Prod\n")
    monkeypatch.setattr(_loaded, "STAMP_DIR", str(tmp_path / "stamps"))
    return path


def run(monkeypatch, fake, **args):
    patch_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: f"/bin/{name}")
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda self, cmd, **kw: fake(list(cmd)))
    args = {"name": "apache2", **args}
    args.setdefault("stamp_dir", _loaded.STAMP_DIR)
    with patch_module_args(args), pytest.raises((ExitJson, FailJson)) as exc:
        service_loaded.main()
    return exc.value.args[0]


@pytest.mark.parametrize(
    "state, stale_action, active, stale, expected",
    [
        ("started", "reloaded", False, False, "started"),
        ("current", "reloaded", False, True, None),
        ("started", "reloaded", True, False, None),
        ("started", "reloaded", True, True, "reloaded"),
        ("current", "restarted", True, True, "restarted"),
        ("started", "none", True, True, None),
        ("reloaded", "none", True, False, "reloaded"),
        ("restarted", "reloaded", True, False, "restarted"),
    ],
)
def test_plan(state, stale_action, active, stale, expected):
    assert service_loaded.plan(state, stale_action, active, ["x"] if stale else []) == expected


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_lost_reload_with_its_mtime_put_back_is_found_and_reloaded(monkeypatch, conf, check_mode):
    os.utime(conf, (1.0, 1.0))  # written after the daemon's load; mtime put back (touch -r)
    fake = FakeSystemd()
    result = run(monkeypatch, fake, files=[str(conf)], _ansible_check_mode=check_mode)
    assert result["changed"] is True and result["action"] == "reloaded"
    assert result["stale"] == [f"{conf} changed after the daemon last (re)loaded"]
    assert fake.calls == (["show"] if check_mode else ["show", "reload", "show"])
    assert os.path.exists(_loaded.stamp_path("apache2")) is not check_mode


def test_after_a_reload_the_stamp_keeps_the_next_run_quiet_despite_chattr(monkeypatch, conf):
    fake = FakeSystemd()
    run(monkeypatch, fake, files=[str(conf)], state="reloaded")
    conf.touch()  # a ctime change without a content change, as chattr +i makes
    again = run(monkeypatch, fake, files=[str(conf)])
    assert again["changed"] is False and again["stale"] == [] and fake.calls[-1] == "show"


def test_the_daemon_reloaded_by_someone_else_onto_the_same_files_is_current(monkeypatch, conf):
    fake = FakeSystemd()
    run(monkeypatch, fake, files=[str(conf)], state="reloaded")
    fake.load_us = int(time.monotonic() * 1e6)  # a reboot or a reload by hand, files untouched since
    assert run(monkeypatch, fake, files=[str(conf)])["changed"] is False


def test_weak_config_loaded_then_hardened_file_put_back_is_stale(monkeypatch, conf):
    """The Molecule reproduction: weak file live by a real reload, hardened bytes and mtime restored."""
    fake = FakeSystemd()
    run(monkeypatch, fake, files=[str(conf)], state="reloaded")
    hardened, mtime = conf.read_bytes(), conf.stat().st_mtime
    conf.write_text("ServerTokens Full\n")
    fake(["/bin/systemctl", "reload", "apache2"])  # the weak file is what the daemon now runs
    time.sleep(0.01)
    conf.write_bytes(hardened)
    os.utime(conf, (mtime, mtime))
    result = run(monkeypatch, fake, files=[str(conf)], _ansible_check_mode=True)
    assert result["changed"] is True and result["stale"] == [f"{conf} changed after the daemon last (re)loaded"]


def test_stopped_unit_is_started_and_enabled_but_current_leaves_it_stopped(monkeypatch, conf):
    fake = FakeSystemd(active="inactive", enabled="disabled")
    result = run(monkeypatch, fake, files=[str(conf)], enabled=True)
    assert result["changed"] is True and result["action"] == "started"
    assert fake.calls == ["show", "enable", "start", "show"]
    fake = FakeSystemd(active="inactive")
    assert run(monkeypatch, fake, files=[str(conf)], state="current")["changed"] is False


def test_stale_action_none_only_reports(monkeypatch, conf):
    os.utime(conf, (1.0, 1.0))
    fake = FakeSystemd()
    result = run(monkeypatch, fake, files=[str(conf)], stale_action="none")
    assert result["changed"] is False and result["stale"] and fake.calls == ["show"]


LIVE = "the running sshd offers password that its files do not (authentication methods: publickey, password live)"


@pytest.mark.parametrize("check_mode", [True, False])
def test_the_callers_reasons_count_as_stale_and_are_shown(monkeypatch, conf, check_mode):
    """What another module found the live daemon to offer: reloaded, and said in the diff."""
    fake = FakeSystemd()
    run(monkeypatch, fake, files=[str(conf)], state="reloaded")  # the files are current
    fake.calls.clear()
    result = run(
        monkeypatch, fake, files=[str(conf)], reasons=[LIVE], _ansible_check_mode=check_mode, _ansible_diff=True
    )
    assert result["changed"] is True and result["action"] == "reloaded"
    assert result["stale"] == [LIVE]
    assert result["diff"] == {"before": LIVE + "\n", "after": ""}
    assert fake.calls == (["show"] if check_mode else ["show", "reload", "show"])


def test_a_reload_asked_for_with_reasons_shows_them(monkeypatch, conf):
    fake = FakeSystemd()
    run(monkeypatch, fake, files=[str(conf)], state="reloaded")
    result = run(
        monkeypatch, fake, files=[str(conf)], state="reloaded", stale_action="none", reasons=[LIVE], _ansible_diff=True
    )
    assert result["diff"]["before"] == LIVE + "\n"
    without = run(monkeypatch, fake, files=[str(conf)], state="reloaded", stale_action="none", _ansible_diff=True)
    assert "diff" not in without  # a handler's reload says nothing


def test_unknown_unit_fails_with_its_name(monkeypatch, conf):
    result = run(monkeypatch, lambda cmd: (1, "", "no such unit"), files=[str(conf)], name="nope")
    assert result["msg"].startswith("systemctl show nope failed")


class FakeUfw:
    def __init__(self, live):
        self.live = live
        self.calls = []

    def __call__(self, cmd):
        self.calls.append(cmd[1])
        if cmd[1] == "-S":
            return 0, self.live if cmd[0].endswith("/iptables") else "", ""
        return 0, "Firewall reloaded", ""


@pytest.mark.parametrize("check_mode", [True, False])
def test_ufw_evidence_reloads_a_weaker_live_firewall(monkeypatch, tmp_path, check_mode):
    files = {
        "/etc/default/ufw": 'IPV6=no\nDEFAULT_INPUT_POLICY="DROP"\n',
        "/etc/ufw/user.rules": "",
        "/etc/ufw/user6.rules": "",
    }
    # No framework file (before.rules...): nothing of theirs is compared.
    monkeypatch.setattr(service_loaded, "read_text", files.get)
    fake = FakeUfw("-P INPUT ACCEPT\n-N ufw-user-input\n")
    result = run(monkeypatch, fake, name="ufw", evidence="ufw", state="current", _ansible_check_mode=check_mode)
    assert result["changed"] is True and result["action"] == "reloaded"
    assert result["stale"] == ["DEFAULT_INPUT_POLICY=DROP in /etc/default/ufw, but the live INPUT policy is ACCEPT"]
    assert fake.calls == (["-S", "-S"] if check_mode else ["-S", "-S", "reload"])
    fake.live = "-P INPUT DROP\n-N ufw-user-input\n"
    assert run(monkeypatch, fake, name="ufw", evidence="ufw", state="current")["changed"] is False


def test_ufw_evidence_reloads_when_told_even_if_the_live_rules_match(monkeypatch):
    files = {
        "/etc/default/ufw": 'IPV6=no\nDEFAULT_INPUT_POLICY="DROP"\n',
        "/etc/ufw/user.rules": "",
        "/etc/ufw/user6.rules": "",
    }
    monkeypatch.setattr(service_loaded, "read_text", files.get)
    fake = FakeUfw("-P INPUT DROP\n-N ufw-user-input\n")
    result = run(monkeypatch, fake, name="ufw", evidence="ufw", state="reloaded")
    assert result["changed"] is True and result["action"] == "reloaded" and result["stale"] == []
    assert fake.calls == ["-S", "-S", "reload"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_ufw_evidence_deletes_an_accept_inserted_by_hand_into_input(monkeypatch, check_mode):
    """A reload leaves a rule of the built-in INPUT chain in place: it is deleted by its own specification."""
    files = {
        "/etc/default/ufw": 'IPV6=no\nDEFAULT_INPUT_POLICY="DROP"\n',
        "/etc/ufw/user.rules": "",
        "/etc/ufw/user6.rules": "",
        "/etc/ufw/before.rules": "*filter\n-A ufw-before-input -i lo -j ACCEPT\nCOMMIT\n",
    }
    monkeypatch.setattr(service_loaded, "read_text", files.get)
    commands = []
    live = (
        "-P INPUT DROP\n-N ufw-user-input\n"
        '-A INPUT -p tcp -m tcp --dport 8081 -m comment --comment "by hand" -j ACCEPT\n'
        "-A INPUT -j ufw-before-input\n-A ufw-before-input -i lo -j ACCEPT\n-A ufw-before-input -j ufw-user-input\n"
    )
    fake = FakeUfw(live)

    def run_command(cmd):
        commands.append(list(cmd))
        return fake(cmd)

    result = run(monkeypatch, run_command, name="ufw", evidence="ufw", state="current", _ansible_check_mode=check_mode)
    rule = '-A INPUT -p tcp -m tcp --dport 8081 -m comment --comment "by hand" -j ACCEPT'
    assert result["changed"] is True and result["action"] == "reloaded"
    assert result["stale"] == [f"the live INPUT chain accepts traffic by a rule ufw did not make (iptables: {rule})"]
    deleted = [cmd[1:] for cmd in commands if cmd[1] == "-D"]
    expected = [
        [
            "-D",
            "INPUT",
            "-p",
            "tcp",
            "-m",
            "tcp",
            "--dport",
            "8081",
            "-m",
            "comment",
            "--comment",
            "by hand",
            "-j",
            "ACCEPT",
        ]
    ]
    assert deleted == ([] if check_mode else expected)


class Server:
    """A real HTTP server on 127.0.0.1 whose answer the test sets: status and headers (repeats kept)."""

    def __init__(self):
        outer = self
        self.status, self.headers = 200, [("X-Frame-Options", "DENY")]

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                self.send_response_only(outer.status)
                for name, value in outer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_TRACE = answer

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    live = Server()
    yield live
    live.httpd.shutdown()


def test_ask_gets_the_status_and_every_header_with_repeats(server):
    server.headers = [("X-Frame-Options", "DENY"), ("X-Frame-Options", "SAMEORIGIN"), ("Server", "Apache")]
    status, headers = service_loaded.ask({"url": server.url, "method": "GET"})
    assert status == 200
    assert [value for name, value in headers if name == "X-Frame-Options"] == ["DENY", "SAMEORIGIN"]
    assert service_loaded.ask({"url": "http://127.0.0.1:1/", "method": "GET"}, timeout=2) == (None, [])


@pytest.mark.parametrize(
    ("status", "headers", "reasons"),
    [
        (200, [("Server", "Apache"), ("X-Frame-Options", "DENY")], []),
        (
            200,
            [("Server", "Apache/2.4.62 (Debian)"), ("X-Frame-Options", "DENY"), ("x-frame-options", "DENY")],
            [
                "GET http://h/ sends Server: Apache/2.4.62 (Debian) (expected Apache, once)",
                "GET http://h/ sends X-Frame-Options: DENY; DENY 2 times (expected DENY, once)",
            ],
        ),
        (
            200,
            [("Server", "Apache"), ("X-Powered-By", "PHP/8.2")],
            [
                "GET http://h/ sends X-Frame-Options: nothing (expected DENY, once)",
                "GET http://h/ sends X-Powered-By: PHP/8.2 (expected none)",
            ],
        ),
        (None, [], ["GET http://h/ got no answer"]),
    ],
)
def test_answer_differences_name_each_wrong_header(status, headers, reasons):
    probe = {
        "url": "http://h/",
        "method": "GET",
        "headers": {"Server": "Apache", "X-Frame-Options": "DENY", "X-Powered-By": None},
    }
    assert _loaded.answer_differences(probe, status, headers) == reasons


def test_answer_differences_check_the_status():
    probe = {"url": "http://h/", "method": "TRACE", "status": [405]}
    assert _loaded.answer_differences(probe, 405, []) == []
    assert _loaded.answer_differences(probe, 200, []) == ["TRACE http://h/ answers 200 (expected 405)"]


def probe_of(server, value="DENY"):
    return [{"url": server.url, "headers": {"X-Frame-Options": value}}]


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_daemon_serving_old_headers_is_drift_and_reloaded_although_its_files_look_loaded(
    monkeypatch, conf, server, check_mode
):
    """A killed run: the files look loaded (no stamp, no ctime after the load), the answer says otherwise."""
    os.utime(conf, (1.0, 1.0))
    fake = FakeSystemd(loaded_ago=-5)  # (re)loaded after the files' last change
    server.headers = [("X-Frame-Options", "SAMEORIGIN")]
    if not check_mode:
        fake = _Reloading(fake, server)  # the reload is what makes the daemon answer right
    result = run(monkeypatch, fake, files=[str(conf)], probes=probe_of(server), _ansible_check_mode=check_mode)
    assert result["changed"] is True and result["action"] == "reloaded"
    assert result["live"] == [f"GET {server.url} sends X-Frame-Options: SAMEORIGIN (expected DENY, once)"]
    assert result["stale"] == result["live"]


class _Reloading:
    def __init__(self, fake, server):
        self.fake, self.server, self.calls = fake, server, fake.calls

    def __call__(self, cmd):
        if cmd[1] == "reload":
            self.server.headers = [("X-Frame-Options", "DENY")]
        return self.fake(cmd)


def test_a_right_answer_is_no_drift(monkeypatch, conf, server):
    fake = FakeSystemd(loaded_ago=-5)
    os.utime(conf, (1.0, 1.0))
    result = run(monkeypatch, fake, files=[str(conf)], probes=probe_of(server))
    assert (result["changed"], result["live"], fake.calls) == (False, [], ["show"])


def test_a_wrong_answer_a_reload_does_not_repair_fails_naming_it(monkeypatch, conf, server):
    fake = FakeSystemd(loaded_ago=-5)
    os.utime(conf, (1.0, 1.0))
    server.headers = [("X-Frame-Options", "SAMEORIGIN")]
    result = run(monkeypatch, fake, files=[str(conf)], probes=probe_of(server), probe_wait=1)
    assert fake.calls[:2] == ["show", "reload"]
    assert result["msg"].startswith("apache2 still answers wrongly after it was reloaded: GET ")
    assert "sends X-Frame-Options: SAMEORIGIN (expected DENY, once)" in result["msg"]


def test_a_probe_that_is_no_web_url_is_refused_by_name(monkeypatch, conf):
    result = run(monkeypatch, FakeSystemd(), files=[str(conf)], probes=[{"url": "ftp://h/"}])
    assert result["msg"] == "probes: 'ftp://h/' is not an http:// or https:// URL"

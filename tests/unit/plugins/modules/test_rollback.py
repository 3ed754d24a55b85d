# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.modules import rollback as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

MANIFEST = {
    "armed_at": 1000,
    "deadline": 1090,
    "window": 90,
    "rearmed_at": 1000,
    "unit": "bulwark-rollback-1000000",
    "what": ["sshd configuration"],
    "actions": ["systemctl reload ssh.service"],
    "files": [{"path": "/etc/ssh/sshd_config", "saved": "files/0", "real": "/etc/ssh/sshd_config"}],
}
SUMMARY = {
    "armed_at": 1000,
    "deadline": 1090,
    "window": 90,
    "unit": "bulwark-rollback-1000000",
    "what": ["sshd configuration"],
    "files": ["/etc/ssh/sshd_config"],
}


@pytest.fixture
def host(monkeypatch, tmp_path):
    """An empty state dir; systemctl and systemd-run faked (the timer is active unless told)."""
    patch_exits(monkeypatch)
    calls = []
    answers = {"is-active": (0, "active\n", "")}

    def run_command(module, argv, **kwargs):
        assert isinstance(argv, list)
        calls.append(argv)
        return answers.get(argv[1] if argv[0].endswith("systemctl") else argv[0], (0, "", ""))

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    state = tmp_path / "state"

    def put(name, manifest, restored_at=None):
        (state / name).mkdir(parents=True)
        (state / name / "manifest.json").write_text(json.dumps(manifest))
        if restored_at is not None:
            (state / name / "restored_at").write_text(f"{restored_at}\n")

    return type("Host", (), {"state": state, "calls": calls, "answers": answers, "put": staticmethod(put)})()


def run(host, args, expect=ExitJson):
    with patch_module_args({"state_dir": str(host.state), **args}), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def test_status_reads_what_is_armed(host):
    host.put("armed", MANIFEST)
    result = run(host, {})
    assert result == {"changed": False, "rollback": {"armed": True, **SUMMARY}}
    assert host.calls == [["/usr/bin/systemctl", "is-active", "bulwark-rollback-1000000.timer"]]


def test_status_of_a_snapshot_whose_timer_is_gone(host):
    host.put("armed", MANIFEST)
    host.answers["is-active"] = (3, "inactive\n", "")
    assert run(host, {"state": "status"})["rollback"]["armed"] is False


def test_status_with_nothing_armed_says_when_the_host_rolled_back(host):
    host.put("last-restored", MANIFEST, restored_at=1090)
    result = run(host, {"state": "status"})
    assert result == {"changed": False, "rollback": {"armed": False}, "restored_at": 1090}
    assert host.calls == []


@pytest.mark.parametrize("state", ["confirmed", "armed"])
def test_check_mode_only_reads(host, state):
    host.put("armed", MANIFEST)
    result = run(host, {"state": state, "paths": ["/etc/pam.d/sshd"], "_ansible_check_mode": True})
    assert result == {"changed": False, "rollback": {"armed": True, **SUMMARY}}
    assert host.calls == [["/usr/bin/systemctl", "is-active", "bulwark-rollback-1000000.timer"]]
    assert json.loads((host.state / "armed" / "manifest.json").read_text()) == MANIFEST


def test_confirmed_disarms_and_sets_the_fact(host):
    host.put("armed", MANIFEST)
    result = run(host, {"state": "confirmed", "armed_at": 1000})
    assert result["changed"] is False
    assert result["rollback"] == {"armed": False, "confirmed": True, **SUMMARY}
    assert result["ansible_facts"] == {"bulwark_rollback": result["rollback"]}
    assert host.calls == [["/usr/bin/systemctl", "stop", "bulwark-rollback-1000000.timer"]]
    assert not (host.state / "armed").exists()


def test_confirmed_fails_when_the_host_rolled_back_already(host):
    host.put("last-restored", MANIFEST, restored_at=1090)
    result = run(host, {"state": "confirmed", "armed_at": 1000}, FailJson)
    assert result["msg"] == (
        "the host rolled back before the confirmation arrived (the run took longer than the window)"
    )
    assert result["rollback"] == {"armed": False, "restored_at": 1090, **SUMMARY}
    assert host.calls == []


def test_confirmed_with_nothing_armed_is_quiet(host):
    host.put("last-restored", {**MANIFEST, "armed_at": 500}, restored_at=590)
    result = run(host, {"state": "confirmed", "armed_at": 1000})
    assert result["rollback"] == {"armed": False, "confirmed": False}
    assert result["restored_at"] == 590


def test_armed_saves_and_starts_the_timer(host, tmp_path):
    pam = tmp_path / "sshd"
    pam.write_text("auth required pam_unix.so\n")
    result = run(
        host, {"state": "armed", "paths": [str(pam)], "actions": ["systemctl reload ssh.service"], "window": 120}
    )
    assert result["changed"] is True
    assert result["rollback"]["armed"] is True
    assert result["rollback"]["window"] == 120
    assert result["rollback"]["what"] == ["files"]
    assert result["ansible_facts"] == {"bulwark_rollback": result["rollback"]}
    assert [argv[0] for argv in host.calls] == ["/usr/bin/systemd-run"]
    assert (host.state / "armed" / "files" / "0").read_text() == "auth required pam_unix.so\n"


def test_armed_refuses_a_short_window(host):
    result = run(host, {"state": "armed", "window": 10}, FailJson)
    assert result["msg"] == "the rollback window must be at least 30 seconds, got 10"
    assert host.calls == []

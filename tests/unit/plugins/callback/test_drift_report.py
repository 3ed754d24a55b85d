# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.playbook.handler import Handler
from ansible.playbook.task import Task

from ansible_collections.bulwark.hardening.plugins.callback.drift_report import CallbackModule, render, summarise_diff


@pytest.mark.parametrize(
    ("diff", "expected"),
    [
        (None, []),
        ({}, []),
        ({"before": "a\nb\n", "after": "a\nc\n"}, ["-b", "+c"]),
        ([{"before": "x", "after": "x"}], []),
        ({"before": {"state": "absent"}, "after": {"state": "file"}}, ['-{"state": "absent"}', '+{"state": "file"}']),
        ({"prepared": "+ allow 22/tcp\n\n- deny 7777\n"}, ["+ allow 22/tcp", "- deny 7777"]),
    ],
)
def test_summarise_diff(diff, expected):
    assert summarise_diff(diff) == expected


def test_summarise_diff_is_bounded():
    lines = summarise_diff({"before": "", "after": "\n".join(str(i) for i in range(20))})
    assert len(lines) == 7
    assert lines[-1] == "... (14 more lines)"


def _report(drift=(), failed=0):
    return {
        "check_mode": True,
        "hosts": {"web1": {"ok": 5, "failed": failed, "unreachable": 0, "drift": list(drift)}},
    }


def test_render_in_compliance():
    text = render(_report())
    assert "check mode (nothing was changed)" in text
    assert "web1: in compliance (5 checked)" in text


def test_render_lists_drift_with_role_and_diff():
    text = render(
        _report([{"task": "Write sshd_config", "role": "ssh_hardening", "diff": ["-PasswordAuthentication yes"]}])
    )
    assert "web1: 1 setting(s) differ from the declared state (6 checked)" in text
    assert "- [ssh_hardening] Write sshd_config" in text
    assert "-PasswordAuthentication yes" in text


def test_render_failure_wins_over_compliance():
    assert "FAILED (1 failed, 0 unreachable)" in render(_report(failed=1))


class _Host:
    def __init__(self, name):
        self._name = name

    def get_name(self):
        return self._name


class _Result:
    def __init__(self, task, changed, host="web1"):
        self._host = _Host(host)
        self._task = task
        self._result = {"changed": changed}


def _task(cls, name):
    task = cls()
    task.name = name
    return task


def test_a_handler_is_not_drift_but_counts_as_executed():
    callback = CallbackModule()
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config"), changed=True))
    callback.v2_runner_on_ok(_Result(_task(Handler, "Reload sshd (bulwark)"), changed=True))
    callback.v2_runner_on_ok(_Result(_task(Task, "Read the version"), changed=False))
    host = callback._hosts["web1"]
    assert [item["task"] for item in host["drift"]] == ["Write sshd_config"]
    assert host["ok"] == 2
    assert host["tasks"] == {"play": 3}

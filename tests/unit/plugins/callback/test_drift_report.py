# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import sys
from xml.etree import ElementTree

import pytest
from ansible.playbook.handler import Handler
from ansible.playbook.task import Task

from ansible_collections.bulwark.hardening.plugins.callback.drift_report import (
    EXIT_STATUS,
    STATE_ENV,
    CallbackModule,
    final_status,
    verdict,
)
from ansible_collections.bulwark.hardening.plugins.lookup.drift import host_state
from ansible_collections.bulwark.hardening.plugins.module_utils._controls import CONTROLS
from ansible_collections.bulwark.hardening.plugins.module_utils._drift_report import (
    build,
    junit,
    markdown,
    render,
    summarise_diff,
)


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


# Tasks name their control by its ID; the report describes it from the catalogue.
SSH = "SSH-CONFIG"
UFW = "UFW-RULESET"
SSH_TITLE = CONTROLS[SSH]["title"]


class _Host:
    def __init__(self, name):
        self._name = name

    def get_name(self):
        return self._name


class _Result:
    def __init__(self, task, changed, host="web1", diff=None, **extra):
        self._host = _Host(host)
        self._task = task
        self._result = {"changed": changed, **({"diff": diff} if diff else {}), **extra}


def _task(cls, name, control=None, **task_vars):
    task = cls()
    task.name = name
    task.vars = {**({"bulwark_control": control} if control else {}), **task_vars}
    return task


SSHD_DIFF = {"before": "PasswordAuthentication yes\n", "after": "PasswordAuthentication no\n"}


def _run(check=True):
    """A run over two hosts: web1 drifted (SSH-CONFIG, twice, and a task of the user's own), web2 in compliance."""
    callback = CallbackModule()
    callback._check_mode = check
    sshd = _task(Task, "Write sshd_config", SSH)
    drop_in = _task(Task, "Write the sshd drop-in", SSH)
    ufw = _task(Task, "Apply the ufw rules", UFW)
    mine = _task(Task, "My own motd")
    callback.v2_runner_on_ok(_Result(sshd, True, diff=SSHD_DIFF))
    callback.v2_runner_on_ok(_Result(drop_in, True, diff={"before": "", "after": "Banner /etc/issue.net\n"}))
    callback.v2_runner_on_ok(_Result(ufw, False))
    callback.v2_runner_on_ok(_Result(mine, True))
    callback.v2_runner_on_ok(_Result(_task(Handler, "Reload sshd (bulwark)"), True))
    for task in (sshd, drop_in, ufw, mine):
        callback.v2_runner_on_ok(_Result(task, False, host="web2"))
    return build(callback._hosts, check)


def test_a_handler_is_not_drift_but_counts_as_executed():
    host = _run()["hosts"]["web1"]
    assert [item["task"] for item in host["drift"]] == ["Write sshd_config", "Write the sshd drop-in", "My own motd"]
    assert host["tasks"] == {"play": 5}


def test_tasks_of_one_control_make_one_control_with_expected_and_found():
    host = _run()["hosts"]["web1"]
    assert list(host["controls"]) == ["SSH-CONFIG", "UFW-RULESET", "task: My own motd"]
    # Unchanged, a task without a control is no entry: web2 checked the two controls only.
    assert list(_run()["hosts"]["web2"]["controls"]) == ["SSH-CONFIG", "UFW-RULESET"]
    ssh = host["controls"]["SSH-CONFIG"]
    assert ssh["status"] == "drift"
    assert ssh["tasks"] == ["Write sshd_config", "Write the sshd drop-in"]
    assert ssh["title"] == SSH_TITLE
    assert ssh["found"] == ["PasswordAuthentication yes"]
    assert ssh["expected"] == ["PasswordAuthentication no", "Banner /etc/issue.net"]
    assert (ssh["measure"], ssh["cis"]) == (CONTROLS[SSH]["measure"], CONTROLS[SSH]["cis"])
    assert host["controls"]["UFW-RULESET"]["status"] == "compliant"
    assert host["status"] == "drift"


def test_fleet_summary_counts_hosts_per_control():
    summary = _run()["summary"]
    assert summary["compliant"] == ["web2"]
    assert summary["drifted"] == ["web1"]
    assert summary["controls"]["SSH-CONFIG"] == {
        "title": SSH_TITLE,
        "role": "",
        "checked": 2,
        "drifted": ["web1"],
    }
    assert "UFW-RULESET" not in summary["controls"]


def test_console_summary():
    text = render(_run())
    assert "check mode (nothing was changed)" in text
    assert "web1: 2 of 3 control(s) drifted" in text
    assert "- SSH-CONFIG %s [play]" % SSH_TITLE in text
    assert "-PasswordAuthentication yes" in text
    assert "- (no control) My own motd [play]" in text
    assert "web2: in compliance (2 controls checked)" in text
    assert "SSH-CONFIG drifted on 1 of 2 host(s): web1" in text


def test_failure_wins_over_compliance():
    callback = CallbackModule()
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), False))
    callback.v2_runner_on_failed(_Result(_task(Task, "Install ufw", UFW), False))
    report = build(callback._hosts, True)
    assert report["hosts"]["web1"]["status"] == "failed"
    assert "FAILED (1 failed, 0 unreachable)" in render(report)


def test_no_log_task_keeps_its_diff_out_of_the_report():
    callback = CallbackModule()
    secret = _task(Task, "Write the token", SSH)
    secret.no_log = True
    callback.v2_runner_on_ok(_Result(secret, True, diff={"before": "", "after": "token=hunter2\n"}))
    report = build(callback._hosts, True)
    assert "hunter2" not in json.dumps(report) + markdown(report) + junit(report) + render(report)
    assert report["hosts"]["web1"]["status"] == "drift"


def test_the_gate_task_is_not_part_of_the_report():
    callback = CallbackModule()
    gate = _task(Task, "Assert that the host complies", bulwark_drift_gate=True)
    callback.v2_runner_on_failed(_Result(gate, False))
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), True))
    assert build(callback._hosts, True)["hosts"]["web1"]["status"] == "drift"


def test_junit_has_a_case_per_host_and_control():
    root = ElementTree.fromstring(junit(_run()))
    suites = {suite.get("name"): suite for suite in root}
    assert (suites["web1"].get("tests"), suites["web1"].get("failures")) == ("3", "2")
    # The same cases on every host: web2 has web1's own task too, skipped with the reason.
    assert (suites["web2"].get("tests"), suites["web2"].get("failures"), suites["web2"].get("skipped")) == (
        "3",
        "0",
        "1",
    )
    assert [case.get("name") for case in suites["web2"]] == [case.get("name") for case in suites["web1"]]
    assert (
        suites["web2"][2].find("skipped").get("message")
        == "not checked on web2: no task of task: My own motd ran there"
    )
    failed = [case.get("name") for case in suites["web1"] if case.find("failure") is not None]
    assert failed == ["SSH-CONFIG %s" % SSH_TITLE, "task: My own motd"]
    assert "-PasswordAuthentication yes" in suites["web1"][0].find("failure").text


def test_markdown_has_the_fleet_table_and_the_diff():
    text = markdown(_run())
    assert "| `SSH-CONFIG` | %s | 1 of 2: web1 |" % SSH_TITLE in text
    assert "## web1: drift" in text
    assert "## web2: compliant" in text
    assert "```diff\n-PasswordAuthentication yes\n+PasswordAuthentication no" in text
    assert "CIS Debian 12 %s" % CONTROLS[SSH]["cis"] in text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web1", {"status": "drift", "drifted": ["SSH-CONFIG", "task: My own motd"], "checked": 3}),
        ("web2", {"status": "compliant", "drifted": [], "checked": 2}),
        ("db1", {"status": "unchecked", "drifted": [], "checked": 0}),
    ],
)
def test_the_lookup_reads_a_hosts_verdict(name, expected):
    assert host_state(_run(), name) == expected


def test_the_report_so_far_is_published_for_the_gate(tmp_path, monkeypatch):
    monkeypatch.setattr("ansible.context.CLIARGS", {"check": True})
    callback = CallbackModule()
    callback.v2_playbook_on_start(None)
    state = os.environ[STATE_ENV]
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), True))
    callback.v2_playbook_on_play_start(None)
    with open(state, encoding="utf-8") as handle:
        assert host_state(json.load(handle), "web1")["drifted"] == ["SSH-CONFIG"]
    report_path = tmp_path / "report.json"
    options = {
        "report_path": str(report_path),
        "junit_path": str(tmp_path / "report.xml"),
        "markdown_path": str(tmp_path / "report.md"),
        "quiet": True,
    }
    monkeypatch.setattr(callback, "get_option", options.get)
    callback.v2_playbook_on_stats(None)
    assert json.loads(report_path.read_text())["summary"]["drifted"] == ["web1"]
    assert ElementTree.parse(tmp_path / "report.xml").getroot().tag == "testsuites"
    assert (tmp_path / "report.md").read_text().startswith("# Drift report (check mode")
    assert not os.path.exists(state)
    assert STATE_ENV not in os.environ


def test_a_drift_without_diff_reports_the_tasks_message():
    callback = CallbackModule()
    pending = _task(Task, "Report pending upgrades", "UPDATES-SECURITY-PENDING")
    callback.v2_runner_on_ok(_Result(pending, True, msg="2 security upgrade(s) pending for\n 9 day(s)"))
    entry = build(callback._hosts, True)["hosts"]["web1"]["controls"]["UPDATES-SECURITY-PENDING"]
    assert entry["found"] == ["2 security upgrade(s) pending for 9 day(s)"]


def test_a_loop_reports_the_diffs_of_its_changed_items():
    callback = CallbackModule()
    ini = _task(Task, "Write the ini of each SAPI", "PHP-INI")
    items = [
        {"changed": True, "diff": [{"before": "allow_url_fopen = On\n", "after": "allow_url_fopen = Off\n"}]},
        {"changed": False, "diff": [{"before": "x\n", "after": "y\n"}]},
    ]
    callback.v2_runner_on_ok(_Result(ini, True, results=items, msg="All items completed"))
    entry = build(callback._hosts, True)["hosts"]["web1"]["controls"]["PHP-INI"]
    assert (entry["found"], entry["expected"]) == (["allow_url_fopen = On"], ["allow_url_fopen = Off"])


class _Summary:
    """A warning as ansible-core 2.19 and later hand it to callbacks (WarningSummary.event.msg)."""

    def __init__(self, msg):
        self.event = type("Event", (), {"msg": msg})()


REMOVED = "ufw: `ufw allow in proto tcp from any to any port 8080` is not declared, so exclusive removes it."


@pytest.mark.parametrize("modern", [False, True])
def test_warnings_of_controlled_tasks_are_listed_under_the_host(modern):
    callback = CallbackModule()
    ufw = _task(Task, "Apply the ufw rules", UFW)
    mine = _task(Task, "My own task")
    for task in (ufw, mine):
        result = _Result(task, True, diff={"before": "allow 8080/tcp\n", "after": ""})
        if modern:
            result.warnings = [_Summary(REMOVED)]
        else:
            result._result["warnings"] = [REMOVED]
        callback.v2_runner_on_ok(result)
    report = build(callback._hosts, True)
    assert report["hosts"]["web1"]["controls"]["UFW-RULESET"]["warnings"] == [REMOVED]
    # A task of the user's own is theirs to read in the run; the report lists our controls' warnings.
    assert report["hosts"]["web1"]["controls"]["task: My own task"]["warnings"] == []
    assert f"    ! UFW-RULESET: {REMOVED}" in render(report)
    assert f"- `UFW-RULESET`: {REMOVED}" in markdown(report)


def test_warnings_are_listed_on_a_compliant_host_too():
    callback = CallbackModule()
    result = _Result(_task(Task, "Apply the ufw rules", UFW), False, warnings=[REMOVED])
    callback.v2_runner_on_ok(result)
    report = build(callback._hosts, True)
    assert report["hosts"]["web1"]["status"] == "compliant"
    assert REMOVED in render(report)


def _drifted(*tasks):
    """The report of one host on which each (task name, control) given reported a change."""
    callback = CallbackModule()
    for name, control in tasks:
        callback.v2_runner_on_ok(_Result(_task(Task, name, control), True, diff=SSHD_DIFF))
    return build(callback._hosts, True)


def test_a_catalogued_control_is_reported_with_its_title_measure_and_cis():
    report = _drifted(("Install the hardened sshd_config", "SSH-CONFIG"))
    assert "    - SSH-CONFIG Hardened sshd_config [play]" in render(report).splitlines()
    measure = (
        "Role `play`. Measure: No root login, keys only, strong algorithms, login limits, no forwarding"
        " (i-doit guide: Securing SSH; server checklist #5); CIS Debian 12 5.1.4-5.1.7, 5.1.10-5.1.22."
    )
    assert measure in markdown(report).splitlines()
    failure = ElementTree.fromstring(junit(report)).find("testsuite/testcase/failure")
    assert failure.text.splitlines()[0] == measure[len("Role `play`. Measure: ") : -1]


def test_a_control_without_a_cis_reference_shows_its_measure_alone():
    text = markdown(_drifted(("Install the OpenSSH server", "SSH-PACKAGE")))
    assert "Measure: %s." % CONTROLS["SSH-PACKAGE"]["measure"] in text
    assert "CIS Debian 12" not in text


def test_the_title_is_the_catalogues_whichever_task_of_the_control_ran_first():
    report = _drifted(("Report that sshd would be installed", SSH), ("Install the hardened sshd_config", SSH))
    entry = report["hosts"]["web1"]["controls"][SSH]
    assert entry["title"] == SSH_TITLE
    assert entry["tasks"] == ["Report that sshd would be installed", "Install the hardened sshd_config"]


def test_an_id_the_catalogue_does_not_hold_is_reported_under_it_with_the_tasks_name():
    report = _drifted(("Rotate the backup key", "MYORG-BACKUP-KEY"))
    entry = report["hosts"]["web1"]["controls"]["MYORG-BACKUP-KEY"]
    assert (entry["id"], entry["title"], entry["measure"], entry["cis"]) == (
        "MYORG-BACKUP-KEY",
        "Rotate the backup key",
        "",
        "",
    )
    assert "- MYORG-BACKUP-KEY Rotate the backup key [play]" in render(report)


class _Clock:
    """time.monotonic, moved on by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_controls_time_is_the_sum_of_its_tasks_on_the_host(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr("ansible_collections.bulwark.hardening.plugins.callback.drift_report.time.monotonic", clock)
    callback = CallbackModule()
    tasks = [_task(Task, "Write sshd_config", SSH), _task(Task, "Write the sshd drop-in", SSH)]
    for task, seconds in zip(tasks, (1.5, 0.25)):
        callback.v2_playbook_on_task_start(task, False)
        callback.v2_runner_on_start(_Host("web1"), task)
        clock.now += seconds
        callback.v2_runner_on_ok(_Result(task, False))
    assert build(callback._hosts, True)["hosts"]["web1"]["controls"][SSH]["time"] == 1.75


def test_failed_and_unreachable_hosts_keep_why():
    callback = CallbackModule()
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), False))
    callback.v2_runner_on_failed(_Result(_task(Task, "Install ufw", UFW), False, msg="No package matching 'ufw'"))
    secret = _task(Task, "Read the token", SSH)
    secret.no_log = True
    callback.v2_runner_on_failed(_Result(secret, False, host="web2", msg="token=hunter2 refused"))
    callback.v2_runner_on_unreachable(_Result(_task(Task, "Gathering Facts"), False, host="db1", msg="ssh: timed out"))
    hosts = build(callback._hosts, True)["hosts"]
    assert hosts["web1"]["reason"] == "Install ufw: No package matching 'ufw'"
    assert hosts["web2"]["reason"] == "Read the token: (hidden by no_log)"
    assert (hosts["db1"]["status"], hosts["db1"]["reason"]) == ("unreachable", "Gathering Facts: ssh: timed out")


def test_a_skipped_task_marks_its_control_not_applicable_on_the_host():
    callback = CallbackModule()
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), False))
    callback.v2_runner_on_skipped(_Result(_task(Task, "Apply the ufw rules", UFW), False))
    callback.v2_runner_on_skipped(_Result(_task(Task, "Skipped before any result"), False, host="web9"))
    hosts = build(callback._hosts, True)["hosts"]
    assert hosts["web1"]["skipped"] == {UFW: "its task 'Apply the ufw rules' was skipped (role play)"}
    assert "web9" not in hosts  # a host is reported from its first result that ran


def test_a_drifted_results_files_and_settings_reach_the_report():
    callback = CallbackModule()
    diff = {**SSHD_DIFF, "before_header": "/etc/ssh/sshd_config", "after_header": "/etc/ssh/sshd_config"}
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), True, diff=diff))
    entry = build(callback._hosts, True)["hosts"]["web1"]["controls"][SSH]
    assert entry["files"] == ["/etc/ssh/sshd_config"]
    assert entry["settings"] == [
        {"file": "/etc/ssh/sshd_config", "setting": "PasswordAuthentication", "expected": "no", "found": "yes"}
    ]


def test_a_task_that_writes_the_files_of_several_controls_reports_each_by_its_own_files():
    callback = CallbackModule()
    task = _task(Task, "Write the login environment", ["OS-BANNERS", "OS-SHELL", "OS-CORE-DUMPS"])
    motd = {
        "before": "hello\n",
        "after": "Authorised access only.\n",
        "before_header": "/etc/motd",
        "after_header": "/etc/motd",
    }
    files = [
        {"dest": "/etc/motd", "changed": True, "changes": ["content"], "control": "OS-BANNERS"},
        {"dest": "/etc/profile.d/b.sh", "changed": False, "changes": [], "control": "OS-SHELL"},
    ]
    callback.v2_runner_on_ok(_Result(task, True, diff=[motd], files=files))
    callback.v2_runner_on_ok(_Result(task, False, host="web2", files=[{**item, "changed": False} for item in files]))
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), False, host="web3"))
    callback.v2_runner_on_skipped(_Result(task, False, host="web3"))
    hosts = build(callback._hosts, True)["hosts"]
    controls = hosts["web1"]["controls"]
    assert {key: entry["status"] for key, entry in controls.items()} == {
        "OS-BANNERS": "drift",
        "OS-SHELL": "compliant",
        "OS-CORE-DUMPS": "compliant",
    }
    assert controls["OS-BANNERS"]["files"] == ["/etc/motd"]
    assert controls["OS-BANNERS"]["expected"] == ["Authorised access only."]
    assert controls["OS-SHELL"]["expected"] == []
    assert {entry["status"] for entry in hosts["web2"]["controls"].values()} == {"compliant"}
    assert sorted(hosts["web3"]["skipped"]) == ["OS-BANNERS", "OS-CORE-DUMPS", "OS-SHELL"]


def test_the_html_report_and_the_run_are_written(tmp_path, monkeypatch):
    monkeypatch.setattr("ansible.context.CLIARGS", {"check": True})
    callback = CallbackModule()
    callback.v2_playbook_on_start(None)
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), True, diff=SSHD_DIFF))
    options = {"report_path": str(tmp_path / "r.json"), "html_path": str(tmp_path / "r.html"), "quiet": True}
    monkeypatch.setattr(callback, "get_option", options.get)
    callback.v2_playbook_on_stats(None)
    run = json.loads((tmp_path / "r.json").read_text())["run"]
    assert sorted(run) == ["finished", "started", "version"]
    assert run["started"].endswith("Z") and run["version"] != "unknown"
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="matrix"' in page and run["version"] in page


# --- the verdict and the exit status ---------------------------------------------------------------


def _fleet(*hosts):
    """A report of hosts given as (name, status of its one control or None for no control, failed, unreachable)."""
    callback = CallbackModule()
    for name, control, failed, unreachable in hosts:
        if control is not None:
            callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), control == "drift", host=name))
        if failed:
            callback.v2_runner_on_failed(_Result(_task(Task, "Install ufw", UFW), False, host=name))
        if unreachable:
            callback.v2_runner_on_unreachable(_Result(_task(Task, "Install ufw", UFW), False, host=name))
    return build(callback._hosts, True)


@pytest.mark.parametrize(
    ("hosts", "expected", "words"),
    [
        ([("web1", "compliant", 0, 0), ("web2", "compliant", 0, 0)], "compliant", "2 host(s) in compliance"),
        ([("web1", "drift", 0, 0), ("web2", "compliant", 0, 0)], "drifted", "1 host(s) drifted: web1."),
        # A drift is a finding: it wins over a host the run could not check (which the reason names).
        ([("web1", "drift", 0, 0), ("web2", None, 0, 1)], "drifted", "web1 (and web2 failed or unreachable)"),
        ([("web1", "compliant", 1, 0), ("web2", "compliant", 0, 0)], "failed", "failed or unreachable"),
        ([("web1", None, 0, 1)], "failed", ": web1."),
        # Hosts answered but no control ran (--tags that select none): nothing was checked.
        ([("web1", None, 0, 0)], "misuse", "no control ran on any host"),
    ],
)
def test_the_verdict_of_a_check_run(hosts, expected, words):
    said = verdict(_fleet(*hosts), check_mode=True, drift_run=False, matched=True)
    assert (said["status"], said["exit_status"]) == (expected, EXIT_STATUS[expected])
    assert words in said["reason"]


def test_a_host_without_a_control_does_not_decide_the_verdict():
    # A play of the user's own on other hosts (no control of ours) neither passes nor fails the run.
    report = _fleet(("web1", "compliant", 0, 0))
    report["hosts"]["db1"] = build({"db1": {**report["hosts"]["web1"], "controls": {}}}, True)["hosts"]["db1"]
    assert verdict(report, check_mode=True, drift_run=False, matched=True)["status"] == "compliant"


def test_no_host_matched_is_misuse():
    said = verdict(build({}, True), check_mode=True, drift_run=False, matched=False)
    assert said["exit_status"] == EXIT_STATUS["misuse"]
    assert said["reason"].startswith("no host matched: check the inventory (-i)")


def test_a_drift_run_without_check_is_misuse_whatever_it_found():
    said = verdict(_fleet(("web1", "drift", 0, 0)), check_mode=False, drift_run=True, matched=True)
    assert said["exit_status"] == EXIT_STATUS["misuse"]
    assert "--check" in said["reason"]


def test_the_verdicts_exit_statuses_are_none_of_ansible_playbooks_own():
    ansible_own = {1, 2, 3, 4, 5, 6, 8, 99, 250}
    assert EXIT_STATUS["compliant"] == 0
    assert len(set(EXIT_STATUS.values())) == len(EXIT_STATUS)
    assert not set(EXIT_STATUS.values()) & ansible_own


@pytest.mark.parametrize(
    ("ansible_status", "verdict_status", "complete", "expected"),
    [
        (0, 10, True, 10),  # drifted in check mode: ansible-playbook saw no failure
        (2, 10, True, 10),  # the gate failed the drifted host
        (2, 12, True, 12),  # drift.yml's refusal failed every host
        (4, 11, True, 11),  # a host unreachable
        (0, 0, True, 0),
        (2, 0, True, 11),  # a failure the report does not show is never success
        (1, 10, True, 1),  # ansible-playbook's own errors are kept: no verdict
        (5, 0, True, 5),
        (99, 10, True, 99),
        (250, 0, True, 250),
        (4, 0, False, 4),  # a parse error of a later playbook: the run did not reach its end
        (0, 10, False, 0),
    ],
)
def test_the_status_to_exit_with(ansible_status, verdict_status, complete, expected):
    assert final_status(ansible_status, verdict_status, complete) == expected


class _Play:
    def __init__(self, **play_vars):
        self.vars = play_vars


def _callback(monkeypatch, *, check=True, exit_status=True, playbooks=("site.yml",)):
    """A callback as ansible-playbook loads it, with sys.exit to restore after the test."""
    monkeypatch.setattr("ansible.context.CLIARGS", {"check": check, "args": list(playbooks)})
    monkeypatch.setattr(sys, "exit", sys.exit)
    callback = CallbackModule()
    options = {"exit_status": exit_status, "quiet": True}
    monkeypatch.setattr(callback, "get_option", options.get)
    callback.v2_playbook_on_start(None)
    return callback


def _exit(status):
    """The status the process exits with when ansible-playbook calls sys.exit(status)."""
    with pytest.raises(SystemExit) as exited:
        sys.exit(status)
    return exited.value.code


def test_a_drifted_check_run_exits_with_the_verdicts_status(monkeypatch):
    callback = _callback(monkeypatch)
    callback.v2_playbook_on_play_start(_Play())
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), True))
    callback.v2_playbook_on_stats(None)
    assert _exit(0) == 10
    # ansible-playbook's own error is kept.
    assert _exit(250) == 250


def test_a_run_that_is_no_check_keeps_ansible_playbooks_status(monkeypatch):
    callback = _callback(monkeypatch, check=False)
    callback.v2_playbook_on_play_start(_Play())
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), True))
    callback.v2_playbook_on_stats(None)
    assert _exit(0) == 0


def test_exit_status_false_leaves_the_status_to_ansible_playbook_but_not_under_the_gate(monkeypatch):
    callback = _callback(monkeypatch, exit_status=False, playbooks=("site.yml", "drift_gate.yml"))
    callback.v2_playbook_on_play_start(_Play())
    callback.v2_runner_on_ok(_Result(_task(Task, "Write sshd_config", SSH), True))
    callback.v2_playbook_on_stats(None)
    assert _exit(0) == 0
    # The gate play: left out of the report, and the verdict is the exit status whatever the option says.
    callback.v2_playbook_on_start(None)
    callback.v2_playbook_on_play_start(_Play(bulwark_drift_gate=True))
    callback.v2_runner_on_failed(_Result(_task(Task, "Assert that the host complies"), False))
    callback.v2_playbook_on_stats(None)
    assert callback._hosts["web1"]["failed"] == 0
    assert _exit(2) == 10


def test_the_report_so_far_lasts_until_the_last_playbook(monkeypatch):
    callback = _callback(monkeypatch, playbooks=("site.yml", "drift_gate.yml"))
    state = os.environ[STATE_ENV]
    callback.v2_playbook_on_play_start(_Play())
    callback.v2_playbook_on_stats(None)
    # The gate (the second playbook) reads it.
    assert os.path.exists(state)
    callback.v2_playbook_on_start(None)
    assert os.environ[STATE_ENV] == state
    callback.v2_playbook_on_stats(None)
    assert not os.path.exists(state)
    assert STATE_ENV not in os.environ


def test_a_drift_run_without_check_exits_as_misuse_with_the_reason(monkeypatch, tmp_path):
    callback = _callback(monkeypatch, check=False, exit_status=False)
    report_path = tmp_path / "report.json"
    monkeypatch.setattr(callback, "get_option", {"quiet": True, "report_path": str(report_path)}.get)
    callback.v2_playbook_on_play_start(_Play(bulwark_drift_run=True, bulwark_drift_gate=True))
    callback.v2_runner_on_failed(_Result(_task(Task, "Assert that the drift run is a check run"), False))
    callback.v2_playbook_on_stats(None)
    assert _exit(2) == 12
    assert json.loads(report_path.read_text())["verdict"]["status"] == "misuse"


def test_a_run_whose_plays_matched_no_host_exits_as_misuse(monkeypatch):
    callback = _callback(monkeypatch)
    callback.v2_playbook_on_play_start(_Play())
    callback.v2_playbook_on_no_hosts_matched()
    callback.v2_playbook_on_stats(None)
    assert _exit(0) == 12
    assert callback._verdict["reason"].startswith("no host matched")

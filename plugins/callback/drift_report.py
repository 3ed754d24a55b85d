# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: drift_report
type: aggregate
short_description: Report which hardening controls differ from the declared state, per host and across the fleet
description:
  - Every task of the collection that can change a host names the control it implements in its own
    vars (C(bulwark_control) set to an ID such as C(SSH-CONFIG)); C(make lint) refuses a task without
    one, and an ID that is not in the collection's catalogue of controls. The report shows each
    control's title, measure and CIS Debian 12 reference from that catalogue
    (C(plugins/module_utils/_controls.py)).
  - A task of your own may name a control of your own the same way; an ID the catalogue does not
    hold is reported under that ID with the task's name as its title.
  - A control has drifted on a host when one of its tasks reported C(changed) (in a C(--check --diff)
    run, would change). A changed task without a control (a task of your own playbook) is reported
    under its task name. A handler that runs (a reload after a change) is never drift; the change
    that notified it is.
  - One run, several outputs from the same data. The console summary per host (in compliance with
    the controls checked, or the drifted controls) and per control across the fleet; optionally
    JSON, JUnit XML, Markdown and HTML files.
  - A drifted control names what drifted - each file (from the diff's header; a new file says so)
    with each changed setting, the value expected and the value found - or, without a file diff,
    the package, unit, listener or path the task's result names, else its message.
  - JUnit has the same test case on every host (every control that ran on any host), skipped with
    the reason where it did not run on the host (its tasks skipped, its role not run, the host
    failed or unreachable), each case timed by its control's tasks, each suite stamped with the
    run's start (UTC). A failed or unreachable host's reason is the first failing task and its
    message.
  - The HTML page is one self-contained file (inline style and script, allowed by hash in its
    Content-Security-Policy, nothing fetched) with the hosts x controls matrix, filters (drifted only,
    role, host), each drifted control's files, settings, expected and found values, diff, measure and
    CIS reference, the controls each host checked, the run's times and the collection's version.
  - The warnings of a control's tasks (e.g. the ufw rules C(ufw_exclusive) removes, each with the
    ways to keep it) are listed under the host, drifted or not.
  - The report holds no file contents beyond the few diff lines and changed settings of a control,
    and nothing of a task with C(no_log).
  - The JSON also counts, per host and role, the tasks that ran on the host (skipped ones not
    counted), which C(make bench) prints.
  - B(The exit status is the verdict.) In a C(--check) run the callback decides how C(ansible-playbook)
    exits, from what it saw, after every callback has had the run's end (C(v2_playbook_on_stats), where
    ARA and other recorders record it). No C(--tags), C(--skip-tags) or C(-l) can skip it, it is no task.
  - C(0) - every host that ran a control is in compliance.
  - C(10) - a host drifted (also when another failed, a drift is a finding).
  - C(11) - a host failed or was unreachable, and nothing drifted where the run could look.
  - C(12) - misuse. C(playbooks/drift.yml) without C(--check); no host matched (a mistyped inventory
    path, an empty group); or no control ran on any host (C(--tags) that select none).
  - None of these is a code of C(ansible-playbook)'s own (0-8, 99, 250), so a drift run I(without) this
    callback, which can only exit with those (C(playbooks/drift.yml) refuses it with 2), is never taken
    for a verdict. A status of ansible-playbook's own error (1, 4 for a parse error, 5, 99, 250) is kept,
    the run did not reach its end and has no verdict.
  - The verdict is also in the JSON report (C(verdict) with C(status), C(exit_status), C(reason)) and is
    the last line of the console summary.
  - C(playbooks/drift.yml) and C(playbooks/drift_gate.yml) (to append to a playbook of your own with
    C(import_playbook), or to give as a second playbook on the command line) always set the exit status
    in a C(--check) run, whatever O(exit_status) says. Their gate play fails each drifted host's task,
    for AWX's per-host view, from the report so far (the C(bulwark.hardening.drift) lookup).
author: bulwark.hardening contributors (!UNKNOWN)
version_added: 0.1.0
requirements:
  - enable in ansible.cfg with C(callbacks_enabled = bulwark.hardening.drift_report)
options:
  report_path:
    description:
      - Write the report as JSON to this file. Nothing is written when unset.
    type: path
    env:
      - name: BULWARK_DRIFT_REPORT
    ini:
      - section: bulwark_drift_report
        key: report_path
  junit_path:
    description:
      - Write the report as JUnit XML to this file (a test suite per host, a test case per control).
    type: path
    env:
      - name: BULWARK_DRIFT_JUNIT
    ini:
      - section: bulwark_drift_report
        key: junit_path
  markdown_path:
    description:
      - Write the report as Markdown (for a ticket or a mail) to this file.
    type: path
    env:
      - name: BULWARK_DRIFT_MARKDOWN
    ini:
      - section: bulwark_drift_report
        key: markdown_path
  html_path:
    description:
      - Write the report as one self-contained HTML page to this file (the hosts x controls matrix,
        filters by drift, role and host, each drifted control in detail); it fetches nothing.
    type: path
    env:
      - name: BULWARK_DRIFT_HTML
    ini:
      - section: bulwark_drift_report
        key: html_path
  exit_status:
    description:
      - In a C(--check) run, exit with the verdict's status (see above). Set it to false for the report
        alone with ansible-playbook's own exit status, e.g. for a first check of a host that was never
        hardened, where everything drifts.
      - C(playbooks/drift.yml) and C(playbooks/drift_gate.yml) always set the exit status, whatever this says.
    type: bool
    default: true
    env:
      - name: BULWARK_DRIFT_EXIT_STATUS
    ini:
      - section: bulwark_drift_report
        key: exit_status
  quiet:
    description: Do not print the summary (the files are still written).
    type: bool
    default: false
    env:
      - name: BULWARK_DRIFT_QUIET
    ini:
      - section: bulwark_drift_report
        key: quiet
"""

import atexit
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone

from ansible import context
from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase

from ansible_collections.bulwark.hardening.plugins.module_utils import _ara
from ansible_collections.bulwark.hardening.plugins.module_utils._controls import control
from ansible_collections.bulwark.hardening.plugins.module_utils._drift_report import (
    build,
    collection_version,
    diff_of,
    drifted,
    evidence,
    fail,
    found,
    html_report,
    junit,
    markdown,
    new_host,
    parts_by_control,
    record,
    render,
    skip,
    summarise_diff,
    warnings_of,
)

# The controller process publishes where the report so far is kept; the drift lookup reads it.
STATE_ENV = "BULWARK_DRIFT_STATE"
# Task vars: the control a task implements. Task or play vars: a task (every task of a play) that is
# the verdict's machinery (the gate and the refusal of playbooks/drift.yml), not a control; in
# check mode, a run with such a play always exits with the verdict.
CONTROL_VAR = "bulwark_control"
GATE_VAR = "bulwark_drift_gate"
# Play vars: a drift run (playbooks/drift.yml): check mode only; without --check, a misuse.
DRIFT_RUN_VAR = "bulwark_drift_run"

# The verdict's exit statuses: none is one of ansible-playbook's own (0-8, 99, 250), except 0.
EXIT_STATUS = {"compliant": 0, "drifted": 10, "failed": 11, "misuse": 12}
# ansible-playbook's statuses for a run that reached its end: every host ok, a host failed, a host
# unreachable. Any other (1 an error, 4 a parse error before the end, 5, 99, 250) is kept.
RUN_STATUSES = (0, 2, 4)
# The collection's root (plugins/callback/../..), for its version.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def control_of(task_vars, task: str) -> dict:
    """The control a task names by ID in its vars, as the catalogue describes it (the first, for a task
    that lists several: see controls_of).

    An ID the catalogue does not hold (a control of the user's own) keeps its ID and takes the
    task's name as its title; a task that names no control is known by its name alone.
    """
    return controls_of(task_vars, task)[0]


def controls_of(task_vars, task: str) -> list[dict]:
    """The controls a task names: one ID, or a list of IDs for a task that writes the files of several
    controls in one call (each file names its own; parts_by_control splits the result)."""
    ident = task_vars.get(CONTROL_VAR) if isinstance(task_vars, dict) else None
    idents = ident if isinstance(ident, list) else [ident]
    idents = [item.strip() for item in idents if isinstance(item, str) and item.strip()]
    if not idents:
        return [{"id": "", "title": task, "measure": "", "cis": ""}]
    return [control(item) or {"id": item, "title": task, "measure": "", "cis": ""} for item in idents]


def verdict(report: dict, *, check_mode: bool, drift_run: bool, matched: bool) -> dict:
    """The run's verdict: its status, exit status and the reason, one sentence an on-call admin acts on.

    ``matched``: a play of the run matched a host; ``drift_run``: the run is playbooks/drift.yml.
    """
    hosts = report["hosts"]

    def said(status: str, reason: str) -> dict:
        return {"status": status, "exit_status": EXIT_STATUS[status], "reason": reason}

    if drift_run and not check_mode:
        return said(
            "misuse",
            "playbooks/drift.yml only checks: run it with --check --diff (its plays ran in check mode, nothing was "
            "changed). To repair drift, run playbooks/site.yml.",
        )
    if not matched:
        return said(
            "misuse",
            "no host matched: check the inventory (-i), the host pattern (bulwark_hosts, the play's hosts) and -l; "
            "a run that checks no host proves nothing.",
        )
    names = sorted(hosts)
    drifted_hosts = [name for name in names if drifted(hosts[name])]
    failed = [name for name in names if hosts[name]["unreachable"] or hosts[name]["failed"]]
    if drifted_hosts:
        also = " (and %s failed or unreachable)" % ", ".join(failed) if failed else ""
        return said("drifted", "%d host(s) drifted: %s%s." % (len(drifted_hosts), ", ".join(drifted_hosts), also))
    if failed:
        return said(
            "failed",
            "%d host(s) failed or unreachable, their controls not all checked: %s." % (len(failed), ", ".join(failed)),
        )
    checked = [name for name in names if hosts[name]["controls"]]
    if not checked:
        return said(
            "misuse",
            "no control ran on any host: --tags/--skip-tags (or the play) selected none; nothing was checked.",
        )
    controls = sum(len(hosts[name]["controls"]) for name in checked)
    return said("compliant", "%d host(s) in compliance, %d control check(s)." % (len(checked), controls))


def final_status(ansible_status, verdict_status: int, complete: bool):
    """The status to exit with: ansible-playbook's, replaced by the verdict's once the run reached its end.

    A failure the report does not show (ansible says a host failed or was unreachable, the verdict says
    compliant) is never turned into success.
    """
    if not complete or ansible_status not in RUN_STATUSES:
        return ansible_status
    if verdict_status == EXIT_STATUS["compliant"] and ansible_status != 0:
        return EXIT_STATUS["failed"]
    return verdict_status


def _flag(value) -> bool:
    """A play var set to true, as YAML or as a string (-e, import_playbook vars)."""
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def now() -> str:
    """The time of day in UTC, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(path: str, text: str) -> None:
    tmp = "%s.tmp" % path
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bulwark.hardening.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._hosts: dict[str, dict] = {}
        self._check_mode = False
        self._state = ""
        # A play of this run, by which ARA's record of the run is found.
        self._play_uuid = ""
        self._run: dict[str, str] = {}
        # When each task started: per task, and per host and task (the time of a control's tasks).
        self._task_started = 0.0
        self._started: dict[tuple[str, str], float] = {}
        # What decides the verdict beyond the report: plays started and plays that matched no host,
        # whether a play of the run was a drift run or a gate, and the playbooks that reached their end.
        self._plays = 0
        self._empty_plays = 0
        self._drift_run = False
        self._gated = False
        self._gate_play = False
        self._ended = 0
        self._verdict: dict | None = None
        self._exit_hooked = False

    def _host(self, name: str) -> dict:
        return self._hosts.setdefault(name, new_host())

    @staticmethod
    def _role(task) -> str:
        return task._role.get_name(include_role_fqcn=False) if task._role else ""

    @staticmethod
    def _vars(task) -> dict:
        try:
            return task.get_vars()
        except Exception:  # pylint: disable=broad-except  # a bare Task (unit tests) has no parent
            return task.vars or {}

    def _is_gate(self, task) -> bool:
        return self._gate_play or bool(self._vars(task).get(GATE_VAR))

    def _seconds(self, result) -> float:
        """How long the task ran on the result's host."""
        started = self._started.pop((result._host.get_name(), result._task._uuid), None) or self._task_started
        return time.monotonic() - started if started else 0.0

    def _count(self, result) -> dict:
        """Count the task as executed on the host, under its role; return the host's record."""
        host = self._host(result._host.get_name())
        role = self._role(result._task) or "play"
        host["tasks"][role] = host["tasks"].get(role, 0) + 1
        return host

    def _publish(self) -> None:
        if self._state:
            write(self._state, json.dumps(build(self._hosts, self._check_mode, self._run), sort_keys=True))

    def _forget_state(self) -> None:
        if self._state:
            try:
                os.unlink(self._state)
            except FileNotFoundError:
                pass
            os.environ.pop(STATE_ENV, None)
            self._state = ""

    def v2_playbook_on_start(self, playbook):
        # Called once per playbook of the command line (ansible-playbook site.yml bulwark.hardening.drift_gate):
        # one report, one state file for the whole run.
        if self._state:
            return
        self._check_mode = bool(context.CLIARGS.get("check", False))
        self._run = {"started": now(), "version": collection_version(ROOT)}
        # The report so far, for the gate play: published before each play in a file the
        # bulwark.hardening.drift lookup finds through the environment, which the worker processes
        # inherit from this (the controller's main) process. Removed at the run's end.
        handle, self._state = tempfile.mkstemp(prefix="bulwark-drift-", suffix=".json")
        os.close(handle)
        os.environ[STATE_ENV] = self._state
        atexit.register(self._forget_state)

    def v2_playbook_on_play_start(self, play):
        self._play_uuid = self._play_uuid or getattr(play, "_uuid", "")
        self._plays += 1
        play_vars = getattr(play, "vars", None) or {}
        self._gate_play = _flag(play_vars.get(GATE_VAR, False))
        self._gated = self._gated or self._gate_play
        self._drift_run = self._drift_run or _flag(play_vars.get(DRIFT_RUN_VAR, False))
        self._publish()

    def v2_playbook_on_no_hosts_matched(self):
        self._empty_plays += 1

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_started = time.monotonic()

    def v2_playbook_on_handler_task_start(self, task):
        self._task_started = time.monotonic()

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def v2_runner_on_ok(self, result):
        task = result._task
        seconds = self._seconds(result)
        if isinstance(task, Handler):
            self._count(result)
            return
        task_vars = self._vars(task)
        if self._gate_play or task_vars.get(GATE_VAR):
            return
        host = self._count(result)
        hidden = task.no_log or result._result.get("censored")
        title = task.name or task.action
        controls = controls_of(task_vars, title)
        if len(controls) == 1:
            parts = [(controls[0], result._result)]
        else:
            split = parts_by_control(result._result, [item["id"] for item in controls])
            parts = [(item, split[item["id"]]) for item in controls]
        for index, (entry, part) in enumerate(parts):
            changed = bool(part.get("changed", False))
            diff = [] if hidden or not changed else summarise_diff(diff_of(part)) or found(part)
            record(
                host,
                entry,
                self._role(task),
                title,
                changed=changed,
                diff=diff,
                warnings=[] if hidden or index else warnings_of(result),
                seconds=seconds / len(parts),
                detail=None if hidden or not changed else evidence(part),
                not_applicable=None if hidden else part.get("not_applicable"),
            )

    def v2_runner_on_skipped(self, result):
        self._seconds(result)
        task = result._task
        host = self._hosts.get(result._host.get_name())
        task_vars = self._vars(task)
        if host is not None and not isinstance(task, Handler) and not self._is_gate(task):
            title = task.name or task.action
            for entry in controls_of(task_vars, title):
                skip(host, entry, self._role(task), title)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._seconds(result)
        if self._is_gate(result._task):
            return
        host = self._count(result)
        if not ignore_errors:
            message = "(hidden by no_log)" if result._task.no_log else result._result.get("msg")
            fail(host, result._task.name or result._task.action, message)

    def v2_runner_on_unreachable(self, result):
        self._seconds(result)
        host = self._host(result._host.get_name())
        fail(host, result._task.name or result._task.action, result._result.get("msg"), unreachable=True)

    def _verdict_applies(self) -> bool:
        """drift.yml always; a check run with the gate always; another check run unless exit_status is false."""
        return self._drift_run or (self._check_mode and (self._gated or bool(self.get_option("exit_status"))))

    def _complete(self) -> bool:
        """The run reached its end: every playbook given ran to its stats, or ansible-playbook stopped
        after a failed or unreachable host (the report shows them)."""
        given = len(context.CLIARGS.get("args") or ())
        stopped = any(host["failed"] or host["unreachable"] for host in self._hosts.values())
        return self._ended >= given or stopped

    def _exit_status(self, status):
        if self._verdict is None:
            return status
        return final_status(status, self._verdict["exit_status"], self._complete())

    def _hook_exit(self) -> None:
        """Exit with the verdict's status.

        ansible-playbook ends by calling ``sys.exit`` with its status (``CLI.cli_executor``), after every callback's
        ``v2_playbook_on_stats``, the task queue's cleanup and the removal of its temporary files. That
        call is where the verdict takes over: raising SystemExit in a callback would stop the callbacks
        after this one (ARA records the run's end there) and skip that cleanup, and any other exception
        is only a warning.
        """
        if self._exit_hooked:
            return
        self._exit_hooked = True
        original = sys.exit

        def exit_with_verdict(status=None):
            original(self._exit_status(status))

        sys.exit = exit_with_verdict

    def v2_playbook_on_stats(self, stats):
        self._ended += 1
        self._run["finished"] = now()
        report = build(self._hosts, self._check_mode, self._run)
        if self._verdict_applies():
            matched = self._plays > self._empty_plays
            self._verdict = verdict(report, check_mode=self._check_mode, drift_run=self._drift_run, matched=matched)
            report["verdict"] = self._verdict
            self._hook_exit()
        if not self.get_option("quiet"):
            self._display.display(render(report))
            if self._verdict:
                self._display.display(
                    "  verdict: %s (exit status %d): %s"
                    % (self._verdict["status"], self._verdict["exit_status"], self._verdict["reason"])
                )
        if self._verdict and self._verdict["status"] == "misuse":
            self._display.error("bulwark drift report: %s" % self._verdict["reason"], wrap_text=False)
        outputs = {
            "report_path": lambda: json.dumps(report, indent=2, sort_keys=True) + "\n",
            "junit_path": lambda: junit(report),
            "markdown_path": lambda: markdown(report),
            "html_path": lambda: html_report(report),
        }
        for option, text in outputs.items():
            path = self.get_option(option)
            if path:
                write(path, text())
        self._attach_to_ara(report)
        if self._ended >= len(context.CLIARGS.get("args") or ()):
            self._forget_state()

    def _attach_to_ara(self, report: dict) -> None:
        """The verdict of a check run on ARA's record of it, when ARA records the run."""
        client = _ara.active_client()
        if client is None or not report["check_mode"] or not self._play_uuid:
            return
        try:
            playbook, labels = _ara.attach(client, self._play_uuid, report)
        except Exception as error:  # pylint: disable=broad-except  # the report stands without ARA
            self._display.warning(
                "drift_report: the drift verdict was not attached to ARA's record of this run: %s" % error
            )
            return
        if not self.get_option("quiet"):
            self._display.display(
                "  ARA: playbook %d labelled %s, verdict in its record '%s'"
                % (playbook, ", ".join(labels), _ara.RECORD_KEY)
            )

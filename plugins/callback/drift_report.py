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
  - The exit status is set by the play that C(playbooks/drift.yml) ends with (a failed gate task per
    drifted host makes C(ansible-playbook) exit 2 and an AWX job fail); the callback makes the
    report so far readable to that play through the C(bulwark.hardening.drift) lookup.
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

import json
import os
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
    evidence,
    fail,
    found,
    html_report,
    junit,
    markdown,
    new_host,
    record,
    render,
    skip,
    summarise_diff,
    warnings_of,
)

# The controller process publishes where the report so far is kept; the drift lookup reads it.
STATE_ENV = "BULWARK_DRIFT_STATE"
# Task vars: the control a task implements, and the gate task of playbooks/drift.yml.
CONTROL_VAR = "bulwark_control"
GATE_VAR = "bulwark_drift_gate"
# The collection's root (plugins/callback/../..), for its version.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def control_of(task_vars, task: str) -> dict:
    """The control a task names by ID in its vars, as the catalogue describes it.

    An ID the catalogue does not hold (a control of the user's own) keeps its ID and takes the
    task's name as its title; a task that names no control is known by its name alone.
    """
    ident = task_vars.get(CONTROL_VAR) if isinstance(task_vars, dict) else None
    if not isinstance(ident, str) or not ident.strip():
        return {"id": "", "title": task, "measure": "", "cis": ""}
    return control(ident.strip()) or {"id": ident.strip(), "title": task, "measure": "", "cis": ""}


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

    def v2_playbook_on_start(self, playbook):
        self._check_mode = bool(context.CLIARGS.get("check", False))
        self._run = {"started": now(), "version": collection_version(ROOT)}
        # The report so far, for the gate play of playbooks/drift.yml: published before each play
        # in a file the bulwark.hardening.drift lookup finds through the environment, which the
        # worker processes inherit from this (the controller's main) process.
        handle, self._state = tempfile.mkstemp(prefix="bulwark-drift-", suffix=".json")
        os.close(handle)
        os.environ[STATE_ENV] = self._state

    def v2_playbook_on_play_start(self, play):
        self._play_uuid = self._play_uuid or getattr(play, "_uuid", "")
        self._publish()

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
        if task_vars.get(GATE_VAR):
            return
        host = self._count(result)
        changed = bool(result._result.get("changed", False))
        hidden = task.no_log or result._result.get("censored")
        diff = [] if hidden or not changed else summarise_diff(diff_of(result._result)) or found(result._result)
        title = task.name or task.action
        record(
            host,
            control_of(task_vars, title),
            self._role(task),
            title,
            changed=changed,
            diff=diff,
            warnings=[] if hidden else warnings_of(result),
            seconds=seconds,
            detail=None if hidden or not changed else evidence(result._result),
        )

    def v2_runner_on_skipped(self, result):
        self._seconds(result)
        task = result._task
        host = self._hosts.get(result._host.get_name())
        task_vars = self._vars(task)
        if host is not None and not isinstance(task, Handler) and not task_vars.get(GATE_VAR):
            title = task.name or task.action
            skip(host, control_of(task_vars, title), self._role(task), title)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._seconds(result)
        if self._vars(result._task).get(GATE_VAR):
            return
        host = self._count(result)
        if not ignore_errors:
            message = "(hidden by no_log)" if result._task.no_log else result._result.get("msg")
            fail(host, result._task.name or result._task.action, message)

    def v2_runner_on_unreachable(self, result):
        self._seconds(result)
        host = self._host(result._host.get_name())
        fail(host, result._task.name or result._task.action, result._result.get("msg"), unreachable=True)

    def v2_playbook_on_stats(self, stats):
        self._run["finished"] = now()
        report = build(self._hosts, self._check_mode, self._run)
        if not self.get_option("quiet"):
            self._display.display(render(report))
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
        if self._state:
            os.unlink(self._state)
            os.environ.pop(STATE_ENV, None)
            self._state = ""

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

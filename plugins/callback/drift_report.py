# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: drift_report
type: aggregate
short_description: Summarise what a (check-mode) run found different from the declared state
description:
  - Records every task that reported C(changed) on each host, with the role it belongs to and,
    when the task returned one, a short summary of its diff.
  - At the end of the run prints one block per host, C(in compliance) or the list of drifted
    settings, and optionally writes the same data as JSON for schedulers and tests.
  - Meant for the scheduled C(ansible-playbook --check --diff) drift run, but works on any run.
  - A handler that runs (a reload after a change) is not drift; the change that notified it is.
  - The JSON also counts, per host and role, the tasks that ran on the host (skipped ones not
    counted), which C(make bench) prints.
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
  quiet:
    description: Do not print the summary (the JSON file is still written).
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

from ansible import context
from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase

_DIFF_LINES = 6


def summarise_diff(diff) -> list[str]:
    """Return at most a few '+'/'-' lines of an Ansible diff (a dict or a list of dicts)."""
    if not diff:
        return []
    diffs = diff if isinstance(diff, list) else [diff]
    lines: list[str] = []
    for item in diffs:
        if not isinstance(item, dict):
            continue
        if "prepared" in item and isinstance(item["prepared"], str):
            lines.extend(line for line in item["prepared"].splitlines() if line.strip())
            continue
        before = item.get("before", "")
        after = item.get("after", "")
        if isinstance(before, str) and isinstance(after, str):
            old = before.splitlines()
            new = after.splitlines()
            lines.extend("-" + line for line in old if line not in new)
            lines.extend("+" + line for line in new if line not in old)
        elif before != after:
            lines.append("-%s" % json.dumps(before, sort_keys=True, default=str))
            lines.append("+%s" % json.dumps(after, sort_keys=True, default=str))
    if len(lines) > _DIFF_LINES:
        lines = [*lines[:_DIFF_LINES], "... (%d more lines)" % (len(lines) - _DIFF_LINES)]
    return lines


def render(report: dict) -> str:
    """Human-readable summary of a report as built by the callback."""
    mode = "check mode (nothing was changed)" if report["check_mode"] else "apply mode"
    out = ["", "BULWARK DRIFT REPORT - %s" % mode]
    for host in sorted(report["hosts"]):
        data = report["hosts"][host]
        drifted = data["drift"]
        if data["failed"] or data["unreachable"]:
            state = "FAILED (%d failed, %d unreachable)" % (data["failed"], data["unreachable"])
        elif drifted:
            state = "%d setting(s) differ from the declared state" % len(drifted)
        else:
            state = "in compliance"
        out.append("  %s: %s (%d checked)" % (host, state, data["ok"] + len(drifted)))
        for item in drifted:
            out.append("    - [%s] %s" % (item["role"] or "play", item["task"]))
            out.extend("        %s" % line for line in item["diff"])
    return "\n".join(out)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bulwark.hardening.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._hosts: dict[str, dict] = {}
        self._check_mode = False

    def _host(self, name: str) -> dict:
        return self._hosts.setdefault(name, {"ok": 0, "failed": 0, "unreachable": 0, "drift": [], "tasks": {}})

    @staticmethod
    def _role(task) -> str:
        return task._role.get_name(include_role_fqcn=False) if task._role else ""

    def _count(self, result) -> dict:
        """Count the task as executed on the host, under its role; return the host's record."""
        host = self._host(result._host.get_name())
        role = self._role(result._task) or "play"
        host["tasks"][role] = host["tasks"].get(role, 0) + 1
        return host

    def v2_playbook_on_start(self, playbook):
        self._check_mode = bool(context.CLIARGS.get("check", False))

    def v2_runner_on_ok(self, result):
        host = self._count(result)
        task = result._task
        if result._result.get("changed", False) and not isinstance(task, Handler):
            host["drift"].append(
                {
                    "task": task.name or task.action,
                    "role": self._role(task),
                    "diff": summarise_diff(result._result.get("diff")),
                }
            )
        else:
            host["ok"] += 1

    def v2_runner_on_failed(self, result, ignore_errors=False):
        host = self._count(result)
        if not ignore_errors:
            host["failed"] += 1

    def v2_runner_on_unreachable(self, result):
        self._host(result._host.get_name())["unreachable"] += 1

    def v2_playbook_on_stats(self, stats):
        report = {"check_mode": self._check_mode, "hosts": self._hosts}
        if not self.get_option("quiet"):
            self._display.display(render(report))
        path = self.get_option("report_path")
        if path:
            tmp = "%s.tmp" % path
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=2, sort_keys=True)
            os.replace(tmp, path)

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/drift.yml never writes: what makes it so, read from the playbooks and the roles.

The scenarios run it (site_existing: refused without --check whatever -l/--tags/--skip-tags say,
site.yml's play in check mode without --check); these checks keep the pieces in place.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def load(path: str):
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def tasks(items):
    """Every task of a task list, inside blocks, rescues and always sections too."""
    for item in items or []:
        yield item
        for section in ("block", "rescue", "always"):
            yield from tasks(item.get(section))


def test_site_yml_runs_in_check_mode_in_a_drift_run():
    (play,) = load("playbooks/site.yml")
    assert "bulwark_drift_run" in play["check_mode"]
    assert "ansible_check_mode" in play["check_mode"]


def test_drift_yml_refuses_first_on_the_hosts_it_checks_and_ends_with_the_gate():
    refusal, site, gate = load("playbooks/drift.yml")
    assert refusal["hosts"] == load("playbooks/site.yml")[0]["hosts"] == load("playbooks/drift_gate.yml")[0]["hosts"]
    assert refusal["vars"] == {"bulwark_drift_run": True, "bulwark_drift_gate": True}
    (task,) = refusal["tasks"]
    assert "ansible_check_mode" in task["ansible.builtin.assert"]["that"]
    assert task["tags"] == ["always"]
    assert site == {**site, "ansible.builtin.import_playbook": "site.yml", "vars": {"bulwark_drift_run": True}}
    assert gate["ansible.builtin.import_playbook"] == "drift_gate.yml"


def test_the_gate_is_out_of_the_report_and_does_nothing_outside_check_mode():
    (play,) = load("playbooks/drift_gate.yml")
    assert play["vars"] == {"bulwark_drift_gate": True}
    (task,) = play["tasks"]
    assert task["when"][0] == "ansible_check_mode"


CHECK_MODE_OFF = sorted(
    (str(path.relative_to(ROOT)), task["name"])
    for path in sorted((ROOT / "roles").glob("*/tasks/*.yml"))
    for task in tasks(yaml.safe_load(path.read_text(encoding="utf-8")))
    if task.get("check_mode") is False
)


def test_the_tasks_that_leave_check_mode_are_found():
    assert len(CHECK_MODE_OFF) >= 4, CHECK_MODE_OFF


@pytest.mark.parametrize(("path", "name"), CHECK_MODE_OFF)
def test_a_task_that_leaves_check_mode_is_a_read(path, name):
    # check_mode: false runs the task for real in a drift run too: it must be a read, which says so.
    (task,) = [t for t in tasks(load(path)) if t.get("name") == name]
    assert task.get("changed_when") is False, f"{path}: {name!r} runs outside check mode but may change the host"

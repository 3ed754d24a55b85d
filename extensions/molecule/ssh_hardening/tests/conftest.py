"""Fixtures of the ssh_hardening scenario: run its converge playbook (or --check) against one host."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from playbook_run import run_playbook, scenario_file


@pytest.fixture
def play(host):
    """Run converge.yml on this test's host only; returns ``(completed_process, drift_of_host)``."""

    def run(*, check: bool) -> tuple[subprocess.CompletedProcess, dict]:
        name = host.backend.get_hostname()
        report = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"play-{name}.json"
        env = {
            "BULWARK_DRIFT_REPORT": str(report),
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",  # one line per message, never folded
        }
        result = run_playbook(scenario_file(), "--limit", name, *(["--check", "--diff"] if check else []), env=env)
        return result, json.loads(report.read_text())["hosts"].get(name, {})

    return run

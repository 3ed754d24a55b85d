"""Fixtures of the ssh_hardening scenario: run its converge playbook (or --check) against one host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def play(host):
    """Run converge.yml on this test's host only; returns ``(completed_process, drift_of_host)``."""

    def run(*, check: bool) -> tuple[subprocess.CompletedProcess, dict]:
        name = host.backend.get_hostname()
        report = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"play-{name}.json"
        argv = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "--inventory",
            str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
            "--limit",
            name,
            *(["--check", "--diff"] if check else []),
            str(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"),
        ]
        env = {
            **os.environ,
            "BULWARK_DRIFT_REPORT": str(report),
            "ANSIBLE_NOCOLOR": "true",
            "ANSIBLE_FORCE_COLOR": "false",
            "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",  # one line per message, never folded
        }
        result = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, env=env)
        return result, json.loads(report.read_text())["hosts"].get(name, {})

    return run

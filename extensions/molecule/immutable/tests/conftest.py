"""Fixtures of the immutable scenario: run a playbook against one target, read inode flags."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from playbook_run import run_playbook, scenario_file

REPO = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])


@pytest.fixture
def playbook(host):
    """Run a playbook (path relative to the repository) against this test's host only."""

    def run(path: str, *args: str, check_rc: bool = True) -> subprocess.CompletedProcess:
        own_vars = "@" + str(scenario_file("vars/main.yml"))
        result = run_playbook(REPO / path, "--limit", host.backend.get_hostname(), "--extra-vars", own_vars, *args)
        if check_rc:
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return result

    return run


@pytest.fixture
def flags(host):
    """The lsattr flag letters of a path (the first column of lsattr -d)."""
    return lambda path: host.check_output("lsattr -d %s", path).split()[0]


@pytest.fixture
def module(host):
    """Run the immutable module on the host; returns the result, failed or not."""

    def run(**args) -> dict:
        try:
            return host.ansible("bulwark.hardening.immutable", json.dumps(args), check=False)
        except host.ansible.AnsibleException as exc:
            return exc.result

    return run

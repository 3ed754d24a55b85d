"""Fixtures of the fail2ban scenario (the shared ones are in extensions/molecule/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def converge_run():
    """Run the scenario's converge playbook for real (not in check mode) against its own inventory."""

    def run() -> subprocess.CompletedProcess:
        argv = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "--inventory",
            str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent),
            str(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"),
        ]
        env = {**os.environ, "ANSIBLE_NOCOLOR": "true", "ANSIBLE_FORCE_COLOR": "false"}
        result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False, env=env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return result

    return run

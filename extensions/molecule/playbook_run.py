"""Run ansible-playbook from a scenario's tests: the one way every scenario does it.

Importable from any scenario's tests (``from playbook_run import run_playbook``): pytest puts this
directory on sys.path for the conftest.py beside it, which every scenario's tests load first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def scenario_inventory() -> str:
    """The scenario's inventory directory (Molecule's inventory file and the group/host vars beside it)."""
    return str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)


def scenario_file(name: str = "converge.yml") -> Path:
    """A playbook of the running scenario."""
    return Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / name


def playbook_command(
    playbook: str | Path, *args: str, inventory: str | Path | None = None, env: dict | None = None
) -> tuple[list[str], dict]:
    """``(argv, env)`` of the ansible-playbook beside this Python, uncoloured, on ``playbook`` with ``args``.

    ``inventory`` defaults to the scenario's; ``env`` adds to (or overrides) the environment, e.g. the
    drift report's ``BULWARK_DRIFT_REPORT``.
    """
    argv = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "--inventory",
        str(inventory if inventory is not None else scenario_inventory()),
        *args,
        str(playbook),
    ]
    return argv, {**os.environ, "ANSIBLE_NOCOLOR": "true", "ANSIBLE_FORCE_COLOR": "false", **(env or {})}


def run_command(command: tuple[list[str], dict], timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a ``playbook_command``; any outcome (the caller asserts), output captured as text."""
    argv, env = command
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, env=env)


def run_playbook(
    playbook: str | Path,
    *args: str,
    inventory: str | Path | None = None,
    env: dict | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    """Run ansible-playbook (see ``playbook_command``) and return the completed process, whatever its outcome."""
    return run_command(playbook_command(playbook, *args, inventory=inventory, env=env), timeout)

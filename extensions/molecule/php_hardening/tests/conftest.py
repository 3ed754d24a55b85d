"""Fixtures of the php_hardening scenario (the shared ones are in extensions/molecule/conftest.py)."""

from __future__ import annotations

import json
import os
import shlex

import pytest
from playbook_run import run_playbook, scenario_file

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


@pytest.fixture(scope="session")
def prober(inventory_host):
    return inventory_host("php_hardening-prober")


@pytest.fixture(scope="session")
def fetch(prober):
    """GET a page of a target from the prober; returns (status, headers as (name, value) pairs, body)."""

    def get(target: str, path: str, scheme: str = "http", cookie: str = "") -> tuple[int, list, str]:
        argv = ["curl", "-sS", "-k", "-i", "--max-time", "10", f"{scheme}://{target}{path}"]
        if cookie:
            argv += ["-H", f"Cookie: {cookie}"]
        cmd = prober.run(shlex.join(argv))
        assert cmd.rc == 0, cmd.stderr
        head, _sep, body = cmd.stdout.partition("\r\n\r\n")
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
        return status, headers, body

    return get


@pytest.fixture(scope="session")
def probe(fetch):
    """The probe page's report (ini_get values, exec, modules) as PHP sees it behind Apache; asked once
    per target and scheme unless ``fresh``."""

    seen = {}

    def run(target: str, scheme: str = "http", fresh: bool = False) -> dict:
        if fresh or (target, scheme) not in seen:
            status, _headers, body = fetch(target, "/probe.php", scheme)
            assert status == 200, body
            seen[target, scheme] = json.loads(body)
        return seen[target, scheme]

    return run


@pytest.fixture(scope="session")
def playbook():
    """Run the converge playbook with extra arguments (any outcome)."""

    def run(*args: str) -> tuple[int, str]:
        """Return the exit code and the whole output (stdout and stderr, whitespace collapsed)."""
        done = run_playbook(scenario_file(), *args)
        return done.returncode, " ".join((done.stdout + "\n" + done.stderr).split())

    return run

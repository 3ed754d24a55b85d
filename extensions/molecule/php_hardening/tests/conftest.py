"""Fixtures of the php_hardening scenario (the shared ones are in extensions/molecule/conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


@pytest.fixture(scope="session")
def prober(inventory_host):
    return inventory_host("php_hardening-prober")


@pytest.fixture(scope="session")
def fetch(prober):
    """GET a page of a target from the prober; returns (status, headers as (name, value) pairs, body)."""

    def get(target: str, path: str, scheme: str = "http", cookie: str = "") -> tuple[int, list, str]:
        argv = "curl -sS -k --max-time 10 -D - -o /tmp/body %s %s://%s%s && echo && cat /tmp/body"
        cmd = prober.run(argv, f"-H 'Cookie: {cookie}'" if cookie else "", scheme, target, path)
        assert cmd.rc == 0, cmd.stderr
        head, _, body = cmd.stdout.partition("\r\n\r\n")
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
        return status, headers, body.lstrip("\n")

    return get


@pytest.fixture(scope="session")
def probe(fetch):
    """The probe page's report (ini_get values, exec, modules) as PHP sees it behind Apache."""

    def run(target: str, scheme: str = "http") -> dict:
        status, _headers, body = fetch(target, "/probe.php", scheme)
        assert status == 200, body
        return json.loads(body)

    return run


@pytest.fixture(scope="session")
def playbook():
    """Run the converge playbook with extra arguments; returns the completed process (any rc)."""

    def run(*args: str) -> subprocess.CompletedProcess:
        argv = [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "--inventory",
            str(Path(INVENTORY).parent),
            *args,
            str(Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"]) / "converge.yml"),
        ]
        env = {**os.environ, "ANSIBLE_NOCOLOR": "true", "ANSIBLE_FORCE_COLOR": "false"}
        return subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, env=env)

    return run

"""Fixtures of the apache_hardening scenario: HTTP and TLS clients run on the prober container."""

from __future__ import annotations

import os
import subprocess

import pytest
import testinfra
from playbook_run import run_playbook, scenario_file

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


class Response:
    """Status, headers (in order, repeated ones kept) and body of one curl request."""

    def __init__(self, raw: str):
        head, _separator, self.body = raw.replace("\r\n", "\n").partition("\n\n")
        status_line, *lines = head.splitlines()
        self.status = int(status_line.split()[1])
        self.headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines if ":" in line]

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@pytest.fixture(scope="session")
def prober():
    return get("apache_hardening-prober")


@pytest.fixture(scope="session")
def fetch(prober):
    """GET (or another method) a URL from the prober; -k: the certificate is self-signed."""

    def run(url: str, method: str = "GET") -> Response:
        cmd = prober.run("curl -sk --max-time 10 -i -X %s %s", method, url)
        assert cmd.rc == 0, f"curl {method} {url}: rc {cmd.rc} {cmd.stderr}"
        return Response(cmd.stdout)

    return run


@pytest.fixture(scope="session")
def playbook():
    """Run a playbook of this scenario against the scenario's inventory; returns the completed process."""

    def run(name: str) -> subprocess.CompletedProcess:
        return run_playbook(scenario_file(name), timeout=900)

    return run

"""Fixtures shared by every scenario's testinfra tests (pytest finds this file as a parent conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import testinfra
from playbook_run import run_playbook, scenario_file

SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
    "-o", "ConnectTimeout=10",
]  # fmt: skip


@pytest.fixture
def address(host):
    """The container's address on the scenario network, reachable from the test controller."""
    return host.check_output("hostname -I").split()[0]


@pytest.fixture
def test_key():
    """The private key the ssh fixture authorised for deploy, alice and root."""
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "id_test")


@pytest.fixture
def ssh(address, test_key):
    """Run the real OpenSSH client from the controller against the container."""

    def run(user: str, *options: str, command: str = "id -un") -> subprocess.CompletedProcess:
        argv = ["ssh", *SSH_OPTIONS, "-i", test_key, *options, f"{user}@{address}", command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)

    return run


@pytest.fixture
def sftp(address, test_key):
    """Run a batch of commands with the real sftp client from the controller."""

    def run(user: str, batch: str) -> subprocess.CompletedProcess:
        argv = ["sftp", *SSH_OPTIONS, "-i", test_key, "-b", "-", f"{user}@{address}"]
        return subprocess.run(argv, input=batch, capture_output=True, text=True, timeout=30, check=False)

    return run


@pytest.fixture(scope="session")
def inventory_host():
    """Return a testinfra host for any container of the scenario, by inventory name."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return lambda name: testinfra.get_host(f"ansible://{name}?ansible_inventory={inventory}")


@pytest.fixture(scope="session")
def ipv4():
    """Return a host's IPv4 address on the scenario network."""
    return lambda host: json.loads(host.check_output("ip -j -4 addr show dev eth0"))[0]["addr_info"][0]["local"]


@pytest.fixture(scope="module")
def client(inventory_host):
    """The scenario's second container, ``<scenario>-client``, which asks the target from outside."""
    return inventory_host(f"{os.environ['MOLECULE_SCENARIO_NAME']}-client")


@pytest.fixture(scope="module")
def target_ip(host, ipv4):
    """The tested host's IPv4 address on the scenario network."""
    return ipv4(host)


@pytest.fixture(scope="session")
def wait_for():
    """Poll a predicate once a step until it holds or the time is up; bounded, never endless."""

    def wait(predicate, seconds=20, step=1.0) -> bool:
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() >= deadline:
                return False
            time.sleep(step)
        return True

    return wait


@pytest.fixture(scope="session")
def check_run():
    """Run the scenario's converge playbook with --check --diff against its own inventory.

    Returns ``(completed_process, drift_report)``; the report is the drift_report callback's JSON.
    Extra ansible-playbook arguments (``--extra-vars``, ``--tags``) may be given.
    """

    def run(*extra: str) -> tuple[subprocess.CompletedProcess, dict]:
        report = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "verify-check.json"
        # The timeout only catches a hang, as converge_run's: a check run of every role on the TCG VM took
        # over 600 s at load 7 (two VMs beside the containers).
        result = run_playbook(
            scenario_file(), "--check", "--diff", *extra, env={"BULWARK_DRIFT_REPORT": str(report)}, timeout=900
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return result, json.loads(report.read_text())["hosts"]

    return run


@pytest.fixture(scope="session")
def converge_run():
    """Run the scenario's converge playbook for real (not in check mode) against its own inventory."""

    def run() -> subprocess.CompletedProcess:
        result = run_playbook(scenario_file(), timeout=900)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return result

    return run

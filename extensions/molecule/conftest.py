"""Fixtures shared by every scenario's testinfra tests (pytest finds this file as a parent conftest)."""

from __future__ import annotations

import os
import subprocess

import pytest

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

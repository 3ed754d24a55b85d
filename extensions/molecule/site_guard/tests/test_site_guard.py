"""playbooks/site.yml over real SSH: a guard that refuses stops the run before any role writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

testinfra_hosts = ["all"]

WATCHED = ["/etc/ssh/sshd_config", "/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw"]


@pytest.fixture
def site_over_ssh(address, test_key, tmp_path):
    """Run playbooks/site.yml against the container over SSH as deploy (sudo), with extra vars."""

    def run(*extra: str) -> subprocess.CompletedProcess:
        inventory = tmp_path / "inventory.ini"
        inventory.write_text(
            f"target ansible_host={address} ansible_user=deploy ansible_become=true "
            f"ansible_ssh_private_key_file={test_key} ansible_python_interpreter=/usr/bin/python3 "
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
        )
        playbook = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "playbooks" / "site.yml"
        argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra]
        env = {**os.environ, "ANSIBLE_NOCOLOR": "true", "ANSIBLE_FORCE_COLOR": "false"}
        return subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False, env=env)

    return run


def snapshot(host) -> dict:
    return {path: (host.file(path).sha256sum, host.file(path).mtime) for path in WATCHED}


def test_port_move_is_refused_before_anything_is_written(host, site_over_ssh, ssh):
    before = snapshot(host)
    result = site_over_ssh("-e", "ssh_hardening_port=2222")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    # The ufw guard names the session it protects; no role got as far as writing.
    assert "refus" in output, output[-3000:]
    assert "22" in output
    assert snapshot(host) == before, output[-3000:]
    assert not host.file("/etc/ansible/facts.d/bulwark.fact").exists
    assert host.run("ls /etc/ssh/sshd_config.*~").rc != 0, "a backup means sshd_config was replaced"
    # The admin still logs in on 22, and sshd did not move.
    login = ssh("deploy")
    assert login.returncode == 0 and login.stdout.strip() == "deploy", login.stderr
    assert host.socket("tcp://0.0.0.0:22").is_listening
    assert not host.socket("tcp://0.0.0.0:2222").is_listening

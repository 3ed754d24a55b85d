"""After every guard fired, each admin still logs in exactly as before, and nothing was rewritten."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

testinfra_hosts = ["all"]

SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10"]


@pytest.fixture
def askpass(tmp_path):
    """An SSH_ASKPASS helper that answers pwadmin's password, so the real client logs in with it."""
    script = tmp_path / "askpass.sh"
    script.write_text("#!/bin/sh\necho bulwark-test-pw-7\n")
    script.chmod(stat.S_IRWXU)
    return str(script)


def test_admin_still_logs_in(ssh):
    result = ssh("deploy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deploy"


def test_ecdsa_admin_still_logs_in_with_its_ecdsa_key(address):
    key = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "id_ecdsa")
    argv = [
        "ssh",
        *SSH_OPTIONS,
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        key,
        f"ecadmin@{address}",
        "id -un",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ecadmin"


def test_password_admin_still_logs_in_with_its_password(address, askpass):
    argv = [
        "ssh", *SSH_OPTIONS, "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password",
        "-o", "NumberOfPasswordPrompts=1", f"pwadmin@{address}", "id -un",
    ]  # fmt: skip
    env = {**os.environ, "SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=30, check=False, env=env, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pwadmin"


def test_sshd_config_is_still_debians(host):
    config = host.file("/etc/ssh/sshd_config")
    assert not config.contains("bulwark")
    assert host.run("ls /etc/ssh/sshd_config.*~").rc != 0, "no backup: nothing was replaced"


def test_stock_password_login_still_offered(ssh):
    # The stock server (plus the cloud-init drop-in) lists password among its methods; the
    # hardened one would say "Permission denied (publickey)." - the two outcomes differ here.
    result = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert result.returncode == 255
    assert "Permission denied (publickey,password)." in result.stderr


def test_sshd_still_listens_on_22_only(host):
    assert host.socket("tcp://0.0.0.0:22").is_listening
    assert not host.socket("tcp://0.0.0.0:2222").is_listening


def test_firewall_still_lets_everyone_reach_ssh(host):
    # The bastion case was refused before ufw changed anything.
    status = host.check_output("ufw status")
    assert "22/tcp" in status and "ALLOW" in status, status
    assert "203.0.113.9" not in status, status


def test_deploys_keys_were_put_back(ssh):
    # The case that replaced them restores them; the login above proves the key works again.
    assert ssh("deploy").returncode == 0

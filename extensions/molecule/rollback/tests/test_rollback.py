"""Commit-confirmed changes: what a fresh login cannot prove is rolled back by the host itself.

Each case runs lockout.yml over real SSH as deploy (key, sudo) with a 30 s rollback window and
the lockout guards switched off on purpose, then checks the outcome from outside: the play's
message, a real login, and the files byte for byte.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from playbook_run import playbook_command, run_command

testinfra_hosts = ["all"]

SSHD = ["/etc/ssh/sshd_config"]
UFW = ["/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/ufw/ufw.conf", "/etc/default/ufw"]
ARMED = "/var/lib/bulwark/rollback/armed"
PLAYBOOK = Path(__file__).resolve().parent.parent / "lockout.yml"


@pytest.fixture
def lockout(address, test_key, tmp_path):
    """``(argv, env)`` of lockout.yml against the container over SSH as deploy, for one case."""

    def command(case: str, *extra: str) -> tuple[list[str], dict]:
        inventory = tmp_path / "inventory.ini"
        inventory.write_text(
            f"target ansible_host={address} ansible_user=deploy ansible_become=true "
            f"ansible_ssh_private_key_file={test_key} ansible_python_interpreter=/usr/bin/python3 "
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
            "-o IdentitiesOnly=yes'\n"
        )
        return playbook_command(PLAYBOOK, "-e", f"case={case}", *extra, inventory=inventory)

    return command


def run(command) -> tuple[int, str]:
    result = run_command(command)
    return result.returncode, result.stdout + result.stderr


def digests(host, paths) -> dict:
    return {path: host.file(path).sha256sum if host.file(path).exists else None for path in paths}


def assert_disarmed(host):
    assert not host.file(ARMED).exists, host.run(f"cat {ARMED}/manifest.json").stdout
    timers = host.run("systemctl list-timers --all --no-legend 'bulwark-rollback*'").stdout
    assert "bulwark-rollback" not in timers, timers


def test_check_mode_arms_nothing(host, lockout):
    before = digests(host, SSHD)
    rc, output = run(lockout("sshd", "--check"))
    assert rc == 0, output[-3000:]
    assert digests(host, SSHD) == before
    assert_disarmed(host)


def test_sshd_change_the_fresh_login_refuses_is_rolled_back(host, lockout, ssh):
    before = digests(host, SSHD)
    rc, output = run(lockout("sshd"))
    assert rc != 0, output[-3000:]
    # The play names what changed and says that the host restored it, and when.
    assert "A fresh login as deploy" in output, output[-3000:]
    assert "after sshd configuration changed" in output, output[-3000:]
    assert "The host restored its previous configuration at" in output, output[-3000:]
    # The host is back on its last good configuration without anyone touching it.
    assert digests(host, SSHD) == before
    assert "allowusers" not in host.check_output("sshd -T -C user=deploy,host=x,addr=192.0.2.9")
    login = ssh("deploy")
    assert login.returncode == 0 and login.stdout.strip() == "deploy", login.stderr
    assert_disarmed(host)
    assert "restored" in host.check_output("journalctl -t bulwark-rollback --no-pager")


def test_firewall_change_that_drops_the_controller_is_rolled_back(host, lockout, ssh):
    before = digests(host, UFW)
    rules_before = host.check_output("iptables -S ufw-user-input")
    rc, output = run(lockout("ufw"))
    assert rc != 0, output[-3000:]
    assert "A fresh login as deploy" in output, output[-3000:]
    assert "ufw" in output and "The host restored its previous configuration at" in output, output[-3000:]
    assert digests(host, UFW) == before
    assert host.check_output("iptables -S ufw-user-input") == rules_before
    login = ssh("deploy")
    assert login.returncode == 0 and login.stdout.strip() == "deploy", login.stderr
    assert_disarmed(host)


def test_killed_controller_is_rolled_back_by_the_host(host, lockout, ssh, wait_for):
    before = digests(host, SSHD)
    argv, env = lockout("pending")
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if "TASK [Wait here until the test kills the controller]" in line:
                break
    finally:
        # The whole process group, as a crash or an operator's kill -9 would.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    output = "".join(seen)
    assert "TASK [Wait here" in output, output[-3000:]
    # The change went live: deploy is locked out now, and the rollback is armed.
    assert host.file(f"{ARMED}/manifest.json").exists, output[-3000:]
    assert ssh("deploy").returncode != 0, "the change should be live before the rollback"
    # Within the window (30 s) the host puts its configuration back by itself.
    assert wait_for(lambda: ssh("deploy").returncode == 0, seconds=75, step=3), "deploy never got back in"
    assert digests(host, SSHD) == before
    assert_disarmed(host)


def test_change_the_fresh_login_proves_is_kept(host, lockout, ssh):
    rc, output = run(lockout("keep"))
    assert rc == 0, output[-3000:]
    assert "Log in afresh with the same credentials, become root and keep the changes" in output
    assert_disarmed(host)
    # Kept past the window: the hardened server offers no password login.
    time.sleep(35)
    assert host.file("/etc/ssh/sshd_config").contains("bulwark")
    refused = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "Permission denied (publickey)." in refused.stderr
    login = ssh("deploy")
    assert login.returncode == 0, login.stderr


def test_guard_reads_the_sessions_own_record_on_the_hardened_host(lockout):
    rc, output = run(lockout("auth"))
    assert rc == 0, output[-3000:]

"""site.yml end to end: the admin gets in through the firewall, a guesser is banned through ufw,
the ban survives a drift check, and unban lets it back in."""

from __future__ import annotations

import os

import pytest

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = [f"ansible://site-bookworm?ansible_inventory={INVENTORY}"]
GUESS = (
    "timeout 15 ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
    " -o ConnectTimeout=5 ghost@{target} true"
)
PROBE = "nc -z -w 3 {target} 22"
MAX_GUESSES = 5  # maxretry is 3; ufw's limit on 22 would only act from the 6th connection in 30 s


@pytest.fixture(scope="module")
def attacker(inventory_host):
    return inventory_host("site-attacker")


def banned(host, addr):
    out = host.check_output("fail2ban-client status sshd")
    return addr in next(line for line in out.splitlines() if "Banned IP list" in line).split(":", 1)[1].split()


def test_admin_logs_in_through_the_firewall(ssh):
    result = ssh("deploy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deploy"


def test_everything_is_up(host):
    assert "Status: active" in host.check_output("ufw status")
    for service in ("ssh", "ufw", "fail2ban"):
        assert host.service(service).is_running, service


def test_guesser_is_banned_through_ufw_and_the_ban_is_not_drift(host, attacker, ipv4, wait_for, check_run):
    target, addr = ipv4(host), ipv4(attacker)
    host.run(f"fail2ban-client set sshd unbanip {addr}")
    try:
        assert wait_for(lambda: attacker.run(PROBE.format(target=target)).rc == 0, 40), "port 22 unreachable"
        for _guess in range(MAX_GUESSES):
            assert attacker.run(GUESS.format(target=target)).rc != 0
            if wait_for(lambda: banned(host, addr), 2):
                break
        assert wait_for(lambda: banned(host, addr), 15), "the guesser was never banned"

        # The ban is a ufw rule (banaction ufw, since the ufw role manages the host) ...
        assert addr in host.check_output("ufw status")
        # ... that really blocks ...
        assert attacker.run(PROBE.format(target=target)).rc != 0
        # ... and that the ufw role keeps: a drift check sees nothing to change.
        _result, report = check_run()
        assert report["site-bookworm"]["drift"] == [], report["site-bookworm"]["drift"]
        assert addr in host.check_output("ufw status")
    finally:
        host.run(f"fail2ban-client set sshd unbanip {addr}")
    assert wait_for(lambda: attacker.run(PROBE.format(target=target)).rc == 0, 40), "still blocked after unban"
    assert addr not in host.check_output("ufw status")

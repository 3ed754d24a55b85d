"""The README's quick start, run as written over real SSH on a web host, asked from a second container.

The tests run in file order, each on the host the previous one left: an undeclared website is
refused before the firewall changes; the quick start as written keeps the website up; a second run
changes nothing; the README's drift command, as written, reports no drift right after it and the
drift a hand-made firewall rule makes; the same play (ssh_hardening listed before ufw) moves sshd
to 2222 safely, and fail2ban's sshd jail follows the port.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = [f"ansible://quickstart-web?ansible_inventory={INVENTORY}"]
README = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "docs" / "README.md"
BLOCK = re.compile(r"<!-- quickstart: (?P<path>\S+) -->\s*```yaml\n(?P<body>.*?)```", re.S)
DRIFT = re.compile(r"<!-- quickstart: drift -->\s*```sh\n(?P<body>.*?)```", re.S)


def quick_start() -> dict[str, str]:
    """The quick start's files, as the README shows them (path -> text)."""
    blocks = {m["path"]: m["body"] for m in BLOCK.finditer(README.read_text(encoding="utf-8"))}
    assert {"group_vars/web.yml", "site.yml"} <= set(blocks), f"README quick start blocks: {sorted(blocks)}"
    return blocks


def drift_command() -> tuple[dict[str, str], list[str]]:
    """The README's drift command after the quick start: its exported variables and its ansible-playbook argv."""
    match = DRIFT.search(README.read_text(encoding="utf-8"))
    assert match, "README: no drift command after the quick start"
    env: dict[str, str] = {}
    argv: list[str] = []
    for line in match["body"].splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            env.update(word.split("=", 1) for word in words[1:])
        elif words[:1] == ["ansible-playbook"]:
            argv = words
    assert argv, match["body"]
    return env, argv


@pytest.fixture(scope="module")
def project(tmp_path_factory, target_ip):
    """A user's project: the README's files plus an inventory that logs in over SSH as deploy."""
    root = tmp_path_factory.mktemp("quickstart")
    test_key = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "id_test"  # the ssh fixture's key
    for path, text in quick_start().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    (root / "inventory").write_text(
        "[web]\n"
        f"web ansible_host={target_ip} ansible_user=deploy ansible_ssh_private_key_file={test_key} "
        "ansible_python_interpreter=/usr/bin/python3 "
        "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n",
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def play(project):
    """Run the quick start's site.yml with extra arguments; returns (rc, output, recap of host web)."""

    def run(*extra: str) -> tuple[int, str, dict[str, int]]:
        done = run_playbook(project / "site.yml", *extra, inventory=project / "inventory", timeout=900)
        output = done.stdout + done.stderr
        recap = re.search(r"^web\s+:\s+(.*)$", done.stdout, re.M)
        counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))} if recap else {}
        return done.returncode, output, counts

    return run


@pytest.fixture(scope="module")
def drift_check(project):
    """Run the README's drift command as written, in the user's project, in the user's environment
    (none of the scenario's BULWARK_DRIFT_* settings); returns (rc, output, JSON report)."""

    def run() -> tuple[int, str, dict]:
        exported, argv = drift_command()
        report = project / "drift.json"
        report.unlink(missing_ok=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith("BULWARK_DRIFT_")}
        env.update(exported, ANSIBLE_NOCOLOR="true", ANSIBLE_FORCE_COLOR="false", BULWARK_DRIFT_REPORT=str(report))
        argv = [str(Path(sys.executable).parent / "ansible-playbook"), *argv[1:]]
        done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False)
        output = done.stdout + done.stderr
        return done.returncode, output, json.loads(report.read_text()) if report.exists() else {}

    return run


def http_status(client, target_ip, port=80) -> str:
    return client.run(f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{target_ip}:{port}/").stdout


def tcp_open(client, target_ip, port) -> bool:
    """Does a TCP connection from the client to the web host's port succeed within 5 s?"""
    return client.run(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{target_ip}/{port}'").rc == 0


def test_an_undeclared_website_is_refused_before_the_firewall_changes(play, host, client, target_ip):
    assert http_status(client, target_ip) == "200", "the fixture's website is down"
    rc, output, _recap = play("-e", json.dumps({"bulwark_services": {}}))
    assert rc != 0, output[-3000:]
    message = output[output.find("refusing to change ufw") :][:1500]
    for expected in ("80/tcp", "apache2", "apache2.service", "bulwark_services", "bulwark_closed_ports"):
        assert expected in message, output[-3000:]
    # The ufw role's guard refused before it installed anything; the website is still up.
    assert not host.package("ufw").is_installed
    assert http_status(client, target_ip) == "200"


def test_the_quick_start_keeps_the_website_up(play, host, client, target_ip, ssh):
    rc, output, recap = play()
    assert rc == 0 and recap.get("failed", 1) == 0, output[-4000:]
    assert "Status: active" in host.check_output("ufw status")
    assert http_status(client, target_ip) == "200"
    assert tcp_open(client, target_ip, 22)
    # Closed to the world: a port nothing declared (the firewall's default deny, seen from outside).
    host.run("systemd-run --unit bulwark-qs-stray python3 -m http.server 8081")
    try:
        assert not tcp_open(client, target_ip, 8081)
    finally:
        host.run("systemctl stop bulwark-qs-stray")
    login = ssh("deploy")
    assert login.returncode == 0 and login.stdout.strip() == "deploy", login.stderr


def test_a_second_run_changes_nothing(play):
    rc, output, recap = play()
    assert rc == 0 and recap.get("changed") == 0, output[-4000:]


def test_the_readmes_drift_command_reports_no_drift_right_after_the_quick_start(drift_check):
    rc, output, report = drift_check()
    assert rc == 0, output[-4000:]
    host = report["hosts"]["web"]
    assert host["status"] == "compliant" and host["drift"] == [], output[-4000:]
    assert report["verdict"]["status"] == "compliant"
    # Only the controls of the roles the quick start lists (and common, which they depend on).
    assert {entry["role"] for entry in host["controls"].values()} <= {"common", "ssh_hardening", "ufw", "fail2ban"}
    assert {"SSH-CONFIG", "UFW-RULESET"} <= set(host["controls"])
    assert "verdict: compliant (exit status 0)" in output


def test_the_readmes_drift_command_names_a_drift_and_exits_drifted(host, drift_check):
    host.check_output("ufw allow 7777/tcp")
    try:
        rc, output, report = drift_check()
    finally:
        host.check_output("ufw delete allow 7777/tcp")
    assert rc == 10, output[-4000:]
    drifted = [key for key, entry in report["hosts"]["web"]["controls"].items() if entry["status"] == "drift"]
    assert drifted == ["UFW-RULESET"], output[-4000:]
    assert "allow 7777/tcp from any" in report["hosts"]["web"]["controls"]["UFW-RULESET"]["found"], output[-4000:]
    # The gate failed the drifted host's task too (AWX's per-host view).
    assert "web drifted or was not checked (drift): UFW-RULESET" in output
    assert "verdict: drifted (exit status 10): 1 host(s) drifted: web." in output


def test_ssh_before_ufw_moves_the_port_safely(play, host, client, target_ip, ssh):
    rc, output, recap = play("-e", "bulwark_ssh_port=2222")
    assert rc == 0 and recap.get("failed", 1) == 0, output[-4000:]
    assert host.socket("tcp://0.0.0.0:2222").is_listening
    assert not host.socket("tcp://0.0.0.0:22").is_listening
    assert ssh("deploy", "-p", "2222").returncode == 0
    assert tcp_open(client, target_ip, 2222)
    assert not tcp_open(client, target_ip, 22)
    assert http_status(client, target_ip) == "200"
    # The move was confirmed by a fresh login: no rollback is armed any more.
    assert not host.file("/var/lib/bulwark/rollback/armed").exists
    rc, output, recap = play("-e", "bulwark_ssh_port=2222", "-e", "ansible_port=2222")
    assert rc == 0 and recap.get("changed") == 0, output[-4000:]


def test_fail2ban_follows_the_moved_port(host, client, target_ip, wait_for):
    action = host.check_output("fail2ban-client get sshd actions").split()[-1]
    assert host.check_output(f"fail2ban-client get sshd action {action} port").strip() == "2222"
    guess = (
        "ssh -p 2222 -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
        f"-o ConnectTimeout=5 -o PreferredAuthentications=publickey nosuchuser@{target_ip} true"
    )
    client_ip = client.check_output("hostname -I").split()[0]

    def banned() -> bool:
        return client_ip in host.run("fail2ban-client status sshd").stdout

    try:
        # One guess every 7 s: ufw's rate limit on the SSH port (6 connections in 30 s) would stop a
        # faster guesser before fail2ban's maxretry (5), and this test is about fail2ban.
        for _attempt in range(8):
            client.run(guess)
            if banned():
                break
            time.sleep(7)
        why = host.run(
            "fail2ban-client status sshd; journalctl -u ssh -n 15 --no-pager; journalctl -u fail2ban -n 15 --no-pager"
        ).stdout
        assert wait_for(banned, 20), why
        assert wait_for(lambda: not tcp_open(client, target_ip, 2222), 10), "a banned client still reaches sshd"
    finally:
        host.run(f"fail2ban-client set sshd unbanip {client_ip}")

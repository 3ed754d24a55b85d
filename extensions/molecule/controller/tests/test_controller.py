"""The Debian-controller path: Debian 13's own Ansible, the collection from its tarball, a target
hardened over SSH. The runs themselves happen in the scenario's steps (converge.yml); these tests
read what each run left in /root/bulwark/logs on the controller and log in as the admin."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = [f"ansible://controller-trixie?ansible_inventory={INVENTORY}"]
TARGET = "controller-target"
LOGS = "/root/bulwark/logs"
SSH = "ssh -o BatchMode=yes -o ConnectTimeout=10"
RECAP = re.compile(
    rf"^{TARGET}\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)


def recap(host, run: str) -> dict[str, int]:
    """The target's PLAY RECAP counters of one inner run."""
    match = RECAP.search(host.file(f"{LOGS}/{run}.log").content_string)
    assert match, f"no PLAY RECAP for {TARGET} in {run}.log"
    return {key: int(value) for key, value in match.groupdict().items()}


def drift(host, run: str) -> dict:
    """What the drift_report callback wrote for the target in a check run."""
    report = json.loads(host.file(f"{LOGS}/{run}.json").content_string)
    assert report["check_mode"] is True
    return report["hosts"][TARGET]


@pytest.fixture(scope="module")
def target(inventory_host):
    return inventory_host(TARGET)


def test_the_controller_runs_debians_own_ansible(host):
    # The ansible-playbook on PATH belongs to Debian's package, runs on the system Python, and
    # there is no pip to have put anything else there.
    owner = host.check_output("dpkg-query --search /usr/bin/ansible-playbook")
    assert owner.startswith("ansible-core: "), owner
    packaged = host.check_output("dpkg-query --show --showformat '${Version}' ansible-core")
    version = host.check_output("ansible-playbook --version")
    assert re.search(r"\[core 2\.19\.\d+\]", version), version
    assert f"[core {packaged.split('-')[0]}]" in version
    assert "(/usr/bin/python3)" in version
    assert host.run("python3 -m pip --version").rc != 0


def test_the_collection_comes_from_the_built_tarball(host):
    galaxy = yaml.safe_load((Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "galaxy.yml").read_text())
    installed = json.loads(host.check_output("ansible-galaxy collection list bulwark.hardening --format json"))
    assert installed == {
        "/root/.ansible/collections/ansible_collections": {"bulwark.hardening": {"version": galaxy["version"]}}
    }
    # MANIFEST.json and FILES.json exist only in a built artifact, never in a source checkout.
    manifest = "/root/.ansible/collections/ansible_collections/bulwark/hardening/MANIFEST.json"
    assert json.loads(host.file(manifest).content_string)["collection_info"]["version"] == galaxy["version"]


def test_check_mode_on_the_stock_target_reports_drift(host):
    # The same drift check that later finds the host in compliance saw a stock host as drifted:
    # the "in compliance" below is a result, not what the callback always says.
    assert recap(host, "precheck")["failed"] == 0
    report = drift(host, "precheck")
    assert report["failed"] == 0
    assert report["unreachable"] == 0
    drifted = {item["task"] for item in report["drift"]}
    assert any(task.startswith("Install the hardened sshd_config") for task in drifted), drifted
    assert "Install the ufw package" in drifted


def test_the_first_run_hardened_the_target_over_ssh(host):
    counts = recap(host, "converge")
    assert counts["changed"] > 0
    assert counts["failed"] == counts["unreachable"] == 0
    assert "ufw lockout guard skipped" not in host.file(f"{LOGS}/converge.log").content_string


def test_the_guard_saw_the_admins_ssh_session(host):
    # side_effect asked for PubkeyAcceptedAlgorithms rsa-sha2-512 only; the admin logged in
    # with an ed25519 key over real SSH (not a docker exec), which sshd's log tells the guard.
    log = host.file(f"{LOGS}/guard.log").content_string
    assert recap(host, "guard")["changed"] == 0
    seen = re.search(r"account 'admin' logged in to this session with key type \S*ed25519", log, re.IGNORECASE)
    assert seen, log[-2000:]


def test_the_second_run_changes_nothing(host):
    counts = recap(host, "rerun")
    assert counts["ok"] > 0
    assert counts == {**counts, "changed": 0, "failed": 0, "unreachable": 0}


def test_the_drift_check_finds_the_target_in_compliance(host):
    counts = recap(host, "drift")
    assert counts == {**counts, "changed": 0, "failed": 0, "unreachable": 0}
    report = drift(host, "drift")
    assert report["drift"] == []
    assert report["failed"] == report["unreachable"] == 0
    assert report["ok"] > 0
    assert f"{TARGET}: in compliance" in host.file(f"{LOGS}/drift.log").content_string


def test_ansible_logged_in_over_ssh_as_admin(host, target, ipv4):
    # The target's own sshd log: the runs came over SSH, by key, from the controller.
    journal = target.check_output("journalctl --no-pager -o cat _COMM=sshd")
    assert f"Accepted publickey for admin from {ipv4(host)} " in journal


def test_the_admin_still_logs_in_and_gets_root(host):
    result = host.run(f"{SSH} admin@{TARGET} 'id -un; sudo -n id -u'")
    assert result.rc == 0, result.stderr
    assert result.stdout.split() == ["admin", "0"]


def test_the_hardened_server_offers_public_keys_only(host):
    # A stock sshd would answer "Permission denied (publickey,password)".
    result = host.run(f"{SSH} -o PubkeyAuthentication=no admin@{TARGET} true")
    assert result.rc == 255
    assert "Permission denied (publickey)." in result.stderr

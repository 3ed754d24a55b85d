"""The scheduled drift run on the hardened web host: precision and recall.

The untouched host is in compliance: after the idempotence run (a converge that changed nothing)
the scenario's check gate runs drift.yml, which exits 0; its report is read here. Then known
drifts are injected by hand, one or more per role, and the drift run must report exactly their
controls - no more, no fewer - exit 10 (drifted), and say the same in JSON, JUnit and Markdown.
Converge repairs them, and the next drift run is clean again.
Also: the website the host serves answers from outside after site.yml, as it did before."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "site-bookworm"
testinfra_hosts = [f"ansible://{TARGET}?ansible_inventory={INVENTORY}"]
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
OUT = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "drift"

# What an admin (or an intruder) does by hand, and the control the drift run must name for it.
# Several drifts of one control (a rule added and one deleted) make one control.
DRIFTS = [
    # an sshd setting edited in place, and sshd reloaded as an admin would
    ("sed -i 's/^PasswordAuthentication no$/PasswordAuthentication yes/' /etc/ssh/sshd_config"
     " && systemctl reload ssh", "SSH-CONFIG"),
    ("echo 'Welcome to production' >> /etc/issue.net", "SSH-BANNER"),
    ("ufw allow 2222/tcp", "UFW-RULESET"),
    # the rule that opens the declared website (the first numbered rule for 80/tcp)
    ("ufw --force delete $(ufw status numbered | awk -F'[][]' '/ 80\\/tcp .*ALLOW IN/ {print $2; exit}')",
     "UFW-RULESET"),
    # the jail file edited, and fail2ban restarted so the running jails are those of the edit
    ("sed -i '0,/^maxretry = 3$/s//maxretry = 10/' /etc/fail2ban/jail.d/bulwark.local"
     " && systemctl restart fail2ban", "FAIL2BAN-JAILS"),
    ("echo 'Unattended-Upgrade::Origins-Pattern { \"origin=Debian,codename=${distro_codename}-updates\"; };'"
     " > /etc/apt/apt.conf.d/99local-updates", "UPDATES-ORIGINS"),
    ("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends telnet", "PACKAGES-BLOCKLISTED"),
    ("systemd-run --unit=bulwark-drift-listener python3 -m http.server 8081", "LISTENER-UNDECLARED"),
    ("sed -i '/X-Content-Type-Options/d' /etc/apache2/conf-available/zz-bulwark-hardening.conf"
     " && systemctl reload apache2", "APACHE-CONFIG"),
    ("sed -i 's/^ServerTokens Prod$/ServerTokens Full/' /etc/apache2/conf-available/zz-bulwark-hardening.conf"
     " && systemctl reload apache2", "APACHE-CONFIG"),
    ("sed -i 's/^allow_url_fopen = .*/allow_url_fopen = On/' /etc/php/*/apache2/conf.d/99-bulwark-hardening.ini"
     " && systemctl reload apache2", "PHP-INI"),
    ("chattr -i /var/www/html/index.php", "IMMUTABLE-APP"),
]  # fmt: skip
EXPECTED = sorted({drift[1] for drift in DRIFTS})


def playbook(name: str, run: str, *, check: bool) -> subprocess.CompletedProcess:
    """Run a playbook of the scenario against its inventory; the drift report goes to OUT/<run>.*"""
    OUT.mkdir(exist_ok=True)
    env = {
        "BULWARK_DRIFT_QUIET": "false",
        "BULWARK_DRIFT_REPORT": str(OUT / f"{run}.json"),
        "BULWARK_DRIFT_JUNIT": str(OUT / f"{run}.xml"),
        "BULWARK_DRIFT_MARKDOWN": str(OUT / f"{run}.md"),
        "BULWARK_DRIFT_HTML": str(OUT / f"{run}.html"),
    }
    result = run_playbook(SCENARIO / name, "--diff", *(["--check"] if check else []), env=env, timeout=900)
    (OUT / f"{run}.log").write_text(result.stdout + result.stderr)
    return result


def controls(run: str) -> dict[str, list[str]]:
    """The drifted controls of the target in each output format of one run."""
    report = json.loads((OUT / f"{run}.json").read_text())
    from_json = sorted(key for key, entry in report["hosts"][TARGET]["controls"].items() if entry["status"] == "drift")
    suite = next(s for s in ElementTree.parse(OUT / f"{run}.xml").getroot() if s.get("name") == TARGET)
    from_junit = sorted(case.get("name").split()[0] for case in suite if case.find("failure") is not None)
    markdown = (OUT / f"{run}.md").read_text()
    from_markdown = sorted(line.split("`")[1] for line in markdown.splitlines() if line.startswith("| `"))
    return {"json": from_json, "junit": from_junit, "markdown": from_markdown, "summary": report["summary"]}


def test_the_drift_run_checks_what_converge_declares():
    def declared(name):
        return yaml.safe_load((SCENARIO / name).read_text())[0]["vars"]

    assert declared("drift.yml") == declared("converge.yml")


@pytest.fixture(scope="module")
def attacker(inventory_host):
    return inventory_host("site-attacker")


def test_the_website_answers_from_outside_after_site_yml(attacker):
    # prepare.yml asked the same before the hardening; bulwark_services declared port 80.
    page = attacker.run(f"curl -sS -D - --max-time 10 http://{TARGET}/")
    assert page.rc == 0, page.stderr
    assert "site up on apache2handler" in page.stdout
    headers = page.stdout.lower()
    assert "server: apache\r\n" in headers
    assert "x-content-type-options: nosniff" in headers


@pytest.fixture(scope="module")
def drift_cycle(host):
    """inject -> drift -> converge -> drift, each run's outputs kept in OUT."""
    runs = {}
    for command, _control in DRIFTS:
        injected = host.run(command)
        assert injected.rc == 0, (command, injected.stderr)
    runs["injected"] = playbook("drift.yml", "injected", check=True)
    # What the roles report but, by design, do not undo, the admin removes: another package's
    # apt.conf.d file (the role refuses to run while it adds origins) and the listener.
    for command in ("rm /etc/apt/apt.conf.d/99local-updates", "systemctl stop bulwark-drift-listener"):
        assert host.run(command).rc == 0, command
    runs["repair"] = playbook("converge.yml", "repair", check=False)
    runs["repaired"] = playbook("drift.yml", "repaired", check=True)
    return runs


def test_the_untouched_host_is_in_compliance_run_after_run():
    # The check gate's drift.yml run (shared/check_zero.yml, BULWARK_CHECK_PLAYBOOK), which exited
    # 0, after the idempotence run; its report names every control it checked, none drifted.
    report = json.loads((OUT.parent / "check_zero.json").read_text())
    checked = report["hosts"][TARGET]["controls"]
    assert report["summary"]["compliant"] == [TARGET]
    # In a container the kernel is the host's: its parameters and modules, the mounts and AppArmor are
    # not applicable here, with the reason, and nothing else is.
    kernel_side = ("OS-SYSCTL", "OS-KERNEL-MODULES", "OS-MOUNTS", "OS-APPARMOR")
    assert {key: entry["status"] for key, entry in checked.items() if entry["status"] != "compliant"} == dict.fromkeys(
        kernel_side, "not_applicable"
    )
    assert all(checked[key]["not_applicable"] for key in kernel_side)
    assert {"SSH-CONFIG", "UFW-RULESET", "APACHE-CONFIG", "PHP-INI", "IMMUTABLE-APP", "OS-AUDIT-FINDINGS"} <= set(
        checked
    )


def test_the_drift_run_reports_exactly_the_injected_controls(drift_cycle):
    found = controls("injected")
    log = (OUT / "injected.log").read_text()
    assert found["json"] == EXPECTED, log[-4000:]
    assert found["junit"] == EXPECTED
    assert found["markdown"] == EXPECTED
    assert found["summary"]["drifted"] == [TARGET]
    # Drift, not failure: every task ran, the gate failed the host, the exit status is the verdict's
    # "drifted" (10, none of ansible-playbook's own codes).
    assert drift_cycle["injected"].returncode == 10, log[-3000:]
    assert f"{TARGET} drifted or was not checked (drift): " in log
    assert json.loads((OUT / "injected.json").read_text())["verdict"]["status"] == "drifted"
    assert "BULWARK DRIFT REPORT - check mode" in log


def test_the_report_says_what_was_expected_and_found(drift_cycle):
    report = json.loads((OUT / "injected.json").read_text())["hosts"][TARGET]["controls"]
    assert "PasswordAuthentication yes" in report["SSH-CONFIG"]["found"]
    assert "PasswordAuthentication no" in report["SSH-CONFIG"]["expected"]
    assert report["SSH-CONFIG"]["measure"]
    assert report["SSH-CONFIG"]["role"] == "ssh_hardening"


def test_each_drift_names_its_file_and_setting_or_its_subject(drift_cycle):
    # What an admin at 6 am acts on: which file and setting, expected and found; or which package,
    # listener or path, for the controls that have no file diff.
    report = json.loads((OUT / "injected.json").read_text())["hosts"][TARGET]["controls"]
    assert {"file": "/etc/ssh/sshd_config", "setting": "PasswordAuthentication", "expected": "no", "found": "yes"} in (
        report["SSH-CONFIG"]["settings"]
    )
    jails = [
        (item["setting"].split()[-1], item["expected"], item["found"]) for item in report["FAIL2BAN-JAILS"]["settings"]
    ]
    assert ("maxretry", "3", "10") in jails, report["FAIL2BAN-JAILS"]
    assert "/etc/fail2ban/jail.d/bulwark.local" in report["FAIL2BAN-JAILS"]["files"]
    assert "package telnet: purge" in report["PACKAGES-BLOCKLISTED"]["subjects"], report["PACKAGES-BLOCKLISTED"]
    assert any(":8081 " in line for line in report["LISTENER-UNDECLARED"]["subjects"]), report["LISTENER-UNDECLARED"]
    assert any("/var/www/html/index.php" in line for line in report["IMMUTABLE-APP"]["subjects"]), report[
        "IMMUTABLE-APP"
    ]
    markdown = (OUT / "injected.md").read_text()
    assert "- `PasswordAuthentication`: expected `no`, found `yes`" in markdown


def test_junit_and_html_come_from_the_same_report(drift_cycle):
    report = json.loads((OUT / "injected.json").read_text())
    suite = next(s for s in ElementTree.parse(OUT / "injected.xml").getroot() if s.get("name") == TARGET)
    assert suite.get("timestamp") == report["run"]["started"].rstrip("Z")
    assert len(suite) == len(report["hosts"][TARGET]["controls"])
    assert all(float(case.get("time")) >= 0 for case in suite)
    page = (OUT / "injected.html").read_text()
    assert page.count('<td class="cell drift"') == len(EXPECTED)
    assert page.count('<td class="cell compliant"') == len(report["hosts"][TARGET]["controls"]) - len(EXPECTED)
    assert f'<span id="version">{report["run"]["version"]}</span>' in page


def test_converge_repairs_and_the_next_drift_run_is_clean(drift_cycle, host):
    assert drift_cycle["repair"].returncode == 0, (OUT / "repair.log").read_text()[-3000:]
    assert drift_cycle["repaired"].returncode == 0, (OUT / "repaired.log").read_text()[-3000:]
    repaired = controls("repaired")
    assert repaired["json"] == repaired["junit"] == repaired["markdown"] == []
    assert repaired["summary"]["compliant"] == [TARGET]
    assert "PasswordAuthentication no" in host.check_output("sshd -T | grep -i '^passwordauthentication'").replace(
        "passwordauthentication", "PasswordAuthentication"
    )

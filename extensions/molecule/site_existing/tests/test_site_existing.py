"""Our roles dropped into a user's existing site playbook (converge.yml): nothing of ours collides
with theirs, their settings survive where they do not contradict ours, where they do the result is
what our READMEs say (and a check run says so), and --tags / --skip-tags select our roles."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "site_existing-bookworm"
testinfra_hosts = [f"ansible://{TARGET}?ansible_inventory={INVENTORY}"]
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
PROJECT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
CURL = "curl -sS -i --max-time 5 {url}"


def sshd_effective(host) -> dict[str, list[str]]:
    """`sshd -T`: keyword -> values (a keyword sshd prints once per value, like allowusers, is a list)."""
    conf: dict[str, list[str]] = {}
    for line in host.check_output("sshd -T").splitlines():
        key, _sep, value = line.partition(" ")
        conf.setdefault(key, []).append(value)
    return conf


def response(client, url: str) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers (in order, repeated ones kept, names lower case) and body, asked from the client."""
    cmd = client.run(CURL.format(url=url))
    assert cmd.rc == 0, f"curl {url}: rc {cmd.rc} {cmd.stderr}"
    head, _sep, body = cmd.stdout.replace("\r\n", "\n").partition("\n\n")
    status_line, *lines = head.splitlines()
    headers = [(k.strip().lower(), v.strip()) for k, _s, v in (line.partition(":") for line in lines)]
    return int(status_line.split()[1]), headers, body


def values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key == name.lower()]


def playbook_check(*args: str, name: str) -> tuple[subprocess.CompletedProcess, dict]:
    """converge.yml with --check --diff and extra arguments; returns the run and the target's drift record."""
    report = EPHEMERAL / f"{name}.json"
    result = run_playbook(
        SCENARIO / "converge.yml", "--check", "--diff", *args, env={"BULWARK_DRIFT_REPORT": str(report)}, timeout=900
    )
    (EPHEMERAL / f"{name}.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result, json.loads(report.read_text())["hosts"][TARGET]


def task_banners(run: subprocess.CompletedProcess) -> list[str]:
    return re.findall(r"^TASK \[(.*)\] \*+$", run.stdout, re.M)


# --- SSH: their drop-in, our template, their AllowUsers, both handlers --------------------------


def test_their_sshd_dropin_survives_where_it_does_not_contradict_ours(host):
    conf = sshd_effective(host)
    # Keywords our template leaves alone: theirs, from their drop-in (AllowUsers from their `users`).
    assert conf["printlastlog"] == ["no"]
    assert conf["allowusers"] == ["deploy"]
    # A keyword we set: ours is written before the Include and sshd keeps the first value (README).
    assert conf["maxauthtries"] == ["3"]
    # Their `port: 8080` is their vhost's, not bulwark_ssh_port.
    assert conf["port"] == ["22"]
    assert "10-site.conf" in host.check_output("ls /etc/ssh/sshd_config.d")


def test_the_running_sshd_enforces_their_allowusers_and_our_keys_only(ssh):
    admin = ssh("deploy")
    assert admin.returncode == 0, admin.stderr
    assert admin.stdout.strip() == "deploy"
    # alice has a key (fixture) but is not in their AllowUsers.
    assert ssh("alice").returncode != 0
    # The daemon runs our configuration (our reload ran): only publickey is offered, although
    # cloud-init's drop-in says PasswordAuthentication yes and it offered passwords before.
    password = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert password.returncode != 0
    assert "Permission denied (publickey)" in password.stderr, password.stderr


def test_their_handlers_ran_under_their_names(host):
    # Their "restart sshd" and "reload apache2" were notified by their pre_tasks; each has a
    # listener that leaves a note. Our roles have no handlers: they reload in their own tasks.
    assert host.file("/var/lib/site/restart-sshd.ran").content_string == "restart sshd\n"
    assert host.file("/var/lib/site/reload-apache2.ran").content_string == "reload apache2\n"
    # Our sshd reload ran too: sshd logs it (their handler restarts, it never sends SIGHUP).
    assert "Received SIGHUP; restarting." in host.check_output("journalctl -u ssh -o cat --no-pager")


# --- Apache: their header conf and vhost, our headers -------------------------------------------


@pytest.mark.parametrize("port", [80, 8080])
@pytest.mark.parametrize("path", ["/", "/nope"])
def test_their_header_and_ours_each_exactly_once(client, target_ip, port, path):
    status, headers, _body = response(client, f"http://{target_ip}:{port}{path}")
    assert status == (200 if path == "/" else 404)
    # Theirs (conf-enabled/site-headers.conf), on both vhosts, 200 and 404.
    assert values(headers, "X-Site-Owner") == ["ops"]
    # Ours (running: our apache2 reload ran after their reload), also once each.
    assert values(headers, "Server") == ["Apache"]
    assert values(headers, "X-Frame-Options") == ["DENY"]
    assert values(headers, "X-Content-Type-Options") == ["nosniff"]
    assert len(values(headers, "Content-Security-Policy")) == 1


def test_their_legacy_vhost_answers_from_outside_and_is_locked(host, client, target_ip):
    status, _headers, body = response(client, f"http://{target_ip}:8080/")
    assert status == 200
    assert body == "legacy app on port 8080\n"  # deployed by their task inside our unlock/lock bracket
    # Locked by the immutable role's lock entry point after their deploy.
    assert "i" in host.check_output("lsattr -d /srv/legacy/index.html").split()[0]
    write = host.run("echo defaced >> /srv/legacy/index.html")
    assert write.rc != 0
    assert "Operation not permitted" in write.stderr


# --- ufw: their rules under ufw_exclusive --------------------------------------------------------


def test_ufw_holds_exactly_the_declared_rules(host):
    status = host.check_output("LC_ALL=C ufw status")
    # Hand rules of theirs that nobody declared are gone (ufw_exclusive: true, README step 4) ...
    assert "staging" not in status
    assert "8081" not in status
    # ... and those that a declared rule replaces (same port, other comment or action) too.
    assert "legacy app" not in status
    assert "website" not in status
    assert re.search(r"^8080/tcp\s+ALLOW\s+Anywhere\s+# service legacy$", status, re.M)
    assert re.search(r"^8080/tcp \(v6\)\s+ALLOW\s+Anywhere \(v6\)\s+# service legacy$", status, re.M)
    assert re.search(r"^22/tcp\s+LIMIT\s+Anywhere\s+# ssh$", status, re.M)
    # Their own rule, from their `rules`, declared to us as ufw_rules and re-applied by their own
    # community.general.ufw task: one rule, IPv4 only (its source is an IPv4 network).
    assert len(re.findall(r"^9100/tcp\s+ALLOW\s+10\.0\.0\.0/8\s+# node exporter$", status, re.M)) == 1
    assert "9100/tcp (v6)" not in status


def test_the_undeclared_port_is_dropped_and_the_declared_one_answers(client, target_ip):
    # 8081: nothing listens; before converge their rule let it through (refused, curl 7), now
    # the firewall drops it (timeout, curl 28).
    assert client.run(f"curl -sS --max-time 5 http://{target_ip}:8081/").rc == 28
    assert client.run(f"curl -sS -o /dev/null --max-time 5 http://{target_ip}:8080/").rc == 0


@pytest.fixture
def hand_rules(host):
    """Their old rules, added again by hand (ufw updates the 8080 rule's comment in place)."""
    host.check_output("ufw allow 8081/tcp comment staging")
    host.check_output("ufw allow 8080/tcp comment 'legacy app'")
    yield
    host.check_output("ufw delete allow 8081/tcp")
    host.check_output("ufw allow 8080/tcp comment 'service legacy'")


def test_a_run_says_what_it_does_to_their_hand_rules(host, hand_rules, check_run):
    run, report = check_run()
    ufw = [entry for entry in report[TARGET]["drift"] if entry["role"] == "ufw"]
    assert ufw, report[TARGET]["drift"]
    # The diff names the rules a real run removes or replaces, for each family.
    for suffix in ("", " (v6)"):
        assert f"-allow 8081/tcp from any{suffix} # staging\n" in run.stdout
        assert f"-allow 8080/tcp from any{suffix} # legacy app\n" in run.stdout
        assert f"+allow 8080/tcp from any{suffix} # service legacy\n" in run.stdout
    # Nothing else of theirs or ours drifted, and check mode left the rules alone.
    assert {entry["role"] for entry in report[TARGET]["drift"]} == {"ufw"}
    status = host.check_output("LC_ALL=C ufw status")
    assert "# staging" in status
    assert "# legacy app" in status


# --- tags: one role at a time --------------------------------------------------------------------


def test_tags_ssh_runs_only_the_ssh_role():
    run, record = playbook_check("--tags", "ssh", name="tags-ssh")
    tasks = dict(record["tasks"])
    # ssh_hardening and its dependency common; "play" is fact gathering only: none of their
    # tasks, none of the include_role tasks of the other roles.
    assert tasks.pop("ssh_hardening") > 0
    assert tasks.pop("common") > 0
    assert tasks.pop("play") == 1, record["tasks"]
    # ansible-core tags the argument-spec validation task it prepends to a role "always", so a
    # statically imported role (immutable's lock entry point, apache_hardening) still runs that
    # one read-only task under --tags ssh; nothing else of theirs.
    validations = [b for b in task_banners(run) if ": Validating arguments against arg spec" in b]
    assert tasks == {role: 1 for role in tasks}, record["tasks"]
    assert {b.split(" : ")[0] for b in validations} >= {f"bulwark.hardening.{role}" for role in tasks}
    # ssh_hardening's dynamic includes of common (the record, the confirmation) print without a role.
    main = yaml.safe_load((PROJECT / "roles" / "ssh_hardening" / "tasks" / "main.yml").read_text(encoding="utf-8"))
    includes = {task["name"] for task in main if "ansible.builtin.include_role" in task}
    assert includes, "ssh_hardening includes common's record and confirmation"
    for banner in task_banners(run)[1:]:
        assert banner.startswith(("bulwark.hardening.ssh_hardening :", "bulwark.hardening.common :")) or (
            banner in validations or banner in includes
        ), banner
    assert record["drift"] == []


def test_skip_tags_firewall_skips_every_ufw_task():
    run, record = playbook_check("--skip-tags", "firewall", name="skip-firewall")
    assert "ufw" not in record["tasks"], record["tasks"]
    assert {"ssh_hardening", "immutable", "apache_hardening", "minimal_packages"} <= set(record["tasks"])
    banners = task_banners(run)
    assert not [b for b in banners if "ufw" in b.lower() or b.startswith("Firewall")], banners
    assert "Their own firewall rules, as before" not in banners
    # Their other tasks still run.
    assert "Deploy their legacy app" in banners
    assert record["drift"] == []


# --- drift: their own playbook is the drift check; the verdict is the exit status -----------------

# The verdict's exit statuses (plugins/callback/drift_report.py, docs/README.md, playbooks/drift.yml).
COMPLIANT, DRIFTED, MISUSE = 0, 10, 12

# A callback of another collection, enabled after ours: its v2_playbook_on_stats must still run (ARA
# records the run's end there), and after ours (the drift report is written by then).
WITNESS = """
import os
from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "bulwarktest.witness.stats"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        with open(os.environ["WITNESS_FILE"], "a", encoding="utf-8") as handle:
            handle.write("drift report written: %s\\n" % os.path.exists(os.environ["BULWARK_DRIFT_REPORT"]))
"""


@pytest.fixture(scope="module")
def witness(tmp_path_factory):
    """Environment that enables the witness callback after ours; the path of the file it writes."""
    root = tmp_path_factory.mktemp("witness")
    plugin = root / "ansible_collections" / "bulwarktest" / "witness" / "plugins" / "callback" / "stats.py"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(WITNESS, encoding="utf-8")
    written = root / "stats.txt"
    env = {
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            filter(None, [str(root), os.environ.get("ANSIBLE_COLLECTIONS_PATH")])
        ),
        "ANSIBLE_CALLBACKS_ENABLED": "bulwark.hardening.drift_report,bulwarktest.witness.stats",
        "WITNESS_FILE": str(written),
    }
    return env, written


def drift_run(playbook, *args: str, name: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    """A playbook run with the drift report and its verdict (the scenario switches the verdict off for
    its other check runs); any outcome. Returns the run and the JSON report ({} when none was written)."""
    report = EPHEMERAL / f"{name}.json"
    report.unlink(missing_ok=True)
    result = run_playbook(
        playbook,
        *args,
        env={"BULWARK_DRIFT_REPORT": str(report), "BULWARK_DRIFT_EXIT_STATUS": "true", **(env or {})},
        timeout=900,
    )
    (EPHEMERAL / f"{name}.log").write_text(result.stdout + result.stderr)
    return result, json.loads(report.read_text()) if report.exists() else {}


def drifted(report: dict) -> list[str]:
    return sorted(key for key, entry in report["hosts"][TARGET]["controls"].items() if entry["status"] == "drift")


@pytest.fixture
def stray_rule(host):
    """A rule added by hand, which their play's ufw role (ufw_exclusive) would remove: one drift."""
    host.check_output("ufw allow 7777/tcp")
    yield
    host.check_output("ufw delete allow 7777/tcp")


def test_their_playbook_in_check_mode_is_a_drift_check_in_compliance():
    run, report = drift_run(SCENARIO / "converge.yml", "--check", "--diff", name="own-compliant")
    assert run.returncode == COMPLIANT, run.stdout[-4000:] + run.stderr[-2000:]
    assert report["verdict"]["status"] == "compliant"
    controls = report["hosts"][TARGET]["controls"]
    assert drifted(report) == []
    # The controls of the roles their play ran, none of the roles it did not list.
    roles = {entry["role"] for entry in controls.values()}
    assert {"ssh_hardening", "ufw", "apache_hardening", "immutable"} <= roles
    assert not roles & {"fail2ban", "unattended_upgrades", "php_hardening"}, roles


def test_their_playbook_exits_drifted_and_other_callbacks_still_record_the_end(stray_rule, witness):
    env, written = witness
    written.unlink(missing_ok=True)
    run, report = drift_run(SCENARIO / "converge.yml", "--check", "--diff", name="own-drifted", env=env)
    assert run.returncode == DRIFTED, run.stdout[-4000:] + run.stderr[-2000:]
    assert drifted(report) == ["UFW-RULESET"]
    assert report["verdict"] == {
        "status": "drifted",
        "exit_status": DRIFTED,
        "reason": f"1 host(s) drifted: {TARGET}.",
    }
    # The callback after ours ran its v2_playbook_on_stats, once ours had written the report.
    assert written.read_text() == "drift report written: True\n"


def test_the_drift_gate_after_their_playbook_fails_the_drifted_host(stray_rule):
    # The gate given second on the command line, as the README's drift command does.
    run, report = drift_run(
        "bulwark.hardening.drift_gate", "--check", "--diff", str(SCENARIO / "converge.yml"), name="own-gated"
    )
    assert run.returncode == DRIFTED, run.stdout[-4000:] + run.stderr[-2000:]
    assert drifted(report) == ["UFW-RULESET"]
    assert f"{TARGET} drifted or was not checked (drift): UFW-RULESET" in run.stdout + run.stderr
    # The gate's task is the verdict, not a control: the report holds the controls of their play only.
    assert not [key for key in report["hosts"][TARGET]["controls"] if "complies" in key]


def _unchanged(host) -> str:
    """What a write would change: sshd's files and the firewall's rules, ufw's view of them."""
    return host.check_output(
        "sha256sum /etc/ssh/sshd_config /etc/ssh/sshd_config.d/* /etc/ufw/user.rules /etc/ufw/user6.rules;"
        " LC_ALL=C ufw status verbose"
    )


@pytest.mark.parametrize(
    "args",
    [["--limit", TARGET], ["--tags", "ufw"], ["--skip-tags", "ssh_hardening,ufw"], ["--skip-tags", "always"]],
    ids=["limit", "tags", "skip-tags", "skip-tags-always"],
)
def test_drift_yml_without_check_refuses_and_writes_nothing(host, stray_rule, args):
    before = _unchanged(host)
    run, report = drift_run(PROJECT / "playbooks" / "drift.yml", "-e", "bulwark_hosts=targets", *args, name="misuse")
    output = run.stdout + run.stderr
    assert run.returncode == MISUSE, output[-4000:]
    assert report["verdict"]["status"] == "misuse"
    assert "playbooks/drift.yml only checks: run it with --check --diff" in output
    if args != ["--skip-tags", "always"]:
        # The refusal ran on the targeted host, and no role did.
        assert f"fatal: [{TARGET}]" in output
        assert "PLAY [Harden Debian web servers]" not in output, output[-4000:]
    # Not even with the refusal skipped: site.yml's play runs in check mode in a drift run.
    assert _unchanged(host) == before
    assert "7777/tcp" in host.check_output("LC_ALL=C ufw status")


def test_site_yml_in_a_drift_run_runs_in_check_mode_without_check(host, stray_rule):
    # drift.yml's variable alone, without --check: every task of site.yml in check mode (with their
    # variables, which are adjacent to their playbook, not to ours).
    before = _unchanged(host)
    their_vars = f"@{SCENARIO / 'group_vars' / 'targets.yml'}"
    args = ["--diff", "-e", their_vars, "-e", "bulwark_drift_run=true", "--limit", TARGET]
    run, report = drift_run(PROJECT / "playbooks" / "site.yml", *args, name="keyword")
    output = run.stdout + run.stderr
    # The ufw task ran, and would have removed the rule nobody declared ...
    assert "UFW-RULESET" in drifted(report), output[-4000:]
    assert "allow 7777/tcp from any" in report["hosts"][TARGET]["controls"]["UFW-RULESET"]["found"]
    # ... and removed nothing, changed nothing, installed nothing (fail2ban is not in their play).
    assert _unchanged(host) == before
    assert not host.package("fail2ban").is_installed


def test_a_drift_run_that_matches_no_host_is_misuse():
    run, report = drift_run(
        PROJECT / "playbooks" / "drift.yml", "--check", "--diff", "-e", "bulwark_hosts=no_such_group", name="no-hosts"
    )
    output = run.stdout + run.stderr
    assert run.returncode == MISUSE, output[-4000:]
    assert report["verdict"]["status"] == "misuse"
    assert "no host matched: check the inventory (-i)" in output


def test_a_drift_run_without_the_callback_has_none_of_the_verdicts_statuses(witness):
    env, _written = witness
    run = run_playbook(
        PROJECT / "playbooks" / "drift.yml",
        "--check",
        "--diff",
        "-e",
        "bulwark_hosts=targets",
        env={**env, "ANSIBLE_CALLBACKS_ENABLED": "bulwarktest.witness.stats", "BULWARK_DRIFT_REPORT": "/dev/null"},
    )
    output = run.stdout + run.stderr
    # ansible-playbook's own "a host failed": the refusal, which names the callback to enable.
    assert run.returncode == 2, output[-4000:]
    assert "ANSIBLE_CALLBACKS_ENABLED=bulwark.hardening.drift_report" in output
    assert "PLAY [Harden Debian web servers]" not in output

"""fail2ban bans a real SSH password guesser, through nftables, and forgives on unban."""

import os
import re

import pytest
from playbook_run import run_playbook, scenario_file

# Group of the hardened hosts in molecule.yml; the attacker is reached explicitly below.
testinfra_hosts = ["targets"]

ATTACKER = os.environ.get("MOLECULE_SCENARIO_NAME", "fail2ban") + "-attacker"
USER = "bulwark-test"
MAX_GUESSES = 8  # sshd jail maxretry is 3 in converge.yml
SSH_GUESS = (
    "timeout 20 sshpass -p not-the-password ssh -o StrictHostKeyChecking=no"
    " -o UserKnownHostsFile=/dev/null -o PreferredAuthentications=password"
    " -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=5"
    " {user}@{target} true"
)
PROBE = "nc -z -w 3 {target} 22"


@pytest.fixture(scope="module")
def attacker(inventory_host):
    return inventory_host(ATTACKER)


def banned(host, jail, addr):
    out = host.check_output(f"fail2ban-client status {jail}")
    line = next(x for x in out.splitlines() if "Banned IP list" in x)
    return addr in line.split(":", 1)[1].split()


def recidive_failures(host):
    out = host.check_output("fail2ban-client status recidive")
    return int(re.search(r"Total failed:\s*(\d+)", out).group(1))


def test_config_test_passes(host):
    assert host.run("fail2ban-client --test").rc == 0


def test_service_enabled_and_running(host):
    svc = host.service("fail2ban")
    assert svc.is_enabled
    assert svc.is_running
    assert host.check_output("fail2ban-client ping").strip() == "Server replied: pong"


def test_jails(host):
    out = host.check_output("fail2ban-client status")
    jails = set(re.search(r"Jail list:\s*(.*)", out).group(1).replace(",", " ").split())
    assert {"sshd", "recidive"} <= jails
    apache = {"apache-auth", "apache-badbots", "apache-noscript", "apache-overflows"}
    if host.file("/usr/sbin/apache2").exists:
        assert apache <= jails
    else:
        assert not apache & jails


def test_sshd_reads_the_journal_and_recidive_the_log(host):
    assert "/var/log/fail2ban.log" in host.check_output("fail2ban-client get recidive logpath")
    # The systemd backend has no log path; its journal match is what it reads.
    assert "ssh.service" in host.check_output("fail2ban-client get sshd journalmatch")


@pytest.mark.parametrize("jail", ["sshd", "recidive"])
def test_ignoreip(host, jail):
    out = host.check_output(f"fail2ban-client get {jail} ignoreip")
    for net in ("127.0.0.0/8", "::1", "192.0.2.0/24", "2001:db8::/32"):
        assert net in out


def test_guesser_is_banned_blocked_and_unbanned(host, attacker, ipv4, wait_for):
    target, addr = ipv4(host), ipv4(attacker)
    # Start clean, whatever an earlier verify run left (bans in every jail).
    host.run(f"fail2ban-client unban {addr}")
    try:
        assert wait_for(lambda: attacker.run(PROBE.format(target=target)).rc == 0, 10), "port 22 unreachable"

        for _guess in range(MAX_GUESSES):
            result = attacker.run(SSH_GUESS.format(user=USER, target=target))
            assert result.rc != 0, "a wrong password was accepted"
            if banned(host, "sshd", addr):
                break
        assert wait_for(lambda: banned(host, "sshd", addr), 20), f"{addr} not banned by the sshd jail"

        # Enforced, not just listed: the attacker's next connection to port 22 fails ...
        assert wait_for(lambda: attacker.run(PROBE.format(target=target)).rc != 0, 10), "banned but not blocked"
        # ... through fail2ban's own nftables table (no ufw on these hosts).
        assert addr in host.check_output("nft list table inet f2b-table")
        # recidive reads fail2ban's log and counted the ban.
        assert wait_for(lambda: recidive_failures(host) >= 1, 20), "recidive did not read the ban from its log"

        host.check_output(f"fail2ban-client set sshd unbanip {addr}")
        assert not banned(host, "sshd", addr)
        assert wait_for(lambda: attacker.run(PROBE.format(target=target)).rc == 0, 10), "still blocked after unban"
    finally:
        host.run(f"fail2ban-client unban {addr}")


# --------------------------------------------------------------------------- #
# What is in effect, not only our files: an overriding drop-in and a lost restart
# --------------------------------------------------------------------------- #
SCENARIO = os.environ.get("MOLECULE_SCENARIO_NAME", "fail2ban")
OVERRIDDEN = f"{SCENARIO}-bookworm"  # gets a jail.d/zz-local.local switching the sshd jail off
STALE = f"{SCENARIO}-trixie"  # its daemon runs on an older configuration than its files
ZZ = "/etc/fail2ban/jail.d/zz-local.local"
OURS = "/etc/fail2ban/jail.d/bulwark.local"
ZZ_TEXT = "[sshd]\nenabled = false\nmaxretry = 99\n\n[my-own]\n# this section of the admin stays\n"
EFFECTIVE_TASK = "Make the declared jails the ones in effect"


def running_jails(host):
    out = host.check_output("fail2ban-client status")
    return set(re.search(r"Jail list:\s*(.*)", out).group(1).replace(",", " ").split())


def main_pid(host):
    return host.check_output("systemctl show -p MainPID --value fail2ban").strip()


@pytest.fixture(scope="module")
def effective_drift(inventory_host, check_run, converge_run, wait_for):
    """Tamper with both targets, then: a check run, a converge run, a second check run."""
    overridden, stale = inventory_host(OVERRIDDEN), inventory_host(STALE)
    overridden.check_output(f"printf '{ZZ_TEXT}' > {ZZ} && systemctl restart fail2ban")
    assert wait_for(lambda: overridden.run("fail2ban-client ping").rc == 0, 30)
    # What a run killed between writing our jails and restarting fail2ban leaves: the daemon runs a
    # weaker jail (maxretry 30, loaded by a real restart) while the file holds the hardened one
    # again, with its old modification time (cp -p) - no file is newer than the daemon.
    stale.check_output(
        f"cp -p {OURS} /root/bulwark.local.hardened && sed -i 's/^maxretry *= *3$/maxretry = 30/' {OURS}"
        " && grep -q '^maxretry = 30$' " + OURS + " && systemctl restart fail2ban"
    )
    assert wait_for(lambda: stale.run("fail2ban-client get sshd maxretry").stdout.strip() == "30", 30)
    stale.check_output(f"cp -p /root/bulwark.local.hardened {OURS}")
    state = {
        "sshd_running_before": "sshd" in running_jails(overridden),
        "pid_before": main_pid(stale),
        "stale_maxretry_before": stale.check_output("fail2ban-client get sshd maxretry").strip(),
    }
    state["check"], state["report"] = check_run()
    state["zz_after_check"] = overridden.file(ZZ).content_string
    state["pid_after_check"] = main_pid(stale)
    # The role never edits the admin's drop-in: the run fails on that host, naming it, and repairs the other.
    state["refused"] = run_playbook(scenario_file(), timeout=900)
    state["zz_after_refusal"] = overridden.file(ZZ).content_string
    state["sshd_running_after_refusal"] = "sshd" in running_jails(overridden)
    # The admin removes the file the message named; the next run repairs the host.
    overridden.check_output(f"rm {ZZ}")
    state["converge"] = converge_run()
    assert wait_for(lambda: overridden.run("fail2ban-client ping").rc == 0, 30)
    state["recheck"], state["report_after"] = check_run()
    return state


def drifted_tasks(report, name):
    return [item["task"] for item in report[name]["drift"]]


def test_overriding_drop_in_is_drift_in_check_mode(effective_drift):
    # The fixture really switched sshd off ...
    assert effective_drift["sshd_running_before"] is False
    # ... check mode calls it drift, says why, and changes nothing.
    assert EFFECTIVE_TASK in drifted_tasks(effective_drift["report"], OVERRIDDEN)
    assert f"{ZZ} line 2 sets enabled = false in jail sshd" in effective_drift["check"].stdout
    assert effective_drift["zz_after_check"] == ZZ_TEXT


def test_lost_restart_is_drift_in_check_mode(effective_drift):
    assert effective_drift["stale_maxretry_before"] == "30"  # the fixture really left a stale daemon
    assert EFFECTIVE_TASK in drifted_tasks(effective_drift["report"], STALE)
    assert f"{OURS} changed after the daemon last (re)loaded" in effective_drift["check"].stdout
    assert effective_drift["pid_after_check"] == effective_drift["pid_before"]


def test_converge_refuses_the_overriding_drop_in_naming_it(effective_drift):
    refused = effective_drift["refused"]
    assert refused.returncode != 0
    assert f"{ZZ} line 2, 3 (enabled, maxretry)" in refused.stdout + refused.stderr
    # The admin's file is untouched, and nothing was restarted with it.
    assert effective_drift["zz_after_refusal"] == ZZ_TEXT
    assert effective_drift["sshd_running_after_refusal"] is False


def test_converge_repairs_once_the_drop_in_is_gone(effective_drift, inventory_host):
    host = inventory_host(OVERRIDDEN)
    assert "sshd" in running_jails(host)
    assert host.check_output("fail2ban-client get sshd maxretry").strip() == "3"


def test_converge_restarts_a_stale_daemon(effective_drift, inventory_host):
    host = inventory_host(STALE)
    assert main_pid(host) != effective_drift["pid_before"]
    assert {"sshd", "recidive"} <= running_jails(host)
    assert host.check_output("fail2ban-client get sshd maxretry").strip() == "3"


def test_repaired_hosts_are_in_compliance(effective_drift):
    for name in (OVERRIDDEN, STALE):
        assert effective_drift["report_after"][name]["drift"] == [], effective_drift["report_after"][name]

"""The operating system under the web server, as a user and the drift check see it, in a container.

Fixture (prepare.yml): /etc/shadow and /etc/gshadow world-readable; the user alice with
passwordless sudo from a sudoers file of the admin's own; bob, whose sudo needs his password; carol,
a user without sudo. The kernel's parameters and modules
belong to the host here: the report must say "not applicable", never "compliant" (the kernel
scenario proves them on a VM).
"""

from __future__ import annotations

import json
import os
import re
import shlex

import pytest
from playbook_run import run_playbook, scenario_file

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGETS = ["os_baseline-bookworm", "os_baseline-trixie"]
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}" for name in TARGETS]


def as_alice(host, command: str):
    """A login shell of the unprivileged user (su -, as a console or SSH login would start one)."""
    return host.run("su - alice -c %s", command)


def test_the_shadow_files_are_not_readable_by_a_user(host):
    for path in ("/etc/shadow", "/etc/gshadow"):
        result = as_alice(host, f"cat {path}")
        assert result.rc != 0 and "Permission denied" in result.stderr, (path, result.stdout, result.stderr)
        assert host.file(path).group == "shadow"


def test_a_login_shell_times_out_and_cannot_lift_the_timeout(host):
    assert as_alice(host, "echo $TMOUT").stdout.strip() == "900"
    lifted = as_alice(host, "TMOUT=0; echo lifted")
    assert lifted.rc != 0 and "readonly" in lifted.stderr, lifted.stderr
    # A second read of the profile (a nested login shell) does not fail on the read-only variable.
    nested = as_alice(host, "bash -lc 'echo $TMOUT'")
    assert nested.rc == 0 and nested.stdout.strip() == "900" and "readonly" not in nested.stderr, nested.stderr
    # A login shell that is sh (dash, which has no typeset) gets the same, without an error.
    dash = host.run("su - alice -s /bin/sh -c 'echo $TMOUT; readonly -p | grep -c TMOUT'")
    assert dash.rc == 0 and dash.stdout.split() == ["900", "1"], (dash.stdout, dash.stderr)
    assert "not found" not in dash.stderr and "readonly" not in dash.stderr, dash.stderr


def test_new_files_of_a_login_shell_are_private_to_the_group(host):
    result = as_alice(host, "umask; rm -f /tmp/alice-file; touch /tmp/alice-file; stat -c %a /tmp/alice-file")
    umask, mode = result.stdout.split()
    assert (umask, mode) == ("0027", "640"), result.stdout


def test_no_core_dump_can_be_written(host):
    assert as_alice(host, "ulimit -Hc").stdout.strip() == "0"
    # Raising the hard limit again is refused to an unprivileged user.
    assert as_alice(host, "ulimit -Hc unlimited").rc != 0


BOB_PASSWORD = "Bob-Old-Passw0rd-2026"


def sudo_as_bob(host, password: str):
    """bob runs sudo, typing ``password`` (sudo -S reads it from standard input; -k forgets a cached one)."""
    return host.run(f"printf '%s\\n' {shlex.quote(password)} | runuser -u bob -- sudo -S -k -p '' /bin/true")


def set_password(host, user: str, password: str):
    """root sets a password through PAM (chpasswd's stack includes common-password)."""
    return host.run(f"printf '%s:%s\\n' {shlex.quote(user)} {shlex.quote(password)} | chpasswd")


def test_repeated_wrong_sudo_passwords_lock_the_account_then_it_unlocks(host):
    host.run("faillock --user bob --reset")
    try:
        assert sudo_as_bob(host, BOB_PASSWORD).rc == 0, "bob's own password does not work before the test"
        for attempt in range(5):
            assert sudo_as_bob(host, "not-bobs-password").rc != 0, f"wrong password {attempt + 1} was accepted"
        locked = sudo_as_bob(host, BOB_PASSWORD)
        assert locked.rc != 0, "sudo took bob's right password while his account is locked"
        assert "bob" in host.check_output("faillock --user bob")
    finally:
        host.run("faillock --user bob --reset")
    assert sudo_as_bob(host, BOB_PASSWORD).rc == 0, "bob is still locked after faillock --reset"


def su_to_bob(host, user: str):
    """``user`` runs su to bob, typing bob's right password (su reads it from standard input)."""
    return host.run(f"printf '%s\\n' {shlex.quote(BOB_PASSWORD)} | runuser -u {user} -- su -c 'id -un' bob")


def test_su_is_refused_outside_the_empty_su_group_and_root_keeps_it(host):
    # CIS 5.2.7: with bob's right password, carol (in no group) is refused by pam_wheel, and a member of
    # the group gets through - the group decides, not the password.
    try:
        refused = su_to_bob(host, "carol")
        assert refused.rc != 0 and "Permission denied" in refused.stderr, refused.stderr
        host.check_output("gpasswd -a dave sugroup")
        try:
            member = su_to_bob(host, "dave")
            assert member.rc == 0 and member.stdout.strip() == "bob", member.stderr
        finally:
            host.run("gpasswd -d dave sugroup")
    finally:
        host.run("faillock --user bob --reset")
    assert host.run("su -s /bin/sh -c true carol").rc == 0, "root lost su"


def test_only_root_and_the_listed_users_may_use_crontab(host):
    # converge.yml lists bob; crontab runs setgid crontab, so the file must be readable to that group.
    allowed = host.run("echo '# bob' | runuser -u bob -- crontab -")
    try:
        assert allowed.rc == 0, allowed.stderr
        refused = host.run("echo '# carol' | runuser -u carol -- crontab -")
        assert refused.rc != 0 and "not allowed" in refused.stderr, refused.stderr
        assert host.run("echo '# root' | crontab -").rc == 0
    finally:
        host.run("crontab -r -u bob; crontab -r")
    cron_allow = host.file("/etc/cron.allow")
    assert (cron_allow.user, cron_allow.group, cron_allow.mode) == ("root", "crontab", 0o640)
    assert cron_allow.content_string.split() == ["root", "bob"]
    at_allow = host.file("/etc/at.allow")
    assert (at_allow.user, at_allow.group, at_allow.mode) == ("root", "root", 0o640)


def test_a_weak_password_is_refused_even_to_root(host):
    weak = set_password(host, "carol", "Tulip-7")
    assert weak.rc != 0, "chpasswd took a seven-character password"
    assert "shorter than 14 characters" in weak.stdout + weak.stderr, weak.stdout + weak.stderr
    # Long, but without a digit: three classes of the four that minclass 4 (and dcredit -1) want.
    three = set_password(host, "carol", "Tulip-Meadow-Rain-Kite")
    assert three.rc != 0, "chpasswd took a password without a digit"
    assert re.search(r"digit|class", three.stdout + three.stderr), three.stdout + three.stderr


def test_a_recent_password_cannot_come_back(host):
    # Neither holds the user's name (pwquality refuses that too).
    first, second = "Tulip-Meadow-Rain-2026", "Granite-Harbour-Kite-2027"
    try:
        assert set_password(host, "carol", first).rc == 0
        assert set_password(host, "carol", second).rc == 0
        again = set_password(host, "carol", first)
    finally:
        # carol without a usable password again: an account with one but without the role's ageing
        # is drift, which the drift checks of the tests after this one would name.
        host.run("usermod -p '!' carol")
    assert again.rc != 0, "chpasswd took a password carol had two changes ago"
    assert "already" in (again.stdout + again.stderr).lower(), again.stdout + again.stderr


def ageing(host, user: str) -> dict:
    """The password ageing of an account, as chage -l shows it (the C locale)."""
    lines = host.check_output("LC_ALL=C chage -l %s", user).splitlines()
    return {key.strip(): value.strip() for key, _sep, value in (line.partition(":") for line in lines)}


def test_an_account_with_a_password_gets_the_ageing_but_none_is_expired_by_it(host):
    bob = ageing(host, "bob")
    assert bob["Maximum number of days between password change"] == "365", bob
    assert bob["Number of days of warning before password expires"] == "7", bob
    # dave's password is 400 days old: an ageing of 365 days would expire it today, so the role left
    # his account alone (and said so).
    dave = ageing(host, "dave")
    assert dave["Maximum number of days between password change"] == "99999", dave
    assert dave["Password expires"] == "never", dave


def test_new_accounts_get_the_ageing_hashing_and_inactive_lock(host):
    defs = host.check_output("grep -E '^(PASS_MAX_DAYS|PASS_WARN_AGE|ENCRYPT_METHOD|UMASK)\\b' /etc/login.defs")
    assert sorted(line.split()[0] + " " + line.split()[1] for line in defs.splitlines()) == [
        "ENCRYPT_METHOD YESCRYPT", "PASS_MAX_DAYS 365", "PASS_WARN_AGE 7", "UMASK 027",
    ], defs  # fmt: skip
    assert host.check_output("useradd -D | grep INACTIVE") == "INACTIVE=45"


def test_sudo_logs_every_command_to_its_file(host):
    marker = "bulwark-sudo-log-probe"
    assert as_alice(host, f"sudo -n /bin/echo {marker}").rc == 0
    log = host.file("/var/log/sudo.log")
    assert marker in log.content_string, "sudo did not log the command to /var/log/sudo.log"


def test_sudo_runs_in_a_pseudo_terminal_with_a_short_credential_cache(host):
    # What sudo itself will apply to the user: every sudoers file merged, as sudo reads them.
    defaults = host.check_output("sudo -l -U alice")
    assert "use_pty" in defaults and "timestamp_timeout=15" in defaults, defaults


@pytest.mark.parametrize("path", ["/etc/issue", "/etc/motd"])
def test_the_banners_state_the_policy_and_no_system_details(host, path):
    text = host.file(path).content_string
    assert text == "Authorised access only. This system is private; activity is logged and monitored.\n", text
    # What a console login shows: agetty expands \\s \\r \\m \\v; none is left to expand.
    assert not any(escape in text for escape in ("\\s", "\\r", "\\m", "\\v"))


def test_the_kernel_side_is_not_applicable_in_a_container_never_compliant(host, check_run):
    _run, report = check_run()
    section = report[host.backend.get_hostname()]
    for control in ("OS-SYSCTL", "OS-KERNEL-MODULES", "OS-MOUNTS"):
        entry = section["controls"][control]
        assert entry["status"] == "not_applicable", (control, entry)
        assert entry["not_applicable"], entry


def test_a_drift_check_names_a_loosened_file_and_a_new_world_writable_file(host, check_run):
    host.run("chmod 0644 /etc/shadow; install -m 0777 /dev/null /srv/bulwark-open")
    try:
        _run, report = check_run()
    finally:
        host.run("chmod 0640 /etc/shadow; rm -f /srv/bulwark-open")
    controls = report[host.backend.get_hostname()]["controls"]
    assert controls["OS-FILE-PERMISSIONS"]["status"] == "drift", controls["OS-FILE-PERMISSIONS"]
    audit = controls["OS-AUDIT-FINDINGS"]
    assert audit["status"] == "drift" and any("/srv/bulwark-open" in line for line in audit["found"]), audit
    drifted = sorted(key for key, entry in controls.items() if entry["status"] == "drift")
    assert drifted == ["OS-AUDIT-FINDINGS", "OS-FILE-PERMISSIONS"], drifted


def test_a_later_sysctl_file_that_overrides_a_setting_is_refused_before_anything_is_written(host):
    override = "/etc/sysctl.d/99-zz-local.conf"
    host.run(f"printf 'net.ipv4.ip_forward = 1\\n' > {override}; rm -f /etc/issue")
    try:
        result = run_playbook(scenario_file(), "--limit", host.backend.get_hostname())
    finally:
        host.run(f"rm -f {override}")
    assert result.returncode != 0
    said = result.stdout + result.stderr  # ansible-core 2.19 and newer print the failure on stderr
    assert override in said and "net.ipv4.ip_forward" in said, said[-3000:]
    # Refused in the preflight: the banner, removed above, was not written again.
    assert not host.file("/etc/issue").exists
    assert run_playbook(scenario_file(), "--limit", host.backend.get_hostname()).returncode == 0


def test_a_umask_that_lets_others_read_is_refused_by_its_name(host):
    result = run_playbook(scenario_file(), "--limit", host.backend.get_hostname(), "-e", "os_baseline_umask=022")
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "os_baseline_umask '022'" in said, said[-3000:]


def test_a_permanent_lockout_is_refused_while_the_admin_needs_a_password_for_sudo(host):
    # The run connects as bob, whose sudo asks his password: locking after 5 failures until someone
    # runs faillock --reset would leave him without root after 5 typos. Refused before anything is
    # written, naming him.
    settings = json.dumps({"os_baseline_faillock": {"deny": 5, "unlock_time": 0}})
    name = host.backend.get_hostname()
    as_bob = ("-e", "ansible_user=bob", "-e", "ansible_become=true", "-e", f"ansible_become_password={BOB_PASSWORD}")
    before = host.check_output("md5sum /etc/security/faillock.conf")
    result = run_playbook(scenario_file(), "--limit", name, *as_bob, "-e", settings)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said[-3000:]
    assert "lock bob's sudo until someone runs faillock --reset" in said, said[-3000:]
    assert host.check_output("md5sum /etc/security/faillock.conf") == before
    # bob connected and used sudo with his password during that run: he is not locked now.
    assert sudo_as_bob(host, BOB_PASSWORD).rc == 0


def test_a_newline_in_a_pam_setting_is_refused_by_its_name_before_anything_is_written(host):
    settings = json.dumps({"os_baseline_faillock": {"deny": "5\nunlock_time = 0"}})
    before = host.check_output("md5sum /etc/security/faillock.conf /etc/pam.d/common-auth")
    result = run_playbook(scenario_file(), "--limit", host.backend.get_hostname(), "-e", settings)
    said = result.stdout + result.stderr
    assert result.returncode != 0, said[-3000:]
    # The collection's input check, first of all (the role's plan refuses a value that is no single word too).
    assert "os_baseline_faillock.deny contains the control character" in said, said[-3000:]
    assert host.check_output("md5sum /etc/security/faillock.conf /etc/pam.d/common-auth") == before


def test_forwarding_is_not_switched_off_on_a_host_with_a_docker_bridge(host):
    """The anchors' Docker breakage (ip_forward=0 under a running Docker): refused, naming the bridge,
    until the operator keeps forwarding on purpose."""
    name, sysctl = host.backend.get_hostname(), "/etc/sysctl.d/90-bulwark-hardening.conf"
    host.run_expect([0], "ip link add docker0 type bridge")
    try:
        refused = run_playbook(scenario_file(), "--limit", name)
        kept = run_playbook(scenario_file(), "--limit", name, "-e", '{"os_baseline_ip_forward": true}')
    finally:
        host.run("ip link del docker0")
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "docker0" in said and "os_baseline_ip_forward" in said, said[-3000:]
    assert kept.returncode == 0, kept.stdout[-3000:]
    assert "ip_forward" not in host.file(sysctl).content_string
    # Without the bridge, the default run switches forwarding off again.
    assert run_playbook(scenario_file(), "--limit", name).returncode == 0
    assert "net.ipv4.ip_forward = 0" in host.file(sysctl).content_string

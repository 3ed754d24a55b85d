"""unattended-upgrades installs from exactly the declared origins, on schedule; needrestart restarts services.

Fixture (prepare.yml, files/fixture-repos.sh): bulwark-fixture-sec and bulwark-fixture-other are
installed at 1.0; version 1.1 of each waits in its own local repository. Only the first one's
origin (label Bulwark-Fixture-Security) is declared, next to Debian's security archive.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest
from playbook_run import run_playbook, scenario_file

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGETS = ["unattended_upgrades-bookworm", "unattended_upgrades-trixie"]
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}" for name in TARGETS]

FIXTURE_ORIGIN = "origin=Bulwark-Fixture,label=Bulwark-Fixture-Security"
DECLARED = ["origin=Debian,codename=${distro_codename}-security,label=Debian-Security", FIXTURE_ORIGIN]
SECURITY_ORIGINS = json.dumps({"security_origins": DECLARED})


def apt_config(host, key):
    """Effective values of an apt list option, all configuration files merged."""
    out = host.check_output("apt-config dump --format '%%f\t%%v%%n' %s", key)
    return [value for name, _tab, value in (line.partition("\t") for line in out.splitlines()) if name == key + "::"]


def patch_state(host):
    """The apt_updates module's report, run the way a playbook runs it."""
    result = host.ansible("bulwark.hardening.apt_updates", SECURITY_ORIGINS, check=False)
    assert "pending" in result, result
    return result


def selected_packages(output):
    """Names unattended-upgrade --debug lists after "pkgs that look like they should be upgraded:"."""
    marker = "pkgs that look like they should be upgraded: "
    assert marker in output, output[-3000:]
    lines = output.split(marker, 1)[1].splitlines()
    names = []
    for line in lines:
        if not re.match(r"^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?$", line.strip()):
            break
        names.append(line.strip())
    return set(names)


def maps_library(host, pid):
    """Wait (bounded, 10 s) until the process has mapped the fixture library."""
    loop = "for i in $(seq 20); do grep -q libfixture /proc/%s/maps && exit 0; sleep 0.5; done; exit 1"
    return host.run(loop, pid).rc == 0


def installed_version(host, name):
    return host.check_output("dpkg-query -W -f '${Version}' %s", name)


def test_effective_origins_are_exactly_the_declared_ones(host):
    assert apt_config(host, "Unattended-Upgrade::Origins-Pattern") == DECLARED
    # Debian's 50unattended-upgrades is still there (it is a conffile); its list is not in force.
    assert 'label=Debian";' in host.file("/etc/apt/apt.conf.d/50unattended-upgrades").content_string
    assert apt_config(host, "Unattended-Upgrade::Allowed-Origins") == []
    assert apt_config(host, "Unattended-Upgrade::Package-Blacklist") == ["bulwark-fixture-held"]
    dump = host.check_output("apt-config dump APT::Periodic")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in dump
    assert 'APT::Periodic::Update-Package-Lists "1";' in dump


def test_dry_run_selects_the_declared_origins_only(host):
    codename = host.system_info.codename
    run = host.run("unattended-upgrade --dry-run --debug")
    assert run.rc == 0, run.stderr[-2000:]
    out = run.stdout + run.stderr
    allowed = re.search(r"^Allowed origins are: (.*)$", out, re.M).group(1)
    assert allowed.split(", ") == [
        f"origin=Debian,codename={codename}-security,label=Debian-Security",
        FIXTURE_ORIGIN,
    ]
    names = selected_packages(out)
    assert "bulwark-fixture-sec" in names
    # Pending too, but from an origin nobody declared: not selected.
    assert "bulwark-fixture-other" not in names
    # Every pending Debian security upgrade is selected (bookworm's image has some).
    state = patch_state(host)
    debian_security = {
        p["name"] for p in state["pending"] if any(o["label"] == "Debian-Security" for o in p["origins"])
    }
    assert debian_security <= names
    assert names <= {p["name"] for p in state["pending"] if p["allowed"]}


def test_module_names_the_pending_security_package(host):
    state = patch_state(host)
    assert state["changed"] is False
    assert "bulwark-fixture-sec" in state["security_packages"]
    pending = {p["name"]: p for p in state["pending"]}
    sec, other = pending["bulwark-fixture-sec"], pending["bulwark-fixture-other"]
    assert (sec["installed"], sec["candidate"], sec["security"], sec["allowed"]) == ("1.0", "1.1", True, True)
    assert (other["security"], other["allowed"]) == (False, False)
    # The fixture's security repository was published 10 days ago (its Release Date).
    assert state["security_pending_days"] >= 10
    assert state["origins_pattern"] == DECLARED


@pytest.fixture(scope="module")
def strict_check(check_run):
    """A drift check run that allows security upgrades to wait 7 days, not the converge's 30."""
    return check_run("--extra-vars", '{"unattended_upgrades_security_pending_max_days": 7}')[1]


def test_a_security_upgrade_waiting_too_long_is_drift(host, strict_check):
    controls = strict_check[host.backend.get_hostname()]["controls"]
    drifted = [key for key, entry in controls.items() if entry["status"] == "drift"]
    assert drifted == ["UPDATES-SECURITY-PENDING"]
    assert controls["UPDATES-SECURITY-PENDING"]["role"] == "unattended_upgrades"


def test_module_reports_a_required_reboot(host):
    host.run_expect([0], "printf '%s\n' libc6 linux-image-fixture libc6 > /run/reboot-required.pkgs")
    host.run_expect([0], "touch /run/reboot-required")
    try:
        state = patch_state(host)
    finally:
        host.run_expect([0], "rm -f /run/reboot-required /run/reboot-required.pkgs")
    assert state["reboot_required"] is True
    assert state["reboot_packages"] == ["libc6", "linux-image-fixture"]


@pytest.mark.parametrize("timer", ["apt-daily.timer", "apt-daily-upgrade.timer"])
def test_timers_are_enabled_and_active_with_a_next_run(host, timer):
    show = dict(
        line.split("=", 1)
        for line in host.check_output(
            "systemctl show -p ActiveState -p UnitFileState -p NextElapseUSecRealtime %s", timer
        ).splitlines()
    )
    assert show["ActiveState"] == "active"
    assert show["UnitFileState"] == "enabled"
    assert show["NextElapseUSecRealtime"] not in ("", "0", "n/a")


@pytest.mark.parametrize(
    ("timer", "expected"),
    [
        ("apt-daily.timer", ["*-*-* 02:00:00", "*-*-* 14:00:00"]),
        ("apt-daily-upgrade.timer", ["Mon..Fri *-*-* 03:30:00"]),
    ],
)
def test_schedule_override_is_in_effect(host, timer, expected):
    calendar = host.check_output("systemctl show -p TimersCalendar %s", timer)
    assert sorted(re.findall(r"OnCalendar=(.*?) ;", calendar)) == expected
    # Debian's own schedule (6:00 / 6,18:00) was reset, not added to.
    assert "06:00:00" not in calendar


def test_needrestart_restarts_a_service_on_a_replaced_library_but_not_a_kept_one(host):
    lib = "/usr/lib/bulwark-fixture/libfixture.so"
    zlib = "$(ldconfig -p | awk '/libz.so.1 /{print $NF; exit}')"
    holder = "/usr/local/bin/fixture-hold-library"
    script = f"import ctypes\nimport time\nctypes.CDLL('{lib}')\ntime.sleep(3600)\n"
    host.run_expect([0], f"mkdir -p {os.path.dirname(lib)} && cp -L {zlib} {lib}")
    host.run_expect([0], f"printf %s {shlex.quote(script)} > {holder}")
    for unit in ("fixture-stale", "fixture-kept"):
        host.run(f"systemctl stop {unit}; systemctl reset-failed {unit}")
        host.run_expect([0], f"systemd-run --unit={unit} /usr/bin/python3 {holder}")
    pid = {u: host.check_output("systemctl show -p MainPID --value %s", u) for u in ("fixture-stale", "fixture-kept")}
    for unit, number in pid.items():
        assert maps_library(host, number), unit
    # An upgrade replaces the library file; the running processes keep the old, deleted one.
    host.run_expect([0], f"rm {lib} && cp -L {zlib} {lib}")
    # As the apt hook runs it after an upgrade: no terminal, the configured mode decides.
    run = host.run("needrestart </dev/null")
    assert run.rc == 0, run.stderr
    try:
        after = {u: host.check_output("systemctl show -p MainPID --value %s", u) for u in pid}
        assert after["fixture-stale"] not in ("0", pid["fixture-stale"]), run.stdout
        assert after["fixture-kept"] == pid["fixture-kept"], run.stdout
        assert "systemctl restart fixture-kept.service" in run.stdout.split("deferred:", 1)[-1], run.stdout
    finally:
        host.run("systemctl stop fixture-stale fixture-kept")


def converge_on(host, *, check):
    """The scenario's converge on this host only; ``(completed process, its drift report entry)``."""
    name = host.backend.get_hostname()
    report = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"uu-{name}.json"
    report.unlink(missing_ok=True)
    args = ["--limit", name, "--diff", *(["--check"] if check else [])]
    result = run_playbook(scenario_file(), *args, env={"BULWARK_DRIFT_REPORT": str(report)}, timeout=900)
    return result, json.loads(report.read_text())["hosts"].get(name, {})


def drifted(entry):
    return sorted(key for key, control in entry["controls"].items() if control["status"] == "drift")


LATER = "/etc/apt/apt.conf.d/99zz-local"
OURS = "/etc/apt/apt.conf.d/90bulwark-unattended-upgrades"


def test_settings_overridden_where_apt_reads_later_are_drift_and_refused(host):
    """A later apt.conf.d file switching periodic updates off, and /etc/apt/apt.conf (read after every
    part) holding a package back: apt's merged configuration is judged, not our file."""
    with host.sudo():
        host.check_output(
            f"printf '%s\\n' 'APT::Periodic::Unattended-Upgrade \"0\";' 'APT::Periodic::Update-Package-Lists \"0\";'"
            f" > {LATER}"
        )
        host.check_output(
            """printf '%s\\n' 'Unattended-Upgrade::Package-Blacklist { "openssl"; };' >> /etc/apt/apt.conf"""
        )
    try:
        assert 'APT::Periodic::Unattended-Upgrade "0";' in host.check_output("apt-config dump APT::Periodic")
        checked, entry = converge_on(host, check=True)
        assert checked.returncode == 0, checked.stdout[-3000:]
        assert drifted(entry) == ["UPDATES-CONFIG"]
        found = entry["controls"]["UPDATES-CONFIG"]["found"]
        expected = entry["controls"]["UPDATES-CONFIG"]["expected"]
        assert f'APT::Periodic::Unattended-Upgrade "0";  // {LATER}' in found, found
        assert f'APT::Periodic::Update-Package-Lists "0";  // {LATER}' in found, found
        assert (
            'Unattended-Upgrade::Package-Blacklist { "bulwark-fixture-held"; "openssl"; };  // /etc/apt/apt.conf'
            in found
        )
        assert f'APT::Periodic::Unattended-Upgrade "1";  // {OURS}' in expected, expected

        # The repair run does not edit or remove a file it does not own: it refuses, naming it.
        repaired, _entry = converge_on(host, check=False)
        assert repaired.returncode != 0
        output = repaired.stdout + repaired.stderr
        for text in (
            f'APT::Periodic::Unattended-Upgrade is "0" (set by {LATER}, read after {OURS})',
            "unattended_upgrades_upgrade_interval",
            "set by /etc/apt/apt.conf",
        ):
            assert text in output, (text, output[-3000:])
        assert host.file(LATER).exists
    finally:
        with host.sudo():
            host.check_output(f"rm -f {LATER} && sed -i '/openssl/d' /etc/apt/apt.conf")
    # The files removed as the refusal said, the host is clean again.
    checked, entry = converge_on(host, check=True)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert drifted(entry) == []


# Last: a real run changes the host.
def test_a_real_run_installs_the_declared_origin_only_and_is_reported(host):
    run = host.run("unattended-upgrade")
    assert run.rc == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert installed_version(host, "bulwark-fixture-sec") == "1.1"
    assert installed_version(host, "bulwark-fixture-other") == "1.0"
    state = patch_state(host)
    assert state["security_pending"] == 0, state["security_packages"]
    assert state["last_run_success"] is True
    assert state["last_success_days"] == 0
    assert "bulwark-fixture-other" in [p["name"] for p in state["pending"]]
    assert [p["name"] for p in state["pending"] if p["allowed"]] == []

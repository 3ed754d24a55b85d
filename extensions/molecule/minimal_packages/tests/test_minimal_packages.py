"""minimal_packages: blocklisted packages gone for good, every listener accounted for."""

from __future__ import annotations

import socket

import pytest

BLOCKLISTED = ["cups-bsd", "cups-client", "avahi-daemon", "telnet", "inetutils-telnet", "rpcbind"]
WEB = {"fixture-web": {"ports": [8080], "unit": "bulwark-web"}}
STRAY_UNIT = "bulwark-stray.service"


def dpkg_state(host, package):
    """dpkg's two-letter state (ii, rc, un...) or '' when dpkg has never heard of it."""
    out = host.run("dpkg-query -W -f '${db:Status-Abbrev}' %s", package)
    return out.stdout.strip() if out.rc == 0 else ""


def connect(address, port):
    """True when a TCP connection from the test controller is accepted."""
    try:
        with socket.create_connection((address, port), timeout=3):
            return True
    except OSError:
        return False


def name_of(host):
    return host.backend.get_hostname()


# --------------------------------------------------------------------------- packages


@pytest.mark.parametrize("package", BLOCKLISTED)
def test_blocklisted_package_is_purged_without_residue(host, package):
    assert dpkg_state(host, package) in ("", "un", "pn")


def test_no_residual_configuration_is_left(host):
    # logrotate was removed without purge in the fixture (state rc).
    assert host.check_output("dpkg-query -W -f '${db:Status-Abbrev} ${Package}\\n' | awk '$1 == \"rc\"'") == ""
    assert not host.file("/etc/logrotate.conf").exists


def test_purged_services_no_longer_listen_or_run(host):
    assert host.run("command -v telnet").rc != 0
    assert host.run("systemctl is-active avahi-daemon.service rpcbind.socket").stdout.split() != ["active"] * 2
    assert not host.socket("udp://0.0.0.0:5353").is_listening
    assert not host.socket("tcp://0.0.0.0:111").is_listening


def test_rsync_stays_but_its_daemon_is_masked(host):
    assert host.run("rsync --version").rc == 0
    assert host.run("systemctl is-enabled rsync.service").stdout.strip() == "masked"
    started = host.run("systemctl start rsync.service")
    assert started.rc != 0
    assert "masked" in started.stderr


# --------------------------------------------------------------------------- listeners


def test_declared_listener_is_never_flagged(sockets):
    declared = [(item["port"], item["service"]) for item in sockets["declared"]]
    assert declared == [(8080, "fixture-web"), (8081, "fixture-stray")]
    assert sockets["undeclared"] == []


def test_stray_listener_is_named_with_process_unit_and_user(sockets, address):
    stray = next(item for item in sockets["listeners"] if item["port"] == 8081)
    assert (stray["address"], stray["process"], stray["unit"], stray["user"]) == ("::", "python3", STRAY_UNIT, "nobody")
    # [::] with bindv6only=0 serves IPv4 too - and it really does, from the controller:
    assert stray["serves_ipv4"] is True
    assert connect(address, 8081)


def test_loopback_listener_is_reported_as_local(sockets, address):
    local = [item for item in sockets["loopback"] if item["port"] == 8082]
    assert [(item["address"], item["unit"]) for item in local] == [("127.0.0.1", "bulwark-local.service")]
    assert all(item["port"] != 8082 for item in sockets["undeclared"] + sockets["declared"])
    # Really not reachable from outside:
    assert not connect(address, 8082)


def test_report_mode_shows_the_stray_listener_as_drift_in_check_mode(host, play):
    rc, output, hosts = play({"bulwark_services": WEB}, "--check", "--diff")
    assert rc == 0, output[-3000:]
    drift = hosts[name_of(host)]["drift"]
    assert [item["task"] for item in drift] == ["Audit the listening sockets against bulwark_services"]
    lines = drift[0]["diff"]
    assert any("[::]:8081" in line and STRAY_UNIT in line and "python3" in line for line in lines), lines
    assert not any(":8082" in line or ":8080" in line for line in lines), lines


def test_report_mode_warns_without_breaking_a_real_run(host, play):
    rc, output, _hosts = play({"bulwark_services": WEB})
    assert rc == 0, output[-3000:]
    recap = next(line for line in output.splitlines() if line.startswith(name_of(host)) and "changed=" in line)
    assert "changed=0" in recap, recap
    warning = " ".join(output.split())
    assert "listener nobody declared in bulwark_services: tcp [::]:8081 python3" in warning
    assert STRAY_UNIT in warning


def test_enforce_mode_fails_naming_the_listener_with_the_wrong_unit(host, play):
    services = {**WEB, "fixture-stray": {"ports": [8081], "unit": "apache2"}}
    rc, output, _hosts = play({"bulwark_services": services, "minimal_packages_listener_mode": "enforce"})
    assert rc != 0
    flat = " ".join(output.split())
    assert "minimal_packages_listener_mode=enforce: listeners nobody declared in bulwark_services" in flat
    assert "tcp [::]:8081 python3" in flat
    assert STRAY_UNIT in flat
    recap = next(line for line in output.splitlines() if line.startswith(name_of(host)) and "failed=" in line)
    assert "changed=0" in recap and "failed=1" in recap, recap


def test_purge_that_would_remove_a_protected_package_stops_before_anything_changes(host, play):
    # Fixture for this test: telnet back, so there is something the refused run would purge.
    assert host.run("DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends telnet").rc == 0
    try:
        # rsync depends on libpopt0: purging libpopt0 would take rsync (protected) along.
        rc, output, _hosts = play({"minimal_packages_blocklist_extra": ["libpopt0"]})
        assert rc != 0
        flat = " ".join(output.split())
        refusal = "minimal_packages refuses to purge, nothing was changed: rsync matches the protected pattern 'rsync'"
        assert refusal in flat
        assert dpkg_state(host, "telnet") == "ii"
        assert dpkg_state(host, "rsync") == "ii"
        assert dpkg_state(host, "libpopt0") == "ii"
    finally:
        host.run("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q --autoremove telnet")
    assert dpkg_state(host, "telnet") in ("", "un", "pn")

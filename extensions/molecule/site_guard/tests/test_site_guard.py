"""playbooks/site.yml over real SSH: a guard that refuses stops the run before any role writes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from playbook_run import run_playbook

testinfra_hosts = ["all"]

WATCHED = ["/etc/ssh/sshd_config", "/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw"]


@pytest.fixture
def site_over_ssh(address, test_key, tmp_path):
    """Run playbooks/site.yml against the container over SSH as deploy (sudo), with extra vars."""

    def run(*extra: str) -> subprocess.CompletedProcess:
        inventory = tmp_path / "inventory.ini"
        inventory.write_text(
            f"target ansible_host={address} ansible_user=deploy ansible_become=true "
            f"ansible_ssh_private_key_file={test_key} ansible_python_interpreter=/usr/bin/python3 "
            "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n"
        )
        playbook = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "playbooks" / "site.yml"
        return run_playbook(playbook, *extra, inventory=inventory, timeout=900)

    return run


def snapshot(host) -> dict:
    return {path: (host.file(path).sha256sum, host.file(path).mtime) for path in WATCHED}


def test_closing_an_undeclared_listening_service_is_refused_before_anything_is_written(host, site_over_ssh, ssh):
    # A service the operator opened by hand and nobody declared: the exclusive rules would close it.
    host.run("ufw allow 8081/tcp")
    host.run("systemd-run --unit bulwark-guard-stray python3 -m http.server 8081")
    try:
        before = snapshot(host)
        result = site_over_ssh()
        output = result.stdout + result.stderr
        assert result.returncode != 0, output[-3000:]
        message = output[output.find("refusing to change ufw") :][:1500]
        for expected in (
            "8081/tcp",
            "python3",
            "bulwark-guard-stray.service",
            "bulwark_services",
            "bulwark_closed_ports",
        ):
            assert expected in message, output[-3000:]
        # Stage 1 refused: no role got as far as writing.
        assert snapshot(host) == before, output[-3000:]
        assert not host.file("/etc/ansible/facts.d/bulwark.fact").exists
        assert host.run("ls /etc/ssh/sshd_config.*~").rc != 0, "a backup means sshd_config was replaced"
        login = ssh("deploy")
        assert login.returncode == 0 and login.stdout.strip() == "deploy", login.stderr
    finally:
        host.run("systemctl stop bulwark-guard-stray")
        host.run("ufw delete allow 8081/tcp")


# Issue 19 §4: bad input that used to pass silently (or halfway), one per class. Each is refused by
# the first task of site.yml's stage 1, naming the variable the operator wrote, before any role's
# argument-spec validation (no spec dump) and before anything is read or written on the host.
BAD_INPUTS = [
    # A typo in a variable name, with the closest real name.
    pytest.param(
        {"ssh_hardening_alow_users": ["deploy"]},
        "ssh_hardening_alow_users is not a variable of any bulwark.hardening role "
        "(did you mean ssh_hardening_allow_users?)",
        [],
        id="typo",
    ),
    # Values that mean "everything".
    pytest.param(
        {"unattended_upgrades_origins_extra": ["origin=*"]},
        "unattended_upgrades_origins_extra[0] 'origin=*' matches every origin",
        [],
        id="origin-everything",
    ),
    pytest.param(
        {"minimal_packages_keep": ["*"]},
        "minimal_packages_keep[0] '*' matches every package, so no package would ever be purged",
        [],
        id="keep-everything",
    ),
    pytest.param(
        {"unattended_upgrades_package_blocklist": [".*"]},
        "unattended_upgrades_package_blocklist[0] '.*' matches every package",
        [],
        id="upgrade-blocklist-everything",
    ),
    # A list given as a string (php_hardening_sapis "apache2" worked by substring accident).
    pytest.param(
        {"php_hardening_sapis": "apache2"},
        "php_hardening_sapis must be a list, got the string 'apache2'",
        [],
        id="list-as-string-substring",
    ),
    pytest.param(
        {"fail2ban_ignore_networks": "10.0.0.0/8"},
        "fail2ban_ignore_networks must be a list, got the string '10.0.0.0/8'",
        [],
        id="list-as-string",
    ),
    # Numeric ranges.
    pytest.param(
        {"apache_hardening_timeout": -1},
        "apache_hardening_timeout must be 1-3600 (seconds), got -1",
        [],
        id="apache-timeout",
    ),
    # Typos and choices inside structured values, answered by the check, not an argument-spec dump.
    pytest.param(
        {"immutable_trees": [{"path": "/var/www/html", "writeable": ["upload"]}]},
        "immutable_trees[0] has the unknown key writeable (did you mean writable?)",
        ["argument_spec_data"],
        id="typo-inside-a-list-item",
    ),
    pytest.param(
        {"apache_hardening_tls_profile": "old"},
        "apache_hardening_tls_profile must be one of intermediate, modern, got 'old'",
        ["argument_spec_data"],
        id="choice",
    ),
    # A value the documentation forbids.
    pytest.param(
        {"php_hardening_session_name": "PHPSESSID"},
        "php_hardening_session_name must not be PHP's default 'PHPSESSID'",
        [],
        id="phpsessid",
    ),
    # Messages name the variable the operator set, never ufw's derived alias, and dump no spec.
    pytest.param(
        {"bulwark_ssh_port": "abc"},
        "bulwark_ssh_port must be a whole number, got the string 'abc'",
        ["ufw_ssh_port", "argument_spec_data"],
        id="ssh-port-not-ufw-alias",
    ),
    pytest.param(
        {"bulwark_services": {"web": {"ports": "80"}}},
        "bulwark_services.web.ports must be a non-empty list of port numbers",
        ["ufw_services", "fail2ban_services", "argument_spec_data"],
        id="services-not-ufw-alias",
    ),
    pytest.param(
        {"bulwark_services": "http"},
        "bulwark_services must be a mapping, got the string 'http'",
        ["argument_spec_data"],
        id="services-as-string",
    ),
    # Refused halfway through the apply stage before: an FPM pool's open_basedir (pools.yml, after
    # the ini files were written), a file mode (the immutable role's lock, the last step of a run)
    # and a newline in an apt.conf value (the configure template).
    pytest.param(
        {"php_hardening_fpm_pools": {"www": {"open_basedir": "/srv/www"}}},
        "php_hardening_fpm_pools.www.open_basedir must be a non-empty list of directories",
        [],
        id="fpm-pool-open-basedir",
    ),
    pytest.param(
        {"immutable_file_mode": "0888"},
        "immutable_file_mode must be an octal string such as '0440', not '0888'",
        [],
        id="immutable-mode-refused-at-lock",
    ),
    pytest.param(
        {"unattended_upgrades_automatic_reboot_time": "02:00\n"},
        "unattended_upgrades_automatic_reboot_time contains the control character",
        [],
        id="newline-in-apt-conf-value",
    ),
]


@pytest.mark.parametrize(("extra", "message", "absent"), BAD_INPUTS)
def test_bad_input_is_refused_in_stage_one_by_name(host, site_over_ssh, extra, message, absent):
    marker = "/tmp/site_guard.marker"
    host.run(f"touch {marker}")
    result = site_over_ssh("-e", json.dumps(extra))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"bulwark.hardening refused to change anything: {message}" in output, output[-3000:]
    # Stage 1's first task refused it: no role's task (not even common's facts) ran.
    assert "TASK [bulwark.hardening.common : Refuse misspelt or invalid bulwark.hardening variables]" in output
    assert "Gather the minimal facts" not in output and "Refresh the package lists" not in output, output[-3000:]
    for word in absent:
        assert word not in output, output[-3000:]
    # Nothing written: no file under /etc, apt's lists or the web root is newer than the marker.
    newer = host.run(f"find /etc /var/lib/apt/lists /var/www /usr/local -newer {marker} 2>/dev/null").stdout.strip()
    assert newer == "", newer

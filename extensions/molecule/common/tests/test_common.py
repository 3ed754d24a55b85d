"""The common preflight leaves a host that Ansible itself reads as bulwark-managed."""

import json
import re

import pytest

testinfra_hosts = ["all"]


def test_ansible_reads_the_local_fact(host):
    # Behaviour: Ansible's own fact gathering on the host returns our fact.
    facts = host.ansible("ansible.builtin.setup", "filter=ansible_local", check=False)
    local = facts["ansible_facts"]["ansible_local"]
    assert local["bulwark"]["managed_by"] == "bulwark.hardening"
    assert local["bulwark"]["version"]


def test_local_fact_is_root_owned_and_not_writable_by_others(host):
    fact = host.file("/etc/ansible/facts.d/bulwark.fact")
    assert fact.user == "root"
    assert fact.group == "root"
    assert fact.mode == 0o644
    json.loads(fact.content_string)


def test_package_lists_were_refreshed(host):
    # prepare.yml removed the lists; "hello" is not installed, so it has a candidate only if
    # the role fetched the lists again.
    assert not host.package("hello").is_installed
    out = host.check_output("apt-cache policy hello")
    assert "Candidate: (none)" not in out
    assert re.search(r"Candidate: [0-9]", out), out


@pytest.fixture(scope="module")
def edited_record(inventory_host, check_run, converge_run):
    """Debian 12's record names another version, Debian 13's is writable by everyone (its content
    unchanged); then a check run, then a converge."""
    inventory_host("common-bookworm").check_output(
        """sed -i 's/"version": "[^"]*"/"version": "0.0.0-edited"/' /etc/ansible/facts.d/bulwark.fact"""
    )
    inventory_host("common-trixie").check_output("chmod 0666 /etc/ansible/facts.d/bulwark.fact")
    _result, report = check_run()
    converge_run()
    return report


def test_an_edited_record_is_drift_and_converge_writes_it_again(host, edited_record):
    # The record is not written again when the facts read at the start of the play hold it: an
    # edited one, or one anybody may edit, must still be seen and repaired.
    controls = edited_record[host.backend.get_hostname()]["controls"]
    assert controls["COMMON-RECORD"]["status"] == "drift"
    assert [key for key, entry in controls.items() if entry["status"] == "drift"] == ["COMMON-RECORD"]
    fact = json.loads(host.file("/etc/ansible/facts.d/bulwark.fact").content_string)
    assert fact["managed_by"] == "bulwark.hardening"
    assert fact["version"] != "0.0.0-edited"
    assert host.file("/etc/ansible/facts.d/bulwark.fact").mode == 0o644

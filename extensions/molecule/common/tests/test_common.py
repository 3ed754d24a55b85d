"""The common preflight leaves a host that Ansible itself reads as bulwark-managed."""

import json

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


@pytest.mark.parametrize("package", ["python3"])
def test_package_lists_are_usable(host, package):
    # The role refreshes apt's lists; apt must be able to resolve a candidate.
    out = host.check_output(f"apt-cache policy {package}")
    assert "Candidate: (none)" not in out
    assert "Candidate:" in out

"""The common preflight leaves a host that Ansible itself reads as bulwark-managed."""

import json
import re

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

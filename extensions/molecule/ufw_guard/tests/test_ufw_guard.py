"""After the refused runs, the host's firewall is exactly as the fixture left it."""

testinfra_hosts = ["all"]


def test_ufw_is_still_inactive(host):
    assert "Status: inactive" in host.check_output("LC_ALL=C ufw status")


def test_the_hand_added_rule_is_still_there_and_nothing_was_added(host):
    rules = host.file("/etc/ufw/user.rules").content_string
    assert "### tuple ### allow tcp 7777 0.0.0.0/0 any 0.0.0.0/0 in" in rules
    assert "dport 22 " not in rules
    assert "### tuple ### limit" not in rules


def test_files_match_the_fixture_record(host):
    assert host.run("sha256sum --check --quiet /root/ufw-before.sha256").rc == 0

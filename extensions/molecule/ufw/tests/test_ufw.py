"""The ufw role leaves exactly the declared ports open, from the outside and for IPv6 too."""

import os
import re

import pytest
import testinfra

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGETS = ["ufw-bookworm", "ufw-trixie"]
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}" for name in TARGETS]


def get(name):
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


PROBER = get("ufw-prober")
CONTROLLER = get("ufw-controller")


def probe(target, port):
    """curl exit code from the prober: 0 answered, 7 refused (passed the firewall), 28 timed out (dropped)."""
    cmd = PROBER.run(
        "curl -sS -o /dev/null --connect-timeout 3 --max-time 5 http://%s:%s/",
        target,
        str(port),
    )
    return cmd.rc


def name_of(host):
    return host.backend.get_hostname()


def status(host):
    return host.check_output("LC_ALL=C ufw status verbose")


def test_ufw_is_active_with_the_declared_defaults(host):
    out = status(host)
    assert "Status: active" in out
    assert "Default: deny (incoming), allow (outgoing), deny (routed)" in out
    assert "Logging: on (medium)" in out
    svc = host.service("ufw")
    assert svc.is_enabled
    assert svc.is_running


def test_declared_port_answers_from_outside(host):
    assert probe(name_of(host), 8080) == 0


def test_undeclared_port_is_dropped_although_it_listens(host):
    # The listener is alive: it answers on loopback, which ufw always allows.
    assert host.run("python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:9090/', timeout=3)\"").rc == 0
    assert probe(name_of(host), 9090) == 28


def test_ssh_port_passes_the_firewall(host, reset_rate_limit):
    # A fixture listener stands in for sshd on 22 (prepare.yml).
    assert probe(name_of(host), 22) == 0
    assert re.search(r"^22/tcp\s+LIMIT IN\s+Anywhere\s+# ssh$", status(host), re.M)


@pytest.fixture
def reset_rate_limit(host):
    """Forget every source the SSH rate limit has counted (the xt_recent lists of the target)."""
    host.check_output('for f in /proc/net/xt_recent/*; do [ -e "$f" ] && echo / > "$f"; done; true')
    yield
    host.check_output('for f in /proc/net/xt_recent/*; do [ -e "$f" ] && echo / > "$f"; done; true')


def burst(client, target, count):
    """Open *count* TCP connections to target:22 from *client*, one after the other, within seconds.

    Returns one bool per connection: accepted (True) or refused/timed out (False).
    """
    script = (
        f"for i in $(seq {count}); do "
        f"if timeout 3 bash -c '</dev/tcp/{target}/22' 2>/dev/null; then echo ok; else echo no; fi; done"
    )
    out = client.check_output("bash -c %s", script)
    return [line == "ok" for line in out.split()]


def test_ssh_rate_limit_refuses_the_sixth_connection_from_the_prober(host, reset_rate_limit):
    # ufw's limit: "6 or more connections within 30 seconds" - the sixth new connection is
    # the sixth hit of the recent list, and is refused.
    results = burst(PROBER, name_of(host), 7)
    assert results[:5] == [True] * 5, results
    assert results[5:] == [False, False], results


def test_controller_is_exempt_from_the_ssh_rate_limit(host, reset_rate_limit, ipv4):
    # Behaviour first: twelve quick connections from the controller all get through ...
    assert burst(CONTROLLER, name_of(host), 12) == [True] * 12
    # ... because of an allow rule for its address before the limit rule.
    controller = ipv4(CONTROLLER)
    assert re.search(
        rf"^22/tcp\s+ALLOW IN\s+{re.escape(controller)}\s+# ssh from the Ansible controller",
        status(host),
        re.M,
    )


def test_hand_added_rule_is_gone(host):
    out = status(host)
    assert "7777" not in out
    assert probe(name_of(host), 7777) == 28
    if name_of(host) == "ufw-bookworm":
        # It was there before converge (prepare.yml); the role removed it.
        assert "7777" not in host.file("/etc/ufw/user.rules").content_string


def test_ipv6_rules_mirror_ipv4(host):
    lines = [
        line.split("#")[0].split()
        for line in host.check_output("LC_ALL=C ufw status").splitlines()
        if re.match(r"^\d", line)
    ]
    # "22/tcp   LIMIT   Anywhere   # ssh" and "22/tcp (v6)   LIMIT   Anywhere (v6)   # ssh"
    v4 = {(w[0], w[1], w[2]) for w in lines if "(v6)" not in w}
    v6 = {(w[0], w[2], w[3]) for w in lines if "(v6)" in w}
    assert v6 == {("22/tcp", "LIMIT", "Anywhere"), ("8080/tcp", "ALLOW", "Anywhere")}
    # IPv4 has them too, plus the controller's exemption (an IPv4 address).
    assert v4 - v6 == {w for w in v4 if w[:2] == ("22/tcp", "ALLOW") and w[2] != "Anywhere"}
    assert len(v4 - v6) == 1
    # And the kernel holds them: ip6tables has the IPv6 copy of the rules.
    rules6 = host.check_output("ip6tables -S ufw6-user-input")
    assert "--dport 8080 -j ACCEPT" in rules6
    assert "--dport 22" in rules6


@pytest.fixture
def stray_rule():
    hosts = [get(name) for name in TARGETS]
    for h in hosts:
        h.check_output("ufw allow 7777/tcp")
    yield hosts
    for h in hosts:
        h.run("ufw delete allow 7777/tcp")


def test_the_users_handler_runs_when_their_play_runs_it_not_inside_the_role(host):
    # converge.yml: their task notified their handler before the role; the role changed the
    # firewall (first converge); their handler ran at the end of their tasks, after the role.
    order = host.file("/var/lib/fixture/order").content_string.split()
    assert order[:2] == ["role-done", "user-handler"]
    assert order.count("user-handler") == 1


def test_check_mode_reports_a_stray_rule_and_leaves_it(stray_rule, check_run):
    run, report = check_run()
    # Named, with the ways to keep it: in the run (a warning, once for both hosts) and in the report.
    output = " ".join((run.stdout + run.stderr).split())
    assert "`ufw allow in proto tcp from any to any port 7777` is not declared, so exclusive removes it" in output
    assert "ufw_exclusive: false" in output
    for name in TARGETS:
        warnings = report[name]["controls"]["UFW-RULESET"]["warnings"]
        assert [w for w in warnings if "port 7777" in w] == [w for w in warnings if "is not declared" in w]
        assert len(warnings) == 1, warnings
    assert run.stdout.count("-allow 7777/tcp from any\n") == len(TARGETS)
    assert run.stdout.count("-allow 7777/tcp from any (v6)\n") == len(TARGETS)
    for h in stray_rule:
        out = h.check_output("LC_ALL=C ufw status")
        assert re.search(r"^7777/tcp\s+ALLOW\s+Anywhere\s*$", out, re.M)
        assert re.search(r"^7777/tcp \(v6\)\s+ALLOW\s+Anywhere \(v6\)\s*$", out, re.M)
        # And it still works: nothing listens on 7777, so "refused" means it passed ufw.
        assert probe(name_of(h), 7777) == 7


FILES = ["/etc/default/ufw", "/etc/ufw/user.rules", "/etc/ufw/user6.rules"]


@pytest.fixture(scope="module")
def killed_run(check_run, converge_run):
    """What a run killed between writing ufw's files and `ufw reload` leaves: a weaker firewall live
    (9090 allowed, incoming policy ACCEPT, loaded by a real reload) while the files hold the
    hardened configuration again, with their old modification times (cp -p). Then a check run and
    a real run."""
    hosts = [get(name) for name in TARGETS]
    state = {"weak": {}, "after": {}}
    for h in hosts:
        h.check_output(" && ".join(f"cp -p {path} {path}.hardened" for path in FILES))
        h.check_output("ufw allow 9090/tcp")
        h.check_output(
            "sed -i 's/^DEFAULT_INPUT_POLICY=.*/DEFAULT_INPUT_POLICY=\"ACCEPT\"/' /etc/default/ufw && ufw reload"
        )
        h.check_output(" && ".join(f"cp -p {path}.hardened {path} && rm {path}.hardened" for path in FILES))
        state["weak"][name_of(h)] = probe(name_of(h), 9090)
    state["check"], state["report"] = check_run()
    state["converge"] = converge_run()
    for h in hosts:
        state["after"][name_of(h)] = probe(name_of(h), 9090)
    return state


def test_a_lost_reload_is_drift_in_check_mode_and_reloaded_by_the_next_run(host, killed_run):
    name = name_of(host)
    # The fixture really put the weak firewall live (9090 answers) with the hardened files back ...
    assert killed_run["weak"][name] == 0
    assert "9090" not in host.file("/etc/ufw/user.rules").content_string
    # ... the next run reloads ufw (9090 is dropped again), and check mode called it drift.
    assert killed_run["after"][name] == 28
    assert "-P INPUT DROP" in host.check_output("iptables -S INPUT")
    assert killed_run["report"][name]["controls"].get("UFW-LIVE", {}).get("status") == "drift"

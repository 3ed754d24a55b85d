# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._host import host_model, stale_errors

BASE = {"bulwark_ssh_port": 22, "bulwark_services": {}, "bulwark_closed_ports": []}


def model(**settings):
    return host_model(dict(BASE, **settings))


def test_ssh_is_always_a_declared_service_on_the_one_port():
    result = model(bulwark_ssh_port=2222)
    assert result["errors"] == []
    assert result["ssh_port"] == 2222
    assert [(s["name"], s["ports"]) for s in result["services"]] == [("ssh", [2222])]
    assert result["declared"] == ["2222/tcp"]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"bulwark_ssh_port": 0}, "bulwark_ssh_port must be a port number 1-65535, got 0"),
        ({"bulwark_ssh_port": True}, "bulwark_ssh_port must be a port number 1-65535, got True"),
        ({"bulwark_services": {"http": {"ports": "80"}}}, "bulwark_services.http.ports must be a non-empty list"),
        (
            {"bulwark_services": {"http": {"ports": [80], "proto": "sctp"}}},
            "bulwark_services.http.proto must be tcp or udp",
        ),
        ({"bulwark_services": ["http"]}, "bulwark_services must be a mapping"),
        (
            {"bulwark_services": {"http": {"ports": [80], "unti": "apache2"}}},
            "bulwark_services.http has unknown key(s) unti",
        ),
        ({"bulwark_closed_ports": "8080"}, "bulwark_closed_ports must be a list"),
        ({"bulwark_closed_ports": [8080, "5353/sctp"]}, "bulwark_closed_ports[1] must be a port number"),
        ({"bulwark_closed_ports": [True]}, "bulwark_closed_ports[0] must be a port number"),
    ],
)
def test_the_declaration_is_refused_by_the_name_the_operator_wrote(settings, message):
    errors = model(**settings)["errors"]
    assert any(error.startswith(message) for error in errors), errors


def test_declared_ports_join_services_rules_and_closed_ports():
    result = model(
        bulwark_services={"http": {"ports": [80, 443], "unit": "apache2"}, "dns": {"ports": [53], "proto": "udp"}},
        bulwark_closed_ports=[8080, "5353/udp"],
        ufw_rules=[
            {"rule": "allow", "port": "9000:9002", "proto": "tcp", "from": "10.0.0.0/8"},
            {"rule": "deny", "port": "25"},
            {"rule": "allow", "port": "443", "proto": "tcp"},
            {"rule": "limit", "port": "5000", "proto": "any"},
            {"rule": "allow", "port": "7000", "direction": "out"},
            {"rule": "allow", "app": "OpenSSH"},
            {"rule": "allow", "port": "1:65535"},
        ],
    )
    assert result["errors"] == []
    assert result["declared"] == [
        "22/tcp", "53/udp", "80/tcp", "443/tcp", "5000/tcp", "5000/udp", "5353/udp", "8080/tcp",
        "9000/tcp", "9001/tcp", "9002/tcp",
    ]  # fmt: skip
    assert result["closed"] == ["8080/tcp", "5353/udp"]
    audit = result["audit_services"]
    assert audit["http"] == {"ports": [80, 443], "proto": "tcp", "public": True, "unit": "apache2.service"}
    assert audit["ufw_rules[0]"] == {"ports": [9000, 9001, 9002], "proto": "tcp"}
    assert "ufw_rules[2]" not in audit  # 443 is the http service's already
    assert audit["ufw_rules[3]"] == {"ports": [5000], "proto": "tcp"}
    assert audit["ufw_rules[3]/udp"] == {"ports": [5000], "proto": "udp"}
    assert audit["bulwark_closed_ports"] == {"ports": [8080], "proto": "tcp"}
    assert audit["bulwark_closed_ports/udp"] == {"ports": [5353], "proto": "udp"}


def test_the_connection_comes_from_the_login_environment():
    env = {"SSH_CONNECTION": "198.51.100.7 50000 192.0.2.10 22", "USER": "deploy", "SSH_USER_AUTH": "/tmp/x"}
    connection = model(login_env=env, is_ssh=True, ansible_connection="ssh")["connection"]
    assert connection == {
        "type": "ssh",
        "is_ssh": True,
        "user": "deploy",
        "client_addr": "198.51.100.7",
        "client_port": "50000",
        "server_addr": "192.0.2.10",
        "server_port": "22",
        "auth_info": "/tmp/x",
    }
    docker = model(ansible_connection="community.docker.docker", ansible_user="root")["connection"]
    assert (docker["is_ssh"], docker["user"], docker["client_addr"]) == (False, "root", "")


def test_a_role_given_another_port_than_the_published_model_is_refused():
    published = model(bulwark_ssh_port=22)
    now = {"bulwark_host": published, "bulwark_ssh_port": 2222, "bulwark_services": {}, "bulwark_closed_ports": []}
    assert stale_errors(now) == [
        "bulwark_ssh_port is 2222 here, but the host model (bulwark_host) was built with 22 at the start of the "
        "play: set it in the inventory (group_vars, host_vars) or for the whole play, not for one role"
    ]
    assert stale_errors(dict(now, bulwark_ssh_port=22)) == []
    assert stale_errors({"bulwark_ssh_port": 2222}) == []  # no model yet: nothing to compare

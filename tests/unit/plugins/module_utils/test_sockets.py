# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# Captured /proc/net lines are kept verbatim, however long.
# ruff: noqa: E501

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _sockets as s

# Captured on a Debian 12 container with rpcbind (111, socket-activated, both families),
# python3 -m http.server on [::]:8081 (user nobody) and 127.0.0.1:8082, docker's DNS on
# 127.0.0.11, and one established connection (state 06/01) that must not count.
# The IPv6 lines are cut after the inode column (sanity's pep8 allows 160 characters).
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:006F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 354181 1 0000000007139519 100 0 0 10 0
   1: 0B00007F:A0C9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 312351 1 00000000efdfbc6f 100 0 0 10 0
   2: 0100007F:1F92 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 413052 1 00000000574564be 100 0 0 10 0
   3: 0100007F:DE96 0100007F:1F92 06 00000000:00000000 03:000013FE 00000000     0        0 0 3 0000000028d7e11b
   4: 070011AC:BB82 507100CB:0050 01 00000000:00000000 03:00001521 00000000     0        0 9 3 00000000a4bafa26
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 410740
   1: 00000000000000000000000000000000:006F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 354191
   2: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5000
"""
UDP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  324: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000   102        0 89170 2 0000000023d60ab8 0
11466: 00000000:006F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 86678 2 00000000490cb599 0
 1200: 070011AC:9C40 08080808:0035 01 00000000:00000000 00:00000000 00000000     0        0 777 2 00000000490cb599 0
"""
UDP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
  324: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   102        0 89171
"""


@pytest.mark.parametrize(
    ("hex_address", "byteorder", "expected"),
    [
        ("0100007F", "little", "127.0.0.1"),
        ("00000000", "little", "0.0.0.0"),
        ("070011AC", "little", "172.17.0.7"),
        ("7F000001", "big", "127.0.0.1"),
        ("00000000000000000000000001000000", "little", "::1"),
        ("00000000000000000000000000000000", "little", "::"),
        # 2001:db8::1 - each 32-bit word byte-swapped on a little-endian host.
        ("B80D0120000000000000000001000000", "little", "2001:db8::1"),
        ("20010DB8000000000000000000000001", "big", "2001:db8::1"),
        ("0000000000000000FFFF00000100007F", "little", "::ffff:127.0.0.1"),
    ],
)
def test_decode_address(hex_address, byteorder, expected):
    assert s.decode_address(hex_address, byteorder) == expected


@pytest.mark.parametrize("bad", ["", "0100", "0100007F00"])
def test_decode_address_refuses_odd_widths(bad):
    with pytest.raises(ValueError, match="not an IPv4 or IPv6 address"):
        s.decode_address(bad)


def test_parse_tcp_keeps_listen_only():
    found = s.parse_proc_net(TCP, "tcp")
    assert [(f["address"], f["port"], f["inode"]) for f in found] == [
        ("0.0.0.0", 111, 354181),
        ("127.0.0.11", 41161, 312351),
        ("127.0.0.1", 8082, 413052),
    ]
    assert all(f["family"] == "ipv4" and f["proto"] == "tcp" for f in found)


def test_parse_tcp6_family_uid_and_port():
    found = s.parse_proc_net(TCP6, "tcp")
    assert found[0] == {
        "proto": "tcp",
        "family": "ipv6",
        "address": "::",
        "port": 8081,
        "uid": 65534,
        "inode": 410740,
    }
    assert found[2]["address"] == "::1"
    assert found[2]["port"] == 25


def test_parse_udp_keeps_unconnected_bound_sockets():
    found = s.parse_proc_net(UDP, "udp")
    assert [(f["port"], f["uid"]) for f in found] == [(5353, 102), (111, 0)]
    assert s.parse_proc_net(UDP6, "udp")[0]["family"] == "ipv6"


def test_parse_refuses_truncated_line():
    with pytest.raises(ValueError, match="tcp line 1 has 3 fields"):
        s.parse_proc_net("header\n 0: 00000000:0016 00000000:0000\n", "tcp")


def _listener(address, port, proto="tcp", **extra):
    family = "ipv6" if ":" in address else "ipv4"
    return {"proto": proto, "family": family, "address": address, "port": port, "uid": 0, "inode": port, **extra}


@pytest.mark.parametrize(
    ("address", "others", "bindv6only", "wildcard", "loopback", "serves_ipv4"),
    [
        ("0.0.0.0", [], False, True, False, True),
        ("127.0.0.1", [], False, False, True, True),
        ("127.0.0.11", [], False, False, True, True),
        ("192.0.2.10", [], False, False, False, True),
        ("::", [], False, True, False, True),
        ("::", [], True, True, False, False),
        # rpcbind binds 0.0.0.0 and [::]: the [::] socket must be IPv6-only.
        ("::", ["0.0.0.0"], False, True, False, False),
        ("::1", [], False, False, True, False),
        ("::ffff:127.0.0.1", [], False, False, True, True),
        ("2001:db8::1", [], False, False, False, False),
    ],
)
def test_classify(address, others, bindv6only, wildcard, loopback, serves_ipv4):  # noqa: PLR0917
    item = _listener(address, 111)
    s.classify([item] + [_listener(other, 111) for other in others], bindv6only)
    assert (item["wildcard"], item["loopback"], item["serves_ipv4"]) == (wildcard, loopback, serves_ipv4)


DOCKER = "/docker/9051e04d223d31f4537312e294241dfd34c47ee19f274176c8b89504c9534b06"


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("0::/system.slice/apache2.service\n", "apache2.service"),
        (f"0::{DOCKER}/system.slice/bulwark-stray.service\n", "bulwark-stray.service"),
        (
            f"9:name=systemd:{DOCKER}/system.slice/avahi-daemon.service\n4:memory:{DOCKER}\n0::/\n",
            "avahi-daemon.service",
        ),
        (f"9:name=systemd:{DOCKER}/system.slice/avahi-daemon.service\n4:memory:{DOCKER}\n", "avahi-daemon.service"),
        (f"0::{DOCKER}/init.scope\n", "init.scope"),
        ("0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope"),
        ("0::/system.slice/php8.2-fpm.service/child\n", "php8.2-fpm.service"),
        ("0::/\n", None),
        ("", None),
    ],
)
def test_parse_cgroup(text, unit):
    assert s.parse_cgroup(text) == unit


def test_parse_status():
    text = "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t65534\t65534\t65534\t65534\n"
    assert s.parse_status(text) == ("python3", 65534)
    assert s.parse_status("") == (None, None)


@pytest.mark.parametrize(
    ("link", "inode"),
    [("socket:[410740]", 410740), ("pipe:[12]", None), ("/dev/null", None), ("socket:[x]", None)],
)
def test_socket_inode(link, inode):
    assert s.socket_inode(link) == inode


@pytest.mark.parametrize(("pids", "pid"), [({1, 510}, 510), ({1}, 1), ({900, 870}, 870), (set(), None)])
def test_pick_holder_prefers_the_activated_service(pids, pid):
    assert s.pick_holder(pids) == pid


@pytest.mark.parametrize(
    ("uid", "hidden", "pid"),
    [
        (102, {636: (102, "avahi-daemon.service"), 637: (102, "avahi-daemon.service")}, 636),
        (102, {636: (102, "a.service"), 700: (102, "b.service")}, None),
        (102, {636: (103, "avahi-daemon.service")}, None),
        (0, {1: (0, "init.scope")}, None),
    ],
)
def test_guess_holder_only_when_unambiguous(uid, hidden, pid):
    assert s.guess_holder(uid, hidden) == pid


def test_find_owners_handles_merged_usr():
    lists = [
        ("apache2-bin.list", "/.\n/usr\n/usr/sbin\n/usr/sbin/apache2\n"),
        ("rpcbind.list", "/.\n/sbin/rpcbind\n/lib/systemd/system/rpcbind.socket\n"),
        ("libc6:amd64.list", "/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
    ]
    owners = s.find_owners(
        {"/usr/sbin/apache2", "/usr/sbin/rpcbind", "/usr/lib/systemd/system/rpcbind.socket", "/usr/bin/none"},
        lists,
    )
    assert owners == {
        "/usr/sbin/apache2": "apache2-bin",
        "/usr/sbin/rpcbind": "rpcbind",
        "/usr/lib/systemd/system/rpcbind.socket": "rpcbind",
    }
    assert s.package_of_list_file("libc6:amd64.list") == "libc6"


# --------------------------------------------------------------------------- #
# bulwark_services


def test_normalize_services_defaults_and_implied_ssh():
    entries = s.normalize_services({"http": {"ports": [80, "443"], "unit": "apache2"}}, ssh_port=2222)
    assert entries == [
        {"name": "http", "ports": [80, 443], "proto": "tcp", "unit": "apache2.service", "public": True},
        {"name": "ssh", "ports": [2222], "proto": "tcp", "unit": None, "public": True},
    ]


def test_normalize_services_extends_a_declared_ssh():
    entries = s.normalize_services({"ssh": {"ports": [22], "unit": "ssh.socket"}}, ssh_port=2222)
    assert entries == [{"name": "ssh", "ports": [22, 2222], "proto": "tcp", "unit": "ssh.socket", "public": True}]


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ([], "bulwark_services must be a mapping"),
        ({"http": [80]}, r"bulwark_services.http must be a mapping"),
        ({"http": {}}, r"bulwark_services.http.ports must be a non-empty list of port numbers, got None"),
        ({"http": {"ports": "80"}}, r"bulwark_services.http.ports must be a non-empty list of port numbers, got '80'"),
        ({"http": {"ports": [True]}}, r"bulwark_services.http.ports must hold port numbers 1-65535, got True"),
        ({"http": {"ports": [0]}}, r"got 0"),
        ({"http": {"ports": [70000]}}, r"got 70000"),
        ({"http": {"ports": ["eighty"]}}, r"got 'eighty'"),
        ({"dns": {"ports": [53], "proto": False}}, r"bulwark_services.dns.proto must be tcp or udp, got False"),
        ({"dns": {"ports": [53], "proto": "sctp"}}, r"got 'sctp'"),
        ({"m": {"ports": [9100], "public": "no"}}, r"bulwark_services.m.public must be true or false, got 'no'"),
        ({"m": {"ports": [9100], "unit": "a\nb"}}, r"bulwark_services.m.unit must be a systemd unit name"),
        ({"m": {"ports": [9100], "port": 1}}, r"bulwark_services.m has unknown key\(s\) port"),
    ],
)
def test_normalize_services_refuses_by_name(services, message):
    with pytest.raises(s.ServiceError, match=message):
        s.normalize_services(services)


SERVICES = s.normalize_services(
    {
        "web": {"ports": [8080], "unit": "bulwark-web"},
        "metrics": {"ports": [9100], "public": False},
        "dns": {"ports": [53], "proto": "udp"},
    }
)


def _classified(address, port, proto="tcp", **extra):
    item = _listener(address, port, proto, **extra)
    s.classify([item], False)
    return item


@pytest.mark.parametrize(
    ("item", "service", "reason"),
    [
        (_classified("::", 8080, unit="bulwark-web.service"), "web", None),
        (_classified("::", 8080, unit="bulwark-stray.service"), None, "is declared for web with unit bulwark-web"),
        (_classified("0.0.0.0", 8080, "udp", unit="bulwark-web.service"), None, "no declared service has this port"),
        (_classified("127.0.0.1", 9100), "metrics", None),
        (_classified("10.0.0.5", 9100), "metrics", None),
        (_classified("0.0.0.0", 9100), None, "metrics is declared public: false but listens on every address"),
        (_classified("0.0.0.0", 53, "udp"), "dns", None),
        (_classified("0.0.0.0", 22, unit="ssh.service"), "ssh", None),
    ],
)
def test_match_service(item, service, reason):
    found, why = s.match_service(item, SERVICES)
    assert (found or {}).get("name") == service
    if reason is None:
        assert why is None
    else:
        assert reason in why


def test_audit_sorts_listeners():
    listeners = [
        _classified("::", 8080, unit="bulwark-web.service", package=None, process="python3", pid=10),
        _classified("::", 8081, unit="bulwark-stray.service", package=None, process="python3", pid=11, user="nobody"),
        _classified("127.0.0.1", 8082, unit="bulwark-local.service", process="python3", pid=12),
        _classified("0.0.0.0", 5353, "udp", unit="avahi-daemon.service", package="avahi-daemon"),
        _classified("0.0.0.0", 873, unit="rsync.service", package="rsync"),
    ]
    result = s.audit(listeners, SERVICES, purging=["avahi-daemon"], masking=["rsync.service"])
    assert [i["port"] for i in result["declared"]] == [8080]
    assert [i["port"] for i in result["undeclared"]] == [8081]
    assert result["undeclared"][0]["reason"] == "no declared service has this port"
    assert [i["port"] for i in result["loopback"]] == [8082]
    assert [i["port"] for i in result["vanishing"]] == [5353, 873]
    assert result["conflicts"] == []
    assert (
        s.describe(result["undeclared"][0]) == "tcp [::]:8081 python3 (pid 11), unit bulwark-stray.service, user nobody"
    )


@pytest.mark.parametrize(
    ("address", "port", "proto", "client"),
    [
        ("10.0.2.15", 68, "udp", True),
        ("0.0.0.0", 68, "udp", True),
        ("fe80::5054:ff:fe12:3456", 546, "udp", True),
        ("0.0.0.0", 68, "tcp", False),
        ("0.0.0.0", 546, "udp", False),
        ("::", 67, "udp", False),
    ],
)
def test_a_dhcp_client_is_no_service(address, port, proto, client):
    item = _classified(address, port, proto, process="systemd-network")
    assert item["dhcp_client"] is client
    result = s.audit([item], SERVICES)
    assert [i["port"] for i in result["dhcp_clients"]] == ([port] if client else [])
    assert [i["port"] for i in result["undeclared"]] == ([] if client else [port])


@pytest.mark.parametrize("process", ["nc", "python3", None])
def test_another_program_on_the_dhcp_client_port_is_undeclared(process):
    # ufw lets udp/68 in from source port 67: a backdoor there is reachable and must be reported.
    item = _classified("0.0.0.0", 68, "udp", process=process)
    result = s.audit([item], SERVICES)
    assert (result["dhcp_clients"], [i["port"] for i in result["undeclared"]]) == ([], [68])


def test_audit_reports_a_declared_listener_of_a_purged_package_as_conflict():
    item = _classified("::", 8080, unit="bulwark-web.service", package="apache2-bin", process="apache2", pid=5)
    result = s.audit([item], SERVICES, purging=["apache2-bin"])
    assert result["conflicts"] == [
        "web needs package apache2-bin (tcp [::]:8080 apache2 (pid 5), unit bulwark-web.service, user 0)"
    ]
    assert result["undeclared"] == []


def test_unit_conflicts():
    services = s.normalize_services(
        {"print": {"ports": [631], "unit": "cups"}, "sync": {"ports": [873], "unit": "rsync"}}
    )
    conflicts = s.unit_conflicts(
        services, {"cups.service": "cups-daemon"}, purging=["cups-daemon"], masking=["rsync.service"]
    )
    assert conflicts == [
        "print needs package cups-daemon (it ships cups.service), which is to be purged",
        "sync needs unit rsync.service, which is to be masked",
    ]


def test_list_sockets_json():
    text = (
        '[{"listen":"/run/rpcbind.sock","unit":"rpcbind.socket","activates":"rpcbind.service"},'
        '{"listen":"0.0.0.0:111","unit":"rpcbind.socket","activates":"rpcbind.service"},'
        '{"listen":"[::]:111","unit":"rpcbind.socket","activates":"rpcbind.service"}]'
    )
    units = s.parse_list_sockets(text)
    assert units["[::]:111"] == "rpcbind.socket"
    assert s.listen_key(_classified("::", 111)) == "[::]:111"
    assert s.listen_key(_classified("0.0.0.0", 111, "udp")) == "0.0.0.0:111"
    assert s.parse_list_sockets("") == {}

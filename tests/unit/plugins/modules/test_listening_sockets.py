# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common import warnings

from ansible_collections.bulwark.hardening.plugins.module_utils import _listeners
from ansible_collections.bulwark.hardening.plugins.modules import listening_sockets as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
ZERO6 = "0" * 32


def tcp_line(local, uid, inode, state="0A"):
    remote = ZERO6 + ":0000" if len(local.split(":")[0]) == 32 else "00000000:0000"
    timers = "00000000:00000000 00:00000000 00000000"
    return f"   0: {local} {remote} {state} {timers} {uid:>5} 0 {inode} 1 0 100 0 0 10 0\n"


def make_process(proc, pid, *, name, uid, unit, exe, inodes):
    base = proc / str(pid)
    (base / "fd").mkdir(parents=True)
    (base / "status").write_text(f"Name:\t{name}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n")
    (base / "cgroup").write_text(f"0::/system.slice/{unit}\n" if unit else "0::/init.scope\n")
    os.symlink(exe, base / "exe")
    for number, inode in enumerate(inodes, start=3):
        os.symlink(f"socket:[{inode}]", base / "fd" / str(number))
    os.symlink("/dev/null", base / "fd" / "0")


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A fake /proc with web (declared), stray (undeclared), local (loopback) listeners and dpkg lists."""
    patch_exits(monkeypatch)
    # module.warn() collects here, per test (a dict from ansible-core 2.19, a list before)
    monkeypatch.setattr(warnings, "_global_warnings", type(warnings._global_warnings)())
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "sys" / "net" / "ipv6").mkdir(parents=True)
    (proc / "sys" / "net" / "ipv6" / "bindv6only").write_text("0\n")
    established = tcp_line("0100007F:DE96", 0, 0, "06")
    (proc / "net" / "tcp").write_text(HEADER + tcp_line("0100007F:1F92", 0, 300) + established)
    (proc / "net" / "tcp6").write_text(
        HEADER + tcp_line(ZERO6 + ":1F90", 0, 100) + tcp_line(ZERO6 + ":1F91", 65534, 200)
    )
    (proc / "net" / "udp").write_text(HEADER)
    (proc / "net" / "udp6").write_text(HEADER)
    python = {"name": "python3", "exe": "/usr/bin/python3.11"}
    make_process(proc, 10, uid=0, unit="bulwark-web.service", inodes=[100], **python)
    make_process(proc, 11, uid=65534, unit="bulwark-stray.service", inodes=[200], **python)
    make_process(proc, 12, uid=0, unit="bulwark-local.service", inodes=[300], **python)
    info = tmp_path / "dpkg"
    info.mkdir()
    (info / "python3.11-minimal.list").write_text("/usr/bin/python3.11\n")
    monkeypatch.setattr(_listeners, "user_name", {0: "root", 65534: "nobody"}.get)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    return {"proc": str(proc), "dpkg_info": str(info)}


def run(args, expect=ExitJson):
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


SERVICES = {"web": {"ports": [8080], "unit": "bulwark-web"}}


def test_sorts_declared_undeclared_and_loopback(host):
    result = run({**host, "services": SERVICES})
    assert result["changed"] is False
    assert [(i["port"], i["service"]) for i in result["declared"]] == [(8080, "web")]
    assert result["undeclared_summary"] == ["tcp [::]:8081 python3 (pid 11), unit bulwark-stray.service, user nobody"]
    assert result["loopback_summary"] == ["tcp 127.0.0.1:8082 python3 (pid 12), unit bulwark-local.service, user root"]
    stray = result["undeclared"][0]
    assert stray["serves_ipv4"] is True
    assert stray["package"] == "python3.11-minimal"
    assert stray["attributed_by"] == "fd"
    assert len(result["listeners"]) == 3
    assert "diff" not in result
    assert not [w for w in warnings.get_warning_messages() if "8081" in w]


def test_diff_and_warning_name_the_undeclared_listener(host):
    with patch_module_args({**host, "services": SERVICES, "warn": True, "_ansible_diff": True}):
        with pytest.raises(ExitJson) as caught:
            mod.main()
    result = caught.value.args[0]
    assert result["diff"]["before"] == "tcp [::]:8081 python3 (pid 11), unit bulwark-stray.service, user nobody\n"
    assert result["diff"]["after"] == ""
    assert any("bulwark-stray.service" in w and "8081" in w for w in warnings.get_warning_messages())


def test_bindv6only_makes_wildcard_ipv6_only(host):
    with open(os.path.join(host["proc"], "sys", "net", "ipv6", "bindv6only"), "w") as handle:
        handle.write("1\n")
    result = run({**host, "services": SERVICES})
    assert result["bindv6only"] is True
    assert result["undeclared"][0]["serves_ipv4"] is False


def test_purging_the_stray_package_makes_it_vanish_and_conflicts_with_web(host):
    result = run({**host, "services": SERVICES, "purging": ["python3.11-minimal"]})
    assert result["undeclared"] == []
    assert [i["port"] for i in result["vanishing"]] == [8081, 8082]
    assert result["conflicts"] == [
        "web needs package python3.11-minimal (tcp [::]:8080 python3 (pid 10), unit bulwark-web.service, user root)"
    ]


def test_unreadable_fd_table_falls_back_to_the_socket_owner(host, monkeypatch):
    # Root without CAP_SYS_PTRACE (a container) cannot list another user's fds.
    hidden = os.path.join(host["proc"], "11", "fd")
    listdir = os.listdir

    def guarded(path):
        if str(path) == hidden:
            raise PermissionError(13, "Permission denied", path)
        return listdir(path)

    monkeypatch.setattr(_listeners.os, "listdir", guarded)
    result = run({**host, "services": SERVICES})
    stray = result["undeclared"][0]
    assert (stray["pid"], stray["unit"], stray["attributed_by"]) == (11, "bulwark-stray.service", "uid")
    assert stray["user"] == "nobody"
    assert any("CAP_SYS_PTRACE" in w for w in warnings.get_warning_messages())


def test_bad_service_is_refused_by_name(host):
    result = run({**host, "services": {"web": {"ports": "8080"}}}, expect=FailJson)
    assert result["msg"] == "bulwark_services.web.ports must be a non-empty list of port numbers, got '8080'"

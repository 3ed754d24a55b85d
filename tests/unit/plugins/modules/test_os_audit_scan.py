# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import types

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._scan import root_environment_findings
from ansible_collections.bulwark.hardening.plugins.modules import os_audit_scan as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

# The account files know the user running the tests (root, or another one).
UID, GID = os.getuid(), os.getgid()
PASSWD = "root:x:0:0:root:/root:/bin/bash\n" + (f"tester:x:{UID}:{GID}::/home/t:/bin/sh\n" if UID else "")
SHADOW = "root:*:19000:0:99999:7:::\ntester:!:19000:0:99999:7:::\n"
GROUP = "root:x:0:\nshadow:x:42:\n" + (f"tester:x:{GID}:\n" if GID else "")
GSHADOW = "root:*::\nshadow:*::\ntester:!::\n"
SHELLS = "# /etc/shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n/usr/sbin/nologin\n"


def mode_of(path):
    return oct(os.lstat(path).st_mode & 0o7777)


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A tree with one finding of each file check, a /proc mount in it, and the account files."""
    patch_exits(monkeypatch)
    warnings = []
    monkeypatch.setattr(mod.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    root = tmp_path / "root"
    root.mkdir()
    (root / "srv").mkdir()
    (root / "srv" / "drop").mkdir()
    (root / "srv" / "drop").chmod(0o777)
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    (root / "tmp" / "notes").write_text("x")
    (root / "tmp" / "notes").chmod(0o666)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / "tool").write_text("#!/bin/sh\n")
    (root / "usr" / "bin" / "tool").chmod(0o4755)
    (root / "proc").mkdir()
    (root / "proc" / "kcore").write_text("x")
    (root / "proc" / "kcore").chmod(0o666)
    etc = tmp_path / "etc"
    etc.mkdir()
    files = (("passwd", PASSWD), ("shadow", SHADOW), ("group", GROUP), ("gshadow", GSHADOW), ("shells", SHELLS))
    for name, text in (*files, ("login.defs", "UID_MIN 1000\n")):
        (etc / name).write_text(text)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"1 0 254:0 / / rw - ext4 /dev/vda rw\n22 1 0:21 / {root}/proc rw,relatime - proc proc rw\n")
    monkeypatch.setattr(mod, "MOUNTINFO", str(mountinfo))
    # No wireless interface and no service of the machine running the tests: each test adds its own.
    net = tmp_path / "net"
    (net / "eth0").mkdir(parents=True)
    monkeypatch.setattr(mod, "NET_DIR", str(net))
    monkeypatch.setattr(mod, "SERVICES", {})
    return types.SimpleNamespace(root=root, etc=etc, net=net, warnings=warnings, tmp=tmp_path)


def run(host, expect=ExitJson, check_mode=False, diff=False, **args):
    args = {
        "roots": [str(host.root)],
        **{name: str(host.etc / name) for name in ("passwd", "shadow", "group", "gshadow", "shells")},
        "login_defs": str(host.etc / "login.defs"),
        "root_environment": False,
        **args,
    }
    args.update(_ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    result = caught.value.args[0]
    result["warnings"] = list(host.warnings)
    host.warnings.clear()
    return result


def test_report_outside_check_mode_changes_nothing_and_warns(host):
    before = {p: mode_of(p) for p in host.root.rglob("*")}
    result = run(host)
    assert result["changed"] is False
    assert result["findings"]["world_writable"] == [
        {"path": str(host.root / "srv" / "drop"), "detail": "directory 0777 without the sticky bit"},
        {"path": str(host.root / "tmp" / "notes"), "detail": "file 0666"},
    ]
    assert result["findings"]["suid_sgid"] == [{"path": str(host.root / "usr/bin/tool"), "detail": "SUID file 4755"}]
    assert result["findings"]["unowned"] == []
    assert result["findings"]["accounts"] == []
    assert result["counts"] == {
        "world_writable": 2, "unowned": 0, "suid_sgid": 1, "accounts": 0, "wireless": 0, "services": 0,
    }  # fmt: skip
    assert result["skipped_mounts"] == [{"path": str(host.root / "proc"), "fstype": "proc"}]
    assert result["incomplete"] is False
    assert result["stopped_at"] is None
    assert "diff" not in result
    warnings = result["warnings"]
    assert len(warnings) == 2
    assert warnings[0].startswith("world_writable: 2 unexpected findings: ")
    assert warnings[1].startswith("suid_sgid: 1 unexpected finding: ")
    assert {p: mode_of(p) for p in host.root.rglob("*")} == before


def test_check_mode_reports_findings_as_drift(host):
    result = run(host, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"] == ""
    assert result["diff"]["before"].splitlines() == [
        f"world-writable: {host.root}/srv/drop (directory 0777 without the sticky bit)",
        f"world-writable: {host.root}/tmp/notes (file 0666)",
        f"suid-sgid: {host.root}/usr/bin/tool (SUID file 4755)",
    ]
    assert result["warnings"] == []


def test_check_mode_without_report_drift_is_unchanged(host):
    result = run(host, check_mode=True, diff=True, report_drift=False)
    assert result["changed"] is False
    assert "diff" not in result
    assert len(result["warnings"]) == 2


def test_check_mode_clean_host_is_not_drift(host):
    allow = {"world_writable": [f"{host.root}/srv/drop", f"{host.root}/tmp/*"], "suid_sgid": [f"{host.root}/usr/*"]}
    result = run(host, check_mode=True, diff=True, allow=allow)
    assert result["changed"] is False
    assert "diff" not in result
    assert result["allowed"] == {
        "world_writable": 2, "unowned": 0, "suid_sgid": 1, "accounts": 0, "wireless": 0, "services": 0,
    }  # fmt: skip


def test_max_findings_caps_the_list_not_the_count(host):
    result = run(host, check_mode=True, diff=True, max_findings=1, checks=["world_writable"])
    assert len(result["findings"]["world_writable"]) == 1
    assert result["counts"] == {"world_writable": 2}
    assert result["diff"]["before"].splitlines()[-1] == "... and 1 more (max_findings: 1)"


def test_unknown_owner_is_looked_up_in_the_files_then_nss(host, monkeypatch):
    (host.etc / "passwd").write_text("nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n")

    def unknown(number):
        raise KeyError(number)

    monkeypatch.setattr(mod.pwd, "getpwuid", unknown)
    result = run(host, checks=["unowned"], roots=[str(host.root / "usr")])
    assert [item["path"] for item in result["findings"]["unowned"]] == [
        str(host.root / "usr"),
        str(host.root / "usr" / "bin"),
        str(host.root / "usr" / "bin" / "tool"),
    ]
    assert result["findings"]["unowned"][0]["detail"] == f"no owner: uid {UID}"


def test_unknown_group(host, monkeypatch):
    (host.etc / "group").write_text("nogroup:x:65534:\n")

    def unknown(number):
        raise KeyError(number)

    monkeypatch.setattr(mod.grp, "getgrgid", unknown)
    result = run(host, checks=["unowned"], roots=[str(host.root / "usr" / "bin" / "tool")])
    assert result["findings"]["unowned"] == [
        {"path": str(host.root / "usr" / "bin" / "tool"), "detail": f"no group: gid {GID}"}
    ]


def test_accounts(host):
    (host.etc / "passwd").write_text(PASSWD + "toor:x:0:0::/root:/bin/sh\n")
    (host.etc / "shadow").write_text(SHADOW + "toor::19000::::::\n")
    result = run(host, checks=["accounts"])
    assert result["findings"] == {
        "accounts": [
            {"name": "toor", "detail": "UID 0 but not root: root must be the only UID 0 account"},
            {"name": "toor", "detail": f"empty password field in {host.etc}/shadow"},
            {"name": "toor", "detail": "primary GID 0 but not root: root must be the only account in group 0"},
            {"name": "toor", "detail": "system account (UID 0) with the login shell /bin/sh"},
        ]
    }
    assert result["scanned"] == 0
    assert run(host, checks=["accounts"], allow={"accounts": ["toor"]})["counts"] == {"accounts": 0}


def test_system_accounts_shells_and_locks(host):
    (host.etc / "passwd").write_text(
        PASSWD
        + "sync:x:4:65534:sync:/bin:/bin/sync\n"  # exempt, and locked
        + "www-data:x:33:33::/var/www:/usr/sbin/nologin\n"  # locked: fine
        + "backup:x:34:34::/var/backups:/bin/bash\n"  # a system account with a shell
        + "svc:x:998:998::/srv:/usr/sbin/nologin\n"  # no shell but a password
        + "alice:x:1000:1000::/home/alice:/bin/bash\n"  # a user: fine
    )
    (host.etc / "shadow").write_text(
        SHADOW + "sync:*:1::::::\nwww-data:*:1::::::\nbackup:*:1::::::\nsvc:$y$j9T$abc:1::::::\nalice:$y$x:1::::::\n"
    )
    groups = "wheel:x:0:\nnogroup:x:65534:\nwww-data:x:33:\nbackup:x:34:\nsvc:x:998:\nalice:x:1000:\n"
    (host.etc / "group").write_text(GROUP + groups)
    details = {(item["name"], item["detail"]) for item in run(host, checks=["accounts"])["findings"]["accounts"]}
    assert details == {
        ("backup", "system account (UID 34) with the login shell /bin/bash"),
        ("svc", "no valid login shell (/usr/sbin/nologin) but its password is not locked"),
        ("wheel", "GID 0 but not the group root"),
        ("gid 0", "duplicate GID shared by root, wheel"),
    }
    # UID_MIN moved below alice: she counts as a system account with a shell.
    (host.etc / "login.defs").write_text("UID_MIN 500\nUID_MIN 1001\n")
    found = run(host, checks=["accounts"])["findings"]["accounts"]
    assert {"name": "alice", "detail": "system account (UID 1000) with the login shell /bin/bash"} in found


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("0027\n/usr/sbin:/usr/bin\n", []),
        ("0077\n/usr/sbin:/usr/bin\n", []),
        ("0022\n/usr/sbin:/usr/bin\n", ["root's login umask is 0022: 0027 or stricter expected"]),
        (
            "0027\n/usr/sbin::.:/nonexistent\n",
            [
                "root's PATH has an empty entry ''",
                "root's PATH has the relative entry '.'",
                "root's PATH entry /nonexistent is not a directory",
            ],
        ),
        ("motd\n", ["root's login shell printed no umask ('motd')"]),
    ],
)
def test_root_login_environment(host, monkeypatch, printed, expected):
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        return (0, printed, "") if "\n" in printed[:-1] else (1, printed, "")

    monkeypatch.setattr(mod.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(mod, "stat_or_none", lambda path: None if path == "/nonexistent" else os.stat("/usr/bin"))
    found = run(host, checks=["accounts"], root_environment=True)["findings"]["accounts"]
    if printed == "motd\n":
        assert found[0]["detail"].startswith("root's login shell could not be judged: rc 1")
        return
    assert [item["detail"] for item in found] == expected
    assert calls[0][:2] == ["env", "-i"] and calls[0][-3:-1] == ["/bin/bash", "-lc"]


def test_a_path_entry_others_can_write_is_a_finding(tmp_path):
    loose = tmp_path / "bin"
    loose.mkdir()
    loose.chmod(0o777)
    found = root_environment_findings("027", f"/usr/bin:{loose}", os.stat)
    owner = "owned by UID" if os.getuid() else "writable by its group or others"
    assert len(found) == 1 and owner in found[0][1]


def test_accounts_without_shadow_files(host):
    (host.etc / "shadow").unlink()
    (host.etc / "gshadow").unlink()
    assert run(host, checks=["accounts"])["counts"] == {"accounts": 0}


def test_time_limit_stops_the_walk_and_says_where(host, monkeypatch):
    # The module's clock reads 0: the walk's deadline (0 + time_limit) has long passed on the real clock.
    monkeypatch.setattr(mod, "time", types.SimpleNamespace(monotonic=lambda: 0.0))
    result = run(host, time_limit=1)
    assert result["incomplete"] is True
    assert "the file checks are incomplete" in result["not_applicable"]["file checks"]
    assert result["stopped_at"] == str(host.root)
    assert any("stopped at" in warning for warning in result["warnings"])


def test_a_root_given_twice_or_nested_is_walked_once(host):
    once = run(host, checks=["suid_sgid"])
    twice = run(host, checks=["suid_sgid"], roots=[str(host.root), str(host.root / "usr"), str(host.root) + "/"])
    assert twice["scanned"] == once["scanned"]
    assert twice["findings"] == once["findings"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"roots": ["srv"]}, "roots entry 'srv' is not an absolute path"),
        ({"roots": ["/nonexistent/bulwark"]}, "roots entry /nonexistent/bulwark does not exist"),
        ({"allow": {"suid": ["/x"]}}, "unknown check 'suid'"),
        ({"allow": {"unowned": ["x"]}}, "allow.unowned entry 'x' is not an absolute"),
        ({"time_limit": 0}, "time_limit must be at least 1 second, not 0"),
        ({"max_findings": -1}, "max_findings must be 0 or more, not -1"),
        ({"passwd": "/nonexistent/passwd"}, "cannot read /nonexistent/passwd"),
    ],
)
def test_errors_name_the_value(host, args, message):
    assert message in run(host, expect=FailJson, **args)["msg"]


def test_an_excluded_directory_is_not_entered(host):
    """Container engines' image layers (the default exclude) are the images' files, not the host's."""
    layers = host.root / "var" / "lib" / "docker"
    layers.mkdir(parents=True)
    (layers / "open").write_text("x")
    (layers / "open").chmod(0o777)
    result = run(host, exclude=[str(layers)])
    assert not any("docker" in item["path"] for item in result["findings"]["world_writable"])
    assert {"path": str(layers), "fstype": "excluded"} in result["skipped_mounts"]


def test_a_wireless_interface_is_named_with_its_module(host):
    wlan = host.net / "wlp2s0"
    (wlan / "wireless").mkdir(parents=True)
    driver = host.tmp / "sys" / "module" / "iwlwifi"
    driver.mkdir(parents=True)
    (wlan / "device" / "driver").mkdir(parents=True)
    (wlan / "device" / "driver" / "module").symlink_to(driver)
    (host.net / "wlan1" / "phy80211").mkdir(parents=True)  # a driver built into the kernel
    result = run(host, check_mode=True, diff=True, checks=["wireless"])
    assert result["changed"] is True
    assert [item["name"] for item in result["findings"]["wireless"]] == ["wlan1", "wlp2s0"]
    assert "os_baseline_kernel_modules_extra: [iwlwifi]" in result["findings"]["wireless"][1]["detail"]
    assert "built into the kernel" in result["findings"]["wireless"][0]["detail"]
    allowed = run(host, check_mode=True, checks=["wireless"], allow={"wireless": ["wl*"]})
    assert allowed["changed"] is False and allowed["allowed"] == {"wireless": 2}


@pytest.mark.parametrize(
    ("enabled", "active", "expected"),
    [
        ("enabled", "active", None),
        ("disabled", "active", "is-enabled says disabled"),
        ("enabled", "inactive", "is-active says inactive"),
        ("masked", "failed", "is-enabled says masked and is-active says failed"),
    ],
)
def test_an_installed_service_cis_wants_running_is_judged_by_systemctl(host, monkeypatch, enabled, active, expected):
    program = host.tmp / "cron"
    program.write_text("")
    monkeypatch.setattr(mod, "SERVICES", {"cron.service": (str(program), "2.4.1.1"), "gone.service": ("/nx", "9")})
    asked = []

    def fake_run(_module, argv, **_kwargs):
        asked.append(argv[1:3])
        return 0, f"ActiveState={active}\nUnitFileState={enabled}\nMainPID=0\n", ""

    monkeypatch.setattr(mod.AnsibleModule, "get_bin_path", lambda _self, name, *a, **k: f"/usr/bin/{name}")
    monkeypatch.setattr(mod.AnsibleModule, "run_command", fake_run)
    result = run(host, check_mode=True, checks=["services"])
    assert asked == [["show", "cron.service"]], "a service not installed was asked, or one asked twice"
    if expected is None:
        assert result["changed"] is False and result["findings"]["services"] == []
    else:
        (item,) = result["findings"]["services"]
        assert item["name"] == "cron.service" and expected in item["detail"] and "CIS 2.4.1.1" in item["detail"]
        assert result["changed"] is True

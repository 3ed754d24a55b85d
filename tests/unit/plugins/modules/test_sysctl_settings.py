# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.modules import sysctl_settings as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

HEADER = "# Managed by bulwark.hardening (os_baseline)\n"
SETTINGS = {"net.ipv4.ip_forward": 0, "net/ipv4/tcp_rmem": "4096 87380 6291456", "kernel.randomize_va_space": "2"}
OURS = HEADER + "kernel.randomize_va_space = 2\nnet.ipv4.ip_forward = 0\nnet.ipv4.tcp_rmem = 4096 87380 6291456\n"


class Host:
    """A fake host under tmp_path: sysctl.d directories, sysctl.conf and a /proc/sys tree."""

    def __init__(self, root):
        self.root = root
        self.etc = root / "etc" / "sysctl.d"
        self.run_dir = root / "run" / "sysctl.d"
        self.usr = root / "usr" / "lib" / "sysctl.d"
        for directory in (self.etc, self.run_dir, self.usr):
            directory.mkdir(parents=True)
        self.conf = root / "etc" / "sysctl.conf"
        self.proc = root / "proc" / "sys"
        self.dest = self.etc / "90-bulwark-hardening.conf"
        self.live(
            {
                "net.ipv4.ip_forward": "1",
                "net.ipv4.tcp_rmem": "4096\t131072\t6291456",
                "kernel.randomize_va_space": "2",
            }
        )

    def live(self, values):
        for key, value in values.items():
            path = self.proc / key.replace(".", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(value + "\n")

    def read(self, key):
        return (self.proc / key.replace(".", "/")).read_text()

    def args(self, **extra):
        return {
            "settings": SETTINGS,
            "dest": str(self.dest),
            "sysctl_dirs": [str(self.etc), str(self.run_dir), str(self.usr)],
            "sysctl_conf": str(self.conf),
            "proc_root": str(self.proc),
            **extra,
        }


@pytest.fixture
def host(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    # The tests may themselves run in a container; the module's container rule has its own test.
    monkeypatch.setattr(mod, "in_container", lambda module: False)
    return Host(tmp_path)


def run(args, expect=ExitJson, check=False, diff=True):
    with (
        patch_module_args({**args, "_ansible_check_mode": check, "_ansible_diff": diff}),
        pytest.raises(expect) as caught,
    ):
        mod.main()
    return caught.value.args[0]


def test_first_run_writes_the_file_and_the_running_values(host):
    result = run(host.args())
    assert result["changed"] is True
    assert host.dest.read_text() == OURS
    assert stat.S_IMODE(host.dest.stat().st_mode) == 0o644
    assert result["written"] == ["net.ipv4.ip_forward", "net.ipv4.tcp_rmem"]
    assert host.read("net.ipv4.ip_forward") == "0\n"
    assert result["effective"] == {
        "net.ipv4.ip_forward": "0",
        "net.ipv4.tcp_rmem": "4096 87380 6291456",
        "kernel.randomize_va_space": "2",
    }
    assert result["configured"]["net.ipv4.ip_forward"] == {"value": "0", "file": str(host.dest)}
    assert result["overridden"] == {}
    assert result["not_applicable"] == {}
    file_diff, live_diff = result["diff"]
    assert file_diff == {"before_header": str(host.dest), "after_header": str(host.dest), "before": "", "after": OURS}
    assert live_diff["before"] == "net.ipv4.ip_forward = 1 (live)\nnet.ipv4.tcp_rmem = 4096 131072 6291456 (live)\n"
    assert live_diff["after"] == "net.ipv4.ip_forward = 0 (live)\nnet.ipv4.tcp_rmem = 4096 87380 6291456 (live)\n"
    assert not [name for name in os.listdir(host.etc) if name.startswith(".")]

    again = run(host.args())
    assert again["changed"] is False
    assert again["written"] == []
    assert "diff" not in again


def test_a_kernel_value_printed_with_tabs_is_not_drift(host):
    host.dest.write_text(OURS)
    host.dest.chmod(0o644)
    host.live({"net.ipv4.ip_forward": "0", "net.ipv4.tcp_rmem": "4096\t87380\t6291456"})
    result = run(host.args(), check=True)
    assert result["changed"] is False
    assert result["effective"]["net.ipv4.tcp_rmem"] == "4096 87380 6291456"


def test_check_mode_reports_file_and_live_drift_and_changes_nothing(host):
    result = run(host.args(), check=True)
    assert result["changed"] is True
    assert not host.dest.exists()
    assert host.read("net.ipv4.ip_forward") == "1\n"
    assert result["written"] == ["net.ipv4.ip_forward", "net.ipv4.tcp_rmem"]
    assert result["effective"]["net.ipv4.ip_forward"] == "1"
    assert "net.ipv4.ip_forward = 1 (live)\n" in result["diff"][1]["before"]


def test_check_mode_with_only_live_drift(host):
    host.dest.write_text(OURS)
    host.dest.chmod(0o644)
    host.live({"net.ipv4.tcp_rmem": "4096 87380 6291456"})
    result = run(host.args(), check=True)
    assert result["changed"] is True
    assert result["written"] == ["net.ipv4.ip_forward"]
    assert len(result["diff"]) == 1
    assert result["diff"][0]["after"] == "net.ipv4.ip_forward = 0 (live)\n"


def test_a_mode_change_alone_is_a_change(host):
    host.dest.write_text(OURS)
    host.dest.chmod(0o600)
    host.live({"net.ipv4.ip_forward": "0", "net.ipv4.tcp_rmem": "4096 87380 6291456"})
    assert run(host.args(), check=True)["changed"] is True
    assert run(host.args())["changed"] is True
    assert stat.S_IMODE(host.dest.stat().st_mode) == 0o644


def test_a_later_file_fails_the_call_before_anything_is_written(host):
    later = host.usr / "99-local.conf"
    later.write_text("net.ipv4.ip_forward = 1\n")
    result = run(host.args(), expect=FailJson)
    assert f"{later} sets net.ipv4.ip_forward = 1" in result["msg"]
    assert "remove or change it (bulwark.hardening never edits another file)" in result["msg"]
    assert result["overridden"] == {"net.ipv4.ip_forward": {"file": str(later), "value": "1"}}
    assert not host.dest.exists()
    assert host.read("net.ipv4.tcp_rmem") == "4096\t131072\t6291456\n"


def test_overrides_report_writes_the_rest_and_leaves_the_overridden_key_alone(host):
    later = host.run_dir / "99-local.conf"
    later.write_text("-net/ipv4/ip_forward=1\n")
    result = run(host.args(overrides="report"))
    assert result["changed"] is True
    assert result["overridden"] == {"net.ipv4.ip_forward": {"file": str(later), "value": "1"}}
    assert result["configured"]["net.ipv4.ip_forward"] == {"value": "1", "file": str(later)}
    assert result["written"] == ["net.ipv4.tcp_rmem"]
    assert host.read("net.ipv4.ip_forward") == "1\n"
    assert host.dest.read_text() == OURS
    assert result["diff"][1]["before"] == (
        f"net.ipv4.ip_forward = 1 (at boot, from {later})\nnet.ipv4.tcp_rmem = 4096 131072 6291456 (live)\n"
    )
    assert (
        result["diff"][1]["after"]
        == "net.ipv4.ip_forward = 0 (at boot)\nnet.ipv4.tcp_rmem = 4096 87380 6291456 (live)\n"
    )
    # The override stays a change on every run, in check mode too: it is drift until someone removes it.
    assert run(host.args(overrides="report"), check=True)["changed"] is True


def test_an_earlier_file_or_the_same_value_later_is_no_override(host):
    (host.usr / "10-early.conf").write_text("net.ipv4.ip_forward = 1\n")
    (host.etc / "95-same.conf").write_text("net.ipv4.tcp_rmem = 4096   87380 6291456\n")
    result = run(host.args())
    assert result["overridden"] == {}
    assert result["configured"]["net.ipv4.ip_forward"]["file"] == str(host.dest)
    assert result["configured"]["net.ipv4.tcp_rmem"]["file"] == str(host.etc / "95-same.conf")


def test_a_masked_later_file_is_not_read(host):
    (host.usr / "99-local.conf").write_text("net.ipv4.ip_forward = 1\n")
    os.symlink(os.devnull, host.etc / "99-local.conf")
    assert run(host.args())["overridden"] == {}


def test_a_glob_in_a_later_file_does_not_beat_our_explicit_key(host):
    (host.etc / "99-glob.conf").write_text("net.ipv4.ip_*forward = 1\n")
    assert run(host.args())["overridden"] == {}


def test_sysctl_conf_is_read_last_unless_a_sysctl_d_file_links_to_it(host):
    host.conf.write_text("net.ipv4.ip_forward = 1\n")
    result = run(host.args(overrides="report"), check=True)
    assert result["overridden"] == {"net.ipv4.ip_forward": {"file": str(host.conf), "value": "1"}}

    link = host.etc / "99-sysctl.conf"
    os.symlink(host.conf, link)
    result = run(host.args(overrides="report"), check=True)
    assert result["overridden"] == {"net.ipv4.ip_forward": {"file": str(link), "value": "1"}}

    # Named before ours, the link is read before ours: ours wins.
    link.unlink()
    os.symlink(host.conf, host.etc / "10-sysctl.conf")
    assert run(host.args(), check=True)["overridden"] == {}


def test_a_key_this_kernel_lacks_is_absent_not_unjudged(host):
    result = run(host.args(settings={**SETTINGS, "net.ipv6.conf.all.accept_ra": 0}))
    assert result["absent"] == ["net.ipv6.conf.all.accept_ra"] and result["not_applicable"] == {}
    assert result["effective"]["net.ipv6.conf.all.accept_ra"] is None
    assert "net.ipv6.conf.all.accept_ra = 0\n" in host.dest.read_text()


def test_a_read_only_proc_sys_is_not_applicable_in_check_mode_without_writing(host, monkeypatch):
    monkeypatch.setattr(mod, "live_writable", lambda path: False)

    def no_write(path, value):
        raise AssertionError("check mode wrote to /proc/sys")

    monkeypatch.setattr(mod, "write_live", no_write)
    result = run(host.args(), check=True)
    assert result["not_applicable"] == {
        "net.ipv4.ip_forward": "read-only /proc/sys here (a container?)",
        "net.ipv4.tcp_rmem": "read-only /proc/sys here (a container?)",
    }
    assert result["written"] == []
    assert len(result["diff"]) == 1  # the file only
    host.dest.write_text(OURS)
    host.dest.chmod(0o644)
    assert run(host.args(), check=True)["changed"] is False


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.EPERM])
def test_a_refused_write_is_not_applicable(host, monkeypatch, code):
    def refuse(path, value):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(mod, "write_live", refuse)
    result = run(host.args())
    assert (
        result["not_applicable"]["net.ipv4.ip_forward"]
        == f"read-only /proc/sys here (a container?): {os.strerror(code)}"
    )
    assert result["written"] == []
    assert result["changed"] is True  # the file
    assert len(result["diff"]) == 1


def test_another_write_error_fails_naming_the_key_and_value(host, monkeypatch):
    def invalid(path, value):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(mod, "write_live", invalid)
    result = run(host.args(), expect=FailJson)
    assert result["msg"].startswith("the kernel refused net.ipv4.ip_forward = 0:")
    assert not host.dest.exists()


def test_a_value_read_back_differently_fails(host, monkeypatch):
    def clamp(path, value):
        with open(path, "w") as handle:
            handle.write("4096 87380 4194304\n" if "tcp_rmem" in path else value)

    monkeypatch.setattr(mod, "write_live", clamp)
    result = run(host.args(), expect=FailJson)
    assert result["msg"] == "net.ipv4.tcp_rmem: wanted 4096 87380 6291456, the kernel reads back 4096 87380 4194304"
    assert result["written"] == ["net.ipv4.ip_forward", "net.ipv4.tcp_rmem"]


def test_apply_live_false_reads_but_never_judges_the_running_values(host):
    result = run(host.args(apply_live=False))
    assert result["written"] == []
    assert host.read("net.ipv4.ip_forward") == "1\n"
    assert result["effective"]["net.ipv4.ip_forward"] == "1"
    assert run(host.args(apply_live=False))["changed"] is False


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"net.ipv4.ip_forward": True}, "settings: net.ipv4.ip_forward is a boolean"),
        ({"net.ipv4.ip_forward": [0]}, "settings: net.ipv4.ip_forward must be a string or an integer, got list"),
        ({"net.ipv4.ip_forward=0": 0}, "'net.ipv4.ip_forward=0' is not a sysctl key"),
        ({"net.ipv4\n.ip_forward": 0}, "is not a sysctl key"),
        ({"ip_forward": 0}, "'ip_forward' is not a sysctl key such as"),
        ({}, "settings is empty"),
    ],
)
def test_bad_settings_fail_naming_the_key(host, settings, words):
    result = run(host.args(settings=settings), expect=FailJson)
    assert words in result["msg"]
    assert not host.dest.exists()


@pytest.mark.parametrize(
    "dest, words",
    [
        ("etc/elsewhere.conf", "is not in any of sysctl_dirs"),
        ("etc/sysctl.d/90-x.txt", "must be a *.conf file"),
    ],
)
def test_a_dest_that_systemd_sysctl_would_not_read_fails(host, dest, words):
    (host.root / "etc" / "elsewhere.conf").parent.mkdir(exist_ok=True)
    result = run(host.args(dest=str(host.root / dest)), expect=FailJson)
    assert words in result["msg"]


def test_a_dest_hidden_by_an_earlier_directory_fails(host):
    os.symlink(os.devnull, host.etc / "90-bulwark-hardening.conf")
    result = run(host.args(dest=str(host.usr / "90-bulwark-hardening.conf")), expect=FailJson)
    assert result["msg"] == (
        f"dest {host.usr}/90-bulwark-hardening.conf is hidden by {host.etc}/90-bulwark-hardening.conf, "
        "which systemd-sysctl reads instead"
    )


def test_a_dest_that_is_a_link_fails(host):
    os.symlink(os.devnull, host.dest)
    result = run(host.args(), expect=FailJson)
    assert result["msg"] == f"dest {host.dest} is a link (to {os.devnull}); give the file itself"


def test_a_bad_mode_fails_naming_it(host):
    result = run(host.args(mode="rw-r--r--"), expect=FailJson)
    assert result["msg"] == "mode must be an octal string such as 0644, got 'rw-r--r--'"


def test_live_writable_probes_without_writing(tmp_path):
    path = tmp_path / "ip_forward"
    path.write_text("1\n")
    assert mod.live_writable(str(path)) is True
    assert mod.live_writable(str(tmp_path / "missing")) is False
    assert path.read_text() == "1\n"


def test_in_a_container_only_the_network_namespace_keys_are_set(host, monkeypatch):
    monkeypatch.setattr(mod, "in_container", lambda module: True)
    host.live({"kernel.randomize_va_space": "0"})
    checked = run(host.args(), check=True)
    assert checked["not_applicable"] == {"kernel.randomize_va_space": "the host's kernel, not this container's"}
    assert checked["written"] == ["net.ipv4.ip_forward", "net.ipv4.tcp_rmem"]
    result = run(host.args())
    assert host.read("kernel.randomize_va_space") == "0\n", "a container wrote the host kernel's value"
    assert host.read("net.ipv4.ip_forward") == "0\n"
    assert result["not_applicable"] == {"kernel.randomize_va_space": "the host's kernel, not this container's"}


def test_the_interfaces_are_listed(monkeypatch, tmp_path):
    for name in ("lo", "docker0"):
        (tmp_path / name).mkdir()
    assert mod.interfaces(str(tmp_path)) == ["docker0", "lo"]
    assert mod.interfaces(str(tmp_path / "missing")) == []

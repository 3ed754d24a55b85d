# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel_modules: the file, modprobe's merged configuration with the candidate in place, the
live kernel's modules, the unloads - run_command stands in for modprobe and systemd-detect-virt."""

from __future__ import annotations

import os
import stat

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _kmod as kmod
from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.modules import kernel_modules as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

INDEXES = "\n# End of configuration files. Dumping indexes now:\n\nalias fs-cramfs cramfs\n"
DEP = "kernel/fs/cramfs/cramfs.ko.xz:\nkernel/drivers/usb/storage/usb-storage.ko.xz:\nkernel/net/sctp/sctp.ko.xz:\n"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Config directories, /proc/modules, /sys/module and the kernel's module directory under
    tmp_path; ``answers["-c"]`` is modprobe -c's output, ``answers["-r"]`` a list of (rc, out, err)."""
    patch_exits(monkeypatch)
    etc = tmp_path / "etc" / "modprobe.d"
    lib = tmp_path / "lib" / "modprobe.d"
    etc.mkdir(parents=True)
    lib.mkdir(parents=True)
    monkeypatch.setattr(kmod, "CONFIG_DIRS", (str(etc), str(lib)))
    monkeypatch.setattr(mod, "CONTAINER_MARKERS", (str(tmp_path / ".dockerenv"),))
    (tmp_path / "modules").write_text("")
    (tmp_path / "sys").mkdir()
    kdir = tmp_path / "kernel"
    kdir.mkdir()
    (kdir / "modules.dep").write_text(DEP)
    (kdir / "modules.builtin").write_text("kernel/fs/ext4/ext4.ko\n")
    (tmp_path / "ansible-tmp").mkdir()
    calls = []
    # modprobe -c: the given text, or by default what it reads from the candidate (or dest) file
    answers = {"-c": None, "-r": [], "virt": 1}
    seen = {}

    def run_command(module, argv, **kwargs):
        assert isinstance(argv, list), "run_command must get a list, never a shell string"
        assert kwargs.get("environ_update") == {"LC_ALL": "C"}
        calls.append(argv)
        if argv[0].endswith("systemd-detect-virt"):
            return answers["virt"], "", ""
        if argv[1] == "-c":
            dirs = argv[3::2]
            seen["candidates"] = {
                name: read_text(os.path.join(d, name)) for d in dirs if "kmod-candidate" in d for name in os.listdir(d)
            }
            if answers["-c"] is not None:
                return 0, answers["-c"], ""
            read = list(seen["candidates"].values()) or [read_text(etc / "bulwark-hardening.conf")]
            return 0, read[0] + INDEXES, ""
        return answers["-r"].pop(0) if answers["-r"] else (0, "", "")

    bins = {"modprobe": "/usr/sbin/modprobe", "systemd-detect-virt": "/usr/bin/systemd-detect-virt"}
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: bins.get(name))
    return {
        "tmp": tmp_path,
        "etc": etc,
        "lib": lib,
        "dest": etc / "bulwark-hardening.conf",
        "calls": calls,
        "answers": answers,
        "seen": seen,
        "bins": bins,
        "args": {
            "dest": str(etc / "bulwark-hardening.conf"),
            "proc_modules": str(tmp_path / "modules"),
            "sys_module": str(tmp_path / "sys"),
            "modules_dir": str(kdir),
            "_ansible_tmpdir": str(tmp_path / "ansible-tmp"),
        },
    }


def run(env, args, expect=ExitJson, check=False, diff=False):
    args = {**env["args"], **args, "_ansible_check_mode": check, "_ansible_diff": diff}
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def modprobe_calls(env, verb):
    return [argv for argv in env["calls"] if argv[0] == "/usr/sbin/modprobe" and argv[1] == verb]


CANDIDATE = kmod.render(["cramfs", "usb-storage"])


def test_the_file_spells_a_module_as_it_was_given_first():
    # As CIS and the kernel's file name spell it (usb-storage.ko); kmod reads either spelling.
    assert kmod.spelled(["usb-storage", "cramfs", "usb_storage"]) == ["cramfs", "usb-storage"]
    assert "install usb-storage /bin/false\nblacklist usb-storage\n" in kmod.render(kmod.spelled(["usb-storage"]))


def test_writes_the_file_judged_with_the_candidate_in_place(env):
    result = run(env, {"disabled": ["usb-storage", "cramfs", "usb_storage"]})
    assert result["changed"] is True
    assert env["dest"].read_text() == CANDIDATE
    assert stat.S_IMODE(os.stat(env["dest"]).st_mode) == 0o644
    (argv,) = modprobe_calls(env, "-c")
    dirs = argv[3::2]
    assert "kmod-candidate" in dirs[0] and dirs[1:] == [str(env["etc"]), str(env["lib"])]
    assert env["seen"]["candidates"] == {"bulwark-hardening.conf": CANDIDATE}
    assert result["effective"] == {
        "cramfs": {"install": "/bin/false", "blacklisted": True, "loaded": False},
        "usb_storage": {"install": "/bin/false", "blacklisted": True, "loaded": False},
    }
    assert (result["overridden"], result["not_applicable"], result["absent"], result["unloaded"]) == ({}, {}, [], [])

    again = run(env, {"disabled": ["cramfs", "usb-storage"]})
    assert again["changed"] is False
    assert modprobe_calls(env, "-c")[-1] == ["/usr/sbin/modprobe", "-c"]  # dest holds it: the live config


def test_check_mode_writes_nothing_and_diffs_the_file(env):
    result = run(env, {"disabled": ["cramfs", "usb-storage"]}, check=True, diff=True)
    assert result["changed"] is True
    assert not env["dest"].exists()
    assert result["diff"][0]["before"] == "" and result["diff"][0]["after"] == CANDIDATE
    assert result["diff"][1]["before"] == result["diff"][1]["after"] == ""


def test_a_wrong_mode_is_a_change(env):
    env["dest"].write_text(CANDIDATE)
    env["dest"].chmod(0o600)
    assert run(env, {"disabled": ["cramfs", "usb-storage"]})["changed"] is True
    assert stat.S_IMODE(os.stat(env["dest"]).st_mode) == 0o644


def test_an_earlier_files_install_line_fails_before_writing(env):
    (env["lib"] / "00-local.conf").write_text("install cramfs /bin/true\n")
    env["answers"]["-c"] = "blacklist cramfs\ninstall cramfs /bin/true\ninstall cramfs /bin/false\n" + INDEXES
    result = run(env, {"disabled": ["cramfs"]}, expect=FailJson)
    assert f"{env['lib']}/00-local.conf: install cramfs /bin/true" in result["msg"]
    assert "never edits another file" in result["msg"]
    assert not env["dest"].exists()


def test_an_override_is_reported_as_drift(env):
    env["dest"].write_text(kmod.render(["cramfs"]))
    env["dest"].chmod(0o644)
    env["answers"]["-c"] = "install cram* /sbin/modprobe --ignore-install cramfs\ninstall cramfs /bin/false\n"
    result = run(env, {"disabled": ["cramfs"], "overrides": "report"}, check=True, diff=True)
    assert result["changed"] is True
    # no file holds the line: the line itself names it
    assert result["overridden"] == {"cramfs": "install cram* /sbin/modprobe --ignore-install cramfs"}
    assert result["effective"]["cramfs"] == {
        "install": "/sbin/modprobe --ignore-install cramfs",
        "blacklisted": False,
        "loaded": False,
    }
    assert "cramfs install cram* /sbin/modprobe" in result["diff"][1]["before"]
    assert result["diff"][1]["after"] == "cramfs install /bin/false\n"


def test_a_loaded_module_is_unloaded(env):
    (env["tmp"] / "modules").write_text("sctp 434176 0 - Live 0x0\n")
    result = run(env, {"disabled": ["sctp"]}, diff=True)
    assert modprobe_calls(env, "-r") == [["/usr/sbin/modprobe", "-r", "sctp"]]
    assert result["unloaded"] == ["sctp"]
    assert result["effective"]["sctp"]["loaded"] is False
    assert result["diff"][1] == {
        "before_header": "kernel modules",
        "after_header": "kernel modules",
        "before": "sctp loaded\n",
        "after": "sctp not loaded\n",
    }


def test_check_mode_reports_a_loaded_module_as_drift(env):
    env["dest"].write_text(kmod.render(["sctp"]))
    env["dest"].chmod(0o644)
    env["answers"]["-c"] = "install sctp /bin/false\nblacklist sctp\n"
    (env["tmp"] / "modules").write_text("sctp 434176 0 - Live 0x0\n")
    result = run(env, {"disabled": ["sctp"]}, check=True)
    assert (result["changed"], result["unloaded"]) == (True, ["sctp"])
    assert result["effective"]["sctp"]["loaded"] is True
    assert modprobe_calls(env, "-r") == []


def test_unload_false_leaves_a_loaded_module(env):
    env["dest"].write_text(kmod.render(["sctp"]))
    env["dest"].chmod(0o644)
    env["answers"]["-c"] = "install sctp /bin/false\nblacklist sctp\n"
    (env["tmp"] / "modules").write_text("sctp 434176 0 - Live 0x0\n")
    result = run(env, {"disabled": ["sctp"], "unload": False})
    assert (result["changed"], result["unloaded"], result["effective"]["sctp"]["loaded"]) == (False, [], True)


def test_a_module_in_use_is_not_unloaded_and_fails(env):
    (env["tmp"] / "modules").write_text("usb_storage 81920 1 uas, Live 0x0\nuas 32768 0 - Live 0x0\n")
    result = run(env, {"disabled": ["usb-storage"]}, expect=FailJson)
    assert result["msg"] == "not unloading modules in use (never forced): usb_storage is used by uas"
    assert result["in_use"] == {"usb_storage": "used by uas"}
    assert modprobe_calls(env, "-r") == []
    assert env["dest"].read_text() == kmod.render(["usb-storage"])  # the file is still written

    checked = run(env, {"disabled": ["usb-storage"]}, check=True)
    assert checked["changed"] is True and checked["in_use"] == {"usb_storage": "used by uas"}


def test_in_a_container_a_loaded_module_is_not_applicable(env):
    env["dest"].write_text(kmod.render(["sctp"]))
    env["dest"].chmod(0o644)
    env["answers"]["-c"] = "install sctp /bin/false\nblacklist sctp\n"
    env["answers"]["virt"] = 0
    (env["tmp"] / "modules").write_text("sctp 434176 2 - Live 0x0\n")
    for check in (True, False):
        result = run(env, {"disabled": ["sctp"]}, check=check)
        assert result["changed"] is False
        assert result["not_applicable"] == {
            "sctp": ["loaded in the host's kernel; cannot unload modules here (a container?)"]
        }
    assert modprobe_calls(env, "-r") == []


def test_a_container_marker_is_enough(env):
    (env["tmp"] / ".dockerenv").write_text("")
    env["bins"].pop("systemd-detect-virt")
    (env["tmp"] / "modules").write_text("sctp 434176 0 - Live 0x0\n")
    result = run(env, {"disabled": ["sctp"]})
    assert "sctp" in result["not_applicable"] and modprobe_calls(env, "-r") == []


def test_an_unload_refused_for_permission_is_not_applicable(env):
    (env["tmp"] / "modules").write_text("sctp 434176 0 - Live 0x0\n")
    env["answers"]["-r"] = [(1, "", "modprobe: FATAL: Error removing sctp: Operation not permitted\n")]
    result = run(env, {"disabled": ["sctp"]})
    assert result["unloaded"] == []
    assert result["not_applicable"] == {"sctp": ["cannot unload modules here (a container?)"]}


def test_another_unload_failure_fails(env):
    (env["tmp"] / "modules").write_text("sctp 434176 0 - Live 0x0\n")
    env["answers"]["-r"] = [(1, "", "modprobe: FATAL: Module sctp is in use.\n")]
    result = run(env, {"disabled": ["sctp"]}, expect=FailJson)
    assert result["msg"] == "modprobe -r sctp failed: modprobe: FATAL: Module sctp is in use."


def test_builtin_and_absent_modules(env):
    (env["tmp"] / "sys" / "udf").mkdir()  # built in: in /sys/module, no initstate, not loaded
    (env["tmp"] / "sys" / "cramfs").mkdir()
    (env["tmp"] / "sys" / "cramfs" / "initstate").write_text("live\n")
    env["answers"]["-c"] = kmod.render(["cramfs", "ext4", "jffs2", "udf"])
    result = run(env, {"disabled": ["udf", "ext4", "jffs2", "cramfs"]}, check=True)
    assert result["not_applicable"] == {"ext4": ["built into this kernel"], "udf": ["built into this kernel"]}
    assert result["absent"] == ["jffs2"]


def test_without_modprobe_the_effective_check_is_not_applicable(env):
    env["bins"].pop("modprobe")
    result = run(env, {"disabled": ["cramfs"]})
    assert result["effective"] == {"cramfs": {"install": None, "blacklisted": None, "loaded": False}}
    assert result["not_applicable"] == {"cramfs": [mod.NO_MODPROBE]}
    assert env["dest"].read_text() == kmod.render(["cramfs"])
    assert env["calls"] == []


def test_a_missing_directory_is_made(env):
    dest = env["tmp"] / "run" / "modprobe.d" / "x.conf"
    result = run(env, {"disabled": ["cramfs"], "dest": str(dest)})
    assert result["changed"] is True and dest.read_text() == kmod.render(["cramfs"])


def test_modprobe_c_failing_fails(env, monkeypatch):
    monkeypatch.setattr(
        basic.AnsibleModule, "run_command", lambda self, argv, **kw: (1, "", "modprobe: ERROR: bad config\n")
    )
    result = run(env, {"disabled": ["cramfs"]}, expect=FailJson)
    assert result["msg"].endswith("failed: modprobe: ERROR: bad config")
    assert not env["dest"].exists()


@pytest.mark.parametrize("name", ["usb storage", "x;reboot", "*", "../x"])
def test_a_bad_name_fails_naming_it(env, name):
    result = run(env, {"disabled": ["cramfs", name]}, expect=FailJson)
    assert repr(name) in result["msg"] and "cramfs" not in result["msg"]
    assert env["calls"] == []

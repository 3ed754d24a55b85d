# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apparmor_state.main() on a fake root (/sys, /proc, /etc/default/grub*, /boot/grub/grub.cfg). The GRUB files
are sourced by the real sh, as the module asks; update-grub is a stand-in that writes grub.cfg from them."""

from __future__ import annotations

import os
import subprocess

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _apparmor as aa
from ansible_collections.bulwark.hardening.plugins.modules import apparmor_state as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

PROFILES = """\
/usr/sbin/cupsd (enforce)
/usr/bin/man (complain)
nvidia_modprobe (enforce)
"""
DEFAULT_GRUB = """\
GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
"""
CMDLINE = "BOOT_IMAGE=/vmlinuz-6.1.0-28-amd64 root=UUID=1f1e ro quiet\n"
DROP_IN = "etc/default/grub.d/99-bulwark-apparmor.cfg"


class Host:
    """A fake root and the commands run against it."""

    def __init__(self, root):
        self.root = root
        self.calls = []
        self.update_grub_rc = 0
        self.write("sys/module/apparmor/parameters/enabled", "Y\n")
        self.write("sys/kernel/security/apparmor/profiles", PROFILES)
        self.write("proc/cmdline", CMDLINE)
        self.write("etc/default/grub", DEFAULT_GRUB)
        self.write("usr/sbin/update-grub", "#!/bin/sh\n")
        self.process(1, "/usr/lib/systemd/systemd", "unconfined\n")
        self.process(700, "/usr/sbin/cupsd", "/usr/sbin/cupsd (enforce)\n")
        (root / "proc" / "2").mkdir()  # a kernel thread: no executable
        self.update_grub()

    def write(self, path, text):
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def process(self, pid, exe, label, newer=True):
        base = self.root / "proc" / str(pid)
        base.mkdir(parents=True)
        os.symlink(exe, base / "exe")
        self.write(f"proc/{pid}/attr/{'apparmor/' if newer else ''}current", label)

    def sourced(self):
        files = [str(self.root / "etc/default/grub")]
        grub_d = self.root / "etc/default/grub.d"
        if grub_d.is_dir():
            files += [str(grub_d / name) for name in aa.grub_d_order(os.listdir(grub_d))]
        out = subprocess.run(
            ["sh", "-c", aa.SOURCE_SCRIPT, "sh", *files], check=True, capture_output=True, text=True
        ).stdout
        return aa.parse_sourced(out)

    def update_grub(self):
        linux, default = self.sourced()
        kernel = "linux\t/vmlinuz-6.1.0-28-amd64 root=UUID=1f1e ro"
        self.write(
            "boot/grub/grub.cfg",
            f"### BEGIN /etc/grub.d/10_linux ###\n{kernel} {linux} {default}\n{kernel} single {linux}\n"
            "### END /etc/grub.d/10_linux ###\n### BEGIN /etc/grub.d/20_memtest86+ ###\n"
            "linux /boot/memtest86+x64.efi\n### END /etc/grub.d/20_memtest86+ ###\n",
        )

    def run_command(self, argv, environ_update=None):
        assert isinstance(argv, list), "run_command must get a list, never a shell string"
        self.calls.append(argv)
        if argv[0].endswith("/sh"):
            done = subprocess.run(
                argv, check=False, capture_output=True, text=True, env={**os.environ, **(environ_update or {})}
            )
            return done.returncode, done.stdout, done.stderr
        if argv == ["/usr/sbin/update-grub"]:
            if self.update_grub_rc == 0:
                self.update_grub()
            return self.update_grub_rc, "", "" if self.update_grub_rc == 0 else "grub-probe: error: disk not found"
        raise AssertionError(f"unexpected command {argv}")

    def commands(self, name):
        return [argv for argv in self.calls if argv[0].endswith("/" + name)]


@pytest.fixture
def host(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    (tmp_path / "root").mkdir()
    fake = Host(tmp_path / "root")
    fake.container = False
    monkeypatch.setattr(mod, "in_container", lambda module: fake.container)

    def run_command(_module, argv, **kwargs):
        return fake.run_command(argv, kwargs.get("environ_update"))

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    fake.warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning: fake.warnings.append(warning))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: "/bin/" + name)
    fake.tmpdir = tmp_path / "tmp"
    fake.tmpdir.mkdir()
    for program in ("usr/sbin/apparmor_parser", "usr/sbin/aa-enforce"):  # both packages installed
        fake.write(program, "")
    return fake


def run(host, expect=ExitJson, check=False, diff=True, **params):
    args = {
        "root": str(host.root),
        "_ansible_check_mode": check,
        "_ansible_diff": diff,
        "_ansible_tmpdir": str(host.tmpdir),
        **params,
    }
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def test_check_mode_judges_and_writes_nothing(host):
    grub_cfg = (host.root / "boot/grub/grub.cfg").read_text()
    result = run(host, check=True)
    assert result["changed"] is True
    assert result["enabled"] is True
    assert result["profiles"] == {"complain": 1, "enforce": 2}
    assert result["profiles_not_accepted"] == {}
    assert result["unconfined_with_profile"] == []
    assert result["findings"] == []
    assert result["not_applicable"] == {}
    assert result["cmdline"] == CMDLINE.strip()
    assert result["grub"]["missing"] == ["apparmor=1", "security=apparmor"]
    assert result["grub"]["grub_cfg_missing"] == ["apparmor=1", "security=apparmor"]
    # Shown as the next boot will have it, with our file in place.
    assert aa.split_cmdline(result["grub"]["cmdline_linux"]) == ["apparmor=1", "security=apparmor"]
    assert result["grub"]["files"] == ["/etc/default/grub", "/" + DROP_IN]
    assert result["written"] == ["/" + DROP_IN]
    assert result["update_grub"] is True
    assert result["reboot_required"] is True
    assert not (host.root / DROP_IN).exists()
    assert (host.root / "boot/grub/grub.cfg").read_text() == grub_cfg
    assert host.commands("update-grub") == []
    file_diff, cfg_diff = result["diff"]
    assert file_diff["before"] == "" and file_diff["after"] == aa.render_drop_in()
    assert "apparmor=1 security=apparmor (update-grub)" in cfg_diff["after"]


def test_real_run_writes_regenerates_then_is_idempotent(host):
    result = run(host)
    assert result["changed"] is True
    assert (host.root / DROP_IN).read_text() == aa.render_drop_in()
    assert oct((host.root / DROP_IN).stat().st_mode & 0o777) == "0o644"
    assert host.commands("update-grub") == [["/usr/sbin/update-grub"]]
    assert aa.grub_cfg_missing((host.root / "boot/grub/grub.cfg").read_text()) == []
    # Every command an argument list; the GRUB files passed to sh as arguments.
    sh = host.commands("sh")[0]
    assert sh[:4] == ["/bin/sh", "-c", aa.SOURCE_SCRIPT, "sh"]

    host.calls.clear()
    again = run(host)
    assert again["changed"] is False
    assert again["written"] == [] and again["update_grub"] is False
    assert again["grub"]["missing"] == [] and again["grub"]["grub_cfg_missing"] == []
    assert "diff" not in again
    assert host.commands("update-grub") == []
    assert run(host, check=True)["changed"] is False


def test_line_already_in_default_grub_needs_no_file(host):
    host.write("etc/default/grub", DEFAULT_GRUB.replace('LINUX=""', 'LINUX="apparmor=1 security=apparmor"'))
    host.update_grub()
    result = run(host, check=True)
    assert result["changed"] is False
    assert result["grub"]["files"] == ["/etc/default/grub"]
    assert result["written"] == []


def test_stale_grub_cfg_only_runs_update_grub(host):
    host.write("etc/default/grub", DEFAULT_GRUB.replace('LINUX=""', 'LINUX="apparmor=1 security=apparmor"'))
    result = run(host)
    assert result["changed"] is True
    assert result["written"] == [] and result["update_grub"] is True
    assert not (host.root / DROP_IN).exists()
    assert host.commands("update-grub") == [["/usr/sbin/update-grub"]]


def test_a_later_file_resetting_the_line_fails_before_writing(host):
    host.write("etc/default/grub.d/zz-local.cfg", 'GRUB_CMDLINE_LINUX="quiet apparmor=0"\n')
    failed = run(host, expect=FailJson)
    assert "would still lack apparmor=1 security=apparmor" in failed["msg"]
    assert "/etc/default/grub.d/zz-local.cfg" in failed["msg"]
    assert not (host.root / DROP_IN).exists()
    assert host.commands("update-grub") == []


def test_default_line_switching_apparmor_off_fails(host):
    host.write("etc/default/grub", DEFAULT_GRUB.replace('DEFAULT="quiet"', 'DEFAULT="quiet apparmor=0"'))
    failed = run(host, expect=FailJson, check=True)
    assert "would still lack apparmor=1" in failed["msg"]
    assert "GRUB_CMDLINE_LINUX_DEFAULT='quiet apparmor=0'" in failed["msg"]


def test_an_earlier_file_is_kept_and_appended_to(host):
    host.write("etc/default/grub.d/10-console.cfg", 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=ttyS0"\n')
    result = run(host)
    linux = aa.split_cmdline(result["grub"]["cmdline_linux"])
    assert linux == ["console=ttyS0", "apparmor=1", "security=apparmor"]
    assert result["grub"]["files"] == [
        "/etc/default/grub",
        "/etc/default/grub.d/10-console.cfg",
        "/" + DROP_IN,
    ]


def test_a_broken_grub_file_fails_naming_the_files(host):
    host.write("etc/default/grub.d/50-broken.cfg", 'GRUB_CMDLINE_LINUX="unterminated\n')
    failed = run(host, expect=FailJson, check=True)
    assert "sourcing the GRUB files as grub-mkconfig does failed" in failed["msg"]
    assert "/etc/default/grub.d/50-broken.cfg" in failed["msg"]


def test_update_grub_failure_fails(host):
    host.update_grub_rc = 1
    failed = run(host, expect=FailJson)
    assert "update-grub failed (exit status 1): grub-probe: error: disk not found" in failed["msg"]


def test_findings_are_reported_never_fixed(host):
    host.write("sys/kernel/security/apparmor/profiles", PROFILES + "lsb_release (unconfined)\n/usr/bin/foo (kill)\n")
    host.process(800, "/usr/bin/man", "unconfined\n", newer=False)  # an older kernel's attr/current
    host.write("etc/default/grub", DEFAULT_GRUB.replace('LINUX=""', 'LINUX="apparmor=1 security=apparmor"'))
    host.update_grub()
    result = run(host, accepted_modes=["enforce", "complain"])
    assert result["changed"] is False
    assert result["profiles_not_accepted"] == {"/usr/bin/foo": "kill", "lsb_release": "unconfined"}
    assert result["unconfined_with_profile"] == [{"pid": 800, "exe": "/usr/bin/man", "profile": "/usr/bin/man"}]
    assert [(entry["kind"], entry["subject"]) for entry in result["findings"]] == [
        ("profile", "/usr/bin/foo"),
        ("profile", "lsb_release"),
        ("process", "800 /usr/bin/man"),
    ]
    assert host.calls == [host.commands("sh")[0]]  # nothing but the GRUB files' resolution
    # Level 2: complain is a finding too; a drift check counts findings as drift.
    strict = run(host, check=True, accepted_modes=["enforce"], findings_changed=True)
    assert strict["changed"] is True
    assert "/usr/bin/man" in strict["profiles_not_accepted"]


def test_apparmor_off_in_the_running_kernel(host):
    host.write("sys/module/apparmor/parameters/enabled", "N\n")
    host.write("proc/cmdline", CMDLINE.replace("quiet", "quiet apparmor=0"))
    (host.root / "sys/kernel/security/apparmor/profiles").unlink()
    result = run(host, check=True)
    assert result["enabled"] is False
    assert result["reboot_required"] is True
    assert result["not_applicable"] == {"profiles": mod.DISABLED, "processes": mod.DISABLED}
    assert [entry["kind"] for entry in result["findings"]] == ["cmdline", "kernel"]
    assert result["written"] == ["/" + DROP_IN]  # the boot is still fixed


def test_kernel_without_apparmor_and_no_grub(host):
    (host.root / "sys/module/apparmor/parameters/enabled").unlink()
    (host.root / "etc/default/grub").unlink()
    (host.root / "usr/sbin/update-grub").unlink()
    result = run(host)
    assert result["changed"] is False
    assert result["enabled"] is None
    assert result["grub"] is None
    assert result["not_applicable"] == {
        "profiles": mod.NO_APPARMOR,
        "processes": mod.NO_APPARMOR,
        "boot": mod.NO_GRUB,
    }
    assert host.calls == []


def test_securityfs_missing_is_not_applicable(host):
    (host.root / "sys/kernel/security/apparmor/profiles").unlink()
    result = run(host, check=True, boot=False)
    assert result["enabled"] is True
    assert result["not_applicable"] == {"profiles": mod.NO_SECURITYFS, "processes": mod.NO_SECURITYFS}
    assert result["grub"] is None and result["changed"] is False
    assert host.calls == []


def test_container_is_not_applicable_never_compliant(host):
    host.container = True
    result = run(host)
    assert result["changed"] is False
    assert set(result["not_applicable"]) == {"kernel", "profiles", "processes", "boot"}
    assert result["grub"] is None
    assert host.calls == []
    assert not (host.root / DROP_IN).exists()


def test_default_grub_without_update_grub_writes_and_warns(host):
    (host.root / "usr/sbin/update-grub").unlink()
    result = run(host)
    assert result["written"] == ["/" + DROP_IN] and result["update_grub"] is False
    assert (host.root / DROP_IN).exists()
    assert any("is not regenerated" in warning for warning in host.warnings)


def test_bad_mode_is_refused(host):
    failed = run(host, expect=FailJson, accepted_modes=["kill"])
    assert "accepted_modes" in failed["msg"] and "kill" in failed["msg"]


def test_missing_packages_are_named_for_the_role_to_install(host):
    os.unlink(host.root / "usr/sbin/aa-enforce")
    result = run(host, check=True, findings_changed=True)
    assert result["packages_missing"] == ["apparmor-utils"]
    assert ("package", "apparmor-utils") in [(item["kind"], item["subject"]) for item in result["findings"]]
    # In a container too: the packages are the host's own, unlike the kernel.
    host.container = True
    inside = run(host, check=True, findings_changed=True)
    assert inside["packages_missing"] == ["apparmor-utils"] and inside["changed"] is True
    assert run(host, check=True)["changed"] is False

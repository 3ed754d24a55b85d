# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mount_options.main() on a fake root (fstab, mountinfo, unit files); run_command stands in for findmnt,
systemctl and mount, whose remount rewrites the fake mountinfo as the kernel would."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.modules import mount_options as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

MOUNTS = {
    "/tmp": ["nodev", "nosuid", "noexec"],
    "/dev/shm": ["nodev", "nosuid", "noexec"],
    "/home": ["nodev", "nosuid"],
    "/var": ["nodev", "nosuid"],
}
# Debian 13: /tmp is systemd's tmp.mount, /dev/shm systemd's own, /home a partition, /var part of /.
MOUNTINFO = """\
22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
24 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,mode=755
25 24 0:23 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw,inode64
30 22 254:2 / /home rw,nodev,relatime shared:20 - ext4 /dev/vda2 rw
31 22 0:35 / /tmp rw,nosuid,nodev shared:21 - tmpfs tmpfs rw,size=2009352k,inode64
"""
FSTAB = """\
# /etc/fstab: static file system information.
UUID=1f1e-4c2a /               ext4    errors=remount-ro 0       1
UUID=77aa-0b3c /home           ext4    defaults        0       2
UUID=9d1c-aaaa none            swap    sw              0       0
"""
TMP_MOUNT = """\
[Unit]
Description=Temporary Directory /tmp

[Mount]
What=tmpfs
Where=/tmp
Type=tmpfs
Options=mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=400k
"""
DROP_IN = "etc/systemd/system/tmp.mount.d/bulwark-hardening.conf"
SUCCESS = ("Success, no errors or warnings detected\n", "")


class Host:
    """A fake root and the commands run against it."""

    def __init__(self, root):
        self.root = root
        (root / "etc").mkdir()
        (root / "proc" / "self").mkdir(parents=True)
        (root / "usr" / "lib" / "systemd" / "system").mkdir(parents=True)
        self.fstab = root / "etc" / "fstab"
        self.fstab.write_text(FSTAB)
        self.mountinfo = root / "proc" / "self" / "mountinfo"
        self.mountinfo.write_text(MOUNTINFO)
        (root / "usr" / "lib" / "systemd" / "system" / "tmp.mount").write_text(TMP_MOUNT)
        self.calls = []
        self.verify = {}  # file text -> (stdout, stderr) of findmnt --verify
        self.kernel_ignores = set()

    def run_command(self, argv):
        assert isinstance(argv, list), "run_command must get a list, never a shell string"
        self.calls.append(argv)
        name = argv[0].rsplit("/", 1)[-1]
        if name == "findmnt":
            assert argv[1:3] == ["--verify", "--tab-file"]
            with open(argv[3], encoding="utf-8") as handle:
                out, err = self.verify.get(handle.read(), SUCCESS)
            return (1 if "[E]" in out or "parse error" in err else 0), out, err
        if name == "mount":
            assert argv[1] == "-o" and argv[2].startswith("remount,")
            if argv[3] not in self.kernel_ignores:
                self.remount(argv[3], argv[2].split(",")[1:])
            return 0, "", ""
        if name == "systemctl":
            assert argv[1:] == ["daemon-reload"]
            return 0, "", ""
        raise AssertionError(f"unexpected command {argv}")

    def remount(self, point, options):
        lines = []
        for line in self.mountinfo.read_text().splitlines():
            fields = line.split(" ")
            if fields[4] == point:
                have = fields[5].split(",")
                fields[5] = ",".join(have + [option for option in options if option not in have])
            lines.append(" ".join(fields))
        self.mountinfo.write_text("\n".join(lines) + "\n")

    def commands(self, name):
        return [argv for argv in self.calls if argv[0].endswith("/" + name)]


@pytest.fixture
def host(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    (tmp_path / "root").mkdir()
    fake = Host(tmp_path / "root")
    monkeypatch.setattr(mod, "in_container", lambda module: False)

    def run_command(_module, argv, **_kwargs):
        return fake.run_command(argv)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    fake.warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, warning: fake.warnings.append(warning))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **kw: "/usr/bin/" + name)
    fake.tmpdir = tmp_path / "tmp"
    fake.tmpdir.mkdir()
    return fake


def run(host, mounts=None, expect=ExitJson, check=False, diff=True):
    args = {
        "mounts": MOUNTS if mounts is None else mounts,
        "root": str(host.root),
        "_ansible_check_mode": check,
        "_ansible_diff": diff,
        "_ansible_tmpdir": str(host.tmpdir),
    }
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def test_check_mode_judges_live_and_boot_and_writes_nothing(host):
    result = run(host, check=True)
    assert result["changed"] is True
    assert result["not_applicable"] == {"/var": mod.NOT_SEPARATE}
    tmp = result["mounts"]["/tmp"]
    assert tmp["live"] == ["rw", "nosuid", "nodev"]
    assert tmp["missing"] == {"live": ["noexec"], "boot": ["noexec"]}
    # Shown with the new drop-in in place, as the next boot will mount it.
    assert tmp["boot_source"] == "/" + DROP_IN
    assert tmp["boot"] == ["mode=1777", "strictatime", "nosuid", "nodev", "size=50%", "nr_inodes=400k", "noexec"]
    assert result["mounts"]["/dev/shm"]["missing"] == {"live": ["noexec"], "boot": ["noexec"]}
    assert result["mounts"]["/home"]["missing"] == {"live": ["nosuid"], "boot": ["nodev", "nosuid"]}
    assert result["written"] == ["/etc/fstab", "/" + DROP_IN]
    assert result["remounted"] == ["/dev/shm", "/home", "/tmp"]
    # Nothing written, nothing remounted; the candidate fstab was validated all the same.
    assert host.fstab.read_text() == FSTAB
    assert not (host.root / DROP_IN).exists()
    assert host.commands("mount") == [] and host.commands("systemctl") == []
    assert len(host.commands("findmnt")) == 2  # the candidate, then the current file
    fstab_diff, drop_in_diff, live_diff = result["diff"]
    assert fstab_diff["before"] == FSTAB
    assert "tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0\n" in fstab_diff["after"]
    assert drop_in_diff["before"] == ""
    assert "/tmp rw,nosuid,nodev,noexec (live)\n" in live_diff["after"]


def test_real_run_writes_validates_remounts_then_is_idempotent(host):
    result = run(host)
    assert result["changed"] is True
    fstab = host.fstab.read_text()
    assert fstab == FSTAB.replace(
        "UUID=77aa-0b3c /home           ext4    defaults        0       2",
        "UUID=77aa-0b3c /home           ext4    defaults,nodev,nosuid        0       2",
    ) + ("tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0\n")
    drop_in = (host.root / DROP_IN).read_text()
    assert drop_in.endswith("[Mount]\nOptions=mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=400k,noexec\n")
    assert host.commands("systemctl") == [["/usr/bin/systemctl", "daemon-reload"]]
    assert host.commands("mount") == [
        ["/usr/bin/mount", "-o", "remount,nodev,nosuid,noexec", "/dev/shm"],
        ["/usr/bin/mount", "-o", "remount,nodev,nosuid", "/home"],
        ["/usr/bin/mount", "-o", "remount,nodev,nosuid,noexec", "/tmp"],
    ]
    assert result["mounts"]["/tmp"]["live"] == ["rw", "nosuid", "nodev", "noexec"]
    assert result["remounted"] == ["/dev/shm", "/home", "/tmp"]

    host.calls.clear()
    again = run(host)
    assert again["changed"] is False
    assert again["written"] == [] and again["remounted"] == []
    assert "diff" not in again
    assert host.calls == []
    assert host.fstab.read_text() == fstab
    checked = run(host, check=True)
    assert checked["changed"] is False


def test_findmnt_refusal_writes_nothing(host):
    candidate = FSTAB.replace("defaults        0", "defaults,nodev,nosuid        0") + (
        "tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0\n"
    )
    host.verify[candidate] = ("/dev/shm\n   [E] unreachable on boot required target: No such file\n", "")
    failed = run(host, expect=FailJson)
    assert "findmnt --verify refuses the new /etc/fstab" in failed["msg"]
    assert "/dev/shm: [E] unreachable on boot required target" in failed["msg"]
    assert host.fstab.read_text() == FSTAB
    assert not (host.root / DROP_IN).exists()
    assert host.commands("mount") == [] and host.commands("systemctl") == []
    assert list((host.root / "etc").iterdir()) == [host.fstab]  # no temporary file left beside it


def test_findmnt_finding_the_host_already_has_refuses_nothing(host):
    # The current fstab's UUID cannot be resolved here: an error in both files is not the candidate's fault.
    stale = ("/\n   [E] unreachable on boot required source: UUID=1f1e-4c2a\n", "\n0 parse errors, 1 error\n")
    host.verify[FSTAB] = stale
    candidate = FSTAB.replace("defaults        0", "defaults,nodev,nosuid        0") + (
        "tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0\n"
    )
    host.verify[candidate] = stale
    assert run(host, check=True)["changed"] is True
    host.verify[candidate] = (stale[0], "x: parse error at line 5 -- ignored\n\n1 parse error, 1 error\n")
    assert "parse error" in run(host, check=True, expect=FailJson)["msg"]


def test_a_mount_the_kernel_does_not_change_fails(host):
    host.kernel_ignores.add("/home")
    failed = run(host, expect=FailJson)
    assert "remount did not change the live options - /home: the kernel still shows rw,nodev,relatime" in failed["msg"]
    assert failed["remounted"] == ["/dev/shm", "/tmp"]
    assert "nodev,nosuid" in host.fstab.read_text()  # the boot files are written all the same


def test_not_separate_is_never_judged(host):
    result = run(host, mounts={"/var": ["nodev"], "/var/tmp": ["noexec"]})
    assert result["changed"] is False
    assert result["not_applicable"] == {"/var": mod.NOT_SEPARATE, "/var/tmp": mod.NOT_SEPARATE}
    assert result["mounts"] == {}
    assert host.calls == []


def test_container_makes_every_mount_not_applicable(host, monkeypatch):
    monkeypatch.setattr(mod, "in_container", lambda module: True)
    result = run(host)
    assert result["changed"] is False
    assert result["not_applicable"] == {point: mod.CONTAINER for point in MOUNTS}
    assert host.calls == []


def test_root_and_other_options_refused(host):
    failed = run(host, mounts={"/": ["nodev"], "/tmp": ["ro"]}, expect=FailJson)
    assert "'/' is refused" in failed["msg"]
    assert "/tmp: 'ro' not one of nodev, nosuid, noexec" in failed["msg"]
    assert host.calls == []


def test_a_later_drop_in_that_wins_fails_before_writing(host):
    folder = host.root / "etc" / "systemd" / "system" / "tmp.mount.d"
    folder.mkdir(parents=True)
    (folder / "zz-local.conf").write_text("[Mount]\nOptions=mode=1777,nosuid\n")
    failed = run(host, mounts={"/tmp": ["nodev", "nosuid", "noexec"]}, expect=FailJson)
    assert "/tmp lacks nodev,noexec from /etc/systemd/system/tmp.mount.d/zz-local.conf" in failed["msg"]
    assert not (folder / "bulwark-hardening.conf").exists()
    assert host.calls == []


def test_fstab_line_wins_over_the_vendor_unit_and_an_admin_unit_over_fstab(host):
    host.fstab.write_text(FSTAB + "tmpfs /tmp tmpfs defaults,nosuid 0 0\n")
    result = run(host, mounts={"/tmp": ["nodev", "nosuid", "noexec"]}, check=True)
    assert result["mounts"]["/tmp"]["boot_source"] == "/etc/fstab"
    assert result["written"] == ["/etc/fstab"]
    admin = host.root / "etc" / "systemd" / "system"
    admin.mkdir(parents=True)
    (admin / "tmp.mount").write_text(TMP_MOUNT.replace("nosuid,nodev,", "nosuid,nodev,noexec,"))
    result = run(host, mounts={"/tmp": ["nodev", "nosuid", "noexec"]}, check=True)
    assert result["mounts"]["/tmp"]["boot_source"] == "/etc/systemd/system/tmp.mount"
    assert result["mounts"]["/tmp"]["missing"]["boot"] == []
    assert result["written"] == []


def test_masked_unit_is_judged_live_only(host):
    admin = host.root / "etc" / "systemd" / "system"
    admin.mkdir(parents=True)
    (admin / "tmp.mount").symlink_to("/dev/null")
    result = run(host, mounts={"/tmp": ["nodev", "nosuid", "noexec"]}, check=True)
    assert result["mounts"]["/tmp"]["boot_source"] is None
    assert result["mounts"]["/tmp"]["missing"] == {"live": ["noexec"], "boot": []}
    assert result["written"] == [] and result["changed"] is True
    assert host.warnings == [
        "/tmp: nothing mounts it at the next boot (no fstab line, a masked unit?); judged live only"
    ]

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._mounts import (
    add_flags,
    check_mounts,
    dev_shm_line,
    flags_of,
    fstab_append,
    fstab_edit,
    fstab_entries,
    fstab_options,
    live_missing,
    missing_flags,
    new_findings,
    order_drop_ins,
    parse_errors,
    parse_mountinfo,
    render_drop_in,
    top_mount,
    unescape,
    unit_mount_options,
    unit_name,
    verify_findings,
)

# A Debian 13 host: / on vda1, /home a partition of the same disk, /tmp systemd's tmpfs, /var/tmp a bind
# mount of a directory of / (same device as its parent), a mount point with a blank, and /srv/data where a
# second mount hides the first.
MOUNTINFO = """\
22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4001196k,mode=755
25 24 0:23 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw,inode64
30 22 254:2 / /home rw,nodev,relatime shared:20 - ext4 /dev/vda2 rw
31 22 0:35 / /tmp rw,nosuid,nodev shared:21 - tmpfs tmpfs rw,size=2009352k,nr_inodes=1048576,inode64
32 22 254:1 /var/tmp /var/tmp rw,nosuid,nodev,noexec,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
33 22 254:3 / /mnt/my\\040disk rw,relatime - ext4 /dev/vdb1 rw
34 22 254:4 / /srv/data rw,relatime - ext4 /dev/vdc1 rw
35 34 254:5 / /srv/data rw,nosuid,relatime - ext4 /dev/vdd1 rw
not a mountinfo line
"""


def test_parse_mountinfo_fields():
    mounts = parse_mountinfo(MOUNTINFO)
    assert len(mounts) == 10
    tmp = mounts[5]
    assert (tmp.mount_id, tmp.parent_id, tmp.device, tmp.root, tmp.point) == (31, 22, "0:35", "/", "/tmp")
    assert tmp.options == ("rw", "nosuid", "nodev")  # the per-mount options, not the super options
    assert (tmp.fstype, tmp.source) == ("tmpfs", "tmpfs")


def test_parse_mountinfo_escapes_and_bind_mounts():
    mounts = {mount.point: mount for mount in parse_mountinfo(MOUNTINFO)}
    assert "/mnt/my disk" in mounts
    bind = mounts["/var/tmp"]
    assert (bind.root, bind.device) == ("/var/tmp", mounts["/"].device)  # a directory of /, mounted again


def test_parse_mountinfo_optional_fields_vary():
    # No optional field at all, and several of them: the fields after "-" are found either way.
    text = (
        "40 22 0:50 / /a rw - tmpfs none rw\n41 22 0:51 / /b rw shared:5 master:1 propagate_from:1 - xfs /dev/sdb1 rw\n"
    )
    assert [(m.point, m.fstype, m.source) for m in parse_mountinfo(text)] == [
        ("/a", "tmpfs", "none"),
        ("/b", "xfs", "/dev/sdb1"),
    ]


@pytest.mark.parametrize(
    "point, expected_id",
    [
        ("/tmp", 31),
        ("/var/tmp", 32),  # a bind mount from the same device is a mount of its own, with its own flags
        ("/home", 30),
        ("/srv/data", 35),  # the one on top
        ("/mnt/my disk", 33),
        ("/var", None),  # a directory of /
        ("/var/log", None),
        ("/tm", None),
    ],
)
def test_top_mount(point, expected_id):
    mount = top_mount(point, parse_mountinfo(MOUNTINFO))
    assert (mount.mount_id if mount else None) == expected_id


def test_top_mount_stacked_out_of_order():
    # The mount below listed after the one on top (a move): the parent relation decides, not the order.
    text = "35 34 254:5 / /srv rw,nosuid - ext4 /dev/vdd1 rw\n34 22 254:4 / /srv rw - ext4 /dev/vdc1 rw\n"
    assert top_mount("/srv", parse_mountinfo(text)).mount_id == 35


def test_live_missing():
    tmp = top_mount("/tmp", parse_mountinfo(MOUNTINFO))
    assert live_missing(tmp, ["nodev", "nosuid", "noexec"]) == ["noexec"]


@pytest.mark.parametrize("field, text", [("/mnt/my\\040disk", "/mnt/my disk"), ("a\\011b\\134c", "a\tb\\c")])
def test_unescape(field, text):
    assert unescape(field) == text


@pytest.mark.parametrize(
    "options, flags",
    [
        (["defaults"], set()),
        (["nodev", "nosuid"], {"nodev", "nosuid"}),
        (["noexec", "defaults"], set()),  # defaults, read after, means exec
        (["user"], {"nodev", "nosuid", "noexec"}),
        (["users", "exec"], {"nodev", "nosuid"}),
        (["owner"], {"nodev", "nosuid"}),
        (["rw", "noexec", "exec"], set()),
        (["size=50%", "mode=1777", "nosuid"], {"nosuid"}),
    ],
)
def test_flags_of(options, flags):
    assert flags_of(options) == flags


@pytest.mark.parametrize(
    "options, after",
    [
        (["defaults"], ["defaults", "nodev", "nosuid", "noexec"]),
        (["rw", "exec", "nosuid"], ["rw", "nosuid", "nodev", "noexec"]),
        (["noexec", "defaults"], ["defaults", "nodev", "nosuid", "noexec"]),
        (["nodev", "nosuid", "noexec"], ["nodev", "nosuid", "noexec"]),
        ([], ["nodev", "nosuid", "noexec"]),
    ],
)
def test_add_flags(options, after):
    assert add_flags(options, ["nodev", "nosuid", "noexec"]) == after
    assert missing_flags(after, ["nodev", "nosuid", "noexec"]) == []


FSTAB = """\
# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=1f1e-4c2a /               ext4    errors=remount-ro 0       1
# /home was on /dev/vda2 during installation
UUID=77aa-0b3c /home           ext4    defaults        0       2
/dev/vda3	/var/log	ext4	defaults,exec	0	2
UUID=9d1c-aaaa none            swap    sw              0       0
/dev/vdb1 /mnt/my\\040disk/ ext4 noauto
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
"""


def test_fstab_entries():
    points = [(point, fstype, options) for _index, point, fstype, options in fstab_entries(FSTAB)]
    assert points == [
        ("/", "ext4", ["errors=remount-ro"]),
        ("/home", "ext4", ["defaults"]),
        ("/var/log", "ext4", ["defaults", "exec"]),
        ("/mnt/my disk", "ext4", ["noauto"]),  # escapes decoded, trailing slash dropped; swap left out
        ("/media/cdrom0", "udf,iso9660", ["user", "noauto"]),
    ]
    assert fstab_options("tmpfs /tmp tmpfs\n", "/tmp") == [["defaults"]]  # no options field: defaults


def test_fstab_edit_in_place():
    edited = fstab_edit(FSTAB, "/home", ["nodev", "nosuid"])
    edited = fstab_edit(edited, "/var/log", ["nodev", "nosuid", "noexec"])
    before, after = FSTAB.splitlines(), edited.splitlines()
    assert after[5] == "UUID=77aa-0b3c /home           ext4    defaults,nodev,nosuid        0       2"
    assert after[6] == "/dev/vda3\t/var/log\text4\tdefaults,nodev,nosuid,noexec\t0\t2"
    # Every other line - comments, the UUID= root line, swap - byte for byte.
    assert [line for i, line in enumerate(after) if i not in (5, 6)] == [
        line for i, line in enumerate(before) if i not in (5, 6)
    ]
    assert edited.endswith("\n")


def test_fstab_edit_idempotent_and_swap_untouched():
    once = fstab_edit(FSTAB, "/home", ["nodev", "nosuid"])
    assert fstab_edit(once, "/home", ["nodev", "nosuid"]) == once
    assert fstab_edit(FSTAB, "none", ["nodev"]) == FSTAB  # the swap line is no mount point
    assert fstab_edit(FSTAB, "/var", ["nodev"]) == FSTAB  # no line, nothing to edit


def test_fstab_edit_escaped_point_and_missing_fields():
    edited = fstab_edit(FSTAB, "/mnt/my disk", ["nodev"])
    assert "/dev/vdb1 /mnt/my\\040disk/ ext4 noauto,nodev\n" in edited
    assert fstab_edit("tmpfs /tmp tmpfs\n", "/tmp", ["noexec"]) == "tmpfs /tmp tmpfs defaults,noexec\n"


def test_fstab_edit_every_line_of_a_point():
    text = "tmpfs /tmp tmpfs nodev 0 0\ntmpfs /tmp tmpfs defaults 0 0\n"
    assert fstab_edit(text, "/tmp", ["nodev", "noexec"]) == (
        "tmpfs /tmp tmpfs nodev,noexec 0 0\ntmpfs /tmp tmpfs defaults,nodev,noexec 0 0\n"
    )


def test_dev_shm_line_and_append():
    line = dev_shm_line(["nodev", "nosuid", "noexec"])
    assert line == "tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0"
    assert fstab_append("a b c", line) == "a b c\n" + line + "\n"
    assert fstab_append("", line) == line + "\n"
    assert fstab_options(fstab_append(FSTAB, line), "/dev/shm") == [["defaults", "nosuid", "nodev", "noexec"]]


@pytest.mark.parametrize(
    "point, unit",
    [
        ("/tmp", "tmp.mount"),
        ("/dev/shm", "dev-shm.mount"),
        ("/var/log/audit", "var-log-audit.mount"),
        ("/var/lib/my-data", "var-lib-my\\x2ddata.mount"),
        ("/srv/.hidden", "srv-.hidden.mount"),
        ("/.x", "\\x2ex.mount"),
        ("/", "-.mount"),
    ],
)
def test_unit_name(point, unit):
    assert unit_name(point) == unit


TMP_MOUNT = """\
[Unit]
Description=Temporary Directory /tmp
ConditionPathIsSymbolicLink=!/tmp

[Mount]
What=tmpfs
Where=/tmp
Type=tmpfs
Options=mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=400k
"""


@pytest.mark.parametrize(
    "texts, result",
    [
        ([TMP_MOUNT], ("mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=400k", 0)),
        ([TMP_MOUNT, "[Mount]\nOptions=nodev,noexec\n"], ("nodev,noexec", 1)),
        ([TMP_MOUNT, "[Mount]\nOptions=\n"], ("", 1)),  # an empty assignment resets
        (
            [TMP_MOUNT, "[Unit]\nOptions=noexec\n# [Mount]\n"],
            ("mode=1777,strictatime,nosuid,nodev,size=50%,nr_inodes=400k", 0),
        ),
        (["[Mount]\nWhat=x\n"], (None, None)),
    ],
)
def test_unit_mount_options(texts, result):
    assert unit_mount_options(texts) == result


def test_order_drop_ins():
    listing = [
        ("/etc/systemd/system/tmp.mount.d", ["50-size.conf", "zz.conf", "notes.txt", ".hidden.conf"]),
        ("/run/systemd/system/tmp.mount.d", ["50-size.conf", "10-early.conf"]),
        ("/usr/lib/systemd/system/tmp.mount.d", ["90-vendor.conf"]),
    ]
    assert order_drop_ins(listing) == [
        "/run/systemd/system/tmp.mount.d/10-early.conf",
        "/etc/systemd/system/tmp.mount.d/50-size.conf",  # /etc hides /run's file of the same name
        "/usr/lib/systemd/system/tmp.mount.d/90-vendor.conf",
        "/etc/systemd/system/tmp.mount.d/zz.conf",
    ]


def test_render_drop_in():
    text = render_drop_in(["mode=1777", "size=50%%", "nodev", "noexec"])
    assert text.endswith("[Mount]\nOptions=mode=1777,size=50%%,nodev,noexec\n")
    assert unit_mount_options([TMP_MOUNT, text]) == ("mode=1777,size=50%%,nodev,noexec", 1)


# findmnt --verify (util-linux 2.38) as it prints: findings on stdout under their target, summary on stderr.
VERIFY_OUT = """\
/
   [E] unreachable on boot required source: UUID=1234-abcd
/var
   [W] target specified more than once
   [W] unreachable source: /dev/nonexist: No such file or directory
   [W] your fstab has been modified, but systemd still uses the old version;
       use 'systemctl daemon-reload' to reload
"""


def test_verify_findings():
    assert verify_findings(VERIFY_OUT) == [
        ("/", "E", "unreachable on boot required source: UUID=1234-abcd"),
        ("/var", "W", "target specified more than once"),
        ("/var", "W", "unreachable source: /dev/nonexist: No such file or directory"),
        (None, "W", "your fstab has been modified, but systemd still uses the old version;"),
    ]
    assert verify_findings("Success, no errors or warnings detected\n") == []


@pytest.mark.parametrize(
    "stderr, count",
    [
        ("\n0 parse errors, 1 error, 0 warnings\n", 0),
        ("findmnt: x: parse error at line 3 -- ignored\n\n1 parse error, 1 error, 3 warnings\n", 1),
        ("", 0),
    ],
)
def test_parse_errors(stderr, count):
    assert parse_errors(stderr) == count


def test_new_findings():
    old = [("/", "E", "unreachable: UUID=a"), ("/var", "W", "x")]
    assert new_findings(old, old) == []
    assert new_findings([*old, ("/var", "W", "x")], old) == [("/var", "W", "x")]  # a multiset
    assert new_findings([("/tmp", "E", "bad")], old) == [("/tmp", "E", "bad")]


def test_check_mounts():
    wanted, errors = check_mounts({"/tmp/": ["noexec", "nodev", "nosuid"], "/home": ["nosuid", "nodev"]})
    assert errors == []
    assert wanted == {"/tmp": ["nodev", "nosuid", "noexec"], "/home": ["nodev", "nosuid"]}


@pytest.mark.parametrize(
    "mounts, words",
    [
        ({"/": ["nodev"]}, "'/' is refused"),
        ({"//": ["nodev"]}, "'/' is refused"),
        ({"tmp": ["nodev"]}, "'tmp' is not an absolute path"),
        ({"/tmp": ["nodev", "ro"]}, "/tmp: 'ro' not one of nodev, nosuid, noexec"),
        ({"/tmp": []}, "/tmp needs a non-empty list"),
        ({"/tmp": "nodev"}, "/tmp needs a non-empty list"),
        ({"/tmp": ["nodev"], "/tmp/": ["nodev"]}, "names /tmp twice"),
        ({}, "mounts is empty"),
    ],
)
def test_check_mounts_refuses(mounts, words):
    _wanted, errors = check_mounts(mounts)
    assert any(words in error for error in errors), errors

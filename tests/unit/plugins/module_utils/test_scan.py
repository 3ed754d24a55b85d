# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import itertools
import os
import stat

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _scan as sc

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime shared:7 - sysfs sysfs rw
25 24 0:23 / /dev/shm rw,relatime shared:3 master:1 - tmpfs tmpfs rw
26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600
27 1 254:0 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u
30 27 0:30 / /mnt/my\\040share rw - cifs //srv/share rw
31 27 0:31 / /srv/data rw - nfs4 srv:/data rw
32 31 0:32 / /srv/data rw - ext4 /dev/sdb1 rw
33 27 0:33 / /srv/data2 rw - ext4 /dev/sdc1 rw
34 33 0:34 / /srv/data2 rw - nfs srv:/x rw
"""


def test_parse_mounts_reads_point_and_type_after_the_separator():
    mounts = sc.parse_mounts(MOUNTINFO)
    assert mounts[:5] == [
        ("/proc", "proc"),
        ("/sys", "sysfs"),
        ("/dev/shm", "tmpfs"),
        ("/dev/pts", "devpts"),
        ("/", "overlay"),
    ]
    assert ("/mnt/my share", "cifs") in mounts


@pytest.mark.parametrize("line", ["", "garbage", "1 2 3 4 /x rw no-separator-here", "1 2 0:1 / /x rw -"])
def test_parse_mounts_skips_malformed_lines(line):
    assert sc.parse_mounts(line) == []


@pytest.mark.parametrize(
    "point, skipped",
    [
        ("/proc", "proc"),
        ("/sys", "sysfs"),
        ("/dev/pts", "devpts"),
        ("/mnt/my share", "cifs"),
        ("/dev/shm", None),  # tmpfs is kept: /dev/shm and /run matter
        ("/", None),  # overlay is kept: the root of a container
        ("/srv/data", None),  # an ext4 mounted over the nfs mount: the one on top counts
        ("/srv/data2", "nfs"),  # and the other way round
    ],
)
def test_skipped_points_uses_the_mount_on_top(point, skipped):
    skip = sc.skipped_points(sc.parse_mounts(MOUNTINFO), sc.DEFAULT_SKIP_FSTYPES)
    assert skip.get(point) == skipped


@pytest.mark.parametrize("fstype", ["tmpfs", "overlay", "ext4", "xfs", "btrfs", "devtmpfs", "vfat"])
def test_default_skip_keeps_local_file_systems(fstype):
    assert fstype not in sc.DEFAULT_SKIP_FSTYPES


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/proc", "/proc"),
        ("/proc/1/fd", "/proc"),
        ("/processes", None),
        ("/", None),
        ("/srv/data2/x", "/srv/data2"),
    ],
)
def test_mount_of(path, expected):
    assert sc.mount_of(path, {"/proc": "proc", "/srv/data2": "nfs"}) == expected


def test_mount_of_root_mount():
    assert sc.mount_of("/etc", {"/": "nfs", "/proc": "proc"}) == "/"


@pytest.mark.parametrize(
    "roots, expected",
    [
        (["/"], ["/"]),
        (["/srv", "/", "/var"], ["/"]),
        (["/srv/", "/srv/www", "/var", "/var"], ["/srv", "/var"]),
        (["/srv", "/srvx"], ["/srv", "/srvx"]),
        (["//srv/../etc"], ["/etc"]),
    ],
)
def test_distinct_roots(roots, expected):
    assert sc.distinct_roots(roots) == expected


@pytest.mark.parametrize(
    "mode, expected",
    [
        (stat.S_IFREG | 0o644, []),
        (stat.S_IFREG | 0o666, [("world_writable", "file 0666")]),
        (stat.S_IFREG | 0o4755, [("suid_sgid", "SUID file 4755")]),
        (stat.S_IFREG | 0o2755, [("suid_sgid", "SGID file 2755")]),
        (
            stat.S_IFREG | 0o6777,
            [("world_writable", "file 6777"), ("suid_sgid", "SUID+SGID file 6777")],
        ),
        (stat.S_IFDIR | 0o777, [("world_writable", "directory 0777 without the sticky bit")]),
        (stat.S_IFDIR | 0o1777, []),  # /tmp
        (stat.S_IFDIR | 0o2775, []),  # a SGID directory is no executable
        (stat.S_IFLNK | 0o777, []),  # a symlink's mode means nothing
        (stat.S_IFCHR | 0o666, []),  # /dev/null
        (stat.S_IFSOCK | 0o777, []),
        (stat.S_IFIFO | 0o666, []),
    ],
)
def test_mode_findings(mode, expected):
    assert sc.mode_findings(mode) == expected


@pytest.mark.parametrize(
    "uid_known, gid_known, expected",
    [
        (True, True, None),
        (False, True, "no owner: uid 4242"),
        (True, False, "no group: gid 4343"),
        (False, False, "no owner or group: uid 4242, gid 4343"),
    ],
)
def test_owner_detail(uid_known, gid_known, expected):
    assert sc.owner_detail(4242, 4343, uid_known, gid_known) == expected


@pytest.mark.parametrize(
    "patterns, path, matched",
    [
        (["/usr/bin/su"], "/usr/bin/su", True),
        (["/usr/bin/su"], "/usr/bin/sudo", False),
        (["/usr/lib/*/utempter/utempter"], "/usr/lib/x86_64-linux-gnu/utempter/utempter", True),
        (["/srv/*"], "/srv/a/b/c", True),  # '*' crosses '/'
        (["/srv/?"], "/srv/ab", False),
        ([], "/x", False),
    ],
)
def test_compile_allow(patterns, path, matched):
    pattern = sc.compile_allow(patterns)
    assert bool(pattern and pattern.match(path)) is matched


def test_merged_allow_keeps_defaults_of_checks_not_named():
    merged = sc.merged_allow({"world_writable": ["/srv/drop"]})
    assert merged["world_writable"] == ["/srv/drop"]
    assert merged["suid_sgid"] == list(sc.DEFAULT_SUID_SGID_ALLOW)
    assert merged["unowned"] == []
    assert merged["accounts"] == []


@pytest.mark.parametrize("given", [[], None])
def test_merged_allow_an_empty_list_replaces_the_default(given):
    assert sc.merged_allow({"suid_sgid": given})["suid_sgid"] == []


@pytest.mark.parametrize(
    "allow, message",
    [
        ({"suid": ["/usr/bin/su"]}, "unknown check 'suid'"),
        ({"world_writable": ["srv/x"]}, "allow.world_writable entry 'srv/x' is not an absolute"),
    ],
)
def test_merged_allow_names_the_bad_value(allow, message):
    with pytest.raises(ValueError, match=message):
        sc.merged_allow(allow)


def test_merged_allow_takes_names_for_accounts():
    assert sc.merged_allow({"accounts": "toor"})["accounts"] == ["toor"]


@pytest.mark.parametrize(
    "path",
    [
        "/usr/bin/su",
        "/usr/bin/passwd",
        "/usr/bin/sudo",
        "/usr/bin/ssh-agent",
        "/usr/lib/openssh/ssh-keysign",
        "/usr/lib/dbus-1.0/dbus-daemon-launch-helper",
        "/usr/sbin/unix_chkpwd",
        "/usr/lib/x86_64-linux-gnu/utempter/utempter",
    ],
)
def test_default_allow_covers_the_debian_set(path):
    assert sc.compile_allow(sc.DEFAULT_ALLOW["suid_sgid"]).match(path)


def test_findings_cap_counts_and_allow():
    found = sc.Findings(["suid_sgid"], {"suid_sgid": ["/usr/bin/su"]}, limit=2)
    for path in ("/usr/bin/su", "/a", "/b", "/c"):
        found.add("suid_sgid", "path", path, "SUID file 4755")
    assert found.items["suid_sgid"] == [
        {"path": "/a", "detail": "SUID file 4755"},
        {"path": "/b", "detail": "SUID file 4755"},
    ]
    assert found.counts == {"suid_sgid": 3}
    assert found.allowed == {"suid_sgid": 1}


# ----------------------------------------------------------------------------- the walk
def make_walk(*, checks=sc.FILE_CHECKS, allow=None, skip=None, deadline=float("inf"), clock=None, owners=None):
    findings = sc.Findings(checks, allow or {}, limit=100)
    uid_known = owners or (lambda _uid: True)
    return sc.Walk(
        findings,
        uid_known=uid_known,
        gid_known=lambda _gid: True,
        skip=skip or {},
        deadline=deadline,
        **({"clock": clock} if clock else {}),
    )


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "open").mkdir()
    (tmp_path / "open").chmod(0o777)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp").chmod(0o1777)
    (tmp_path / "tmp" / "shared").write_text("x")
    (tmp_path / "tmp" / "shared").chmod(0o666)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "helper").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "helper").chmod(0o4755)
    (tmp_path / "bin" / "link").symlink_to("/etc/passwd")
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "secret").write_text("x")
    (tmp_path / "proc" / "secret").chmod(0o666)
    return tmp_path


def paths(walk, check):
    return sorted(item["path"] for item in walk.findings.items[check])


def test_walk_collects_the_three_file_checks_in_one_pass(tree):
    walk = make_walk(skip={str(tree / "proc"): "proc"}).run([str(tree)])
    assert paths(walk, "world_writable") == [str(tree / "open"), str(tree / "tmp" / "shared")]
    assert paths(walk, "suid_sgid") == [str(tree / "bin" / "helper")]
    assert paths(walk, "unowned") == []
    assert walk.skipped_mounts == [{"path": str(tree / "proc"), "fstype": "proc"}]
    # root, open, tmp, tmp/shared, bin, bin/helper, bin/link, proc (not what is under it)
    assert walk.scanned == 8
    assert not walk.incomplete


def test_walk_does_not_follow_symlinks(tree):
    (tree / "bin" / "dirlink").symlink_to(tree / "open")
    walk = make_walk(skip={str(tree / "proc"): "proc"}).run([str(tree)])
    assert str(tree / "bin" / "dirlink") not in paths(walk, "world_writable")
    assert walk.scanned == 9


def test_walk_reports_unknown_owners_once_looked_up(tree):
    asked = []

    def uid_known(uid):
        asked.append(uid)
        return False

    walk = make_walk(checks=["unowned"], owners=uid_known).run([str(tree / "bin")])
    assert paths(walk, "unowned") == [str(tree / "bin"), str(tree / "bin" / "helper"), str(tree / "bin" / "link")]
    assert asked == [os.getuid()]


def test_walk_runs_only_the_checks_asked(tree):
    walk = make_walk(checks=["suid_sgid"]).run([str(tree)])
    assert set(walk.findings.items) == {"suid_sgid"}


def test_walk_skips_a_root_on_a_skipped_mount(tree):
    walk = make_walk(skip={str(tree / "proc"): "proc"}).run([str(tree / "proc" / "secret")])
    assert walk.scanned == 0
    assert walk.skipped_mounts == [{"path": str(tree / "proc" / "secret"), "fstype": "proc"}]


def test_walk_stops_at_the_deadline_and_says_where(tree):
    ticks = itertools.count(1)
    walk = make_walk(deadline=0.5, clock=lambda: next(ticks)).run([str(tree), "/never"])
    assert walk.incomplete
    assert walk.stopped_at == str(tree)
    assert walk.scanned == 1  # the root itself


def test_walk_checks_the_clock_within_a_large_directory(tree, monkeypatch):
    monkeypatch.setattr(sc.Walk, "CLOCK_EVERY", 2)
    clock = iter([0, 10])
    walk = make_walk(deadline=5, clock=lambda: next(clock)).run([str(tree)])
    assert walk.incomplete
    assert walk.scanned == 3  # the root and two entries


class GoneEntry:
    """A DirEntry whose file was removed between the listing and the lstat."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)

    def stat(self, follow_symlinks=True):
        raise FileNotFoundError(2, "No such file or directory", self.path)


def test_walk_passes_over_entries_that_vanish(tree, monkeypatch):
    real = os.scandir

    class Listing:
        def __init__(self, path):
            self.entries = [*real(path), GoneEntry(os.path.join(path, "gone"))]

        def __enter__(self):
            return iter(self.entries)

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(sc.os, "scandir", Listing)
    walk = make_walk(skip={str(tree / "proc"): "proc"}).run([str(tree)])
    assert paths(walk, "suid_sgid") == [str(tree / "bin" / "helper")]
    assert walk.scanned == 8


def test_walk_counts_a_directory_it_cannot_list(tree):
    walk = make_walk().run([str(tree / "missing"), str(tree / "bin")])
    assert walk.errors == 1
    assert paths(walk, "suid_sgid") == [str(tree / "bin" / "helper")]


# ----------------------------------------------------------------------------- accounts
PASSWD = """\
root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000::/home/alice:/bin/bash
"""
SHADOW = "root:$y$j9T$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nalice:!:19000:0:99999:7:::\n"
GROUP = "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nalice:x:1000:\n"
GSHADOW = "root:*::\ndaemon:*::\nshadow:*::\nalice:!::\n"


def accounts(passwd=PASSWD, shadow=SHADOW, group=GROUP, gshadow=GSHADOW):
    return sc.account_findings(passwd, shadow, group, gshadow)


def test_account_findings_clean():
    assert accounts() == []


@pytest.mark.parametrize(
    "passwd, shadow, group, gshadow, expected",
    [
        (
            PASSWD + "bob:x:1000:1000::/home/bob:/bin/bash\n",
            SHADOW + "bob:!:19000::::::\n",
            GROUP,
            GSHADOW,
            [("uid 1000", "duplicate UID shared by alice, bob")],
        ),
        (
            PASSWD + "alice:x:1001:1000::/home/alice:/bin/bash\n",
            SHADOW,
            GROUP,
            GSHADOW,
            [("alice", "duplicate user name: 2 entries in /etc/passwd")],
        ),
        (
            PASSWD,
            SHADOW,
            GROUP + "staff:x:1000:\n",
            GSHADOW,
            [("gid 1000", "duplicate GID shared by alice, staff")],
        ),
        (
            PASSWD,
            SHADOW,
            GROUP + "alice:x:1001:\n",
            GSHADOW,
            [("alice", "duplicate group name: 2 entries in /etc/group")],
        ),
        (
            PASSWD + "toor:x:0:0::/root:/bin/bash\n",
            SHADOW,
            GROUP,
            GSHADOW,
            [("toor", "UID 0 but not root: root must be the only UID 0 account")],
        ),
        (
            PASSWD,
            SHADOW.replace("alice:!:", "alice::"),
            GROUP,
            GSHADOW,
            [("alice", "empty password field in /etc/shadow")],
        ),
        (
            PASSWD.replace("alice:x:", "alice::"),
            SHADOW,
            GROUP,
            GSHADOW,
            [("alice", "password field in /etc/passwd empty: not shadowed")],
        ),
        (
            PASSWD.replace("alice:x:", "alice:$1$salt$hash:"),
            SHADOW,
            GROUP,
            GSHADOW,
            [("alice", "password field in /etc/passwd not 'x': not shadowed")],
        ),
        (
            PASSWD + "carol:x:1002:2000::/home/carol:/bin/sh\n",
            SHADOW,
            GROUP,
            GSHADOW,
            [("carol", "primary group 2000 is not in /etc/group")],
        ),
        (
            PASSWD,
            SHADOW,
            GROUP.replace("shadow:x:42:", "shadow:x:42:alice"),
            GSHADOW.replace("shadow:*::", "shadow:*::daemon"),
            [("shadow", "member of the shadow group: alice"), ("shadow", "member of the shadow group: daemon")],
        ),
        (
            PASSWD.replace("alice:x:1000:1000:", "alice:x:1000:42:"),
            SHADOW,
            GROUP,
            GSHADOW,
            [("alice", "primary group is shadow")],
        ),
        (
            PASSWD + "broken:x:abc:1\n",
            SHADOW,
            GROUP,
            GSHADOW,
            [("/etc/passwd:4", "malformed entry in /etc/passwd")],
        ),
    ],
)
def test_account_findings(passwd, shadow, group, gshadow, expected):
    assert accounts(passwd, shadow, group, gshadow) == expected


def test_account_findings_without_shadow_files():
    assert accounts(shadow=None, gshadow=None) == []


def test_account_findings_skip_comments_and_blank_lines():
    assert accounts(passwd="# local\n\n" + PASSWD) == []


def test_account_findings_name_the_files_given():
    found = sc.account_findings(
        PASSWD, SHADOW.replace("alice:!:", "alice::"), GROUP, GSHADOW, {"shadow": "/tmp/shadow"}
    )
    assert found == [("alice", "empty password field in /tmp/shadow")]


def test_known_ids():
    assert sc.known_ids(PASSWD + "bad:x:nope:1\n") == {0, 1, 1000}


def test_finding_line_and_summary():
    items = [{"path": f"/srv/{n}", "detail": "file 0666"} for n in range(7)]
    assert sc.finding_line("world_writable", items[0]) == "world-writable: /srv/0 (file 0666)"
    assert sc.finding_line("accounts", {"name": "toor", "detail": "x"}) == "accounts: toor (x)"
    text = sc.summary("world_writable", items, 9)
    assert text.startswith("world_writable: 9 unexpected findings: /srv/0 (file 0666), /srv/1")
    assert text.endswith(", and 4 more")
    assert sc.summary("suid_sgid", items[:1], 1) == "suid_sgid: 1 unexpected finding: /srv/0 (file 0666)"


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, 1000),
        ("UID_MIN 500\nUID_MIN\t2000\n", 2000),  # the last line wins
        ('UID_MIN "1500"\n', 1500),  # quotes skipped, as getdef does
        ("UID_MIN 0100\n", 64),  # a leading 0 is octal
        ("UID_MIN 500\nUID_MIN 2000abc\n", 1000),  # the last value is not a number: shadow's default
        ("# UID_MIN 500\n", 1000),
    ],
)
def test_uid_min_reads_login_defs_as_getdef(text, expected):
    assert sc.uid_min(text) == expected

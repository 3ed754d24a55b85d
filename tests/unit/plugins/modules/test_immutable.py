# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _immutable as im
from ansible_collections.bulwark.hardening.plugins.modules import immutable
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)


@pytest.fixture
def app(monkeypatch, tmp_path):
    """A small tree, with inode flags faked in a dict (no CAP_LINUX_IMMUTABLE needed)."""
    patch_exits(monkeypatch)
    store = {}

    def key(fd):
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino)

    monkeypatch.setattr(im, "get_flags", lambda fd: store.get(key(fd), 0))
    monkeypatch.setattr(im, "set_flags", lambda fd, flags: store.__setitem__(key(fd), flags))
    root = tmp_path / "app"
    (root / "lib").mkdir(parents=True)
    (root / "log").mkdir()
    for rel in ["index.php", "lib/a.php", "log/x.log"]:
        (root / rel).write_text("x\n")
    return root


def call(args, check=False, diff=False):
    args = {**args, "_ansible_check_mode": check, "_ansible_diff": diff}
    with patch_module_args(args), pytest.raises((ExitJson, FailJson)) as info:
        immutable.main()
    return info.value.args[0]


def test_lock_then_idempotent(app):
    first = call({"path": str(app), "exclude": ["log"]})
    assert first["changed"] is True
    assert first["changed_paths"] == {"locked": 4, "unlocked": 0, "attributes": 0}
    second = call({"path": str(app), "exclude": ["log"]})
    assert second["changed"] is False
    assert second["changed_paths"] == {"locked": 0, "unlocked": 0, "attributes": 0}


def test_check_mode_reports_the_drifted_path_in_the_diff(app):
    call({"path": str(app)})
    call({"path": str(app / "lib/a.php"), "state": "unlocked"})
    result = call({"path": str(app)}, check=True, diff=True)
    assert result["changed"] is True
    assert result["paths"]["locked"] == [f"{app}/lib/a.php"]
    assert result["diff"]["before"] == f"{app}/lib/a.php: unlocked\n"
    assert result["diff"]["after"] == f"{app}/lib/a.php: locked\n"
    # Check mode changed nothing.
    assert call({"path": str(app)}, check=True)["changed_paths"]["locked"] == 1


def test_unlock_of_a_missing_path_is_not_an_error(app):
    result = call({"path": str(app / "nothing"), "state": "unlocked"})
    assert result["changed"] is False
    assert result["exists"] is False


def test_lock_of_a_missing_path_fails_naming_it(app):
    result = call({"path": str(app / "nothing")})
    assert result["msg"] == f"{app}/nothing: no such file or directory; nothing to lock"


def test_check_mode_on_a_missing_path_reports_a_change(app):
    result = call({"path": str(app / "nothing")}, check=True)
    assert result["changed"] is True
    assert result["changed_paths"]["locked"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"exclude": ["/etc"]}, "exclude entry /etc is outside the tree"),
        ({"mode": "0948"}, "mode must be an octal string such as '0440', not '0948'"),
        ({"dir_mode": True}, "dir_mode must be an octal string"),
        ({"mode": "17777"}, "mode must be between 0000 and 7777"),
        ({"owner": "no-such-user-bulwark"}, "owner 'no-such-user-bulwark' does not exist on this host"),
        ({"group": "no-such-group-bulwark"}, "group 'no-such-group-bulwark' does not exist on this host"),
    ],
)
def test_bad_input_is_refused_by_name_before_anything_changes(app, args, message):
    result = call({"path": str(app), **args})
    assert message in result["msg"]
    assert result["changed"] is False
    assert call({"path": str(app)}, check=True)["changed_paths"]["locked"] == 6


def test_unsupported_file_system_names_the_path(app, monkeypatch):
    def no_flags(fd):
        raise OSError(errno.ENOTTY, os.strerror(errno.ENOTTY))

    monkeypatch.setattr(im, "get_flags", no_flags)
    result = call({"path": str(app)})
    assert result["msg"].startswith(f"{app}: the file system does not support the immutable")
    assert result["changed"] is False


def test_failure_midway_reports_the_changes(app, monkeypatch):
    real_set = im.set_flags
    count = []

    def set_flags(fd, flags):
        if len(count) == 2:
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))
        count.append(1)
        real_set(fd, flags)

    monkeypatch.setattr(im, "set_flags", set_flags)
    result = call({"path": str(app)})
    assert "CAP_LINUX_IMMUTABLE" in result["msg"]
    assert "stopped after changing 2 entries" in result["msg"]
    assert result["changed"] is True
    assert result["changed_paths"]["locked"] == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0440", 0o440), ("440", 0o440), (0o550, 0o550), (None, None), ("4755", 0o4755)],
)
def test_parse_mode(value, expected):
    assert immutable.parse_mode(value, "mode") == expected


def test_follow_locks_the_target_of_a_symlink_root(app, tmp_path):
    link = tmp_path / "current"
    link.symlink_to(app / "lib")
    assert call({"path": str(link)})["msg"] == f"{link} is a symlink; it is never followed"
    result = call({"path": str(link), "follow": True})
    assert result["root"] == str(app / "lib")
    assert result["changed_paths"]["locked"] == 2


def mountinfo(tmp_path, monkeypatch, *points):
    """A fake /proc/self/mountinfo listing ``points`` (spaces escaped as the kernel does)."""
    path = tmp_path / "mountinfo"
    path.write_text(
        "".join(f"{n} 1 0:{n} / {p.replace(' ', chr(92) + '040')} rw - ext4 /dev/x rw\n" for n, p in enumerate(points))
    )
    monkeypatch.setattr(immutable, "MOUNTINFO", str(path))


def test_a_mount_over_a_locked_file_is_drift_and_refused(app, tmp_path, monkeypatch):
    call({"path": str(app), "exclude": ["log"]})
    mountinfo(tmp_path, monkeypatch, "/", str(app), f"{app}/index.php", f"{app}/log/spool")
    checked = call({"path": str(app), "exclude": ["log"]}, check=True, diff=True)
    # The tree's own root and a mount in an excluded directory are fine.
    assert checked["changed"] is True and checked["mounts"] == [f"{app}/index.php"]
    assert f"{app}/index.php: a mount over the tree\n" in checked["diff"]["before"]
    refused = call({"path": str(app), "exclude": ["log"]})
    assert refused["msg"].startswith(f"{app}/index.php: mounted over the locked tree {app}")


def test_unlocking_ignores_mounts(app, tmp_path, monkeypatch):
    mountinfo(tmp_path, monkeypatch, f"{app}/index.php")
    result = call({"path": str(app), "state": "unlocked"})
    assert "msg" not in result and result["mounts"] == []


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (["/", "/var/www/app", "/var/www/application"], []),
        (["/var/www/app/a b/c"], ["/var/www/app/a b/c"]),
        (["/var/www/app/log", "/var/www/app/log/x", "/var/www/app/lib"], ["/var/www/app/lib"]),
    ],
)
def test_mounts_below(points, expected):
    exclude = im.compile_patterns(im.relative_patterns("/var/www/app", ["log"]))
    assert im.mounts_below("/var/www/app", points, exclude) == expected


def test_parse_mountinfo_decodes_escapes():
    text = "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 - ext3 /dev/root rw\n"
    assert im.parse_mountinfo(text) == ["/mnt two"]

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import grp
import os
import pwd
import stat
from types import SimpleNamespace

import pytest

from ansible_collections.bulwark.hardening.plugins.modules import file_modes as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def info(mode, uid, gid):
    return SimpleNamespace(st_mode=mode, st_uid=uid, st_gid=gid)


def run(files, check=False, expect=ExitJson):
    args = {"files": files, "_ansible_check_mode": check, "_ansible_diff": True}
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


@pytest.mark.parametrize(
    ("current", "maximum", "expected"),
    [(0o644, 0o640, 0o640), (0o600, 0o640, None), (0o777, 0o644, 0o644), (0o4755, 0o755, 0o755), (0o640, 0o640, None)],
)
def test_only_the_bits_beyond_the_maximum_are_removed(current, maximum, expected):
    assert mod.planned(info(stat.S_IFREG | current, 0, 0), 0, [0], maximum) == (expected, None, None)


def test_a_group_among_the_acceptable_ones_is_kept_and_another_replaced():
    assert mod.planned(info(0o100640, 0, 42), 0, [42, 0], 0o640) == (None, None, None)
    assert mod.planned(info(0o100640, 0, 7), 0, [42, 0], 0o640) == (None, None, 42)


@pytest.mark.parametrize("bad", ["0999", "rw-r--r--", "", "17777"])
def test_a_mode_that_is_not_octal_is_refused_by_its_value(bad):
    with pytest.raises(ValueError, match=repr(bad).replace("-", r"\-")):
        mod.parse_mode(bad)


def test_a_loose_file_is_restricted_a_strict_one_kept_a_missing_one_named(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    loose, strict = tmp_path / "shadow", tmp_path / "passwd"
    loose.write_text("x")
    strict.write_text("x")
    loose.chmod(0o644)
    strict.chmod(0o600)
    files = [
        {"path": str(loose), "owner": ME, "group": MY_GROUP, "mode": "0640"},
        {"path": str(strict), "owner": ME, "group": MY_GROUP, "mode": "0644"},
        {"path": str(tmp_path / "opasswd"), "owner": ME, "group": MY_GROUP, "mode": "0600"},
    ]
    checked = run(files, check=True)
    assert checked["changed"] and checked["changed_files"] == [str(loose)]
    assert stat.S_IMODE(loose.stat().st_mode) == 0o644, "check mode changed the file"
    assert "0644" in checked["diff"]["before"] and "0640" in checked["diff"]["after"]
    result = run(files)
    assert result["changed_files"] == [str(loose)] and result["absent"] == [str(tmp_path / "opasswd")]
    assert stat.S_IMODE(loose.stat().st_mode) == 0o640 and stat.S_IMODE(strict.stat().st_mode) == 0o600
    assert run(files)["changed"] is False


def test_an_unknown_owner_is_refused_by_its_name(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    result = run([{"path": str(tmp_path), "owner": "no-such-user-x", "mode": "0755"}], expect=FailJson)
    assert "no user 'no-such-user-x'" in result["msg"]


def test_a_pattern_covers_the_files_it_matches_never_a_directory(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    sources = tmp_path / "sources.list.d"
    sources.mkdir()
    (sources / "debian.sources").write_text("x")
    (sources / "site.list").write_text("x")
    (sources / "sub").mkdir()
    (sources / "debian.sources").chmod(0o664)
    (sources / "site.list").chmod(0o644)
    (sources / "sub").chmod(0o755)
    (sources / "link.list").symlink_to(sources / "site.list")  # 0777 as a link: its mode is not judged
    files = [
        {"path": str(sources / "*"), "owner": ME, "group": MY_GROUP, "mode": "0644"},
        {"path": str(tmp_path / "auth.conf.d" / "*"), "owner": ME, "group": MY_GROUP, "mode": "0640"},
    ]
    result = run(files)
    assert result["changed_files"] == [str(sources / "debian.sources")]
    assert result["absent"] == [], "a pattern that matches nothing is not a missing file"
    assert stat.S_IMODE((sources / "debian.sources").stat().st_mode) == 0o644
    assert stat.S_IMODE((sources / "sub").stat().st_mode) == 0o755, "a directory lost its search bits"
    assert run(files)["changed"] is False


def test_a_pattern_above_the_last_component_is_refused(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    result = run([{"path": str(tmp_path / "*" / "x"), "owner": ME, "group": MY_GROUP, "mode": "0644"}], expect=FailJson)
    assert "only the last component may be a pattern" in result["msg"]


def test_a_symlink_s_own_mode_is_never_a_change():
    assert mod.planned(info(stat.S_IFLNK | 0o777, 0, 0), 0, [0], 0o644) == (None, None, None)


def test_a_file_two_entries_reach_is_the_first_entry_s(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    (tmp_path / "key.gpg").write_text("x")
    (tmp_path / "key.gpg").chmod(0o640)
    files = [
        {"path": str(tmp_path / "key.gpg"), "owner": ME, "group": MY_GROUP, "mode": "0644"},
        {"path": str(tmp_path / "*"), "owner": ME, "group": MY_GROUP, "mode": "0600"},
    ]
    assert run(files)["changed"] is False
    assert stat.S_IMODE((tmp_path / "key.gpg").stat().st_mode) == 0o640

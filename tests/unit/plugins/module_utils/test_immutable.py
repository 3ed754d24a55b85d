# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import json
import os
import stat
import struct
import subprocess
import sys
import types

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _immutable as im

EXTENTS = 0x80000  # ext4's "e": must survive every change


@pytest.fixture
def fake_flags(monkeypatch):
    """Inode flags kept in a dict keyed by inode (no CAP_LINUX_IMMUTABLE needed)."""
    store = {}

    def key(fd):
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino)

    def get_flags(fd):
        return store.get(key(fd), EXTENTS)

    def set_flags(fd, flags):
        store[key(fd)] = flags

    monkeypatch.setattr(im, "get_flags", get_flags)
    monkeypatch.setattr(im, "set_flags", set_flags)

    def of(path):
        st = os.lstat(path)
        return store.get((st.st_dev, st.st_ino), EXTENTS)

    return of


@pytest.fixture
def tree(tmp_path):
    """app/{index.php, lib/a.php, lib/deep/b.php, bin/run.sh, log/x.log, upload/u/f} + a symlink and a FIFO."""
    app = tmp_path / "app"
    for rel in ["index.php", "lib/a.php", "lib/deep/b.php", "bin/run.sh", "log/x.log", "upload/u/f"]:
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text("x\n")
        (app / rel).chmod(0o644)
    (app / "link").symlink_to("/etc/passwd")
    os.mkfifo(app / "fifo")
    return app


@pytest.mark.parametrize(
    ("current", "bit", "lock", "expected"),
    [
        (0, im.FS_IMMUTABLE_FL, True, 0x10),
        (0x10, im.FS_IMMUTABLE_FL, True, 0x10),
        (EXTENTS, im.FS_IMMUTABLE_FL, True, EXTENTS | 0x10),
        (EXTENTS | 0x10, im.FS_IMMUTABLE_FL, False, EXTENTS),
        (EXTENTS | 0x10 | 0x20, im.FS_IMMUTABLE_FL, False, EXTENTS | 0x20),
        (EXTENTS | 0x10, im.FS_APPEND_FL, True, EXTENTS | 0x30),
        (0x20, im.FS_APPEND_FL, False, 0),
    ],
)
def test_wanted_flags_touches_one_bit_only(current, bit, lock, expected):
    assert im.wanted_flags(current, bit, lock) == expected


def test_ioctl_numbers_match_the_kernel_headers():
    if im._LONG == 8:
        assert (im.FS_IOC_GETFLAGS, im.FS_IOC_SETFLAGS) == (0x80086601, 0x40086602)
    else:
        assert (im.FS_IOC_GETFLAGS, im.FS_IOC_SETFLAGS) == (0x80046601, 0x40046602)


@pytest.mark.parametrize(
    ("exclude", "expected"),
    [
        (["log", "upload/"], ["log", "upload"]),
        (["/srv/app/log", "/srv/app/cache/*"], ["log", "cache/*"]),
        (["*.tmp"], ["*.tmp"]),
    ],
)
def test_relative_patterns(exclude, expected):
    assert im.relative_patterns("/srv/app", exclude) == expected


@pytest.mark.parametrize(
    ("exclude", "message"),
    [
        (["/etc/passwd"], "exclude entry /etc/passwd is outside the tree /srv/app"),
        (["/srv/application"], "is outside the tree /srv/app"),
        (["../html"], "exclude entry ../html is outside the tree"),
        (["/srv/app"], "is the tree /srv/app itself"),
        (["."], "or is the tree itself"),
        ([""], "is empty"),
    ],
)
def test_relative_patterns_refuse_entries_outside_the_tree(exclude, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("*", r"\*")):
        im.relative_patterns("/srv/app", exclude)


@pytest.mark.parametrize(
    ("errno_", "action", "text"),
    [
        (errno.EOPNOTSUPP, "read flags", "does not support the immutable/append-only flags"),
        (errno.ENOTTY, "read flags", "does not support the immutable/append-only flags"),
        (errno.EPERM, "set flags", "CAP_LINUX_IMMUTABLE"),
        (errno.ENOENT, "open", "no such file or directory"),
        (errno.EACCES, "open", "cannot open"),
    ],
)
def test_explain_names_the_path_and_the_cause(errno_, action, text):
    msg = im.explain(OSError(errno_, os.strerror(errno_)), "/srv/app/x", action)
    assert msg.startswith("/srv/app/x: ")
    assert text in msg


def test_lock_walks_the_tree_skips_special_files_and_keeps_other_flags(tree, fake_flags):
    plan = im.Plan(lock=True, exclude=im.compile_patterns(["log", "upload"]))
    walk = im.run(str(tree), plan)
    locked = ["", "index.php", "lib", "lib/a.php", "lib/deep", "lib/deep/b.php", "bin", "bin/run.sh"]
    assert walk.counts == {"locked": len(locked), "unlocked": 0, "attributes": 0}
    assert walk.passed == 2  # the symlink and the FIFO
    for rel in locked:
        assert fake_flags(tree / rel) == EXTENTS | im.FS_IMMUTABLE_FL, rel
    for rel in ["log", "log/x.log", "upload", "upload/u/f"]:
        assert fake_flags(tree / rel) == EXTENTS, rel
    # The symlink's target was never touched.
    assert (tree / "link").is_symlink()
    # Second run: nothing to do.
    again = im.run(str(tree), plan)
    assert again.counts == {"locked": 0, "unlocked": 0, "attributes": 0}
    assert again.seen == len(locked) + 2  # the two excluded roots are looked at, not below them


def test_check_counts_and_changes_nothing(tree, fake_flags):
    walk = im.run(str(tree), im.Plan(lock=True, file_mode=0o440, dir_mode=0o550), check=True)
    assert walk.counts["locked"] == 13
    assert walk.counts["attributes"] == 13
    assert fake_flags(tree / "index.php") == EXTENTS
    assert stat.S_IMODE(os.stat(tree / "index.php").st_mode) == 0o644


def test_excluded_root_is_unlocked_when_locking(tree, fake_flags):
    im.run(str(tree), im.Plan(lock=True))  # everything locked, like `chattr -R +i .`
    walk = im.run(str(tree), im.Plan(lock=True, exclude=im.compile_patterns(["log", "upload"])))
    assert walk.counts == {"locked": 0, "unlocked": 2, "attributes": 0}
    assert sorted(walk.samples["unlocked"]) == [f"{tree}/log", f"{tree}/upload"]


def test_unlock_clears_only_the_flag(tree, fake_flags):
    im.run(str(tree), im.Plan(lock=True))
    walk = im.run(str(tree), im.Plan(lock=False))
    assert walk.counts["unlocked"] == 13
    assert fake_flags(tree / "lib/deep/b.php") == EXTENTS


def test_modes_dirs_files_and_executables(tree, fake_flags):
    plan = im.Plan(
        lock=True,
        file_mode=0o440,
        dir_mode=0o550,
        exec_mode=0o550,
        executables=im.compile_patterns(["bin/*.sh"]),
        exclude=im.compile_patterns(["log", "upload"]),
    )
    walk = im.run(str(tree), plan)
    assert walk.counts["attributes"] == 8
    names = ["", "lib", "index.php", "bin/run.sh", "log/x.log"]
    modes = {rel: stat.S_IMODE(os.stat(tree / rel).st_mode) for rel in names}
    assert modes == {"": 0o550, "lib": 0o550, "index.php": 0o440, "bin/run.sh": 0o550, "log/x.log": 0o644}
    for rel in ["", "lib"]:
        os.chmod(tree / rel, 0o755)  # let pytest clean up


def test_exec_mode_alone_is_applied(tree, fake_flags):
    # No owner, group or other mode: the executables still get theirs (it was ignored).
    plan = im.Plan(lock=False, exec_mode=0o500, executables=im.compile_patterns(["bin/*.sh"]))
    walk = im.run(str(tree), plan)
    assert walk.counts["attributes"] == 1
    assert stat.S_IMODE(os.stat(tree / "bin/run.sh").st_mode) == 0o500
    assert stat.S_IMODE(os.stat(tree / "index.php").st_mode) == 0o644


def test_mode_change_on_a_locked_entry_unlocks_changes_and_relocks(tree, fake_flags, monkeypatch):
    calls = []
    real_set = im.set_flags
    monkeypatch.setattr(im, "set_flags", lambda fd, flags: (calls.append(flags), real_set(fd, flags)))
    im.run(str(tree / "index.php"), im.Plan(lock=True))
    calls.clear()
    walk = im.run(str(tree / "index.php"), im.Plan(lock=True, file_mode=0o400))
    assert walk.counts == {"locked": 0, "unlocked": 0, "attributes": 1}
    assert calls == [EXTENTS, EXTENTS | im.FS_IMMUTABLE_FL]
    assert stat.S_IMODE(os.stat(tree / "index.php").st_mode) == 0o400


def test_failure_midway_reports_what_was_changed(tree, fake_flags, monkeypatch):
    real_set = im.set_flags
    done = []

    def set_flags(fd, flags):
        if len(done) == 3:
            raise OSError(errno.EPERM, "Operation not permitted")
        done.append(flags)
        real_set(fd, flags)

    monkeypatch.setattr(im, "set_flags", set_flags)
    with pytest.raises(im.ImmutableError) as info:
        im.run(str(tree), im.Plan(lock=True))
    assert info.value.changes == {"locked": 3, "unlocked": 0, "attributes": 0}
    assert "CAP_LINUX_IMMUTABLE" in str(info.value)
    assert info.value.path.startswith(str(tree))


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_root_must_be_a_file_or_directory(tree, fake_flags, kind):
    path = tree / ("link" if kind == "symlink" else "fifo")
    with pytest.raises(im.ImmutableError, match=r"symlink; it is never followed|neither a regular file"):
        im.run(str(path), im.Plan(lock=True))


def test_missing_root_names_the_path(tmp_path, fake_flags):
    with pytest.raises(im.ImmutableError, match="/nothing: no such file or directory"):
        im.run(str(tmp_path / "nothing"), im.Plan(lock=True))


@pytest.fixture
def kernel(monkeypatch):
    """FS_IOC_GETFLAGS/FS_IOC_SETFLAGS faked at fcntl.ioctl, so get_flags/set_flags really run."""
    store = {}

    def ioctl(fd, request, arg, mutate_flag=True):
        # A mutable buffer, written back: given bytes, fcntl.ioctl raises and clears a TypeError.
        assert isinstance(arg, bytearray) and len(arg) == im._LONG and mutate_flag
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        if request == im.FS_IOC_GETFLAGS:
            struct.pack_into("i", arg, 0, store.get(key, EXTENTS))
        elif request == im.FS_IOC_SETFLAGS:
            store[key] = struct.unpack_from("i", arg)[0]
        else:
            raise OSError(errno.ENOTTY, os.strerror(errno.ENOTTY))
        return 0

    monkeypatch.setattr(im.fcntl, "ioctl", ioctl)
    return store


def test_get_and_set_flags_pass_an_int_in_a_buffer(tree, kernel):
    fd = os.open(tree / "index.php", im.OPEN_FLAGS)
    try:
        assert im.get_flags(fd) == EXTENTS
        im.set_flags(fd, EXTENTS | im.FS_IMMUTABLE_FL)
        assert im.get_flags(fd) == EXTENTS | im.FS_IMMUTABLE_FL
        im.set_flags(fd, -0x80000000)  # the top bit, as the kernel's signed int holds it
        assert im.get_flags(fd) == -0x80000000
    finally:
        os.close(fd)


def _outcome(walk, root):
    samples = {kind: sorted(os.path.relpath(p, root) for p in paths) for kind, paths in walk.samples.items()}
    return walk.counts, samples, walk.seen, walk.passed


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("exclude", [None, ["log", "upload/u"]])
@pytest.mark.parametrize("lock", [True, False])
def test_flag_only_entries_are_walked_like_managed_ones(tree, kernel, lock, exclude, check):
    """Walk.flag() (the flag alone) and Walk.apply() (owner managed) agree on every entry."""
    kernel[(os.lstat(tree / "lib").st_dev, os.lstat(tree / "lib").st_ino)] = EXTENTS | im.FS_IMMUTABLE_FL
    start = dict(kernel)
    runs = {}
    for name, uid in [("flag", -1), ("apply", os.getuid())]:  # the owner it already has: no chown
        kernel.clear()
        kernel.update(start)
        plan = im.Plan(lock=lock, uid=uid, exclude=im.compile_patterns(exclude))
        runs[name] = (_outcome(im.run(str(tree), plan, check=check), tree), dict(kernel))
    assert runs["flag"] == runs["apply"]
    (counts, _samples, _seen, passed), after = runs["flag"]
    assert passed == 2
    assert (after == start) is (check or not any(counts.values()))


def test_samples_name_the_first_paths_and_count_all(tmp_path, kernel):
    for i in range(im.SAMPLE + 10):
        (tmp_path / f"f{i:02d}").write_text("x\n")
    walk = im.run(str(tmp_path), im.Plan(lock=True))
    assert walk.counts["locked"] == im.SAMPLE + 11
    assert len(walk.samples["locked"]) == im.SAMPLE
    assert walk.samples["locked"][0] == str(tmp_path)
    assert all(os.path.dirname(p) == str(tmp_path) for p in walk.samples["locked"][1:])


def test_entries_of_the_root_directory_are_named_with_one_slash(tmp_path, kernel):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hosts").write_text("x\n")
    walk = im.Walk(im.Plan(lock=True))
    fd = os.open(tmp_path, im.OPEN_FLAGS)
    try:
        walk.tree(fd, "/", "")  # as run("/") would call it: the names are joined to "/"
    finally:
        os.close(fd)
    assert walk.samples["locked"] == ["/etc", "/etc/hosts"]


def test_executables_are_matched_without_exclude_patterns(tree, kernel):
    plan = im.Plan(lock=True, file_mode=0o440, exec_mode=0o550, executables=im.compile_patterns(["bin/*.sh"]))
    im.run(str(tree), plan)
    modes = {rel: stat.S_IMODE(os.stat(tree / rel).st_mode) for rel in ["index.php", "bin/run.sh", "lib/deep/b.php"]}
    assert modes == {"index.php": 0o440, "bin/run.sh": 0o550, "lib/deep/b.php": 0o440}


def test_a_failure_below_the_root_names_the_entry_and_what_changed(tree, kernel, monkeypatch):
    bad = os.lstat(tree / "lib/deep/b.php").st_ino
    real_get = im.get_flags

    def get_flags(fd):
        if os.fstat(fd).st_ino == bad:
            raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
        return real_get(fd)

    monkeypatch.setattr(im, "get_flags", get_flags)
    with pytest.raises(im.ImmutableError) as info:
        im.run(str(tree), im.Plan(lock=True))
    assert info.value.path == f"{tree}/lib/deep/b.php"
    assert str(info.value).startswith(f"{tree}/lib/deep/b.php: the file system does not support")
    locked = sum(1 for key, flags in kernel.items() if flags & im.FS_IMMUTABLE_FL)
    assert info.value.changes == {"locked": locked, "unlocked": 0, "attributes": 0}


def test_an_entry_swapped_for_a_symlink_after_the_listing_is_passed_over(tree, kernel, monkeypatch):
    real_open = os.open

    def open_(name, flags, mode=0o777, *, dir_fd=None):
        if name == "index.php" and dir_fd is not None:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))  # what O_NOFOLLOW gives
        return real_open(name, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(im.os, "open", open_)
    walk = im.run(str(tree), im.Plan(lock=True))
    assert walk.passed == 3
    assert f"{tree}/index.php" not in walk.samples["locked"]
    assert walk.counts["locked"] == 12


# --- The APT hook (the same file, installed as /usr/local/sbin/bulwark-immutable) -----------------


@pytest.fixture
def hook(tmp_path, tree, kernel, monkeypatch):
    """A host for the hook: the tree locked except log/ and upload/, dpkg owning app/lib/a.php."""
    im.run(str(tree), im.Plan(lock=True, exclude=im.compile_patterns(["log", "upload"])))
    # The state file as the role writes it: the plan's hook_state.
    declared = {"path": str(tree), "writable": ["log"], "exclude": [f"{tree}/upload"]}
    plan = im.role_plan({"immutable_trees": [declared], "immutable_paths": [], "forbidden": ["/var/lib/dpkg"]})
    assert plan["errors"] == []
    (tmp_path / "state.json").write_text(json.dumps(plan["hook_state"]))
    record = str(tmp_path / "record" / "dpkg-unlocked.json")
    owned = {str(tree / "lib" / "a.php")}
    monkeypatch.setattr(im, "RECORD", record)
    monkeypatch.setattr(im, "package_paths", lambda: owned)
    return types.SimpleNamespace(state=str(tmp_path / "state.json"), record=record, tree=tree, owned=owned)


def flags_of(kernel, path):
    st = os.lstat(path)
    return kernel.get((st.st_dev, st.st_ino), EXTENTS)


def locked_entries(tree, kernel):
    entries = [tree, *tree.rglob("*")]
    return sorted(str(p.relative_to(tree)) for p in entries if flags_of(kernel, p) & im.FS_IMMUTABLE_FL)


def test_hook_unlocks_a_package_tree_for_dpkg_and_relocks_exactly_it(hook, kernel, capsys):
    before = locked_entries(hook.tree, kernel)
    assert "lib/a.php" in before and not any(p.startswith(("log", "upload")) for p in before)
    assert im.main(["pre-dpkg", hook.state]) == 0
    assert locked_entries(hook.tree, kernel) == []
    assert json.loads(open(hook.record).read()) == json.loads(open(hook.state).read())["paths"]
    assert f"unlocked {hook.tree} for dpkg ({len(before)} entries)" in capsys.readouterr().err
    assert im.main(["post-dpkg", hook.state]) == 0
    assert locked_entries(hook.tree, kernel) == before
    assert not os.path.exists(hook.record)


def test_hook_leaves_an_open_update_window_and_foreign_trees_alone(hook, kernel):
    im.run(str(hook.tree), im.Plan(lock=False))  # playbooks/unlock.yml opened a window
    assert im.main(["pre-dpkg", hook.state]) == 0
    assert not os.path.exists(hook.record)  # nothing to relock: the window stays open
    im.run(str(hook.tree), im.Plan(lock=True))
    hook.owned.clear()  # the tree belongs to no package
    assert im.main(["pre-dpkg", hook.state]) == 0
    assert flags_of(kernel, hook.tree / "lib" / "a.php") & im.FS_IMMUTABLE_FL


def test_hook_record_survives_a_crash_and_post_dpkg_relocks(hook, kernel, monkeypatch):
    def crash(*_args):
        raise OSError(errno.EIO, "I/O error")

    with monkeypatch.context() as patched:
        patched.setattr(im, "hook_apply", crash)
        assert im.main(["pre-dpkg", hook.state]) == 1
    assert os.path.exists(hook.record)  # written before the unlock that failed
    im.run(str(hook.tree), im.Plan(lock=False))  # as if the crash had unlocked it
    assert im.main(["post-dpkg", hook.state]) == 0
    assert flags_of(kernel, hook.tree / "lib" / "a.php") & im.FS_IMMUTABLE_FL


def test_hook_refuses_a_path_apt_or_dpkg_needs(tmp_path, kernel, capsys):
    entry = {"path": "/var/lib/dpkg/info", "exclude": []}
    assert im.hook_apply(entry, False, ["/var/lib/dpkg"]) == 0
    assert "refusing /var/lib/dpkg/info" in capsys.readouterr().err
    assert im.under_never_locked("/var", ["/var/lib/dpkg"])  # holds one
    assert not im.under_never_locked("/var/lib/dpkgx", ["/var/lib/dpkg"])


def test_package_paths_reads_dpkg_lists_and_ucf(tmp_path):
    (tmp_path / "info").mkdir()
    (tmp_path / "info" / "apache2.list").write_text("/.\n/etc/apache2\n/etc/apache2/apache2.conf\n")
    (tmp_path / "hashfile").write_text("d41d8cd98f00b204e9800998ecf8427e  /etc/php/8.2/apache2/php.ini\n\n")
    paths = im.package_paths(str(tmp_path / "info" / "*.list"), str(tmp_path / "hashfile"))
    assert paths == {"/.", "/etc/apache2", "/etc/apache2/apache2.conf", "/etc/php/8.2/apache2/php.ini"}
    assert im.belongs_to_packages("/etc/apache2/", paths)
    assert im.belongs_to_packages("/etc/php", paths)
    assert not im.belongs_to_packages("/var/www/app", paths)


@pytest.mark.parametrize("argv", [[], ["lock"], ["status", "a", "b"]])
def test_hook_usage_errors_are_2(argv, capsys):
    assert im.main(argv) == 2
    assert "usage: bulwark-immutable" in capsys.readouterr().err


def test_hook_status_lists_each_declared_path(hook, kernel, capsys):
    assert im.main(["status", hook.state]) == 0
    assert capsys.readouterr().out == f"locked   {hook.tree}\n"


def test_hook_runs_as_a_script_with_the_standard_library_only(tmp_path):
    # As APT runs it: a copy of the file, no collection on sys.path, a missing state file is no work.
    script = tmp_path / "bulwark-immutable"
    script.write_bytes(open(im.__file__, "rb").read())
    done = subprocess.run(
        [sys.executable, "-I", str(script), "status", str(tmp_path / "missing.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _rollback
from ansible_collections.bulwark.hardening.plugins.modules import config_file as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

UID, GID = os.getuid(), os.getgid()
OLD = "Port 22\nPasswordAuthentication yes\n"
NEW = "Port 22\nPasswordAuthentication no\n"


def fake_stat(uid=0, gid=0, mode=0o100644):
    return os.stat_result((mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    "text, info, expected",
    [
        (None, None, ["missing"]),
        (NEW, fake_stat(), []),
        (OLD, fake_stat(), ["content"]),
        (NEW, fake_stat(uid=1), ["owner"]),
        (NEW, fake_stat(gid=4), ["owner"]),
        (NEW, fake_stat(mode=0o100600), ["mode"]),
        (NEW, fake_stat(mode=0o104644), ["mode"]),  # setuid counts
        (OLD, fake_stat(uid=1, mode=0o100600), ["content", "owner", "mode"]),
    ],
)
def test_differences(text, info, expected):
    assert mod.differences(text, info, NEW, (0, 0), 0o644) == expected


@pytest.fixture
def host(monkeypatch, tmp_path):
    """/etc/ssh/sshd_config under tmp_path, the rollback's state dir beside it; the validator,
    systemd-run and systemctl faked. Each call is recorded with what dest held at that moment."""
    patch_exits(monkeypatch)
    etc = tmp_path / "etc" / "ssh"
    etc.mkdir(parents=True)
    dest = etc / "sshd_config"
    dest.write_text(OLD)
    dest.chmod(0o644)
    state = tmp_path / "state"
    monkeypatch.setitem(_rollback.arm.__kwdefaults__, "state_dir", str(state))
    calls = []
    answers = {}

    def run_command(module, argv, **kwargs):
        assert isinstance(argv, list)
        seen = {"argv": argv, "dest": dest.read_text() if dest.exists() else None}
        if argv[0] == "/usr/sbin/sshd":
            seen["candidate"] = open(argv[-1], encoding="utf-8").read()
            seen["candidate_mode"] = stat.S_IMODE(os.stat(argv[-1]).st_mode)
        calls.append(seen)
        return answers.get(os.path.basename(argv[0]), (0, "", ""))

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    # Only systemd's tools: backup_local() finds no lsattr and runs nothing.
    found = {"systemd-run": "/usr/bin/systemd-run", "systemctl": "/usr/bin/systemctl"}
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: found.get(name))
    return type("Host", (), {"dest": dest, "etc": etc, "state": state, "calls": calls, "answers": answers})()


def run(args, expect=ExitJson):
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def args(host, **extra):
    return {"dest": str(host.dest), "content": NEW, "owner": str(UID), "group": str(GID), **extra}


ROLLBACK = {"what": "sshd configuration", "actions": ["systemctl reload ssh.service"]}


def test_unchanged_file_changes_nothing_and_arms_nothing(host):
    host.dest.write_text(NEW)
    result = run(args(host, mode="0644", rollback=ROLLBACK, validate="/usr/sbin/sshd -t -f %s", _ansible_diff=True))
    assert result["changed"] is False
    assert result["changes"] == []
    assert "diff" not in result
    assert "rollback" not in result
    assert host.calls == []
    assert not host.state.exists()


def test_check_mode_reports_the_diff_and_touches_nothing(host):
    result = run(
        args(host, rollback=ROLLBACK, validate="/usr/sbin/sshd -t -f %s", _ansible_check_mode=True, _ansible_diff=True)
    )
    assert result["changed"] is True
    assert result["changes"] == ["content"]
    assert result["diff"] == {
        "before": OLD,
        "after": NEW,
        "before_header": str(host.dest),
        "after_header": str(host.dest),
    }
    assert host.dest.read_text() == OLD
    assert host.calls == []
    assert not host.state.exists()
    assert os.listdir(host.etc) == ["sshd_config"]


def test_a_refused_file_is_never_installed_and_nothing_is_armed(host):
    host.answers["sshd"] = (255, "", "/etc/ssh/x line 2: Bad configuration option: Nonsense\n")
    result = run(args(host, rollback=ROLLBACK, backup=True, validate="/usr/sbin/sshd -t -f %s"), FailJson)
    assert result["msg"].startswith(f"/usr/sbin/sshd refused the new {host.dest}, which was not installed: ")
    assert result["msg"].endswith("Bad configuration option: Nonsense")
    assert result["rc"] == 255
    assert host.dest.read_text() == OLD
    assert [call["argv"][:3] for call in host.calls] == [["/usr/sbin/sshd", "-t", "-f"]]
    assert host.calls[0]["candidate"] == NEW
    assert not host.state.exists()
    assert os.listdir(host.etc) == ["sshd_config"]  # no candidate, no backup left behind


def test_success_arms_before_the_replace(host):
    result = run(args(host, mode="0600", rollback=ROLLBACK, backup=True, validate="/usr/sbin/sshd -t -f %s"))

    assert result["changed"] is True
    assert result["changes"] == ["content", "mode"]
    assert host.dest.read_text() == NEW
    info = host.dest.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert (info.st_uid, info.st_gid) == (UID, GID)
    # The daemon checked the candidate as it would be installed.
    validate, systemd_run = host.calls
    assert validate["candidate"] == NEW
    assert validate["candidate_mode"] == 0o600
    assert os.path.dirname(validate["argv"][-1]) == str(host.etc)
    # The timer was started while the old file was still in place, and it saved the old file.
    assert systemd_run["argv"][0] == "/usr/bin/systemd-run"
    assert systemd_run["dest"] == OLD
    assert (host.state / "armed" / "files" / "0").read_text() == OLD
    manifest = json.loads((host.state / "armed" / "manifest.json").read_text())
    assert manifest["what"] == ["sshd configuration"]
    assert manifest["actions"] == ["systemctl reload ssh.service"]
    assert result["rollback"]["armed"] is True
    assert result["rollback"]["files"] == [str(host.dest)]
    assert result["ansible_facts"] == {"bulwark_rollback": result["rollback"]}
    # The backup holds the old file; nothing else is left next to dest.
    assert open(result["backup_file"], encoding="utf-8").read() == OLD
    assert sorted(os.listdir(host.etc)) == sorted(["sshd_config", os.path.basename(result["backup_file"])])


def test_without_rollback_nothing_is_armed(host):
    result = run(args(host))
    assert result["changed"] is True
    assert host.dest.read_text() == NEW
    assert "rollback" not in result
    assert "backup_file" not in result
    assert host.calls == []
    assert not host.state.exists()


def test_arm_false_reports_the_change_unconfirmed(host):
    result = run(args(host, rollback={"arm": False}))
    assert result["rollback"] == {"armed": False, "unconfirmed": [str(host.dest)]}
    assert host.dest.read_text() == NEW
    assert host.calls == []


def test_a_missing_file_is_created_and_armed_as_absent(host):
    dest = host.etc / "sshd_config.d" / "bulwark.conf"
    dest.parent.mkdir()
    result = run(args(host, dest=str(dest), backup=True, rollback=ROLLBACK, _ansible_diff=True))
    assert result["changes"] == ["missing"]
    assert result["diff"]["before"] == ""
    assert dest.read_text() == NEW
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert "backup_file" not in result
    manifest = json.loads((host.state / "armed" / "manifest.json").read_text())
    assert manifest["files"] == [{"path": str(dest), "saved": None}]


def test_a_symlink_is_followed(host):
    link = host.etc / "link"
    link.symlink_to(host.dest)
    result = run(args(host, dest=str(link), rollback=ROLLBACK))
    assert result["dest"] == str(host.dest)
    assert link.is_symlink()
    assert host.dest.read_text() == NEW


def test_a_failed_arm_installs_nothing(host):
    host.answers["systemd-run"] = (1, "", "Failed to connect to bus\n")
    result = run(args(host, rollback=ROLLBACK), FailJson)
    assert result["msg"] == "cannot arm the rollback timer: Failed to connect to bus; nothing was changed"
    assert host.dest.read_text() == OLD
    assert os.listdir(host.etc) == ["sshd_config"]


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"mode": "rw-r--r--"}, "mode must be an octal string such as 0644, got 'rw-r--r--'"),
        ({"validate": "/usr/sbin/sshd -t"}, "validate must contain %s, got '/usr/sbin/sshd -t'"),
        ({"owner": "no-such-user-bulwark"}, "unknown owner or group: "),
    ],
)
def test_bad_arguments_are_named(host, extra, message):
    result = run(args(host, **extra), FailJson)
    assert result["msg"].startswith(message)
    assert host.dest.read_text() == OLD
    assert os.listdir(host.etc) == ["sshd_config"]


def test_missing_directory_is_named(host):
    dest = host.etc / "nowhere" / "file"
    result = run(args(host, dest=str(dest)), FailJson)
    assert result["msg"] == f"the directory of {dest} does not exist (parents=true creates it)"


def test_content_is_required_to_write(host):
    result = run({"dest": str(host.dest)}, FailJson)
    assert result["msg"] == "content or data is required with dest and state=present"
    assert host.dest.read_text() == OLD


# --- state=absent


def test_absent_removes_the_file_without_validating_it(host):
    result = run(args(host, state="absent", validate="/usr/sbin/sshd -t -f %s", backup=True, _ansible_diff=True))
    assert result["changed"] is True
    assert result["changes"] == ["present"]
    assert result["diff"] == {
        "before": OLD,
        "after": "",
        "before_header": str(host.dest),
        "after_header": str(host.dest),
    }
    assert not host.dest.exists()
    assert os.listdir(host.etc) == []  # no backup, no candidate
    assert host.calls == []


def test_absent_in_check_mode_reports_and_keeps_the_file(host):
    result = run({"dest": str(host.dest), "state": "absent", "_ansible_check_mode": True})
    assert result["changed"] is True
    assert result["changes"] == ["present"]
    assert host.dest.read_text() == OLD


def test_absent_file_or_directory_is_already_absent(host):
    dest = host.etc / "conf.d" / "bulwark.conf"
    result = run({"dest": str(dest), "state": "absent", "_ansible_diff": True})
    assert result == {"changed": False, "dest": str(dest), "changes": []}


def test_absent_removes_a_symlink_not_its_target(host):
    link = host.etc / "link"
    link.symlink_to(host.dest)
    result = run({"dest": str(link), "state": "absent"})
    assert result["dest"] == str(link)
    assert not os.path.lexists(link)
    assert host.dest.read_text() == OLD


def test_absent_removes_a_dangling_symlink(host):
    link = host.etc / "dangling"
    link.symlink_to(host.etc / "gone")
    result = run({"dest": str(link), "state": "absent", "_ansible_diff": True})
    assert result["changes"] == ["present"]
    assert result["diff"]["before"] == ""
    assert not os.path.lexists(link)


def test_absent_refuses_a_directory(host):
    result = run({"dest": str(host.etc), "state": "absent"}, FailJson)
    assert result["msg"] == f"{host.etc} is a directory; state=absent removes a file"
    assert host.dest.read_text() == OLD


def test_absent_refuses_a_rollback(host):
    result = run({"dest": str(host.dest), "state": "absent", "rollback": ROLLBACK}, FailJson)
    assert result["msg"] == "rollback is not supported with state=absent"
    assert host.dest.read_text() == OLD
    assert not host.state.exists()


# --- files: several files in one call


def three(host, **first):
    """A helper, its data and its hook (the immutable role's APT hook has this shape)."""
    sbin = host.etc.parent / "sbin"
    sbin.mkdir(exist_ok=True)
    return [
        {
            "dest": str(sbin / "helper"),
            "content": "#!/usr/bin/python3\n",
            "owner": str(UID),
            "group": str(GID),
            **first,
        },
        {"dest": str(host.etc / "state.json"), "content": '{"paths": []}\n', "owner": str(UID), "group": str(GID)},
        {"dest": str(host.dest), "content": NEW, "owner": str(UID), "group": str(GID)},
    ]


def test_files_are_written_and_each_reports_its_change(host):
    files = three(host, mode="0755")
    result = run({"files": files, "_ansible_diff": True})
    assert result["changed"] is True
    assert result["files"] == [
        {"dest": files[0]["dest"], "changed": True, "changes": ["missing"]},
        {"dest": files[1]["dest"], "changed": True, "changes": ["missing"]},
        {"dest": files[2]["dest"], "changed": True, "changes": ["content"]},
    ]
    assert [d["after_header"] for d in result["diff"]] == [f["dest"] for f in files]
    assert result["diff"][2]["before"] == OLD
    for wanted in files:
        assert open(wanted["dest"], encoding="utf-8").read() == wanted["content"]
    assert stat.S_IMODE(os.stat(files[0]["dest"]).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(files[1]["dest"]).st_mode) == 0o644
    assert "dest" not in result and "backup_file" not in result
    assert host.calls == []

    again = run({"files": files, "_ansible_diff": True})
    assert again["changed"] is False
    assert [entry["changes"] for entry in again["files"]] == [[], [], []]
    assert "diff" not in again


def test_files_only_the_changed_one_is_touched_and_diffed(host):
    files = three(host)
    run({"files": files})
    os.chmod(files[1]["dest"], 0o600)
    before = os.stat(files[0]["dest"]).st_ino, os.stat(files[2]["dest"]).st_ino
    result = run({"files": files, "_ansible_diff": True})
    assert [entry["changed"] for entry in result["files"]] == [False, True, False]
    assert result["files"][1]["changes"] == ["mode"]
    assert "diff" not in result  # a mode is no content to diff
    assert stat.S_IMODE(os.stat(files[1]["dest"]).st_mode) == 0o644
    assert (os.stat(files[0]["dest"]).st_ino, os.stat(files[2]["dest"]).st_ino) == before


def test_files_in_check_mode_report_and_write_nothing(host):
    files = three(host)
    result = run({"files": files, "_ansible_check_mode": True, "_ansible_diff": True})
    assert result["changed"] is True
    assert [entry["changes"] for entry in result["files"]] == [["missing"], ["missing"], ["content"]]
    assert len(result["diff"]) == 3
    assert os.listdir(host.etc.parent / "sbin") == []
    assert os.listdir(host.etc) == ["sshd_config"]
    assert host.dest.read_text() == OLD


def test_files_in_check_mode_on_a_fresh_host_do_not_need_the_directories(host):
    files = three(host)
    files[1]["dest"] = str(host.etc / "facts.d" / "state.json")
    result = run({"files": files, "_ansible_check_mode": True})
    assert result["files"][1] == {"dest": files[1]["dest"], "changed": True, "changes": ["missing"]}


def test_files_a_missing_directory_stops_the_call_before_any_write(host):
    files = three(host)
    files[2]["dest"] = str(host.etc / "nowhere" / "file")
    result = run({"files": files}, FailJson)
    assert result["msg"] == f"files[2]: the directory of {files[2]['dest']} does not exist (parents=true creates it)"
    assert os.listdir(host.etc.parent / "sbin") == []
    assert sorted(os.listdir(host.etc)) == ["sshd_config"]


def test_files_name_the_entry_in_their_errors(host):
    files = three(host, mode="rwxr-xr-x")
    result = run({"files": files}, FailJson)
    assert result["msg"] == "files[0]: mode must be an octal string such as 0644, got 'rwxr-xr-x'"
    files = three(host, owner="no-such-user-bulwark")
    assert run({"files": files}, FailJson)["msg"].startswith("files[0]: unknown owner or group: ")
    files = three(host)
    files[1]["dest"] = str(host.etc / "link")
    (host.etc / "link").symlink_to(host.dest)
    result = run({"files": files}, FailJson)
    assert result["msg"] == f"files[2]: {host.dest} is also files[1]"
    assert host.dest.read_text() == OLD


@pytest.mark.parametrize(
    "extra",
    [
        {"dest": "/etc/x"},
        {"content": "x"},
        {"state": "absent"},
        {"mode": "0600"},
        {"validate": "/usr/sbin/sshd -t -f %s"},
        {"backup": True},
        {"rollback": ROLLBACK},
    ],
)
def test_files_refuse_the_single_file_options(host, extra):
    result = run({"files": three(host), **extra}, FailJson)
    assert result["msg"] == f"parameters are mutually exclusive: files|{next(iter(extra))}"
    assert host.dest.read_text() == OLD


def test_dest_or_files_is_required(host):
    result = run({"content": NEW}, FailJson)
    assert result["msg"] == "one of the following is required: dest, files"


# --- data: JSON written by the module


def test_data_is_written_as_to_nice_json_lays_it_out(host):
    dest = host.etc / "state.fact"
    data = {"paths": [{"path": "/srv/app", "exclude": []}], "managed_by": "x"}
    result = run({"dest": str(dest), "data": data, "owner": str(UID), "group": str(GID)})
    assert result["changes"] == ["missing"]
    expected = '{\n    "managed_by": "x",\n    "paths": [\n        {\n            "exclude": [],\n'
    expected += '            "path": "/srv/app"\n        }\n    ]\n}\n'
    assert dest.read_text() == expected
    assert run({"dest": str(dest), "data": data, "owner": str(UID), "group": str(GID)})["changed"] is False


def test_files_take_data_and_refuse_it_beside_content(host):
    files = three(host)
    files[1] = {"dest": files[1]["dest"], "data": {"paths": []}, "owner": str(UID), "group": str(GID)}
    run({"files": files})
    assert json.loads(open(files[1]["dest"], encoding="utf-8").read()) == {"paths": []}
    files[1]["content"] = "{}\n"
    result = run({"files": files}, FailJson)
    assert result["msg"].startswith("parameters are mutually exclusive: content|data")
    del files[1]["content"], files[1]["data"]
    result = run({"files": files}, FailJson)
    assert result["msg"] == "files[1]: content or data is required with state=present"


def test_data_or_content_is_required_to_write(host):
    result = run({"dest": str(host.dest), "content": NEW, "data": {}}, FailJson)
    assert result["msg"] == "parameters are mutually exclusive: content|data"


def test_files_with_parents_create_the_missing_directories_first(host):
    files = three(host)
    files[1]["dest"] = str(host.etc / "a" / "b" / "state.json")
    result = run({"files": files, "parents": True})
    assert result["files"][1] == {"dest": files[1]["dest"], "changed": True, "changes": ["missing"]}
    assert open(files[1]["dest"], encoding="utf-8").read() == files[1]["content"]
    for directory in (host.etc / "a", host.etc / "a" / "b"):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o755
    assert run({"files": files, "parents": True})["changed"] is False


def test_files_with_parents_in_check_mode_create_nothing(host):
    files = three(host)
    files[1]["dest"] = str(host.etc / "a" / "state.json")
    result = run({"files": files, "parents": True, "_ansible_check_mode": True})
    assert result["files"][1]["changes"] == ["missing"]
    assert not (host.etc / "a").exists()


def test_single_file_with_parents(host):
    dest = host.etc / "facts.d" / "bulwark.fact"
    result = run(
        {"dest": str(dest), "data": {"managed_by": "x"}, "owner": str(UID), "group": str(GID), "parents": True}
    )
    assert result["changes"] == ["missing"] and json.loads(dest.read_text()) == {"managed_by": "x"}


def test_files_remove_the_entries_marked_absent(host):
    files = three(host)
    run({"files": files})
    files[1] = {"dest": files[1]["dest"], "state": "absent"}
    result = run({"files": files, "_ansible_diff": True})
    assert result["files"][1] == {"dest": files[1]["dest"], "changed": True, "changes": ["present"]}
    assert not os.path.exists(files[1]["dest"])
    assert [entry["changed"] for entry in result["files"]] == [False, True, False]
    assert run({"files": files})["changed"] is False

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _rollback
from ansible_collections.bulwark.hardening.plugins.modules import login_defs as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

TODAY = 20794  # 2026-12-07
LOGIN_DEFS = """# /etc/login.defs
MAIL_DIR        /var/mail
PASS_MAX_DAYS\t99999
PASS_MIN_DAYS\t0
PASS_WARN_AGE\t7
UID_MIN\t\t\t 1000
UMASK\t\t022
"""
LOGIN_DEFS_AFTER = """# /etc/login.defs
MAIL_DIR        /var/mail
PASS_MAX_DAYS\t365
PASS_MIN_DAYS\t1
PASS_WARN_AGE\t7
UID_MIN\t\t\t 1000
UMASK\t\t027
ENCRYPT_METHOD\tYESCRYPT
"""
USERADD = "# useradd defaults file\nSHELL=/bin/sh\n"
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "admin:x:1000:1000::/home/admin:/bin/bash\n"
    "alice:x:1001:1001::/home/alice:/bin/bash\n"
    "keyonly:x:1002:1002::/home/keyonly:/bin/bash\n"
)
SHADOW = (
    f"root:$y$r:{TODAY - 900}:0:99999:7:::\n"
    f"admin:$y$a:{TODAY - 10}:0:99999:7:::\n"
    f"alice:$y$b:{TODAY - 20}:0:99999:7:::\n"
    "keyonly:!:0:0:99999:7:::\n"
)
SETTINGS = {"PASS_MAX_DAYS": 365, "PASS_MIN_DAYS": 1, "PASS_WARN_AGE": 7, "ENCRYPT_METHOD": "YESCRYPT", "UMASK": "027"}
ROLLBACK = {"what": "password ageing"}


class Host:
    """A fake root under tmp_path; chage, systemd-run and systemctl faked (chage edits the fake /etc/shadow)."""

    def __init__(self, root, monkeypatch):
        self.root = root
        (root / "etc" / "default").mkdir(parents=True)
        self.defs = root / "etc" / "login.defs"
        self.useradd = root / "etc" / "default" / "useradd"
        self.shadow = root / "etc" / "shadow"
        self.passwd = root / "etc" / "passwd"
        self.defs.write_text(LOGIN_DEFS)
        self.defs.chmod(0o644)
        self.useradd.write_text(USERADD)
        self.useradd.chmod(0o600)
        self.shadow.write_text(SHADOW)
        self.passwd.write_text(PASSWD)
        self.state = root / "state"
        self.calls = []
        self.answers = {}
        monkeypatch.setitem(_rollback.arm.__kwdefaults__, "state_dir", str(self.state))
        monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda _module, argv, **kw: self.run_command(argv))
        found = {"chage": "/usr/bin/chage", "systemd-run": "/usr/bin/systemd-run", "systemctl": "/usr/bin/systemctl"}
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda _self, name, *a, **k: found.get(name))

    def run_command(self, argv):
        assert isinstance(argv, list)
        name = os.path.basename(argv[0])
        self.calls.append({"argv": argv, "defs": self.defs.read_text()})
        if name in self.answers:
            return self.answers[name]
        if name == "chage":
            self.chage(argv[1:])
        return 0, "", ""

    def chage(self, args):
        """What chage does to the fake /etc/shadow."""
        assert args[:2] == ["--root", str(self.root)]
        user, options = args[-1], dict(zip(args[2:-1:2], args[3:-1:2]))
        index = {"--mindays": 3, "--maxdays": 4, "--warndays": 5, "--inactive": 6}
        lines = []
        for line in self.shadow.read_text().splitlines():
            fields = line.split(":")
            if fields[0] == user:
                for option, value in options.items():
                    fields[index[option]] = "" if value == "-1" else value
            lines.append(":".join(fields))
        self.shadow.write_text("\n".join(lines) + "\n")

    def chage_calls(self):
        return [call["argv"][3:] for call in self.calls if call["argv"][0] == "/usr/bin/chage"]

    def args(self, **extra):
        return {"settings": SETTINGS, "inactive": 45, "protect": ["admin"], "root": str(self.root), **extra}


@pytest.fixture
def host(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    monkeypatch.setattr(mod, "today", lambda: TODAY)
    return Host(tmp_path, monkeypatch)


def run(args, expect=ExitJson, check=False, diff=True):
    with (
        patch_module_args({**args, "_ansible_check_mode": check, "_ansible_diff": diff}),
        pytest.raises(expect) as caught,
    ):
        mod.main()
    return caught.value.args[0]


AFTER = {"max": 365, "min": 1, "warn": 7, "inactive": 45}
BEFORE = {"max": 99999, "min": 0, "warn": 7, "inactive": None}


def test_check_mode_reports_everything_and_changes_nothing(host):
    result = run(host.args(), check=True)
    assert result["changed"] is True
    assert host.defs.read_text() == LOGIN_DEFS
    assert host.useradd.read_text() == USERADD
    assert host.shadow.read_text() == SHADOW
    assert host.calls == []
    assert result["accounts"] == {
        "admin": {"before": BEFORE, "after": AFTER},
        "alice": {"before": BEFORE, "after": AFTER},
    }
    assert result["effective"] == {
        "PASS_MAX_DAYS": "99999", "PASS_MIN_DAYS": "0", "PASS_WARN_AGE": "7", "ENCRYPT_METHOD": None, "UMASK": "022",
        "INACTIVE": -1,
    }  # fmt: skip
    assert result["uid_min"] == 1000
    assert result["skipped_accounts"] == {} and result["findings"] == [] and result["not_applicable"] == {}
    defs_diff, useradd_diff, accounts_diff = result["diff"]
    assert defs_diff == {
        "before_header": str(host.defs),
        "after_header": str(host.defs),
        "before": LOGIN_DEFS,
        "after": LOGIN_DEFS_AFTER,
    }
    assert useradd_diff["after"] == USERADD + "INACTIVE=45\n"
    assert accounts_diff["before"] == (
        "admin: max 99999, min 0, warn 7, inactive (none)\nalice: max 99999, min 0, warn 7, inactive (none)\n"
    )
    assert (
        accounts_diff["after"]
        == "admin: max 365, min 1, warn 7, inactive 45\nalice: max 365, min 1, warn 7, inactive 45\n"
    )
    assert "rollback" not in result
    # Ansible reads these keys of a result itself ("skipped" as a skipped task).
    assert not {"skipped", "failed", "unreachable", "results", "rc"} & set(result)


def test_real_run_edits_in_place_runs_chage_and_is_idempotent(host):
    result = run(host.args(rollback=ROLLBACK))
    assert result["changed"] is True
    assert host.defs.read_text() == LOGIN_DEFS_AFTER
    assert stat.S_IMODE(host.defs.stat().st_mode) == 0o644
    assert host.useradd.read_text() == USERADD + "INACTIVE=45\n"
    assert stat.S_IMODE(host.useradd.stat().st_mode) == 0o600  # the mode it had
    assert host.chage_calls() == [
        ["--maxdays", "365", "--mindays", "1", "--inactive", "45", "admin"],
        ["--maxdays", "365", "--mindays", "1", "--inactive", "45", "alice"],
    ]
    assert f"admin:$y$a:{TODAY - 10}:1:365:7:45::" in host.shadow.read_text()
    assert result["effective"]["PASS_MAX_DAYS"] == "365" and result["effective"]["INACTIVE"] == 45
    assert not [name for name in os.listdir(host.root / "etc") if name.startswith(".")]

    # The rollback was armed before the first write, over the files that change.
    (arm, *_rest) = host.calls
    assert arm["argv"][0] == "/usr/bin/systemd-run" and arm["defs"] == LOGIN_DEFS
    manifest = json.loads((host.state / "armed" / "manifest.json").read_text())
    assert [entry["path"] for entry in manifest["files"]] == [str(host.defs), str(host.useradd), str(host.shadow)]
    assert (host.state / "armed" / "files" / "2").read_text() == SHADOW
    assert result["rollback"]["armed"] is True and manifest["what"] == ["password ageing"]

    host.calls.clear()
    again = run(host.args(rollback=ROLLBACK))
    assert again["changed"] is False and host.calls == [] and "diff" not in again and again["accounts"] == {}
    assert run(host.args(), check=True)["changed"] is False


def test_a_protected_user_that_would_be_locked_out_fails_the_call_before_anything_is_written(host):
    host.shadow.write_text(SHADOW.replace(f"admin:$y$a:{TODAY - 10}:", f"admin:$y$a:{TODAY - 400}:"))
    for check in (True, False):
        result = run(host.args(rollback=ROLLBACK), FailJson, check=check)
        assert result["msg"] == (
            "admin is protected (the connection's user) and new password ageing would lock it out: its password"
            " (last changed 2025-11-02) would have expired on 2026-11-02 with max 365 days; set a new password for"
            " it (passwd admin), or record today as its last change (chage -d 2026-12-07 admin), or leave its"
            " ageing alone with exclude: [admin]"
        )
    assert host.calls == []
    assert host.defs.read_text() == LOGIN_DEFS and host.useradd.read_text() == USERADD
    assert not host.state.exists()


def test_a_protected_user_excluded_is_left_alone(host):
    host.shadow.write_text(SHADOW.replace(f"admin:$y$a:{TODAY - 10}:", f"admin:$y$a:{TODAY - 400}:"))
    result = run(host.args(protect=[], exclude=["admin"]))
    assert result["skipped_accounts"] == {"admin": "left as it is: excluded (option exclude)"}
    assert set(result["accounts"]) == {"alice"}


def test_another_user_that_would_be_locked_out_is_skipped_and_keeps_its_ageing(host):
    host.shadow.write_text(SHADOW.replace(f"alice:$y$b:{TODAY - 20}:", "alice:$y$b:0:"))
    result = run(host.args())
    assert result["skipped_accounts"] == {
        "alice": "left as it is: new ageing would lock it out today - its last password change is 0: the password"
        " must be changed at the next login"
    }
    assert set(result["accounts"]) == {"admin"}
    assert [call[-1] for call in host.chage_calls()] == ["admin"]
    assert "alice:$y$b:0:0:99999:7:::" in host.shadow.read_text()


def test_a_protected_user_with_last_change_0_fails(host):
    host.shadow.write_text(SHADOW.replace(f"admin:$y$a:{TODAY - 10}:", "admin:$y$a:0:"))
    result = run(host.args(), FailJson)
    assert "admin is protected" in result["msg"] and "its last password change is 0" in result["msg"]
    assert host.calls == []


def test_stricter_values_are_kept(host):
    host.shadow.write_text(
        SHADOW.replace(f"alice:$y$b:{TODAY - 20}:0:99999:7:::", f"alice:$y$b:{TODAY - 20}:3:90:14:30::")
    )
    result = run(host.args())
    assert set(result["accounts"]) == {"admin"}
    assert f"alice:$y$b:{TODAY - 20}:3:90:14:30::" in host.shadow.read_text()


def test_findings_are_reported_never_fixed(host):
    host.shadow.write_text(SHADOW + f"future:$y$f:{TODAY + 3}:1:365:7:45::\nnopass::{TODAY}:0:99999:7:::\n")
    result = run(host.args(accounts=False))
    assert result["findings"] == [
        {"user": "future", "control": "5.4.1.6", "message": "last password change 2026-12-10 is in the future"},
        {"user": "nopass", "control": "7.2.2", "message": "empty password field: no password asked"},
    ]
    assert result["accounts"] == {} and host.chage_calls() == []


def test_inactive_null_leaves_useradd_and_the_inactive_field_alone(host):
    result = run(host.args(inactive=None))
    assert host.useradd.read_text() == USERADD
    assert "INACTIVE" not in result["effective"]
    assert host.chage_calls()[0] == ["--maxdays", "365", "--mindays", "1", "admin"]


def test_uid_min_from_the_file_selects_the_accounts(host):
    result = run(host.args(settings={**SETTINGS, "UID_MIN": 1001}), check=True)
    assert result["uid_min"] == 1001
    assert set(result["accounts"]) == {"alice"}


def test_no_shadow_is_not_applicable(host):
    host.shadow.unlink()
    result = run(host.args())
    assert result["not_applicable"] == {"accounts": f"no {host.shadow} here"}
    assert host.defs.read_text() == LOGIN_DEFS_AFTER


def test_a_chage_refusal_fails_naming_the_user(host):
    host.answers["chage"] = (1, "", "chage: user 'admin' does not exist in /etc/passwd\n")
    result = run(host.args(), FailJson)
    assert result["msg"] == "chage refused the ageing of admin: chage: user 'admin' does not exist in /etc/passwd"
    assert result["changed_users"] == []


def test_ageing_that_does_not_read_back_fails(host):
    host.answers["chage"] = (0, "", "")  # chage says yes but changes nothing
    result = run(host.args(), FailJson)
    assert result["msg"].startswith(f"{host.shadow}: the ageing of admin reads back {{'max': 99999")


def test_a_failed_arm_writes_nothing(host):
    host.answers["systemd-run"] = (1, "", "Failed to connect to bus")
    result = run(host.args(rollback=ROLLBACK), FailJson)
    assert result["msg"] == "cannot arm the rollback timer: Failed to connect to bus; nothing was changed"
    assert host.defs.read_text() == LOGIN_DEFS and host.chage_calls() == []


@pytest.mark.parametrize(
    "extra, words",
    [
        ({"settings": {"PASS_MAX_DAYS": "never"}}, "settings: PASS_MAX_DAYS must be a number, got 'never'"),
        ({"settings": {}, "inactive": None}, "settings is empty and inactive is not given"),
        ({"inactive": -2}, "inactive must be -1 (off) or more days, got -2"),
        ({"exclude": ["admin"]}, "admin in both protect and exclude"),
    ],
)
def test_bad_options_fail_naming_the_value(host, extra, words):
    result = run(host.args(**extra), FailJson)
    assert words in result["msg"]
    assert host.defs.read_text() == LOGIN_DEFS


def test_a_missing_login_defs_is_created(host):
    host.defs.unlink()
    run(host.args(settings={"PASS_MAX_DAYS": 365}, inactive=None, accounts=False))
    assert host.defs.read_text() == "PASS_MAX_DAYS\t365\n"
    assert stat.S_IMODE(host.defs.stat().st_mode) == 0o644

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.modules import sudo_defaults as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures")
WANTED = {"use_pty": True, "logfile": "/var/log/sudo.log", "timestamp_timeout": 15}
OURS = 'Defaults use_pty\nDefaults logfile="/var/log/sudo.log"\nDefaults timestamp_timeout=15\n'
# The files behind the "override" fixtures (as they were in the container).
LOCAL = """\
Defaults:root !use_pty, timestamp_timeout=30
Defaults logfile="/var/log/my sudo,log"
Defaults env_keep += "HOME EDITOR", env_keep -= "HOME"
Defaults>root lecture=always
Defaults!/usr/bin/id !requiretty
Defaults mailto="root@example.com", \\
    passprompt="pw, please: "
Defaults:admin timestamp_timeout=0
"""
SCOPED = """\
Defaults>root !use_pty
Defaults>ALL, !nobody timestamp_timeout=60
Defaults!/usr/bin/id, /usr/bin/who logfile=/tmp/x.log, !use_pty
Defaults!/bin/ls !use_pty
"""


def differ(user, name, wanted, effective, file, line, scope=""):  # noqa: PLR0917
    """One item of the module's differs list."""
    return {
        "user": user,
        "name": name,
        "wanted": wanted,
        "effective": effective,
        "scope": scope,
        "file": file,
        "line": line,
    }


def sample(case, release="bookworm"):
    with open(os.path.join(FIXTURES, f"sudo-l-{release}-{case}.txt"), encoding="utf-8") as handle:
        return handle.read()


class Host:
    """A sudoers tree in tmp_path and sudo's answers per user."""

    def __init__(self, tmp_path):
        self.sudoers = tmp_path / "sudoers"
        self.drop = tmp_path / "sudoers.d"
        self.drop.mkdir()
        self.sudoers.write_text("Defaults env_reset\nDefaults use_pty\n@includedir sudoers.d\n")
        (self.drop / "README").write_text("# see sudoers(5)\n")
        self.ours = self.drop / "bulwark-hardening"
        self.answers = {}
        self.calls = []
        self.warnings = []

    def run_command(self, args, **kwargs):
        assert isinstance(args, list), "run_command must get a list, never a shell string"
        assert kwargs.get("environ_update", {}).get("LC_ALL") == "C"
        self.calls.append(args)
        assert args[:4] == ["/usr/bin/sudo", "-n", "-l", "-U"]
        user = args[4]
        if user not in self.answers:
            return 1, "", f"sudo: unknown user {user}\n"
        return self.answers[user]


@pytest.fixture
def host(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    fake = Host(tmp_path)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", lambda module, args, **kw: fake.run_command(args, **kw))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda module, text: fake.warnings.append(text))
    monkeypatch.setattr(mod, "user_groups", lambda user: ["sudo"] if user == "admin" else [user])
    monkeypatch.setattr(mod.socket, "gethostname", lambda: "web1")
    return fake


def run(host, expect=ExitJson, **args):
    args = {"defaults": WANTED, "sudoers": str(host.sudoers), "ours": str(host.ours), **args}
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


@pytest.mark.parametrize("release", ["bookworm", "trixie"])
@pytest.mark.parametrize("check_mode", [False, True])
def test_hardened_host_has_no_difference(host, release, check_mode):
    host.ours.write_text(OURS)
    host.answers["root"] = (0, sample("ours-root", release), "")
    result = run(host, _ansible_check_mode=check_mode, _ansible_diff=True)
    assert result["changed"] is False
    assert result["differs"] == []
    assert result["effective"] == {"root": {"use_pty": True, "logfile": "/var/log/sudo.log", "timestamp_timeout": "15"}}
    assert "diff" not in result
    assert host.calls == [["/usr/bin/sudo", "-n", "-l", "-U", "root"]]


def override_host(host, release="bookworm"):
    host.ours.write_text(OURS)
    (host.drop / "zz-local").write_text(LOCAL)
    (host.drop / "zz-local.dpkg-old").write_text("Defaults timestamp_timeout=99\n")
    host.answers["root"] = (0, sample("override-root", release), "")
    host.answers["admin"] = (0, sample("override-admin", release), "")


@pytest.mark.parametrize("release", ["bookworm", "trixie"])
def test_override_is_named_with_its_file_and_line(host, release):
    override_host(host, release)
    result = run(host, users=["root", "admin"])
    local = str(host.drop / "zz-local")
    assert result["changed"] is False
    assert result["differs"] == [
        differ("root", "use_pty", True, False, local, 1),
        differ("root", "logfile", "/var/log/sudo.log", "/var/log/my sudo,log", local, 2),
        differ("root", "timestamp_timeout", 15, "30", local, 1),
        differ("admin", "logfile", "/var/log/sudo.log", "/var/log/my sudo,log", local, 2),
        differ("admin", "timestamp_timeout", 15, "0", local, 8),
    ]
    assert result["effective"]["admin"]["use_pty"] is True


def test_check_mode_reports_drift_with_a_diff(host):
    override_host(host)
    result = run(host, users=["admin"], _ansible_check_mode=True, _ansible_diff=True)
    local = str(host.drop / "zz-local")
    assert result["changed"] is True
    assert result["diff"]["before"] == (
        f"admin: logfile = /var/log/my sudo,log ({local}:2)\nadmin: timestamp_timeout = 0 ({local}:8)\n"
    )
    assert result["diff"]["after"] == "admin: logfile = /var/log/sudo.log\nadmin: timestamp_timeout = 15\n"


def test_check_mode_without_report_drift_changes_nothing(host):
    override_host(host)
    result = run(host, users=["admin"], report_drift=False, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is False
    assert "diff" not in result
    assert len(result["differs"]) == 2


@pytest.mark.parametrize("check_mode", [False, True])
def test_fail_on_override_names_the_file_and_line(host, check_mode):
    override_host(host)
    result = run(host, FailJson, fail_on_override=True, _ansible_check_mode=check_mode)
    local = str(host.drop / "zz-local")
    assert f"root: use_pty = false (wanted true) is set by {local} line 1" in result["msg"]
    assert f"root: timestamp_timeout = 30 (wanted 15) is set by {local} line 1" in result["msg"]
    assert result["msg"].endswith("remove or change it; bulwark.hardening never edits another file")
    assert len(result["differs"]) == 3


def test_our_own_file_is_no_override(host):
    host.ours.write_text("Defaults use_pty\nDefaults logfile=/var/log/old.log\nDefaults timestamp_timeout=15\n")
    answer = sample("ours-root").replace("logfile=/var/log/sudo.log", "logfile=/var/log/old.log")
    host.answers["root"] = (0, answer, "")
    result = run(host, fail_on_override=True, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True
    assert result["differs"] == [differ("root", "logfile", "/var/log/sudo.log", "/var/log/old.log", str(host.ours), 2)]


def test_setting_nobody_sets_has_no_file(host):
    host.answers["root"] = (0, sample("default-root"), "")
    result = run(host, fail_on_override=True, _ansible_check_mode=True, _ansible_diff=True)
    assert result["changed"] is True
    assert [(item["name"], item["effective"], item["file"], item["line"]) for item in result["differs"]] == [
        ("logfile", None, None, None),
        ("timestamp_timeout", None, None, None),
    ]
    assert result["diff"]["before"] == "root: logfile = (not set)\nroot: timestamp_timeout = (not set)\n"


@pytest.mark.parametrize("release", ["bookworm", "trixie"])
def test_runas_and_command_defaults_are_judged_with_their_scope(host, release):
    host.ours.write_text(OURS)
    (host.drop / "runas").write_text(SCOPED)
    host.answers["root"] = (0, sample("scoped", release), "")
    result = run(host, fail_on_override=False, _ansible_check_mode=True, _ansible_diff=True)
    runas = str(host.drop / "runas")
    assert [(item["scope"], item["name"], item["effective"], item["line"]) for item in result["differs"]] == [
        ("Defaults>root", "use_pty", False, 1),
        ("Defaults>ALL,!nobody", "timestamp_timeout", "60", 2),
        ("Defaults!/usr/bin/id,/usr/bin/who", "use_pty", False, 3),
        ("Defaults!/usr/bin/id,/usr/bin/who", "logfile", "/tmp/x.log", 3),
        ("Defaults!/bin/ls", "use_pty", False, 4),
    ]
    assert {item["file"] for item in result["differs"]} == {runas}
    assert result["effective"] == {"root": {"use_pty": True, "logfile": "/var/log/sudo.log", "timestamp_timeout": "15"}}
    assert "root: use_pty [Defaults>root] = false (" in result["diff"]["before"]


def test_unknown_and_unprivileged_users_are_named_not_judged(host):
    host.ours.write_text(OURS)
    host.answers["root"] = (0, sample("ours-root"), "")
    host.answers["nobody"] = (0, sample("not-allowed"), "")
    result = run(host, users=["root", "ghost", "nobody"])
    assert result["changed"] is False
    assert list(result["effective"]) == ["root"]
    assert result["unjudged"] == {"ghost": "no such user", "nobody": mod.NOT_ALLOWED}
    assert host.warnings == ["user ghost does not exist; its sudo Defaults were not judged"]


def test_sudo_failure_is_reported(host):
    host.answers["root"] = (1, "", "sudo: a password is required\n")
    result = run(host, FailJson)
    assert result["msg"] == "sudo -l -U root failed (rc 1): sudo: a password is required"


def test_unreadable_answer_is_reported(host):
    host.answers["root"] = (0, "Something else\n", "")
    result = run(host, FailJson)
    assert result["msg"].startswith("sudo -l -U root: not the output of sudo -l")


@pytest.mark.parametrize("value", [None, [1], {"a": 1}])
def test_wanted_value_must_be_a_scalar(host, value):
    result = run(host, FailJson, defaults={"use_pty": value})
    assert "the value of use_pty must be true, false, a string or a number" in result["msg"]


def test_broken_sudoers_file_is_a_warning(host):
    (host.drop / "zz-bad").write_text("Defaults\n")
    host.answers["root"] = (0, sample("override-root"), "")
    result = run(host)
    assert {item["file"] for item in result["differs"]} == {None}
    assert host.warnings == [
        f"cannot read the sudoers files to name the lines responsible: {host.drop / 'zz-bad'}: line 1: "
        "a Defaults line without settings: 'Defaults'"
    ]


def test_user_groups_of_real_accounts():
    assert "root" in mod.user_groups("root")
    assert mod.user_groups("no-such-user-bulwark") == []


def test_a_host_without_sudo_has_nothing_in_effect_to_judge(monkeypatch):
    patch_exits(monkeypatch)
    monkeypatch.setattr(mod.AnsibleModule, "get_bin_path", lambda self, name, *args, **kwargs: None)
    with (
        patch_module_args({"defaults": {"use_pty": True}, "users": ["root", "admin"]}),
        pytest.raises(ExitJson) as caught,
    ):
        mod.main()
    result = caught.value.args[0]
    assert result["changed"] is False and result["differs"] == []
    assert result["unjudged"] == {"root": "sudo is not installed", "admin": "sudo is not installed"}

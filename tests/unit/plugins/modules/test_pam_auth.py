# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""main() on a fake root copied from the real Debian 12 trees of module_utils/fixtures/pam. The
patched run_command plays pam-auth-update with the helpers (their agreement with the real
pam-auth-update is test_pam.py's business) and sudo -l with a given answer."""

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _pam as pam
from ansible_collections.bulwark.hardening.plugins.modules import pam_auth as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "pam")
PWQUALITY = (
    "Name: Pwquality password strength checking\nDefault: yes\nPriority: 1024\nConflicts: cracklib\n"
    "Password-Type: Primary\nPassword:\n\trequisite\t\t\tpam_pwquality.so retry=3\n"
)
CIS = {
    "faillock": {"deny": 5, "unlock_time": 900},
    "pwquality": {"minlen": 14, "difok": 2, "enforce_for_root": True},
    "pwhistory": {"remember": 24, "enforce_for_root": True},
    "unix": {"nullok": False, "hashing": "yescrypt"},
}


def fake_pam_auth_update(argv):
    """pam-auth-update --root ROOT [--enable ...] [--disable ...], as the helpers model it."""
    root = argv[argv.index("--root") + 1]
    enable, disable, target = [], [], None
    for word in argv[1:]:
        if word in ("--enable", "--disable"):
            target = enable if word == "--enable" else disable
        elif word.startswith("--") or word == root:
            target = None
        elif target is not None:
            target.append(word)
    host = mod.Host(root)
    directory = host.path("usr/share/pam-configs")
    profiles = {name: pam.parse_profile(host.read(os.path.join(directory, name))) for name in os.listdir(directory)}
    modules, edits = [], {}
    for kind in pam.TYPES:
        refusal, edits[kind], found = pam.hand_edits(host.read(host.common(kind)), host.read(host.saved(kind)), kind)
        if refusal:
            return 0, "", "pam-auth-update: Local modifications to /etc/pam.d/common-*, not updating.\n"
        modules += [name for name in found if name not in modules]
    seen = host.read(host.path("var/lib/pam/seen")).split()
    enabled = pam.enabled_after(profiles, modules, seen, enable, disable)
    for kind in pam.TYPES:
        text = pam.render_common(host.read(host.common(kind)), profiles, enabled, kind, edits[kind])
        with open(host.common(kind), "w", encoding="utf-8") as handle:
            handle.write(text)
        with open(host.saved(kind), "w", encoding="utf-8") as handle:
            handle.write(pam.render_saved(profiles, enabled, kind))
    with open(host.path("var/lib/pam/seen"), "w", encoding="utf-8") as handle:
        handle.write("".join(name + "\n" for name in pam.sort_profiles(profiles, list(profiles))))
    return 0, "", ""


class Host:
    """A fake root: a copy of a fixture tree, and what the module ran."""

    def __init__(self, root, monkeypatch, tree="bookworm-stock"):
        self.root = root
        shutil.copytree(os.path.join(FIXTURES, "bookworm-stock"), root, dirs_exist_ok=True)
        if tree != "bookworm-stock":
            shutil.copytree(os.path.join(FIXTURES, tree), root, dirs_exist_ok=True)
        self.write("usr/share/pam-configs/pwquality", PWQUALITY)
        self.write("etc/shadow", "root:*:19000:0:99999:7:::\nadmin:$y$j9T$abc:19000:0:99999:7:::\n")
        self.write("etc/security/pwquality.conf", "# minlen = 8\n")
        os.makedirs(self.path("etc/security/pwquality.conf.d"), exist_ok=True)
        self.commands = []
        self.sudo_answer = (0, "User admin may run the following commands on h:\n    (ALL) NOPASSWD: ALL\n", "")
        self.pam_auth_update = fake_pam_auth_update
        monkeypatch.setattr(mod.AnsibleModule, "run_command", lambda _module, argv, **kw: self.run_command(argv, **kw))
        monkeypatch.setattr(mod.AnsibleModule, "get_bin_path", lambda _self, name, *a, **k: f"/usr/sbin/{name}")

    def path(self, relative):
        return os.path.join(self.root, relative)

    def read(self, relative):
        with open(self.path(relative), encoding="utf-8") as handle:
            return handle.read()

    def write(self, relative, text):
        os.makedirs(os.path.dirname(self.path(relative)), exist_ok=True)
        with open(self.path(relative), "w", encoding="utf-8") as handle:
            handle.write(text)

    def run_command(self, argv, **kwargs):
        self.commands.append((list(argv), kwargs.get("environ_update")))
        if argv[0].endswith("pam-auth-update"):
            return self.pam_auth_update(argv)
        if argv[0].endswith("sudo"):
            return self.sudo_answer
        if argv[0].endswith("/groupadd"):
            return 0, "", ""
        raise AssertionError(f"unexpected command {argv}")

    def args(self, **extra):
        return {**CIS, "root": self.root, "protect": [{"user": "admin"}], **extra}


@pytest.fixture
def host(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    return Host(str(tmp_path / "root"), monkeypatch)


def run(args, expect=ExitJson, check=False, diff=True):
    with (
        patch_module_args({**args, "_ansible_check_mode": check, "_ansible_diff": diff}),
        pytest.raises(expect) as caught,
    ):
        mod.main()
    return caught.value.args[0]


def test_check_mode_reports_drift_and_the_expected_stacks_and_writes_nothing(host):
    before = host.read("etc/pam.d/common-auth")
    result = run(host.args(), check=True)
    assert result["changed"] is True
    assert (
        "/etc/pam.d/common-auth:17: pam_unix.so has nullok (an empty password logs in)".replace(
            "/etc", host.path("etc")
        )
        in result["drift"]
    )
    assert any("no 'password pam_pwquality.so' line" in line for line in result["drift"])
    assert result["enabled"] == [
        "pwquality", "bulwark-pwhistory", "bulwark-faillock-notify", "bulwark-unix", "systemd", "capability",
        "bulwark-faillock",
    ]  # fmt: skip
    assert host.path("etc/pam.d/common-auth") in result["written"]
    auth_diff = next(item for item in result["diff"] if item["after_header"] == host.path("etc/pam.d/common-auth"))
    assert "auth\trequisite\t\t\tpam_faillock.so preauth\n" in auth_diff["after"]
    assert host.read("etc/pam.d/common-auth") == before
    assert not os.path.exists(host.path("usr/share/pam-configs/bulwark-unix"))
    assert [argv[0] for argv, _env in host.commands] == ["/usr/sbin/sudo"]


def test_apply_writes_runs_pam_auth_update_and_is_then_idempotent(host):
    result = run(host.args())
    assert result["changed"] is True
    assert result["drift"]
    argv, env = next(item for item in host.commands if item[0][0].endswith("pam-auth-update"))
    assert argv == [
        "/usr/sbin/pam-auth-update", "--package", "--root", host.root,
        "--enable", "bulwark-faillock-notify", "bulwark-faillock", "pwquality", "bulwark-pwhistory", "bulwark-unix",
        "--disable", "unix",
    ]  # fmt: skip
    assert env["DEBIAN_FRONTEND"] == "noninteractive"
    for kind in ("auth", "account", "password"):
        with open(os.path.join(FIXTURES, "bookworm-hardened", f"etc/pam.d/common-{kind}"), encoding="utf-8") as handle:
            assert host.read(f"etc/pam.d/common-{kind}") == handle.read()
    conf = host.read("etc/security/faillock.conf")
    assert "\ndeny = 5\n" in conf and "\nunlock_time = 900\n" in conf and "# deny = 3\n" in conf
    # In place in pwquality.conf (read last by libpwquality), after the commented example of a key.
    assert host.read("etc/security/pwquality.conf") == "# minlen = 8\nminlen = 14\ndifok = 2\nenforce_for_root\n"
    assert not os.path.exists(host.path("etc/security/pwquality.conf.d/50-bulwark-hardening.conf"))
    assert result["effective"]["faillock"]["authfail"]["values"]["deny"] == "5"
    assert result["effective"]["pwquality"]["values"]["minlen"] == "14"

    host.commands.clear()
    again = run(host.args())
    assert again["changed"] is False
    assert again["drift"] == []
    assert again["written"] == []
    assert "diff" not in again
    assert not [argv for argv, _env in host.commands if argv[0].endswith("pam-auth-update")]
    checked = run(host.args(), check=True)
    assert checked["changed"] is False


def test_rollback_is_armed_before_the_first_write_with_every_file(host, monkeypatch):
    seen = {}

    def fake_arm(module, option, paths, what, result):
        seen["paths"] = list(paths)
        seen["profile_existed"] = os.path.exists(host.path("usr/share/pam-configs/bulwark-unix"))
        result["rollback"] = {"armed": True}

    monkeypatch.setattr(mod, "arm_option", fake_arm)
    result = run(host.args(rollback={"window": 120}))
    assert result["rollback"] == {"armed": True}
    assert seen["profile_existed"] is False
    for relative in ("etc/pam.d/common-auth", "etc/pam.d/common-session-noninteractive", "var/lib/pam/seen",
                     "var/lib/pam/auth", "usr/share/pam-configs/bulwark-faillock", "etc/security/faillock.conf",
                     "etc/security/pwquality.conf"):  # fmt: skip
        assert host.path(relative) in seen["paths"]

    seen.clear()
    run(host.args(rollback={"window": 120}))
    assert seen == {}  # nothing changes: nothing armed


def test_a_hand_added_line_fails_naming_the_file_and_line_and_writes_nothing(host):
    run(host.args())
    text = host.read("etc/pam.d/common-auth").replace(
        "pam_faillock.so authfail\n", "pam_faillock.so authfail\nauth\toptional\tpam_echo.so hi\n"
    )
    host.write("etc/pam.d/common-auth", text)
    result = run(host.args(pwhistory={"remember": 5}), expect=FailJson)
    assert f"{host.path('etc/pam.d/common-auth')}:20" in result["msg"]
    assert "never runs pam-auth-update --force" in result["msg"]
    assert "remember=24" in host.read("usr/share/pam-configs/bulwark-pwhistory")
    checked = run(host.args(pwhistory={"remember": 5}), check=True)
    assert checked["changed"] is True
    assert any("refuses to write" in line for line in checked["drift"])
    # Nothing to write and everything in effect: the added line is the admin's business.
    unchanged = run(host.args())
    assert unchanged["changed"] is False
    assert unchanged["drift"] == []


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("pam_unix.so try_first_pass\n", "pam_unix.so try_first_pass nullok\n", "pam_unix.so has nullok"),
        ("pam_faillock.so authfail\n", "pam_faillock.so authfail deny=100\n", "deny is 100"),
    ],
)
def test_a_hand_edit_that_pam_auth_update_keeps_fails_before_writing(host, old, new, named):
    run(host.args())
    host.write("etc/pam.d/common-auth", host.read("etc/pam.d/common-auth").replace(old, new))
    checked = run(host.args(), check=True)
    assert checked["changed"] is True
    assert any(named in line and ":1" in line for line in checked["drift"])
    result = run(host.args(pwhistory={"remember": 5}), expect=FailJson)
    assert named in result["msg"] and "edited by hand" in result["msg"]
    assert "remember=24" in host.read("usr/share/pam-configs/bulwark-pwhistory")
    # Nothing of ours to write: the hand edit still fails a real run, which cannot fix it.
    result = run(host.args(), expect=FailJson)
    assert named in result["msg"] and "edited by hand" in result["msg"]


def test_a_settings_file_alone_changes_without_pam_auth_update(host):
    run(host.args())
    host.commands.clear()
    result = run(host.args(faillock={"deny": 4, "unlock_time": 900}))
    assert result["changed"] is True
    assert result["written"] == [host.path("etc/security/faillock.conf")]
    assert "cmd" not in result
    assert not [argv for argv, _env in host.commands if argv[0].endswith("pam-auth-update")]
    assert result["effective"]["faillock"]["preauth"]["values"]["deny"] == "4"


def test_a_removed_pwquality_line_is_drift_and_is_put_back(host):
    run(host.args())
    line = "password\trequisite\t\t\tpam_pwquality.so retry=3\n"
    host.write("etc/pam.d/common-password", host.read("etc/pam.d/common-password").replace(line, ""))
    checked = run(host.args(), check=True)
    assert checked["changed"] is True
    assert any("no 'password pam_pwquality.so' line" in item for item in checked["drift"])
    fixed = run(host.args())
    assert fixed["changed"] is True
    assert line in host.read("etc/pam.d/common-password")


def test_pam_auth_update_that_changed_nothing_fails_naming_what(host):
    host.pam_auth_update = lambda argv: (0, "", "")
    result = run(host.args(), expect=FailJson)
    assert "still not in effect" in result["msg"]
    assert "no 'auth pam_faillock.so preauth' line" in result["msg"]


def test_pam_auth_update_refusal_on_stderr_fails(host):
    host.pam_auth_update = lambda argv: (
        0,
        "",
        "pam-auth-update: Local modifications to /etc/pam.d/common-*, not updating.",
    )
    result = run(host.args(), expect=FailJson)
    assert "pam-auth-update refused" in result["msg"]


def test_guard_unlock_time_zero_with_a_sudo_password_fails_naming_the_user(host):
    host.sudo_answer = (0, "User admin may run the following commands on h:\n    (ALL) ALL\n", "")
    result = run(host.args(faillock={"deny": 5, "unlock_time": 0}), expect=FailJson)
    assert "admin" in result["msg"] and "faillock --reset" in result["msg"]
    assert not os.path.exists(host.path("usr/share/pam-configs/bulwark-faillock"))
    run(host.args(faillock={"deny": 5, "unlock_time": 0}), expect=FailJson, check=True)
    assert ["/usr/sbin/sudo", "-n", "-l", "-U", "admin"] in [argv for argv, _env in host.commands]


def test_guard_given_answer_skips_sudo_and_warns_how_long(host, monkeypatch):
    warnings = []
    monkeypatch.setattr(mod.AnsibleModule, "warn", lambda _self, text: warnings.append(text))
    run(host.args(protect=[{"user": "admin", "sudo_needs_password": True}]), check=True)
    assert warnings == ["faillock: 5 wrong sudo passwords lock admin's sudo (and logins) for 900 seconds"]
    assert not [argv for argv, _env in host.commands if argv[0].endswith("sudo")]


def test_guard_empty_password_with_nullok_removed_fails(host):
    host.write("etc/shadow", "admin::19000:0:99999:7:::\n")
    result = run(host.args(), expect=FailJson)
    assert "nullok removed while admin has an empty password" in result["msg"]
    ok = run(host.args(unix={"nullok": True}), check=True)
    assert not any("nullok" in line and "has nullok" in line for line in ok["drift"])


def test_missing_pwquality_profile_fails_clearly(host):
    os.unlink(host.path("usr/share/pam-configs/pwquality"))
    result = run(host.args(), expect=FailJson)
    assert "install libpam-pwquality" in result["msg"]
    assert host.path("usr/share/pam-configs/pwquality") in result["msg"]
    assert not os.path.exists(host.path("usr/share/pam-configs/bulwark-unix"))  # nothing written


def test_check_mode_without_libpam_pwquality_names_the_package_as_drift(host):
    # A fresh host: the role installs libpam-pwquality after its preflight check, which must not fail.
    os.unlink(host.path("usr/share/pam-configs/pwquality"))
    result = run(host.args(), check=True)
    assert result["changed"] is True
    assert any(line.startswith("libpam-pwquality is not installed") for line in result["drift"]), result["drift"]
    assert not os.path.exists(host.path("usr/share/pam-configs/pwquality"))


def test_pwquality_conf_is_read_last_so_its_values_are_set_there_over_any_dropin(host):
    run(host.args())
    host.write("etc/security/pwquality.conf", "minlen = 8\n")
    host.write("etc/security/pwquality.conf.d/60-site.conf", "minlen = 6\nminclass = 2\n")
    checked = run(host.args(), check=True)
    conf = host.path("etc/security/pwquality.conf")
    assert any(f"minlen is 8 (from {conf}:1), wanted 14" in line for line in checked["drift"]), checked["drift"]
    result = run(host.args())
    assert host.read("etc/security/pwquality.conf") == "minlen = 14\ndifok = 2\nenforce_for_root\n"
    assert host.read("etc/security/pwquality.conf.d/60-site.conf") == "minlen = 6\nminclass = 2\n"  # not ours
    assert result["effective"]["pwquality"]["values"]["minlen"] == "14"
    assert run(host.args(), check=True)["drift"] == []


def test_the_dropin_of_earlier_versions_is_removed_under_the_rollback(host, monkeypatch):
    old = "etc/security/pwquality.conf.d/50-bulwark-hardening.conf"
    run(host.args())
    host.write(old, "minlen = 14\n")
    checked = run(host.args(), check=True)
    assert checked["changed"] is True
    assert host.path(old) in checked["written"]
    assert any(item["before_header"] == host.path(old) and item["after"] == "" for item in checked["diff"])
    seen = {}

    def fake_arm(module, option, paths, what, result):
        seen["paths"] = list(paths)
        seen["existed"] = os.path.exists(host.path(old))
        result["rollback"] = {"armed": True}

    monkeypatch.setattr(mod, "arm_option", fake_arm)
    run(host.args(rollback={"window": 120}))
    assert seen["existed"] is True and host.path(old) in seen["paths"]
    assert not os.path.exists(host.path(old))
    assert run(host.args())["changed"] is False


def test_a_service_without_the_common_include_is_drift(host):
    host.write("etc/pam.d/sshd", "auth required pam_unix.so\n@include common-account\n@include common-password\n")
    result = run(host.args(), check=True)
    assert f"{host.path('etc/pam.d/sshd')}: does not include common-auth" in result["drift"]


def test_no_common_auth_is_not_applicable(host):
    os.unlink(host.path("etc/pam.d/common-auth"))
    result = run(host.args(pwhistory=None))
    assert result["changed"] is False
    assert set(result["not_applicable"]) == {"faillock", "pwquality", "unix"}
    assert host.commands == []


def test_unmanaged_options_are_left_alone(host):
    result = run({"root": host.root, "pwhistory": {"remember": 24}}, check=True)
    assert result["effective"].keys() == {"pwhistory"}
    assert result["written"] == [
        host.path("usr/share/pam-configs/bulwark-pwhistory"),
        host.path("etc/pam.d/common-password"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"faillock": {"deny": [1]}}, "faillock: deny must be"),
        ({"pwhistory": {"use_authtok": False}}, "use_authtok must stay true"),
    ],
)
def test_bad_values_are_named(host, args, message):
    result = run({"root": host.root, **args}, expect=FailJson)
    assert message in result["msg"]


def test_pwhistory_conf_is_edited_where_it_exists_and_the_line_still_wins(host):
    # Linux-PAM 1.5.3 and later (Debian 13) ship /etc/security/pwhistory.conf; 1.5.2 reads none.
    host.write("etc/security/pwhistory.conf", "# remember = 10\n# enforce_for_root\nremember = 3\n")
    run(host.args())
    assert (
        host.read("etc/security/pwhistory.conf")
        == "# remember = 10\n# enforce_for_root\nenforce_for_root\nremember = 24\n"
    )
    host.write("etc/security/pwhistory.conf", "remember = 3\n")
    checked = run(host.args(), check=True)
    # The line's remember=24 wins over the file: in effect, nothing differs; the file is rewritten all the same.
    assert checked["drift"] == []
    assert checked["written"] == [host.path("etc/security/pwhistory.conf")]


def test_sha512_goes_into_bulwark_unix(host):
    run(host.args(unix={"nullok": False, "hashing": "sha512"}))
    assert "pam_unix.so obscure use_authtok try_first_pass sha512" in host.read("etc/pam.d/common-password")
    assert "yescrypt" not in host.read("usr/share/pam-configs/bulwark-unix")
    checked = run(host.args(), check=True)
    assert any("hashes with sha512, wanted yescrypt" in line for line in checked["drift"])


def test_a_profile_disabled_by_hand_is_enabled_again(host):
    run(host.args())
    host.pam_auth_update(["pam-auth-update", "--root", host.root, "--disable", "pwquality"])
    assert "pam_pwquality.so" not in host.read("etc/pam.d/common-password")
    assert "pwquality" in host.read("var/lib/pam/seen").split()
    result = run(host.args())
    assert result["changed"] is True
    assert "pam_pwquality.so" in host.read("etc/pam.d/common-password")


def test_sudo_that_cannot_answer_counts_as_asking_a_password(host, monkeypatch):
    warnings = []
    monkeypatch.setattr(mod.AnsibleModule, "warn", lambda _self, text: warnings.append(text))
    host.sudo_answer = (1, "", "sudo: something went wrong")
    result = run(host.args(faillock={"deny": 5, "unlock_time": 0}), expect=FailJson, check=True)
    assert "admin" in result["msg"]
    assert any("assuming its sudo asks a password" in text for text in warnings)
    host.sudo_answer = (1, "", "sudo: unknown user admin")
    run(host.args(faillock={"deny": 5, "unlock_time": 0}), check=True)


def test_root_needs_no_sudo_password_and_sudo_is_not_asked(host):
    run(host.args(faillock={"deny": 5, "unlock_time": 0}, protect=[{"user": "root"}]), check=True)
    assert not [argv for argv, _env in host.commands if argv[0].endswith("sudo")]


def test_a_stack_pam_auth_update_never_wrote_is_named(host):
    os.unlink(host.path("var/lib/pam/password"))
    result = run(host.args(), expect=FailJson)
    assert f"{host.path('var/lib/pam/password')} is missing" in result["msg"]
    assert not os.path.exists(host.path("usr/share/pam-configs/bulwark-unix"))


# ---------------------------------------------------------------- su (CIS 5.2.7)


def group_file(host, members=""):
    host.write("etc/group", f"root:x:0:\nsudo:x:27:admin\nsugroup:x:998:{members}\n")
    host.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000::/home/admin:/bin/bash\n")


def test_su_is_restricted_in_place_of_debians_commented_line_and_then_idempotent(host):
    group_file(host)
    stock = host.read("etc/pam.d/su")
    checked = run(host.args(su_group="sugroup"), check=True)
    assert checked["changed"] is True
    assert any("pam_wheel.so use_uid group=sugroup" in line for line in checked["drift"]), checked["drift"]
    assert host.read("etc/pam.d/su") == stock, "check mode wrote /etc/pam.d/su"
    done = run(host.args(su_group="sugroup"))
    assert host.path("etc/pam.d/su") in done["written"]
    text = host.read("etc/pam.d/su")
    assert text.count("pam_wheel.so use_uid group=sugroup") == 1
    # Right after pam_rootok (root keeps su), before every include; Debian's other comments kept.
    stack = pam.parse_stack(text)
    assert [e.get("module") for e in stack[:2]] == ["pam_rootok.so", "pam_wheel.so"], stack[:2]
    assert "# auth       sufficient pam_wheel.so trust" in text
    again = run(host.args(su_group="sugroup"), check=True)
    assert again["changed"] is False and again["drift"] == [], again["drift"]


def test_a_missing_su_group_is_created_empty(host):
    host.write("etc/group", "root:x:0:\n")
    host.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n")
    checked = run(host.args(su_group="sugroup"), check=True)
    assert "the group sugroup that su is restricted to does not exist" in checked["drift"]
    run(host.args(su_group="sugroup"))
    groupadd = [argv for argv, _env in host.commands if argv[0].endswith("/groupadd")]
    assert groupadd == [["/usr/sbin/groupadd", "--prefix", host.root, "--system", "sugroup"]], host.commands


def test_members_of_the_su_group_are_drift_never_removed(host):
    group_file(host, members="admin")
    checked = run(host.args(su_group="sugroup"), check=True)
    assert any("has members (admin)" in line for line in checked["drift"]), checked["drift"]
    assert host.read("etc/group").endswith("sugroup:x:998:admin\n")


def test_a_sufficient_line_before_the_wheel_line_is_drift(host):
    group_file(host)
    host.write(
        "etc/pam.d/su",
        "auth sufficient pam_rootok.so\nauth sufficient pam_wheel.so trust\n"
        "auth required pam_wheel.so use_uid group=sugroup\n@include common-auth\n",
    )
    drift = pam.su_judge(host.read("etc/pam.d/su"), "sugroup")
    assert drift and "before line 2" in drift[0], drift
    # The active pam_wheel line (the first one) is replaced in place: the restriction comes first.
    assert pam.su_judge(pam.su_edit(host.read("etc/pam.d/su"), "sugroup"), "sugroup") == []


@pytest.mark.parametrize(
    "line, ok",
    [
        ("auth required pam_wheel.so use_uid group=sugroup", True),
        ("auth requisite pam_wheel.so group=sugroup use_uid", True),
        ("auth required pam_wheel.so use_uid", False),  # the wheel group, not ours
        ("auth required pam_wheel.so use_uid group=sugroup deny", False),
        ("auth sufficient pam_wheel.so use_uid group=sugroup", False),
        ("auth optional pam_wheel.so use_uid group=sugroup", False),
    ],
)
def test_su_entry_ok(line, ok):
    assert pam.su_entry_ok(pam.parse_stack(line)[0], "sugroup") is ok


@pytest.mark.parametrize("method", ["su", "ansible.builtin.su"])
def test_becoming_root_with_su_is_refused_before_anything_is_written(host, method):
    group_file(host)
    stock = host.read("etc/pam.d/su")
    failed = run(host.args(su_group="sugroup", become_method=method), expect=FailJson)
    assert "becomes root with su" in failed["msg"] and "su_group: null" in failed["msg"]
    assert host.read("etc/pam.d/su") == stock
    assert [argv for argv, _env in host.commands if argv[0].endswith("pam-auth-update")] == []


def test_becoming_root_with_su_on_a_host_already_restricted_is_not_refused(host):
    # Nothing to write: the connection that got here through su is a member, and stays one.
    group_file(host, members="admin")
    run(host.args(su_group="sugroup"))
    checked = run(host.args(su_group="sugroup", become_method="su"), check=True)
    assert not any("pam_wheel" in line for line in checked["drift"]), checked["drift"]


def test_no_su_file_is_not_applicable(host):
    os.unlink(host.path("etc/pam.d/su"))
    result = run(host.args(su_group="sugroup"), check=True)
    assert "su" in result["not_applicable"]


def test_a_bad_su_group_is_named(host):
    failed = run(host.args(su_group="wheel users"), expect=FailJson)
    assert "su_group: 'wheel users' is not a group name" in failed["msg"]

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixtures under fixtures/pam are real: bookworm-stock is Debian 12's pam (1.5.2-6+deb12u1)
as installed; bookworm-hardened is what Debian 12's pam-auth-update wrote (run with --root on a
copy) after our profiles were added and `--enable bulwark-faillock bulwark-faillock-notify
pwquality bulwark-pwhistory bulwark-unix --disable unix`; bookworm-edited is that, with nullok
and deny=100 added by hand on two lines, after pam-auth-update ran again on a changed
bulwark-pwhistory (remember=5): it kept both edits."""

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _pam as pam

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "pam")
PWQUALITY = (
    "Name: Pwquality password strength checking\nDefault: yes\nPriority: 1024\nConflicts: cracklib\n"
    "Password-Type: Primary\nPassword:\n\trequisite\t\t\tpam_pwquality.so retry=3\n"
)
OURS = ["bulwark-faillock", "bulwark-faillock-notify", "pwquality", "bulwark-pwhistory", "bulwark-unix"]


def read(tree, relative):
    with open(os.path.join(FIXTURES, tree, relative), encoding="utf-8") as handle:
        return handle.read()


def profiles_of(tree):
    directory = os.path.join(FIXTURES, tree, "usr/share/pam-configs")
    return {name: pam.parse_profile(read(tree, f"usr/share/pam-configs/{name}")) for name in os.listdir(directory)}


def state_of(tree):
    """``(modules found in the live blocks, seen, edits per kind)`` of a fixture tree."""
    modules, edits = [], {}
    for kind in pam.TYPES:
        refusal, edits[kind], found = pam.hand_edits(read(tree, f"etc/pam.d/common-{kind}"),
                                                     read(tree, f"var/lib/pam/{kind}"), kind)  # fmt: skip
        assert refusal is None
        modules += [name for name in found if name not in modules]
    return modules, read(tree, "var/lib/pam/seen").split(), edits


# ----------------------------------------------------------------- profiles and pam-auth-update


def test_parse_profile_reads_debian_unix():
    unix = pam.parse_profile(read("bookworm-stock", "usr/share/pam-configs/unix"))
    assert unix["Priority"] == 256
    assert unix["Auth-Type"] == "Primary"
    assert unix["Auth"] == "[success=end default=ignore]\tpam_unix.so nullok try_first_pass"
    assert unix["Auth-Initial"] == "[success=end default=ignore]\tpam_unix.so nullok"
    # No Session-Interactive-Only: the session lines serve session-noninteractive too.
    assert unix["Session-noninteractive"] == "required\tpam_unix.so"


def test_parse_profile_final_conflicts_and_interactive_only():
    profile = pam.parse_profile(
        "Name: x\nPriority: oops\nConflicts: a, b\nSession-Interactive-Only: yes\nSession-Type: Additional\n"
        "Auth-Final:\n\toptional pam_x.so\n\toptional pam_y.so\n"
    )
    assert profile["Conflicts"] == {"a", "b"}
    assert profile["Priority"] == 0
    assert profile["Auth"] == "optional pam_x.so\noptional pam_y.so"
    assert "Session-noninteractive-Type" not in profile


def test_sort_is_priority_then_reverse_name():
    profiles = {name: {"Priority": prio} for name, prio in (("unix", 256), ("pwquality", 1024), ("b", 1024), ("z", 0))}
    assert pam.sort_profiles(profiles, list(profiles)) == ["pwquality", "b", "unix", "z"]


def test_the_stock_tree_renders_to_itself():
    profiles = profiles_of("bookworm-stock")
    modules, seen, edits = state_of("bookworm-stock")
    enabled = pam.enabled_after(profiles, modules, seen)
    assert enabled == ["unix", "systemd", "capability"]
    for kind in pam.TYPES:
        live = read("bookworm-stock", f"etc/pam.d/common-{kind}")
        assert pam.render_common(live, profiles, enabled, kind, edits[kind]) == live
        assert pam.render_saved(profiles, enabled, kind) == read("bookworm-stock", f"var/lib/pam/{kind}")


def test_our_profiles_render_what_the_real_pam_auth_update_wrote():
    profiles = profiles_of("bookworm-hardened")
    modules, seen, _edits = state_of("bookworm-stock")
    enabled = pam.enabled_after(profiles, modules, seen, OURS, ["unix"])
    assert enabled == [
        "pwquality", "bulwark-pwhistory", "bulwark-faillock-notify", "bulwark-unix", "systemd", "capability",
        "bulwark-faillock",
    ]  # fmt: skip
    for kind in pam.TYPES:
        template = read("bookworm-stock", f"etc/pam.d/common-{kind}")
        assert pam.render_common(template, profiles, enabled, kind) == read(
            "bookworm-hardened", f"etc/pam.d/common-{kind}"
        )
        assert pam.render_saved(profiles, enabled, kind) == read("bookworm-hardened", f"var/lib/pam/{kind}")


def test_our_profiles_are_the_ones_in_the_fixture():
    profiles = pam.faillock_profiles()
    for name in ("bulwark-faillock", "bulwark-faillock-notify"):
        assert profiles[name] == read("bookworm-hardened", f"usr/share/pam-configs/{name}")
    assert pam.pwhistory_profile({"remember": "24", "enforce_for_root": True}) == read(
        "bookworm-hardened", "usr/share/pam-configs/bulwark-pwhistory"
    )
    unix = pam.unix_profile(read("bookworm-stock", "usr/share/pam-configs/unix"), False, "yescrypt")
    assert unix == read("bookworm-hardened", "usr/share/pam-configs/bulwark-unix")


def test_hand_edited_options_are_kept_as_pam_auth_update_keeps_them():
    profiles = profiles_of("bookworm-edited")
    modules, seen, edits = state_of("bookworm-edited")
    assert edits["auth"] == {
        "[success= default=ignore]\tpam_unix.so": {"add": {"nullok"}, "remove": set(), "line": 18},
        "[default=die]\t\t\tpam_faillock.so": {"add": {"deny=100"}, "remove": set(), "line": 19},
    }
    enabled = pam.enabled_after(profiles, modules, seen, ["bulwark-pwhistory"])
    for kind in pam.TYPES:
        live = read("bookworm-edited", f"etc/pam.d/common-{kind}")
        assert pam.render_common(live, profiles, enabled, kind, edits[kind]) == live


def test_a_line_added_by_hand_is_a_refusal_naming_the_line():
    live = read("bookworm-hardened", "etc/pam.d/common-auth").replace(
        "pam_faillock.so authfail\n", "pam_faillock.so authfail\nauth\toptional\tpam_echo.so hi\n"
    )
    refusal, _edits, _modules = pam.hand_edits(live, read("bookworm-hardened", "var/lib/pam/auth"), "auth")
    assert refusal == (20, "auth\toptional\tpam_echo.so hi")


def test_a_line_removed_by_hand_drops_its_profile():
    live = read("bookworm-hardened", "etc/pam.d/common-password").replace(
        "password\trequisite\t\t\tpam_pwquality.so retry=3\n", ""
    )
    refusal, edits, modules = pam.hand_edits(live, read("bookworm-hardened", "var/lib/pam/password"), "password")
    assert refusal is None and edits == {}
    assert "pwquality" not in modules and "bulwark-pwhistory" in modules


def test_a_missing_marker_is_a_refusal():
    refusal, _edits, _modules = pam.hand_edits("auth required pam_unix.so\n", "", "auth")
    assert refusal is not None


def test_conflicts_drop_the_other_profile():
    profiles = {
        "unix": {"Priority": 256, "Default": "yes"},
        "bulwark-unix": {"Priority": 256, "Default": "yes", "Conflicts": {"unix"}},
    }
    assert pam.enabled_after(profiles, ["unix", "bulwark-unix"], ["unix", "bulwark-unix"]) == ["bulwark-unix"]


@pytest.mark.parametrize(
    ("seen", "enable", "disable", "expected"),
    [
        ([], [], [], ["new", "unix"]),  # a Default: yes profile never seen is enabled
        (["new"], [], [], ["unix"]),  # seen and not enabled: it stays off
        (["new"], ["new"], [], ["new", "unix"]),
        # Nothing left enabled: pam-auth-update forgets what it saw and takes every default again.
        (["new"], [], ["unix"], ["new", "unix"]),
    ],
)
def test_enabled_after(seen, enable, disable, expected):
    profiles = {"unix": {"Priority": 256, "Default": "yes"}, "new": {"Priority": 300, "Default": "yes"}}
    assert pam.enabled_after(profiles, ["unix"], ["unix", *seen], enable, disable) == expected


def test_merge_line_replaces_end_and_keeps_edits():
    line = "[success=end default=ignore]\tpam_unix.so nullok try_first_pass"
    assert pam.merge_line(line, 2) == "[success=2 default=ignore]\tpam_unix.so nullok try_first_pass"
    edits = {"add": {"audit"}, "remove": {"nullok"}}
    assert pam.merge_line(line, 1, edits) == "[success=1 default=ignore]\tpam_unix.so try_first_pass audit"


# ----------------------------------------------------------------- stacks and settings


def test_parse_stack():
    text = "# c\n@include common-auth\n-auth  [success=1 default=ignore]  /lib/security/pam_x.so a=1 \\\n b # c\n"
    assert pam.parse_stack(text) == [
        {"line": 2, "include": "common-auth"},
        {
            "line": 3,
            "type": "auth",
            "control": "[success=1 default=ignore]",
            "module": "pam_x.so",
            "args": ["a=1", "b"],
        },
    ]


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("@include common-auth\n", "auth", True),
        ("auth substack common-auth\n", "auth", True),
        ("auth include common-auth\n", "auth", True),
        ("auth required pam_unix.so\n", "auth", False),
        ("@include common-auth\n", "account", False),
    ],
)
def test_includes(text, kind, expected):
    assert pam.includes(pam.parse_stack(text), kind) is expected


def test_parse_settings():
    text = "# deny = 3\ndeny = 4\neven_deny_root\nunlock_time=0 # comment\ndeny 5\n"
    assert pam.parse_settings(text) == {"deny": ("5", 5), "even_deny_root": (True, 3), "unlock_time": ("0", 4)}


def test_edit_settings_in_place_keeps_comments():
    text = read("bookworm-stock", "etc/security/faillock.conf")
    edited = pam.edit_settings(text, {"deny": "5", "unlock_time": "900", "even_deny_root": True, "audit": False})
    lines = edited.splitlines()
    assert lines[lines.index("# deny = 3") + 1] == "deny = 5"
    assert lines[lines.index("# unlock_time = 600") + 1] == "unlock_time = 900"
    assert lines[lines.index("# even_deny_root") + 1] == "even_deny_root"
    assert len(lines) == len(text.splitlines()) + 3
    assert pam.edit_settings(edited, {"deny": "5", "unlock_time": "900", "even_deny_root": True}) == edited


def test_edit_settings_replaces_comments_out_duplicates_and_flags_off():
    text = "deny = 3\naudit\ndeny = 9\n"
    assert pam.edit_settings(text, {"deny": "5", "audit": False, "dir": "/run/x"}) == (
        "deny = 5\n# audit\n# deny = 9\ndir = /run/x\n"
    )


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"deny": 5, "audit": True, "dir": "/run/faillock"}, None),
        ({"deny": "5 6"}, "faillock: deny must be"),
        ({"deny": [5]}, "faillock: deny must be"),
        ({"Bad Key": 1}, "is not a setting name"),
        ({"deny": False}, "faillock: deny takes a number or a word, got False"),
    ],
)
def test_normalize_settings(values, error):
    if error is None:
        assert pam.normalize_settings("faillock", values) == {"deny": "5", "audit": True, "dir": "/run/faillock"}
    else:
        with pytest.raises(ValueError, match=error):
            pam.normalize_settings("faillock", values)


def test_layered_line_wins_over_files_and_files_over_defaults():
    layers = [("/a.conf", {"minlen": ("10", 1)}), ("/b.conf", {"minlen": ("12", 3), "difok": ("2", 4)})]
    values = pam.layered(
        layers, {"minlen": "14", "retry": "3", "try_first_pass": True}, {"difok": "1", "dictcheck": "1"}
    )
    assert values["minlen"] == {"value": "14", "source": "line"}
    assert values["difok"] == {"value": "2", "source": "/b.conf:4"}
    assert values["dictcheck"] == {"value": "1", "source": "default"}
    assert "try_first_pass" not in values


# ----------------------------------------------------------------- judgement


def stacks_of(tree, replace=None):
    stacks = {}
    for kind in pam.JUDGED:
        text = read(tree, f"etc/pam.d/common-{kind}")
        for old, new in (replace or {}).get(kind, ()):
            text = text.replace(old, new)
        stacks[kind] = pam.parse_stack(text)
    return stacks


PATHS = {kind: f"/etc/pam.d/common-{kind}" for kind in pam.JUDGED}
FAILLOCK_CONF = [("/etc/security/faillock.conf", {"deny": ("5", 33), "unlock_time": ("900", 46)})]


def test_the_hardened_stack_is_compliant():
    stacks = stacks_of("bookworm-hardened")
    drift, effective = pam.judge_faillock(stacks["auth"], stacks["account"], PATHS, FAILLOCK_CONF,
                                          {"deny": "5", "unlock_time": "900"})  # fmt: skip
    assert drift == []
    assert effective["preauth"] == {"line": "/etc/pam.d/common-auth:17",
                                    "values": {"deny": "5", "unlock_time": "900", "fail_interval": "900"}}  # fmt: skip
    drift, _effective = pam.judge_unix(stacks, PATHS, {"nullok": False, "hashing": "yescrypt"})
    assert drift == []
    drift, effective = pam.judge_password_module(
        stacks["password"],
        PATHS["password"],
        "pam_pwhistory.so",
        [],
        wanted={"remember": "24", "enforce_for_root": True, "use_authtok": True},
        defaults=pam.DEFAULTS["pwhistory"],
    )
    assert drift == []
    assert pam.judge_order(stacks["password"], PATHS["password"],
                           ["pam_pwquality.so", "pam_pwhistory.so", "pam_unix.so"]) == []  # fmt: skip


def test_the_stock_stack_drifts_everywhere():
    stacks = stacks_of("bookworm-stock")
    drift, _effective = pam.judge_faillock(stacks["auth"], stacks["account"], PATHS, [], {"deny": "5"})
    assert drift == [
        "/etc/pam.d/common-auth: no 'auth pam_faillock.so preauth' line",
        "/etc/pam.d/common-auth: no 'auth pam_faillock.so authfail' line",
        "/etc/pam.d/common-account: no 'account pam_faillock.so' line",
    ]
    drift, _effective = pam.judge_unix(stacks, PATHS, {"nullok": False, "hashing": "sha512"})
    assert drift == [
        "/etc/pam.d/common-auth:17: pam_unix.so has nullok (an empty password logs in)",
        "/etc/pam.d/common-password:25: pam_unix.so hashes with yescrypt, wanted sha512",
        "/etc/pam.d/common-password:25: pam_unix.so lacks use_authtok",
    ]


def test_hand_edits_on_the_line_are_drift_naming_file_and_line():
    stacks = stacks_of("bookworm-edited")
    drift, _effective = pam.judge_faillock(stacks["auth"], stacks["account"], PATHS, FAILLOCK_CONF, {"deny": "5"})
    assert drift == [
        "/etc/pam.d/common-auth:19: pam_faillock.so authfail deny is 100 "
        "(from its arguments at /etc/pam.d/common-auth:19), wanted 5"
    ]
    drift, _effective = pam.judge_unix(stacks, PATHS, {"nullok": False, "hashing": "yescrypt"})
    assert drift == ["/etc/pam.d/common-auth:18: pam_unix.so has nullok (an empty password logs in)"]


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (("pam_unix.so try_first_pass", "pam_unix.so try_first_pass remember=5"), "has remember=5"),
        (("[success=2 default=ignore]", "[success=0 default=ignore]"), "lands on or before pam_faillock.so authfail"),
    ],
)
def test_auth_stack_defects(replace, expected):
    stacks = stacks_of("bookworm-hardened", {"auth": [replace]})
    faillock, _effective = pam.judge_faillock(stacks["auth"], stacks["account"], PATHS, FAILLOCK_CONF, {"deny": "5"})
    unix, _effective = pam.judge_unix(stacks, PATHS, {"nullok": False})
    assert [line for line in faillock + unix if expected in line]


def test_preauth_after_unix_is_drift():
    text = read("bookworm-hardened", "etc/pam.d/common-auth")
    pre = "auth\trequisite\t\t\tpam_faillock.so preauth\n"
    unix = "auth\t[success=2 default=ignore]\tpam_unix.so try_first_pass\n"
    stack = pam.parse_stack(text.replace(pre + unix, unix + pre))
    drift, _effective = pam.judge_faillock(stack, stacks_of("bookworm-hardened")["account"], PATHS, FAILLOCK_CONF, {})
    assert drift[0] == "/etc/pam.d/common-auth:18: pam_faillock.so preauth comes after pam_unix.so"


def test_a_removed_pwquality_line_and_the_order():
    stacks = stacks_of("bookworm-hardened", {"password": [("password\trequisite\t\t\tpam_pwquality.so retry=3\n", "")]})
    drift, effective = pam.judge_password_module(
        stacks["password"],
        PATHS["password"],
        "pam_pwquality.so",
        [],
        wanted={"minlen": "14"},
        defaults=pam.DEFAULTS["pwquality"],
    )
    assert drift == ["/etc/pam.d/common-password: no 'password pam_pwquality.so' line"]
    assert effective == {}
    swapped = stacks_of("bookworm-hardened")["password"]
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert pam.judge_order(swapped, PATHS["password"], ["pam_pwquality.so", "pam_pwhistory.so"]) == [
        "/etc/pam.d/common-password:26: pam_pwhistory.so comes before pam_pwquality.so"
    ]


def test_pwquality_conf_read_last_wins_over_our_dropin():
    stacks = stacks_of("bookworm-hardened")
    layers = [("/etc/security/pwquality.conf.d/50-bulwark-hardening.conf", {"minlen": ("14", 2)}),
              ("/etc/security/pwquality.conf", {"minlen": ("8", 11)})]  # fmt: skip
    drift, _effective = pam.judge_password_module(
        stacks["password"],
        PATHS["password"],
        "pam_pwquality.so",
        layers,
        wanted={"minlen": "14", "dictcheck": "1"},
        defaults=pam.DEFAULTS["pwquality"],
    )
    assert drift == [
        "/etc/pam.d/common-password:25: pam_pwquality.so minlen is 8 (from /etc/security/pwquality.conf:11), wanted 14"
    ]


@pytest.mark.parametrize(
    ("wanted", "entry", "expected"),
    [
        (True, {"value": True}, True),
        (True, {"value": "1"}, True),
        (True, None, False),
        (False, None, True),
        (False, {"value": True}, False),
        ("5", {"value": "5"}, True),
        ("5", {"value": True}, False),
        ("5", None, False),
    ],
)
def test_same(wanted, entry, expected):
    assert pam.same(wanted, entry) is expected


# ----------------------------------------------------------------- guard


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("User admin may run the following commands on h:\n    (ALL) ALL\n", True),
        ("User admin may run the following commands on h:\n    (ALL : ALL) NOPASSWD: ALL\n", False),
        ("User admin may run the following commands on h:\n    (ALL) NOPASSWD: ALL\n    (root) /usr/bin/id\n", True),
        ("Matching Defaults entries for admin on h:\n    !authenticate\n\n"
         "User admin may run the following commands on h:\n    (ALL) ALL\n", False),
        ("User nobody is not allowed to run sudo on h.\n", False),
    ],
)  # fmt: skip
def test_sudo_needs_password(text, expected):
    assert pam.sudo_needs_password(text) is expected


def test_sudo_needs_password_from_the_sudo_fixture():
    with open(
        os.path.join(os.path.dirname(__file__), "fixtures", "sudo-l-bookworm-override-admin.txt"), encoding="utf-8"
    ) as handle:
        assert pam.sudo_needs_password(handle.read()) is True


def test_empty_password_users():
    shadow = "root:*:1::::::\nadmin::19000:0:99999:7:::\nbob:$y$j9T$x:1::::::\n"
    assert pam.empty_password_users(shadow, ["admin", "bob", "root"]) == ["admin"]


PROTECT = [{"user": "admin", "sudo_needs_password": True}, {"user": "robot", "sudo_needs_password": False}]


@pytest.mark.parametrize(
    ("faillock", "unix", "empty", "errors", "warnings"),
    [
        ({"deny": "5", "unlock_time": "0"}, None, [], ["until someone runs faillock --reset"], []),
        ({"deny": "5", "unlock_time": "900"}, None, [], [],
         ["5 wrong sudo passwords lock admin's sudo (and logins) for 900"]),
        ({"deny": "0", "unlock_time": "0"}, None, [], [], []),
        # What pam_faillock reads as 0 or never, however it is written.
        ({"deny": 5, "unlock_time": "00"}, None, [], ["until someone runs faillock --reset"], []),
        ({"deny": "5", "unlock_time": 0}, None, [], ["until someone runs faillock --reset"], []),
        ({"deny": "5", "unlock_time": " never"}, None, [], ["until someone runs faillock --reset"], []),
        ({"deny": "000", "unlock_time": "0"}, None, [], [], []),
        ({}, None, [], [], ["3 wrong sudo passwords lock admin's sudo (and logins) for 600"]),
        (None, {"nullok": False}, ["admin"], ["nullok removed while admin has an empty password"], []),
        (None, {"nullok": True}, ["admin"], [], []),
    ],
)  # fmt: skip
def test_guard(faillock, unix, empty, errors, warnings):
    got_errors, got_warnings = pam.guard(faillock, unix, PROTECT, empty)
    assert len(got_errors) == len(errors) and all(want in got for want, got in zip(errors, got_errors))
    assert len(got_warnings) == len(warnings) and all(want in got for want, got in zip(warnings, got_warnings))
    assert all("robot" not in message for message in got_errors + got_warnings)
    if errors and faillock:
        assert "admin" in got_errors[0]


def test_a_yaml_no_on_a_number_is_refused_and_a_flag_may_be_off():
    with pytest.raises(ValueError, match="pwquality: minlen takes a number or a word, got False"):
        pam.normalize_settings("pwquality", {"minlen": False})
    assert pam.normalize_settings("pwquality", {"enforce_for_root": False}) == {"enforce_for_root": False}
    assert pam.normalize_settings("pwhistory", {"use_authtok": True}) == {"use_authtok": True}

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _logindefs as ld

# Days since 1970-01-01: 2026-12-07 is day 20794.
TODAY = 20794
assert ld.day(TODAY) == "2026-12-07"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("365", 365),
        ("027", 23),
        ("0027", 23),
        ("0x1f", 31),
        ("-1", -1),
        ("+7", 7),
        ("  12", 12),  # strtol skips leading white space
        ("0", 0),
        ("08", None),  # not octal: strtol stops at 8
        ("0x", None),
        ("12 ", None),  # the whole string must be the number
        ("12abc", None),
        ("", None),
        ("YESCRYPT", None),
    ],
)
def test_c_number_reads_as_strtol_base_0(text, expected):
    assert ld.c_number(text) == expected


@pytest.mark.parametrize(
    "value, expected",
    [(None, 99), ("365", 365), ("abc", 99), ("4294967296", 99), ("0365", 245)],
)
def test_getdef_num(value, expected):
    assert ld.getdef_num(value, 99) == expected


@pytest.mark.parametrize(
    "line, expected",
    [
        ("PASS_MAX_DAYS\t99999\n", ("PASS_MAX_DAYS", "99999")),
        ("  PASS_MAX_DAYS   365   \n", ("PASS_MAX_DAYS", "365")),
        ("\tUMASK\t\t022\n", ("UMASK", "022")),
        ('ENCRYPT_METHOD "SHA512"\n', ("ENCRYPT_METHOD", "SHA512")),
        ('ENCRYPT_METHOD  " SHA512" trailing\n', ("ENCRYPT_METHOD", "SHA512")),  # blanks and quotes skipped
        ('KEY a"b\n', ("KEY", "a")),  # the value ends at the next quote
        ("UMASK 027 # group may read\n", ("UMASK", "027 # group may read")),  # no trailing comments in getdef
        ("# PASS_MAX_DAYS 365\n", None),
        ("   #PASS_MAX_DAYS 365\n", None),
        ("PASS_MAX_DAYS\n", None),  # a key alone
        ("PASS_MAX_DAYS   \n", None),  # trailing blanks trimmed first: a key alone
        ("\n", None),
        ("PASS_MAX_DAYS=365\n", None),  # no blank: one field
        ("PASS_MAX_DAYS 365\r\n", ("PASS_MAX_DAYS", "365")),
    ],
)
def test_getdef_line(line, expected):
    assert ld.getdef_line(line) == expected


def test_resolve_getdef_last_line_wins():
    text = "PASS_MAX_DAYS 99999\n# PASS_MAX_DAYS 1\nPASS_MAX_DAYS\t365\nUMASK 022\n"
    assert ld.resolve_getdef(text) == {"PASS_MAX_DAYS": "365", "UMASK": "022"}


DEBIAN = """#
# /etc/login.defs - Configuration control definitions for the login package.
#
MAIL_DIR        /var/mail
#
# Password aging controls:
#
#\tPASS_MAX_DAYS\tMaximum number of days a password may be used.
PASS_MAX_DAYS\t99999
PASS_MIN_DAYS\t0
PASS_WARN_AGE\t7
UMASK\t\t022
#ENCRYPT_METHOD SHA512
"""


def test_edit_login_defs_in_place():
    wanted = {
        "PASS_MAX_DAYS": "365",
        "PASS_MIN_DAYS": "1",
        "PASS_WARN_AGE": "7",
        "UMASK": "027",
        "ENCRYPT_METHOD": "YESCRYPT",
    }
    after = ld.edit_login_defs(DEBIAN, wanted)
    assert (
        after
        == DEBIAN.replace("PASS_MAX_DAYS\t99999", "PASS_MAX_DAYS\t365")
        .replace("PASS_MIN_DAYS\t0", "PASS_MIN_DAYS\t1")
        .replace("UMASK\t\t022", "UMASK\t\t027")
        + "ENCRYPT_METHOD\tYESCRYPT\n"
    )
    assert ld.edit_login_defs(after, wanted) == after
    resolved = ld.resolve_getdef(after)
    assert {key: resolved[key] for key in wanted} == wanted


def test_edit_comments_out_every_other_active_line_and_replaces_the_one_in_effect():
    text = 'PASS_MAX_DAYS 30\n  PASS_MAX_DAYS   99999\nUMASK 022\nPASS_MAX_DAYS\t"400"\n'
    after = ld.edit_login_defs(text, {"PASS_MAX_DAYS": "365"})
    assert after == "#PASS_MAX_DAYS 30\n#  PASS_MAX_DAYS   99999\nUMASK 022\nPASS_MAX_DAYS\t365\n"
    assert ld.edit_login_defs(after, {"PASS_MAX_DAYS": "365"}) == after


def test_edit_keeps_a_line_whose_value_is_already_in_effect():
    text = 'UMASK "0027"\nENCRYPT_METHOD "YESCRYPT"\n'
    assert ld.edit_login_defs(text, {"UMASK": "027", "ENCRYPT_METHOD": "YESCRYPT"}) == text
    # A text key is compared as text: shadow reads the method case-sensitively.
    assert ld.edit_login_defs("ENCRYPT_METHOD yescrypt", {"ENCRYPT_METHOD": "YESCRYPT"}) == "ENCRYPT_METHOD YESCRYPT"


def test_edit_appends_after_a_last_line_without_newline_and_to_an_empty_file():
    assert ld.edit_login_defs("UMASK 022", {"PASS_MAX_DAYS": "365"}) == "UMASK 022\nPASS_MAX_DAYS\t365\n"
    assert ld.edit_login_defs("", {"PASS_MAX_DAYS": "365"}) == "PASS_MAX_DAYS\t365\n"


def test_a_value_with_a_trailing_comment_is_not_in_effect_and_is_replaced():
    text = "PASS_MAX_DAYS 365 # CIS\n"
    assert ld.getdef_num(ld.resolve_getdef(text)["PASS_MAX_DAYS"], -1) == -1
    assert ld.edit_login_defs(text, {"PASS_MAX_DAYS": "365"}) == "PASS_MAX_DAYS 365\n"


USERADD = "# useradd defaults file\nGROUP=100\nHOME=/home\n# INACTIVE=30\nSHELL=/bin/sh\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", -1),
        (USERADD, -1),
        ("INACTIVE=45\n", 45),
        ("INACTIVE=45\nINACTIVE=30\n", 30),
        ("INACTIVE=30\nINACTIVE=abc\n", -1),  # an invalid value resets it
        ("INACTIVE=45 \n", -1),  # nothing is trimmed
        ("INACTIVE =45\n", -1),  # the key is exact
        (" INACTIVE=45\n", -1),
        ("INACTIVE=-5\n", -1),
        ("INACTIVE=030\n", 24),
    ],
)
def test_resolve_useradd(text, expected):
    assert ld.resolve_useradd(text) == expected


def test_edit_useradd():
    after = ld.edit_useradd(USERADD, 45)
    assert after == USERADD + "INACTIVE=45\n"
    assert ld.edit_useradd(after, 45) == after
    assert ld.resolve_useradd(after) == 45
    text = "INACTIVE=30\nSHELL=/bin/sh\nINACTIVE=-1\n"
    assert ld.edit_useradd(text, 45) == "#INACTIVE=30\nSHELL=/bin/sh\nINACTIVE=45\n"
    assert ld.edit_useradd("INACTIVE=045\n", 37) == "INACTIVE=045\n"  # octal 45 is 37: in effect already


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"PASS_MAX_DAYS": 365, "UMASK": "027"}, {"PASS_MAX_DAYS": "365", "UMASK": "027"}),
        ({"UMASK": 23}, {"UMASK": "027"}),  # YAML's unquoted 027
        ({"UMASK": 0}, {"UMASK": "0"}),
        ({"ENCRYPT_METHOD": " YESCRYPT "}, {"ENCRYPT_METHOD": "YESCRYPT"}),
        ({"PASS_MAX_DAYS": "-1"}, {"PASS_MAX_DAYS": "-1"}),
    ],
)
def test_normalize_settings(settings, expected):
    assert ld.normalize_settings(settings) == (expected, [])


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"PASS_MAX_DAYS": True}, "settings: PASS_MAX_DAYS must be a string or an integer, got bool True"),
        ({"PASS_MAX_DAYS": "a year"}, "settings: PASS_MAX_DAYS must be a number, got 'a year'"),
        ({"PASS_MAX_DAYS": -2}, "settings: PASS_MAX_DAYS must be -1 or more, got -2"),
        ({"pass_max_days": 365}, "'pass_max_days' is not a login.defs key"),
        ({"ENCRYPT_METHOD": "yescrypt"}, "ENCRYPT_METHOD must be one of DES, MD5, SHA256, SHA512, BCRYPT, YESCRYPT"),
        ({"ENV_PATH": 'PATH="/bin"'}, "settings: ENV_PATH needs a value on one line without double quotes"),
        ({"UMASK": -1}, "settings: UMASK must not be negative, got -1"),
        ({"PASS_MIN_DAYS": 400, "PASS_MAX_DAYS": 365}, "PASS_MIN_DAYS 400 is more than PASS_MAX_DAYS 365"),
    ],
)
def test_normalize_settings_refuses_naming_the_key(settings, words):
    _wanted, errors = ld.normalize_settings(settings)
    assert any(words in error for error in errors), errors


def test_targets_of():
    wanted = {"PASS_MAX_DAYS": "365", "PASS_MIN_DAYS": "1", "UMASK": "027"}
    assert ld.targets_of(wanted, 45) == {"max": 365, "min": 1, "inactive": 45}
    assert ld.targets_of({}, None) == {}


SHADOW = """root:$y$j9T$abc:20000:0:99999:7:::
daemon:*:19000:0:99999:7:::
alice:$y$j9T$def:20700:0:99999:7:::
locked:!$y$j9T$ghi:20000:0:99999:7:::
empty::20000:0:99999:7:::
+nis::::::::
short:$6$x
"""


def test_parse_shadow():
    entries = ld.parse_shadow(SHADOW)
    assert [entry["name"] for entry in entries] == ["root", "daemon", "alice", "locked", "empty", "short"]
    assert entries[2] == {
        "name": "alice", "hash": "$y$j9T$def", "lastchg": 20700, "min": 0, "max": 99999, "warn": 7,
        "inactive": None, "expire": None,
    }  # fmt: skip
    assert entries[5]["lastchg"] is None and entries[5]["max"] is None


def test_parse_shadow_refuses_a_field_that_is_not_a_number():
    with pytest.raises(ValueError, match=r"the max days of bob is not a number: 'x'"):
        ld.parse_shadow("bob:$6$h:20000:0:x:7:::\n")


def test_parse_passwd():
    text = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n+nis:x:::::\nbad\n"
    assert ld.parse_passwd(text) == {"root": 0, "alice": 1000}


@pytest.mark.parametrize(
    "value, usable", [("$y$abc", True), ("abJnggxhB/yWI", True), ("", False), ("!", False), ("*", False),
                      ("!*", False), ("!$y$abc", False)],
)  # fmt: skip
def test_usable_hash(value, usable):
    assert ld.usable_hash(value) is usable


def entry(**fields):
    base = {"name": "u", "hash": "$y$h", "lastchg": TODAY - 10, "min": 0, "max": 99999, "warn": 7, "inactive": None}
    return {**base, "expire": None, **fields}


TARGETS = {"max": 365, "min": 1, "warn": 7, "inactive": 45}


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, {"max": 365, "min": 1, "warn": 7, "inactive": 45}),
        # Stricter values kept.
        ({"max": 90, "min": 7, "warn": 14, "inactive": 30}, {"max": 90, "min": 7, "warn": 14, "inactive": 30}),
        # Not stricter: max 0 or -1, inactive -1, a minimum above the new maximum.
        ({"max": 0, "inactive": -1}, {"max": 365, "min": 1, "warn": 7, "inactive": 45}),
        ({"max": -1, "min": 400}, {"max": 365, "min": 1, "warn": 7, "inactive": 45}),
        ({"max": None, "min": None, "warn": None}, {"max": 365, "min": 1, "warn": 7, "inactive": 45}),
    ],
)
def test_planned_aging(fields, expected):
    assert ld.planned_aging(entry(**fields), TARGETS) == expected


def test_planned_aging_leaves_fields_without_a_target():
    assert ld.planned_aging(entry(max=500, inactive=3), {"max": 365}) == {
        "max": 365, "min": 0, "warn": 7, "inactive": 3,
    }  # fmt: skip


@pytest.mark.parametrize(
    "lastchg, aging, words",
    [
        (TODAY - 10, {"max": 365, "inactive": 45}, None),
        (TODAY - 365, {"max": 365, "inactive": None}, None),  # expires at the end of its last day
        (TODAY - 366, {"max": 365, "inactive": None}, "would have expired on 2026-12-06 with max 365 days"),
        (TODAY - 400, {"max": 365, "inactive": 45}, "would have expired on 2026-11-02 with max 365 days"),
        (
            TODAY - 500,
            {"max": 365, "inactive": 45},
            "45 inactive days ended on 2026-09-08: the account would be locked",
        ),
        (0, {"max": 365, "inactive": 45}, "its last password change is 0"),
        (0, {"max": None, "inactive": None}, "must be changed at the next login"),
        (None, {"max": 365, "inactive": None}, "it has no last change date"),
        (None, {"max": None, "inactive": None}, None),
        (TODAY + 30, {"max": 1, "inactive": 0}, None),  # in the future: pam_unix lets it in
        (TODAY - 5000, {"max": -1, "inactive": 45}, None),
    ],
)
def test_login_refusal_as_pam_unix(lastchg, aging, words):
    refusal = ld.login_refusal(lastchg, aging, TODAY)
    if words is None:
        assert refusal is None
    else:
        assert words in refusal


def test_findings():
    entries = ld.parse_shadow(f"a:$6$h:{TODAY + 1}:0:99999:7:::\nb::{TODAY}:0:99999:7:::\nc:$6$h:{TODAY}::::::\n")
    assert ld.findings_of(entries, TODAY) == [
        {"user": "a", "control": "5.4.1.6", "message": "last password change 2026-12-08 is in the future"},
        {"user": "b", "control": "7.2.2", "message": "empty password field: no password asked"},
    ]


UIDS = {"root": 0, "daemon": 1, "admin": 1000, "alice": 1001, "old": 1002, "fresh": 1003, "svc": 1004, "nis": 1005}


def accounts():
    return ld.parse_shadow(
        f"root:$y$r:{TODAY - 900}:0:99999:7:::\n"
        f"daemon:*:{TODAY - 900}:0:99999:7:::\n"
        f"admin:$y$a:{TODAY - 10}:0:99999:7:::\n"
        f"alice:$y$b:{TODAY - 10}:1:90:7:30::\n"
        f"old:$y$c:{TODAY - 900}:0:99999:7:::\n"
        f"fresh:$y$d:0:0:99999:7:::\n"
        f"svc:$y$e:{TODAY - 900}:0:99999:7:::\n"
        f"ghost:$y$f:{TODAY - 10}:0:99999:7:::\n"
        f"locked:!:{TODAY - 900}:0:99999:7:::\n"
    )


def test_plan_accounts():
    changes, skipped, refusals = ld.plan_accounts(
        accounts(), UIDS, TARGETS, TODAY, uid_min=1000, protect=["admin"], exclude=["svc"]
    )
    # alice is stricter everywhere, root and daemon are below UID_MIN, locked has no usable password.
    assert changes == {
        "admin": {
            "before": {"max": 99999, "min": 0, "warn": 7, "inactive": None},
            "after": {"max": 365, "min": 1, "warn": 7, "inactive": 45},
        },
    }
    assert skipped == {
        "old": "left as it is: new ageing would lock it out today - its password (last changed 2024-06-20) would"
        " have expired on 2025-06-20 with max 365 days and its 45 inactive days ended on 2025-08-04: the account"
        " would be locked",
        "fresh": "left as it is: new ageing would lock it out today - its last password change is 0: the password"
        " must be changed at the next login",
        "svc": "left as it is: excluded (option exclude)",
        "ghost": "left as it is: not in /etc/passwd, so its UID is unknown",
    }
    assert refusals == []


@pytest.mark.parametrize("name", ["old", "fresh"])
def test_plan_accounts_refuses_for_a_protected_user(name):
    _changes, skipped, refusals = ld.plan_accounts(accounts(), UIDS, TARGETS, TODAY, uid_min=1000, protect=[name])
    assert name not in skipped
    (message,) = refusals
    assert message.startswith(f"{name} is protected (the connection's user) and new password ageing would lock it out")
    assert f"passwd {name}" in message and f"chage -d 2026-12-07 {name}" in message and f"exclude: [{name}]" in message


def test_plan_accounts_from_uid_min_and_a_protected_user_with_nothing_to_change():
    changes, skipped, refusals = ld.plan_accounts(accounts(), UIDS, TARGETS, TODAY, uid_min=0, protect=["alice"])
    assert "root" in skipped and "would be locked" in skipped["root"]
    assert "daemon" not in skipped  # no password
    assert set(changes) == {"admin"}
    assert refusals == []


def test_plan_accounts_changes_a_recent_password_below_its_expiry():
    entries = ld.parse_shadow(f"bob:$y$h:{TODAY - 300}:0:99999:7:::\n")
    changes, skipped, refusals = ld.plan_accounts(entries, {"bob": 1000}, {"max": 365}, TODAY, uid_min=1000)
    assert changes["bob"]["after"]["max"] == 365 and not skipped and not refusals
    changes, skipped, _refusals = ld.plan_accounts(entries, {"bob": 1000}, {"max": 299}, TODAY, uid_min=1000)
    assert not changes and "would have expired on" in skipped["bob"]


def test_expiry_warnings_for_a_protected_user_close_to_expiry():
    entries = ld.parse_shadow(f"admin:$y$h:{TODAY - 360}:0:99999:7:::\nbob:$y$h:{TODAY - 360}:0:99999:7:::\n")
    changes, _skipped, _refusals = ld.plan_accounts(
        entries, {"admin": 1000, "bob": 1001}, {"max": 365}, TODAY, uid_min=1000, protect=["admin"]
    )
    assert set(changes) == {"admin", "bob"}
    assert ld.expiry_warnings(entries, changes, ["admin"], TODAY) == [
        "admin (protected): with the new ageing its password expires on 2026-12-12, in 5 days; then pam_unix forces"
        " a change and a key-only login fails - set a new password first"
    ]
    assert ld.expiry_warnings(entries, changes, ["admin"], TODAY - 30) == []


def test_chage_argv_sets_only_what_differs():
    before = {"max": 99999, "min": 0, "warn": 7, "inactive": None}
    after = {"max": 365, "min": 1, "warn": 7, "inactive": 45}
    assert ld.chage_argv("/usr/bin/chage", "bob", before, after) == [
        "/usr/bin/chage", "--maxdays", "365", "--mindays", "1", "--inactive", "45", "bob",
    ]  # fmt: skip
    assert ld.chage_argv("chage", "bob", before, after, "/srv/root")[:3] == ["chage", "--root", "/srv/root"]

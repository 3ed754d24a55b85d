# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._apt_updates import (
    apt_conf_parts,
    apt_literal,
    days_between,
    last_runs,
    matches_any,
    origin_matches,
    parse_log,
    parse_pattern,
    parse_reboot_pkgs,
    parse_release_date,
    release_candidates,
    same_setting,
    settings_drift,
    summarise,
    winning_file,
)

SECURITY_12 = {
    "origin": "Debian",
    "label": "Debian-Security",
    "archive": "oldstable-security",
    "codename": "bookworm-security",
    "component": "main",
    "site": "deb.debian.org",
}
MAIN_12 = {
    "origin": "Debian",
    "label": "Debian",
    "archive": "oldstable",
    "codename": "bookworm",
    "component": "main",
    "site": "deb.debian.org",
}
SECURITY_PATTERN = "origin=Debian,codename=${distro_codename}-security,label=Debian-Security"
UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (SECURITY_PATTERN, {"origin": "Debian", "codename": "bookworm-security", "label": "Debian-Security"}),
        ("o=Debian,a=stable", {"origin": "Debian", "archive": "stable"}),
        ("suite=x,n=y,l=z,c=main,site=example.org",
         {"archive": "x", "codename": "y", "label": "z", "component": "main", "site": "example.org"}),
        ("origin=${distro_id} Backports", {"origin": "Debian Backports"}),
        ("origin=A\\,B,label=C", {"origin": "A,B", "label": "C"}),
        ("origin=", {"origin": ""}),
    ],
)  # fmt: skip
def test_parse_pattern(pattern, expected):
    assert parse_pattern(pattern, "Debian", "bookworm") == expected


@pytest.mark.parametrize("pattern", ["bad", "origin=Debian,suitex=y", "Debian:bookworm-security", ""])
def test_parse_pattern_refuses_and_names_the_entry(pattern):
    with pytest.raises(ValueError, match="origin pattern"):
        parse_pattern(pattern, "Debian", "bookworm")


@pytest.mark.parametrize(
    ("pattern", "origin", "expected"),
    [
        (SECURITY_PATTERN, SECURITY_12, True),
        # Debian's default point-release pattern does not match the security archive ...
        ("origin=Debian,codename=${distro_codename},label=Debian", SECURITY_12, False),
        # ... and the security pattern does not match the main archive.
        (SECURITY_PATTERN, MAIN_12, False),
        # A suite-name pattern written for Debian 12 as "stable" no longer matches it.
        ("origin=Debian,archive=stable-security", SECURITY_12, False),
        ("origin=Deb*,label=*-Security", SECURITY_12, True),
        ("origin=debian", SECURITY_12, False),  # case-sensitive, as in unattended-upgrades
        ("site=deb.debian.org", {"origin": "x", "site": None}, False),
    ],
)
def test_origin_matches(pattern, origin, expected):
    assert origin_matches(parse_pattern(pattern, "Debian", "bookworm"), origin) is expected


def test_matches_any_needs_one_pattern_and_one_origin():
    patterns = [parse_pattern(SECURITY_PATTERN, "Debian", "bookworm")]
    assert matches_any(patterns, [MAIN_12, SECURITY_12])
    assert not matches_any(patterns, [MAIN_12])
    assert not matches_any([], [SECURITY_12])


LOG = """\
2026-11-20 06:10:01,100 INFO Starting unattended upgrades script
2026-11-20 06:10:01,101 INFO Allowed origins are: origin=Debian,codename=bookworm-security,label=Debian-Security
2026-11-20 06:10:09,500 INFO All upgrades installed
2026-11-21 06:12:00,000 INFO Starting unattended upgrades script
2026-11-21 06:12:05,000 ERROR Installing the upgrades failed!
2026-11-21 06:12:05,001 ERROR error message: 'E:Sub-process /usr/bin/dpkg returned an error code (1)'
2026-11-21 06:12:05,002 INFO All upgrades installed
2026-11-22 06:01:00,000 INFO Starting unattended upgrades script
2026-11-22 06:01:03,000 DEBUG pkgs that look like they should be upgraded: libssl3
libapt-pkg6.0
2026-11-22 06:01:04,000 INFO Option --dry-run given, *not* performing real actions
2026-11-22 06:01:05,000 INFO All upgrades installed
"""


def test_parse_log_splits_runs_and_judges_each():
    runs = parse_log(LOG)
    assert [(r["start"].day, r["success"], r["dry_run"]) for r in runs] == [
        (20, True, False),
        (21, False, False),
        (22, True, True),
    ]
    assert runs[1]["errors"][0] == "Installing the upgrades failed!"


@pytest.mark.parametrize(
    ("text", "last_day", "good_day"),
    [
        (LOG, 21, 20),  # the dry run does not count; the failed run is the last real one
        ("2026-11-23 06:00:00,000 INFO Starting unattended upgrades script\n"
         "2026-11-23 06:00:01,000 INFO No packages found that can be upgraded unattended"
         " and no pending auto-removals\n",
         23, 23),
        # A run that never reached its end (killed, lock held) is not a success.
        ("2026-11-23 06:00:00,000 INFO Starting unattended upgrades script\n", 23, None),
        ("", None, None),
        # Lines before the first start (a rotated log's tail) are ignored.
        ("2026-11-19 06:00:01,000 INFO All upgrades installed\n", None, None),
    ],
)  # fmt: skip
def test_last_runs(text, last_day, good_day):
    last, good = last_runs(parse_log(text))
    assert (last["start"].day if last else None) == last_day
    assert (good["start"].day if good else None) == good_day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Origin: Debian\nDate: Sat, 21 Nov 2026 00:53:02 UTC\nValid-Until: x\n",
         datetime.datetime(2026, 11, 21, 0, 53, 2, tzinfo=UTC)),
        ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nDate: Sat, 21 Nov 2026 02:53:02 +0200\n",
         datetime.datetime(2026, 11, 21, 0, 53, 2, tzinfo=UTC)),
        ("Origin: Debian\n", None),
        ("Date: yesterday\n", None),
    ],
)  # fmt: skip
def test_parse_release_date(text, expected):
    assert parse_release_date(text) == expected


@pytest.mark.parametrize(
    ("index", "expected_first"),
    [
        ("/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages",
         "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_InRelease"),
        ("/var/lib/apt/lists/_srv_repo_._Packages", "/var/lib/apt/lists/_srv_repo_._InRelease"),
    ],
)  # fmt: skip
def test_release_candidates(index, expected_first):
    paths = release_candidates(index)
    assert paths[0] == expected_first
    assert paths[1] == expected_first.replace("_InRelease", "_Release")
    if "dists" in index:
        assert "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease" in paths
    assert all(p.endswith(("_InRelease", "_Release")) for p in paths)


def test_release_candidates_of_a_name_without_separator():
    assert release_candidates("Packages") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [("linux-image-6.1.0-28-amd64\nlibc6\nlibc6\n", ["libc6", "linux-image-6.1.0-28-amd64"]), ("\n", []), ("", [])],
)
def test_parse_reboot_pkgs(text, expected):
    assert parse_reboot_pkgs(text) == expected


@pytest.mark.parametrize(
    ("earlier", "later", "days"),
    [
        (datetime.datetime(2026, 11, 1, 12), datetime.datetime(2026, 11, 10, 11), 8),
        (datetime.datetime(2026, 11, 10, 12), datetime.datetime(2026, 11, 10, 11), 0),
    ],
)
def test_days_between(earlier, later, days):
    assert days_between(earlier, later) == days


def test_summarise_counts_security_and_takes_the_oldest_date():
    now = datetime.datetime(2026, 11, 24, 12, tzinfo=UTC)
    pending = [
        {"name": "libssl3", "security": True, "security_since": datetime.datetime(2026, 11, 15, 9, tzinfo=UTC)},
        {"name": "tzdata", "security": True, "security_since": datetime.datetime(2026, 11, 20, tzinfo=UTC)},
        {"name": "vim", "security": False, "security_since": None},
        {"name": "fixture", "security": True, "security_since": None},
    ]
    assert summarise(pending, now) == {
        "pending_count": 4,
        "security_pending": 3,
        "security_packages": ["fixture", "libssl3", "tzdata"],
        "security_pending_since": "2026-11-15T09:00:00+00:00",
        "security_pending_days": 9,
    }


def test_summarise_without_pending_security_updates():
    result = summarise([{"name": "vim", "security": False, "security_since": None}], datetime.datetime.now(UTC))
    assert result["security_pending"] == 0
    assert result["security_pending_since"] is None
    assert result["security_pending_days"] is None


# ----------------------------------------------------------------- effective settings


def test_apt_conf_parts_keeps_what_apt_reads_in_its_order():
    names = ["99zz-local", "20auto-upgrades", "50x.conf", "60x.dpkg-old", ".hidden", "70 space", "10a~", "05b.bak"]
    assert apt_conf_parts(names) == ["20auto-upgrades", "50x.conf", "99zz-local"]


@pytest.mark.parametrize(
    ("expected", "found", "same"),
    [
        ("true", "true", True),
        ("true", "yes", True),
        ("false", "0", True),
        ("true", "false", False),
        ("1", "1", True),
        ("1", "01", True),
        ("1", "0", False),
        ("7", "true", False),
        ("02:00", "02:00", True),
        ("02:00", "03:00", False),
        ("", "", True),
        ("", None, False),
        (["a"], ["a"], True),
        (["a"], ["a", "openssl"], False),
        ([], [], True),
        ([], "x", False),
        ("1", ["1"], False),
    ],
)
def test_same_setting_compares_as_apt_reads(expected, found, same):
    assert same_setting(expected, found) is same


def test_a_list_that_need_only_contain_the_items():
    assert same_setting(["a"], ["x", "a"], contains=True)
    assert same_setting(["b", "a"], ["a", "b"], contains=True)
    assert not same_setting(["a"], ["x"], contains=True)
    assert not same_setting(["a"], [], contains=True)
    assert not same_setting(["a"], None, contains=True)


@pytest.mark.parametrize(
    ("history", "winner"),
    [
        ([], None),
        ([("/a/20", None), ("/a/90", None)], None),
        ([("/a/20", "1"), ("/a/90", "1"), ("/a/99", "0")], "/a/99"),
        ([("/a/20", "1"), ("/a/90", "0"), ("/a/99", "0")], "/a/90"),
        ([("/a/50", ["x"]), ("/a/90", ["y"]), ("/a/99", ["y", "z"])], "/a/99"),
        ([("/a/50", []), ("/a/90", ["y"]), ("/a/99", [])], "/a/99"),  # a #clear empties it
        ([("/a/50", []), ("/a/90", [])], None),
    ],
)
def test_winning_file_is_the_last_that_changed_the_value(history, winner):
    assert winning_file(history) == winner


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("APT::Periodic::Unattended-Upgrade", "1", 'APT::Periodic::Unattended-Upgrade "1";'),
        ("U::Package-Blacklist", ["a", "b"], 'U::Package-Blacklist { "a"; "b"; };'),
        ("U::Package-Blacklist", [], "U::Package-Blacklist { };"),
        ("U::Mail", None, "// U::Mail is not set"),
    ],
)
def test_apt_literal(name, value, line):
    assert apt_literal(name, value) == line


OURS = "/etc/apt/apt.conf.d/90bulwark-unattended-upgrades"
LATER = "/etc/apt/apt.conf.d/99zz-local"
PERIODIC = "APT::Periodic::Unattended-Upgrade"
SETTINGS = [
    {"name": PERIODIC, "value": "1", "variable": "unattended_upgrades_upgrade_interval"},
    {"name": "Unattended-Upgrade::MinimalSteps", "value": "true", "variable": "unattended_upgrades_minimal_steps"},
]


def test_settings_drift_names_the_later_file_the_setting_and_the_variable():
    effective = {PERIODIC: "0", "Unattended-Upgrade::MinimalSteps": "yes"}
    history = {
        PERIODIC: [("/etc/apt/apt.conf.d/20auto-upgrades", "1"), (OURS, "1"), (LATER, "0")],
        "Unattended-Upgrade::MinimalSteps": [(OURS, "true"), (LATER, "yes")],
    }
    drift = settings_drift(SETTINGS, effective, history, OURS)
    assert [d["name"] for d in drift] == [PERIODIC]  # "yes" is apt's "true"
    entry = drift[0]
    assert (entry["expected"], entry["found"], entry["file"]) == ("1", "0", LATER)
    assert entry["variable"] == "unattended_upgrades_upgrade_interval"
    assert entry["sentence"] == (
        f'apt\'s effective {PERIODIC} is "0" (set by {LATER}, read after {OURS}), '
        'not the declared "1" (unattended_upgrades_upgrade_interval)'
    )


def test_settings_drift_of_an_unset_value_and_an_unknown_source():
    effective = {PERIODIC: None, "Unattended-Upgrade::MinimalSteps": "false"}
    # The files read in order end on "true", apt says "false": APT_CONFIG or a reader apt does not share.
    history = {PERIODIC: [(OURS, None)], "Unattended-Upgrade::MinimalSteps": [(OURS, "true")]}
    drift = settings_drift(SETTINGS, effective, history, OURS)
    assert [(d["file"], d["found"]) for d in drift] == [(None, None), (None, "false")]
    assert "(set by no file)" in drift[0]["sentence"]
    assert "(from an unknown source)" in drift[1]["sentence"]


def test_settings_drift_of_our_own_file_does_not_say_read_after_it():
    drift = settings_drift(SETTINGS[:1], {PERIODIC: "0"}, {PERIODIC: [(OURS, "0")]}, OURS)
    assert f"(set by {OURS})" in drift[0]["sentence"]


def test_no_drift_when_apt_holds_the_declared_values():
    effective = {PERIODIC: "1", "Unattended-Upgrade::MinimalSteps": "true"}
    assert settings_drift(SETTINGS, effective, {}, OURS) == []

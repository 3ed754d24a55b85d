# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sudo helpers, fed with real ``sudo -l -U`` answers of sudo 1.9.13 (Debian 12) and 1.9.16 (Debian 13).

The fixtures were captured with ``LC_ALL=C sudo -l -U <user>`` in the bulwark/debian-systemd images, without a
terminal (one long line) and, for ``*-wrapped``, on a 50/60-column terminal (``script``, ``stty cols``).
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _sudo as sudo

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
RELEASES = ["bookworm", "trixie"]
WANTED = ["use_pty", "logfile", "timestamp_timeout"]


def sample(release, case):
    with open(os.path.join(FIXTURES, f"sudo-l-{release}-{case}.txt"), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize(
    "case, expected",
    [
        ("default-root", {"use_pty": True, "logfile": None, "timestamp_timeout": None}),
        ("ours-root", {"use_pty": True, "logfile": "/var/log/sudo.log", "timestamp_timeout": "15"}),
        ("override-root", {"use_pty": False, "logfile": "/var/log/my sudo,log", "timestamp_timeout": "30"}),
        ("override-admin", {"use_pty": True, "logfile": "/var/log/my sudo,log", "timestamp_timeout": "0"}),
        ("scoped", {"use_pty": True, "logfile": "/var/log/sudo.log", "timestamp_timeout": "15"}),
        ("scoped-wrapped", {"use_pty": True, "logfile": "/var/log/sudo.log", "timestamp_timeout": "15"}),
    ],
)
def test_real_answers_resolve_to_the_effective_values(release, case, expected):
    listing = sudo.parse_list_output(sample(release, case))
    assert listing["allowed"] is True
    assert sudo.resolve(listing["entries"], WANTED) == expected


@pytest.mark.parametrize("release", RELEASES)
def test_wrapped_answer_is_the_long_one(release):
    listing = sudo.parse_list_output(sample(release, "wrapped"))
    names = ["timestamp_timeout", "env_keep", "lecture_file", "mailfrom", "secure_path"]
    # What sudo -V printed for the same files: 5.0 minutes, env_keep C and B, the unescaped strings.
    assert sudo.resolve(listing["entries"], names) == {
        "timestamp_timeout": "5",
        "env_keep": ["B", "C"],
        "lecture_file": "/a,b",
        "mailfrom": 'x "y" z',
        "secure_path": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    }
    assert sudo.parse_list_output(sample(release, "scoped-wrapped")) == sudo.parse_list_output(
        sample(release, "scoped")
    )


@pytest.mark.parametrize("release", RELEASES)
def test_runas_and_command_defaults_are_kept_apart(release):
    listing = sudo.parse_list_output(sample(release, "scoped"))
    assert listing["specific"] == [
        {"kind": ">", "binding": "root", "entries": [("use_pty", "negate", None)]},
        {"kind": ">", "binding": "ALL,!nobody", "entries": [("timestamp_timeout", "=", "60")]},
        {
            "kind": "!",
            "binding": "/usr/bin/id,/usr/bin/who",
            "entries": [("logfile", "=", "/tmp/x.log"), ("use_pty", "negate", None)],
        },
        {"kind": "!", "binding": "/bin/ls", "entries": [("use_pty", "negate", None)]},
    ]
    assert ("use_pty", "flag", None) in listing["entries"]


@pytest.mark.parametrize("release", RELEASES)
def test_a_user_without_rules_has_no_listed_defaults(release):
    listing = sudo.parse_list_output(sample(release, "not-allowed"))
    assert listing == {"allowed": False, "entries": [], "specific": []}


@pytest.mark.parametrize("text", ["", "sudo: a password is required\n", "    env_reset\n"])
def test_parse_list_output_refuses_other_text(text):
    with pytest.raises(ValueError):
        sudo.parse_list_output(text)


@pytest.mark.parametrize(
    "text, entries",
    [
        ("a, b", ["a", "b"]),
        ('logfile="/var/log/my sudo,log", b', ['logfile="/var/log/my sudo,log"', "b"]),
        (r"lecture_file=/a\,b, c", [r"lecture_file=/a\,b", "c"]),
        ('mailfrom="x \\"y, z\\"",b', ['mailfrom="x \\"y, z\\""', "b"]),
        (" , a ,, ", ["a"]),
    ],
)
def test_split_entries(text, entries):
    assert sudo.split_entries(text) == entries


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("use_pty", ("use_pty", "flag", None)),
        ("!use_pty", ("use_pty", "negate", None)),
        ("!!use_pty", ("use_pty", "flag", None)),
        ("! lecture", ("lecture", "negate", None)),
        ("timestamp_timeout=15", ("timestamp_timeout", "=", "15")),
        ('logfile = "/var/log/a b.log"', ("logfile", "=", "/var/log/a b.log")),
        ('env_keep += "HOME EDITOR"', ("env_keep", "+=", "HOME EDITOR")),
        ("env_keep-=HOME", ("env_keep", "-=", "HOME")),
        (r"secure_path=/a\:/b", ("secure_path", "=", "/a:/b")),
        ('passprompt=""', ("passprompt", "=", "")),
    ],
)
def test_parse_entry(text, parsed):
    assert sudo.parse_entry(text) == parsed


@pytest.mark.parametrize("text", ["=15", "!timeout=5", "9lives", "a b"])
def test_parse_entry_names_a_bad_entry(text):
    with pytest.raises(ValueError, match="Defaults entry"):
        sudo.parse_entry(text)


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([], None),
        ([("use_pty", "flag", None)], True),
        ([("use_pty", "flag", None), ("use_pty", "negate", None)], False),
        ([("use_pty", "negate", None), ("use_pty", "flag", None)], True),
        ([("env_keep", "=", "A B"), ("env_keep", "+=", "C A")], ["A", "B", "C"]),
        ([("env_keep", "+=", "A"), ("env_keep", "-=", "A")], []),
        ([("env_keep", "+=", "A"), ("env_keep", "=", "B")], "B"),
        ([("env_keep", "+=", "A"), ("env_keep", "negate", None)], False),
    ],
)
def test_resolve_later_wins(entries, expected):
    name = entries[0][0] if entries else "use_pty"
    assert sudo.resolve(entries, [name]) == {name: expected}


def test_resolve_starts_from_the_general_values():
    start = {"use_pty": True, "logfile": "/l"}
    assert sudo.resolve([("use_pty", "negate", None)], list(start), start=start) == {"use_pty": False, "logfile": "/l"}


@pytest.mark.parametrize(
    "wanted, effective, same",
    [
        (True, True, True),
        (True, False, False),
        (True, None, False),
        (False, None, False),
        (False, False, True),
        (15, "15", True),
        (15, "15.0", True),
        ("15", "15", True),
        (15, "30", False),
        (15, None, False),
        (15, False, False),
        ("/var/log/sudo.log", "/var/log/sudo.log", True),
        ("/var/log/sudo.log", "/var/log/other.log", False),
        ("/var/log/sudo.log", True, False),
        ("HOME EDITOR", ["EDITOR", "HOME"], True),
        ("HOME", ["EDITOR", "HOME"], False),
    ],
)
def test_same_value(wanted, effective, same):
    assert sudo.same_value(wanted, effective) is same


SUDOERS = """\
# comment, with Defaults use_pty in it
Defaults\tenv_reset
Defaults:root   !use_pty, timestamp_timeout=30 # a comment
Defaults@web1 logfile="/var/log/a#b.log"
Defaults>root lecture=always
Defaults!/usr/bin/id, /usr/bin/who !requiretty
Defaults mailto="root@example.com", \\
    passprompt="pw, please: "
Defaults:alice, %wheel timestamp_timeout=0
root ALL=(ALL:ALL) ALL
DefaultsX is not a Defaults line
@includedir /etc/sudoers.d
#includedir "/etc/other dir"
#include /etc/sudoers.%h
"""


def test_parse_sudoers_lines_and_includes():
    assert sudo.parse_sudoers(SUDOERS) == [
        {"line": 2, "kind": "", "binding": "", "entries": [("env_reset", "flag", None)]},
        {
            "line": 3,
            "kind": ":",
            "binding": "root",
            "entries": [("use_pty", "negate", None), ("timestamp_timeout", "=", "30")],
        },
        {"line": 4, "kind": "@", "binding": "web1", "entries": [("logfile", "=", "/var/log/a#b.log")]},
        {"line": 5, "kind": ">", "binding": "root", "entries": [("lecture", "=", "always")]},
        {"line": 6, "kind": "!", "binding": "/usr/bin/id,/usr/bin/who", "entries": [("requiretty", "negate", None)]},
        {
            "line": 7,
            "kind": "",
            "binding": "",
            "entries": [("mailto", "=", "root@example.com"), ("passprompt", "=", "pw, please: ")],
        },
        {"line": 9, "kind": ":", "binding": "alice,%wheel", "entries": [("timestamp_timeout", "=", "0")]},
        {"line": 12, "include": "includedir", "path": "/etc/sudoers.d"},
        {"line": 13, "include": "includedir", "path": "/etc/other dir"},
        {"line": 14, "include": "include", "path": "/etc/sudoers.%h"},
    ]


@pytest.mark.parametrize("text", ["Defaults\n", "Defaults:root\n", "Defaults =5\n"])
def test_parse_sudoers_names_the_bad_line(text):
    with pytest.raises(ValueError, match="line 1"):
        sudo.parse_sudoers(text)


@pytest.mark.parametrize(
    "names, order",
    [
        (["b", "a", "README", "10-x"], ["10-x", "README", "a", "b"]),
        (["ours~", "x.dpkg-old", "x.bak", "ok", ".hidden"], ["ok"]),
        (["Z", "a", "_"], ["Z", "_", "a"]),
    ],
)
def test_includedir_names(names, order):
    assert sudo.includedir_names(names) == order


@pytest.mark.parametrize(
    "path, including, hostname, expected",
    [
        ("/etc/sudoers.d", "/etc/sudoers", "", "/etc/sudoers.d"),
        ("sudoers.d", "/etc/sudoers", "", "/etc/sudoers.d"),
        ("/etc/sudoers.%h", "/etc/sudoers", "web1.example.com", "/etc/sudoers.web1"),
        ("/etc/100%%", "/etc/sudoers", "web1", "/etc/100%"),
    ],
)
def test_include_path(path, including, hostname, expected):
    assert sudo.include_path(path, including, hostname) == expected


def test_read_sudoers_follows_sudos_include_order(tmp_path):
    main = tmp_path / "sudoers"
    drop = tmp_path / "sudoers.d"
    drop.mkdir()
    main.write_text(
        "Defaults use_pty\n@includedir sudoers.d\n#include extra\n@include missing\nDefaults timestamp_timeout=5\n"
    )
    (tmp_path / "extra").write_text("Defaults logfile=/var/log/extra.log\n")
    (drop / "zz-local").write_text("Defaults !use_pty\n")
    (drop / "bulwark-hardening").write_text("Defaults use_pty\n")
    (drop / "skipped.conf").write_text("Defaults !use_pty\n")
    (drop / "skipped~").write_text("Defaults !use_pty\n")
    (drop / "README").write_text("# nothing\n")
    items = sudo.read_sudoers(str(main))
    assert [(os.path.basename(item["file"]), item["line"]) for item in items] == [
        ("sudoers", 1),
        ("bulwark-hardening", 1),
        ("zz-local", 1),
        ("extra", 1),
        ("sudoers", 5),
    ]


def test_read_sudoers_stops_an_include_loop(tmp_path):
    main = tmp_path / "sudoers"
    main.write_text("@include sudoers\n")
    with pytest.raises(ValueError, match="nested deeper"):
        sudo.read_sudoers(str(main))


def test_read_sudoers_names_the_file_of_a_bad_line(tmp_path):
    main = tmp_path / "sudoers"
    main.write_text("@include bad\n")
    (tmp_path / "bad").write_text("\nDefaults\n")
    with pytest.raises(ValueError, match=r"bad: line 2"):
        sudo.read_sudoers(str(main))


@pytest.mark.parametrize(
    "kind, binding, user, groups, applies",
    [
        ("", "", "root", [], True),
        ("@", "web1", "root", [], True),
        (":", "root", "root", [], True),
        (":", "alice", "root", [], False),
        (":", "alice,root", "root", [], True),
        (":", "%sudo", "admin", ["sudo"], True),
        (":", "%sudo", "root", ["root"], False),
        (":", "ALL,!root", "root", [], False),
        (":", "ALL,!root", "admin", [], True),
        (":", "ADMINS", "admin", [], True),
        (">", "root", "root", [], False),
        ("!", "/usr/bin/id", "root", [], False),
    ],
)
def test_binding_applies(kind, binding, user, groups, applies):
    assert sudo.binding_applies(kind, binding, user, groups) is applies


def items_of(text, name="/etc/sudoers.d/x"):
    return [{"file": name, **item} for item in sudo.parse_sudoers(text)]


@pytest.mark.parametrize(
    "text, name, wanted, effective, user, expected",
    [
        # The last line that sets exactly the effective value, not a later one for another user.
        ("Defaults !use_pty\nDefaults:root !use_pty\nDefaults:alice !use_pty\n", "use_pty", True, False, "root", 2),
        ("Defaults !use_pty\nDefaults:alice use_pty\n", "use_pty", True, False, "root", 1),
        (
            "Defaults timestamp_timeout=30\nDefaults:root timestamp_timeout=60\n",
            "timestamp_timeout",
            15,
            "60",
            "root",
            2,
        ),
        # A host line for another host sets a different value: the line with the effective value is named.
        ("Defaults@db1 timestamp_timeout=5\nDefaults timestamp_timeout=30\n", "timestamp_timeout", 15, "30", "root", 2),
        # No line with the effective value (a list setting): the last one with another value.
        ("Defaults env_keep=A\nDefaults env_keep+=B\n", "env_keep", "A", ["A", "B"], "root", 2),
        # Nothing sets it.
        ("Defaults env_reset\n", "logfile", "/var/log/sudo.log", None, "root", 0),
    ],
)
def test_responsible_line(text, name, wanted, effective, user, expected):  # noqa: PLR0917
    found = sudo.responsible_line(items_of(text), name, wanted, effective, user)
    assert found == (("/etc/sudoers.d/x", expected) if expected else (None, None))


def test_responsible_line_of_a_scoped_value():
    items = items_of("Defaults !use_pty\nDefaults>root !use_pty\nDefaults>alice !use_pty\n")
    assert sudo.responsible_line(items, "use_pty", True, False, "root", kind=">", binding="root") == (
        "/etc/sudoers.d/x",
        2,
    )


@pytest.mark.parametrize(
    "value, shown",
    [(None, "(not set)"), (True, "true"), (False, "false"), (["A", "B"], "A B"), ([], '""'), ("15", "15"), (15, "15")],
)
def test_show_value(value, shown):
    assert sudo.show_value(value) == shown

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._apparmor import (
    SOURCE_SCRIPT,
    boot_missing,
    grub_cfg_missing,
    grub_d_order,
    last_value,
    missing_args,
    mode_counts,
    not_accepted,
    parse_label,
    parse_profiles,
    parse_sourced,
    render_drop_in,
    split_cmdline,
    unconfined_with_profile,
)

PROFILES = """\
/usr/sbin/cupsd (enforce)
/usr/sbin/cupsd//third_party (enforce)
nvidia_modprobe (enforce)
/usr/bin/man (complain)
lsb_release (unconfined)
name with (parens) (kill)
"""


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/usr/sbin/cupsd (enforce)\n", ("/usr/sbin/cupsd", "enforce")),
        ("unconfined\n", ("unconfined", None)),
        ("unconfined\0", ("unconfined", None)),
        ("name with (parens) (kill)", ("name with (parens)", "kill")),
        ("/usr/bin/foo//&bar (mixed)", ("/usr/bin/foo//&bar", "mixed")),
        ("odd (two words)", ("odd (two words)", None)),
    ],
)
def test_parse_label(text, expected):
    assert parse_label(text) == expected


def test_parse_profiles_counts_and_not_accepted():
    profiles = parse_profiles(PROFILES)
    assert profiles["/usr/sbin/cupsd//third_party"] == "enforce"
    assert profiles["name with (parens)"] == "kill"
    assert mode_counts(profiles) == {"complain": 1, "enforce": 3, "kill": 1, "unconfined": 1}
    assert not_accepted(profiles, ["enforce", "complain"]) == {
        "lsb_release": "unconfined",
        "name with (parens)": "kill",
    }
    assert list(not_accepted(profiles, ["enforce"])) == ["/usr/bin/man", "lsb_release", "name with (parens)"]


def test_unconfined_with_profile_matches_absolute_names_only():
    profiles = parse_profiles(PROFILES)
    processes = [
        (900, "/usr/sbin/cupsd", "unconfined\n"),  # started before its profile was loaded
        (901, "/usr/sbin/cupsd", "/usr/sbin/cupsd (enforce)\n"),
        (902, "/usr/bin/lsb_release", "unconfined\n"),  # the profile's name is no path
        (903, "/usr/bin/bash", "unconfined\n"),  # no profile
        (10, "/usr/bin/man", "unconfined"),
    ]
    assert unconfined_with_profile(processes, profiles) == [
        {"pid": 10, "exe": "/usr/bin/man", "profile": "/usr/bin/man"},
        {"pid": 900, "exe": "/usr/sbin/cupsd", "profile": "/usr/sbin/cupsd"},
    ]


@pytest.mark.parametrize(
    "text, args",
    [
        ("BOOT_IMAGE=/vmlinuz ro quiet\n", ["BOOT_IMAGE=/vmlinuz", "ro", "quiet"]),
        ('a  b="x y"   c', ["a", "b=x y", "c"]),
        ('"quoted whole" d', ["quoted whole", "d"]),
        ("", []),
    ],
)
def test_split_cmdline(text, args):
    assert split_cmdline(text) == args


@pytest.mark.parametrize(
    "args, missing",
    [
        (["apparmor=1", "security=apparmor"], []),
        (["quiet"], ["apparmor=1", "security=apparmor"]),
        (["apparmor=1", "security=apparmor", "apparmor=0"], ["apparmor=1"]),  # the last one wins
        (["apparmor=0", "apparmor=1", "security=selinux", "security=apparmor"], []),
        (["security=apparmor", "apparmor=1x"], ["apparmor=1"]),
    ],
)
def test_missing_args(args, missing):
    assert missing_args(args) == missing


def test_last_value():
    assert last_value(["apparmor", "apparmor=1", "x=2"], "apparmor") == "1"
    assert last_value(["apparmor"], "apparmor") is None


@pytest.mark.parametrize(
    "linux, default, missing",
    [
        ("apparmor=1 security=apparmor", "quiet", []),
        ("quiet", "apparmor=1 security=apparmor", ["apparmor=1", "security=apparmor"]),  # recovery lacks them
        ("apparmor=1 security=apparmor", "quiet apparmor=0", ["apparmor=1"]),  # normal entries switch it off
        ("", "", ["apparmor=1", "security=apparmor"]),
    ],
)
def test_boot_missing(linux, default, missing):
    assert boot_missing(linux, default) == missing


def test_grub_cfg_missing_without_markers():
    text = """\
menuentry 'Debian' {
\tlinux\t/vmlinuz-6.1.0-28-amd64 root=UUID=1f1e ro apparmor=1 security=apparmor quiet
}
menuentry 'Debian (recovery mode)' {
\tlinux\t/vmlinuz-6.1.0-28-amd64 root=UUID=1f1e ro single
\techo 'linux is a word here'
}
menuentry 'Memory test' {
\tlinux16\t/boot/memtest86+.bin
\tlinux\t/boot/memtest86+x64.efi
}
"""
    assert grub_cfg_missing(text) == [(5, ["apparmor=1", "security=apparmor"])]
    # The kernel image is never taken for an argument.
    assert grub_cfg_missing("linux /vmlinuz apparmor=1\n") == [(1, ["security=apparmor"])]


def test_grub_cfg_missing_judges_the_10_linux_section_only():
    text = """\
### BEGIN /etc/grub.d/10_linux ###
menuentry 'Debian' {
\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=1f1e ro apparmor=1 security=apparmor quiet
}
menuentry 'Debian, recovery' {
\tlinux\t/boot/vmlinuz-6.1.0-28-amd64 root=UUID=1f1e ro single security=apparmor apparmor=0
}
### END /etc/grub.d/10_linux ###
### BEGIN /etc/grub.d/30_os-prober ###
menuentry 'Other Linux' {
\tlinux /boot/vmlinuz-5.10 root=/dev/sdb1 ro
}
### END /etc/grub.d/30_os-prober ###
"""
    assert grub_cfg_missing(text) == [(6, ["apparmor=1"])]


def test_grub_d_order():
    names = ["99-b.cfg", "init-select.cfg", ".hidden.cfg", "10-a.cfg", "notes.txt", "Z.cfg", "99-bulwark-apparmor.cfg"]
    assert grub_d_order(names) == ["10-a.cfg", "99-b.cfg", "99-bulwark-apparmor.cfg", "Z.cfg", "init-select.cfg"]


@pytest.mark.parametrize("out", ["a", "a\0b", "a\0b\0c\0", "a\0b\0x"])
def test_parse_sourced_refuses_odd_output(out):
    with pytest.raises(ValueError, match="unexpected output"):
        parse_sourced(out)


def test_source_script_resolves_as_grub_mkconfig(tmp_path):
    """The script, run by the real sh: later files win, an append keeps what came before, our line appends."""
    grub = tmp_path / "grub"
    grub.write_text('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n')
    first = tmp_path / "10-console.cfg"
    first.write_text('GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX console=ttyS0"\n')
    ours = tmp_path / "99-bulwark-apparmor.cfg"
    ours.write_text(render_drop_in())
    argv = ["sh", "-c", SOURCE_SCRIPT, "sh", str(grub), str(first), str(ours)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}).stdout
    linux, default = parse_sourced(out)
    assert split_cmdline(linux) == ["console=ttyS0", "apparmor=1", "security=apparmor"]
    assert default == "quiet"
    assert boot_missing(linux, default) == []

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._sysctl import (
    HEADER,
    file_key,
    glob_matches,
    list_conf_dirs,
    normalize_key,
    normalize_settings,
    normalize_value,
    order_conf_files,
    override_message,
    overrides,
    parse_conf,
    proc_path,
    render,
    resolve,
    setting_value,
)


@pytest.mark.parametrize(
    "key, dotted",
    [
        ("net.ipv4.ip_forward", "net.ipv4.ip_forward"),
        ("net/ipv4/ip_forward", "net.ipv4.ip_forward"),
        ("/net/ipv4/ip_forward", "net.ipv4.ip_forward"),
        ("net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter"),
        ("net.ipv4.conf.eth0/100.rp_filter", "net.ipv4.conf.eth0/100.rp_filter"),
        ("net.ipv4.conf.br-lan.rp_filter", "net.ipv4.conf.br-lan.rp_filter"),
        ("kernel.yama.ptrace_scope", "kernel.yama.ptrace_scope"),
    ],
)
def test_normalize_key(key, dotted):
    assert normalize_key(key) == dotted


@pytest.mark.parametrize(
    "key, words",
    [
        ("", "not a sysctl key"),
        ("net.ipv4.ip_forward\nkernel.x", "newline"),
        ("net.ipv4.ip_forward=1", "'='"),
        ("net.ipv4 .ip_forward", "whitespace"),
        ("net.ipv4.conf.*.rp_filter", "is a glob"),
        ("-net.ipv4.ip_forward", "starts with '-'"),
        ("kernel", "not a sysctl key such as"),
        ("net..ipv4", "not a sysctl key such as"),
        ("net/ipv4/../../etc", "not a sysctl key such as"),
        ("net.ipv4.ip_forward.", "not a sysctl key such as"),
        ("net.ipv4.ip_forward;", "not a sysctl key such as"),
    ],
)
def test_normalize_key_refuses_and_names_the_key(key, words):
    with pytest.raises(ValueError) as caught:
        normalize_key(key)
    assert words in str(caught.value)
    assert repr(key) in str(caught.value)


@pytest.mark.parametrize(
    "key, path",
    [
        ("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"),
        ("net.ipv4.conf.eth0/100.rp_filter", "/proc/sys/net/ipv4/conf/eth0.100/rp_filter"),
    ],
)
def test_proc_path(key, path):
    assert proc_path("/proc/sys", key) == path


@pytest.mark.parametrize(
    "value, text",
    [
        (0, "0"),
        (65536, "65536"),
        ("2", "2"),
        (" 4096\t87380   6291456\n", "4096 87380 6291456"),
        ("|/usr/lib/core %p", "|/usr/lib/core %p"),
    ],
)
def test_setting_value(value, text):
    assert setting_value("net.ipv4.tcp_rmem", value) == text


@pytest.mark.parametrize(
    "value, words",
    [
        (True, "is a boolean (True)"),
        (False, "is a boolean (False)"),
        ([1, 2], "must be a string or an integer, got list"),
        (1.5, "got float"),
        (None, "got NoneType"),
        ("1\n2", "holds a newline"),
        ("  ", "empty value"),
    ],
)
def test_setting_value_refuses_and_names_the_key(value, words):
    with pytest.raises(ValueError) as caught:
        setting_value("kernel.kptr_restrict", value)
    assert words in str(caught.value)
    assert "kernel.kptr_restrict" in str(caught.value)


def test_normalize_value_collapses_blanks():
    assert normalize_value("4096\t131072\t6291456\n") == "4096 131072 6291456"


def test_normalize_settings_collects_every_error_and_refuses_the_same_key_twice():
    wanted, errors = normalize_settings(
        {"net.ipv4.ip_forward": 0, "net/ipv4/ip_forward": "0", "fs.suid_dumpable": True, "kernel.x=1": 1}
    )
    assert wanted == {"net.ipv4.ip_forward": "0"}
    assert errors == [
        "settings: 'net/ipv4/ip_forward' and 'net.ipv4.ip_forward' are the same key net.ipv4.ip_forward",
        "settings: fs.suid_dumpable is a boolean (True); give the number the kernel expects (1 or 0)",
        "settings: 'kernel.x=1' is not a sysctl key (no whitespace, newline or '=' in a key)",
    ]


def test_render_sorts_keys_under_the_header():
    text = render({"net.ipv4.ip_forward": "0", "kernel.randomize_va_space": "2"})
    assert text == HEADER + "kernel.randomize_va_space = 2\nnet.ipv4.ip_forward = 0\n"
    assert HEADER == "# Managed by bulwark.hardening (os_baseline)\n"


@pytest.mark.parametrize(
    "key, dotted",
    [
        ("net.ipv4.ip_forward", "net.ipv4.ip_forward"),
        ("net/ipv4/ip_forward", "net.ipv4.ip_forward"),
        ("net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter"),
        (" kernel.sysrq ", "kernel.sysrq"),
    ],
)
def test_file_key(key, dotted):
    assert file_key(key) == dotted


def test_parse_conf_reads_as_systemd_sysctl_does():
    text = (
        "# comment\n"
        "; also a comment\n"
        "\n"
        "net.ipv4.ip_forward = 1\n"
        "  net/ipv4/tcp_syncookies=1  \n"
        "-net.ipv6.conf.all.forwarding = 0\n"
        "-net.ipv4.conf.eth0.rp_filter\n"
        "not an assignment\n"
        "net.ipv4.conf.*.rp_filter = 2\n"
        "kernel.core_pattern = |/bin/false # not a comment\n"
        "net.ipv4.tcp_rmem = 4096\t87380 6291456\n"
    )
    assert parse_conf(text) == [
        ("net.ipv4.ip_forward", "1", 4),
        ("net.ipv4.tcp_syncookies", "1", 5),
        ("net.ipv6.conf.all.forwarding", "0", 6),
        ("net.ipv4.conf.eth0.rp_filter", None, 7),
        ("net.ipv4.conf.*.rp_filter", "2", 9),
        ("kernel.core_pattern", "|/bin/false # not a comment", 10),
        ("net.ipv4.tcp_rmem", "4096\t87380 6291456", 11),
    ]


@pytest.mark.parametrize(
    "pattern, key, matches",
    [
        ("net.ipv4.conf.*.rp_filter", "net.ipv4.conf.all.rp_filter", True),
        ("net.ipv4.conf.*.rp_filter", "net.ipv4.conf.eth0/100.rp_filter", True),
        ("net.ipv4.conf.*.rp_filter", "net.ipv4.conf.all.accept_redirects", False),
        ("net.*.rp_filter", "net.ipv4.conf.all.rp_filter", False),  # '*' stays within one name
        ("net.ipv?.conf.all.forwarding", "net.ipv6.conf.all.forwarding", True),
        ("net.ipv4.conf.[ad]*.send_redirects", "net.ipv4.conf.default.send_redirects", True),
    ],
)
def test_glob_matches(pattern, key, matches):
    assert glob_matches(pattern, key) is matches


def test_order_conf_files_masks_by_name_and_sorts_by_name():
    entries = [
        ("/etc/sysctl.d", "50-default.conf", "mask"),
        ("/etc/sysctl.d", "99-sysctl.conf", "file"),
        ("/etc/sysctl.d", "README", "file"),
        ("/etc/sysctl.d", ".90-x.conf.tmp.conf", "file"),
        ("/etc/sysctl.d", "10-dir.conf", "other"),
        ("/run/sysctl.d", "30-run.conf", "file"),
        ("/usr/lib/sysctl.d", "50-default.conf", "file"),
        ("/usr/lib/sysctl.d", "10-dir.conf", "file"),
        ("/usr/lib/sysctl.d", "30-run.conf", "file"),
        ("/lib/sysctl.d", "99-sysctl.conf", "file"),
    ]
    order, claimed = order_conf_files(entries)
    assert order == ["/usr/lib/sysctl.d/10-dir.conf", "/run/sysctl.d/30-run.conf", "/etc/sysctl.d/99-sysctl.conf"]
    assert claimed["50-default.conf"] == "/etc/sysctl.d/50-default.conf"
    assert claimed["30-run.conf"] == "/run/sysctl.d/30-run.conf"


def test_list_conf_dirs_tells_files_masks_and_others(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "10-a.conf").write_text("a.b = 1\n")
    (etc / "20-empty.conf").write_text("")
    os.symlink(os.devnull, etc / "30-null.conf")
    os.symlink(tmp_path / "nowhere", etc / "40-dangling.conf")
    (etc / "50-dir.conf").mkdir()
    assert list_conf_dirs([str(etc), str(tmp_path / "missing")]) == [
        (str(etc), "10-a.conf", "file"),
        (str(etc), "20-empty.conf", "mask"),
        (str(etc), "30-null.conf", "mask"),
        (str(etc), "40-dangling.conf", "other"),
        (str(etc), "50-dir.conf", "other"),
    ]


KEYS = ["net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter", "net.ipv4.conf.eth0.rp_filter", "kernel.sysrq"]


def test_resolve_the_last_assignment_wins():
    files = [
        ("/usr/lib/sysctl.d/50-default.conf", parse_conf("net.ipv4.ip_forward = 0\nkernel.sysrq = 16\n")),
        ("/etc/sysctl.d/90-ours.conf", parse_conf("net.ipv4.ip_forward = 0\n")),
        ("/etc/sysctl.d/99-local.conf", parse_conf("-net.ipv4.ip_forward = 1\n")),
    ]
    assert resolve(files, KEYS) == {
        "net.ipv4.ip_forward": {"value": "1", "file": "/etc/sysctl.d/99-local.conf"},
        "kernel.sysrq": {"value": "16", "file": "/usr/lib/sysctl.d/50-default.conf"},
    }


def test_resolve_a_glob_yields_to_any_explicit_assignment():
    files = [
        ("/etc/sysctl.d/10-ours.conf", parse_conf("net.ipv4.conf.all.rp_filter = 1\n")),
        ("/etc/sysctl.d/50-glob.conf", parse_conf("net.ipv4.conf.*.rp_filter = 2\n")),
        ("/etc/sysctl.d/60-glob.conf", parse_conf("net.ipv4.conf.e*.rp_filter = 0\n")),
    ]
    assert resolve(files, KEYS) == {
        "net.ipv4.conf.all.rp_filter": {"value": "1", "file": "/etc/sysctl.d/10-ours.conf"},
        "net.ipv4.conf.eth0.rp_filter": {"value": "0", "file": "/etc/sysctl.d/60-glob.conf"},
    }


def test_resolve_a_negative_line_unsets_a_key_and_keeps_it_out_of_globs():
    files = [
        ("/etc/sysctl.d/10-ours.conf", parse_conf("net.ipv4.ip_forward = 0\n")),
        ("/etc/sysctl.d/50-glob.conf", parse_conf("net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.eth0.rp_filter\n")),
        ("/etc/sysctl.d/60-x.conf", parse_conf("-net.ipv4.ip_forward\n")),
    ]
    assert resolve(files, KEYS) == {
        "net.ipv4.ip_forward": {"value": None, "file": "/etc/sysctl.d/60-x.conf"},
        "net.ipv4.conf.all.rp_filter": {"value": "2", "file": "/etc/sysctl.d/50-glob.conf"},
        "net.ipv4.conf.eth0.rp_filter": {"value": None, "file": "/etc/sysctl.d/50-glob.conf"},
    }


def test_overrides_compare_values_as_the_kernel_prints_them():
    dest = "/etc/sysctl.d/90-ours.conf"
    wanted = {"net.ipv4.ip_forward": "0", "net.ipv4.tcp_rmem": "4096 87380 6291456", "kernel.sysrq": "0", "a.b": "1"}
    configured = {
        "net.ipv4.ip_forward": {"value": "1", "file": "/etc/sysctl.d/99-local.conf"},
        "net.ipv4.tcp_rmem": {"value": "4096\t87380  6291456", "file": "/etc/sysctl.d/99-local.conf"},
        "kernel.sysrq": {"value": "0", "file": dest},
        "a.b": {"value": None, "file": "/etc/sysctl.conf"},
    }
    found = overrides(wanted, configured, dest)
    assert found == {
        "net.ipv4.ip_forward": {"file": "/etc/sysctl.d/99-local.conf", "value": "1"},
        "a.b": {"file": "/etc/sysctl.conf", "value": None},
    }
    assert override_message(found) == (
        "/etc/sysctl.conf unsets a.b ('-a.b'); /etc/sysctl.d/99-local.conf sets net.ipv4.ip_forward = 1"
    )

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._apache import (
    bad_names,
    configtest_message,
    dependants_first,
    depends,
    enabled_names,
    plan,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Depends: proxy\nLoadModule proxy_fcgi_module x.so\n", ["proxy"]),
        ("# Depends: setenvif mime socache_shmcb\nLoadModule ssl_module x.so\n", ["setenvif", "mime", "socache_shmcb"]),
        ("#Depends: a, b\n", ["a", "b"]),
        ("LoadModule headers_module x.so\n", []),
    ],
)
def test_depends_reads_the_load_file_comment(text, expected):
    assert depends(text) == expected


def test_enabled_names_keep_only_the_marker_suffix():
    assert enabled_names(["ssl.load", "ssl.conf", "status.load", "README"], ".load") == {"ssl", "status"}


@pytest.mark.parametrize(
    ("enabled", "enable", "disable", "deps", "expected"),
    [
        # Nothing to do.
        ({"headers"}, ["headers"], ["status"], {}, {"enable": [], "disable": [], "kept": {}}),
        # Enable what is missing, disable what is enabled.
        (
            {"status", "autoindex"},
            ["headers"],
            ["status", "autoindex", "cgi"],
            {},
            {"enable": ["headers"], "disable": ["status", "autoindex"], "kept": {}},
        ),
        # proxy stays while proxy_fcgi (not in the disable list) needs it.
        (
            {"proxy", "proxy_fcgi", "proxy_http"},
            [],
            ["proxy", "proxy_http"],
            {"proxy_fcgi": ["proxy"], "proxy_http": ["proxy"]},
            {"enable": [], "disable": ["proxy_http"], "kept": {"proxy": ["proxy_fcgi"]}},
        ),
        # proxy goes when everything that needs it goes too, and after its dependants.
        (
            {"proxy", "proxy_http"},
            [],
            ["proxy", "proxy_http"],
            {"proxy_http": ["proxy"]},
            {"enable": [], "disable": ["proxy_http", "proxy"], "kept": {}},
        ),
        # A module about to be enabled counts as a dependant.
        (
            {"socache_shmcb"},
            ["ssl"],
            ["socache_shmcb"],
            {"ssl": ["socache_shmcb"]},
            {"enable": ["ssl"], "disable": [], "kept": {"socache_shmcb": ["ssl"]}},
        ),
    ],
)
def test_plan(enabled, enable, disable, deps, expected):
    assert plan(enabled, enable, disable, deps) == expected


def test_dependants_first_keeps_order_without_dependencies():
    assert dependants_first(["b", "a"], {}) == ["b", "a"]
    assert dependants_first(["dav", "dav_fs", "dav_lock"], {"dav_fs": ["dav"], "dav_lock": ["dav"]}) == [
        "dav_fs",
        "dav_lock",
        "dav",
    ]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            "AH00526: Syntax error on line 52 of /etc/apache2/conf-enabled/zz-bulwark-hardening.conf:\n"
            "Invalid command 'BulwarkNoSuchDirective', perhaps misspelled or defined by a module not included "
            "in the server configuration\n",
            "/etc/apache2/conf-enabled/zz-bulwark-hardening.conf:52: Invalid command 'BulwarkNoSuchDirective', "
            "perhaps misspelled or defined by a module not included in the server configuration",
        ),
        (
            "apache2: Syntax error on line 225 of /etc/apache2/apache2.conf: Could not open x\n",
            "/etc/apache2/apache2.conf:225: Could not open x",
        ),
        (
            "AH00112: Warning: DocumentRoot [/nope] does not exist\nSSLCertificateFile: file missing\n",
            "AH00112: Warning: DocumentRoot [/nope] does not exist SSLCertificateFile: file missing",
        ),
        ("", "apache2ctl -t failed without a message"),
    ],
)
def test_configtest_message_names_file_and_line(output, expected):
    assert configtest_message(output) == expected


@pytest.mark.parametrize(
    ("names", "bad"),
    [(["ssl", "php8.4", "mpm_event", "zz-bulwark"], []), (["../x", "a b", "*", "", 5], ["../x", "a b", "*", "", 5])],
)
def test_bad_names(names, bad):
    assert bad_names(names) == bad

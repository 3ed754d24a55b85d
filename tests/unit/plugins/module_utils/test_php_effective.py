# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PHP SAPI's ini in effect: php.ini, then conf.d sorted, the last value wins."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._php import (
    ini_overrides,
    ini_same,
    ini_settings,
    scan_order,
)

OURS = "/etc/php/8.2/apache2/conf.d/99-bulwark-hardening.ini"
LOCAL = "/etc/php/8.2/apache2/conf.d/99-zz-local.ini"
EARLY = "/etc/php/8.2/apache2/conf.d/20-early.ini"
PHP_INI = "/etc/php/8.2/apache2/php.ini"
HARDENING = 'expose_php = Off\ndisable_functions = "exec,passthru"\nsession.name = "SESSID"\n'


def test_ini_settings_read_values_without_quotes_comments_or_per_path_sections():
    text = (
        "[PHP]\n; a comment\nexpose_php = On ; trailing comment\n"
        'disable_functions = "exec;x"\nmemory_limit=64M\nextension[] = a\n'
        "[PATH=/var/www/app]\nexpose_php = Off\n[Session]\nsession.name = X\n"
    )
    assert ini_settings(text) == [
        (3, "expose_php", "On"),
        (4, "disable_functions", "exec;x"),
        (5, "memory_limit", "64M"),
        (10, "session.name", "X"),
    ]


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Off", "0", True),
        ("off", "", True),
        ("On", "yes", True),
        ("On", "Off", False),
        ("exec,passthru", "exec, passthru", True),
        ("exec,passthru", "", False),
        ("128M", "128m", True),
        ("128M", "256M", False),
    ],
)
def test_ini_same(one, other, same):
    assert ini_same(one, other) is same


def test_scan_order_is_php_ini_then_conf_d_sorted_with_ours_in_its_place():
    names = ["99-zz-local.ini", "20-xdebug.ini", "README", "10-opcache.ini"]
    assert scan_order(PHP_INI, "/etc/php/8.2/apache2/conf.d", names, "99-bulwark-hardening.ini") == [
        PHP_INI,
        "/etc/php/8.2/apache2/conf.d/10-opcache.ini",
        "/etc/php/8.2/apache2/conf.d/20-xdebug.ini",
        OURS,
        LOCAL,
    ]


def resolve(**texts):
    files = [(PHP_INI, texts.get("php_ini", "expose_php = On\n")), (EARLY, texts.get("early", "")), (OURS, HARDENING)]
    return ini_overrides([*files, (LOCAL, texts.get("local", ""))], OURS)


def test_a_later_ini_emptying_disable_functions_is_named():
    assert resolve(local="; local\ndisable_functions =\nexpose_php = On\n") == [
        {"file": LOCAL, "line": 2, "setting": "disable_functions", "found": "", "expected": "exec,passthru"},
        {"file": LOCAL, "line": 3, "setting": "expose_php", "found": "On", "expected": "Off"},
    ]


@pytest.mark.parametrize(
    "texts",
    [
        # Earlier files (php.ini, an earlier conf.d file) lose to ours.
        {"php_ini": "disable_functions =\nexpose_php = On\n", "early": "session.name = PHPSESSID\n"},
        # A later file with the same value, or with settings we do not make, is fine.
        {"local": 'disable_functions = "exec, passthru"\nexpose_php = 0\nsession.name = SESSID\nmemory_limit = 1G\n'},
        # A later file's per-path section applies to some requests only.
        {"local": "[PATH=/var/www/legacy]\ndisable_functions =\n"},
    ],
)
def test_what_does_not_change_the_result_is_fine(texts):
    assert resolve(**texts) == []


def test_the_last_later_value_decides():
    assert resolve(local="disable_functions =\ndisable_functions = exec,passthru\n") == []

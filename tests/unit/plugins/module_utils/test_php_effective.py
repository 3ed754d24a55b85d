# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PHP SAPI's ini in effect: php.ini, then conf.d sorted, the last value wins."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._php import (
    apache_php_overrides,
    environ_values,
    extension_loaders,
    ini_overrides,
    ini_same,
    ini_settings,
    scan_order,
    shell_environment,
    unit_environment,
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


# ----------------------------------------------------------------------------- Apache's php_* lines
WANTED = {"display_errors": "Off", "expose_php": "Off", "memory_limit": "128M", "disable_functions": "exec,passthru"}


def line(name, *args, sections=(), allowed=None, file="/etc/apache2/sites-enabled/000-default.conf"):
    entry = {"file": file, "line": 3, "name": name, "args": list(args), "sections": sections, "active": True}
    if allowed is not None:
        entry["allowed"] = allowed
    return entry


@pytest.mark.parametrize(
    ("entry", "found"),
    [
        # A vhost's php_admin_flag and a server-wide php_value set a hardened setting to another value.
        (
            line("php_admin_flag", "display_errors", "On", sections=(("VirtualHost", "*:80"),)),
            "php_admin_flag display_errors On",
        ),
        (line("php_value", "memory_limit", "1G"), "php_value memory_limit 1G"),
        # php_admin_value may set a system setting; php_value cannot (PHP ignores it), so it is no override.
        (line("php_admin_value", "disable_functions", "none"), "php_admin_value disable_functions none"),
        (line("php_value", "disable_functions", "none"), None),
        (line("php_flag", "expose_php", "On"), None),
        # Our value, a setting we do not set, and a line inside an <IfModule> whose module is not loaded.
        (line("php_admin_flag", "display_errors", "off"), None),
        (line("php_value", "include_path", "/x"), None),
        ({**line("php_value", "memory_limit", "1G"), "active": False}, None),
        # An .htaccess: php_value needs AllowOverride Options (or All); php_admin_* is refused there.
        (
            line("php_flag", "display_errors", "On", allowed={"options"}, file="/srv/x/.htaccess"),
            "php_flag display_errors On",
        ),
        (line("php_flag", "display_errors", "On", allowed={"fileinfo"}, file="/srv/x/.htaccess"), None),
        (line("php_admin_flag", "display_errors", "On", allowed={"all"}, file="/srv/x/.htaccess"), None),
    ],
)
def test_apaches_php_lines_that_change_a_hardened_setting_are_named(entry, found):
    result = apache_php_overrides([entry], WANTED)
    assert [item["found"] for item in result] == ([found] if found else [])


def test_an_apache_php_override_says_where_and_what_the_hardening_wants():
    (item,) = apache_php_overrides(
        [line("php_admin_flag", "display_errors", "On", sections=(("VirtualHost", "*:80"),))], WANTED
    )
    assert item["where"] == "/etc/apache2/sites-enabled/000-default.conf:3 in <VirtualHost *:80>"
    assert (item["setting"], item["expected"]) == ("display_errors", "Off")


# ----------------------------------------------------------------------------- the daemon's environment
def test_envvars_assignments_of_php_ini_scan_dir_and_phprc_are_found():
    text = (
        "export APACHE_RUN_USER=www-data\nexport PHP_INI_SCAN_DIR=/etc/php/local # mine\n"
        '# PHPRC=/x\nPHPRC="/etc/php/rc"\n'
    )
    assert shell_environment(text) == [(2, "PHP_INI_SCAN_DIR", "/etc/php/local"), (4, "PHPRC", "/etc/php/rc")]


def test_a_units_environment_lines_are_read_word_by_word():
    text = (
        '[Service]\nEnvironment=LANG=C "PHP_INI_SCAN_DIR=:/etc/php/extra"\n'
        "Environment=PHPRC=/etc/php/rc\nExecStart=/x\n"
    )
    assert unit_environment(text) == [(2, "PHP_INI_SCAN_DIR", ":/etc/php/extra"), (3, "PHPRC", "/etc/php/rc")]
    assert unit_environment("[Service]\nEnvironment=LANG=C\n") == []


def test_a_processs_environment_yields_only_the_php_variables():
    assert environ_values(b"LANG=C\0PHPRC=/etc/php/rc\0PATH=/bin\0") == {"PHPRC": "/etc/php/rc"}
    assert environ_values(b"") == {}


# ----------------------------------------------------------------------------- modules outside phpenmod's links
SO_NAMES = {"xdebug": ["xdebug"], "mysqlnd": ["mysqlnd"], "opcache": ["opcache"]}


@pytest.mark.parametrize(
    ("text", "modules"),
    [
        ("zend_extension=xdebug.so\n", ["xdebug"]),
        ('extension = "/usr/lib/php/20220829/mysqlnd.so" ; mine\n', ["mysqlnd"]),
        (";zend_extension=xdebug.so\nzend_extension=opcache\n", []),
    ],
)
def test_a_plain_ini_that_loads_a_disabled_module_is_named(text, modules):
    found = extension_loaders([(LOCAL, text)], SO_NAMES, ["xdebug", "mysqlnd"])
    assert found == [{"file": LOCAL, "module": module} for module in modules]

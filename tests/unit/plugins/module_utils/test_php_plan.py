# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The php_hardening role's plan: each rule of the former preflight loop and ini preview, and what it computes."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._php import role_plan
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import planner, refuses_then_takes

# The role's defaults (defaults/main.yml), converted as vars/main.yml passes them.
DEFAULTS = {
    "php_hardening_allow_url_fopen": False,
    "php_hardening_disable_functions": ["exec", "passthru", "shell_exec", "system", "proc_open", "popen"],
    "php_hardening_open_basedir": ["/var/www", "/tmp", "/var/lib/php/sessions", "/usr/share/php"],
    "php_hardening_file_uploads": True,
    "php_hardening_upload_max_filesize": "2M",
    "php_hardening_post_max_size": "8M",
    "php_hardening_memory_limit": "128M",
    "php_hardening_max_execution_time": 30,
    "php_hardening_max_input_time": 60,
    "php_hardening_max_input_vars": 1000,
    "php_hardening_session_name": "SESSID",
    "php_hardening_cookie_secure": False,
    "php_hardening_cookie_samesite": "Lax",
    "php_hardening_ini_extra": {},
    "php_hardening_disabled_extensions": [],
}


plan = planner(role_plan, DEFAULTS)


def test_the_defaults_pass():
    assert plan() == {"errors": [], "disabled_extensions": ["xdebug"]}


@pytest.mark.parametrize(
    ("bad", "good", "message"),
    [
        pytest.param(
            {"php_hardening_disable_functions": ["exec", "shell-exec"]},
            {"php_hardening_disable_functions": ["exec", "shell_exec"]},
            'php_hardening_disable_functions holds names that are not PHP function names: ["shell-exec"]',
            id="function-names",
        ),
        pytest.param(
            {"php_hardening_open_basedir": ["/var/www", "tmp", "/a:/b"]},
            {"php_hardening_open_basedir": ["/var/www", "/srv/app"]},
            'php_hardening_open_basedir entries must be absolute paths without \':\': ["tmp", "/a:/b"]',
            id="open-basedir",
        ),
        pytest.param(
            {"php_hardening_session_name": "1234"},
            {"php_hardening_session_name": "APPSESSION2"},
            'php_hardening_session_name must be letters and digits with at least one letter, not "1234"',
            id="session-name",
        ),
        pytest.param(
            {"php_hardening_upload_max_filesize": "16M"},
            {"php_hardening_upload_max_filesize": "8M"},
            "php_hardening_upload_max_filesize (16M) must not exceed php_hardening_post_max_size (8M): "
            "an upload travels inside a POST request",
            id="upload-within-post",
        ),
        pytest.param(
            {"php_hardening_post_max_size": "256M", "php_hardening_upload_max_filesize": "2M"},
            {"php_hardening_post_max_size": "256M", "php_hardening_memory_limit": "-1"},
            "php_hardening_post_max_size (256M) must not exceed php_hardening_memory_limit (128M)",
            id="post-within-memory",
        ),
        pytest.param(
            {"php_hardening_upload_max_filesize": "1G", "php_hardening_post_max_size": "1024"},
            {"php_hardening_upload_max_filesize": "1G", "php_hardening_post_max_size": "0"},
            "php_hardening_upload_max_filesize (1G) must not exceed php_hardening_post_max_size (1024)",
            id="post-zero-means-unlimited",
        ),
        pytest.param(
            {"php_hardening_memory_limit": "lots"},
            {"php_hardening_memory_limit": "1G"},
            "php_hardening_memory_limit: 'lots' is not a PHP size",
            id="size",
        ),
        pytest.param(
            {"php_hardening_ini_extra": {"date timezone": "UTC"}},
            {"php_hardening_ini_extra": {"date.timezone": "UTC"}},
            'php_hardening_ini_extra keys must be ini setting names: ["date timezone"]',
            id="ini-extra-keys",
        ),
        pytest.param(
            {"php_hardening_ini_extra": {"session.sid_length": 48}},
            {"php_hardening_ini_extra": {"session.gc_maxlifetime": 1440}},
            'php_hardening_ini_extra sets ["session.sid_length"], which PHP 8.4 deprecates; leave them out',
            id="ini-extra-deprecated",
        ),
        # What the former preview render of hardening.ini.j2 refused (a filter raising inside an
        # assert that could not fail): a value that would break its ini line, named.
        pytest.param(
            {"php_hardening_open_basedir": ['/var/www";evil=1']},
            {"php_hardening_open_basedir": ["/var/www/evil=1"]},
            "php_hardening_open_basedir[0]: '/var/www\";evil=1' contains '\"'",
            id="ini-line-open-basedir",
        ),
        pytest.param(
            {"php_hardening_cookie_samesite": "Lax;"},
            {"php_hardening_cookie_samesite": "Strict"},
            "php_hardening_cookie_samesite: 'Lax;' contains ';'",
            id="ini-line-scalar",
        ),
        pytest.param(
            {"php_hardening_ini_extra": {"date.timezone": "${TZ}"}},
            {"php_hardening_ini_extra": {"date.timezone": "Europe/Berlin"}},
            "php_hardening_ini_extra.date.timezone: '${TZ}' contains '$'",
            id="ini-line-extra",
        ),
        pytest.param(
            {"php_hardening_ini_extra": {"precision": 1.5}},
            {"php_hardening_ini_extra": {"precision": 14}},
            "php_hardening_ini_extra.precision: 1.5 is a float",
            id="ini-line-float",
        ),
    ],
)
def test_each_rule_refuses_naming_the_variable_and_takes_a_good_value(bad, good, message):
    refuses_then_takes(plan, bad, good, message, only=False)


def test_an_empty_open_basedir_is_left_out_not_refused():
    assert plan(php_hardening_open_basedir=[])["errors"] == []


def test_xdebug_is_always_disabled_once():
    assert plan(php_hardening_disabled_extensions=["ffi", "xdebug", "ffi"])["disabled_extensions"] == ["xdebug", "ffi"]

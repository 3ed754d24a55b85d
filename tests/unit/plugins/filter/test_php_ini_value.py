# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.filter.php_ini_value import FilterModule

FILTERS = FilterModule().filters()


@pytest.mark.parametrize(
    ("value", "args", "expected"),
    [
        (False, ("php_hardening_allow_url_fopen",), "Off"),
        (["/var/www", "/tmp"], ("php_hardening_open_basedir", ":"), '"/var/www:/tmp"'),
        ("SESSID", ("php_hardening_session_name",), '"SESSID"'),
    ],
)
def test_php_ini_value(value, args, expected):
    assert FILTERS["php_ini_value"](value, *args) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('Lax"\nauto_prepend_file="/etc/passwd', "php_hardening_cookie_samesite: "),
        ("a;b", "php_hardening_cookie_samesite: 'a;b' contains ';'"),
    ],
)
def test_php_ini_value_refuses_by_name(value, message):
    with pytest.raises(AnsibleFilterError) as exc:
        FILTERS["php_ini_value"](value, "php_hardening_cookie_samesite")
    assert message in str(exc.value)


def test_php_ini_bytes():
    assert FILTERS["php_ini_bytes"]("8M", "php_hardening_post_max_size") == 8 * 1024 * 1024


def test_php_ini_bytes_refuses_by_name():
    with pytest.raises(AnsibleFilterError, match=r"^php_hardening_memory_limit: '12 MB'"):
        FILTERS["php_ini_bytes"]("12 MB", "php_hardening_memory_limit")

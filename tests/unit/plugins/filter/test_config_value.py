# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.filter.config_value import config_value, find_control


@pytest.mark.parametrize(
    "value",
    ["plain", "a b", "", 22, True, None, ["x", 1], {"k": ["v"]}, "ünïcödé"],
)
def test_clean_values_pass_unchanged(value):
    assert config_value(value, "v") == value


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ("yes\nMatch all", "v"),
        ("a\rb", "v"),
        ("nul\x00", "v"),
        ("del\x7f", "v"),
        ("tab\there", "v"),
        (["ok", "bad\n"], "v[1]"),
        ({"jail": {"ignoreip": "1.2.3.4\nignoreip = 0.0.0.0/0"}}, "v.jail.ignoreip"),
        ({"bad\nkey": 1}, "v (key 'bad\\nkey')"),
    ],
)
def test_control_characters_are_refused_by_name(value, where):
    with pytest.raises(AnsibleFilterError, match="contains the control character") as error:
        config_value(value, "v")
    assert str(error.value).startswith(where + " ")


def test_tab_allowed_on_request():
    assert config_value("a\tb", "v", allow_tab=True) == "a\tb"
    assert find_control("a\tb\n", "v", allow_tab=True) == ("v", "\n")

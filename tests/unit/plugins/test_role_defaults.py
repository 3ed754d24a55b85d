# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A role's defaults take effect from defaults/main.yml; its argument spec documents them (ansible-doc,
the README tables). The two must say the same, and every documented option must have its default."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import ROLES, role_defaults

SPECS = {path.parts[-3]: path for path in sorted(ROLES.glob("*/meta/argument_specs.yml"))}


@pytest.mark.parametrize("role", sorted(SPECS))
def test_the_argument_spec_documents_the_defaults_that_take_effect(role):
    with SPECS[role].open(encoding="utf-8") as handle:
        options = (yaml.safe_load(handle)["argument_specs"]["main"].get("options")) or {}
    defaults = role_defaults(role)
    assert sorted(defaults) == sorted(options), "defaults/main.yml and the argument spec name other variables"
    differ = {
        name: (spec.get("default"), defaults[name])
        for name, spec in options.items()
        if spec.get("default") != defaults[name]
    }
    assert differ == {}, f"argument spec default != defaults/main.yml: {differ}"

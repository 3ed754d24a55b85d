# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bulwark.hardening.input_errors filter (documented in input_errors.yml)."""

from __future__ import annotations

from pathlib import Path

import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.bulwark.hardening.plugins.module_utils._inputs import declared_options, input_errors

# plugins/filter/ -> the collection root, whose roles/*/meta/argument_specs.yml declare the options.
_ROLES = Path(__file__).resolve().parents[2] / "roles"


def load_specs(roles_dir=_ROLES):
    """The parsed argument specs of every role of the collection."""
    specs = []
    for path in sorted(Path(roles_dir).glob("*/meta/argument_specs.yml")):
        with path.open(encoding="utf-8") as handle:
            specs.append(yaml.safe_load(handle))
    if not specs:
        raise AnsibleFilterError(f"input_errors found no argument specs under {roles_dir}")
    return specs


def input_errors_filter(values):
    """Check the operator's variables (name -> value) against every role's argument specs."""
    if not isinstance(values, dict):
        raise AnsibleFilterError(f"input_errors expects a mapping of variable names to values, got {values!r}")
    return input_errors(dict(values), declared_options(load_specs()))


class FilterModule:
    """Ansible filter plugins."""

    def filters(self):
        return {"input_errors": input_errors_filter}

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A role's settings as the play hands them to its plan: the role's own defaults/main.yml (the one
place defaults are written) and the common role's host model, with a test's overrides."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.bulwark.hardening.plugins.module_utils._host import host_model

ROLES = Path(__file__).resolve().parents[3] / "roles"


def role_defaults(role):
    """The role's defaults/main.yml, parsed (templated values stay strings)."""
    with (ROLES / role / "defaults" / "main.yml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def host(connection=None, **declared):
    """The host model for *declared* (bulwark_ssh_port, bulwark_services, bulwark_closed_ports, ufw_rules)
    with *connection* (the host model's connection mapping) in place of a login environment."""
    settings = dict(role_defaults("common"), login_env={}, is_ssh=False, ansible_connection="docker")
    settings.update(declared)
    model = host_model(settings)
    assert model["errors"] == [], model["errors"]
    if connection is not None:
        model["connection"] = dict(connection)
    return model


def refuses_then_takes(plan, bad, good, message, *, only=True):
    """A plan rule: *bad* gives an error holding *message* (the only one, unless *only* is false),
    and *good* gives none."""
    errors = plan(**bad)["errors"]
    assert errors and (len(errors) == 1 or not only), errors
    assert message in errors[0]
    assert plan(**good)["errors"] == []


def planner(role_plan, defaults):
    """``plan(**changes)``: *role_plan* of *defaults* with *changes* over them."""
    return lambda **changes: role_plan({**defaults, **changes})

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The immutable role's plan: the three former per-path asserts, and the locked paths."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._immutable import role_plan

FORBIDDEN = ["/run", "/proc", "/sys", "/dev", "/var/lib/dpkg", "/var/cache/apt", "/var/lib/apt"]
NOT_NORMAL = "in immutable_trees (path) or immutable_paths must be an absolute, normalised path"
WRITABLE = "in immutable_trees (path) or immutable_paths is, contains or lies under a path that must stay writable"


def plan(trees=(), paths=()):
    return role_plan({"immutable_trees": list(trees), "immutable_paths": list(paths), "forbidden": FORBIDDEN})


def test_trees_then_paths_are_locked():
    result = plan([{"path": "/var/www/html", "writable": ["uploads", "cache/img"]}], ["/usr/local/bin/app"])
    assert result["errors"] == []
    assert result["paths"] == ["/var/www/html", "/usr/local/bin/app"]


def test_the_hook_state_names_each_locked_path_with_what_stays_mutable():
    trees = [{"path": "/var/www/html", "writable": ["uploads"], "exclude": ["*.log"]}, {"path": "/srv/app"}]
    assert plan(trees, ["/usr/local/bin/app"])["hook_state"] == {
        "managed_by": "bulwark.hardening.immutable",
        "paths": [
            {"path": "/var/www/html", "exclude": ["uploads", "*.log"]},
            {"path": "/srv/app", "exclude": []},
            {"path": "/usr/local/bin/app", "exclude": []},
        ],
        "never_locked": FORBIDDEN,
    }


@pytest.mark.parametrize("path", ["var/www", "/var/www/", "/var//www", "/var/./www", "/var/www/..", "/var/www/."])
def test_a_path_not_absolute_and_normalised_is_refused_by_value(path):
    errors = plan(paths=[path])["errors"]
    assert errors == [f"'{path}' {NOT_NORMAL} (no trailing slash, '.', '..' or '//')."]


@pytest.mark.parametrize("path", ["/", "/var/lib/dpkg", "/run/app", "/var/cache", "/var/lib/apt/lists", "/var"])
def test_a_path_apt_dpkg_or_the_kernel_need_is_refused_by_value(path):
    errors = plan(trees=[{"path": path}])["errors"]
    assert errors == [f"'{path}' {WRITABLE} ({', '.join(FORBIDDEN)}, or /)."]


@pytest.mark.parametrize("path", ["/var/lib/dpkgx", "/running", "/srv/run", "/var/cache/apt-mirror", "/devices"])
def test_a_neighbour_of_a_forbidden_path_is_fine(path):
    assert plan(paths=[path])["errors"] == []


def test_every_bad_path_is_named():
    errors = plan(paths=["/var/lib/dpkg", "/run/app", "/var/cache", "/"])["errors"]
    assert [error.split("'")[1] for error in errors] == ["/var/lib/dpkg", "/run/app", "/var/cache", "/"]


@pytest.mark.parametrize("entry", ["/var/www/html/uploads", "", "../etc", "uploads/../../etc"])
def test_a_writable_entry_outside_its_tree_is_refused_by_value(entry):
    errors = plan(trees=[{"path": "/var/www/html", "writable": [entry]}])["errors"]
    assert errors == [
        f"writable entry '{entry}' of tree /var/www/html (immutable_trees) must be a directory relative to the "
        "tree, without '..'."
    ]

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The common role's plan: the rollback window against the connection timeout."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._common import role_plan


@pytest.mark.parametrize(
    ("window", "timeout", "minimum"),
    [(90, 10, 30), ("90", 10, 30), (30, 10, 30), (60, 20, 60), (3600, 10, 30), (3600, 1200, 3600)],
)
def test_a_window_that_leaves_room_for_the_fresh_login(window, timeout, minimum):
    result = role_plan({"bulwark_rollback_window": window, "connection_timeout": timeout})
    assert result == {"errors": [], "rollback_min_window": minimum, "rollback_window": int(window)}


@pytest.mark.parametrize(
    ("window", "timeout", "message"),
    [
        (
            29,
            10,
            "bulwark_rollback_window must be 30-3600 seconds (at least 30, and three times the connection "
            "timeout of 10 s: the confirmation logs in afresh), got 29",
        ),
        (
            59,
            20,
            "bulwark_rollback_window must be 60-3600 seconds (at least 30, and three times the connection "
            "timeout of 20 s: the confirmation logs in afresh), got 59",
        ),
        (3601, 10, "bulwark_rollback_window must be 30-3600 seconds"),
        ("abc", 10, "got 'abc'"),
        ("-40", 10, "got '-40'"),
        (True, 10, "got True"),
        (None, 10, "got None"),
    ],
)
def test_a_window_too_short_too_long_or_not_a_number_is_refused_by_name(window, timeout, message):
    result = role_plan({"bulwark_rollback_window": window, "connection_timeout": timeout})
    assert len(result["errors"]) == 1
    assert message in result["errors"][0]
    assert result["rollback_window"] is None

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The common role's plan (filter ``role_plan('common')``): the rules between its variables."""

from __future__ import annotations

import re

from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import MIN_WINDOW

MAX_WINDOW = 3600
_WHOLE = re.compile(r"^[0-9]+$")


def rollback_min_window(timeout):
    """The shortest rollback window: the confirmation's fresh login may take three connection timeouts."""
    return max(MIN_WINDOW, 3 * int(timeout))


def role_plan(settings):
    """Check the common role's variables.

    *settings*: ``bulwark_rollback_window`` and ``connection_timeout`` (the connection timeout the
    confirmation's fresh login may take, in seconds). Returns ``errors`` and
    ``rollback_min_window``, ``rollback_window`` (an int, or None when refused).
    """
    errors = []
    window = settings["bulwark_rollback_window"]
    timeout = int(settings["connection_timeout"])
    minimum = rollback_min_window(timeout)
    number = None
    if not isinstance(window, bool) and _WHOLE.match(str(window)):
        number = int(window)
    if number is None or not minimum <= number <= MAX_WINDOW:
        errors.append(
            f"bulwark_rollback_window must be {minimum}-{MAX_WINDOW} seconds (at least {MIN_WINDOW}, and three times "
            f"the connection timeout of {timeout} s: the confirmation logs in afresh), got {window!r}"
        )
        number = None
    return {"errors": errors, "rollback_min_window": minimum, "rollback_window": number}

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The rollback option of every module that makes a change able to cut the operator off.
    DOCUMENTATION = r"""
options:
  rollback:
    description:
      - Commit-confirmed change. When the module is about to change something (never in check mode, never when
        nothing changes), it first saves the files it will touch and arms a timer on the host that puts them back
        and runs O(rollback.actions) when O(rollback.window) ends, unless M(bulwark.hardening.rollback) with
        O(bulwark.hardening.rollback#module:state=confirmed) ran first over a fresh login.
      - A second arming in the same run adds its files to the same snapshot (the first copy of a file is kept)
        and restarts the window.
      - The result's C(rollback) and the fact C(bulwark_rollback) say what is armed.
    type: dict
    suboptions:
      window:
        description: Seconds until the host rolls back by itself (at least 30).
        type: int
        default: 90
      actions:
        description: Shell commands the rollback runs after putting the files back (the daemon's reload).
        type: list
        elements: str
        default: []
      what:
        description: What changes, in words, for messages and the journal.
        type: str
      arm:
        description:
          - V(false) arms nothing and only reports the change as unconfirmed (C(rollback.unconfirmed)) - for a
            connection that is not SSH, where there is no login to prove.
        type: bool
        default: true
"""

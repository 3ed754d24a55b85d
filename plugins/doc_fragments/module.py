# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What every module of the collection shares: its authors, full check mode, diff mode and Debian.
    # A module states only what differs (a details line, C(platforms: posix)); its own values win.
    # (Literal strings: ansible-test reads doc fragments without running them.)
    DOCUMENTATION = r"""
author:
  - bulwark.hardening contributors (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the host.
    support: full
  diff_mode:
    description: Returns the before and after of what changes (or would change in check mode) in diff mode.
    support: full
  platform:
    description: Target operating systems or families.
    support: N/A
    platforms: debian
"""

    # A module that only reads: extend bulwark.hardening.module.read_only instead of bulwark.hardening.module.
    READ_ONLY = r"""
author:
  - bulwark.hardening contributors (!UNKNOWN)
attributes:
  check_mode:
    description: Can run in check mode and report what would change without changing the host.
    support: full
    details: The module only reads; it behaves the same with and without check mode.
  diff_mode:
    description: Returns the before and after of what changes (or would change in check mode) in diff mode.
    support: N/A
    details: The module changes nothing, so there is nothing to diff.
  platform:
    description: Target operating systems or families.
    support: N/A
    platforms: debian
"""

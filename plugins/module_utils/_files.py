# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a file the one way the modules read one: UTF-8 text, a bad byte replaced, and a
missing or unreadable file an answer rather than an exception; where a module with a root
option (a copy of a host, for tests) finds a host path; and how a file's owner and mode are shown."""

from __future__ import annotations

import grp
import os
import pwd


def read_text(path, default="", tolerate=OSError, errors="replace"):
    """The text of ``path``, decoded as UTF-8 (``errors`` says what a bad byte becomes).

    ``default`` when opening or reading it raises ``tolerate``: ``OSError`` (the default) for a
    file that is missing or unreadable, ``FileNotFoundError`` for a missing one only (any other
    error propagates), ``()`` for none.
    """
    try:
        with open(path, encoding="utf-8", errors=errors) as handle:
            return handle.read()
    except tolerate:
        return default


def on_root(root, path):
    """The host's ``path`` under ``root`` (a modules' O(root) option: a copy of a host, for tests)."""
    return os.path.join(root, path.lstrip("/"))


def describe_owner_mode(path, mode, uid, gid):
    """``path owner:group mode`` as a diff line shows it (a number where the name is unknown)."""
    try:
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        owner = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name
    except KeyError:
        group = str(gid)
    return f"{path} {owner}:{group} {mode:04o}"

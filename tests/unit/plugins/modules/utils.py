# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every module test needs: exit_json/fail_json turned into exceptions carrying the result,
and patch_module_args on every supported ansible-core (it is in ansible-core itself from 2.19)."""

from __future__ import annotations

import contextlib
import json

from ansible.module_utils import basic

try:  # ansible-core 2.19 and newer
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=unused-import
except ImportError:  # ansible-core 2.16 - 2.18: modules read their arguments from basic._ANSIBLE_ARGS

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Give AnsibleModule these arguments for the duration of the block."""
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


class ExitJson(Exception):
    """Raised by a patched AnsibleModule.exit_json; args[0] is the result."""


class FailJson(Exception):
    """Raised by a patched AnsibleModule.fail_json; args[0] is the result, msg included."""


def _exit_json(self, **kwargs):
    raise ExitJson(kwargs)


def _fail_json(self, msg, **kwargs):
    kwargs["msg"] = msg
    raise FailJson(kwargs)


def patch_exits(monkeypatch) -> None:
    """Make AnsibleModule.exit_json/fail_json raise ExitJson/FailJson for this test."""
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: drift
short_description: What the drift_report callback has found so far on a host
description:
  - Returns, for each host name given, its state in the running playbook's drift report as the
    C(bulwark.hardening.drift_report) callback published it before the current play started.
  - Used by the gate play (C(playbooks/drift_gate.yml), which C(playbooks/drift.yml) ends with and a
    playbook of your own may import), which fails the task of every drifted host (AWX/Automation
    Platform show it per host). The exit status is the callback's verdict.
author: bulwark.hardening contributors (!UNKNOWN)
version_added: 0.1.0
requirements:
  - the C(bulwark.hardening.drift_report) callback enabled in the same run
options:
  _terms:
    description: Inventory host names.
    required: true
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Fail the host when a control drifted
  ansible.builtin.assert:
    that: (query('bulwark.hardening.drift', inventory_hostname) | first).status == 'compliant'
"""

RETURN = r"""
_raw:
  description: One entry per host name.
  type: list
  elements: dict
  contains:
    status:
      description: C(compliant), C(drift), C(failed), C(unreachable), or C(unchecked) when no task ran on the host.
      type: str
    drifted:
      description: The IDs of the drifted controls (a changed task without a control by its name).
      type: list
      elements: str
    checked:
      description: How many controls ran on the host.
      type: int
"""

import json
import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

STATE_ENV = "BULWARK_DRIFT_STATE"


def host_state(report: dict, name: str) -> dict:
    """A host's status, drifted control IDs and number of controls checked."""
    host = report.get("hosts", {}).get(name)
    if host is None:
        return {"status": "unchecked", "drifted": [], "checked": 0}
    drifted = [key for key, entry in host["controls"].items() if entry["status"] == "drift"]
    return {"status": host["status"], "drifted": drifted, "checked": len(host["controls"])}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        path = os.environ.get(STATE_ENV, "")
        if not path:
            raise AnsibleLookupError(
                "no drift report in this run: enable the callback "
                "(ANSIBLE_CALLBACKS_ENABLED=bulwark.hardening.drift_report, or callbacks_enabled in ansible.cfg)"
            )
        try:
            with open(path, encoding="utf-8") as handle:
                report = json.load(handle)
        except (OSError, ValueError) as exc:
            raise AnsibleLookupError("cannot read the drift report %s: %s" % (path, exc)) from exc
        return [host_state(report, str(term)) for term in terms]

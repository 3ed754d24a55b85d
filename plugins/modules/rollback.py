#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rollback
short_description: Arm, confirm or read the host's commit-confirmed rollback
description:
  - A change that can cut the operator off (sshd's configuration and host keys, the firewall) is made
    with a rollback armed on the host first - a transient systemd timer that puts the files back as they
    were and reloads what reads them when its window ends. The roles' own modules
    (M(bulwark.hardening.config_file), M(bulwark.hardening.ssh_host_keys), M(bulwark.hardening.ufw_rules))
    arm it themselves, in the call that makes the change, and only when they change something.
  - O(state=confirmed), run over a fresh login with C(become), keeps the changes - it stops the timer and
    drops the saved files. The role C(bulwark.hardening.common) does this (C(tasks_from=confirm)) after the
    last such change of a run.
  - O(state=armed) arms for files of the caller's choosing, for changes the modules above do not make.
  - O(state=status) only reads what is armed, and when the host last rolled back.
  - The snapshot lives in C(/var/lib/bulwark/rollback/armed) (C(manifest.json), C(restore.sh), C(files/)).
    C(systemctl list-timers 'bulwark-rollback*') shows the timer, C(journalctl -t bulwark-rollback) what it did.
version_added: 0.2.0
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Nothing is armed or disarmed in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description:
      - V(confirmed) disarms (keeps the changes); V(armed) saves O(paths) and starts the timer; V(status) reads.
      - V(settled) waits (up to 20 s) until the daemons the armed change touched have re-read their configuration
        (sshd re-executes a moment after C(systemctl reload)), so that the fresh login that follows tests the new
        configuration. V(confirmed) also refuses a login that sshd accepted before it re-read its files.
    type: str
    choices: [armed, confirmed, settled, status]
    default: status
  armed_at:
    description:
      - With O(state=confirmed), the arming time the caller saw (RV(rollback.armed_at)). When nothing is armed and
        the last rollback that ran was that one, the module fails - the host rolled back before the confirmation.
    type: int
  paths:
    description: With O(state=armed), the files to save (a missing file is removed again by the rollback).
    type: list
    elements: path
    default: []
  actions:
    description: With O(state=armed), shell commands the rollback runs after putting the files back.
    type: list
    elements: str
    default: []
  what:
    description: With O(state=armed), what is about to change, in words (shown in messages and the journal).
    type: str
    default: files
  window:
    description: With O(state=armed), seconds until the host rolls back by itself (at least 30).
    type: int
    default: 90
  state_dir:
    description: Where the snapshot lives (tests use another directory).
    type: path
    default: /var/lib/bulwark/rollback
notes:
  - Needs systemd (C(systemd-run)).
seealso:
  - module: bulwark.hardening.config_file
"""

EXAMPLES = r"""
- name: Keep the changes after a fresh login proved them
  bulwark.hardening.rollback:
    state: confirmed
  become: true

- name: Arm before an edit the collection's modules do not make
  bulwark.hardening.rollback:
    state: armed
    paths: [/etc/pam.d/sshd]
    actions: ["systemctl reload ssh.service"]
    what: PAM configuration of sshd
    window: 120
"""

RETURN = r"""
rollback:
  description: What is armed after the call (also returned as the fact C(bulwark_rollback)).
  returned: always
  type: dict
  sample: {armed: true, armed_at: 1796554800, deadline: 1796554890, window: 90, unit: bulwark-rollback-1796554800000,
           what: [sshd configuration], files: [/etc/ssh/sshd_config]}
  contains:
    armed:
      description: Whether a rollback is armed (its timer running) after the call.
      returned: always
      type: bool
    armed_at:
      description: When the snapshot was first armed (epoch seconds); the confirmation passes it back as O(armed_at).
      returned: when a snapshot was found
      type: int
    deadline:
      description: When the host rolls back by itself (epoch seconds).
      returned: when a snapshot was found
      type: int
    window:
      description: The window of the last arming, in seconds.
      returned: when a snapshot was found
      type: int
    unit:
      description: The transient systemd unit of the timer.
      returned: when a snapshot was found
      type: str
    what:
      description: What changed, in words, one item per arming.
      returned: when a snapshot was found
      type: list
      elements: str
    files:
      description: The files saved.
      returned: when a snapshot was found
      type: list
      elements: str
    confirmed:
      description: Whether this call disarmed a rollback.
      returned: with O(state=confirmed), unless the host rolled back already
      type: bool
restored_at:
  description: When the host last rolled back by itself (epoch seconds), if it ever did.
  returned: when known
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import (
    STATE_DIR,
    arm,
    confirm,
    load_manifest,
    restored_at,
    sshd_settled,
    summary,
    timer_active,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["armed", "confirmed", "settled", "status"], "default": "status"},
            "armed_at": {"type": "int"},
            "paths": {"type": "list", "elements": "path", "default": []},
            "actions": {"type": "list", "elements": "str", "default": []},
            "what": {"type": "str", "default": "files"},
            "window": {"type": "int", "default": 90},
            "state_dir": {"type": "path", "default": STATE_DIR},
        },
        supports_check_mode=True,
    )
    params = module.params
    state_dir = params["state_dir"]
    result = {"changed": False}
    if params["state"] == "settled" and not module.check_mode:
        manifest = load_manifest(state_dir)
        _listener, _loaded, error = sshd_settled(module, manifest) if manifest else (None, None, None)
        result["rollback"] = summary(manifest)
        if error:
            module.fail_json(msg=error, **result)
    elif params["state"] == "status" or module.check_mode:
        manifest = load_manifest(state_dir)
        result["rollback"] = summary(manifest, armed=bool(manifest) and timer_active(module, manifest["unit"]))
    elif params["state"] == "armed":
        result["rollback"] = arm(
            module, params["paths"], params["actions"], params["what"], params["window"], state_dir=state_dir
        )
        result["changed"] = True
    else:
        found, error = confirm(module, params["armed_at"], state_dir)
        result["rollback"] = found
        if error:
            module.fail_json(msg=error, **result)
    when = restored_at(state_dir)
    if when is not None:
        result["restored_at"] = when
    if params["state"] in ("armed", "confirmed") and not module.check_mode:
        result["ansible_facts"] = {"bulwark_rollback": result["rollback"]}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

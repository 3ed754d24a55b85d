# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fail2ban_effective
short_description: Make fail2ban's effective jails the declared ones - drop-in overrides and a stale daemon
version_added: 0.2.0
description:
  - fail2ban reads C(jail.conf), C(jail.d/*.conf), C(jail.local), then C(jail.d/*.local) in sorted
    order; a drop-in read after O(own_file) (say C(jail.d/zz-local.local)) that sets an option in
    one of the declared jails (C(enabled = false), C(maxretry), C(bantime), C(ignoreip), ...) wins
    over it. The module lists those options and, outside check mode, removes them from the drop-in
    (the file is backed up first); the rest of the drop-in stays.
  - It then asks the running daemon. When a declared jail is not running, a jail declared off is
    running, or the daemon runs an older configuration than its files (a restart that was lost,
    judged by content and the daemon's last start as systemd saw it, never by a modification time -
    the C(_loaded) engine of M(bulwark.hardening.service_loaded)), it reports C(changed) with
    C(restart_needed), so that a handler restarts fail2ban.
  - The module never restarts fail2ban itself; notify a handler that tests the configuration and
    restarts it.
requirements:
  - fail2ban
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Reports the overrides and a restart that is needed and changes nothing.
  diff_mode:
    details: Before and after list the overriding options and the daemon's state.
options:
  jails:
    description:
      - The declared jails, name to C({enabled, options}) (the C(jails) of the filter
        C(bulwark.hardening.role_plan('fail2ban'))). Only C(enabled) and the names are used.
    type: dict
    required: true
  conf_dir:
    description: fail2ban's configuration directory.
    type: path
    default: /etc/fail2ban
  own_file:
    description: The file that declares the jails, relative to O(conf_dir).
    type: str
    default: jail.d/bulwark.local
  service:
    description: The systemd unit of the daemon.
    type: str
    default: fail2ban.service
  restart_pending:
    description:
      - V(true) when the caller restarts fail2ban after this task anyway (it changed the configuration
        in this run). The running daemon is then not asked - it runs the configuration the caller just
        replaced, which is no news - and only the overrides are reported and removed.
    type: bool
    default: false
    version_added: 0.3.0
notes:
  - The daemon's start is C(ExecMainStartTimestampMonotonic) of the unit; configuration files are
    the C(*.conf) and C(*.local) files below O(conf_dir).
seealso:
  - module: bulwark.hardening.ufw_rules
"""

EXAMPLES = r"""
- name: Compare fail2ban's effective jails with the declared ones
  bulwark.hardening.fail2ban_effective:
    jails:
      sshd: {enabled: true}
      recidive: {enabled: true}
      apache-auth: {enabled: false}
  notify: Restart fail2ban
"""

RETURN = r"""
overrides:
  description: Options of the declared jails set by a drop-in read after O(own_file) (removed unless in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{file: /etc/fail2ban/jail.d/zz-local.local, line: 2, jail: sshd, option: enabled, value: "false"}]
running_jails:
  description: The jails the daemon runs (empty when it does not run).
  returned: always
  type: list
  elements: str
  sample: [recidive, sshd]
restart_needed:
  description: Whether the daemon must be restarted for the files to take effect.
  returned: always
  type: bool
reasons:
  description: Why the module reports a change, one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["jail sshd is declared but not running"]
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._fail2ban import (
    files_after,
    find_overrides,
    jail_mismatch,
    parse_jail_list,
    remove_options,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._loaded import inspect

STATUS_ATTEMPTS = 10


def scan_overrides(conf_dir, own_file, jails):
    """``{path: [(line, jail, option, value), ...]}`` for the drop-ins read after *own_file*."""
    directory = os.path.join(conf_dir, os.path.dirname(own_file))
    if not os.path.isdir(directory):
        return {}
    found = {}
    for name in files_after(os.path.basename(own_file), os.listdir(directory)):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        overrides = find_overrides(read_text(path, tolerate=()), jails)
        if overrides:
            found[path] = overrides
    return found


def config_paths(conf_dir):
    """Every ``*.conf``/``*.local`` file below *conf_dir* and the directories holding them."""
    paths = []
    for root, dirs, files in os.walk(conf_dir):
        dirs.sort()
        paths.append(root)
        paths.extend(os.path.join(root, name) for name in sorted(files) if name.endswith((".conf", ".local")))
    return paths


def daemon_state(module, service, conf_dir, jails):
    """``(running_jails, reasons)`` from systemd and fail2ban-client; no reasons when it does not run."""
    systemctl = module.get_bin_path("systemctl")
    client = module.get_bin_path("fail2ban-client")
    if not systemctl or not client:
        return [], []
    loaded = inspect(module, service, config_paths(conf_dir))
    if loaded["show"].get("ActiveState") != "active":
        return [], []  # starting the service is the service task's business
    reasons = []
    # Just after a restart the daemon may not answer yet: ask a few times (bounded).
    for attempt in range(STATUS_ATTEMPTS):
        rc, out, err = module.run_command([client, "status"], environ_update={"LC_ALL": "C"})
        if rc == 0:
            break
        if attempt + 1 < STATUS_ATTEMPTS:
            time.sleep(1)
    running = parse_jail_list(out) if rc == 0 else []
    if rc != 0:
        reasons.append(f"fail2ban-client status failed: {(err or out).strip()}")
    missing, extra = jail_mismatch(jails, running)
    reasons.extend(f"jail {name} is declared but not running" for name in missing)
    reasons.extend(f"jail {name} is declared off but running" for name in extra)
    reasons.extend(f"{reason}: fail2ban runs an older configuration" for reason in loaded["stale"])
    return running, reasons


def main():
    module = AnsibleModule(
        argument_spec={
            "jails": {"type": "dict", "required": True},
            "conf_dir": {"type": "path", "default": "/etc/fail2ban"},
            "own_file": {"type": "str", "default": "jail.d/bulwark.local"},
            "service": {"type": "str", "default": "fail2ban.service"},
            "restart_pending": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    jails = params["jails"]
    found = scan_overrides(params["conf_dir"], params["own_file"], jails)
    overrides = [
        {"file": path, "line": line, "jail": jail, "option": option, "value": value}
        for path, items in sorted(found.items())
        for line, jail, option, value in items
    ]
    if params["restart_pending"]:
        running, reasons = [], []
    else:
        running, reasons = daemon_state(module, params["service"], params["conf_dir"], jails)
    reasons = [
        f"{o['file']} line {o['line']} sets {o['option']} = {o['value']} in jail {o['jail']}, overriding "
        f"{params['own_file']}" + ("" if module.check_mode else " (removed)")
        for o in overrides
    ] + reasons
    restart_needed = bool(reasons)
    result = {
        "changed": restart_needed,
        "overrides": overrides,
        "running_jails": running,
        "restart_needed": restart_needed,
        "reasons": reasons,
    }
    if module._diff:
        result["diff"] = {"before": "".join(f"{r}\n" for r in reasons), "after": ""}
    for reason in reasons:
        module.warn(reason)
    if module.check_mode or not found:
        module.exit_json(**result)

    for path, items in sorted(found.items()):
        module.backup_local(path)
        text = remove_options(read_text(path, tolerate=()), [item[0] for item in items])
        tmp = f"{path}.bulwark-tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
        module.atomic_move(tmp, path, unsafe_writes=False)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

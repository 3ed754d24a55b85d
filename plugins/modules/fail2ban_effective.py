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
    over it. The module lists those options; outside check mode it refuses (fails, changing nothing),
    naming each file, line and option to remove. It never edits or removes the drop-in, which is the
    admin's file.
  - It then asks the running daemon. When a declared jail is not running, a jail declared off is
    running, a running jail's settings (C(maxretry), C(findtime), C(bantime), C(ignoreip), the
    C(bantime.*) options, its ban action) or the daemon's settings (O(settings)) differ from the
    declared ones (changed at run time with C(fail2ban-client set ...)), or the daemon runs an older
    configuration than its files (a restart that was lost,
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
  settings:
    description:
      - The declared daemon settings (C(loglevel), C(logtarget), C(dbpurgeage)) of O(daemon_file). The running
        server's values are compared with them, and a drop-in of C(fail2ban.d) read after O(daemon_file) that sets
        one of them is an override like a jail's.
    type: dict
    default: {}
    version_added: 0.4.0
  defaults:
    description:
      - The declared C([DEFAULT]) options of O(own_file) (C(banaction), C(banaction_allports)); they resolve the
        ban action each running jail must use.
    type: dict
    default: {}
    version_added: 0.4.0
  daemon_file:
    description: The file that declares O(settings), relative to O(conf_dir).
    type: str
    default: fail2ban.d/bulwark.local
    version_added: 0.4.0
  socket:
    description: The running server's socket (C(socket) in C(fail2ban.conf)).
    type: path
    default: /var/run/fail2ban/fail2ban.sock
    version_added: 0.4.0
  restart_pending:
    description:
      - V(true) when the caller restarts fail2ban after this task anyway (it changed the configuration
        in this run). That the daemon runs an older configuration than its files is then no news and
        not reported; the running jails and their settings are still compared with the declared ones
        (in RV(reasons) and the diff, without a warning, as the restart repairs them), and the overrides
        are reported (and refused).
    type: bool
    default: false
    version_added: 0.3.0
notes:
  - The daemon's start is C(ExecMainStartTimestampMonotonic) of the unit; configuration files are
    the C(*.conf) and C(*.local) files below O(conf_dir).
  - The running server is asked over its socket in one connection, with the Python interpreter of
    C(fail2ban-client) and fail2ban's own client library (what C(fail2ban-client get) does, once per value).
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
  description: Options of the declared jails and settings set by a drop-in read after O(own_file) or O(daemon_file).
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
  sample: ["jail sshd is declared but not running", "jail sshd: maxretry is 10 in the running fail2ban, declared 3"]
runtime:
  description: The running server's differences from the declared jails and settings (also in RV(reasons)).
  returned: always
  type: list
  elements: str
  sample: ["loglevel is DEBUG in the running fail2ban, declared INFO (fail2ban.d/bulwark.local)"]
  version_added: 0.4.0
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._fail2ban import (
    files_after,
    find_default_overrides,
    find_overrides,
    find_setting_overrides,
    jail_mismatch,
    parse_jail_list,
    runtime_differences,
    runtime_queries,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._loaded import inspect

STATUS_ATTEMPTS = 10
# Run with fail2ban-client's own interpreter: one connection to the server, every query, JSON out.
QUERY = """
import json, sys
from fail2ban.client.csocket import CSocket
sock = CSocket(sys.argv[1], timeout=10)
answers = []
try:
    for command in json.loads(sys.argv[2]):
        answers.append(list(sock.send(command)))
finally:
    sock.close()
print(json.dumps(answers, default=str))
"""


def scan_overrides(conf_dir, own_file, find):
    """``{path: [(line, section, option, value), ...]}`` for the drop-ins read after *own_file*.

    *find* reads one drop-in's text (``find_overrides`` for the jails, ``find_setting_overrides``
    for the daemon settings).
    """
    directory = os.path.join(conf_dir, os.path.dirname(own_file))
    if not os.path.isdir(directory):
        return {}
    found = {}
    for name in files_after(os.path.basename(own_file), os.listdir(directory)):
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        overrides = find(read_text(path, tolerate=()))
        if overrides:
            found[path] = overrides
    return found


def interpreter(client):
    """The Python of ``fail2ban-client`` (its ``#!`` line), where fail2ban's library is importable."""
    try:
        with open(client, encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
    except OSError:
        return None
    words = first[2:].split() if first.startswith("#!") else []
    if len(words) == 2 and os.path.basename(words[0]) == "env":
        return words[1]
    return words[0] if words else None


def ask_server(module, client, socket, queries):
    """``[(query, [code, value]), ...]`` from the running server, or ``[]`` and the reason it could not answer."""
    if not queries:
        return [], None
    python = interpreter(client)
    python = module.get_bin_path(python) if python and not os.path.isabs(python) else python
    if not python:
        return [], f"cannot tell the Python of {client}"
    rc, out, err = module.run_command([python, "-c", QUERY, socket, json.dumps(queries)])
    try:
        answers = json.loads(out) if rc == 0 else None
    except ValueError:
        answers = None
    if not isinstance(answers, list) or len(answers) != len(queries):
        return [], f"asking the running fail2ban for its settings failed: {(err or out).strip()[-300:]}"
    return list(zip(queries, answers)), None


def config_paths(conf_dir):
    """Every ``*.conf``/``*.local`` file below *conf_dir* and the directories holding them."""
    paths = []
    for root, dirs, files in os.walk(conf_dir):
        dirs.sort()
        paths.append(root)
        paths.extend(os.path.join(root, name) for name in sorted(files) if name.endswith((".conf", ".local")))
    return paths


def daemon_state(module, jails, stale=True):
    """``(running_jails, reasons, runtime)`` from systemd and the server; no reasons when it does not run."""
    params = module.params
    service, conf_dir = params["service"], params["conf_dir"]
    systemctl = module.get_bin_path("systemctl")
    client = module.get_bin_path("fail2ban-client")
    if not systemctl or not client:
        return [], [], []
    loaded = inspect(module, service, config_paths(conf_dir))
    if loaded["show"].get("ActiveState") != "active":
        return [], [], []  # starting the service is the service task's business
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
    runtime = []
    if rc == 0:
        queries = runtime_queries(jails, running, params["settings"], params["defaults"])
        answers, failure = ask_server(module, client, params["socket"], queries)
        runtime = [failure] if failure else []
        runtime += runtime_differences(
            jails,
            params["settings"],
            params["defaults"],
            answers,
            jail_file=params["own_file"],
            daemon_file=params["daemon_file"],
        )
    reasons.extend(runtime)
    if stale:
        reasons.extend(f"{reason}: fail2ban runs an older configuration" for reason in loaded["stale"])
    return running, reasons, runtime


def main():
    module = AnsibleModule(
        argument_spec={
            "jails": {"type": "dict", "required": True},
            "conf_dir": {"type": "path", "default": "/etc/fail2ban"},
            "own_file": {"type": "str", "default": "jail.d/bulwark.local"},
            "service": {"type": "str", "default": "fail2ban.service"},
            "restart_pending": {"type": "bool", "default": False},
            "settings": {"type": "dict", "default": {}},
            "defaults": {"type": "dict", "default": {}},
            "daemon_file": {"type": "str", "default": "fail2ban.d/bulwark.local"},
            "socket": {"type": "path", "default": "/var/run/fail2ban/fail2ban.sock"},
        },
        supports_check_mode=True,
    )
    params = module.params
    jails = params["jails"]
    found = scan_overrides(
        params["conf_dir"],
        params["own_file"],
        lambda text: sorted(find_overrides(text, jails) + find_default_overrides(text, jails, params["defaults"])),
    )
    found.update(
        scan_overrides(
            params["conf_dir"], params["daemon_file"], lambda text: find_setting_overrides(text, params["settings"])
        )
    )
    overrides = [
        {"file": path, "line": line, "jail": jail, "option": option, "value": value}
        for path, items in sorted(found.items())
        for line, jail, option, value in items
    ]
    running, daemon_reasons, runtime = daemon_state(module, jails, stale=not params["restart_pending"])
    where = {"Definition": "", "DEFAULT": "in [DEFAULT] "}
    reasons = [
        f"{o['file']} line {o['line']} sets {o['option']} = {o['value']} "
        + where.get(o["jail"], f"in jail {o['jail']} ")
        + f"overriding {params['daemon_file'] if o['jail'] == 'Definition' else params['own_file']}"
        for o in overrides
    ]
    warned = reasons if params["restart_pending"] else reasons + daemon_reasons
    reasons = reasons + daemon_reasons
    restart_needed = bool(reasons)
    result = {
        "changed": restart_needed,
        "overrides": overrides,
        "running_jails": running,
        "restart_needed": restart_needed,
        "reasons": reasons,
        "runtime": runtime,
    }
    if module._diff:
        result["diff"] = {"before": "".join(f"{r}\n" for r in reasons), "after": ""}
    for reason in warned:
        module.warn(reason)
    if module.check_mode or not found:
        module.exit_json(**result)
    lines = "; ".join(
        f"{path} line {', '.join(str(item[0]) for item in items)} ({', '.join(item[2] for item in items)})"
        for path, items in sorted(found.items())
    )
    module.fail_json(
        msg=f"refusing to restart fail2ban: a drop-in read after ours overrides the declared settings - {lines}. "
        "Remove those lines (or the file); to change a setting, set the role's variables. Nothing was changed.",
        **result,
    )


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_loaded
short_description: Keep a systemd service enabled, running and running the configuration on disk
version_added: 0.3.0
description:
  - Starts and enables a service like M(ansible.builtin.systemd_service), and also notices a daemon
    that runs an older configuration than its files (a reload lost to a killed or failed run) and
    reloads (or restarts) it.
  - The evidence is content and the daemon's last (re)load as systemd saw it, never a modification
    time (C(touch -r) restores one) - see the C(_loaded) module utility. After every (re)load or
    start it makes, and whenever it finds the daemon current, it records which content the daemon
    loaded in a stamp under O(stamp_dir); recording is bookkeeping and is not reported as a change.
  - With O(state=reloaded) or O(state=restarted) it always acts (a handler), then records.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Reports the start, enable, reload or restart it would make; records nothing.
  diff_mode:
    details: The stale files as the before, nothing as the after.
options:
  name:
    description: The systemd unit, e.g. V(apache2) or V(php8.2-fpm).
    type: str
    required: true
  files:
    description:
      - Files and directories the daemon reads its configuration from (globs allowed). A file is
        compared by content, a directory by its listing; symlinks are followed.
    type: list
    elements: str
    default: []
  enabled:
    description: Whether the unit must start at boot; V(null) leaves it as it is.
    type: bool
  state:
    description:
      - V(started) starts a stopped unit and, when it runs an older configuration, applies O(stale_action).
      - V(reloaded) and V(restarted) always act (a stopped unit is started).
      - V(current) is V(started) without the start - a stopped unit stays stopped (a role that
        configures a daemon it does not own, e.g. PHP under Apache).
    type: str
    choices: [started, reloaded, restarted, current]
    default: started
  stale_action:
    description:
      - What O(state=started) or O(state=current) does when the daemon runs an older configuration than its files.
      - V(none) only reports it in RV(stale) (a role whose handler tests the configuration first and
        is notified by another task).
    type: str
    choices: [reloaded, restarted, none]
    default: reloaded
  reasons:
    description:
      - What the caller found the running daemon to differ in, beyond its files' content and load time,
        e.g. RV(bulwark.hardening.sshd_effective_config#module:running.reasons) (what the live daemon
        offers). They count as stale (RV(stale)) and are shown, like the module's own findings, as
        warnings and as the diff whenever this call acts.
    type: list
    elements: str
    default: []
  stamp_dir:
    description: Directory of the stamps (one JSON file per unit).
    type: path
    default: /var/lib/bulwark/loaded
  evidence:
    description:
      - V(stamp) judges a systemd daemon by content and its last (re)load (above).
      - V(ufw) asks the kernel instead (ufw is no daemon, and C(ufw reload) bypasses systemd); the
        live policies, IPv6 filtering, user chains and the chains C(before.rules) and C(after.rules)
        fill (C(iptables -S), C(ip6tables -S)) are compared with C(/etc/default/ufw), C(user.rules),
        C(user6.rules) and those files, and C(ufw reload) is run when they differ, or always with
        O(state=reloaded) (a change to C(/etc/default/ufw) that the comparison cannot see). A rule in the
        built-in INPUT chain that ufw did not make and that accepts traffic (inserted by hand; a reload
        leaves it) is a difference too, and is deleted after the reload. O(files), O(enabled) and the
        O(state) values V(started) and V(restarted) do not apply (enabling ufw is
        M(bulwark.hardening.ufw_rules)' business); nothing is recorded.
    type: str
    choices: [stamp, ufw]
    default: stamp
  probes:
    description:
      - Requests the running daemon must answer as expected (O(evidence=stamp) only), made from the host
        itself, e.g. to Apache's own listeners. A wrong answer counts like a stale file (it is listed in
        RV(stale) and RV(live), and O(stale_action) applies); after any (re)load or start this call makes,
        the requests are repeated for up to O(probe_wait) seconds until every answer is right, and the
        module fails naming what the daemon still answers - no reload can repair that, so a configuration
        this call was not told about overrides it.
      - HTTPS certificates are not verified (the daemon's answer is the question, not its identity).
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description: An C(http://) or C(https://) URL.
        type: str
        required: true
      method:
        description: The request method.
        type: str
        default: GET
      headers:
        description: Header name to the value it must have, exactly once; V(null) for a header that must be absent.
        type: dict
        default: {}
      status:
        description: The acceptable status codes; V([]) accepts any.
        type: list
        elements: int
        default: []
  probe_wait:
    description: Seconds to wait after a (re)load or start for every probe to be answered as expected.
    type: int
    default: 20
"""

EXAMPLES = r"""
- name: Keep Apache enabled and running on its current configuration
  bulwark.hardening.service_loaded:
    name: apache2
    enabled: true
    files:
      - /etc/apache2/apache2.conf
      - /etc/apache2/conf-enabled
      - /etc/apache2/conf-enabled/*

- name: Reload Apache (a handler), recording what it loaded
  bulwark.hardening.service_loaded:
    name: apache2
    state: reloaded
    files: [/etc/apache2/apache2.conf]
"""

RETURN = r"""
action:
  description: What was done (or would be in check mode) to the unit's process, V(null) for nothing.
  returned: always
  type: str
  sample: reloaded
stale:
  description:
    - One reason per file the running daemon has not loaded, before any action. Also shown as a warning
      and as the diff when this call reloads or restarts because of it.
  returned: always
  type: list
  elements: str
  sample: ["/etc/apache2/conf-enabled/bulwark-hardening.conf changed after the daemon last (re)loaded"]
loaded_at:
  description: When the daemon last (re)loaded (epoch seconds), after any action; V(null) when it does not run.
  returned: always
  type: float
live:
  description: The wrong answers to O(probes), before any action.
  returned: always
  type: list
  elements: str
  sample: ["GET http://127.0.0.1:80/ sends Server: Apache/2.4.62 (Debian) (expected Apache, once)"]
"""

import http.client
import shlex
import ssl
import time
import urllib.parse

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._loaded import (
    STAMP_DIR,
    answer_differences,
    inspect,
    record,
    ufw_differences,
    ufw_foreign_rules,
)

VERBS = {"started": "start", "reloaded": "reload", "restarted": "restart"}
UFW_FILES = ("/etc/default/ufw", "/etc/ufw/user.rules", "/etc/ufw/user6.rules")
UFW_FRAMEWORK = ("before.rules", "after.rules", "before6.rules", "after6.rules")


def live_rules(module, name):
    """``iptables -S`` (or ``ip6tables -S``) output, '' when the command is missing or fails."""
    binary = module.get_bin_path(name)
    if not binary:
        return ""
    rc, out, _err = module.run_command([binary, "-S"], environ_update={"LC_ALL": "C"})
    return out if rc == 0 else ""


def ufw_main(module):
    """O(evidence=ufw): the kernel's rule set against ufw's files; ``ufw reload`` when they differ, and an
    INPUT rule ufw did not make that accepts traffic deleted (a reload leaves it)."""
    defaults, rules, rules6 = (read_text(path) for path in UFW_FILES)
    framework = {name: read_text(f"/etc/ufw/{name}") for name in UFW_FRAMEWORK}
    live, live6 = live_rules(module, "iptables"), live_rules(module, "ip6tables")
    stale = ufw_differences(defaults, rules, live, rules6, live6, framework=framework)
    # Only while ufw is loaded (the comparison above says nothing otherwise).
    foreign = [("iptables", line) for line in ufw_foreign_rules(live)] if stale else []
    foreign += [("ip6tables", line) for line in ufw_foreign_rules(live6)] if stale else []
    wanted = module.params["state"] == "reloaded" or (stale and module.params["stale_action"] != "none")
    action = "reloaded" if wanted else None
    result = {"changed": bool(action), "action": action, "stale": stale, "loaded_at": None}
    if module._diff and stale:
        result["diff"] = {"before": "".join(f"{reason}\n" for reason in stale), "after": ""}
    for reason in stale:
        module.warn(f"ufw: {reason}")
    if action and not module.check_mode:
        rc, out, err = module.run_command([module.get_bin_path("ufw", required=True), "reload"])
        if rc != 0:
            module.fail_json(msg=f"ufw reload failed: {(err or out).strip()}", **result)
        for command, line in foreign:
            argv = [module.get_bin_path(command, required=True), "-D", *shlex.split(line)[1:]]
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(msg=f"{' '.join(argv)} failed: {(err or out).strip()}", **result)
    module.exit_json(**result)


def ask(probe, timeout=5):
    """``(status, [(header, value)])`` of one request, ``(None, [])`` when nothing answered."""
    parts = urllib.parse.urlsplit(probe["url"])
    port = parts.port
    if parts.scheme == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=context)
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    try:
        connection.request(probe.get("method") or "GET", parts.path or "/", headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheaders()
    except (OSError, http.client.HTTPException):
        return None, []
    finally:
        connection.close()


def live_answers(probes):
    """Every wrong answer of the daemon to ``probes``."""
    reasons = []
    for probe in probes:
        reasons.extend(answer_differences(probe, *ask(probe)))
    return reasons


def wait_for_answers(probes, seconds, step=0.5):
    """The wrong answers left once every probe is answered right or ``seconds`` passed (a graceful
    reload returns before the daemon has read its files)."""
    deadline = time.monotonic() + seconds
    while True:
        wrong = live_answers(probes)
        if not wrong or time.monotonic() >= deadline:
            return wrong
        time.sleep(step)


def plan(state, stale_action, active, stale):
    """The action on the unit's process: None, or a state among started/reloaded/restarted."""
    if not active:
        return None if state == "current" else "started"
    if state in ("reloaded", "restarted"):
        return state
    if stale and stale_action != "none":
        return stale_action
    return None


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "files": {"type": "list", "elements": "str", "default": []},
            "enabled": {"type": "bool"},
            "state": {
                "type": "str",
                "choices": ["started", "reloaded", "restarted", "current"],
                "default": "started",
            },
            "stale_action": {"type": "str", "choices": ["reloaded", "restarted", "none"], "default": "reloaded"},
            "reasons": {"type": "list", "elements": "str", "default": []},
            "stamp_dir": {"type": "path", "default": STAMP_DIR},
            "evidence": {"type": "str", "choices": ["stamp", "ufw"], "default": "stamp"},
            "probes": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "url": {"type": "str", "required": True},
                    "method": {"type": "str", "default": "GET"},
                    "headers": {"type": "dict", "default": {}},
                    "status": {"type": "list", "elements": "int", "default": []},
                },
            },
            "probe_wait": {"type": "int", "default": 20},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["evidence"] == "ufw":
        ufw_main(module)
    unit = params["name"]
    try:
        state = inspect(module, unit, params["files"], params["stamp_dir"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    show = state["show"]
    if not show:
        module.fail_json(msg=f"systemctl show {unit} failed: is systemd running and the unit installed?")
    for probe in params["probes"]:
        if urllib.parse.urlsplit(probe["url"]).scheme not in ("http", "https"):
            module.fail_json(msg=f"probes: {probe['url']!r} is not an http:// or https:// URL")
    active = show.get("ActiveState") == "active"
    live = live_answers(params["probes"]) if active else []
    stale = state["stale"] + [reason for reason in params["reasons"] + live if reason not in state["stale"]]
    action = plan(params["state"], params["stale_action"], active, stale)
    enable = params["enabled"] is not None and (show.get("UnitFileState") == "enabled") != params["enabled"]
    result = {"changed": bool(action or enable), "action": action, "stale": stale, "live": live}
    # Said only when this call acts on it: a handler reloads anyway, and stale_action=none leaves it to
    # one - unless the caller gave its reasons for the action.
    if (action == params["stale_action"] and params["state"] in ("started", "current")) or (
        action and params["reasons"]
    ):
        if module._diff:
            result["diff"] = {"before": "".join(f"{reason}\n" for reason in stale), "after": ""}
        for reason in stale:
            module.warn(f"{unit}: {reason}")
    if module.check_mode:
        result["loaded_at"] = state["load"]["at"] if state["load"] else None
        module.exit_json(**result)

    systemctl = module.get_bin_path("systemctl", required=True)
    if enable:
        verb = "enable" if params["enabled"] else "disable"
        rc, out, err = module.run_command([systemctl, verb, unit])
        if rc != 0:
            module.fail_json(msg=f"systemctl {verb} {unit} failed: {(err or out).strip()}", **result)
    if action:
        rc, out, err = module.run_command([systemctl, VERBS[action], unit])
        if rc != 0:
            module.fail_json(msg=f"systemctl {VERBS[action]} {unit} failed: {(err or out).strip()}", **result)
        wrong = wait_for_answers(params["probes"], params["probe_wait"])
        if wrong:
            module.fail_json(
                msg=f"{unit} still answers wrongly after it was {action}: {'; '.join(wrong)}. No reload repairs "
                "that: a configuration this task was not told about overrides it.",
                **result,
            )
    load = record(module, state, after_action=bool(action))
    result["loaded_at"] = load["at"] if load else None
    module.exit_json(**result)


if __name__ == "__main__":
    main()

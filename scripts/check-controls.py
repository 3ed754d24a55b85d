"""Check that every role task that can change a host declares its drift control.

The drift report (plugins/callback/drift_report.py) reports controls, not tasks: each task that
can report ``changed`` carries ``bulwark_control: {id, measure, cis}`` in its ``vars`` (its own,
or inherited from an enclosing ``block``; the task's own declaration wins). This script reads
every ``roles/*/tasks/*.yml`` and prints one line per defect, ``path: task name: reason``, and
exits 1; otherwise it prints how many controls cover how many tasks.

``--self-test`` runs the checker on a few inline snippets and asserts its verdicts.
"""

from __future__ import annotations

import pathlib
import re
import sys

import yaml

# The first segment of a control ID names the role it belongs to.
PREFIXES = {
    "ssh_hardening": ("SSH",),
    "ufw": ("UFW",),
    "fail2ban": ("FAIL2BAN",),
    "unattended_upgrades": ("UPDATES",),
    "minimal_packages": ("PACKAGES", "LISTENER"),
    "apache_hardening": ("APACHE",),
    "php_hardening": ("PHP",),
    "immutable": ("IMMUTABLE",),
    "common": ("COMMON",),
}
ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
CONTROL_KEYS = {"id", "measure", "cis"}

# Actions that cannot change the host, so cannot report drift: no control needed, and none may
# be declared on them. A task with a changed_when other than false still needs one (it then
# reports drift on purpose: a debug with changed_when: true, a read-only probe whose result the
# task turns into a change in check mode). Collection modules are listed only when their
# documentation says they always return changed=false; sshd_effective_config is not (it may
# create /run/sshd), nor is any module that writes.
EXEMPT_ACTIONS = {
    # Control flow and facts
    "ansible.builtin.assert",
    "ansible.builtin.fail",
    "ansible.builtin.set_fact",
    "ansible.builtin.include_tasks",
    "ansible.builtin.import_tasks",
    "ansible.builtin.include_role",
    "ansible.builtin.import_role",
    "ansible.builtin.meta",
    "ansible.builtin.debug",
    # Read-only probes
    "ansible.builtin.stat",
    "ansible.builtin.slurp",
    "ansible.builtin.setup",
    "ansible.builtin.package_facts",
    "ansible.builtin.service_facts",
    "ansible.builtin.getent",
    "ansible.builtin.find",
    "community.crypto.x509_certificate_info",
    "community.crypto.openssl_privatekey_info",
    # This collection's read-only modules (changed is always false)
    "bulwark.hardening.apt_updates",
    "bulwark.hardening.listening_sockets",
    "bulwark.hardening.php_info",
    "bulwark.hardening.purge_plan",
}

# Playbook keywords a task may carry besides its action (with_<lookup> is matched by prefix).
TASK_KEYWORDS = {
    "action", "any_errors_fatal", "args", "async", "become", "become_exe", "become_flags",
    "become_method", "become_user", "changed_when", "check_mode", "collections", "connection",
    "debugger", "delay", "delegate_facts", "delegate_to", "diff", "environment", "failed_when",
    "ignore_errors", "ignore_unreachable", "listen", "local_action", "loop", "loop_control",
    "module_defaults", "name", "no_log", "notify", "poll", "port", "register", "remote_user",
    "retries", "run_once", "tags", "throttle", "timeout", "until", "vars", "when",
}  # fmt: skip
BLOCK_KEYS = ("block", "rescue", "always")


def action_of(task: dict) -> str | None:
    """The task's module as an FQCN (short and ansible.legacy names mapped to ansible.builtin)."""
    if "action" in task or "local_action" in task:
        value = task.get("action", task.get("local_action"))
        name = value.get("module") if isinstance(value, dict) else str(value).split()[0] if value else None
    else:
        names = [key for key in task if key not in TASK_KEYWORDS and not str(key).startswith("with_")]
        name = names[0] if len(names) == 1 else None
    if not isinstance(name, str):
        return None
    if name.startswith("ansible.legacy."):
        name = name[len("ansible.legacy.") :]
    return name if "." in name else f"ansible.builtin.{name}"


def is_false(value) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def control_problems(control, role: str) -> list[str]:
    """What is wrong with one bulwark_control declaration (empty when it is valid)."""
    if not isinstance(control, dict):
        return [f"bulwark_control must be a mapping with id, measure and optional cis, not {control!r}"]
    problems = []
    unknown = sorted(str(key) for key in control if key not in CONTROL_KEYS)
    if unknown:
        problems.append(f"bulwark_control has unknown keys {', '.join(unknown)} (allowed: id, measure, cis)")
    ident = control.get("id")
    if not isinstance(ident, str) or not ID_RE.match(ident):
        problems.append(f"bulwark_control id {ident!r} does not match {ID_RE.pattern}")
    else:
        allowed = PREFIXES.get(role)
        if allowed is None:
            problems.append(f"role {role} has no control prefix in scripts/check-controls.py")
        elif ident.split("-", 1)[0] not in allowed:
            wanted = " or ".join(f"{prefix}-" for prefix in allowed)
            problems.append(f"bulwark_control id {ident} does not start with {wanted} (role {role})")
    measure = control.get("measure")
    if not isinstance(measure, str) or not measure.strip():
        problems.append(f"bulwark_control measure must be a non-empty string, not {measure!r}")
    if "cis" in control and (not isinstance(control["cis"], str) or not control["cis"].strip()):
        problems.append(f"bulwark_control cis must be a non-empty string when given, not {control['cis']!r}")
    return problems


def check_tasks(path: str, role: str, tasks, inherited=None, found=None) -> list[str]:
    """Defects of a task list; appends (control, task name) of each task that needs a control to ``found``."""
    defects: list[str] = []
    if found is None:
        found = []
    if not isinstance(tasks, list):
        return [f"{path}: (file): a tasks file must hold a list of tasks"]
    for task in tasks:
        if not isinstance(task, dict):
            defects.append(f"{path}: (unnamed): a task must be a mapping, not {task!r}")
            continue
        name = task.get("name") or "(unnamed)"
        task_vars = task.get("vars") or {}
        own = "bulwark_control" in task_vars if isinstance(task_vars, dict) else False
        control = task_vars["bulwark_control"] if own else inherited
        if own:
            defects.extend(f"{path}: {name}: {problem}" for problem in control_problems(control, role))
        if any(key in task for key in BLOCK_KEYS):
            for key in BLOCK_KEYS:
                defects.extend(check_tasks(path, role, task.get(key) or [], control, found))
            continue
        action = action_of(task)
        if action is None:
            defects.append(f"{path}: {name}: cannot tell the task's action (none or more than one module key)")
            continue
        if "changed_when" in task:
            needs = not is_false(task["changed_when"])
        else:
            needs = action not in EXEMPT_ACTIONS
        if not needs:
            if own:
                defects.append(f"{path}: {name}: declares bulwark_control but cannot report changed ({action})")
            continue
        if control is None:
            defects.append(f"{path}: {name}: can report changed ({action}) but declares no bulwark_control")
            continue
        found.append((control, name))
    return defects


def consistency(found: list) -> list[str]:
    """One ID, one control: tasks that share an ID must declare the same measure and cis."""
    defects, first = [], {}
    for path, control, name in found:
        if not isinstance(control, dict) or not isinstance(control.get("id"), str):
            continue
        seen = first.setdefault(control["id"], (path, control, name))
        for key in ("measure", "cis"):
            if control.get(key) != seen[1].get(key):
                defects.append(
                    f"{path}: {name}: bulwark_control {control['id']} has another {key} than in {seen[0]} ({seen[2]})"
                )
    return defects


def check_files(paths) -> tuple[list[str], list]:
    defects, found = [], []
    for path in paths:
        role = pathlib.Path(path).parts[-3]
        try:
            tasks = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            defects.append(f"{path}: (file): not YAML: {exc}")
            continue
        in_file: list = []
        defects.extend(check_tasks(str(path), role, tasks, None, in_file))
        found.extend((str(path), control, name) for control, name in in_file)
    return defects + consistency(found), found


GOOD = """
- name: Install the hardened sshd_config
  ansible.builtin.template: {src: sshd_config.j2, dest: /etc/ssh/sshd_config}
  vars:
    bulwark_control: {id: SSH-CONFIG, measure: "i-doit guide: Securing SSH", cis: "5.1.20"}
"""
MISSING = """
- name: Write the login banner
  ansible.builtin.copy: {dest: /etc/issue.net, content: hello}
"""
BAD_ID = """
- name: Write the login banner
  ansible.builtin.copy: {dest: /etc/issue.net, content: hello}
  vars:
    bulwark_control: {id: ssh-banner, measure: banner}
- name: Install ufw
  ansible.builtin.apt: {name: ufw}
  vars:
    bulwark_control: {id: UFW-PACKAGE, measure: firewall}
- name: Write the moduli
  bulwark.hardening.ssh_moduli: {min_bits: 3072}
  vars:
    bulwark_control: {id: SSH-MODULI, measure: "", level: 1}
"""
INHERITED = """
- name: Configure
  vars:
    bulwark_control: {id: SSH-CONFIG, measure: "i-doit guide: Securing SSH"}
  block:
    - name: Write the file
      ansible.builtin.copy: {dest: /etc/ssh/x, content: x}
    - name: Keep the service running
      ansible.builtin.systemd_service: {name: ssh, state: started}
      vars:
        bulwark_control: {id: SSH-SERVICE, measure: "i-doit guide: Securing SSH"}
  rescue:
    - name: Restore the file
      ansible.builtin.copy: {dest: /etc/ssh/x, content: y}
"""
EXEMPT = """
- name: Read the version
  ansible.builtin.command: {argv: [sshd, -V]}
  changed_when: false
- name: Check the variables
  ansible.builtin.assert: {that: true}
- name: Say hello
  ansible.builtin.debug: {msg: hello}
- name: Say hello again
  ansible.builtin.debug: {msg: hello}
  vars:
    bulwark_control: {id: SSH-HELLO, measure: greeting}
- name: Report that sshd would be installed
  ansible.builtin.debug: {msg: would install}
  changed_when: true
"""
SHARED = """
- name: Install the file
  ansible.builtin.copy: {dest: /x, content: x}
  vars:
    bulwark_control: {id: SSH-CONFIG, measure: one}
- name: Install the other file
  ansible.builtin.copy: {dest: /y, content: y}
  vars:
    bulwark_control: {id: SSH-CONFIG, measure: two}
"""

# snippet, expected number of defects, a fragment each defect line must contain (in order)
CASES = [
    (GOOD, []),
    (MISSING, ["Write the login banner: can report changed (ansible.builtin.copy) but declares no bulwark_control"]),
    (
        BAD_ID,
        [
            "Write the login banner: bulwark_control id 'ssh-banner' does not match",
            "Install ufw: bulwark_control id UFW-PACKAGE does not start with SSH- (role ssh_hardening)",
            "Write the moduli: bulwark_control has unknown keys level",
            "Write the moduli: bulwark_control measure must be a non-empty string",
        ],
    ),
    (INHERITED, []),
    (
        EXEMPT,
        [
            "Say hello again: declares bulwark_control but cannot report changed (ansible.builtin.debug)",
            "Report that sshd would be installed: can report changed (ansible.builtin.debug) but declares no",
        ],
    ),
    (SHARED, ["Install the other file: bulwark_control SSH-CONFIG has another measure than in"]),
]


def self_test() -> int:
    path = "roles/ssh_hardening/tasks/main.yml"
    for number, (snippet, expected) in enumerate(CASES, 1):
        found: list = []
        defects = check_tasks(path, "ssh_hardening", yaml.safe_load(snippet), None, found)
        defects += consistency([(path, control, name) for control, name in found])
        assert len(defects) == len(expected), f"case {number}: {defects}"
        for line, fragment in zip(defects, expected):
            assert line.startswith(f"{path}: ") and fragment in line, f"case {number}: {line!r} lacks {fragment!r}"
    inherited: list = []
    check_tasks(path, "ssh_hardening", yaml.safe_load(INHERITED), None, inherited)
    ids = [(control["id"], name) for control, name in inherited]
    assert ids == [
        ("SSH-CONFIG", "Write the file"),
        ("SSH-SERVICE", "Keep the service running"),
        ("SSH-CONFIG", "Restore the file"),
    ], ids
    print(f"check-controls self-test: {len(CASES)} cases passed")
    return 0


def main(argv: list[str]) -> int:
    if "--self-test" in argv:
        return self_test()
    paths = sorted(pathlib.Path("roles").glob("*/tasks/*.yml"))
    defects, found = check_files(paths)
    if defects:
        print("\n".join(defects), file=sys.stderr)
        return 1
    ids = {control["id"] for _path, control, _name in found}
    print(f"check-controls: {len(ids)} controls over {len(found)} tasks that can change a host")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

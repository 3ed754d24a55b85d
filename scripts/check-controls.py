"""Check that every role task that can change a host names its drift control, and the catalogue.

The drift report (plugins/callback/drift_report.py) reports controls, not tasks: each task that
can report ``changed`` names its control by ID in its ``vars`` (``bulwark_control: SSH-CONFIG``;
its own, or inherited from an enclosing ``block``; the task's own wins). Each control's title,
measure and CIS references are written once, in the catalogue (plugins/module_utils/_controls.py).

This script reads the catalogue and every ``roles/*/tasks/*.yml`` and prints one line per defect,
``path: task name: reason``, and exits 1: a task that can change a host and names no control; an
ID the catalogue does not hold, or holds for another role; a ``bulwark_control`` that is more than
an ID; a catalogue entry that is malformed or that no task names; a measure restated anywhere under
roles/ or playbooks/. Otherwise it prints how many controls cover how many tasks.

``--self-test`` runs the checker on a few inline snippets and asserts its verdicts.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import sys

import yaml

CATALOGUE = "plugins/module_utils/_controls.py"
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
    "os_baseline": ("OS",),
}
ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
ENTRY_KEYS = {"role", "title", "measure", "cis", "cis13"}
# Measures shorter than this are not searched for as restated text (none is, today).
MIN_RESTATED = 20

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


def load_catalogue(path: pathlib.Path) -> dict:
    """The catalogue's CONTROLS, read from its file (no Ansible, no collection path needed)."""
    spec = importlib.util.spec_from_file_location("_bulwark_controls", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CONTROLS


def catalogue_problems(catalogue: dict) -> list[str]:
    """Defects of the catalogue's entries, one line each, named by the catalogue's path and the ID."""
    defects = []
    for ident, entry in catalogue.items():
        where = f"{CATALOGUE}: {ident}"
        if not isinstance(ident, str) or not ID_RE.match(ident):
            defects.append(f"{where}: the ID does not match {ID_RE.pattern}")
            continue
        if not isinstance(entry, dict):
            defects.append(f"{where}: an entry must be a mapping with role, title, measure and optional cis, cis13")
            continue
        unknown = sorted(str(key) for key in entry if key not in ENTRY_KEYS)
        if unknown:
            defects.append(f"{where}: unknown keys {', '.join(unknown)} (allowed: {', '.join(sorted(ENTRY_KEYS))})")
        for key in ("title", "measure", "cis", "cis13"):
            value = entry.get(key)
            if (key in entry or key in ("title", "measure")) and (not isinstance(value, str) or not value.strip()):
                defects.append(f"{where}: {key} must be a non-empty string, not {value!r}")
        allowed = PREFIXES.get(entry.get("role"))
        if allowed is None:
            defects.append(f"{where}: role {entry.get('role')!r} is none of {', '.join(sorted(PREFIXES))}")
        elif ident.split("-", 1)[0] not in allowed:
            wanted = " or ".join(f"{prefix}-" for prefix in allowed)
            defects.append(f"{where}: a control of role {entry['role']} starts with {wanted}")
    return defects


def control_problems(control, role: str, catalogue: dict) -> list[str]:
    """What is wrong with one task's bulwark_control (empty when it names a control of its role, or lists
    two or more, as a task that writes the files of several controls in one call does)."""
    if isinstance(control, list) and len(control) > 1 and len(set(map(str, control))) == len(control):
        return [problem for item in control for problem in control_problems(item, role, catalogue)]
    if not isinstance(control, str):
        return [
            f"bulwark_control names a control by its ID only (its title, measure and CIS are in {CATALOGUE}), "
            f"not {control!r}"
        ]
    entry = catalogue.get(control)
    if entry is None:
        return [f"bulwark_control {control} is not in the catalogue ({CATALOGUE})"]
    if entry.get("role") != role:
        return [f"bulwark_control {control} is a control of role {entry.get('role')}, not of {role}"]
    return []


def check_tasks(path: str, role: str, tasks, catalogue: dict, *, inherited=None, found=None) -> list[str]:
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
            defects.extend(f"{path}: {name}: {problem}" for problem in control_problems(control, role, catalogue))
        if any(key in task for key in BLOCK_KEYS):
            for key in BLOCK_KEYS:
                defects.extend(check_tasks(path, role, task.get(key) or [], catalogue, inherited=control, found=found))
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


def unused(catalogue: dict, found: list) -> list[str]:
    """Catalogue entries that no task names."""
    named = {
        ident for _path, control, _name in found for ident in (control if isinstance(control, list) else [control])
    }
    return [f"{CATALOGUE}: {ident}: no task names this control" for ident in catalogue if ident not in named]


def restated(path: str, text: str, catalogue: dict) -> list[str]:
    """A catalogue measure copied into a file that should name the control by its ID only."""
    return [
        f"{path}: restates the measure of {ident} (name the control by its ID; the text is in {CATALOGUE})"
        for ident, entry in catalogue.items()
        if isinstance(entry, dict)
        and isinstance(entry.get("measure"), str)
        and len(entry["measure"]) >= MIN_RESTATED
        and entry["measure"] in text
    ]


def check_files(paths, catalogue: dict) -> tuple[list[str], list]:
    defects, found = [], []
    for path in paths:
        role = pathlib.Path(path).parts[-3]
        try:
            tasks = yaml.safe_load(pathlib.Path(path).read_text(encoding="utf-8")) or []
        except yaml.YAMLError as exc:
            defects.append(f"{path}: (file): not YAML: {exc}")
            continue
        in_file: list = []
        defects.extend(check_tasks(str(path), role, tasks, catalogue, found=in_file))
        found.extend((str(path), control, name) for control, name in in_file)
    return defects, found


# The catalogue the snippets below are checked against.
SAMPLE = {
    "SSH-CONFIG": {"role": "ssh_hardening", "title": "Hardened sshd_config", "measure": "No root login (i-doit)"},
    "SSH-SERVICE": {"role": "ssh_hardening", "title": "sshd running", "measure": "sshd enabled and running"},
    "UFW-PACKAGE": {
        "role": "ufw",
        "title": "ufw installed",
        "measure": "ufw, the host firewall",
        "cis": "4.2.1",
        "cis13": "4.1.1",
    },
}
GOOD = """
- name: Install the hardened sshd_config
  ansible.builtin.template: {src: sshd_config.j2, dest: /etc/ssh/sshd_config}
  vars:
    bulwark_control: SSH-CONFIG
"""
MISSING = """
- name: Write the login banner
  ansible.builtin.copy: {dest: /etc/issue.net, content: hello}
"""
BAD_ID = """
- name: Write the login banner
  ansible.builtin.copy: {dest: /etc/issue.net, content: hello}
  vars:
    bulwark_control: SSH-BANNER
- name: Install ufw
  ansible.builtin.apt: {name: ufw}
  vars:
    bulwark_control: UFW-PACKAGE
- name: Write the moduli
  bulwark.hardening.ssh_moduli: {min_bits: 3072}
  vars:
    bulwark_control: {id: SSH-CONFIG, measure: "No root login (i-doit)"}
"""
INHERITED = """
- name: Configure
  vars:
    bulwark_control: SSH-CONFIG
  block:
    - name: Write the file
      ansible.builtin.copy: {dest: /etc/ssh/x, content: x}
    - name: Keep the service running
      ansible.builtin.systemd_service: {name: ssh, state: started}
      vars:
        bulwark_control: SSH-SERVICE
  rescue:
    - name: Restore the file
      ansible.builtin.copy: {dest: /etc/ssh/x, content: y}
"""
SEVERAL = """
- name: Write the sshd files of two controls in one call
  bulwark.hardening.config_file:
    files: [{dest: /etc/ssh/a, content: a, control: SSH-CONFIG}, {dest: /etc/ssh/b, content: b, control: SSH-SERVICE}]
  vars:
    bulwark_control: [SSH-CONFIG, SSH-SERVICE]
- name: List one control twice
  ansible.builtin.copy: {dest: /etc/ssh/c, content: c}
  vars:
    bulwark_control: [SSH-CONFIG, SSH-CONFIG]
- name: List another role's control
  ansible.builtin.copy: {dest: /etc/ssh/d, content: d}
  vars:
    bulwark_control: [SSH-CONFIG, UFW-PACKAGE]
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
    bulwark_control: SSH-CONFIG
- name: Report that sshd would be installed
  ansible.builtin.debug: {msg: would install}
  changed_when: true
"""

# snippet, a fragment each defect line must contain (in order; as many defects as fragments)
CASES = [
    (GOOD, []),
    (MISSING, ["Write the login banner: can report changed (ansible.builtin.copy) but declares no bulwark_control"]),
    (
        BAD_ID,
        [
            f"Write the login banner: bulwark_control SSH-BANNER is not in the catalogue ({CATALOGUE})",
            "Install ufw: bulwark_control UFW-PACKAGE is a control of role ufw, not of ssh_hardening",
            "Write the moduli: bulwark_control names a control by its ID only",
        ],
    ),
    (INHERITED, []),
    (
        SEVERAL,
        [
            "List one control twice: bulwark_control names a control by its ID only",
            "List another role's control: bulwark_control UFW-PACKAGE is a control of role ufw, not of ssh_hardening",
        ],
    ),
    (
        EXEMPT,
        [
            "Say hello again: declares bulwark_control but cannot report changed (ansible.builtin.debug)",
            "Report that sshd would be installed: can report changed (ansible.builtin.debug) but declares no",
        ],
    ),
]

# A catalogue with a defect in each entry, and the fragment its line must contain.
BAD_CATALOGUE = {
    "ssh-lower": {"role": "ssh_hardening", "title": "t", "measure": "m"},
    "SSH-LEVEL": {"role": "ssh_hardening", "title": "t", "measure": "m", "level": 1},
    "SSH-EMPTY": {"role": "ssh_hardening", "title": "t", "measure": " "},
    "SSH-NO-TITLE": {"role": "ssh_hardening", "measure": "m"},
    "SSH-CIS": {"role": "ssh_hardening", "title": "t", "measure": "m", "cis": ""},
    "SSH-CIS13": {"role": "ssh_hardening", "title": "t", "measure": "m", "cis": "5.1.4", "cis13": ["5.1.4"]},
    "UFW-IN-SSH": {"role": "ssh_hardening", "title": "t", "measure": "m"},
    "WEB-ROLE": {"role": "web", "title": "t", "measure": "m"},
}
BAD_CATALOGUE_LINES = [
    "ssh-lower: the ID does not match",
    "SSH-LEVEL: unknown keys level",
    "SSH-EMPTY: measure must be a non-empty string",
    "SSH-NO-TITLE: title must be a non-empty string, not None",
    "SSH-CIS: cis must be a non-empty string",
    "SSH-CIS13: cis13 must be a non-empty string, not ['5.1.4']",
    "UFW-IN-SSH: a control of role ssh_hardening starts with SSH-",
    "WEB-ROLE: role 'web' is none of",
]


def expect(defects: list[str], fragments: list[str], what: str) -> None:
    assert len(defects) == len(fragments), f"{what}: {defects}"
    for line, fragment in zip(defects, fragments):
        assert fragment in line, f"{what}: {line!r} lacks {fragment!r}"


def self_test() -> int:
    path = "roles/ssh_hardening/tasks/main.yml"
    for number, (snippet, expected) in enumerate(CASES, 1):
        defects = check_tasks(path, "ssh_hardening", yaml.safe_load(snippet), SAMPLE)
        assert all(line.startswith(f"{path}: ") for line in defects), defects
        expect(defects, expected, f"case {number}")
    inherited: list = []
    check_tasks(path, "ssh_hardening", yaml.safe_load(INHERITED), SAMPLE, found=inherited)
    assert inherited == [
        ("SSH-CONFIG", "Write the file"),
        ("SSH-SERVICE", "Keep the service running"),
        ("SSH-CONFIG", "Restore the file"),
    ], inherited
    expect(catalogue_problems(SAMPLE), [], "the sample catalogue")
    expect(catalogue_problems(BAD_CATALOGUE), BAD_CATALOGUE_LINES, "the bad catalogue")
    found = [(path, control, name) for control, name in inherited]
    expect(unused(SAMPLE, found), [f"{CATALOGUE}: UFW-PACKAGE: no task names this control"], "unused")
    copied = "- name: x\n  vars:\n    note: ufw, the host firewall\n"
    expect(restated(path, copied, SAMPLE), [f"{path}: restates the measure of UFW-PACKAGE"], "restated")
    print(f"check-controls self-test: {len(CASES) + 4} cases passed")
    return 0


def injection_gaps(catalogue: dict) -> list[str]:
    """Each control and way of drifting with neither an injection nor a reason, and injections sent to a
    scenario that does not judge them (the drift matrix)."""
    molecule = pathlib.Path("extensions/molecule")
    sys.path.insert(0, str(molecule))
    import drift_matrix  # noqa: PLC0415 (the scenarios' helper, importable from their directory)

    items = drift_matrix.load_all()
    return [f"{molecule}/injections: {line}" for line in drift_matrix.coverage(items, catalogue)] + [
        f"{molecule}: {line}" for line in drift_matrix.unjudged(items)
    ]


def main(argv: list[str]) -> int:
    if "--self-test" in argv:
        return self_test()
    catalogue = load_catalogue(pathlib.Path(CATALOGUE))
    defects = catalogue_problems(catalogue)
    tasks, found = check_files(sorted(pathlib.Path("roles").glob("*/tasks/*.yml")), catalogue)
    defects += tasks + unused(catalogue, found)
    for pattern in ("roles/**/*.yml", "roles/**/*.j2", "playbooks/**/*.yml"):
        for path in sorted(pathlib.Path(".").glob(pattern)):
            defects += restated(str(path), path.read_text(encoding="utf-8"), catalogue)
    defects += injection_gaps(catalogue)
    if defects:
        print("\n".join(defects), file=sys.stderr)
        return 1
    print(
        f"check-controls: {len(catalogue)} controls over {len(found)} tasks that can change a host,"
        " each with its drift injections"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

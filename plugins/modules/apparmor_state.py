#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apparmor_state
short_description: Judge AppArmor in the running kernel and at the next boot; put it on GRUB's kernel command line
version_added: 0.4.0
description:
  - Judges, in one call, what is in effect for AppArmor (CIS Debian 12 v1.1.0 1.3.1.2 and 1.3.1.3; Debian 13
    v1.0.0 1.3.1.2, and 1.3.1.3 with O(accepted_modes=[enforce])).
  - B(Running kernel.) Whether AppArmor is enabled (C(/sys/module/apparmor/parameters/enabled)), the loaded
    profiles and their modes (C(/sys/kernel/security/apparmor/profiles)), and the running kernel's command line
    (C(/proc/cmdline); an C(apparmor=0) there is a finding).
  - B(Processes.) A process that runs C(unconfined) (C(/proc/PID/attr/apparmor/current), or
    C(/proc/PID/attr/current) on older kernels) although a loaded profile is named by the absolute path of its
    executable (C(/proc/PID/exe)) - aa-status's "processes are unconfined but have a profile defined", in its
    simple form; a profile that attaches through a glob or an C(attach) path is not matched.
  - B(Next boot.) The kernel command line GRUB will write - C(GRUB_CMDLINE_LINUX) and C(GRUB_CMDLINE_LINUX_DEFAULT)
    as C(grub-mkconfig) resolves them, by sourcing C(/etc/default/grub), then each C(/etc/default/grub.d/*.cfg) in
    the order of their names, with C(/bin/sh) under C(set -e) as it does (a later file wins; a line may append to
    C($GRUB_CMDLINE_LINUX)). Normal entries get both variables, recovery entries C(GRUB_CMDLINE_LINUX) alone;
    both must end with C(apparmor=1) and C(security=apparmor) as the last values of those arguments. The
    generated C(/boot/grub/grub.cfg), when there is one, must carry them on each C(linux) line of this host's
    kernels (its C(/etc/grub.d/10_linux) section; memtest86+ and the systems os-prober finds are not judged).
  - B(The fix), outside check mode and only for the boot - where the resolved line lacks them, the file
    C(/etc/default/grub.d/99-bulwark-apparmor.cfg) with C(GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=1
    security=apparmor"), then C(update-grub) (only when C(/usr/sbin/update-grub) exists), also when only the
    generated C(grub.cfg) is stale. The new line is resolved with the other files before anything is written; a
    file read after it, or C(GRUB_CMDLINE_LINUX_DEFAULT), that still sets another value fails the call, naming it.
    The running kernel takes the new line at the next boot (RV(reboot_required)).
  - B(What it never does.) It never changes a profile's mode, never loads, unloads or enforces a profile (an
    enforced profile that was written for another version of a program can stop a service - that is a decision
    for the admin, C(aa-enforce)), never edits C(/etc/default/grub) or another file of C(grub.d), never reboots and
    never installs a package (C(apparmor), C(apparmor-utils) are the role's). Profiles whose mode is not one of
    O(accepted_modes), unconfined processes with a profile and an C(apparmor=0) in the running command line are
    RV(findings), reported as an auditor reports them.
  - Inside a container, everything is RV(not_applicable) - the kernel and its boot are the host's. On a host
    without GRUB (no C(/etc/default/grub) and no C(update-grub) - a VM booted by QEMU C(-kernel), a cloud image
    booted otherwise) the boot is RV(not_applicable). Where the kernel has no AppArmor, or has it switched off,
    the profiles and processes are RV(not_applicable) (never compliant), and a switched-off AppArmor is a finding.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Judges everything and resolves the new GRUB line without writing it or running C(update-grub).
  diff_mode:
    details: The grub.d file before and after, then the C(linux) lines of C(/boot/grub/grub.cfg) that
      C(update-grub) regenerates.
options:
  accepted_modes:
    description:
      - The profile modes that are not a finding. CIS Debian 12 1.3.1.3 (level 1) accepts V(enforce) and
        V(complain); Debian 12 1.3.1.4 and Debian 13 1.3.1.3 (level 2) accept V(enforce) alone.
      - The module only reports the other profiles; it never changes a mode.
    type: list
    elements: str
    choices: [enforce, complain]
    default: [enforce, complain]
  boot:
    description:
      - Judge and fix the GRUB kernel command line. V(false) leaves the boot alone (RV(grub) is V(null)).
    type: bool
    default: true
  findings_changed:
    description:
      - Make the call C(changed) when there are RV(findings), so that a drift check in check mode shows them as
        drift. Keep V(false) in a converge, where nothing the module does clears a finding.
    type: bool
    default: false
  root:
    description:
      - Where C(/sys), C(/proc), C(/etc) and C(/boot) are read and C(/etc/default/grub.d) written, for tests. The
        commands run (C(sh), C(update-grub)) stay the host's.
    type: path
    default: /
notes:
  - Sourcing the GRUB files runs them, as C(grub-mkconfig) does (as root, in check mode too); the module passes
    them to C(sh) as arguments, never as a shell string.
  - The shell's glob sorts C(grub.d) names by the locale's collation; the module sorts them as the C locale does,
    which is the same for names made of digits, letters and C(-).
seealso:
  - name: AppArmor on the Debian wiki
    description: Enabling AppArmor and checking it with aa-status.
    link: https://wiki.debian.org/AppArmor/HowToUse
"""

EXAMPLES = r"""
- name: AppArmor enabled at boot, its profiles enforcing or complaining (CIS Debian 12 1.3.1.2, 1.3.1.3)
  bulwark.hardening.apparmor_state:
  register: _apparmor

- name: Drift check - the findings count as drift
  bulwark.hardening.apparmor_state:
    findings_changed: true
  check_mode: true

- name: Level 2 - every profile enforcing (CIS Debian 13 1.3.1.3), judged only
  bulwark.hardening.apparmor_state:
    accepted_modes: [enforce]
    boot: false
  check_mode: true
"""

RETURN = r"""
packages_missing:
  description: The packages of CIS 1.3.1.1 (apparmor, apparmor-utils) whose programs are not on the host.
  returned: always
  type: list
  elements: str
  sample: [apparmor-utils]
enabled:
  description: Whether AppArmor is enabled in the running kernel (V(null) where the kernel has no AppArmor).
  returned: success
  type: bool
  sample: true
profiles:
  description: The number of loaded profiles per mode (V(enforce), V(complain), V(kill), V(unconfined), ...).
  returned: success
  type: dict
  sample: {complain: 2, enforce: 41}
profiles_not_accepted:
  description: The loaded profiles whose mode is not one of O(accepted_modes), with their mode.
  returned: success
  type: dict
  sample: {/usr/bin/foo: unconfined}
unconfined_with_profile:
  description: The processes that run unconfined although a profile named by their executable is loaded.
  returned: success
  type: list
  elements: dict
  sample: [{pid: 812, exe: /usr/sbin/cupsd, profile: /usr/sbin/cupsd}]
cmdline:
  description: The running kernel's command line (C(/proc/cmdline)), or V(null) when it cannot be read.
  returned: success
  type: str
  sample: BOOT_IMAGE=/vmlinuz-6.1.0-28-amd64 root=UUID=1f1e ro quiet apparmor=1 security=apparmor
grub:
  description:
    - The GRUB variables as C(grub-mkconfig) resolves them after the call (in check mode, as they would be), the
      files sourced in order, and the required arguments the generated C(grub.cfg) lacked before the call.
      V(null) where the boot is not judged.
  returned: success
  type: dict
  sample:
    cmdline_linux: "apparmor=1 security=apparmor"
    cmdline_linux_default: quiet
    files: [/etc/default/grub, /etc/default/grub.d/99-bulwark-apparmor.cfg]
    missing: []
    grub_cfg_missing: [apparmor=1, security=apparmor]
findings:
  description:
    - What the module reports and never fixes, each with its kind (V(package), V(kernel), V(cmdline), V(profile),
      V(process)), its subject and a message.
  returned: success
  type: list
  elements: dict
  sample: [{kind: profile, subject: /usr/bin/foo, message: "profile /usr/bin/foo is in unconfined mode"}]
not_applicable:
  description: Per part that cannot be judged here (V(kernel), V(profiles), V(processes), V(boot)), why.
  returned: success
  type: dict
  sample: {boot: "no GRUB on this host: the kernel command line is the hypervisor's"}
written:
  description: The files written (in check mode, that would be).
  returned: success
  type: list
  elements: str
  sample: [/etc/default/grub.d/99-bulwark-apparmor.cfg]
update_grub:
  description: Whether C(update-grub) ran (in check mode, would run).
  returned: success
  type: bool
  sample: true
reboot_required:
  description:
    - Whether the running kernel differs from what the next boot will give it - AppArmor off, or the GRUB
      line changed by this call.
  returned: success
  type: bool
  sample: false
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils import _apparmor as aa
from ansible_collections.bulwark.hardening.plugins.module_utils._files import on_root, read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._process import in_container

ENABLED = "/sys/module/apparmor/parameters/enabled"
SECURITYFS = "/sys/kernel/security/apparmor"
PROFILES = SECURITYFS + "/profiles"
CMDLINE = "/proc/cmdline"
DEFAULT_GRUB = "/etc/default/grub"
GRUB_D = "/etc/default/grub.d"
DROP_IN = GRUB_D + "/" + aa.DROP_IN_NAME
GRUB_CFG = "/boot/grub/grub.cfg"
UPDATE_GRUB = "/usr/sbin/update-grub"
CONTAINER = "the host's kernel, not this container's"
NO_GRUB = "no GRUB on this host: the kernel command line is the hypervisor's"
NO_APPARMOR = "this kernel has no AppArmor (no /sys/module/apparmor)"
DISABLED = "AppArmor is not enabled in the running kernel: no profile is loaded to judge"
NO_SECURITYFS = "cannot read /sys/kernel/security/apparmor/profiles (securityfs not mounted, or not root?)"
C_LOCALE = {"LC_ALL": "C"}


def read_processes(proc):
    """``(pid, executable, label)`` of each process of ``proc`` whose label and executable can be read
    (kernel threads have no executable; a process may end while it is read)."""
    processes = []
    try:
        names = os.listdir(proc)
    except OSError:
        return processes
    for name in names:
        if not name.isdigit():
            continue
        base = os.path.join(proc, name)
        label = read_text(os.path.join(base, "attr", "apparmor", "current"), None)
        if label is None:
            label = read_text(os.path.join(base, "attr", "current"), None)
        try:
            exe = os.readlink(os.path.join(base, "exe"))
        except OSError:
            continue
        if label is not None:
            processes.append((int(name), exe, label))
    return processes


def judge_kernel(root, accepted, result, findings):
    """Fill ``result`` with the running kernel's AppArmor state; append the findings."""
    not_applicable = result["not_applicable"]
    cmdline = read_text(on_root(root, CMDLINE), None)
    result["cmdline"] = cmdline.strip() if cmdline is not None else None
    if cmdline is not None and aa.last_value(aa.split_cmdline(cmdline), "apparmor") == "0":
        findings.append(
            {"kind": "cmdline", "subject": "apparmor=0", "message": "the running kernel was booted with apparmor=0"}
        )
    state = read_text(on_root(root, ENABLED), None)
    if state is None:
        result["enabled"] = None
        not_applicable.update(profiles=NO_APPARMOR, processes=NO_APPARMOR)
        findings.append({"kind": "kernel", "subject": "apparmor", "message": NO_APPARMOR})
        return
    result["enabled"] = state.strip() == "Y"
    if not result["enabled"]:
        not_applicable.update(profiles=DISABLED, processes=DISABLED)
        findings.append(
            {"kind": "kernel", "subject": "apparmor", "message": "AppArmor is disabled in the running kernel"}
        )
        return
    text = read_text(on_root(root, PROFILES), None)
    if text is None:
        not_applicable.update(profiles=NO_SECURITYFS, processes=NO_SECURITYFS)
        return
    profiles = aa.parse_profiles(text)
    result["profiles"] = aa.mode_counts(profiles)
    result["profiles_not_accepted"] = aa.not_accepted(profiles, accepted)
    for name, mode in result["profiles_not_accepted"].items():
        findings.append({"kind": "profile", "subject": name, "message": f"profile {name} is in {mode} mode"})
    unconfined = aa.unconfined_with_profile(read_processes(on_root(root, "/proc")), profiles)
    result["unconfined_with_profile"] = unconfined
    for entry in unconfined:
        findings.append(
            {
                "kind": "process",
                "subject": f"{entry['pid']} {entry['exe']}",
                "message": f"process {entry['pid']} ({entry['exe']}) runs unconfined although profile "
                f"{entry['profile']} is loaded (restart it to confine it)",
            }
        )


class Grub:
    """The GRUB files of the host under ``root``, resolved by ``sh`` as grub-mkconfig does."""

    def __init__(self, module, root):
        self.module = module
        self.root = root
        self.sh = module.get_bin_path("sh", required=True, opt_dirs=["/bin", "/usr/bin"])

    def files(self):
        """The host paths grub-mkconfig sources, in order, with our file among them (existing or not)."""
        found = [DEFAULT_GRUB] if os.path.isfile(on_root(self.root, DEFAULT_GRUB)) else []
        try:
            names = [
                name
                for name in os.listdir(on_root(self.root, GRUB_D))
                if os.path.exists(on_root(self.root, os.path.join(GRUB_D, name)))
            ]
        except OSError:
            names = []
        return found + [os.path.join(GRUB_D, name) for name in aa.grub_d_order({*names, aa.DROP_IN_NAME})]

    def resolve(self, files, candidate):
        """``(GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT)`` with ``files`` sourced, ``candidate`` (a text
        or None: absent) standing in for our file."""
        paths = []
        for path in files:
            if path != DROP_IN:
                paths.append(on_root(self.root, path))
            elif candidate is not None:
                fd, tmp = tempfile.mkstemp(prefix="grub-candidate.", suffix=".cfg", dir=self.module.tmpdir)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(candidate)
                paths.append(tmp)
        rc, out, err = self.module.run_command([self.sh, "-c", aa.SOURCE_SCRIPT, "sh", *paths], environ_update=C_LOCALE)
        if rc != 0:
            self.module.fail_json(
                msg=f"sourcing the GRUB files as grub-mkconfig does failed ({', '.join(files)}): "
                f"{(err or out).strip() or f'exit status {rc}'}"
            )
        try:
            return aa.parse_sourced(out)
        except ValueError as exc:
            self.module.fail_json(msg=str(exc))

    def grub_cfg(self):
        """The required arguments some ``linux`` line of the generated grub.cfg lacks (None: no grub.cfg)."""
        text = read_text(on_root(self.root, GRUB_CFG), None)
        if text is None:
            return None
        return sorted({arg for _number, missing in aa.grub_cfg_missing(text) for arg in missing})


def plan_boot(module, root):
    """``(grub result, our file's text before or None, its new text or None when it needs no change)``."""
    grub = Grub(module, root)
    files = grub.files()
    before = read_text(on_root(root, DROP_IN), None, FileNotFoundError, "surrogateescape")
    linux, default = grub.resolve(files, before)
    missing = aa.boot_missing(linux, default)
    candidate = None
    if missing:
        candidate = aa.render_drop_in()
        linux, default = grub.resolve(files, candidate)
        still = aa.boot_missing(linux, default)
        if still:
            module.fail_json(
                msg=f"with {DROP_IN} in place, the GRUB kernel command line would still lack {' '.join(still)}: "
                f"GRUB_CMDLINE_LINUX={linux!r}, GRUB_CMDLINE_LINUX_DEFAULT={default!r} - a file read after ours "
                f"({', '.join(files)}) or GRUB_CMDLINE_LINUX_DEFAULT sets them otherwise; remove that setting "
                "(bulwark.hardening never edits another GRUB file)"
            )
    cfg_missing = grub.grub_cfg()
    result = {
        "cmdline_linux": linux,
        "cmdline_linux_default": default,
        "files": [path for path in files if path != DROP_IN or before is not None or candidate is not None],
        "missing": missing,
        "grub_cfg_missing": cfg_missing or [],
    }
    return result, before, candidate


def write_drop_in(module, root, text):
    path = on_root(root, DROP_IN)
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{aa.DROP_IN_NAME}.", dir=directory)  # hidden: the glob skips it
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        module.fail_json(msg=f"cannot write {DROP_IN}: {exc}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_update_grub(module, result):
    rc, out, err = module.run_command([UPDATE_GRUB], environ_update=C_LOCALE)
    if rc != 0:
        module.fail_json(msg=f"update-grub failed (exit status {rc}): {(err or out).strip()}", **result)


# The programs by which each package of CIS 1.3.1.1 is known to be installed.
PACKAGE_PROGRAMS = {
    "apparmor": ("/usr/sbin/apparmor_parser", "/sbin/apparmor_parser"),
    "apparmor-utils": ("/usr/sbin/aa-enforce", "/sbin/aa-enforce"),
}


def main():
    module = AnsibleModule(
        argument_spec={
            "accepted_modes": {
                "type": "list",
                "elements": "str",
                "choices": ["enforce", "complain"],
                "default": ["enforce", "complain"],
            },
            "boot": {"type": "bool", "default": True},
            "findings_changed": {"type": "bool", "default": False},
            "root": {"type": "path", "default": "/"},
        },
        supports_check_mode=True,
    )
    params = module.params
    root = params["root"]
    result = {
        "changed": False,
        "enabled": None,
        "profiles": {},
        "profiles_not_accepted": {},
        "unconfined_with_profile": [],
        "cmdline": None,
        "grub": None,
        "findings": [],
        "not_applicable": {},
        "written": [],
        "update_grub": False,
        "reboot_required": False,
    }
    # CIS 1.3.1.1: the packages, by the programs they install (the module installs nothing; the role does).
    result["packages_missing"] = [
        package
        for package, programs in PACKAGE_PROGRAMS.items()
        if not any(os.path.exists(on_root(root, program)) for program in programs)
    ]
    result["findings"] = [
        {"kind": "package", "subject": package, "message": f"package {package} is not installed"}
        for package in result["packages_missing"]
    ]
    if in_container(module):
        result["not_applicable"] = {part: CONTAINER for part in ("kernel", "profiles", "processes", "boot")}
        result["changed"] = params["findings_changed"] and bool(result["findings"])
        module.exit_json(**result)

    # 1. The running kernel and its processes: judged and reported, never changed.
    findings = result["findings"]
    judge_kernel(root, params["accepted_modes"], result, findings)

    # 2. The next boot: the GRUB line resolved as grub-mkconfig resolves it, our file planned and resolved too.
    has_grub = os.path.exists(on_root(root, DEFAULT_GRUB)) or os.path.exists(on_root(root, UPDATE_GRUB))
    before = candidate = None
    if not params["boot"]:
        pass
    elif not has_grub:
        result["not_applicable"]["boot"] = NO_GRUB
    else:
        result["grub"], before, candidate = plan_boot(module, root)
        grub_cfg_stale = bool(result["grub"]["grub_cfg_missing"])
        can_update = os.path.exists(on_root(root, UPDATE_GRUB))
        result["update_grub"] = can_update and (candidate is not None or grub_cfg_stale)
        if candidate is not None:
            result["written"] = [DROP_IN]
        if (grub_cfg_stale or candidate is not None) and not can_update:
            module.warn(f"no {UPDATE_GRUB} here: {GRUB_CFG} is not regenerated; run grub-mkconfig yourself")

    changed_boot = bool(result["written"] or result["update_grub"])
    result["changed"] = changed_boot or (params["findings_changed"] and bool(findings))
    result["reboot_required"] = result["enabled"] is False or bool(result["written"])

    # 3. Act outside check mode: our file, then grub.cfg regenerated and read again.
    if changed_boot and not module.check_mode:
        if candidate is not None:
            write_drop_in(module, root, candidate)
        if result["update_grub"]:
            run_update_grub(module, result)
            still = Grub(module, root).grub_cfg()
            if still:
                module.fail_json(msg=f"after update-grub, {GRUB_CFG} still lacks {' '.join(still)}", **result)

    if module._diff and changed_boot:
        diffs = []
        if candidate is not None:
            diffs.append(
                {"before_header": DROP_IN, "after_header": DROP_IN, "before": before or "", "after": candidate}
            )
        if result["update_grub"]:
            wanted = " ".join(f"{name}={value}" for name, value in aa.REQUIRED_ARGS)
            diffs.append(
                {
                    "before_header": GRUB_CFG,
                    "after_header": GRUB_CFG,
                    "before": f"linux ... (lacks {' '.join(result['grub']['grub_cfg_missing']) or wanted})\n",
                    "after": f"linux ... {wanted} (update-grub)\n",
                }
            )
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kernel_modules
short_description: Keep kernel modules from loading, and unload them, judged on what modprobe has in effect
version_added: 0.4.0
description:
  - Writes one modprobe.d file, O(dest), that gives every module of O(disabled) the lines
    C(install <module> /bin/false) (a load attempt fails loudly) and C(blacklist <module>) (its
    aliases are ignored) - the lines the CIS benchmark audits.
  - Judges what is in effect the way modprobe resolves it - C(modprobe -c), the merged configuration
    of every modprobe.d directory, with the new O(dest) in place when it is not written yet. An
    C(install) line of another file that modprobe uses instead of ours (its file name sorts first) is
    an override; bulwark.hardening never edits another file.
  - Unloads a disabled module that is loaded (C(modprobe -r), never forced) when O(unload) is set.
  - A module built into the kernel cannot be disabled and is reported in RV(not_applicable); one that
    has no module file for the running kernel cannot be loaded and is reported in RV(absent).
  - In a container C(/proc/modules) is the host's kernel and a module cannot be unloaded - a loaded
    module is then reported in RV(not_applicable), not as drift.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Reports the file change, the overrides and the modules it would unload, judged on the merged
      configuration with the new file in place.
  diff_mode:
    details: The file, and one line per module whose state changes (C(usb_storage loaded) -> C(usb_storage not loaded)).
  platform:
    platforms: debian
options:
  disabled:
    description:
      - Names of the modules to keep from loading. C(-) and C(_) are the same (as for the kernel).
      - A name that is not letters, digits, C(-) and C(_) fails the call.
    type: list
    elements: str
    required: true
  dest:
    description:
      - The modprobe.d file written (mode C(0644)). It must be in a modprobe.d directory and end in
        C(.conf) to be read by modprobe.
    type: path
    default: /etc/modprobe.d/bulwark-hardening.conf
  unload:
    description: Unload a disabled module that is loaded (C(modprobe -r)), unless something uses it.
    type: bool
    default: true
  overrides:
    description:
      - What to do when another file's C(install) line wins over ours.
      - V(fail) fails before anything is written (in check mode too), naming the file and the line.
      - V(report) reports it in RV(overridden) and the diff as a change (for a check-mode drift run).
    type: str
    choices: [fail, report]
    default: fail
  proc_modules:
    description: The list of loaded modules (for tests).
    type: path
    default: /proc/modules
  sys_module:
    description: The kernel's directory of modules (for tests).
    type: path
    default: /sys/module
  modules_dir:
    description: The running kernel's module directory (for tests); V(null) means C(/lib/modules/$(uname -r)).
    type: path
notes:
  - An unload that fails for lack of permission (a container) is reported in RV(not_applicable).
  - Without C(modprobe) (a minimal container) the configuration in effect cannot be read; each module
    says so in RV(not_applicable) and RV(effective) has V(null) for its C(install) and C(blacklisted).
seealso:
  - name: modprobe.d(5)
    description: How modprobe reads its configuration files.
    link: https://man7.org/linux/man-pages/man5/modprobe.d.5.html
"""

EXAMPLES = r"""
- name: Keep unused file systems, USB storage and rare network protocols from loading
  bulwark.hardening.kernel_modules:
    disabled: [cramfs, freevxfs, hfs, hfsplus, jffs2, udf, usb-storage, dccp, tipc, rds, sctp]

- name: Drift run - report another file's install line instead of failing
  bulwark.hardening.kernel_modules:
    disabled: [usb-storage]
    overrides: report
  check_mode: true
"""

RETURN = r"""
effective:
  description:
    - Per module (normalized name) - the install command modprobe runs for it, whether it is
      blacklisted, and whether it is loaded (after this call's unloads; in check mode, as it is).
    - C(install) and C(blacklisted) are V(null) when modprobe is missing.
  returned: success
  type: dict
  sample: {usb_storage: {install: /bin/false, blacklisted: true, loaded: false}}
overridden:
  description: Modules whose install command comes from another file's line - the file and the line.
  returned: success
  type: dict
  sample: {cramfs: "/etc/modprobe.d/00-local.conf: install cramfs /bin/true"}
not_applicable:
  description: Modules this call cannot disable or unload here, with the reasons.
  returned: success
  type: dict
  sample: {udf: ["built into this kernel"]}
absent:
  description:
    - Modules that have no module file for the running kernel (nothing to load).
    - Empty when the kernel's C(modules.dep) cannot be read (a container).
  returned: success
  type: list
  elements: str
in_use:
  description: Loaded modules that something uses, so they are not unloaded - who uses them.
  returned: success
  type: dict
  sample: {usb_storage: "used by uas"}
unloaded:
  description: Modules unloaded (in check mode, that would be).
  returned: success
  type: list
  elements: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils import _kmod as kmod
from ansible_collections.bulwark.hardening.plugins.module_utils import _process
from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text

CONTAINER_MARKERS = _process.CONTAINER_MARKERS
C_LOCALE = {"LC_ALL": "C"}  # modprobe -r's "Operation not permitted" is strerror's, in the locale
MODE = 0o644
NO_MODPROBE = "modprobe is not installed: the configuration in effect cannot be read"
CONTAINER = "cannot unload modules here (a container?)"


def read_effective(module, modprobe, dest, candidate):
    """``(installs, blacklisted)`` from one ``modprobe -c``, with ``candidate`` in place of dest
    when it is not None."""
    candidate_dir = None
    if candidate is not None:
        candidate_dir = tempfile.mkdtemp(prefix="kmod-candidate.", dir=module.tmpdir)
        with open(os.path.join(candidate_dir, os.path.basename(dest)), "w", encoding="utf-8") as handle:
            handle.write(candidate)
    argv = kmod.showconfig_argv(modprobe, candidate_dir, dest, kmod.CONFIG_DIRS)
    rc, out, err = module.run_command(argv, environ_update=C_LOCALE)
    if rc != 0:
        module.fail_json(msg=f"{' '.join(argv)} failed: {(err or out).strip()}", rc=rc, stdout=out, stderr=err)
    return kmod.parse_showconfig(out)


def source_of(pattern, command, dest):
    """The modprobe.d file that holds ``install pattern command`` (dest excluded), or None."""
    listing = []
    for directory in kmod.CONFIG_DIRS:
        try:
            listing.append((directory, os.listdir(directory)))
        except OSError:
            continue
    for path in kmod.config_files(listing):
        if os.path.realpath(path) == os.path.realpath(dest):
            continue
        if (pattern, command) in kmod.conf_installs(read_text(path)):
            return path
    return None


def in_container(module):
    return _process.in_container(module, CONTAINER_MARKERS)


def file_state(dest):
    """``(text or None, mode or None)`` of dest."""
    text = read_text(dest, None, FileNotFoundError, "surrogateescape")
    return text, (None if text is None else os.stat(dest).st_mode & 0o7777)


def write_file(module, dest, text):
    os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)  # no /etc/modprobe.d without kmod
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=os.path.dirname(dest))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        module.atomic_move(tmp, dest)
        os.chmod(dest, MODE)  # atomic_move keeps an existing file's mode
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def judge_effective(module, modprobe, dest, candidate, modules):
    """``(effective, overridden)``: each module's install command and blacklisting as modprobe
    resolves them with ``candidate`` in place of dest (None: dest holds it already), and the modules
    whose install line is not ours."""
    effective = {name: {"install": None, "blacklisted": None, "loaded": False} for name in modules}
    overridden = {}
    if modprobe is None:
        return effective, overridden
    installs, blacklisted = read_effective(module, modprobe, dest, candidate)
    for name in modules:
        winner = kmod.install_for(installs, name)
        effective[name]["install"] = winner[1] if winner else None
        effective[name]["blacklisted"] = name in blacklisted
        if winner is None:
            overridden[name] = f"no install line in effect: modprobe does not read {dest}"
        elif winner[1] != kmod.INSTALL_COMMAND:
            overridden[name] = kmod.describe_override(*winner, source_of(*winner, dest))
    return effective, overridden


def live_state(module, params, modprobe, effective, not_applicable):
    """``(absent, in_use, to_unload)`` from the running kernel; marks the loaded modules in
    ``effective`` and adds the built-in ones (and those a container cannot unload) to ``not_applicable``."""
    modules_dir = params["modules_dir"] or os.path.join("/lib/modules", os.uname().release)
    loaded = kmod.parse_proc_modules(read_text(params["proc_modules"]))
    builtin = kmod.parse_modules_builtin(read_text(os.path.join(modules_dir, "modules.builtin")))
    dep_text = read_text(os.path.join(modules_dir, "modules.dep"), None)
    available = kmod.parse_modules_dep(dep_text) if dep_text is not None else None
    absent, in_use, to_unload = [], {}, []
    container = None
    for name in effective:
        sys_entry = os.path.join(params["sys_module"], name)
        has_initstate = os.path.exists(os.path.join(sys_entry, "initstate"))
        if kmod.is_builtin(name, builtin, loaded, os.path.isdir(sys_entry), has_initstate):
            not_applicable.setdefault(name, []).append("built into this kernel")
            continue
        if name not in loaded:
            if available is not None and name not in available:
                absent.append(name)
            continue
        effective[name]["loaded"] = True
        if container is None:
            container = in_container(module)
        if container:
            not_applicable.setdefault(name, []).append(f"loaded in the host's kernel; {CONTAINER}")
        elif not params["unload"]:
            continue
        elif modprobe is None:
            not_applicable.setdefault(name, []).append("modprobe is not installed: cannot unload")
        elif kmod.in_use(loaded[name]):
            in_use[name] = kmod.in_use(loaded[name])
        else:
            to_unload.append(name)
    return absent, in_use, to_unload


def unload(module, modprobe, names, result):
    """``modprobe -r`` each module (never forced); a refusal for permission is not applicable here."""
    for name in names:
        rc, out, err = module.run_command([modprobe, "-r", name], environ_update=C_LOCALE)
        if rc == 0:
            result["unloaded"].append(name)
            result["effective"][name]["loaded"] = False
        elif "not permitted" in (err or out):
            result["not_applicable"].setdefault(name, []).append(CONTAINER)
        else:
            module.fail_json(msg=f"modprobe -r {name} failed: {(err or out).strip()}", rc=rc, **result)


def main():
    module = AnsibleModule(
        argument_spec={
            "disabled": {"type": "list", "elements": "str", "required": True},
            "dest": {"type": "path", "default": "/etc/modprobe.d/bulwark-hardening.conf"},
            "unload": {"type": "bool", "default": True},
            "overrides": {"type": "str", "choices": ["fail", "report"], "default": "fail"},
            "proc_modules": {"type": "path", "default": "/proc/modules"},
            "sys_module": {"type": "path", "default": "/sys/module"},
            "modules_dir": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params
    bad = kmod.invalid_names(params["disabled"])
    if bad:
        module.fail_json(
            msg=f"disabled: not a module name (letters, digits, - and _ only): {', '.join(map(repr, bad))}"
        )
    dest = params["dest"]
    modules = kmod.wanted(params["disabled"])

    candidate = kmod.render(kmod.spelled(params["disabled"]))
    before, mode = file_state(dest)
    file_changed = before != candidate or mode != MODE

    modprobe = module.get_bin_path("modprobe", opt_dirs=["/usr/sbin", "/sbin"])
    effective, overridden = judge_effective(module, modprobe, dest, None if before == candidate else candidate, modules)
    not_applicable = {} if modprobe else {name: [NO_MODPROBE] for name in modules}
    if overridden and params["overrides"] == "fail":
        lines = "; ".join(f"{name}: {why}" for name, why in sorted(overridden.items()))
        module.fail_json(
            msg=f"modprobe would not use the install lines of {dest} - {lines}; bulwark.hardening never edits "
            "another file: remove or change that line (or run with overrides=report)",
            overridden=overridden,
            effective=effective,
        )

    absent, in_use, to_unload = live_state(module, params, modprobe, effective, not_applicable)
    result = {
        "effective": effective,
        "overridden": overridden,
        "not_applicable": not_applicable,
        "absent": absent,
        "in_use": in_use,
        "unloaded": [],
    }
    if module.check_mode:
        result["unloaded"] = to_unload
    else:
        if file_changed:
            write_file(module, dest, candidate)
        unload(module, modprobe, to_unload, result)
    # In check mode a module in use is drift too; outside it fails the call below.
    drift = result["unloaded"] + (sorted(in_use) if module.check_mode else [])
    result["changed"] = file_changed or bool(drift) or (params["overrides"] == "report" and bool(overridden))

    if module._diff:
        state_before, state_after = kmod.state_diff(drift, overridden)
        result["diff"] = [
            {"before_header": dest, "after_header": dest, "before": before or "", "after": candidate},
            {
                "before_header": "kernel modules",
                "after_header": "kernel modules",
                "before": state_before,
                "after": state_after,
            },
        ]

    if in_use and not module.check_mode:
        lines = "; ".join(f"{name} is {why}" for name, why in sorted(in_use.items()))
        module.fail_json(msg=f"not unloading modules in use (never forced): {lines}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

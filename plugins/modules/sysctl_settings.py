#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sysctl_settings
short_description: Set kernel parameters in one sysctl.d file and in the running kernel, judged by what is in effect
description:
  - Writes O(settings) to one sysctl.d file, O(dest) (a header line, then one C(key = value) line per key, sorted),
    and sets each value in the running kernel through C(/proc/sys), in one call.
  - Resolves every key as C(systemd-sysctl) does at boot, with the new O(dest) in place - the C(*.conf) files
    of O(sysctl_dirs), a name in an earlier directory hiding the same name in a later one (a link to
    C(/dev/null) or an empty file hides it too), read in the order of their names, a later assignment
    winning; C(-key = value) is an assignment, C(-key) alone keeps a key out of every glob; a glob key
    (C(net.ipv4.conf.*.rp_filter)) applies to a key only when no file names that key itself. O(sysctl_conf)
    is read last when no file of O(sysctl_dirs) is a link to it (Debian links C(/etc/sysctl.d/99-sysctl.conf)
    to it; C(sysctl --system) reads it last).
  - A key that a file read after O(dest) sets to another value is overridden; bulwark.hardening never edits
    another file. With O(overrides=fail) the module fails before it writes anything, naming each key, the file
    and its value; with O(overrides=report) it reports them (RV(overridden), C(changed), the diff) and does
    not set them in the running kernel, where the other file wins at the next boot anyway.
  - In check mode, a running value that differs from O(settings) is drift (a change) when C(/proc/sys) is
    writable; whether it is writable is probed without writing.
  - A key this kernel does not have, and a key the module cannot write because C(/proc/sys) is read-only (as in
    a container), is RV(not_applicable) with the reason, not a failure. A value the kernel reads back
    differently fails the call.
version_added: 0.4.0
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  diff_mode:
    details:
      - The diff of O(dest), then one of the values in effect - C(key = value (live)) for the running kernel,
        C(key = value (at boot, from FILE)) for an override.
  platform:
    platforms: posix
options:
  settings:
    description:
      - Kernel parameters to set - key, then value.
      - A key is dotted (C(net.ipv4.ip_forward)) or a path under C(/proc/sys) (C(net/ipv4/ip_forward)); results name
        it dotted (in a path, a dot belongs to a name, so C(net/ipv4/conf/eth0.100/rp_filter) is
        C(net.ipv4.conf.eth0/100.rp_filter), as C(sysctl) prints it). Globs, whitespace, C(=) and a leading C(-)
        are refused.
      - A value is a string or an integer (booleans and lists are refused); values are compared as the kernel
        prints them, with runs of blanks as one space (V(4096 87380 6291456)).
    type: dict
    required: true
  dest:
    description:
      - The sysctl.d file to write. It must be a C(*.conf) file directly in one of O(sysctl_dirs), and not a link.
    type: path
    default: /etc/sysctl.d/90-bulwark-hardening.conf
  mode:
    description: Mode of O(dest), as an octal string.
    type: str
    default: "0644"
  overrides:
    description:
      - What a key that another file overrides at boot does - V(fail) fails the call before anything is written;
        V(report) reports it as a change and leaves the other file alone (for a drift check in check mode).
    type: str
    choices: [fail, report]
    default: fail
  apply_live:
    description:
      - Set the values in the running kernel too (C(/proc/sys)). With V(false), running values are still read and
        returned but never judged or written.
    type: bool
    default: true
  sysctl_dirs:
    description:
      - The sysctl.d directories, first one first, as C(systemd-sysctl) searches them. For tests; keep the default.
    type: list
    elements: path
    default: [/etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d, /lib/sysctl.d]
  sysctl_conf:
    description: The file C(sysctl --system) reads last (see the description). For tests; keep the default.
    type: path
    default: /etc/sysctl.conf
  proc_root:
    description: Where the kernel shows its parameters. For tests; keep the default.
    type: path
    default: /proc/sys
notes:
  - The file holds O(settings) only - a key removed from O(settings) is removed from the file, but its running
    value stays until the next boot.
  - The writability probe (write permission, a read-only mount) cannot see every refusal; a key whose write is
    refused all the same is RV(not_applicable) after the write, while check mode keeps reporting it as drift.
seealso:
  - name: sysctl.d(5)
    description: The configuration files and their order.
    link: https://www.freedesktop.org/software/systemd/man/latest/sysctl.d.html
"""

EXAMPLES = r"""
- name: Process hardening and network parameters (CIS Debian 12 1.5, 3.3)
  bulwark.hardening.sysctl_settings:
    settings:
      kernel.randomize_va_space: 2
      fs.suid_dumpable: 0
      net.ipv4.ip_forward: 0
      net.ipv4.conf.all.send_redirects: 0
      net.ipv4.tcp_syncookies: 1

- name: Drift check - judge what is in effect, report overrides instead of failing
  bulwark.hardening.sysctl_settings:
    settings: "{{ os_baseline_sysctl }}"
    overrides: report
  check_mode: true
"""

RETURN = r"""
effective:
  description: The running value of each key after the call (null for a key this kernel does not have).
  returned: success
  type: dict
  sample: {net.ipv4.ip_forward: "0", net.ipv4.tcp_rmem: "4096 131072 6291456"}
configured:
  description: Per key, the value in effect at boot and the file that sets it (with the new O(dest) in place).
  returned: success
  type: dict
  sample: {net.ipv4.ip_forward: {value: "0", file: /etc/sysctl.d/90-bulwark-hardening.conf}}
overridden:
  description:
    - Per key another file sets otherwise at boot, that file and its value (null for a C(-key) line that unsets it).
  returned: success
  type: dict
  sample: {net.ipv4.ip_forward: {file: /etc/sysctl.d/99-local.conf, value: "1"}}
not_applicable:
  description:
    - Per key whose running value differs but cannot be set here, why - a read-only C(/proc/sys), or, inside a
      container, a key of the host's kernel (everything outside C(net.), which the container's network namespace
      has of its own). The drift report shows such a control as not applicable, never as compliant.
  returned: success
  type: dict
  sample: {kernel.yama.ptrace_scope: "the host's kernel, not this container's"}
absent:
  description: Keys this kernel does not have (IPv6 switched off, a module not loaded); nothing to set or judge.
  returned: success
  type: list
  elements: str
  sample: [net.ipv6.conf.all.accept_ra]
interfaces:
  description:
    - The host's network interfaces (C(/sys/class/net)), for a caller that must know whether the host forwards
      packets for containers, VMs or a VPN before it switches forwarding off.
  returned: success
  type: list
  elements: str
  sample: [lo, eth0, docker0]
written:
  description: The keys set in the running kernel (in check mode, that would be set).
  returned: success
  type: list
  elements: str
  sample: [net.ipv4.ip_forward]
"""

import errno
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._process import in_container
from ansible_collections.bulwark.hardening.plugins.module_utils._sysctl import (
    list_conf_dirs,
    normalize_settings,
    normalize_value,
    order_conf_files,
    override_message,
    overrides,
    parse_conf,
    proc_path,
    render,
    resolve,
)

# The errors of a write that /proc/sys refuses as a whole (a read-only mount, a container's limits).
READ_ONLY_ERRORS = (errno.EROFS, errno.EACCES, errno.EPERM)
READ_ONLY_REASON = "read-only /proc/sys here (a container?)"
HOST_KERNEL_REASON = "the host's kernel, not this container's"
# systemd-sysctl's directories, first one first (/lib/sysctl.d for a system whose /lib is not /usr/lib).
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")


def conf_files(dirs, dest, sysctl_conf):
    """The files systemd-sysctl reads, in order, with ``dest`` among them; ValueError if it is not read."""
    directory, name = os.path.split(dest)
    if not name.endswith(".conf") or name.startswith("."):
        raise ValueError(f"dest must be a *.conf file that is not hidden, got {dest}")
    if directory not in dirs:
        raise ValueError(f"dest {dest} is not in any of sysctl_dirs ({', '.join(dirs)}), so nothing would read it")
    entries = [entry for entry in list_conf_dirs(dirs) if os.path.join(entry[0], entry[1]) != dest]
    where = dirs.index(directory)
    position = sum(1 for entry in entries if entry[0] in dirs[:where])
    entries.insert(position, (directory, name, "file"))
    order, claimed = order_conf_files(entries)
    if claimed[name] != dest:
        raise ValueError(f"dest {dest} is hidden by {claimed[name]}, which systemd-sysctl reads instead")
    real_conf = os.path.realpath(sysctl_conf)
    if os.path.isfile(sysctl_conf) and all(os.path.realpath(path) != real_conf for path in order):
        order.append(sysctl_conf)
    return order


def configured_values(order, dest, candidate, keys):
    """resolve() over ``order``, with ``candidate`` as the text of ``dest``."""
    files = []
    for path in order:
        text = candidate if path == dest else read_text(path, None)
        if text is not None:
            files.append((path, parse_conf(text)))
    return resolve(files, keys)


def read_live(path):
    """The running value at ``path`` as the kernel prints it, or None if this kernel has no such key."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return normalize_value(handle.read())
    except FileNotFoundError:
        return None


def live_writable(path):
    """Whether ``path`` can be written, probed without writing: permission, and a read-write mount."""
    try:
        return os.access(path, os.W_OK) and not os.statvfs(path).f_flag & os.ST_RDONLY
    except OSError:
        return False


def write_live(path, value):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")


def file_state(dest):
    """``(text or None, mode or None)`` of ``dest``."""
    if not os.path.lexists(dest):
        return None, None
    return read_text(dest, "", OSError, "surrogateescape"), os.stat(dest).st_mode & 0o7777


def write_file(dest, text, mode):
    """Write ``dest`` through a hidden temporary file beside it (systemd-sysctl skips hidden names)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(dest)}.", dir=os.path.dirname(dest))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def live_lines(drift, found_overrides, wanted):
    """The before and after lines of the values in effect, for the diff."""
    before, after = [], []
    for key in sorted(set(drift) | set(found_overrides)):
        if key in drift:
            before.append(f"{key} = {drift[key]} (live)")
            after.append(f"{key} = {wanted[key]} (live)")
        if key in found_overrides:
            entry = found_overrides[key]
            shown = entry["value"] if entry["value"] is not None else "(unset)"
            before.append(f"{key} = {shown} (at boot, from {entry['file']})")
            after.append(f"{key} = {wanted[key]} (at boot)")
    return "".join(line + "\n" for line in before), "".join(line + "\n" for line in after)


def interfaces(sys_class_net="/sys/class/net"):
    try:
        return sorted(os.listdir(sys_class_net))
    except OSError:
        return []


def read_running(module, wanted, proc_root, judge, skip, *, container=False):
    """``(effective, not_applicable, absent, drift)``: each key's running value, the differing keys that
    cannot be set here and why, the keys this kernel lacks, and the running values that differ from
    ``wanted`` and can be set (when ``judge``, keys of ``skip`` excepted). In a container only the
    network namespace's own keys (``net.``) are the container's to set."""
    effective, not_applicable, absent, drift = {}, {}, [], {}
    for key, value in wanted.items():
        path = proc_path(proc_root, key)
        try:
            live = read_live(path)
        except OSError as exc:
            module.fail_json(msg=f"cannot read {key} from {path}: {exc}")
        effective[key] = live
        if live is None:
            absent.append(key)
        elif judge and live != value and key not in skip:
            if container and not key.startswith("net."):
                not_applicable[key] = HOST_KERNEL_REASON
            elif live_writable(path):
                drift[key] = live
            else:
                not_applicable[key] = READ_ONLY_REASON
    return effective, not_applicable, absent, drift


def set_running(module, wanted, proc_root, keys, *, effective, not_applicable):
    """Write ``keys`` to the running kernel and read each back; the keys written."""
    written = []
    for key in keys:
        path = proc_path(proc_root, key)
        try:
            write_live(path, wanted[key])
        except OSError as exc:
            if exc.errno in READ_ONLY_ERRORS:
                not_applicable[key] = f"{READ_ONLY_REASON}: {exc.strerror}"
                continue
            module.fail_json(msg=f"the kernel refused {key} = {wanted[key]}: {exc}", written=written)
        got = read_live(path)
        if got != wanted[key]:
            module.fail_json(msg=f"{key}: wanted {wanted[key]}, the kernel reads back {got}", written=[*written, key])
        effective[key] = got
        written.append(key)
    return written


def diffs_of(dest, before_text, candidate, *, drift, found_overrides, wanted, proc_root):
    """The diff of the file, then of the values in effect (running, and overridden at boot)."""
    diffs = []
    if before_text != candidate:
        diffs.append({"before_header": dest, "after_header": dest, "before": before_text or "", "after": candidate})
    if drift or found_overrides:
        before, after = live_lines(drift, found_overrides, wanted)
        header = f"{proc_root} (live, and at boot)"
        diffs.append({"before_header": header, "after_header": header, "before": before, "after": after})
    return diffs


def checked_params(module):
    """``(wanted, mode, dest, dirs)`` from the parameters, or a failure naming the bad value."""
    params = module.params
    wanted, errors = normalize_settings(params["settings"])
    if not wanted and not errors:
        errors.append("settings is empty; give at least one key")
    try:
        mode = int(params["mode"], 8)
    except ValueError:
        errors.append(f"mode must be an octal string such as 0644, got {params['mode']!r}")
    dest = os.path.normpath(params["dest"])
    if os.path.islink(dest):
        errors.append(f"dest {dest} is a link (to {os.readlink(dest)}); give the file itself")
    elif not os.path.isdir(os.path.dirname(dest)):
        errors.append(f"the directory of dest {dest} does not exist")
    if errors:
        module.fail_json(msg="; ".join(errors))
    return wanted, mode, dest, [os.path.normpath(path) for path in params["sysctl_dirs"]]


def main():
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "dest": {"type": "path", "default": "/etc/sysctl.d/90-bulwark-hardening.conf"},
            "mode": {"type": "str", "default": "0644"},
            "overrides": {"type": "str", "choices": ["fail", "report"], "default": "fail"},
            "apply_live": {"type": "bool", "default": True},
            "sysctl_dirs": {"type": "list", "elements": "path", "default": list(SYSCTL_DIRS)},
            "sysctl_conf": {"type": "path", "default": "/etc/sysctl.conf"},
            "proc_root": {"type": "path", "default": "/proc/sys"},
        },
        supports_check_mode=True,
    )
    params = module.params
    wanted, mode, dest, dirs = checked_params(module)

    # 1. The file: as it is, and as it will be.
    before_text, before_mode = file_state(dest)
    candidate = render(wanted)
    file_changed = before_text != candidate or before_mode != mode

    # 2. The values in effect at boot, with the new file in place.
    try:
        order = conf_files(dirs, dest, params["sysctl_conf"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    configured = configured_values(order, dest, candidate, list(wanted))
    found_overrides = overrides(wanted, configured, dest)
    if found_overrides and params["overrides"] == "fail":
        module.fail_json(
            msg=f"{override_message(found_overrides)}: read after {dest}, it wins at boot; remove or change it "
            "(bulwark.hardening never edits another file), or use overrides=report",
            overridden=found_overrides,
            configured=configured,
        )

    # 3. The running kernel: compare, then act outside check mode (the kernel first: a value it
    #    refuses never reaches the file).
    proc_root = params["proc_root"]
    effective, not_applicable, absent, drift = read_running(
        module, wanted, proc_root, params["apply_live"], found_overrides, container=in_container(module)
    )
    written = sorted(drift)
    if not module.check_mode:
        written = set_running(module, wanted, proc_root, written, effective=effective, not_applicable=not_applicable)
        drift = {key: drift[key] for key in written}
        if file_changed:
            try:
                write_file(dest, candidate, mode)
            except OSError as exc:
                module.fail_json(msg=f"cannot write {dest}: {exc}", written=written)

    result = {
        "changed": bool(file_changed or drift or found_overrides),
        "effective": effective,
        "configured": configured,
        "overridden": found_overrides,
        "not_applicable": not_applicable,
        "absent": absent,
        "interfaces": interfaces(),
        "written": written,
    }
    diffs = diffs_of(
        dest, before_text, candidate, drift=drift, found_overrides=found_overrides, wanted=wanted, proc_root=proc_root
    )
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

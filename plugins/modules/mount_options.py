#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mount_options
short_description: Put nodev, nosuid and noexec on separate file systems, live and for the next boot
version_added: 0.4.0
description:
  - For each mount point of O(mounts), judges the options in effect twice - on the live mount (its
    per-mount options in C(/proc/self/mountinfo), where C(nodev), C(nosuid) and C(noexec) live) and on what
    the next boot will mount - and adds the missing ones to both in one call (CIS Debian 12 v1.1.0 and
    Debian 13 v1.0.0, 1.1.2.x).
  - The next boot is resolved the way systemd resolves it - a C(.mount) unit in C(/etc/systemd/system) or
    C(/run/systemd/system) wins over the C(/etc/fstab) line (the first one, when the file names a mount point
    twice), which wins over a unit of C(/usr/lib/systemd/system) (Debian 13's C(tmp.mount), a tmpfs on
    C(/tmp)); the unit's drop-ins (C(NAME.mount.d/*.conf)) set C(Options=) over all of them, the last one
    read winning. Without any of these, systemd mounts C(/dev/shm) itself with C(nosuid,nodev).
  - The fix - the missing options added to each fstab line of the mount point in place (an explicit C(exec),
    C(dev) or C(suid) removed, every other byte of the file kept); for a unit, a drop-in
    C(/etc/systemd/system/NAME.mount.d/bulwark-hardening.conf) whose C(Options=) is the unit's own with the
    missing ones added (systemd has no way to add to C(Options=)), then C(systemctl daemon-reload); for
    C(/dev/shm) mounted by systemd alone, a line C(tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0).
  - The new C(/etc/fstab) is checked with C(findmnt --verify --tab-file) before it replaces the old one, in
    check mode too - a finding (an error or a warning) or a parse error the current file does not have
    refuses it, and nothing is written.
  - Then each mount that lacks an option is remounted (C(mount -o remount,OPTIONS POINT)) and read again from
    C(/proc/self/mountinfo); a mount the kernel did not change fails the call, after the boot files are written.
  - A mount point that is no separate mount here (its directory is part of the file system above it) is
    RV(not_applicable) - making it a partition is the installer's job - and never changed. Inside a container
    every mount is RV(not_applicable) - the container engine's mounts.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Judges the live and the next-boot options and validates the new C(/etc/fstab) without writing it.
  diff_mode:
    details: The C(/etc/fstab) and drop-in files before and after, then one line per mount point whose live
      options change, marked C((live)).
  platform:
    platforms: debian
options:
  mounts:
    description:
      - Mount point, then the options it must have - V(nodev), V(nosuid), V(noexec) (the per-mount flags; any
        other option fails the call, naming it).
      - The root file system V(/) is refused - it is never remounted.
      - V(noexec) on C(/tmp) or C(/var/tmp) breaks package scripts and installers that run programs from
        there (some C(.deb) maintainer scripts, DKMS builds, C(pip) builds). The module does not refuse it -
        the caller (the role) decides.
    type: dict
    required: true
  root:
    description:
      - Where C(/etc/fstab), C(/proc/self/mountinfo) and the unit directories are read and written, for tests.
        Mount points (and the commands run) stay the host's.
    type: path
    default: /
notes:
  - A mount point that is not mounted now but has an C(/etc/fstab) line is RV(not_applicable) too - the
    module judges what is in effect and makes no file system.
  - A live separate mount that nothing will mount at the next boot (a masked unit, a hand mount) is judged
    live only; RV(mounts) shows its C(boot_source) as V(null) and the module warns.
seealso:
  - name: fstab(5)
    description: The static file system table.
    link: https://man7.org/linux/man-pages/man5/fstab.5.html
  - name: systemd.mount(5)
    description: Mount units, their C(Options=) and drop-ins.
    link: https://www.freedesktop.org/software/systemd/man/latest/systemd.mount.html
"""

EXAMPLES = r"""
- name: Mount options of the separate file systems (CIS Debian 12 and 13 1.1.2.x)
  bulwark.hardening.mount_options:
    mounts:
      /tmp: [nodev, nosuid, noexec]
      /dev/shm: [nodev, nosuid, noexec]
      /home: [nodev, nosuid]
      /var: [nodev, nosuid]
      /var/tmp: [nodev, nosuid, noexec]
      /var/log: [nodev, nosuid, noexec]
      /var/log/audit: [nodev, nosuid, noexec]

- name: Drift check
  bulwark.hardening.mount_options:
    mounts: "{{ os_baseline_mount_options }}"
  check_mode: true
"""

RETURN = r"""
mounts:
  description:
    - Per mount point judged here - its live per-mount options (after the call; in check mode, as they are),
      where the next boot takes its options from (V(/etc/fstab), a unit file, V(systemd) for C(/dev/shm), or
      V(null)) and those options (with the new files in place), and the options each lacked before the call.
  returned: success
  type: dict
  sample:
    /tmp:
      live: [rw, nosuid, nodev, noexec, relatime]
      boot_source: /usr/lib/systemd/system/tmp.mount
      boot: ["mode=1777", strictatime, nosuid, nodev, "size=50%", "nr_inodes=400k", noexec]
      missing: {live: [noexec], boot: [noexec]}
not_applicable:
  description: Per mount point that is not judged here, why.
  returned: success
  type: dict
  sample: {/var/tmp: "not a separate file system here (CIS: make it one at install time)"}
remounted:
  description: The mount points remounted (in check mode, that would be).
  returned: success
  type: list
  elements: str
  sample: [/tmp]
written:
  description: The files written (in check mode, that would be) - C(/etc/fstab) and drop-ins.
  returned: success
  type: list
  elements: str
  sample: [/etc/systemd/system/tmp.mount.d/bulwark-hardening.conf]
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils import _mounts as mnt
from ansible_collections.bulwark.hardening.plugins.module_utils._files import on_root, read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._process import in_container

FSTAB = "/etc/fstab"
MOUNTINFO = "/proc/self/mountinfo"
# systemd's unit directories around the fstab generator's (/run/systemd/generator): stronger, weaker.
UNIT_DIRS_BEFORE_FSTAB = ("/etc/systemd/system", "/run/systemd/system")
UNIT_DIRS_AFTER_FSTAB = ("/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
DROP_IN_DIR = "/etc/systemd/system"
NOT_SEPARATE = "not a separate file system here (CIS: make it one at install time)"
CONTAINER = "the container engine's mounts"
C_LOCALE = {"LC_ALL": "C"}


class Host:
    """The host's boot files under ``root``, read once, with candidate texts standing in for files not
    written yet (``{host path: text}``)."""

    def __init__(self, root, fstab_text):
        self.root = root
        self.fstab = fstab_text
        self.candidates = {}

    def text(self, path):
        if path in self.candidates:
            return self.candidates[path]
        return self.text_of_disk(path)

    def text_of_disk(self, path):
        return read_text(on_root(self.root, path), None, OSError, "surrogateescape")

    def unit_file(self, directories, unit):
        """``(host path, masked)`` of the first ``unit`` in ``directories``, or None."""
        for directory in directories:
            path = os.path.join(directory, unit)
            local = on_root(self.root, path)
            if os.path.islink(local) and os.path.realpath(local) == os.devnull:
                return path, True
            if os.path.isfile(local):
                return path, os.path.getsize(local) == 0
        return None

    def drop_ins(self, unit):
        listing = []
        for directory in (*UNIT_DIRS_BEFORE_FSTAB, *UNIT_DIRS_AFTER_FSTAB):
            folder = os.path.join(directory, unit + ".d")
            try:
                names = os.listdir(on_root(self.root, folder))
            except OSError:
                names = []
            names += [os.path.basename(path) for path in self.candidates if os.path.dirname(path) == folder]
            listing.append((folder, sorted(set(names))))
        return mnt.order_drop_ins(listing)

    def boot(self, point, skip=()):
        """``(source, options or None)`` the next boot mounts ``point`` with (see the description); source
        None when nothing mounts it. The drop-ins of ``skip`` are left out."""
        unit = mnt.unit_name(point)
        entries = mnt.fstab_options(self.fstab, point)
        found = self.unit_file(UNIT_DIRS_BEFORE_FSTAB, unit)
        if found is None and entries:
            source, texts, base = FSTAB, [""], entries[0]
        else:
            found = found or self.unit_file(UNIT_DIRS_AFTER_FSTAB, unit)
            if found is None:
                return ("systemd", list(mnt.SYSTEMD_DEV_SHM)) if point == "/dev/shm" else (None, None)
            if found[1]:
                return None, None  # masked
            source, texts, base = found[0], [self.text(found[0]) or ""], None
        drop_ins = [path for path in self.drop_ins(unit) if path not in skip]
        value, which = mnt.unit_mount_options(texts + [self.text(path) or "" for path in drop_ins])
        if which is not None and which > 0:
            source = drop_ins[which - 1]
        options = mnt.split_options(value) if value is not None else base
        return source, options if options is not None else []


def drop_in_path(point):
    return os.path.join(DROP_IN_DIR, mnt.unit_name(point) + ".d", mnt.DROP_IN_NAME)


def plan_boot(host, point, required):
    """Put the fix of ``point``'s next boot among ``host``'s texts; the host path it changes, or None."""
    source, options = host.boot(point)
    if source is None or not mnt.missing_flags(options, required):
        return None
    if source == FSTAB:
        host.fstab = mnt.fstab_edit(host.fstab, point, required)
        return FSTAB
    if source == "systemd":
        host.fstab = mnt.fstab_append(host.fstab, mnt.dev_shm_line(required))
        return FSTAB
    # A unit, or a drop-in that sets Options= over the unit or the fstab line: our drop-in, read with them.
    ours = drop_in_path(point)
    _source, base = host.boot(point, skip=(ours,))
    host.candidates[ours] = mnt.render_drop_in(mnt.add_flags(base or [], required))
    return ours


def read_mounts(module, root):
    path = on_root(root, MOUNTINFO)
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            return mnt.parse_mountinfo(handle.read())
    except OSError as exc:
        module.fail_json(msg=f"cannot read {path}: {exc}")


def findmnt_verify(module, findmnt, path):
    """``(rc, findings, parse errors, output)`` of ``findmnt --verify --tab-file path``."""
    argv = [findmnt, "--verify", "--tab-file", path]
    rc, out, err = module.run_command(argv, environ_update=C_LOCALE)
    return rc, mnt.verify_findings(out), mnt.parse_errors(err), (out + err).strip()


def validate_fstab(module, root, candidate, current):
    """Fail, naming each finding, when ``findmnt --verify`` finds in ``candidate`` what it does not find in
    the current /etc/fstab (``current`` None: there is none)."""
    findmnt = module.get_bin_path("findmnt", opt_dirs=["/usr/bin", "/bin"])
    if not findmnt:
        module.fail_json(msg=f"findmnt is not installed: the new {FSTAB} cannot be validated, nothing written")
    fd, path = tempfile.mkstemp(prefix="fstab-candidate.", dir=module.tmpdir)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
        handle.write(candidate)
    rc, findings, parsed, output = findmnt_verify(module, findmnt, path)
    old_rc, old_findings, old_parsed = 0, [], 0
    if current is not None:
        old_rc, old_findings, old_parsed, _output = findmnt_verify(module, findmnt, on_root(root, FSTAB))
    new = mnt.new_findings(findings, old_findings)
    if new or parsed > old_parsed or (rc != 0 and old_rc == 0):
        what = mnt.describe_findings(new) or f"{parsed} parse error(s), exit status {rc}"
        module.fail_json(
            msg=f"findmnt --verify refuses the new {FSTAB} ({what}); nothing written", rc=rc, findmnt=output
        )


def write_file(module, path, text):
    """Write ``path`` through a temporary file beside it; a new file gets mode 0644, an old one keeps its own."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    existed = os.path.exists(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        module.atomic_move(tmp, path)
        if not existed:
            os.chmod(path, 0o644)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remount(module, points, wanted):
    """``mount -o remount,OPTIONS POINT`` each point; ``{point: why}`` of those mount refused."""
    mount = module.get_bin_path("mount", required=True, opt_dirs=["/usr/bin", "/bin"])
    refused = {}
    for point in points:
        rc, out, err = module.run_command(
            [mount, "-o", "remount," + ",".join(wanted[point]), point], environ_update=C_LOCALE
        )
        if rc != 0:
            refused[point] = (err or out).strip() or f"exit status {rc}"
    return refused


def judge(host, mounts, wanted):
    """``(result mounts, not_applicable, live drift)`` - per point its live and boot state."""
    judged, not_applicable, drift = {}, {}, []
    for point, required in wanted.items():
        mount = mnt.top_mount(point, mounts)
        if mount is None:
            not_applicable[point] = NOT_SEPARATE
            continue
        source, options = host.boot(point)
        missing_live = mnt.live_missing(mount, required)
        judged[point] = {
            "live": list(mount.options),
            "boot_source": source,
            "boot": options,
            "missing": {
                "live": missing_live,
                "boot": mnt.missing_flags(options, required) if source is not None else [],
            },
        }
        if missing_live:
            drift.append(point)
    return judged, not_applicable, drift


def diffs_of(before_files, host, judged):
    diffs = []
    for path, before in before_files.items():
        after = host.fstab if path == FSTAB else host.candidates[path]
        diffs.append({"before_header": path, "after_header": path, "before": before or "", "after": after})
    live_before = live_after = ""
    for point in sorted(judged):
        missing = judged[point]["missing"]["live"]
        if missing:
            live_before += f"{point} {','.join(judged[point]['live'])} (live)\n"
            live_after += f"{point} {','.join(judged[point]['live'] + missing)} (live)\n"
    if live_before:
        header = "live mounts"
        diffs.append({"before_header": header, "after_header": header, "before": live_before, "after": live_after})
    return diffs


def refusals(host, judged, wanted):
    """One sentence per point the next boot would still mount without an option, the new files in place."""
    refused = []
    for point in judged:
        source, options = host.boot(point)
        missing = mnt.missing_flags(options, wanted[point]) if source is not None else []
        if missing:
            refused.append(f"{point} lacks {','.join(missing)} from {source}")
    return refused


def act(module, root, host, result, wanted):
    """Write the planned files, have systemd read them, remount; ``{point: why}`` of the mounts the kernel
    did not change."""
    planned, drift, judged = result["written"], result["remounted"], result["mounts"]
    for path in planned:
        write_file(module, on_root(root, path), host.fstab if path == FSTAB else host.candidates[path])
    systemctl = module.get_bin_path("systemctl")
    if planned and systemctl:
        rc, out, err = module.run_command([systemctl, "daemon-reload"], environ_update=C_LOCALE)
        if rc != 0:
            module.fail_json(msg=f"systemctl daemon-reload failed: {(err or out).strip()}", **result)
    failed = remount(module, drift, wanted)
    after = read_mounts(module, root)
    for point in drift:
        mount = mnt.top_mount(point, after)
        judged[point]["live"] = list(mount.options) if mount else []
        still = mnt.live_missing(mount, wanted[point]) if mount else wanted[point]
        if still and point not in failed:
            failed[point] = f"the kernel still shows {','.join(judged[point]['live'])} (lacks {','.join(still)})"
    result["remounted"] = [point for point in drift if point not in failed]
    return failed


def main():
    module = AnsibleModule(
        argument_spec={
            "mounts": {"type": "dict", "required": True},
            "root": {"type": "path", "default": "/"},
        },
        supports_check_mode=True,
    )
    wanted, errors = mnt.check_mounts(module.params["mounts"])
    if errors:
        module.fail_json(msg="; ".join(errors))
    root = module.params["root"]
    if in_container(module):
        not_applicable = {point: CONTAINER for point in wanted}
        module.exit_json(changed=False, mounts={}, not_applicable=not_applicable, remounted=[], written=[])

    # 1. What is in effect: the live mounts, and what the next boot mounts.
    fstab_before = read_text(on_root(root, FSTAB), None, FileNotFoundError, "surrogateescape")
    host = Host(root, fstab_before or "")
    judged, not_applicable, drift = judge(host, read_mounts(module, root), wanted)
    for point, state in judged.items():
        if state["boot_source"] is None:
            module.warn(
                f"{point}: nothing mounts it at the next boot (no fstab line, a masked unit?); judged live only"
            )

    # 2. The boot files as they will be: each fix planned, judged again with all of them in place, and
    #    the new fstab validated - before anything is written, in check mode too.
    planned = sorted({plan_boot(host, point, wanted[point]) for point in judged} - {None})
    before_files = {path: (fstab_before if path == FSTAB else host.text_of_disk(path)) for path in planned}
    refused = refusals(host, judged, wanted)
    if refused:
        module.fail_json(
            msg=f"the next boot would still mount {'; '.join(refused)} - another file sets Options= after ours "
            "(bulwark.hardening never edits another file)",
            mounts=judged,
        )
    if FSTAB in planned:
        validate_fstab(module, root, host.fstab, fstab_before)
    diffs = diffs_of(before_files, host, judged)

    # 3. Act outside check mode: the boot files, systemd's view of them, then the live mounts.
    result = {
        "changed": bool(planned or drift),
        "mounts": judged,
        "not_applicable": not_applicable,
        "remounted": sorted(drift),
        "written": planned,
    }
    failed = {} if module.check_mode else act(module, root, host, result, wanted)
    for point, state in judged.items():
        state["boot_source"], state["boot"] = host.boot(point)
    if module._diff and diffs:
        result["diff"] = diffs
    if failed:
        lines = "; ".join(f"{point}: {why}" for point, why in sorted(failed.items()))
        module.fail_json(msg=f"remount did not change the live options - {lines}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

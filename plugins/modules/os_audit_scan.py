# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: os_audit_scan
short_description: Report world-writable, unowned and SUID/SGID files and unsafe accounts, changing nothing
description:
  - Reports what CIS Debian Linux 12 Benchmark v1.1.0 sections 7.1 and 7.2 ask an admin to review. The file
    checks are world-writable files and world-writable directories without the sticky bit, files and
    directories without a known owner or group, and SUID/SGID regular files. The account checks are duplicate
    UIDs, GIDs, user names and group names, empty password fields in the shadow file, passwd entries whose
    password is not shadowed, primary groups missing from the group file, members of the shadow group,
    accounts other than root with UID 0 or GID 0 and groups other than root with GID 0, system accounts with
    a valid login shell, accounts without one whose password is not locked, and root's login environment - a
    umask that lets its group write or others read, and a PATH entry that is empty, relative, missing, not
    owned by root or writable by its group or others (section 5.4.2).
  - Two more checks read the running system - V(wireless), each wireless network interface (CIS 3.1.2 wants
    them disabled; the finding names the driver's module), and V(services), each service CIS wants enabled and
    running where it is installed that C(systemctl) says is not - cron (2.4.1.1). The fix is the admin's - a
    module to disable, a service to enable or remove.
  - B(The module never changes the host), in either mode.
  - One walk of the file systems under O(roots) feeds all three file checks, from one C(lstat) per entry;
    symlinks are never followed, and entries that vanish during the walk are passed over. The walk does not
    descend into a mount point whose file system type is in O(skip_fstypes), and stops after O(time_limit)
    seconds with RV(incomplete) true and RV(stopped_at) naming where.
  - Findings that O(allow) matches are expected and not reported. The rest are RV(findings).
  - Outside check mode the module reports C(changed=false) and one warning per check with unexpected findings.
  - In check mode with O(report_drift) (the scheduled drift run, C(--check --diff)), unexpected findings make
    the task C(changed) and the diff's before lists them, one line each, with an empty after. Here C(changed)
    means I(the host is not compliant); nothing is changed, and a normal run will not change it either - the
    findings are for an admin to review.
version_added: 0.4.0
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details:
      - Nothing is changed in either mode.
      - In check mode with O(report_drift), C(changed) means unexpected findings.
  diff_mode:
    details: In check mode with O(report_drift), the before lists the unexpected findings and the after is empty.
  platform:
    platforms: posix
options:
  checks:
    description:
      - The checks to run. V(world_writable), V(unowned) and V(suid_sgid) share one walk; V(accounts) reads
        O(passwd), O(shadow), O(group) and O(gshadow); V(wireless) reads C(/sys/class/net); V(services) asks
        C(systemctl) (left out where there is none).
    type: list
    elements: str
    choices: [world_writable, unowned, suid_sgid, accounts, wireless, services]
    default: [world_writable, unowned, suid_sgid, accounts, wireless, services]
  roots:
    description:
      - The directories walked, each with everything below it (symlinks in the path resolved first).
      - A root below another root is walked once, as part of the other.
    type: list
    elements: path
    default: [/]
  skip_fstypes:
    description:
      - File system types (as in C(/proc/self/mountinfo)) whose mount points the walk does not descend into.
      - The default skips kernel pseudo file systems and network and FUSE file systems. It keeps C(tmpfs)
        (C(/dev/shm), C(/run), C(/tmp)) and C(overlay) (the root of a container).
    type: list
    elements: str
    default: [proc, sysfs, cgroup, cgroup2, devpts, securityfs, debugfs, tracefs, pstore, bpf, configfs, fusectl,
              mqueue, hugetlbfs, binfmt_misc, autofs, efivarfs, rpc_pipefs, nsfs, nfs, nfs4, cifs, smb3,
              fuse.sshfs, 9p, ceph, glusterfs, fuse.glusterfs]
  exclude:
    description:
      - Directories the walk does not enter, as if they were skipped mounts. The default leaves out the image
        layers of container engines, whose files are the images' and not the host's (CIS's own audit leaves
        them out too).
    type: list
    elements: path
    default: [/var/lib/docker, /var/lib/containerd, /var/lib/containers]
    version_added: 0.4.0
  time_limit:
    description:
      - Seconds the walk may take. When they are up it stops, and the result says RV(incomplete=true) and
        RV(stopped_at).
    type: int
    default: 120
  max_findings:
    description:
      - The most findings returned per check. RV(counts) still counts them all.
    type: int
    default: 1000
  allow:
    description:
      - Expected findings per check, as a dictionary from a check name to a list of absolute paths or fnmatch
        patterns (C(*) also matches C(/)). For V(accounts), the patterns match the finding's name (a user
        name, a group name, C(uid 1001)); for V(wireless) an interface, for V(services) a unit (C(cron.service)).
      - A check named here uses this list instead of its default; a check not named keeps its default. Only
        V(suid_sgid) has a default - the SUID/SGID executables a minimal Debian 12 server ships
        (C(/usr/bin/su), C(/usr/bin/passwd), C(/usr/bin/sudo), C(/usr/lib/openssh/ssh-keysign), ...; the
        list, with the package of each, is in C(plugins/module_utils/_scan.py)). Give V(suid_sgid) an empty list to
        report every one.
    type: dict
    default: {}
  report_drift:
    description:
      - In check mode, make unexpected findings C(changed) with a diff, so that a drift report shows them.
      - Outside check mode the module never reports C(changed).
    type: bool
    default: true
  passwd:
    description: The passwd file. Its UIDs are the known owners; an UID not in it is looked up through NSS.
    type: path
    default: /etc/passwd
  shadow:
    description: The shadow file. When it does not exist, its check is left out.
    type: path
    default: /etc/shadow
  group:
    description: The group file. Its GIDs are the known groups; a GID not in it is looked up through NSS.
    type: path
    default: /etc/group
  gshadow:
    description: The gshadow file, for the members of the shadow group. When it does not exist, it is left out.
    type: path
    default: /etc/gshadow
  shells:
    description: The valid login shells (a C(nologin) line is not one), for the system accounts' shells.
    type: path
    default: /etc/shells
    version_added: 0.4.0
  login_defs:
    description: The file whose C(UID_MIN) ends the system accounts (1000 without it).
    type: path
    default: /etc/login.defs
    version_added: 0.4.0
  root_environment:
    description:
      - Run root's login shell (C(env -i ... bash -lc), as a fresh C(su -) would) and judge the umask and the PATH
        it ends up with (CIS 5.4.2.5, 5.4.2.6); part of the V(accounts) check.
    type: bool
    default: true
    version_added: 0.4.0
notes:
  - Run it as root; a directory it cannot list is counted in RV(errors) and passed over.
  - A bind mount of a file system that is also mounted elsewhere is walked twice.
  - Each check lists the first O(max_findings) unexpected findings the walk met, sorted by path; RV(counts)
    counts them all.
seealso:
  - name: CIS Debian Linux 12 Benchmark v1.1.0
    description: Sections 7.1.11 - 7.1.13 (files), 7.2 (accounts and groups) and 5.4.2 (root and system accounts).
    link: https://www.cisecurity.org/benchmark/debian_linux
"""

EXAMPLES = r"""
- name: Report unexpected world-writable, unowned and SUID/SGID files and unsafe accounts
  bulwark.hardening.os_audit_scan:

- name: Scan the local file systems for SUID/SGID files, with the ones the admin reviewed
  bulwark.hardening.os_audit_scan:
    checks: [suid_sgid]
    time_limit: 300
    allow:
      suid_sgid:
        - /usr/bin/*
        - /usr/lib/openssh/ssh-keysign
        - /usr/sbin/exim4
  register: scan

- name: Only the accounts
  bulwark.hardening.os_audit_scan:
    checks: [accounts]
    allow:
      accounts: [toor]
"""

RETURN = r"""
findings:
  description:
    - The unexpected findings of each check that ran, at most O(max_findings) each.
    - A file finding has C(path) and C(detail); an account finding has C(name) and C(detail).
  returned: success
  type: dict
  sample:
    world_writable:
      - path: /srv/share/notes.txt
        detail: file 0666
    unowned: []
    suid_sgid:
      - path: /usr/local/bin/helper
        detail: SUID file 4755
    accounts:
      - name: uid 1001
        detail: duplicate UID shared by alice, bob
counts:
  description: The number of unexpected findings of each check that ran, including the ones not listed.
  returned: success
  type: dict
  sample: {world_writable: 1, unowned: 0, suid_sgid: 1, accounts: 1}
allowed:
  description: The number of findings of each check that O(allow) matched.
  returned: success
  type: dict
  sample: {world_writable: 0, unowned: 0, suid_sgid: 15, accounts: 0}
not_applicable:
  description: When the walk stopped at O(time_limit), why the file checks are not judged to the end.
  returned: when RV(incomplete)
  type: dict
  sample: {file checks: "the walk stopped at /srv/data after time_limit (120 s); the file checks are incomplete"}
incomplete:
  description: Whether the walk stopped at O(time_limit) before it had seen everything.
  returned: success
  type: bool
  sample: false
stopped_at:
  description: The directory or entry the walk stopped at when RV(incomplete), else null.
  returned: success
  type: str
  sample: /var/lib/docker/overlay2
skipped_mounts:
  description: The mount points not descended into, with their file system type (C(excluded) for O(exclude)).
  returned: success
  type: list
  elements: dict
  sample: [{path: /proc, fstype: proc}, {path: /sys, fstype: sysfs}]
scanned:
  description: The number of file system entries looked at.
  returned: success
  type: int
  sample: 84211
errors:
  description: The number of directories that could not be listed (vanished, or not readable).
  returned: success
  type: int
  sample: 0
elapsed:
  description: Seconds the module took.
  returned: success
  type: float
  sample: 3.42
"""

import grp
import os
import pwd
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._loaded import unit_show
from ansible_collections.bulwark.hardening.plugins.module_utils._scan import (
    CHECKS,
    DEFAULT_SKIP_FSTYPES,
    FILE_CHECKS,
    Findings,
    Walk,
    account_findings,
    distinct_roots,
    finding_line,
    known_ids,
    login_shell_findings,
    merged_allow,
    parse_mounts,
    root_environment_findings,
    root_group_findings,
    service_findings,
    skipped_points,
    summary,
    uid_min,
    valid_shells,
    wireless_findings,
)

MOUNTINFO = "/proc/self/mountinfo"
NET_DIR = "/sys/class/net"
# The services CIS wants enabled and running where installed: unit -> (its program, the CIS ID).
SERVICES = {"cron.service": ("/usr/sbin/cron", "2.4.1.1")}


def read_text(path, required, module):
    """The text of ``path``; None when it does not exist and is not ``required``."""
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        if required:
            module.fail_json(msg=f"cannot read {path}: no such file")
        return None
    except OSError as exc:
        module.fail_json(msg=f"cannot read {path}: {exc}")


def nss_knows(lookup):
    """A function telling whether NSS (``pwd.getpwuid`` or ``grp.getgrgid``) knows an id."""

    def known(number):
        try:
            lookup(number)
        except (KeyError, OverflowError):
            return False
        return True

    return known


def checked_roots(module, roots):
    """The roots, resolved and without one inside another; fails naming a relative or missing one."""
    resolved = []
    for root in roots:
        if not os.path.isabs(root):
            module.fail_json(msg=f"roots entry {root!r} is not an absolute path")
        if not os.path.lexists(root):
            module.fail_json(msg=f"roots entry {root} does not exist")
        resolved.append(os.path.realpath(root))
    return distinct_roots(resolved)


def walk_files(module, findings, roots, *, passwd, group, deadline):
    """Run the file checks of ``findings`` over ``roots``; the walk's part of the result."""
    mountinfo = read_text(MOUNTINFO, False, module) or ""
    uids, gids = known_ids(passwd), known_ids(group)
    uid_nss, gid_nss = nss_knows(pwd.getpwuid), nss_knows(grp.getgrgid)
    walk = Walk(
        findings,
        uid_known=lambda uid: uid in uids or uid_nss(uid),
        gid_known=lambda gid: gid in gids or gid_nss(gid),
        skip={
            **skipped_points(parse_mounts(mountinfo), module.params["skip_fstypes"]),
            **{os.path.normpath(path): "excluded" for path in module.params["exclude"]},
        },
        deadline=deadline,
    )
    walk.run(roots)
    return {
        "incomplete": walk.incomplete,
        "stopped_at": walk.stopped_at,
        "skipped_mounts": walk.skipped_mounts,
        "scanned": walk.scanned,
        "errors": walk.errors,
    }


def drift_diff(checks, findings, max_findings):
    """The diff of a drift run: the unexpected findings as the before, one line each, and an empty after."""
    lines = [finding_line(check, item) for check in checks for item in findings.items[check]]
    hidden = sum(findings.counts.values()) - len(lines)
    if hidden:
        lines.append(f"... and {hidden} more (max_findings: {max_findings})")
    header = "unexpected findings (CIS Debian 12 7.1, 7.2)"
    return {
        "before_header": header,
        "after_header": header,
        "before": "".join(line + "\n" for line in lines),
        "after": "",
    }


def stat_or_none(path):
    try:
        return os.stat(path)
    except OSError:
        return None


def root_environment(module):
    """Findings on the umask and PATH of root's login shell, started as a fresh login starts it."""
    argv = ["env", "-i", "HOME=/root", "USER=root", "LOGNAME=root", "SHELL=/bin/bash", "TERM=dumb"]
    argv += ["/bin/bash", "-lc", 'umask; printf "%s\\n" "$PATH"']
    rc, out, err = module.run_command(argv)
    lines = out.splitlines()
    if rc != 0 or len(lines) < 2:
        return [("root", f"root's login shell could not be judged: rc {rc}, {(err or out).strip()[:200]!r}")]
    return root_environment_findings(lines[-2], lines[-1], stat_or_none)


def services(module):
    """Findings of the services CIS wants running that are installed here, from one ``systemctl show`` each."""
    installed = {unit: cis for unit, (program, cis) in SERVICES.items() if os.path.exists(program)}
    if not installed or not module.get_bin_path("systemctl"):
        return []
    return service_findings({unit: (cis, unit_show(module, unit)) for unit, cis in installed.items()})


def main():
    # passwd/shadow/gshadow are file paths, not secrets: no_log=False says so (and quiets the warning).
    module = AnsibleModule(
        argument_spec={
            "checks": {"type": "list", "elements": "str", "choices": list(CHECKS), "default": list(CHECKS)},
            "roots": {"type": "list", "elements": "path", "default": ["/"]},
            "skip_fstypes": {"type": "list", "elements": "str", "default": list(DEFAULT_SKIP_FSTYPES)},
            "exclude": {
                "type": "list",
                "elements": "path",
                "default": ["/var/lib/docker", "/var/lib/containerd", "/var/lib/containers"],
            },
            "time_limit": {"type": "int", "default": 120},
            "max_findings": {"type": "int", "default": 1000},
            "allow": {"type": "dict", "default": {}},
            "report_drift": {"type": "bool", "default": True},
            "passwd": {"type": "path", "default": "/etc/passwd", "no_log": False},
            "shadow": {"type": "path", "default": "/etc/shadow", "no_log": False},
            "group": {"type": "path", "default": "/etc/group"},
            "gshadow": {"type": "path", "default": "/etc/gshadow", "no_log": False},
            "shells": {"type": "path", "default": "/etc/shells"},
            "login_defs": {"type": "path", "default": "/etc/login.defs"},
            "root_environment": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    started = time.monotonic()
    checks = [check for check in CHECKS if check in params["checks"]]

    if params["time_limit"] < 1:
        module.fail_json(msg=f"time_limit must be at least 1 second, not {params['time_limit']}")
    if params["max_findings"] < 0:
        module.fail_json(msg=f"max_findings must be 0 or more, not {params['max_findings']}")
    try:
        allow = merged_allow(params["allow"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    roots = checked_roots(module, params["roots"])

    findings = Findings(checks, allow, params["max_findings"])
    passwd = read_text(params["passwd"], True, module)
    group = read_text(params["group"], True, module)
    result = {"incomplete": False, "stopped_at": None, "skipped_mounts": [], "scanned": 0, "errors": 0}
    if any(check in FILE_CHECKS for check in checks):
        result.update(
            walk_files(module, findings, roots, passwd=passwd, group=group, deadline=started + params["time_limit"])
        )
    if "accounts" in checks:
        shadow = read_text(params["shadow"], False, module)
        gshadow = read_text(params["gshadow"], False, module)
        names = {key: params[key] for key in ("passwd", "shadow", "group", "gshadow")}
        found = account_findings(passwd, shadow, group, gshadow, names)
        shells = valid_shells(read_text(params["shells"], False, module))
        first_uid = uid_min(read_text(params["login_defs"], False, module))
        found += login_shell_findings(passwd, shadow, shells, first_uid) + root_group_findings(group)
        if params["root_environment"]:
            found += root_environment(module)
        for name, detail in found:
            findings.add("accounts", "name", name, detail)
    if "wireless" in checks:
        for name, detail in wireless_findings(NET_DIR):
            findings.add("wireless", "name", name, detail)
    if "services" in checks:
        for name, detail in services(module):
            findings.add("services", "name", name, detail)
    for check in checks:
        if check in FILE_CHECKS:
            findings.items[check].sort(key=lambda item: item["path"])

    unexpected = {check: count for check, count in findings.counts.items() if count}
    drift = module.check_mode and params["report_drift"]
    result.update(
        changed=bool(drift and unexpected),
        findings=findings.items,
        counts=findings.counts,
        allowed=findings.allowed,
    )
    if drift and unexpected and module._diff:
        result["diff"] = drift_diff(checks, findings, params["max_findings"])
    if not drift:
        for check, count in unexpected.items():
            module.warn(summary(check, findings.items[check], count))
    if result["incomplete"]:
        reason = (
            f"the walk stopped at {result['stopped_at']} after time_limit ({params['time_limit']} s); "
            "the file checks are incomplete"
        )
        module.warn(reason)
        # Not judged to the end: the drift report says so instead of calling the host compliant.
        result["not_applicable"] = {"file checks": reason}
    result["elapsed"] = round(time.monotonic() - started, 3)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: package_purge
short_description: Purge a package blocklist in one apt transaction, after an apt simulation proved it safe
version_added: 0.2.0
description:
  - Turns O(blocklist) and O(blocklist_extra) (names or shell-style patterns, C(cups*)) into the
    patterns to purge; C(rpcbind) and C(nfs-kernel-server) are left out when O(services) declares NFS
    (a service named C(nfs), or port 2049).
  - Reads dpkg's status file for the installed packages matching them (less O(keep)) and the ones whose
    configuration files are left (dpkg state C(rc)).
  - Asks apt (C(apt-get --simulate purge --autoremove), which needs no lock and changes nothing) what
    purging them would really remove, packages that depend on them and automatically installed
    packages nothing needs any more included (RV(removals)).
  - Fails, before anything changes, when a removal matches the built-in protected list (the web
    stack, remote access, Python, systemd, apt, the firewall and the collection's other tools) or
    O(protected), or matches O(keep), or when a blocklist entry itself names a protected package.
    The message names the role's variables (C(minimal_packages_blocklist(_extra)),
    C(minimal_packages_keep)), which the role passes to these options unchanged.
  - With O(plan=true), stops there (changes nothing, never reports C(changed)); otherwise runs the
    simulated command for real, in one apt transaction, when it removes anything.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  diff_mode:
    details: The diff lists the packages apt removes (before) and nothing (after).
options:
  blocklist:
    description: Packages to purge, names or shell-style patterns (C(cups*), C(xserver-xorg*)).
    type: list
    elements: str
    required: true
  blocklist_extra:
    description: More names or patterns to purge, after O(blocklist).
    type: list
    elements: str
    default: []
  keep:
    description:
      - Names or patterns never purged; they are left out of the matches of the blocklist, and a
        removal apt would make of one of them is refused.
    type: list
    elements: str
    default: []
  protected:
    description:
      - Names or patterns that must never be removed, in addition to the built-in list (C(apache2*),
        C(libapache2-mod-*), C(php*), C(openssh-server), C(rsync), C(sudo), C(python3*), C(ufw),
        C(fail2ban), C(unattended-upgrades), C(needrestart), C(systemd*), C(apt*), ...).
      - Any removal of one is refused.
    type: list
    elements: str
    default: []
  services:
    description:
      - The host's declared services, in the shape of C(bulwark_services) (the host model's
        C(audit_services)); only read to leave NFS's packages alone when NFS is declared.
    type: dict
    default: {}
  residual:
    description:
      - Also purge the configuration files of every removed package (dpkg state C(rc)), not only of
        matching ones; except those of protected and kept packages (removed by hand, a role installs them
        again with their configuration).
    type: bool
    default: false
  autoremove:
    description: Also purge the automatically installed packages nothing needs any more.
    type: bool
    default: true
  plan:
    description:
      - Only work out and check the purge (simulation and refusals); change nothing and report
        C(changed=false). For a preflight that must not write.
    type: bool
    default: false
  lock_timeout:
    description: Seconds to wait for another apt or dpkg run to release its lock before failing.
    type: int
    default: 300
  status_file:
    description: dpkg's status file.
    type: path
    default: /var/lib/dpkg/status
notes:
  - The simulation runs only when there is something to purge or O(autoremove=true).
  - In check mode the module simulates and refuses as usual, reports C(changed) when apt would
    remove anything, and changes nothing.
seealso:
  - module: ansible.builtin.apt
  - module: bulwark.hardening.listening_sockets
"""

EXAMPLES = r"""
- name: What would purging the blocklist remove? (changes nothing; fails on a protected removal)
  bulwark.hardening.package_purge:
    blocklist: [telnet, "cups*", avahi-daemon]
    protected: [my-agent]
    plan: true
  register: plan

- name: Purge it, residual configuration and unused dependencies included
  bulwark.hardening.package_purge:
    blocklist: [telnet, "cups*", avahi-daemon]
    keep: [cups-client]
    residual: true
"""

RETURN = r"""
patterns:
  description:
    - The blocklist patterns purged (O(blocklist), then O(blocklist_extra), each once).
    - NFS's packages are left out when O(services) declares NFS.
  returned: always
  type: list
  elements: str
  sample: [telnet, "cups*", avahi-daemon]
installed:
  description: Installed packages matching RV(patterns) (and not O(keep)).
  returned: always
  type: list
  elements: str
  sample: [avahi-daemon, telnet]
residual:
  description: Packages in dpkg state C(rc) to purge (matching ones, or all with O(residual=true)).
  returned: always
  type: list
  elements: str
purge:
  description:
    - The names given to apt (RV(installed) and RV(residual)); where the autoremove would take a protected
      or kept package, also the other packages it would take, named instead (see RV(autoremove_spared)).
  returned: always
  type: list
  elements: str
autoremove_spared:
  description:
    - Protected or kept packages that nothing installed needs any more (their dependant was removed by
      hand) and that only the autoremove would remove. They stay, with a warning; the rest is purged by name.
  returned: when there are any
  type: list
  elements: str
  sample: [openssh-sftp-server]
removals:
  description: Every package apt removes (or would remove), dependencies and autoremovals included.
  returned: always
  type: list
  elements: str
  sample: [avahi-daemon, libavahi-core7, libdaemon0, telnet]
refused:
  description:
    - Removals that must not happen, each with the package, the pattern it matched and why
      (C(protected) or C(kept)); the module fails when there is any.
  returned: always
  type: list
  elements: dict
  sample: [{package: apache2, pattern: "apache2*", why: protected}]
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._packages import (
    LOCK_RE,
    PROTECTED,
    apt_argv,
    parse_dpkg_status,
    pattern_refusals,
    purge_list,
    refusal_message,
    refusals,
    simulation_removals,
)

APT_ENV = {"LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive", "DEBIAN_PRIORITY": "critical"}
LOCK_RETRY_SECONDS = 5


def run_apt(module, argv, lock_timeout):
    """Run apt-get; while another apt holds a lock apt-get does not wait for, retry until *lock_timeout*."""
    deadline = time.monotonic() + lock_timeout
    while True:
        rc, out, err = module.run_command(argv, environ_update=APT_ENV)
        if rc == 0 or not LOCK_RE.search(err + out) or time.monotonic() >= deadline:
            return rc, out, err
        time.sleep(LOCK_RETRY_SECONDS)


def main():
    module = AnsibleModule(
        argument_spec={
            "blocklist": {"type": "list", "elements": "str", "required": True},
            "blocklist_extra": {"type": "list", "elements": "str", "default": []},
            "keep": {"type": "list", "elements": "str", "default": []},
            "protected": {"type": "list", "elements": "str", "default": []},
            "services": {"type": "dict", "default": {}},
            "residual": {"type": "bool", "default": False},
            "autoremove": {"type": "bool", "default": True},
            "plan": {"type": "bool", "default": False},
            "lock_timeout": {"type": "int", "default": 300},
            "status_file": {"type": "path", "default": "/var/lib/dpkg/status"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        with open(params["status_file"], encoding="utf-8", errors="replace") as handle:
            states = parse_dpkg_status(handle.read())
    except OSError as exc:
        module.fail_json(msg=f"cannot read dpkg status {params['status_file']}: {exc}")

    protected = [*PROTECTED, *params["protected"]]
    result = purge_list(
        states,
        blocklist=params["blocklist"],
        blocklist_extra=params["blocklist_extra"],
        keep=params["keep"],
        services=params["services"],
        residual=params["residual"],
        spare=protected,
    )
    apt_get = module.get_bin_path("apt-get", required=True)

    def simulate(autoremove, names=None):
        names = result["purge"] if names is None else names
        if not (names or autoremove):
            return []
        argv = apt_argv(apt_get, names, autoremove=autoremove, simulate=True)
        rc, out, err = module.run_command(argv, environ_update=APT_ENV)
        if rc != 0:
            module.fail_json(msg=f"apt-get --simulate failed (rc {rc}): {err.strip() or out.strip()}", cmd=argv)
        return simulation_removals(out)

    autoremove = params["autoremove"]
    removals = simulate(autoremove)
    by_pattern = pattern_refusals(result["patterns"], protected)
    refused = by_pattern + refusals(removals, protected, params["keep"])
    if refused and autoremove and not by_pattern:
        # Would apt still take them if the packages the autoremove finds were named instead, save
        # those? If not, only the autoremove would: a protected or kept package nothing installed
        # needs any more (its dependant was removed by hand; a role installs it again). Not this
        # run's to remove, nor a reason to refuse the purge: the rest is purged by name, and the
        # warning says what stays.
        spared = sorted({item["package"] for item in refused})
        names = sorted(set(result["purge"]) | (set(removals) - set(spared)))
        without = simulate(False, names)
        if not refusals(without, protected, params["keep"]):
            module.warn(
                f"the autoremove leaves {', '.join(spared)} (protected or kept), which nothing installed needs any"
                " more: install what needs it again, or mark it manually installed (apt-mark manual)"
            )
            result.update(purge=names, autoremove_spared=spared)
            autoremove, removals, refused = False, without, []
    result.update(changed=False, removals=removals, refused=refused)
    if refused:
        module.fail_json(msg=refusal_message(refused, result["patterns"], result["purge"]), **result)
    if params["plan"] or not removals:
        module.exit_json(**result)

    result["changed"] = True
    if module._diff:
        result["diff"] = {"before": "".join(f"{name}\n" for name in removals), "after": ""}
    if not module.check_mode:
        argv = apt_argv(
            apt_get,
            result["purge"],
            autoremove=autoremove,
            simulate=False,
            lock_timeout=params["lock_timeout"],
        )
        rc, out, err = run_apt(module, argv, params["lock_timeout"])
        if rc != 0:
            module.fail_json(msg=f"apt-get purge failed (rc {rc}): {err.strip() or out.strip()}", cmd=argv, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

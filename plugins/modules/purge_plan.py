# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: purge_plan
short_description: Work out, without changing anything, what purging a package blocklist would remove
version_added: 0.2.0
description:
  - Reads dpkg's status file and returns the installed packages matching O(patterns) (shell-style,
    C(cups*)) and the ones whose configuration files are left (dpkg state C(rc)).
  - Asks apt (C(apt-get --simulate purge --autoremove), which needs no lock and changes nothing) what
    purging them would really remove, packages that depend on them and automatically installed
    packages nothing needs any more included, and returns that list in RV(removals).
  - Returns in RV(refused) every removal that matches O(protected) or O(keep), and every entry of
    O(patterns) that itself matches O(protected), so that a caller can stop before anything changes.
  - Read-only; C(changed) is always false.
extends_documentation_fragment:
  - bulwark.hardening.module.read_only
options:
  patterns:
    description: Packages to purge, names or shell-style patterns (C(cups*), C(xserver-xorg*)).
    type: list
    elements: str
    default: []
  keep:
    description:
      - Names or patterns never purged; they are left out of the matches of O(patterns), and a
        removal apt would make of one of them is refused.
    type: list
    elements: str
    default: []
  protected:
    description: Names or patterns that must never be removed; any removal of one is refused.
    type: list
    elements: str
    default: []
  residual:
    description:
      - Also purge the configuration files of every removed package (dpkg state C(rc)), not only of
        matching ones.
    type: bool
    default: false
  autoremove:
    description: Include the automatically installed packages nothing needs any more.
    type: bool
    default: true
  status_file:
    description: dpkg's status file.
    type: path
    default: /var/lib/dpkg/status
notes:
  - The simulation runs only when there is something to purge or O(autoremove=true).
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: What would purging the blocklist remove?
  bulwark.hardening.purge_plan:
    patterns: [telnet, "cups*", avahi-daemon]
    protected: ["apache2*", "php*", openssh-server, rsync]
  register: plan

- name: Stop if that would remove a protected package
  ansible.builtin.assert:
    that: plan.refused | length == 0
    fail_msg: "{{ plan.refused }}"

- name: Purge
  ansible.builtin.apt:
    name: "{{ plan.purge }}"
    state: absent
    purge: true
    autoremove: true
  when: plan.removals | length > 0
"""

RETURN = r"""
installed:
  description: Installed packages matching O(patterns) (and not O(keep)).
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
  description: The names to give C(ansible.builtin.apt) (RV(installed) and RV(residual)).
  returned: always
  type: list
  elements: str
removals:
  description: Every package apt would remove or purge, dependencies and autoremovals included.
  returned: always
  type: list
  elements: str
  sample: [avahi-daemon, libavahi-core7, libdaemon0, telnet]
refused:
  description:
    - Removals that must not happen, each with the package, the pattern it matched and why
      (C(protected) or C(kept)).
  returned: always
  type: list
  elements: dict
  sample: [{package: apache2, pattern: "apache2*", why: protected}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._packages import (
    RESIDUAL_STATE,
    parse_dpkg_status,
    pattern_refusals,
    refusals,
    select,
    simulation_removals,
)


def simulate(module, names, autoremove):
    """Run apt-get in simulation mode; return the packages it would remove."""
    apt_get = module.get_bin_path("apt-get", required=True)
    if names:
        argv = [apt_get, "--simulate", "-q", "purge", *names]
        if autoremove:
            argv.insert(3, "--autoremove")
    else:
        argv = [apt_get, "--simulate", "-q", "--purge", "autoremove"]
    rc, out, err = module.run_command(argv, environ_update={"LC_ALL": "C"})
    if rc != 0:
        module.fail_json(msg=f"apt-get --simulate failed (rc {rc}): {err.strip() or out.strip()}", cmd=argv)
    return simulation_removals(out)


def main():
    module = AnsibleModule(
        argument_spec={
            "patterns": {"type": "list", "elements": "str", "default": []},
            "keep": {"type": "list", "elements": "str", "default": []},
            "protected": {"type": "list", "elements": "str", "default": []},
            "residual": {"type": "bool", "default": False},
            "autoremove": {"type": "bool", "default": True},
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

    installed, residual = select(states, params["patterns"], params["keep"])
    if params["residual"]:
        residual = sorted(name for name, state in states.items() if state == RESIDUAL_STATE)
    purge = sorted(set(installed) | set(residual))
    removals = simulate(module, purge, params["autoremove"]) if purge or params["autoremove"] else []
    refused = pattern_refusals(params["patterns"], params["protected"])
    refused += refusals(removals, params["protected"], params["keep"])
    module.exit_json(
        changed=False, installed=installed, residual=residual, purge=purge, removals=removals, refused=refused
    )


if __name__ == "__main__":
    main()

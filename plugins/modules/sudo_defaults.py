# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sudo_defaults
short_description: Report the sudo Defaults really in effect for some users, and the sudoers line behind each difference
description:
  - Asks sudo itself (C(sudo -n -l -U user), in the C locale) which Defaults entries match each user in O(users),
    and resolves them the way sudo does (in the order of the parsed files, the later entry wins) to the effective
    value of each setting in O(defaults).
  - Runas (C(Defaults>user)) and command (C(Defaults!cmnd)) entries that change a wanted setting for some commands
    are judged too, with their binding as the difference's RV(differs[].scope).
  - Where a value differs from the wanted one, reads O(sudoers) and the files it includes (C(@include),
    C(@includedir) and their C(#) forms, with sudo's rules) and names the last line responsible.
  - Never changes the host. In check mode with O(report_drift), differences are reported as a change with a diff,
    so that a drift report names them.
  - Another file that overrides a wanted setting is named, never edited; with O(fail_on_override) the module fails.
version_added: 0.4.0
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: The module only reads. In check mode with O(report_drift), differences make it report C(changed).
  diff_mode:
    details: >-
      In check mode, one line per difference, C(user: name = effective (file:line)) before and
      C(user: name = wanted) after.
  platform:
    platforms: posix
options:
  defaults:
    description:
      - The wanted Defaults, setting name to value.
      - V(true) for a flag that must be on (C(use_pty)), V(false) for one that must be off (C(!visiblepw)), a string or
        number for a C(name=value) setting. Numbers are compared as numbers (V(15) matches C(15.0)).
      - A setting no sudoers line sets has sudo's built-in default, which the module cannot see; it counts as a
        difference.
    type: dict
    required: true
  users:
    description:
      - The users whose effective Defaults are judged.
      - A user that does not exist, or that may run nothing with sudo (sudo lists no Defaults for such a user), is
        not judged; it is named in RV(unjudged), with a warning for a missing user.
    type: list
    elements: str
    default: [root]
  sudoers:
    description:
      - The main sudoers file, where the search for a responsible line starts.
    type: path
    default: /etc/sudoers
  ours:
    description:
      - The sudoers file this collection writes. A difference coming from another file is an override.
    type: path
    default: /etc/sudoers.d/bulwark-hardening
  report_drift:
    description:
      - In check mode, report differences as C(changed) with a diff.
    type: bool
    default: true
  fail_on_override:
    description:
      - Fail when a difference comes from a file other than O(ours), naming the file and line.
    type: bool
    default: false
notes:
  - Needs root (C(become)); sudo runs with C(-n), so it never waits for a password.
  - Host bindings (C(Defaults@host)) and aliases in a user binding count as applying to the user when the responsible
    line is searched; the effective value itself always comes from sudo.
seealso:
  - module: bulwark.hardening.config_file
"""

EXAMPLES = r"""
- name: Check what sudo applies for root and the admin user
  bulwark.hardening.sudo_defaults:
    defaults:
      use_pty: true
      logfile: /var/log/sudo.log
      timestamp_timeout: 15
    users: [root, "{{ ansible_user }}"]
    fail_on_override: true
  become: true
"""

RETURN = r"""
effective:
  description:
    - Per judged user, the effective value of each wanted setting. V(true)/V(false) for a flag, a string, a list for a
      list setting changed with C(+=)/C(-=), V(null) when no sudoers line sets it.
  returned: success
  type: dict
  sample: {"root": {"use_pty": true, "logfile": "/var/log/sudo.log", "timestamp_timeout": "30"}}
differs:
  description: One item per user and setting whose effective value is not the wanted one.
  returned: success
  type: list
  elements: dict
  contains:
    user:
      description: The user.
      type: str
    name:
      description: The setting.
      type: str
    wanted:
      description: The wanted value.
      type: raw
    effective:
      description: The effective value.
      type: raw
    scope:
      description: >-
        Empty for the user's general Defaults; C(Defaults>runas) or C(Defaults!cmnd) for a value that applies
        only there.
      type: str
    file:
      description: The file of the last line responsible, or V(null) when no line sets the setting.
      type: str
    line:
      description: That line's number (the first line of a continued line), or V(null).
      type: int
  sample:
    - {user: root, name: timestamp_timeout, wanted: 15, effective: "30", scope: "",
       file: /etc/sudoers.d/zz-local, line: 1}
unjudged:
  description: Users that were not judged, with the reason.
  returned: success
  type: dict
  sample: {"deploy": "no such user"}
"""

# Imports follow the documentation blocks, as in every Ansible module.
import grp
import os
import pwd
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._sudo import (
    UNKNOWN_USER,
    parse_list_output,
    read_sudoers,
    resolve,
    responsible_line,
    same_value,
    show_value,
)

NOT_ALLOWED = "may run nothing with sudo, so sudo lists no Defaults for it"


def user_groups(user):
    """Names of the user's groups (primary and supplementary); empty for an unknown user."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return []
    names = {group.gr_name for group in grp.getgrall() if user in group.gr_mem}
    try:
        names.add(grp.getgrgid(entry.pw_gid).gr_name)
    except KeyError:
        pass
    return sorted(names)


def judge(user, listing, wanted):
    """Effective values and differences of one user from its parsed ``sudo -l`` answer."""
    names = list(wanted)
    values = resolve(listing["entries"], names)
    differs = [
        {"user": user, "name": name, "wanted": want, "effective": values[name], "scope": ""}
        for name, want in wanted.items()
        if not same_value(want, values[name])
    ]
    for specific in listing["specific"]:
        mentioned = {entry[0] for entry in specific["entries"]}
        scoped = resolve(specific["entries"], names, start=values)
        scope = f"Defaults{specific['kind']}{specific['binding']}"
        differs.extend(
            {"user": user, "name": name, "wanted": want, "effective": scoped[name], "scope": scope, "binding": specific}
            for name, want in wanted.items()
            if name in mentioned and not same_value(want, scoped[name])
        )
    return values, differs


def where(item):
    """``file:line`` of a difference, or an empty string."""
    return f"{item['file']}:{item['line']}" if item["file"] else ""


def describe(item):
    """``user: name [scope]`` of a difference."""
    scope = f" [{item['scope']}]" if item["scope"] else ""
    return f"{item['user']}: {item['name']}{scope}"


def main():
    module = AnsibleModule(
        argument_spec={
            "defaults": {"type": "dict", "required": True},
            "users": {"type": "list", "elements": "str", "default": ["root"]},
            "sudoers": {"type": "path", "default": "/etc/sudoers"},
            "ours": {"type": "path", "default": "/etc/sudoers.d/bulwark-hardening"},
            "report_drift": {"type": "bool", "default": True},
            "fail_on_override": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    wanted = module.params["defaults"]
    for name, value in wanted.items():
        if not isinstance(value, (bool, int, float, str)):
            module.fail_json(
                msg=f"defaults: the value of {name} must be true, false, a string or a number, not {value!r}"
            )
    sudo = module.get_bin_path("sudo")
    if not sudo:
        # Nothing in effect to judge (the caller installs sudo, and says so as its own change).
        module.exit_json(
            changed=False,
            effective={},
            differs=[],
            unjudged=dict.fromkeys(module.params["users"], "sudo is not installed"),
        )

    effective, differs, unjudged = {}, [], {}
    for user in module.params["users"]:
        rc, out, err = module.run_command(
            [sudo, "-n", "-l", "-U", user], environ_update={"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}
        )
        if rc != 0:
            if UNKNOWN_USER.search(err or ""):
                unjudged[user] = "no such user"
                module.warn(f"user {user} does not exist; its sudo Defaults were not judged")
                continue
            module.fail_json(msg=f"sudo -l -U {user} failed (rc {rc}): {(err or out).strip()}")
        try:
            listing = parse_list_output(out)
        except ValueError as exc:
            module.fail_json(msg=f"sudo -l -U {user}: {exc}")
        if not listing["allowed"]:
            unjudged[user] = NOT_ALLOWED
            continue
        effective[user], found = judge(user, listing, wanted)
        differs.extend(found)

    if differs:
        try:
            items = read_sudoers(module.params["sudoers"], socket.gethostname())
        except (OSError, ValueError) as exc:
            module.warn(f"cannot read the sudoers files to name the lines responsible: {exc}")
            items = []
        groups = {}
        for item in differs:
            specific = item.pop("binding", None)
            user = item["user"]
            if user not in groups:
                groups[user] = user_groups(user)
            item["file"], item["line"] = responsible_line(
                items,
                item["name"],
                item["wanted"],
                item["effective"],
                user,
                groups=groups[user],
                kind=specific["kind"] if specific else None,
                binding=specific["binding"] if specific else None,
            )

    result = {"changed": False, "effective": effective, "differs": differs, "unjudged": unjudged}
    ours = os.path.normpath(module.params["ours"])
    overrides = [item for item in differs if item["file"] and os.path.normpath(item["file"]) != ours]
    if overrides and module.params["fail_on_override"]:
        named = "; ".join(
            f"{describe(item)} = {show_value(item['effective'])} (wanted {show_value(item['wanted'])}) "
            f"is set by {item['file']} line {item['line']}"
            for item in overrides
        )
        module.fail_json(msg=f"{named}: remove or change it; bulwark.hardening never edits another file", **result)

    if differs and module.check_mode and module.params["report_drift"]:
        result["changed"] = True
        if module._diff:
            before = []
            for item in differs:
                location = f" ({where(item)})" if item["file"] else ""
                before.append(f"{describe(item)} = {show_value(item['effective'])}{location}\n")
            result["diff"] = {
                "before_header": "sudo Defaults in effect",
                "after_header": "sudo Defaults wanted",
                "before": "".join(before),
                "after": "".join(f"{describe(item)} = {show_value(item['wanted'])}\n" for item in differs),
            }
    module.exit_json(**result)


if __name__ == "__main__":
    main()

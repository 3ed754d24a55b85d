#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: login_defs
short_description: Set password ageing and hashing for login.defs, useradd and every account, locking no one out
description:
  - Sets O(settings) in C(/etc/login.defs), judged as shadow's tools read the file - a line whose first non-blank
    is C(#) is a comment, the key ends at the first blank, the value starts after the blanks and double quotes
    that follow and ends at the next double quote, and a later line of a key wins over an earlier one. Numeric
    keys are compared as numbers (C(0027) is C(027); a leading C(0) is octal, C(0x) hex).
  - The file is edited in place - its comments and order are kept; the line in effect for a key is replaced, any
    other active line of the key is commented out, a missing key is appended at the end. The file is replaced
    atomically and keeps its owner and mode.
  - With O(inactive), sets C(INACTIVE) in C(/etc/default/useradd) the same way, judged as C(useradd) reads it (the
    text before the first C(=) is the key, exactly; the last line wins; an invalid value is -1).
  - With O(accounts), brings the ageing fields of C(/etc/shadow) of every account with a usable password (not
    empty, not locked with C(!), not C(*)) and a UID of at least C(UID_MIN) to C(PASS_MAX_DAYS), C(PASS_MIN_DAYS),
    C(PASS_WARN_AGE) of O(settings) and O(inactive), with C(chage), one call per account that differs. A stricter
    value of the account is kept - a smaller maximum (from 1 up), a larger minimum (not above the maximum), a
    larger warning, a smaller inactive period (from 0 up).
  - B(Lockout guard.) Before anything is written, the new ageing of each account is judged as pam_unix's account
    phase judges it today - a last change of 0, a password past its maximum or past its inactive period makes
    pam_unix refuse the login or force a password change, and a key-only SSH login without a terminal then fails.
    For an account of O(protect), the call fails naming it, the date and the ways out; any other such account
    keeps its ageing and is listed in RV(skipped_accounts) with the reason. Nobody is expired by this module.
  - A last change in the future (CIS 5.4.1.6) and an empty password field are RV(findings), never changed.
version_added: 0.4.0
extends_documentation_fragment:
  - bulwark.hardening.module
  - bulwark.hardening.rollback
attributes:
  diff_mode:
    details:
      - The before and after of each file edited, then one line of ageing fields per account that changes.
  platform:
    platforms: posix
options:
  settings:
    description:
      - login.defs keys and their values (CIS Debian 12 5.4.1.1 - 5.4.1.4 - C(PASS_MAX_DAYS), C(PASS_MIN_DAYS),
        C(PASS_WARN_AGE), C(ENCRYPT_METHOD)), and any other key of the file (C(UMASK)).
      - A value is a string or an integer. An integer for C(UMASK) or C(HOME_MODE) is written in octal (YAML reads an
        unquoted C(027) as the number 23). The ageing keys, C(UMASK), C(HOME_MODE) and the C(UID_*) keys must be
        numbers; C(ENCRYPT_METHOD) must be one shadow knows (C(YESCRYPT), C(SHA512), ...).
    type: dict
    required: true
  inactive:
    description:
      - Days after a password expires before the account is locked (CIS 5.4.1.5) - C(INACTIVE) of
        C(/etc/default/useradd) for new accounts, and the inactive field of existing accounts with O(accounts).
      - V(null) leaves both alone.
    type: int
  accounts:
    description:
      - Bring the ageing of existing accounts to the settings (see the description). V(false) leaves C(/etc/shadow)
        alone; its RV(findings) are still reported.
    type: bool
    default: true
  protect:
    description:
      - Users that must keep logging in (the SSH connection's user). New ageing that would lock one of them out
        fails the call before anything is written.
    type: list
    elements: str
    default: []
  exclude:
    description:
      - Users whose ageing is left alone (service accounts with a password), listed in RV(skipped_accounts).
    type: list
    elements: str
    default: []
  root:
    description:
      - The directory the files are read from (C(etc/login.defs), C(etc/default/useradd), C(etc/shadow),
        C(etc/passwd)); C(chage) is given C(--root) when it is not C(/). For tests; keep the default.
    type: path
    default: /
notes:
  - C(chage) writes C(/etc/shadow) (with its lock); the module never writes that file itself. After the calls it
    reads the file again and fails naming an account whose fields are not what was set.
  - Dates are days since 1970-01-01 in UTC, as in C(/etc/shadow) and pam_unix.
  - With O(rollback), the files that change (C(/etc/login.defs), C(/etc/default/useradd), C(/etc/shadow)) are saved
    and the timer armed before the first write; a password changed within the window is rolled back with the rest.
seealso:
  - name: login.defs(5)
    description: The keys of the file.
    link: https://manpages.debian.org/bookworm/login/login.defs.5.en.html
  - name: chage(1)
    description: The ageing fields of an account.
    link: https://manpages.debian.org/bookworm/passwd/chage.1.en.html
  - module: bulwark.hardening.rollback
"""

EXAMPLES = r"""
- name: Password ageing and hashing (CIS Debian 12 5.4.1.1 - 5.4.1.6), the connection's user protected
  bulwark.hardening.login_defs:
    settings:
      PASS_MAX_DAYS: 365
      PASS_MIN_DAYS: 1
      PASS_WARN_AGE: 7
      ENCRYPT_METHOD: YESCRYPT
      UMASK: "027"
    inactive: 45
    protect: ["{{ ansible_user_id }}"]
    exclude: [backup]
    rollback:
      what: password ageing

- name: Drift check
  bulwark.hardening.login_defs:
    settings: "{{ os_baseline_login_defs }}"
    inactive: 45
  check_mode: true
"""

RETURN = r"""
effective:
  description:
    - Each key of O(settings) as shadow's tools read C(/etc/login.defs) after the call (null when unset), and
      C(INACTIVE) as useradd reads it when O(inactive) is given. In check mode, the values in effect now.
  returned: success
  type: dict
  sample: {PASS_MAX_DAYS: "365", UMASK: "027", ENCRYPT_METHOD: YESCRYPT, INACTIVE: 45}
uid_min:
  description: The C(UID_MIN) that selected the accounts (1000 when the file does not set it).
  returned: success
  type: int
  sample: 1000
accounts:
  description:
    - Per account changed (in check mode, that would change), its ageing fields before and after (null for an
      empty field).
  returned: success
  type: dict
  sample:
    alice:
      before: {max: 99999, min: 0, warn: 7, inactive: null}
      after: {max: 365, min: 1, warn: 7, inactive: 45}
skipped_accounts:
  description:
    - Per account whose ageing differs but is left alone, why - excluded, not in C(/etc/passwd), or new ageing that
      would lock it out today (with the date).
    - Not C(skipped), which Ansible reserves for a skipped task.
  returned: success
  type: dict
  sample:
    bob: >-
      left as it is: new ageing would lock it out today - its password (last changed 2024-01-02) would have
      expired on 2025-01-01 with max 365 days
findings:
  description: What the accounts show that no setting fixes, each with the user, the CIS control and a message.
  returned: success
  type: list
  elements: dict
  sample: [{user: carol, control: "5.4.1.6", message: "last password change 2031-05-01 is in the future"}]
not_applicable:
  description: What could not be judged here and why - C(accounts) when there is no C(/etc/shadow). Empty normally.
  returned: success
  type: dict
  sample: {}
rollback:
  description: What is armed on the host after the call (also the fact C(bulwark_rollback)).
  returned: when something changed with O(rollback)
  type: dict
"""

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._logindefs import (
    DEFAULT_UID_MIN,
    FIELDS,
    INACTIVE_KEY,
    aging_text,
    chage_argv,
    edit_login_defs,
    edit_useradd,
    expiry_warnings,
    findings_of,
    getdef_num,
    normalize_settings,
    parse_passwd,
    parse_shadow,
    plan_accounts,
    resolve_getdef,
    resolve_useradd,
    targets_of,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import ROLLBACK_SPEC, arm_option


def today():
    """Days since 1970-01-01, UTC, as pam_unix counts them."""
    return int(time.time() // 86400)


def read_file(module, path):
    """``(text, exists)``: a missing file reads as empty."""
    try:
        text = read_text(path, None, FileNotFoundError, "surrogateescape")
    except OSError as exc:
        module.fail_json(msg=f"cannot read {path}: {exc}")
    return ("", False) if text is None else (text, True)


def write_file(path, text):
    """Replace ``path`` atomically through a hidden file beside it, with the owner and mode it has
    (a new file: root, 0644)."""
    try:
        info = os.stat(path)
        ids, mode = (info.st_uid, info.st_gid), info.st_mode & 0o7777
    except FileNotFoundError:
        ids, mode = (0, 0), 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        if (os.geteuid(), os.getegid()) != ids:
            os.chown(tmp, *ids)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def file_diff(path, before, after):
    return {"before_header": path, "after_header": path, "before": before, "after": after}


def accounts_diff(shadow, changes):
    before = "".join(aging_text(name, changes[name]["before"]) for name in sorted(changes))
    after = "".join(aging_text(name, changes[name]["after"]) for name in sorted(changes))
    header = f"{shadow} (max, min, warn, inactive days)"
    return {"before_header": header, "after_header": header, "before": before, "after": after}


def checked_params(module):
    """``(wanted, inactive)`` from the parameters, or a failure naming each bad value."""
    params = module.params
    wanted, errors = normalize_settings(params["settings"])
    if not wanted and not errors and params["inactive"] is None:
        errors.append("settings is empty and inactive is not given; nothing to do")
    if params["inactive"] is not None and params["inactive"] < -1:
        errors.append(f"inactive must be -1 (off) or more days, got {params['inactive']}")
    both = sorted(set(params["protect"]) & set(params["exclude"]))
    if both:
        errors.append(
            f"{', '.join(both)} in both protect and exclude; an excluded user is never changed, so drop it from one"
        )
    if errors:
        module.fail_json(msg="; ".join(errors))
    return wanted, params["inactive"]


def plan_users(module, paths, wanted, inactive, *, uid_min, now):
    """``(changes, skipped, findings, not_applicable)`` of the accounts; fails for a protected user."""
    params = module.params
    shadow_text, exists = read_file(module, paths["shadow"])
    if not exists:
        return {}, {}, [], {"accounts": f"no {paths['shadow']} here"}
    try:
        entries = parse_shadow(shadow_text)
    except ValueError as exc:
        module.fail_json(msg=f"{paths['shadow']}: {exc}")
    findings = findings_of(entries, now)
    targets = targets_of(wanted, inactive)
    if not params["accounts"] or not targets:
        return {}, {}, findings, {}
    uids = parse_passwd(read_file(module, paths["passwd"])[0])
    changes, skipped, refusals = plan_accounts(
        entries, uids, targets, now, uid_min=uid_min, protect=params["protect"], exclude=params["exclude"]
    )
    if refusals:
        module.fail_json(msg="; ".join(refusals), accounts=changes, skipped_accounts=skipped, findings=findings)
    for warning in expiry_warnings(entries, changes, params["protect"], now):
        module.warn(warning)
    return changes, skipped, findings, {}


def run_chage(module, root, changes, shadow):
    """One chage call per account that changes, then the fields read back from ``shadow``."""
    chage = module.get_bin_path("chage", required=True)
    done = []
    for name in sorted(changes):
        argv = chage_argv(chage, name, changes[name]["before"], changes[name]["after"], root)
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(
                msg=f"chage refused the ageing of {name}: {(err or out).strip()}", cmd=argv, changed_users=done
            )
        done.append(name)
    found = {entry["name"]: entry for entry in parse_shadow(read_file(module, shadow)[0])}
    for name in sorted(changes):
        got = {field: found.get(name, {}).get(field) for field in FIELDS}
        if got != changes[name]["after"]:
            module.fail_json(
                msg=f"{shadow}: the ageing of {name} reads back {got}, not {changes[name]['after']}", changed_users=done
            )


def main():
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "inactive": {"type": "int"},
            "accounts": {"type": "bool", "default": True},
            "protect": {"type": "list", "elements": "str", "default": []},
            "exclude": {"type": "list", "elements": "str", "default": []},
            "root": {"type": "path", "default": "/"},
            "rollback": ROLLBACK_SPEC,
        },
        supports_check_mode=True,
    )
    params = module.params
    wanted, inactive = checked_params(module)
    root = params["root"]
    paths = {
        name: os.path.join(root, relative)
        for name, relative in (
            ("login_defs", "etc/login.defs"),
            ("useradd", "etc/default/useradd"),
            ("shadow", "etc/shadow"),
            ("passwd", "etc/passwd"),
        )
    }

    # 1. The files: as they are, and as they will be.
    defs_before = read_file(module, paths["login_defs"])[0]
    defs_after = edit_login_defs(defs_before, wanted) if wanted else defs_before
    resolved = resolve_getdef(defs_after)
    useradd_before = read_file(module, paths["useradd"])[0] if inactive is not None else ""
    useradd_after = edit_useradd(useradd_before, inactive) if inactive is not None else useradd_before
    uid_min = getdef_num(resolved.get("UID_MIN"), DEFAULT_UID_MIN)

    # 2. The accounts, and the guard: a protected user new ageing would lock out fails the call here.
    now = today()
    changes, skipped, findings, not_applicable = plan_users(module, paths, wanted, inactive, uid_min=uid_min, now=now)

    changed_files = [
        path
        for path, before, after in (
            (paths["login_defs"], defs_before, defs_after),
            (paths["useradd"], useradd_before, useradd_after),
        )
        if before != after
    ]
    changed = bool(changed_files or changes)
    result = {
        "changed": changed,
        "uid_min": uid_min,
        "accounts": changes,
        "skipped_accounts": skipped,
        "findings": findings,
        "not_applicable": not_applicable,
    }

    # 3. Act outside check mode: the rollback armed first, then the files, then the accounts.
    if changed and not module.check_mode:
        arm_option(
            module,
            params["rollback"],
            changed_files + ([paths["shadow"]] if changes else []),
            "password ageing",
            result,
        )
        for path, text in ((paths["login_defs"], defs_after), (paths["useradd"], useradd_after)):
            if path in changed_files:
                try:
                    write_file(path, text)
                except OSError as exc:
                    module.fail_json(msg=f"cannot write {path}: {exc}", **result)
        if changes:
            run_chage(module, root, changes, paths["shadow"])

    shown_defs = resolve_getdef(defs_before if module.check_mode else defs_after)
    result["effective"] = {key: shown_defs.get(key) for key in wanted}
    if inactive is not None:
        result["effective"][INACTIVE_KEY] = resolve_useradd(useradd_before if module.check_mode else useradd_after)
    if module._diff and changed:
        diffs = [
            file_diff(path, before, after)
            for path, before, after in (
                (paths["login_defs"], defs_before, defs_after),
                (paths["useradd"], useradd_before, useradd_after),
            )
            if before != after
        ]
        if changes:
            diffs.append(accounts_diff(paths["shadow"], changes))
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()

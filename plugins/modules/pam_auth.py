#!/usr/bin/python
# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pam_auth
short_description: Lockout, password quality and history, pam_unix - through pam-auth-update, judged on the live stacks
description:
  - Sets pam_faillock, pam_pwquality, pam_pwhistory and pam_unix as CIS Debian 12 and 13 (5.3) want them, in one
    call, through Debian's own mechanism - profiles in C(/usr/share/pam-configs) that C(pam-auth-update) merges
    into C(/etc/pam.d/common-*). It never edits C(/etc/pam.d) itself and never runs C(pam-auth-update --force).
  - O(faillock) goes to C(/etc/security/faillock.conf) (edited in place, comments kept) and two profiles, the ones
    CIS describes - C(bulwark-faillock-notify) (Priority 1024, above pam_unix - C(auth requisite pam_faillock.so
    preauth) and C(account required pam_faillock.so)) and C(bulwark-faillock) (Priority 0, below pam_unix - C(auth
    [default=die] pam_faillock.so authfail), which pam_unix's success jump skips).
  - O(pwquality) goes to C(/etc/security/pwquality.conf) (edited in place, comments kept) and Debian's own
    C(pwquality) profile (package libpam-pwquality, which the module never installs) is enabled. libpwquality 1.4.5
    (Debian 12 and 13) reads the C(*.conf) files of C(pwquality.conf.d) first, in the order of their names, and
    C(pwquality.conf) last - so the values there win over every drop-in (and auditors' checks read that file). The
    drop-in C(pwquality.conf.d/50-bulwark-hardening.conf) that earlier versions wrote is removed.
  - O(pwhistory) goes on the line of the profile C(bulwark-pwhistory) (Priority 1024, after pwquality, before
    pam_unix, with C(use_authtok)), because pam_pwhistory before Linux-PAM 1.5.3 (Debian 12's 1.5.2) reads no
    settings file; where C(/etc/security/pwhistory.conf) exists (Linux-PAM 1.5.3 and later, Debian 13) it is
    edited to the same values, so that both say the same.
  - O(unix) replaces Debian's C(unix) profile by C(bulwark-unix) - Debian's own profile as this host has it, with
    C(nullok) dropped, the hash chosen, no C(remember=) and C(use_authtok) on its password line - enabled with
    C(pam-auth-update --enable bulwark-unix --disable unix) (the profile also names C(unix) in its C(Conflicts)
    field). Editing C(/usr/share/pam-configs/unix) would be undone by the next libpam-runtime upgrade, and options
    edited by hand in C(/etc/pam.d) are hand edits. Debian's later changes to its unix profile reach
    C(bulwark-unix) at the next run of this module.
  - Judges what is in effect, resolved as libpam resolves it - the live C(common-auth), C(common-account) and
    C(common-password) parsed, each module in its stack and in order (faillock preauth before pam_unix, authfail
    after it and skipped by pam_unix's success jump; pwquality, then pwhistory, then pam_unix), and each module's
    values - its settings files in reading order, then the arguments on its line, which win. The services C(sshd),
    C(sudo), C(su), C(login), C(passwd) and C(chpasswd) (those present) must include the common files. Every
    difference is a sentence of RV(drift) naming the file and line.
  - Before it writes, the module computes what C(pam-auth-update) will write, as it does - the profiles enabled
    (those in the live block, C(--enable), C(--disable), a C(Default - yes) profile never seen, C(Conflicts)), in
    Priority order, the managed block rebuilt, options changed by hand on a line kept, a line deleted by hand read
    as its profile disabled. A line added or moved by hand inside the managed block makes C(pam-auth-update) refuse
    to write any common file without C(--force) (it exits 0 and says so on stderr) - when C(pam-auth-update) must
    run, the module fails naming the file and line. A hand edit that C(pam-auth-update) would keep against the
    wanted state (C(nullok) put back, C(deny=100) or C(minlen=8) on a module's line, which wins over its settings
    file) fails the call too, naming the line - before anything is written. In check mode these are sentences of
    RV(drift) instead.
  - O(su_group) restricts C(su) to the members of a group (CIS Debian 12 and 13 5.2.7) - C(auth required
    pam_wheel.so use_uid group=...) in C(/etc/pam.d/su), the one file of C(/etc/pam.d) this module edits (no profile
    of C(pam-auth-update) covers it). The line replaces an active pam_wheel line, else Debian's commented one,
    else goes right after C(pam_rootok) (root keeps its C(su)); it must come before every other C(auth) line and
    include. The group is created (C(groupadd --system)) where missing and is meant to stay empty; members are
    drift, never removed.
  - The lockout guard runs before anything is written - see O(protect) and O(become_method).
  - Then writes the files, arms O(rollback) (before the first write, only when something changes), runs
    C(pam-auth-update) (an argument list, C(DEBIAN_FRONTEND=noninteractive)), reads the stacks again and fails if
    the wanted state is still not in effect, naming what.
version_added: 0.4.0
extends_documentation_fragment:
  - bulwark.hardening.module
  - bulwark.hardening.rollback
attributes:
  diff_mode:
    details:
      - The before and after of each settings file and profile written, then of each C(/etc/pam.d/common-*) file as
        C(pam-auth-update) will write it.
  platform:
    platforms: debian
options:
  faillock:
    description:
      - pam_faillock settings (C(deny), C(unlock_time), C(fail_interval), C(even_deny_root), C(root_unlock_time),
        C(audit), C(silent)...) - a number or word, or a boolean for a flag (V(true) writes the bare flag, V(false)
        comments it out). V(null) leaves faillock alone.
    type: dict
  pwquality:
    description:
      - libpwquality settings (C(minlen), C(difok), C(maxrepeat), C(maxsequence), C(dictcheck), C(enforcing),
        C(enforce_for_root)...) as for O(faillock). V(null) leaves pwquality alone.
    type: dict
  pwhistory:
    description:
      - pam_pwhistory settings - C(remember), C(enforce_for_root) (a flag), C(use_authtok) (a flag on the line,
        V(true) unless given V(false)). V(null) leaves pwhistory alone.
    type: dict
  unix:
    description:
      - pam_unix, through the C(bulwark-unix) profile (see the description). V(null) leaves Debian's C(unix) alone.
    type: dict
    suboptions:
      nullok:
        description: Keep C(nullok) (an account with an empty password logs in). CIS wants V(false).
        type: bool
        default: false
      hashing:
        description: The hash of new passwords.
        type: str
        choices: [yescrypt, sha512]
        default: yescrypt
  su_group:
    description:
      - Restrict C(su) to the members of this group (meant to be empty), or leave C(/etc/pam.d/su) alone (V(null)).
    type: str
  become_method:
    description:
      - How the connection becomes root (the role passes C(ansible_become_method)). V(su) or V(ansible.builtin.su)
        with O(su_group) set fails the call before anything is written - the next connection's C(become) would be
        refused.
    type: str
    default: sudo
  protect:
    description:
      - Users that the change must not lock out (the role passes the SSH connection's admin).
      - A C(faillock) with C(unlock_time=0) (locked until an admin runs C(faillock --reset)) fails the call while a
        protected user's sudo asks a password; with C(unlock_time) above 0 the module warns how long such a user's
        sudo would stay locked.
      - C(unix.nullok=false) fails the call while a protected user has an empty password in C(/etc/shadow).
    type: list
    elements: dict
    default: []
    suboptions:
      user:
        description: The user name.
        type: str
        required: true
      sudo_needs_password:
        description:
          - Whether the user's sudo asks a password. Unset - the module asks C(sudo -n -l -U user) (a rule without
            C(NOPASSWD) asks one; a user sudo lets run nothing, or a host without sudo, asks none).
        type: bool
  root:
    description: The root of the file tree (a copy of a host, for tests); C(pam-auth-update) gets C(--root) then.
    type: path
    default: /
notes:
  - pam_faillock counts the failures of every service that includes C(common-auth) - sudo too.
  - The module installs nothing - the role installs libpam-pwquality; a missing C(pwquality) profile fails the call.
  - The C(conf=) argument of pam_faillock and pam_pwhistory (another settings file) is not followed.
seealso:
  - name: pam-auth-update(8)
    description: Debian's profiles and how they are merged.
    link: https://manpages.debian.org/bookworm/libpam-runtime/pam-auth-update.8.en.html
  - module: bulwark.hardening.rollback
"""

EXAMPLES = r"""
- name: PAM as CIS Debian 12 5.3 wants it, commit-confirmed
  bulwark.hardening.pam_auth:
    faillock: {deny: 5, unlock_time: 900, fail_interval: 900}
    pwquality: {minlen: 14, difok: 2, maxrepeat: 3, maxsequence: 3, dictcheck: 1, enforcing: 1, enforce_for_root: true}
    pwhistory: {remember: 24, enforce_for_root: true}
    unix: {nullok: false, hashing: yescrypt}
    protect:
      - user: "{{ ansible_user_id }}"
    rollback:
      what: PAM stacks

- name: Drift check
  bulwark.hardening.pam_auth:
    faillock: {deny: 5, unlock_time: 900}
  check_mode: true
  register: pam
"""

RETURN = r"""
effective:
  description:
    - What is in effect after the call, per managed option - the line judged (C(file:line)) and its values (settings
      files, then the line's arguments), or for C(unix) the arguments of each pam_unix line.
  returned: success
  type: dict
  sample: {faillock: {preauth: {line: /etc/pam.d/common-auth:17, values: {deny: "5", unlock_time: "900"}}}}
drift:
  description: Each difference from the wanted state before the call, a sentence naming the file and line.
  returned: success
  type: list
  elements: str
  sample: ["/etc/pam.d/common-auth:17: pam_unix.so has nullok (an empty password logs in)"]
not_applicable:
  description:
    - Per managed option, why it cannot apply here - every one when C(/etc/pam.d/common-auth) does not exist (no
      PAM stack to judge). Empty otherwise.
  returned: success
  type: dict
  sample: {}
enabled:
  description: The pam-auth-update profiles enabled after the call (in check mode, that would be).
  returned: success
  type: list
  elements: str
  sample: [pwquality, bulwark-pwhistory, bulwark-faillock-notify, bulwark-unix, systemd, bulwark-faillock]
written:
  description: The files written (in check mode, that would be), C(/etc/pam.d/common-*) included.
  returned: success
  type: list
  elements: str
rollback:
  description: What is armed on the host after the call (also the fact C(bulwark_rollback)).
  returned: when something changed and O(rollback) was given
  type: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._pam import (
    DEFAULTS,
    JUDGED,
    TYPES,
    edit_settings,
    empty_password_users,
    enabled_after,
    faillock_profiles,
    guard,
    hand_edits,
    includes,
    judge_faillock,
    judge_order,
    judge_password_module,
    judge_unix,
    normalize_settings,
    parse_profile,
    parse_settings,
    parse_stack,
    pwhistory_profile,
    render_common,
    su_edit,
    su_group_state,
    su_judge,
    sudo_needs_password,
    unix_profile,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._rollback import ROLLBACK_SPEC, arm_option

OPTIONS = ("faillock", "pwquality", "pwhistory", "unix")
PWQUALITY_CONF = "etc/security/pwquality.conf"
# Where earlier versions wrote the pwquality settings; removed when found.
PWQUALITY_DROPIN = "etc/security/pwquality.conf.d/50-bulwark-hardening.conf"
# The services whose stacks must take the common files, and which.
SERVICES = {
    "sshd": ("auth", "account", "password"),
    "sudo": ("auth", "account"),
    "su": ("auth", "account"),
    "login": ("auth", "account", "password"),
    "passwd": ("password",),
    "chpasswd": ("password",),
}
PASSWORD_MODULES = {"pwquality": "pam_pwquality.so", "pwhistory": "pam_pwhistory.so", "unix": "pam_unix.so"}
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}


class Host:
    """The paths of one file tree (``root``)."""

    def __init__(self, root):
        self.root = root

    def path(self, relative):
        return os.path.join(self.root, relative)

    def common(self, kind):
        return self.path(f"etc/pam.d/common-{kind}")

    def saved(self, kind):
        return self.path(f"var/lib/pam/{kind}")

    def profile(self, name):
        return self.path(f"usr/share/pam-configs/{name}")

    def read(self, path, default=""):
        return read_text(path, default, OSError, "surrogateescape")


def read_profiles(host, replaced):
    """Every profile pam-auth-update will read, as it names them, ours replaced by ``replaced``."""
    directory = host.path("usr/share/pam-configs")
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    # pam-auth-update skips only backups (name~) and editor files (#name#); a dot file is a profile to it.
    texts = {name: host.read(os.path.join(directory, name)) for name in names
             if not name.endswith("~") and not (name.startswith("#") and name.endswith("#") and len(name) > 2)
             and os.path.isfile(os.path.join(directory, name))}  # fmt: skip
    texts.update(replaced)
    return texts, {name: parse_profile(text) for name, text in texts.items()}


def pwquality_layers(host, conf_texts):
    """libpwquality's reading order: pwquality.conf.d/*.conf by name, then pwquality.conf; a path of
    ``conf_texts`` is read as that text (None: removed), the others from disk."""
    directory = host.path("etc/security/pwquality.conf.d")
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(".conf"))
    except OSError:
        names = []
    layers = []
    for path in [os.path.join(directory, name) for name in names] + [host.path(PWQUALITY_CONF)]:
        text = conf_texts[path] if path in conf_texts else host.read(path)
        if text is not None:
            layers.append((path, parse_settings(text)))
    return layers


def judge(host, wanted, common_texts, conf_texts):
    """``(drift, effective)`` of the stacks in ``common_texts`` with the settings files of
    ``conf_texts`` (a path's text, else the file on disk)."""

    def text(path):
        return conf_texts[path] if path in conf_texts else host.read(path)

    paths = {kind: host.common(kind) for kind in JUDGED}
    stacks = {kind: parse_stack(common_texts[kind]) for kind in JUDGED}
    drift, effective = [], {}
    if wanted["faillock"] is not None:
        conf = host.path("etc/security/faillock.conf")
        found, effective["faillock"] = judge_faillock(
            stacks["auth"], stacks["account"], paths, [(conf, parse_settings(text(conf)))], wanted["faillock"]
        )
        drift += found
    if wanted["pwquality"] is not None:
        found, effective["pwquality"] = judge_password_module(
            stacks["password"], paths["password"], "pam_pwquality.so",
            pwquality_layers(host, conf_texts), wanted=wanted["pwquality"], defaults=DEFAULTS["pwquality"],
        )  # fmt: skip
        drift += found
    if wanted["pwhistory"] is not None:
        conf = host.path("etc/security/pwhistory.conf")
        layers = [(conf, parse_settings(text(conf)))] if conf in conf_texts or os.path.exists(conf) else []
        found, effective["pwhistory"] = judge_password_module(
            stacks["password"], paths["password"], "pam_pwhistory.so", layers,
            wanted={"use_authtok": True, **wanted["pwhistory"]}, defaults=DEFAULTS["pwhistory"],
        )  # fmt: skip
        drift += found
    if wanted["unix"] is not None:
        found, effective["unix"] = judge_unix(stacks, paths, wanted["unix"])
        drift += found
    order = [PASSWORD_MODULES[option] for option in ("pwquality", "pwhistory", "unix") if wanted[option] is not None]
    drift += judge_order(stacks["password"], paths["password"], order)
    for service, kinds in SERVICES.items():
        path = host.path(f"etc/pam.d/{service}")
        if not os.path.exists(path):
            continue
        stack = parse_stack(host.read(path))
        drift += [f"{path}: does not include common-{kind}" for kind in kinds if not includes(stack, kind)]
    return drift, effective


def wanted_options(module):
    """The options as data: ``{option: settings or None}``; a failure names the bad value."""
    params, wanted, errors = module.params, {}, []
    for name in ("faillock", "pwquality", "pwhistory"):
        if params[name] is None:
            wanted[name] = None
            continue
        try:
            wanted[name] = normalize_settings(name, params[name])
        except ValueError as exc:
            errors.append(str(exc))
    if params["pwhistory"] is not None and "use_authtok" in wanted.get("pwhistory", {}):
        if wanted["pwhistory"]["use_authtok"] is not True:
            errors.append("pwhistory: use_authtok must stay true (CIS 5.3.3.3.3), or be left out")
    unix = params["unix"]
    wanted["unix"] = None if unix is None else {"nullok": unix["nullok"], "hashing": unix["hashing"]}
    if errors:
        module.fail_json(msg="; ".join(errors))
    return wanted


# The profile of Debian's libpam-pwquality (Debian 12 and 13), for check mode on a host without it.
DEBIAN_PWQUALITY_PROFILE = """Name: Pwquality password strength checking
Default: yes
Priority: 1024
Conflicts: cracklib
Password-Type: Primary
Password:
\trequisite\t\t\tpam_pwquality.so retry=3
"""


def planned_files(module, host, wanted):
    """``({path: new text}, enable, disable)``: the files to write (those that differ or not) and the
    profiles to enable and disable."""
    files, enable, disable = {}, [], []
    if wanted["faillock"] is not None:
        conf = host.path("etc/security/faillock.conf")
        files[conf] = edit_settings(host.read(conf), wanted["faillock"])
        for name, text in faillock_profiles().items():
            files[host.profile(name)] = text
            enable.append(name)
    if wanted["pwquality"] is not None:
        if not os.path.exists(host.profile("pwquality")):
            if not module.check_mode:
                module.fail_json(
                    msg=f"pwquality is wanted but Debian's profile {host.profile('pwquality')} is missing: "
                    "install libpam-pwquality first (this module installs nothing)"
                )
            # Check mode on a host without the package (the role installs it before the real call): judged
            # with the profile libpam-pwquality installs, and the package named in the drift.
            files[host.profile("pwquality")] = DEBIAN_PWQUALITY_PROFILE
        conf = host.path(PWQUALITY_CONF)
        files[conf] = edit_settings(host.read(conf), wanted["pwquality"])
        if os.path.lexists(host.path(PWQUALITY_DROPIN)):
            files[host.path(PWQUALITY_DROPIN)] = None  # an earlier release's drop-in: pwquality.conf holds the values
        enable.append("pwquality")
    if wanted["pwhistory"] is not None:
        files[host.profile("bulwark-pwhistory")] = pwhistory_profile(wanted["pwhistory"])
        enable.append("bulwark-pwhistory")
        conf = host.path("etc/security/pwhistory.conf")
        if os.path.exists(conf):
            settings = {key: value for key, value in wanted["pwhistory"].items() if key != "use_authtok"}
            files[conf] = edit_settings(host.read(conf), settings)
    if wanted["unix"] is not None:
        debian = host.profile("unix")
        if not os.path.exists(debian):
            module.fail_json(msg=f"unix is wanted but Debian's profile {debian} is missing (package libpam-runtime)")
        files[host.profile("bulwark-unix")] = unix_profile(
            host.read(debian), wanted["unix"]["nullok"], wanted["unix"]["hashing"]
        )
        enable.append("bulwark-unix")
        disable.append("unix")
    return files, enable, disable


def simulate(host, files, enable, disable):
    """What pam-auth-update will do: ``(enabled, {kind: new common text or None}, refusals, edits)``."""
    replaced = {os.path.basename(path): text for path, text in files.items()
                if os.path.dirname(path) == host.path("usr/share/pam-configs")}  # fmt: skip
    _texts, profiles = read_profiles(host, replaced)
    seen = host.read(host.path("var/lib/pam/seen")).split()
    current, refusals, edits = [], [], {}
    for kind in TYPES:
        live = host.read(host.common(kind))
        refusal, edits[kind], modules = hand_edits(live, host.read(host.saved(kind)), kind)
        if not os.path.exists(host.saved(kind)):
            refusals.append(f"{host.common(kind)}: {host.saved(kind)} is missing (pam-auth-update never wrote it)")
        elif refusal:
            refusals.append(f"{host.common(kind)}:{refusal[0]}: {refusal[1]!r}")
        current += [name for name in modules if name not in current]
    enabled = enabled_after(profiles, current, seen, enable, disable)
    rendered = {
        kind: render_common(host.read(host.common(kind)), profiles, enabled, kind, edits[kind]) for kind in TYPES
    }
    return enabled, rendered, refusals, edits, profiles


def kept_edits(host, edits):
    """Sentences for each option edited by hand that pam-auth-update keeps."""
    out = []
    for kind, found in edits.items():
        for key, edit in found.items():
            what = [f"+{opt}" for opt in sorted(edit["add"])] + [f"-{opt}" for opt in sorted(edit["remove"])]
            out.append(f"{host.common(kind)}:{edit['line']}: {' '.join(key.split())} edited by hand ({' '.join(what)})")
    return out


def sudo_answers(module, protect):
    """Each protected user with ``sudo_needs_password`` filled in (from ``sudo -n -l -U``)."""
    sudo = module.get_bin_path("sudo")
    out = []
    for given in protect:
        item = dict(given)
        if item.get("sudo_needs_password") is None and item["user"] == "root":
            item["sudo_needs_password"] = False  # sudo never asks root for a password
        if item.get("sudo_needs_password") is None:
            if not sudo:
                item["sudo_needs_password"] = False
            else:
                rc, stdout, stderr = module.run_command([sudo, "-n", "-l", "-U", item["user"]], environ_update=C_LOCALE)
                if rc != 0 and "unknown user" in (stderr + stdout):
                    module.warn(f"protect: user {item['user']} does not exist")
                    item["sudo_needs_password"] = False
                elif rc != 0:
                    # Cannot tell: assume the worst, the guard is there to fail safe.
                    module.warn(f"sudo -l -U {item['user']} failed (rc {rc}); assuming its sudo asks a password")
                    item["sudo_needs_password"] = True
                else:
                    item["sudo_needs_password"] = sudo_needs_password(stdout)
        out.append(item)
    return out


def faillock_after(host, files, wanted):
    """The faillock settings in effect after the change (faillock.conf as it will be)."""
    if wanted["faillock"] is None:
        return None
    conf = host.path("etc/security/faillock.conf")
    settings = parse_settings(files.get(conf, host.read(conf)))
    return {key: value for key, (value, _number) in settings.items()}


def write_file(path, text):
    """Write ``path`` through a hidden temporary file beside it (pam-auth-update skips no dot name, so
    the temporary file lives only inside this call), mode 0644."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_pam_auth_update(module, host, enable, disable):
    binary = module.get_bin_path("pam-auth-update")
    if not binary:
        module.fail_json(msg="pam-auth-update not found (package libpam-runtime)")
    argv = [binary, "--package"]
    if host.root not in ("/", ""):
        argv += ["--root", host.root.rstrip("/")]
    if enable:
        argv += ["--enable", *enable]
    if disable:
        argv += ["--disable", *disable]
    rc, out, err = module.run_command(argv, environ_update={"DEBIAN_FRONTEND": "noninteractive", **C_LOCALE})
    if rc != 0:
        module.fail_json(msg=f"pam-auth-update failed (rc {rc}): {(err or out).strip()}", cmd=argv)
    if "Local modifications" in err + out:
        module.fail_json(
            msg="pam-auth-update refused: local modifications to /etc/pam.d/common-*; undo them "
            "(this module never runs pam-auth-update --force)",
            cmd=argv,
            stderr=err,
        )
    return argv


def plan(module, host, wanted):
    """The live state judged, the files as they will be and what pam-auth-update will make of them.

    Fails (outside check mode; in check mode, says so in the drift) when the wanted state would
    not be in effect afterwards: pam-auth-update refuses to write over a line added by hand, keeps
    an option edited by hand, or another file overrides ours.
    """
    live = {kind: host.read(host.common(kind)) for kind in TYPES}
    drift, effective = judge(host, wanted, live, {})
    if wanted["pwquality"] is not None and not os.path.exists(host.profile("pwquality")):
        drift.append(f"libpam-pwquality is not installed: its profile {host.profile('pwquality')} is missing")
    files, enable, disable = planned_files(module, host, wanted)
    before = {path: host.read(path, None) for path in files}
    enabled, rendered, refusals, edits, _profiles = simulate(host, files, enable, disable)
    if refusals:
        rendered = dict.fromkeys(TYPES)  # pam-auth-update writes no common file then
    changed_files = [path for path in files if before[path] != files[path]]
    profiles_dir = host.path("usr/share/pam-configs")
    step = {
        "live": live, "drift": drift, "effective": effective, "files": files, "enable": enable, "disable": disable,
        "before": before, "enabled": enabled, "rendered": rendered, "changed_files": changed_files,
        "changed_common": [kind for kind in TYPES if rendered[kind] is not None and rendered[kind] != live[kind]],
        "profiles_changed": any(os.path.dirname(path) == profiles_dir for path in changed_files),
    }  # fmt: skip
    expected = {kind: rendered[kind] if rendered[kind] is not None else live[kind] for kind in TYPES}
    still = judge(host, wanted, expected, files)[0]
    messages = []
    if refusals and (step["profiles_changed"] or still):
        messages.append(
            f"pam-auth-update refuses to write while a line added or moved by hand is in its block, at "
            f"{'; '.join(refusals)}: undo it (this module never runs pam-auth-update --force)"
        )
    if still:
        kept = kept_edits(host, edits)
        messages.append(
            "after pam-auth-update the wanted state would still not be in effect: "
            + "; ".join(still)
            + (". pam-auth-update keeps these hand edits: " + "; ".join(kept) if kept else "")
        )
    if messages and not module.check_mode:
        module.fail_json(msg="; ".join(messages), drift=drift)
    drift.extend(messages)
    return step


def plan_su(module, host):
    """What /etc/pam.d/su and the su group need (CIS 5.2.7): ``{path, before, after, group_missing, drift}`` or
    None when su is left alone; no /etc/pam.d/su (su not installed) is not applicable."""
    group = module.params["su_group"]
    if group is None:
        return None
    if not group or any(char in group for char in ":,\n \t") or group.startswith("-"):
        module.fail_json(msg=f"su_group: {group!r} is not a group name")
    path = host.path("etc/pam.d/su")
    before = host.read(path, None)
    if before is None:
        return {"path": path, "not_applicable": f"{path} does not exist (su is not installed)"}
    exists, members = su_group_state(group, host.read(host.path("etc/group")), host.read(host.path("etc/passwd")))
    drift = su_judge(before, group)
    after = su_edit(before, group) if drift else before
    if drift and su_judge(after, group):
        module.fail_json(msg=f"{path}: cannot place the pam_wheel line before the first other auth line: "
                         + "; ".join(su_judge(after, group)))  # fmt: skip
    if not exists:
        drift.append(f"the group {group} that su is restricted to does not exist")
    if members:
        drift.append(f"the group {group} that su is restricted to has members ({', '.join(members)}); CIS 5.2.7 "
                     "wants it empty (they may use su, with root's password)")  # fmt: skip
    return {"path": path, "before": before, "after": after, "group_missing": not exists, "drift": drift,
            "members": members}  # fmt: skip


def run_guard(module, host, wanted, files):
    """The lockout guard: fails naming the user, warns how long a lock lasts."""
    params = module.params
    if wanted["faillock"] is None and wanted["unix"] is None:
        return
    protect = sudo_answers(module, params["protect"]) if wanted["faillock"] is not None else params["protect"]
    users = [item["user"] for item in params["protect"]]
    empty = empty_password_users(host.read(host.path("etc/shadow")), users) if wanted["unix"] is not None else []
    errors, warnings = guard(faillock_after(host, files, wanted), wanted["unix"], protect, empty)
    for warning in warnings:
        module.warn(warning)
    if errors:
        module.fail_json(msg="lockout guard: " + "; ".join(errors))


def diffs_of(host, step):
    diffs = [{"before_header": path, "after_header": path, "before": step["before"][path] or "",
              "after": step["files"][path] or ""} for path in step["changed_files"]]  # fmt: skip
    diffs += [{"before_header": host.common(kind), "after_header": host.common(kind), "before": step["live"][kind],
               "after": step["rendered"][kind]} for kind in step["changed_common"]]  # fmt: skip
    su = step.get("su")
    if su is not None and su["after"] != su["before"]:
        diffs.append({"before_header": su["path"], "after_header": su["path"], "before": su["before"],
                      "after": su["after"]})  # fmt: skip
    return diffs


def apply(module, host, wanted, step, result):
    """Rollback first, then our files, pam-auth-update, su, and the judgement again."""
    su = step.get("su")
    armed = [host.common(kind) for kind in TYPES] + [host.saved(kind) for kind in TYPES]
    armed += [host.path("var/lib/pam/seen"), *step["files"], host.path("etc/pam.d/su")]
    arm_option(module, module.params["rollback"], armed, "PAM stacks", result)
    if su is not None and su["group_missing"]:
        # An empty group cannot lock anybody out: it is not part of the rollback.
        argv = [module.get_bin_path("groupadd", required=True), "--system", module.params["su_group"]]
        if host.root not in ("/", ""):
            argv[1:1] = ["--prefix", host.root]
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg=f"groupadd failed (rc {rc}): {(err or out).strip()}", cmd=argv, **result)
    if su is not None and su["after"] != su["before"]:
        try:
            write_file(su["path"], su["after"])
        except OSError as exc:
            module.fail_json(msg=f"cannot write {su['path']}: {exc}", **result)
    for path in step["changed_files"]:
        try:
            if step["files"][path] is None:
                os.unlink(path)
            else:
                write_file(path, step["files"][path])
        except OSError as exc:
            module.fail_json(msg=f"cannot write {path}: {exc}", written=step["changed_files"])
    if step["changed_common"] or step["profiles_changed"]:
        result["cmd"] = run_pam_auth_update(module, host, step["enable"], step["disable"])
    after = {kind: host.read(host.common(kind)) for kind in TYPES}
    still, result["effective"] = judge(host, wanted, after, {})
    if still:
        module.fail_json(msg="after pam-auth-update the wanted state is still not in effect: " + "; ".join(still),
                         **result)  # fmt: skip


def main():
    module = AnsibleModule(
        argument_spec={
            "faillock": {"type": "dict"},
            "pwquality": {"type": "dict"},
            "pwhistory": {"type": "dict"},
            "unix": {
                "type": "dict",
                "options": {
                    "nullok": {"type": "bool", "default": False},
                    "hashing": {"type": "str", "choices": ["yescrypt", "sha512"], "default": "yescrypt"},
                },
            },
            "su_group": {"type": "str"},
            "become_method": {"type": "str", "default": "sudo"},
            "protect": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {"user": {"type": "str", "required": True}, "sudo_needs_password": {"type": "bool"}},
            },
            "root": {"type": "path", "default": "/"},
            "rollback": ROLLBACK_SPEC,
        },
        supports_check_mode=True,
    )
    host = Host(module.params["root"])
    wanted = wanted_options(module)
    result = {"changed": False, "effective": {}, "drift": [], "not_applicable": {}, "enabled": [], "written": []}

    # No PAM stack to judge: nothing applies.
    if not os.path.exists(host.common("auth")):
        reason = f"{host.common('auth')} does not exist (no PAM here)"
        result["not_applicable"] = {name: reason for name in OPTIONS if wanted[name] is not None}
        module.exit_json(**result)

    # Compute and compare; the guards before anything is written; act outside check mode.
    step = plan(module, host, wanted)
    su = plan_su(module, host)
    if su is not None and "not_applicable" in su:
        result["not_applicable"]["su"] = su["not_applicable"]
        su = None
    # Only a change can cut the su connection off: a host already restricted lets in only a member.
    if (
        su is not None
        and module.params["become_method"].rsplit(".", 1)[-1] == "su"
        and (su["after"] != su["before"] or su["group_missing"])
    ):
        module.fail_json(
            msg=f"lockout guard: this connection becomes root with su (become_method su); restricting su to the "
            f"group {module.params['su_group']} would refuse the next login's become. Become root with sudo, or "
            "leave su alone (su_group: null)"
        )
    run_guard(module, host, wanted, step["files"])
    step["su"] = su
    if su is not None:
        step["drift"].extend(su["drift"])
    su_write = su is not None and su["after"] != su["before"]
    su_change = su_write or (su is not None and su["group_missing"])
    will_change = bool(step["changed_files"] or step["changed_common"] or su_change)
    result.update(
        changed=bool(will_change or step["drift"]),
        drift=step["drift"],
        effective=step["effective"],
        enabled=step["enabled"],
        written=step["changed_files"]
        + [host.common(kind) for kind in step["changed_common"]]
        + ([su["path"]] if su_write else []),
    )
    if su is not None and su["members"] and not module.check_mode:
        module.warn(su["drift"][-1])
    if module._diff and result["written"]:
        result["diff"] = diffs_of(host, step)
    if will_change and not module.check_mode:
        apply(module, host, wanted, step, result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

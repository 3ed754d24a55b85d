# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apt_updates
short_description: Report pending package upgrades, security ones, reboots and unattended-upgrades runs
version_added: 0.2.0
description:
  - Read-only probe of a Debian host's patch state. It never changes anything and always
    returns C(changed=false); a playbook decides what is drift (for example
    RV(security_pending) above zero).
  - Reads apt's package cache with python3-apt (the lists as the last C(apt update) left
    them; the module does not refresh them) and lists every installed package whose
    candidate version is newer than the installed one, with the origins (Release file
    fields) that provide it.
  - An upgrade counts as a security upgrade when a newer version than the installed one
    comes from an origin matching O(security_origins). It counts as allowed when its
    candidate comes from an origin that the effective C(Unattended-Upgrade::Origins-Pattern)
    (or legacy C(Allowed-Origins)) list of apt's configuration matches, that is when
    unattended-upgrades would install it.
  - Compares O(settings) with apt's merged configuration and names, for each that differs, the file
    that set the value in force (RV(settings_drift)).
  - Reports whether a reboot is required (C(/run/reboot-required) and the packages in
    C(/run/reboot-required.pkgs)) and when unattended-upgrades last ran and last ran
    successfully, from its log.
requirements:
  - python3-apt on the managed host
extends_documentation_fragment:
  - bulwark.hardening.module.read_only
attributes:
  diff_mode:
    support: full
    details:
      - Nothing is changed; the O(settings) that apt's merged configuration does not hold are returned
        as a diff (values in force before, declared values after).
options:
  security_origins:
    description:
      - Origin patterns, in the syntax of C(Unattended-Upgrade::Origins-Pattern)
        (C(origin=Debian,codename=${distro_codename}-security,label=Debian-Security)),
        that mark an upgrade as a security upgrade.
      - Keys C(origin) (C(o)), C(label) (C(l)), C(archive) (C(a), C(suite)), C(codename) (C(n)),
        C(component) (C(c)) and C(site); values may hold shell-style wildcards; C(${distro_id})
        and C(${distro_codename}) are substituted from C(/etc/os-release); a comma inside a value
        is written C(\,).
    type: list
    elements: str
    default: ["origin=Debian,codename=${distro_codename}-security,label=Debian-Security"]
  log:
    description:
      - The unattended-upgrades log. The file and its first rotation (C(.1)) are read.
    type: path
    default: /var/log/unattended-upgrades/unattended-upgrades.log
  reboot_required_file:
    description:
      - The flag file Debian packages create when the host needs a reboot.
      - The packages that asked for it are read from this path plus C(.pkgs).
    type: path
    default: /run/reboot-required
  settings:
    description:
      - apt configuration settings to compare with apt's merged configuration (every file in
        C(Dir::Etc::parts), then C(Dir::Etc::main), as apt reads them); each one that differs is
        returned in RV(settings_drift) with the file that set the value in force.
      - Booleans compare as apt reads them (C(yes) is C(true)), integers as integers, lists as lists.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The setting, e.g. C(APT::Periodic::Unattended-Upgrade).
        type: str
        required: true
      value:
        description:
          - The declared value, a string or a list of strings (a list option such as
            C(Unattended-Upgrade::Package-Blacklist)).
        type: raw
        required: true
      variable:
        description: The variable the value comes from, named in RV(settings_drift).
        type: str
      contains:
        description:
          - For a list, whether apt's merged list need only hold every item of O(settings[].value), in any
            order, beside others (a C(DPkg::Pre-Invoke) hook among other packages' hooks).
        type: bool
        default: false
  pending:
    description:
      - Read apt's package cache for pending upgrades (RV(pending) and the counts and ages that come from it).
      - V(false) for a caller that only compares O(settings), O(needrestart) or O(timers); the cache is then not
        opened, and those return values are not returned.
    type: bool
    default: true
  settings_file:
    description:
      - The file that writes O(settings); a drifted setting set by another file is said to be read after it.
    type: path
  needrestart:
    description:
      - needrestart's declared settings, compared with what needrestart itself would read - C(needrestart.conf)
        evaluated by Perl, with the C(conf.d/*.conf) files it reads at its end (RV(needrestart_drift)).
      - Nothing is compared when O(needrestart.conf) does not exist (needrestart not installed yet).
    type: dict
    suboptions:
      file:
        description: The role's own C(conf.d) file; a drifted setting is traced to the files read after it.
        type: path
        required: true
      restart:
        description: The declared restart mode (C($nrconf{restart})).
        type: str
        required: true
      never_restart:
        description:
          - Units (without C(.service)) that every matching C($nrconf{override_rc}) entry keeps from restarting.
        type: list
        elements: str
        default: []
      conf:
        description: needrestart's main configuration file.
        type: path
        default: /etc/needrestart/needrestart.conf
  timers:
    description:
      - systemd timers whose schedule is declared, each mapped to the role's drop-in (V("") when the packaged
        schedule applies). Any other drop-in that systemd reads for the timer (in every unit directory, the
        type's and the name prefixes' drop-in directories included), a unit file replacing the packaged one,
        and a timer that systemd runs from files changed since its last daemon-reload are returned in
        RV(timers_drift). A masked timer is not judged here.
    type: dict
    default: {}
notes:
  - The age of pending security upgrades (RV(security_pending_days)) is a lower bound. apt
    keeps no record of when a version first appeared, so the module uses the C(Date) field of
    the Release file of the repository that carries the security version, the time that
    repository was last published. The version existed then, so it has been available at
    least that long. A repository that publishes often keeps the bound low; lists that were
    not refreshed for a week make it (correctly) at least a week.
  - Runs of C(unattended-upgrade --dry-run) are ignored. A run succeeded when it logged
    C(All upgrades installed) or C(No packages found that can be upgraded unattended) and no
    error.
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Read the host's patch state
  bulwark.hardening.apt_updates:
  register: patch_state

- name: Security updates must not wait for more than a week
  ansible.builtin.assert:
    that: patch_state.security_pending == 0 or patch_state.security_pending_days < 7
    fail_msg: >-
      {{ patch_state.security_pending }} security updates pending for at least
      {{ patch_state.security_pending_days }} days: {{ patch_state.security_packages | join(', ') }}

- name: A PHP repository counts as a security source too
  bulwark.hardening.apt_updates:
    security_origins:
      - origin=Debian,codename=${distro_codename}-security,label=Debian-Security
      - origin=deb.sury.org,codename=${distro_codename}
"""

RETURN = r"""
pending:
  description: Installed packages with a newer candidate version, sorted by name.
  returned: when O(pending) is true
  type: list
  elements: dict
  contains:
    name: {description: Package name., type: str}
    arch: {description: Architecture., type: str}
    installed: {description: Installed version., type: str}
    candidate: {description: Version apt would install., type: str}
    security: {description: A newer version comes from an origin matching O(security_origins)., type: bool}
    security_since:
      description: Release C(Date) of the repository carrying the security version (ISO 8601), or null.
      type: str
    allowed: {description: unattended-upgrades' effective origins allow the candidate., type: bool}
    origins:
      description: Origins of the candidate (keys origin, label, archive, codename, component, site).
      type: list
      elements: dict
  sample:
    - name: libssl3
      arch: amd64
      installed: 3.0.20-1~deb12u2
      candidate: 3.0.22-1~deb12u2
      security: true
      security_since: "2026-11-21T00:53:02+00:00"
      allowed: true
      origins:
        - {origin: Debian, label: Debian-Security, archive: oldstable-security, codename: bookworm-security,
           component: main, site: deb.debian.org}
pending_count:
  description: Number of entries in RV(pending).
  returned: when O(pending) is true
  type: int
  sample: 10
security_pending:
  description: Number of pending security upgrades.
  returned: when O(pending) is true
  type: int
  sample: 3
security_packages:
  description: Names of the packages with a pending security upgrade.
  returned: when O(pending) is true
  type: list
  elements: str
  sample: [libssl3, openssh-server]
security_pending_since:
  description: The oldest RV(pending[].security_since), or null when nothing is pending (see the notes).
  returned: when O(pending) is true
  type: str
  sample: "2026-11-15T09:12:44+00:00"
security_pending_days:
  description:
    - Whole days since RV(security_pending_since), a lower bound of how long the oldest security
      upgrade has waited; null when none is pending.
  returned: when O(pending) is true
  type: int
  sample: 9
allowed_pending:
  description: Number of pending upgrades that unattended-upgrades' effective origins allow.
  returned: when O(pending) is true
  type: int
  sample: 3
origins_pattern:
  description:
    - The effective C(Unattended-Upgrade::Origins-Pattern) list (all apt configuration files merged),
      not substituted.
  returned: always
  type: list
  elements: str
  sample: ["origin=Debian,codename=${distro_codename}-security,label=Debian-Security"]
allowed_origins:
  description: The effective legacy C(Unattended-Upgrade::Allowed-Origins) list.
  returned: always
  type: list
  elements: str
  sample: []
reboot_required:
  description: Whether O(reboot_required_file) exists.
  returned: always
  type: bool
  sample: false
reboot_packages:
  description: Packages that asked for the reboot (from O(reboot_required_file)C(.pkgs)).
  returned: always
  type: list
  elements: str
  sample: [linux-image-6.1.0-28-amd64]
last_run:
  description: Start of the last (not dry) unattended-upgrades run in the log, local time (ISO 8601), or null.
  returned: always
  type: str
  sample: "2026-11-24T06:25:03"
last_run_success:
  description: Whether that run succeeded; null when there is none.
  returned: always
  type: bool
  sample: true
last_success:
  description: Start of the last successful unattended-upgrades run, local time (ISO 8601), or null.
  returned: always
  type: str
  sample: "2026-11-24T06:25:03"
last_success_days:
  description: Whole days since RV(last_success); null when there is none.
  returned: always
  type: int
  sample: 0
settings_drift:
  description:
    - The O(settings) apt's merged configuration does not hold, in the order given, each with the
      file that set the value in force (V(null) when no file sets it, or when the files read in apt's
      order do not give apt's merged value, e.g. with C(APT_CONFIG) set).
    - With C(--diff), the same as a diff (the values in force as the before, the declared ones as the after).
  returned: always
  type: list
  elements: dict
  sample:
    - name: APT::Periodic::Unattended-Upgrade
      variable: unattended_upgrades_upgrade_interval
      expected: "1"
      found: "0"
      file: /etc/apt/apt.conf.d/99zz-local
      sentence: >-
        apt's effective APT::Periodic::Unattended-Upgrade is "0" (set by /etc/apt/apt.conf.d/99zz-local, read after
        /etc/apt/apt.conf.d/90bulwark-unattended-upgrades), not the declared "1" (unattended_upgrades_upgrade_interval)
needrestart_drift:
  description:
    - The O(needrestart) settings needrestart's effective configuration does not hold, each with the files read
      after O(needrestart.file) that assign it (empty when none does).
  returned: always
  type: list
  elements: dict
  sample:
    - name: $nrconf{restart}
      expected: a
      found: l
      files: [/etc/needrestart/conf.d/zz-local.conf]
      sentence: >-
        needrestart's effective $nrconf{restart} is "l" (set by /etc/needrestart/conf.d/zz-local.conf, read after
        /etc/needrestart/conf.d/bulwark.conf), not the declared "a"
timers_drift:
  description:
    - The O(timers) whose schedule systemd takes from elsewhere than the declared files.
  returned: always
  type: list
  elements: dict
  contains:
    unit: {description: The timer., type: str}
    foreign:
      description: The other drop-ins and unit files that change its schedule (to remove).
      type: list
      elements: str
    reload: {description: systemd has not loaded its files as they are (a daemon-reload is due)., type: bool}
    sentence: {description: What differs (one sentence)., type: str}
  sample:
    - unit: apt-daily.timer
      foreign: [/etc/systemd/system/apt-daily.timer.d/override.conf]
      reload: false
      sentence: >-
        apt-daily.timer: /etc/systemd/system/apt-daily.timer.d/override.conf changes its schedule besides the
        packaged unit
distribution:
  description: C(distro_id) and C(distro_codename) as substituted into the patterns.
  returned: always
  type: dict
  sample: {distro_id: Debian, distro_codename: bookworm}
"""

import datetime
import glob
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.bulwark.hardening.plugins.module_utils._apt_updates import (
    NEEDRESTART_EVAL,
    PACKAGED_UNIT_DIRS,
    SYSTEMD_UNIT_DIRS,
    apt_conf_parts,
    apt_literal,
    conf_writers,
    days_between,
    dropin_dir_names,
    last_runs,
    matches_any,
    needrestart_drift,
    parse_log,
    parse_needrestart,
    parse_pattern,
    parse_reboot_pkgs,
    parse_release_date,
    parse_systemctl_show,
    release_candidates,
    settings_drift,
    summarise,
    timer_drift,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text

try:
    import apt_pkg
except ImportError:
    apt_pkg = None
    APT_IMPORT_ERROR = traceback.format_exc()
else:
    APT_IMPORT_ERROR = None

OS_RELEASE = "/etc/os-release"
# Fields of apt's PackageFile that unattended-upgrades matches on.
ORIGIN_FIELDS = ("origin", "label", "archive", "codename", "component", "site")


def _read(path):
    """Text of ``path``, or None when it does not exist."""
    return read_text(path, None, FileNotFoundError)


def distribution(path=None):
    """``(distro_id, codename)`` as unattended-upgrades substitutes them (``Debian``, ``bookworm``)."""
    fields = {}
    for line in (_read(path or OS_RELEASE) or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip().strip("\"'")
    distro_id = fields.get("ID", "debian")
    return distro_id[:1].upper() + distro_id[1:], fields.get("VERSION_CODENAME", "")


def origins_of(version):
    """Origins of one apt_pkg version, without dpkg's status file; with the index's path."""
    found = []
    for package_file, _index in version.file_list:
        if package_file.archive == "now" and not package_file.site:
            continue
        origin = {field: getattr(package_file, field, "") or "" for field in ORIGIN_FIELDS}
        found.append((origin, package_file.filename))
    return found


class ReleaseDates:
    """Release ``Date`` per index file in apt's lists directory, read once each."""

    def __init__(self):
        self._dates = {}

    def __call__(self, index_file):
        if index_file not in self._dates:
            date = None
            for path in release_candidates(index_file):
                text = _read(path)
                if text is not None:
                    date = parse_release_date(text)
                    break
            self._dates[index_file] = date
        return self._dates[index_file]


def read_pending(apt, security, allowed, release_date):
    """Pending upgrades from apt's cache, classified by the parsed security and allowed patterns."""
    cache = apt.Cache(None)
    depcache = apt.DepCache(cache)
    pending = []
    for package in cache.packages:
        current = package.current_ver
        if current is None:
            continue
        candidate = depcache.get_candidate_ver(package)
        if candidate is None or apt.version_compare(candidate.ver_str, current.ver_str) <= 0:
            continue
        candidate_origins = origins_of(candidate)
        since = []
        for version in package.version_list:
            if apt.version_compare(version.ver_str, current.ver_str) <= 0:
                continue
            for origin, index_file in origins_of(version):
                if matches_any(security, [origin]):
                    since.append(release_date(index_file))
        known = [date for date in since if date is not None]
        pending.append(
            {
                "name": package.name,
                "arch": package.architecture,
                "installed": current.ver_str,
                "candidate": candidate.ver_str,
                "security": bool(since),
                "security_since": min(known) if known else None,
                "allowed": matches_any(allowed, [pair[0] for pair in candidate_origins]),
                "origins": [pair[0] for pair in candidate_origins],
            }
        )
    return sorted(pending, key=lambda p: (p["name"], p["arch"]))


def config_files(apt):
    """apt's configuration files in the order apt reads them: the parts directory, then the main file."""
    parts = apt.config.find_dir("Dir::Etc::parts")
    try:
        names = [name for name in os.listdir(parts) if os.path.isfile(os.path.join(parts, name))]
    except OSError:
        names = []
    files = [os.path.join(parts, name) for name in apt_conf_parts(names)]
    main_file = apt.config.find_file("Dir::Etc::main")
    if main_file and os.path.isfile(main_file):
        files.append(main_file)
    return files


def _value(config, name, is_list):
    if is_list:
        return list(config.value_list(name))
    return config.find(name) if config.exists(name) else None


def read_settings(module, apt, settings):
    """``(effective, history)`` of each setting: apt's merged value, and its value after each file in turn."""
    lists = {setting["name"]: isinstance(setting["value"], list) for setting in settings}
    effective = {name: _value(apt.config, name, is_list) for name, is_list in lists.items()}
    history = {name: [] for name in lists}
    partial = apt.Configuration()
    for path in config_files(apt):
        try:
            apt.read_config_file(partial, path)
        except SystemError as exc:
            module.warn(f"cannot read apt configuration file {path}: {exc}")
            continue
        for name, is_list in lists.items():
            history[name].append((path, _value(partial, name, is_list)))
    return effective, history


def settings_diff(drift, managed):
    """The drifted settings as a diff: the values in force (with their file) before, the declared ones after."""

    def line(name, value, path):
        return apt_literal(name, value) + (f"  // {path}" if path else "") + "\n"

    return {
        "before": "".join(line(d["name"], d["found"], d["file"]) for d in drift),
        "after": "".join(line(d["name"], d["expected"], managed) for d in drift),
    }


def read_needrestart(module, spec):
    """needrestart's drifted settings (see needrestart_drift); none when needrestart is not installed."""
    if not spec or not os.path.isfile(spec["conf"]):
        return []
    units = [str(unit) for unit in spec["never_restart"]]
    rc, out, err = module.run_command(["perl", "-e", NEEDRESTART_EVAL, spec["conf"], *units])
    if rc != 0:
        module.fail_json(msg=f"cannot evaluate needrestart's configuration {spec['conf']}: {err.strip()}")
    confd = os.path.join(os.path.dirname(spec["conf"]), "conf.d")
    texts = [(spec["conf"], _read(spec["conf"]) or "")]
    texts += [(path, _read(path) or "") for path in sorted(glob.glob(os.path.join(confd, "*.conf")))]
    writers = conf_writers(texts, spec["file"])
    return needrestart_drift(parse_needrestart(out), spec["restart"], units, writers, spec["file"])


def read_timers(module, expected):
    """The timers whose schedule systemd takes from elsewhere than the declared files (see timer_drift)."""
    if not expected:
        return []
    properties = "Id,LoadState,FragmentPath,DropInPaths,NeedDaemonReload"
    rc, out, err = module.run_command(["systemctl", "show", f"--property={properties}", "--", *expected])
    if rc != 0:
        module.fail_json(msg=f"systemctl show {' '.join(expected)}: {err.strip()}")
    on_disk = {}
    for unit in expected:
        dropins = []
        fragments = []
        for directory in SYSTEMD_UNIT_DIRS:
            for name in dropin_dir_names(unit):
                dropins.extend(sorted(glob.glob(os.path.join(directory, name, "*.conf"))))
            path = os.path.join(directory, unit)
            if directory not in PACKAGED_UNIT_DIRS and os.path.isfile(path) and os.path.realpath(path) != "/dev/null":
                fragments.append(path)
        on_disk[unit] = {"dropins": dropins, "fragments": fragments}
    return timer_drift(parse_systemctl_show(out), on_disk, {unit: path or "" for unit, path in expected.items()})


def read_log(path):
    """Runs from the log and its first rotation, oldest first."""
    text = "".join(_read(name) or "" for name in (path + ".1", path))
    return parse_log(text)


def main():
    module = AnsibleModule(
        argument_spec={
            "security_origins": {
                "type": "list",
                "elements": "str",
                "default": ["origin=Debian,codename=${distro_codename}-security,label=Debian-Security"],
            },
            "log": {"type": "path", "default": "/var/log/unattended-upgrades/unattended-upgrades.log"},
            "reboot_required_file": {"type": "path", "default": "/run/reboot-required"},
            "settings": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "value": {"type": "raw", "required": True},
                    "variable": {"type": "str"},
                    "contains": {"type": "bool", "default": False},
                },
            },
            "settings_file": {"type": "path"},
            "pending": {"type": "bool", "default": True},
            "needrestart": {
                "type": "dict",
                "options": {
                    "file": {"type": "path", "required": True},
                    "restart": {"type": "str", "required": True},
                    "never_restart": {"type": "list", "elements": "str", "default": []},
                    "conf": {"type": "path", "default": "/etc/needrestart/needrestart.conf"},
                },
            },
            "timers": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    if apt_pkg is None:
        module.fail_json(msg=missing_required_lib("python3-apt"), exception=APT_IMPORT_ERROR)

    distro_id, codename = distribution()
    try:
        security = [parse_pattern(p, distro_id, codename) for p in module.params["security_origins"]]
    except ValueError as exc:
        module.fail_json(msg=f"security_origins: {exc}")

    apt_pkg.init_config()
    apt_pkg.init_system()
    origins_pattern = list(apt_pkg.config.value_list("Unattended-Upgrade::Origins-Pattern"))
    allowed_origins = list(apt_pkg.config.value_list("Unattended-Upgrade::Allowed-Origins"))
    allowed = []
    for entry in origins_pattern:
        try:
            allowed.append(parse_pattern(entry, distro_id, codename))
        except ValueError as exc:
            module.warn(f"apt configuration Unattended-Upgrade::Origins-Pattern: {exc}")
    for entry in allowed_origins:
        # Legacy "origin:archive" entries.
        origin, _sep, archive = entry.partition(":")
        allowed.append(parse_pattern(f"origin={origin},archive={archive}", distro_id, codename))

    managed = module.params["settings_file"]
    effective, history = read_settings(module, apt_pkg, module.params["settings"])
    drift = settings_drift(module.params["settings"], effective, history, managed)

    result = {}
    if module.params["pending"]:
        try:
            pending = read_pending(apt_pkg, security, allowed, ReleaseDates())
        except SystemError as exc:  # apt_pkg's error for an unreadable cache or a held lock
            module.fail_json(msg=f"cannot read apt's package cache: {exc}")
        result = summarise(pending, datetime.datetime.now(datetime.timezone.utc))
        for entry in pending:
            if entry["security_since"] is not None:
                entry["security_since"] = entry["security_since"].isoformat()
        result.update(pending=pending, allowed_pending=sum(1 for p in pending if p["allowed"]))

    flag = module.params["reboot_required_file"]
    pkgs = _read(flag + ".pkgs")
    last, good = last_runs(read_log(module.params["log"]))
    local_now = datetime.datetime.now()

    result.update(
        changed=False,
        origins_pattern=origins_pattern,
        allowed_origins=allowed_origins,
        reboot_required=os.path.exists(flag),
        reboot_packages=parse_reboot_pkgs(pkgs) if pkgs else [],
        last_run=last["start"].isoformat() if last else None,
        last_run_success=last["success"] if last else None,
        last_success=good["start"].isoformat() if good else None,
        last_success_days=days_between(good["start"], local_now) if good else None,
        distribution={"distro_id": distro_id, "distro_codename": codename},
        settings_drift=drift,
        needrestart_drift=read_needrestart(module, module.params["needrestart"]),
        timers_drift=read_timers(module, module.params["timers"]),
    )
    if drift and module._diff:
        result["diff"] = settings_diff(drift, managed)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

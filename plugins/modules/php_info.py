# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: php_info
short_description: Find the installed PHP versions, their SAPIs, enabled modules and FPM pools
version_added: 0.2.0
description:
  - Reads Debian's PHP layout in one pass and reports every installed version and server API
    (SAPI) - C(apache2) (mod_php), C(fpm) and C(cli) - with the modules enabled in its C(conf.d)
    and, for C(fpm), the pools of its C(pool.d).
  - A SAPI counts as installed when its program exists (C(/usr/lib/apache2/modules/libphpX.Y.so),
    C(/usr/sbin/php-fpmX.Y), C(/usr/bin/phpX.Y)) and its C(conf.d) directory exists; a removed
    but not purged package leaves only the directory behind and is not reported.
  - Never changes anything.
extends_documentation_fragment:
  - bulwark.hardening.module.read_only
options:
  etc_dir:
    description: The directory holding one subdirectory per PHP version.
    type: path
    default: /etc/php
  apache_root:
    description: Apache's configuration directory, read for mod_php's settings (O(hardening)).
    type: path
    default: /etc/apache2
  hardening:
    description:
      - An ini file that must be in effect, as it will be written to the C(conf.d) of each SAPI in O(hardening.sapis).
      - Each SAPI's ini is resolved the way PHP reads it (its C(php.ini), then C(conf.d/*.ini) sorted, the
        last value of a setting wins), with this file in its place; every setting of it that a later
        file sets to another value is reported in RV(overrides) (a later file with the same value is fine).
      - For mod_php, so is each C(php_value), C(php_flag), C(php_admin_value) or C(php_admin_flag) line of
        Apache's configuration, and of an C(.htaccess) file Apache lets count, that sets one to another value.
      - So is each file that sets C(PHP_INI_SCAN_DIR) or C(PHPRC) for a SAPI's daemon (Apache's C(envvars), the
        unit and its drop-ins), as PHP then reads other ini files. A running daemon whose environment differs from
        what those files set is reported in RV(running).
    type: dict
    suboptions:
      name:
        description: The file's name in C(conf.d).
        type: str
        required: true
      content:
        description: The file's content (V('') checks nothing).
        type: str
        required: true
      sapis:
        description: The SAPIs it is written to.
        type: list
        elements: str
        default: [apache2, fpm]
seealso:
  - module: bulwark.hardening.php_extensions
"""

EXAMPLES = r"""
- name: Find PHP
  bulwark.hardening.php_info:
  register: php

- name: Show the FPM services
  ansible.builtin.debug:
    msg: "{{ php.sapis | selectattr('sapi', 'eq', 'fpm') | map(attribute='service') | list }}"
"""

RETURN = r"""
versions:
  description: Installed PHP versions that have at least one SAPI, oldest first.
  returned: always
  type: list
  elements: str
  sample: ["8.2"]
sapis:
  description: One item per installed version and SAPI.
  returned: always
  type: list
  elements: dict
  contains:
    version:
      description: PHP version.
      type: str
      sample: "8.2"
    sapi:
      description: C(apache2), C(fpm) or C(cli).
      type: str
      sample: fpm
    conf_d:
      description: The SAPI's C(conf.d) directory.
      type: str
      sample: /etc/php/8.2/fpm/conf.d
    program:
      description: The SAPI's program (the Apache module for C(apache2)).
      type: str
      sample: /usr/sbin/php-fpm8.2
    cli:
      description: The same version's CLI binary, or null when it is not installed.
      type: str
      sample: /usr/bin/php8.2
    service:
      description: The systemd unit that runs this SAPI (C(apache2), C(phpX.Y-fpm)), null for C(cli).
      type: str
      sample: php8.2-fpm
    extensions:
      description: Modules enabled in C(conf.d) (links into C(mods-available)), sorted.
      type: list
      elements: str
      sample: [opcache, pdo, xdebug]
    pools:
      description: For C(fpm), the pools and the file each is defined in.
      type: dict
      sample: {www: /etc/php/8.2/fpm/pool.d/www.conf}
overrides:
  description: Settings of O(hardening) that a later ini of a SAPI overrides, with a one-line C(message).
  returned: always
  type: list
  elements: dict
  sample:
    - version: "8.2"
      sapi: apache2
      file: /etc/php/8.2/apache2/conf.d/99-zz-local.ini
      line: 1
      setting: disable_functions
      found: ""
      expected: exec,passthru
      message: >-
        /etc/php/8.2/apache2/conf.d/99-zz-local.ini:1 sets disable_functions = "" (8.2/apache2; the
        hardening: exec,passthru)
running:
  description:
    - Per daemon of a SAPI in O(hardening), where its running environment (C(PHP_INI_SCAN_DIR), C(PHPRC))
      differs from what its files set.
  returned: always
  type: list
  elements: dict
  sample:
    - service: apache2
      message: "apache2 runs with PHPRC=/etc/php/local (8.2/apache2; its files: (unset)): a restart applies them"
pools:
  description: Every FPM pool, one item per version and pool.
  returned: always
  type: list
  elements: dict
  sample: [{version: "8.2", pool: www, path: /etc/php/8.2/fpm/pool.d/www.conf}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._apache import (
    access_files,
    disk_expand,
    htaccess_lines,
    walk_config,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._php import (
    ENV_NAMES,
    apache_php_overrides,
    environ_values,
    ini_overrides,
    ini_settings,
    scan,
    scan_order,
    shell_environment,
    unit_environment,
)

SERVICES = {"apache2": "apache2", "fpm": "php{version}-fpm", "cli": None}


def summarise(items):
    """The module's result from scan()'s items."""
    sapis = []
    for item in items:
        service = SERVICES[item["sapi"]]
        entry = {
            "version": item["version"],
            "sapi": item["sapi"],
            "conf_d": item["conf_d"],
            "program": item["program"],
            "cli": item["cli"],
            "service": service.format(version=item["version"]) if service else None,
            "extensions": sorted(item["enabled"]),
        }
        if "pools" in item:
            entry["pools"] = item["pools"]
        sapis.append(entry)
    versions = []
    for item in sapis:
        if item["version"] not in versions:
            versions.append(item["version"])
    pools = [
        {"version": item["version"], "pool": pool, "path": path}
        for item in sapis
        for pool, path in item.get("pools", {}).items()
    ]
    return {"changed": False, "versions": versions, "sapis": sapis, "pools": pools}


UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
PID_FILES = {"apache2": "/run/apache2/apache2.pid", "fpm": "/run/php/php{version}-fpm.pid"}


def apache_lines(apache_root):
    """Apache's directives as it reads them, and the .htaccess lines it lets count ([] without Apache)."""
    if not os.path.exists(os.path.join(apache_root, "apache2.conf")):
        return []

    def read(path):
        return None if os.path.isdir(path) else read_text(path, None)

    entries = walk_config(read, disk_expand, apache_root)
    return entries + htaccess_lines(entries, access_files(entries))


def environment_files(item, apache_root):
    """``[(path, [(line, name, value)])]`` of the files that set PHP_INI_SCAN_DIR or PHPRC for a SAPI's daemon:
    Apache's envvars (mod_php), the unit and its drop-ins."""
    found = []
    if item["sapi"] == "apache2":
        path = os.path.join(apache_root, "envvars")
        found.append((path, shell_environment(read_text(path, ""))))
    unit = item["service"] + ".service"
    for directory in UNIT_DIRS:
        paths = [os.path.join(directory, unit)]
        drop_ins = os.path.join(directory, unit + ".d")
        if os.path.isdir(drop_ins):
            paths += sorted(os.path.join(drop_ins, name) for name in os.listdir(drop_ins) if name.endswith(".conf"))
        found += [(path, unit_environment(read_text(path, ""))) for path in paths if os.path.isfile(path)]
    return [(path, settings) for path, settings in found if settings]


def running_environment(item):
    """PHP_INI_SCAN_DIR and PHPRC in the running daemon's environment (None: it does not run)."""
    pid = read_text(PID_FILES[item["sapi"]].format(version=item["version"]), "").strip()
    if not pid.isdigit():
        return None
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return environ_values(handle.read())
    except OSError:
        return None


def environment(sapis, hardening, apache_root):
    """(overrides, running): the files that point a hardened SAPI's daemon at another ini; and, per
    daemon, where its running environment differs from what its files set (a restart applies them)."""
    found, running = [], []
    for item in sapis:
        if item["sapi"] not in hardening["sapis"] or not item["service"]:
            continue
        declared = {}
        for path, settings in environment_files(item, apache_root):
            for number, name, value in settings:
                declared[name] = value
                found.append(
                    {
                        "version": item["version"],
                        "sapi": item["sapi"],
                        "file": path,
                        "line": number,
                        "setting": name,
                        "found": value,
                        "expected": "unset",
                        "message": (
                            f'{path}:{number} sets {name}="{value}" for {item["service"]} ({item["version"]}/'
                            f"{item['sapi']}: PHP then reads other ini files than {item['conf_d']} and its php.ini)"
                        ),
                    }
                )
        live = running_environment(item)
        for name in ENV_NAMES if live is not None else ():
            if live.get(name) != declared.get(name):
                running.append(
                    {
                        "service": item["service"],
                        "message": (
                            f"{item['service']} runs with {name}={live.get(name, '(unset)')} ({item['version']}/"
                            f"{item['sapi']}; its files: {declared.get(name, '(unset)')}): a restart applies them"
                        ),
                    }
                )
    return found, running


def overrides(sapis, hardening, apache_root="/etc/apache2"):
    """Every setting of ``hardening`` that a later ini of one of its SAPIs overrides, or (mod_php)
    Apache's configuration or an .htaccess it reads."""
    found = []
    if not hardening or not hardening["content"]:
        return found
    wanted = {key: value for _number, key, value in ini_settings(hardening["content"])}
    lines = None
    for item in sapis:
        if item["sapi"] not in hardening["sapis"]:
            continue
        if item["sapi"] == "apache2":
            lines = apache_lines(apache_root) if lines is None else lines
            for override in apache_php_overrides(lines, wanted):
                override.update(version=item["version"], sapi=item["sapi"])
                override["message"] = (
                    f"{override['where']}: {override['found']} ({item['version']}/apache2; the hardening: "
                    f"{override['expected']})"
                )
                found.append(override)
        conf_d = item["conf_d"]
        ours = os.path.join(conf_d, hardening["name"])
        try:
            names = os.listdir(conf_d)
        except OSError:
            names = []
        order = scan_order(os.path.join(os.path.dirname(conf_d), "php.ini"), conf_d, names, hardening["name"])
        files = [(path, hardening["content"] if path == ours else read_text(path)) for path in order]
        for override in ini_overrides(files, ours):
            override.update(version=item["version"], sapi=item["sapi"])
            override["message"] = (
                f'{override["file"]}:{override["line"]} sets {override["setting"]} = "{override["found"]}" '
                f"({item['version']}/{item['sapi']}; the hardening: {override['expected']})"
            )
            found.append(override)
    return found


def main():
    module = AnsibleModule(
        argument_spec={
            "etc_dir": {"type": "path", "default": "/etc/php"},
            "apache_root": {"type": "path", "default": "/etc/apache2"},
            "hardening": {
                "type": "dict",
                "options": {
                    "name": {"type": "str", "required": True},
                    "content": {"type": "str", "required": True},
                    "sapis": {"type": "list", "elements": "str", "default": ["apache2", "fpm"]},
                },
            },
        },
        supports_check_mode=True,
    )
    result = summarise(scan(module.params["etc_dir"]))
    hardening = module.params["hardening"]
    result["overrides"] = overrides(result["sapis"], hardening, module.params["apache_root"])
    result["running"] = []
    if hardening and hardening["content"]:
        found, result["running"] = environment(result["sapis"], hardening, module.params["apache_root"])
        result["overrides"] += found
    module.exit_json(**result)


if __name__ == "__main__":
    main()

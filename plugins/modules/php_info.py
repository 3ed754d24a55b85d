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
  hardening:
    description:
      - An ini file that must be in effect, as it will be written to the C(conf.d) of each SAPI in O(hardening.sapis).
      - Each SAPI's ini is resolved the way PHP reads it (its C(php.ini), then C(conf.d/*.ini) sorted, the
        last value of a setting wins), with this file in its place; every setting of it that a later
        file sets to another value is reported in RV(overrides) (a later file with the same value is fine).
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
pools:
  description: Every FPM pool, one item per version and pool.
  returned: always
  type: list
  elements: dict
  sample: [{version: "8.2", pool: www, path: /etc/php/8.2/fpm/pool.d/www.conf}]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._php import ini_overrides, scan, scan_order

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


def overrides(sapis, hardening):
    """Every setting of ``hardening`` that a later ini of one of its SAPIs overrides."""
    found = []
    if not hardening or not hardening["content"]:
        return found
    for item in sapis:
        if item["sapi"] not in hardening["sapis"]:
            continue
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
    result["overrides"] = overrides(result["sapis"], module.params["hardening"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()

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
pools:
  description: Every FPM pool, one item per version and pool.
  returned: always
  type: list
  elements: dict
  sample: [{version: "8.2", pool: www, path: /etc/php/8.2/fpm/pool.d/www.conf}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._php import scan

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


def main():
    module = AnsibleModule(
        argument_spec={"etc_dir": {"type": "path", "default": "/etc/php"}},
        supports_check_mode=True,
    )
    module.exit_json(**summarise(scan(module.params["etc_dir"])))


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: php_extensions
short_description: Disable PHP modules with phpdismod, per SAPI, without breaking the modules that need them
version_added: 0.2.0
description:
  - For every installed PHP version and each SAPI in O(sapis), finds which of the modules in
    O(disabled) are enabled (a C(conf.d) link into C(mods-available)) and disables them with
    Debian's C(phpdismod), which also records the choice so that package upgrades keep it.
  - Before disabling, asks that version's PHP CLI which loaded extensions require which
    (C(ReflectionExtension::getDependencies()) with the SAPI's own C(conf.d)). A module that
    another module staying enabled requires is not disabled; it is reported in RV(blocked) and
    as a warning, and disabling the requiring module too (listing both) lets both go.
  - Modules that are not installed or already disabled are ignored, so the module is idempotent.
requirements:
  - php-common (C(phpdismod)) and the PHP CLI of each version (a dependency of every Debian SAPI package)
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Reads the dependencies and reports what would be disabled; runs no phpdismod.
  diff_mode:
    details: Before and after list the enabled modules of each changed SAPI.
options:
  disabled:
    description: Module names as in C(mods-available) (V(xdebug), V(pdo_mysql)).
    type: list
    elements: str
    required: true
  sapis:
    description: The SAPIs to act on; other SAPIs keep their modules.
    type: list
    elements: str
    choices: [apache2, fpm, cli]
    default: [apache2, fpm]
  etc_dir:
    description: The directory holding one subdirectory per PHP version.
    type: path
    default: /etc/php
seealso:
  - module: bulwark.hardening.php_info
"""

EXAMPLES = r"""
- name: Disable xdebug and FFI for Apache and FPM
  bulwark.hardening.php_extensions:
    disabled: [xdebug, ffi]
  register: php_modules
  notify: Reload PHP (bulwark)
"""

RETURN = r"""
disabled:
  description: The modules disabled (or that would be disabled in check mode), one item per version, SAPI and module.
  returned: always
  type: list
  elements: dict
  sample: [{version: "8.2", sapi: apache2, module: xdebug}]
blocked:
  description: Modules left enabled because a module that stays enabled requires them.
  returned: always
  type: list
  elements: dict
  sample: [{version: "8.2", sapi: fpm, module: mysqlnd, required_by: [mysqli, pdo_mysql]}]
loaders:
  description:
    - Files other than C(phpenmod)'s links (C(php.ini), a plain C(conf.d) ini) that load a module of O(disabled).
      C(phpdismod) cannot switch them off - check mode reports them as a change, a real run fails naming them
      and changes nothing.
  returned: always
  type: list
  elements: dict
  sample: [{version: "8.4", sapi: fpm, file: /etc/php/8.4/fpm/conf.d/99-local.ini, module: xdebug}]
changed_sapis:
  description: The version and SAPI pairs whose modules changed, for the handlers that reload them.
  returned: always
  type: list
  elements: dict
  sample: [{version: "8.2", sapi: apache2}]
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._php import (
    PhpValueError,
    blocked_modules,
    extension_loaders,
    module_name,
    scan,
)

MARK = "BULWARK-DEPENDENCIES:"
# Prints every loaded extension's dependencies as one JSON line after MARK.
PROBE = (
    "$o = []; foreach (get_loaded_extensions() as $e) { $o[$e] = (new ReflectionExtension($e))->getDependencies(); }"
    f" echo PHP_EOL, '{MARK}', json_encode($o), PHP_EOL;"
)


def read_dependencies(module, item):
    """``{extension: {dependency: kind}}`` of what the SAPI loads, or None if PHP cannot tell."""
    if not item["cli"]:
        return None
    # The SAPI's conf.d, no php.ini: the same modules the SAPI loads, in the same order.
    rc, out, _err = module.run_command(
        [item["cli"], "-c", "/nonexistent", "-d", "display_errors=stderr", "-r", PROBE],
        environ_update={"PHP_INI_SCAN_DIR": item["conf_d"]},
    )
    for line in out.splitlines():
        if rc == 0 and line.startswith(MARK):
            try:
                return json.loads(line[len(MARK) :])
            except ValueError:
                return None
    return None


def plan(module, items, disabled):
    """Decide per SAPI what to disable and what must stay; runs only read-only commands."""
    actions = []
    blocked = []
    for item in items:
        targets = [name for name in disabled if name in item["enabled"]]
        if not targets:
            continue
        deps = read_dependencies(module, item)
        if deps is None:
            reason = (
                f"cannot read the module dependencies with {item['cli'] or 'the PHP CLI'} (not installed or failed)"
            )
            for name in targets:
                blocked.append(
                    {
                        "version": item["version"],
                        "sapi": item["sapi"],
                        "module": name,
                        "required_by": [],
                        "reason": reason,
                    }
                )
            continue
        stays = blocked_modules(targets, item["enabled"], item["so_names"], deps)
        for name, by in stays.items():
            blocked.append(
                {
                    "version": item["version"],
                    "sapi": item["sapi"],
                    "module": name,
                    "required_by": by,
                    "reason": f"required by {', '.join(by)}, which stay(s) enabled",
                }
            )
        go = [name for name in targets if name not in stays]
        if go:
            actions.append((item, go))
    return actions, blocked


def loaders(items, disabled):
    """Per SAPI, the files other than module links (php.ini, a plain conf.d ini) that load a disabled module."""
    found = []
    for item in items:
        conf_d = item["conf_d"]
        links = set(item["enabled"].values())
        try:
            names = sorted(name for name in os.listdir(conf_d) if name.endswith(".ini") and name not in links)
        except OSError:
            names = []
        paths = [os.path.join(os.path.dirname(conf_d), "php.ini")] + [os.path.join(conf_d, name) for name in names]
        files = [(path, read_text(path, "")) for path in paths]
        for entry in extension_loaders(files, item["so_names"], disabled):
            entry.update(version=item["version"], sapi=item["sapi"])
            found.append(entry)
    return found


def main():
    module = AnsibleModule(
        argument_spec={
            "disabled": {"type": "list", "elements": "str", "required": True},
            "sapis": {
                "type": "list",
                "elements": "str",
                "choices": ["apache2", "fpm", "cli"],
                "default": ["apache2", "fpm"],
            },
            "etc_dir": {"type": "path", "default": "/etc/php"},
        },
        supports_check_mode=True,
    )
    try:
        disabled = [module_name(name, f"disabled[{i}]") for i, name in enumerate(module.params["disabled"])]
    except PhpValueError as exc:
        module.fail_json(msg=str(exc))

    items = [item for item in scan(module.params["etc_dir"]) if item["sapi"] in module.params["sapis"]]
    actions, blocked = plan(module, items, disabled)
    loaded = loaders(items, disabled)

    result = {
        "changed": bool(actions),
        "disabled": [
            {"version": item["version"], "sapi": item["sapi"], "module": name} for item, go in actions for name in go
        ],
        "blocked": blocked,
        "changed_sapis": [{"version": item["version"], "sapi": item["sapi"]} for item, _go in actions],
        "loaders": loaded,
    }
    if loaded:
        # phpdismod cannot switch off a line of another file: check mode reports it, a real run refuses.
        result["changed"] = True
        if module._diff:
            result["diff"] = {
                "before": "".join(f"{e['file']} loads {e['module']} ({e['version']}/{e['sapi']})\n" for e in loaded),
                "after": "",
            }
        if not module.check_mode:
            module.fail_json(
                msg="refused to change anything: "
                + "; ".join(f"{e['file']} loads {e['module']} ({e['version']}/{e['sapi']})" for e in loaded)
                + ". Remove these lines (or their files): phpdismod cannot disable a module loaded outside its links.",
                **result,
            )
    for entry in blocked:
        module.warn(f"PHP {entry['version']} {entry['sapi']}: not disabling {entry['module']}: {entry['reason']}")
    if module._diff and actions:
        result["diff"] = {
            "before": "".join(f"{i['version']}/{i['sapi']}: {' '.join(sorted(i['enabled']))}\n" for i, _go in actions),
            "after": "".join(
                f"{i['version']}/{i['sapi']}: {' '.join(sorted(set(i['enabled']) - set(go)))}\n" for i, go in actions
            ),
        }

    if actions and not module.check_mode:
        phpdismod = module.get_bin_path("phpdismod", required=True)
        for item, go in actions:
            argv = [phpdismod, "-v", item["version"], "-s", item["sapi"], *go]
            rc, out, err = module.run_command(argv)
            if rc != 0:
                module.fail_json(msg=f"{' '.join(argv)} failed (rc {rc}): {(err or out).strip()}", **result)
        still = [
            f"{i['version']}/{i['sapi']}: {name}"
            for i in scan(module.params["etc_dir"])
            for item, go in actions
            if (i["version"], i["sapi"]) == (item["version"], item["sapi"])
            for name in go
            if name in i["enabled"]
        ]
        if still:
            module.fail_json(msg=f"phpdismod left these modules enabled: {', '.join(still)}", **result)

    module.exit_json(**result)


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: apache2_config
short_description: Apply Apache configuration files and enabled modules, confs and sites as one tested change
version_added: 0.2.0
description:
  - Writes the given configuration files, enables and disables Debian Apache modules, confs and sites
    (C(a2enmod), C(a2dismod), C(a2enconf), C(a2disconf), C(a2ensite), C(a2dissite)), then runs
    C(apache2ctl -t).
  - When the test fails (or an C(a2*) command fails), every file is put back as it was, the C(*-enabled)
    links are restored exactly, and the module fails with Apache's message, file and line first.
    Apache is never reloaded by this module, so it keeps serving its last good configuration; reload it
    (a handler) when the module reports a change.
  - Idempotent - files are compared by content and mode, features by their links in C(mods-enabled),
    C(conf-enabled) and C(sites-enabled); nothing is run and no configuration test is made when nothing
    differs.
  - Debian's "essential" modules (C(autoindex), C(alias), ...) are disabled with C(--force); any other
    module is disabled without it, and a module that a module staying enabled depends on (C(proxy) under
    C(proxy_fcgi)) is kept and reported in RV(kept) with a warning, not broken.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  check_mode:
    details: Reports the files and features that would change; runs no command (not even the configuration test).
  diff_mode:
    details: Before and after of every changed file, and of the list of enabled features.
options:
  files:
    description: Files to write, owned by root. Their directory must exist.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole content of the file.
        type: str
        required: true
      mode:
        description: File mode, in octal.
        type: str
        default: "0644"
  enable_modules:
    description: Modules to enable (their dependencies are enabled by C(a2enmod)).
    type: list
    elements: str
    default: []
  disable_modules:
    description: Modules to disable when they are enabled.
    type: list
    elements: str
    default: []
  enable_confs:
    description: Confs (C(conf-available/<name>.conf)) to enable; a file written by O(files) counts as available.
    type: list
    elements: str
    default: []
  disable_confs:
    description: Confs to disable when they are enabled.
    type: list
    elements: str
    default: []
  enable_sites:
    description: Sites (C(sites-available/<name>.conf)) to enable.
    type: list
    elements: str
    default: []
  disable_sites:
    description: Sites to disable when they are enabled.
    type: list
    elements: str
    default: []
  backup:
    description: Keep a timestamped copy of each replaced file next to it.
    type: bool
    default: true
  config_root:
    description: Apache's configuration directory.
    type: path
    default: /etc/apache2
  effective:
    description:
      - Judge what Apache will have in effect after the change, resolved the way Apache reads it
        (C(apache2.conf) and its C(Include) lines in order, the matched files sorted, the last value
        read wins, a section beats the server-wide value).
      - Each single-value directive that O(files) set outside any section must not be set to another
        value by a file read after them, nor inside another file's C(<VirtualHost>), C(<Directory>),
        C(<Location>), C(<Files>) or C(<If>) section; a header they set must not be changed by another
        file's C(Header) inside an C(<If>) section read after them or inside a C(<VirtualHost>).
      - So is a line of an access file (C(.htaccess)) under a directory whose C(AllowOverride) lets Apache read
        it, when its directory's C(AllowOverride) allows the directive - C(Options) turning on C(Indexes),
        C(Includes) or C(ExecCGI), or a single-value directive of O(files) set to another value.
      - Such a line is reported in RV(overrides); check mode reports it as a change, and a real run
        refuses to change anything, naming the file, line and directive to remove.
    type: bool
    default: true
  live:
    description:
      - What the running Apache must answer, turned into RV(probes) for each of its C(Listen) lines
        (with O(effective)) - C(http) and C(https), header name to the value each answer must carry once
        (V(null) for absent), and C(methods), method to the status it must get (C(TRACE) to 405).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Write the hardening conf, enable it and mod_headers, disable autoindex, as one tested change
  bulwark.hardening.apache2_config:
    files:
      - path: /etc/apache2/conf-available/hardening.conf
        content: "ServerTokens Prod\nServerSignature Off\n"
    enable_confs: [hardening]
    enable_modules: [headers]
    disable_modules: [autoindex, status]
  notify: Reload apache2 (bulwark)
"""

RETURN = r"""
files:
  description: Paths of the files written (or that would be written).
  returned: success
  type: list
  elements: str
  sample: [/etc/apache2/conf-available/bulwark-hardening.conf]
enabled:
  description: Features enabled (or that would be), as C(kind/name).
  returned: success
  type: list
  elements: str
  sample: [modules/headers, confs/bulwark-hardening]
disabled:
  description: Features disabled (or that would be), as C(kind/name).
  returned: success
  type: list
  elements: str
  sample: [modules/autoindex]
kept:
  description: Modules asked to be disabled but kept, with the enabled modules that depend on them.
  returned: success
  type: dict
  sample: {proxy: [proxy_fcgi]}
backups:
  description: Backup copies of replaced files.
  returned: success
  type: list
  elements: str
configtest:
  description: Output of C(apache2ctl -t) (the failure message when it failed).
  returned: when the test ran
  type: str
overrides:
  description: Lines of other files that override what O(files) set (O(effective)).
  returned: success
  type: list
  elements: dict
  sample:
    - file: /etc/apache2/conf-enabled/zz-local.conf
      line: 1
      where: /etc/apache2/conf-enabled/zz-local.conf:1
      found: ServerTokens Full
      expected: ServerTokens Prod of /etc/apache2/conf-enabled/zz-bulwark-hardening.conf
listen:
  description: Where Apache listens after the change (its C(Listen) lines), with the scheme it speaks there.
  returned: success
  type: list
  elements: dict
  sample: [{address: 127.0.0.1, port: 80, scheme: http}]
probes:
  description:
    - Requests for the O(bulwark.hardening.service_loaded#module:probes) of M(bulwark.hardening.service_loaded),
      made from O(live).
  returned: success
  type: list
  elements: dict
  sample: [{url: "http://127.0.0.1:80/", method: GET, headers: {Server: Apache, X-Powered-By: null}, status: []}]
"""

import fnmatch
import glob
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._apache import (
    ESSENTIAL_MODULES,
    KINDS,
    access_files,
    bad_names,
    configtest_message,
    depends,
    enabled_names,
    htaccess_lines,
    htaccess_overrides,
    link_snapshot,
    listeners,
    override_message,
    overrides,
    plan,
    probes,
    walk_config,
)
from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text

_ENV = {"LC_ALL": "C", "LANG": "C"}


def read_file(path):
    """Return (content or None, mode or None) of a file."""
    try:
        with open(path, "rb") as handle:
            content = handle.read()
        return content, os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None, None


def module_dependencies(root, names):
    """Map each module name to the modules its .load file depends on."""
    result = {}
    for name in names:
        content, _mode = read_file(os.path.join(root, "mods-available", name + ".load"))
        if content is not None:
            result[name] = depends(content.decode("utf-8", "replace"))
    return result


class Apply:
    """One change: files and features, with everything needed to undo it."""

    def __init__(self, module):
        self.module = module
        self.root = module.params["config_root"]
        self.saved_files = {}
        self.saved_links = {}

    def snapshot(self, paths):
        for path in paths:
            self.saved_files[path] = read_file(path)
        for kind in KINDS.values():
            directory = os.path.join(self.root, kind[0] + "-enabled")
            self.saved_links[directory] = link_snapshot(directory)

    def write(self, path, content, mode, backups=None):
        if backups is not None and self.module.params["backup"] and os.path.exists(path):
            backups.append(self.module.backup_local(path))
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".bulwark-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        self.module.atomic_move(tmp, path)
        os.chmod(path, mode)

    def restore(self):
        for path, (content, mode) in self.saved_files.items():
            if content is None:
                if os.path.lexists(path):
                    os.unlink(path)
            else:
                self.write(path, content, mode)
        for directory, links in self.saved_links.items():
            now = link_snapshot(directory)
            for entry, target in now.items():
                if target is not None and links.get(entry) != target:
                    os.unlink(os.path.join(directory, entry))
            for entry, target in links.items():
                path = os.path.join(directory, entry)
                if target is not None and not os.path.lexists(path):
                    os.symlink(target, path)

    def run(self, argv):
        rc, out, err = self.module.run_command(argv, environ_update=_ENV)
        return rc, (out or "") + (err or "")


ARGUMENT_SPEC = {
    "files": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "path", "required": True},
            "content": {"type": "str", "required": True},
            "mode": {"type": "str", "default": "0644"},
        },
    },
    "enable_modules": {"type": "list", "elements": "str", "default": []},
    "disable_modules": {"type": "list", "elements": "str", "default": []},
    "enable_confs": {"type": "list", "elements": "str", "default": []},
    "disable_confs": {"type": "list", "elements": "str", "default": []},
    "enable_sites": {"type": "list", "elements": "str", "default": []},
    "disable_sites": {"type": "list", "elements": "str", "default": []},
    "backup": {"type": "bool", "default": True},
    "config_root": {"type": "path", "default": "/etc/apache2"},
    "effective": {"type": "bool", "default": True},
    "live": {"type": "dict", "default": {}},
}


class Candidate:
    """Apache's configuration tree as it will be after the change: the files to write, the links
    a2en*/a2dis* will make or remove, and everything else as it is on disk."""

    def __init__(self, root, files, enabled, disabled):
        self.overlay = {}  # path -> (text or None for removed, the file it really is)
        for path, content, _mode in files:
            self.overlay[path] = (content.decode("utf-8", "replace"), path)
        for features, present in ((enabled, True), (disabled, False)):
            for feature in features:
                kind, name = feature.split("/", 1)
                stem, suffix = KINDS[kind][0], KINDS[kind][1]
                suffixes = (suffix, ".conf") if kind == "modules" else (suffix,)
                for ending in suffixes:
                    source = os.path.join(root, stem + "-available", name + ending)
                    link = os.path.join(root, stem + "-enabled", name + ending)
                    if present and (source in self.overlay or os.path.exists(source)):
                        self.overlay[link] = (self.read(source), source)
                    elif not present:
                        self.overlay[link] = (None, source)

    def read(self, path):
        if path not in self.overlay and os.path.realpath(path) in self.overlay:
            path = os.path.realpath(path)
        if path in self.overlay:
            return self.overlay[path][0]
        return None if os.path.isdir(path) else read_text(path, None)

    def real(self, path):
        return self.overlay[path][1] if path in self.overlay else os.path.realpath(path)

    def expand(self, pattern):
        """The files an Include pattern matches, sorted (a directory: every file under it)."""
        if os.path.isdir(pattern) and not glob.has_magic(pattern):
            found = {os.path.join(top, name) for top, _dirs, names in os.walk(pattern) for name in names}
            inside = [path for path in self.overlay if path.startswith(pattern.rstrip("/") + "/")]
        else:
            found = set(glob.glob(pattern)) if glob.has_magic(pattern) else {pattern}
            inside = [
                path
                for path in self.overlay
                if os.path.dirname(path) == os.path.dirname(pattern)
                and fnmatch.fnmatchcase(os.path.basename(path), os.path.basename(pattern))
            ]
        found |= set(inside)
        return sorted(path for path in found if self.read(path) is not None)


def effective(module, files, result):
    """Resolve the candidate configuration; record the overrides of our files (by later files, by
    .htaccess files Apache lets count) and the listeners."""
    root = module.params["config_root"]
    candidate = Candidate(root, files, result["enabled"], result["disabled"])
    entries = walk_config(candidate.read, candidate.expand, root)
    written = {path for path, _content, _mode in files}
    ours = {entry["file"] for entry in entries if candidate.real(entry["file"]) in written}
    result["overrides"] = overrides(entries, ours) + htaccess_overrides(
        entries, ours, htaccess_lines(entries, access_files(entries))
    )
    result["listen"] = listeners(entries)
    result["probes"] = probes(result["listen"], module.params["live"])


def desired_files(module):
    """Return [(path, content bytes, mode)] of the files to write; fail naming a bad path or mode."""
    files = []
    for item in module.params["files"]:
        try:
            mode = int(item["mode"], 8)
        except ValueError:
            module.fail_json(msg=f"files: mode {item['mode']!r} of {item['path']} is not an octal number")
        if not os.path.isabs(item["path"]):
            module.fail_json(msg=f"files: path {item['path']!r} is not absolute")
        files.append((item["path"], item["content"].encode("utf-8"), mode))
    return files


def changed_files(files):
    """Return the files that differ from the host, and their diffs."""
    changed, diffs = [], []
    for path, content, mode in files:
        current, current_mode = read_file(path)
        if current != content or current_mode != mode:
            changed.append((path, content, mode))
            diffs.append(
                {
                    "before_header": path,
                    "after_header": path,
                    "before": "" if current is None else current.decode("utf-8", "replace"),
                    "after": content.decode("utf-8", "replace"),
                }
            )
    return changed, diffs


def feature_steps(module, written, result):
    """Return the a2* commands that make the features as wanted; record them in ``result``."""
    root = module.params["config_root"]
    steps = []
    for kind, (stem, suffix, enable_cmd, disable_cmd) in KINDS.items():
        enable, disable = module.params["enable_" + kind], module.params["disable_" + kind]
        bad = bad_names(enable + disable)
        if bad:
            module.fail_json(msg=f"{kind}: {bad!r} are not plain names (no path, no glob)")
        both = sorted(set(enable) & set(disable))
        if both:
            module.fail_json(msg=f"{kind}: {both!r} are both in enable_{kind} and disable_{kind}")
        enabled_dir = os.path.join(root, stem + "-enabled")
        enabled = enabled_names(os.listdir(enabled_dir) if os.path.isdir(enabled_dir) else [], suffix)
        dependencies = module_dependencies(root, enabled | set(enable)) if kind == "modules" else {}
        decided = plan(enabled, enable, disable, dependencies)
        for name in decided["enable"]:
            source = os.path.join(root, stem + "-available", name + suffix)
            if not os.path.exists(source) and source not in written:
                module.fail_json(msg=f"enable_{kind}: {name!r} is not available ({source} does not exist)")
            steps.append([enable_cmd, "-q", name])
            result["enabled"].append(f"{kind}/{name}")
        for name in decided["disable"]:
            force = ["-f"] if kind == "modules" and name in ESSENTIAL_MODULES else []
            steps.append([disable_cmd, "-q", *force, name])
            result["disabled"].append(f"{kind}/{name}")
        for name, users in decided["kept"].items():
            module.warn(f"module {name} stays enabled: {', '.join(users)} depend(s) on it")
        result["kept"].update(decided["kept"])
    return steps


def apply(module, written, files, steps, result):
    """Write, switch and test; on any failure restore everything and return the reason."""
    change = Apply(module)
    change.snapshot(written)
    failure = None
    try:
        for path, content, mode in files:
            change.write(path, content, mode, result["backups"])
        for step in steps:
            argv = [module.get_bin_path(step[0], required=True), *step[1:]]
            rc, output = change.run(argv)
            if rc != 0:
                failure = f"{' '.join(argv)} failed: {' '.join(output.split())}"
                break
        if failure is None:
            rc, output = change.run([module.get_bin_path("apache2ctl", required=True), "-t"])
            result["configtest"] = output.strip()
            if rc != 0:
                failure = "apache2ctl -t: " + configtest_message(output)
    except Exception as exc:  # restore whatever went wrong, then report it
        failure = f"{type(exc).__name__}: {exc}"
    if failure is not None:
        change.restore()
    return failure


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    files = desired_files(module)
    written = {path for path, _content, _mode in files}
    result = {
        "changed": False,
        "files": [],
        "enabled": [],
        "disabled": [],
        "kept": {},
        "backups": [],
        "overrides": [],
        "listen": [],
        "probes": [],
    }

    to_write, diffs = changed_files(files)
    steps = feature_steps(module, written, result)
    if module.params["effective"]:
        effective(module, files, result)
    result["files"] = [path for path, _content, _mode in to_write]
    result["changed"] = bool(to_write or steps or result["overrides"])
    if result["overrides"]:
        diffs.append(
            {
                "before_header": "in effect",
                "after_header": "in effect",
                "before": "".join(f"{item['where']}: {item['found']}\n" for item in result["overrides"]),
                "after": "".join(f"{item['expected']}\n" for item in result["overrides"]),
            }
        )
    if module._diff and result["changed"]:
        if steps:
            diffs.append(
                {
                    "before_header": "enabled features",
                    "after_header": "enabled features",
                    "before": "".join(f"-{item}\n" for item in result["disabled"]),
                    "after": "".join(f"+{item}\n" for item in result["enabled"]),
                }
            )
        result["diff"] = diffs
    if not result["changed"] or module.check_mode:
        module.exit_json(**result)
    if result["overrides"]:
        module.fail_json(
            msg="refused to change anything: "
            + "; ".join(override_message(item) for item in result["overrides"])
            + ". Remove these lines (or their files); Apache keeps serving its current configuration.",
            **result,
        )

    failure = apply(module, written, to_write, steps, result)
    if failure is not None:
        module.fail_json(msg=f"{failure}. The previous configuration was restored; Apache keeps serving it.", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

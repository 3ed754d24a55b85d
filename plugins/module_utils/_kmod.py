# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel modules kept from loading: the modprobe.d file that disables them, modprobe's merged
configuration (``modprobe -c``), ``/proc/modules`` and the kernel's list of built-in modules.

How modprobe (kmod) resolves its configuration, from kmod's source (libkmod/libkmod-config.c,
libkmod/libkmod-module.c, libkmod/libkmod.c) and modprobe.d(5):
- It reads the ``*.conf`` files of /etc/modprobe.d, /run/modprobe.d, /usr/local/lib/modprobe.d,
  the distribution's directory (/usr/lib/modprobe.d, /lib/modprobe.d on Debian 12) and
  /lib/modprobe.d, in that order of precedence: a file whose name was already read from an earlier
  directory is ignored (conf_files_insert_sorted), so /etc/modprobe.d/x.conf hides /lib/modprobe.d/x.conf.
- All the files are read in the lexicographic (strcmp) order of their names, whatever their
  directory; each ``install`` line is appended to one list (kmod_config_add_command).
- A module's install command is the FIRST entry of that list whose name matches it as an fnmatch()
  pattern (kmod_module_get_install_commands: "find only the first command, as modprobe from
  module-init-tools does"). So the file whose name sorts first wins: /etc/modprobe.d/00-x.conf's
  ``install usb_storage /bin/true`` beats our bulwark-hardening.conf, zz-x.conf's does not.
- ``blacklist`` lines only add up; a module is blacklisted when any file names it.
- Module names in ``install`` and ``blacklist`` lines have ``-`` turned into ``_`` (underscores()),
  and ``modprobe -c`` prints them that way, each kind in list order.
"""

from __future__ import annotations

import fnmatch
import os
import re

HEADER = "# Managed by bulwark.hardening (os_baseline): kernel modules kept from loading.\n"
INSTALL_COMMAND = "/bin/false"
NAME = re.compile(r"^[A-Za-z0-9_-]+$")

# kmod's default_config_paths (libkmod/libkmod.c) with SYSCONFDIR /etc and both values DISTCONFDIR
# has had (/lib up to Debian 12's kmod, /usr/lib later); a directory that does not exist is skipped.
CONFIG_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)

END_OF_CONFIG = "# End of configuration files."
MODULE_SUFFIXES = (".ko", ".ko.xz", ".ko.zst", ".ko.gz")


def normalize(name):
    """The kernel's spelling of a module name: ``-`` and ``_`` are the same, ``_`` is kept."""
    return name.replace("-", "_")


def invalid_names(names):
    """The names that are not module names (letters, digits, ``_`` and ``-`` only)."""
    return [name for name in names if not NAME.match(name)]


def wanted(names):
    """The distinct normalized module names, sorted."""
    return sorted({normalize(name) for name in names})


def spelled(names):
    """``wanted(names)`` as the caller spelt them (the first spelling of each), in the same order: the
    file says ``usb-storage`` as CIS and the kernel's file name do; kmod reads either spelling."""
    first = {}
    for name in names:
        first.setdefault(normalize(name), name)
    return [first[name] for name in wanted(names)]


def render(modules):
    """The modprobe.d file that disables ``modules`` (sorted by their normalized names, as spelt): a
    load attempt runs /bin/false and fails, and the module's own aliases are ignored."""
    lines = [HEADER]
    for module in modules:
        lines.append(f"install {module} {INSTALL_COMMAND}\n")
        lines.append(f"blacklist {module}\n")
    return "".join(lines)


def parse_showconfig(text):
    """``(installs, blacklisted)`` from ``modprobe -c``: the install lines as ``(pattern, command)``
    in modprobe's order, and the set of blacklisted names. The dumped indexes are not read."""
    installs = []
    blacklisted = set()
    for line in text.splitlines():
        if line.startswith(END_OF_CONFIG):
            break
        fields = line.split(None, 2)
        # kmod spells the names with _ already; a file's usb-storage is the same module.
        if len(fields) == 3 and fields[0] == "install":
            installs.append((normalize(fields[1]), fields[2].strip()))
        elif len(fields) == 2 and fields[0] == "blacklist":
            blacklisted.add(normalize(fields[1]))
    return installs, blacklisted


def install_for(installs, module):
    """The ``(pattern, command)`` modprobe runs to load ``module`` (the first match), or None."""
    for pattern, command in installs:
        if fnmatch.fnmatchcase(module, pattern):
            return pattern, command
    return None


def parse_proc_modules(text):
    """``{name: {"refcount": int or None, "users": [..], "state": str}}`` from /proc/modules.

    A line reads ``name size refcount users state address``: users is ``-`` or a comma-terminated
    list (``uas,``), ``[permanent],`` for a module that can never be unloaded; refcount is ``-``
    on a kernel without module unloading.
    """
    loaded = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        users = [] if fields[3] == "-" else [user for user in fields[3].split(",") if user]
        refcount = int(fields[2]) if fields[2].isdigit() else None
        loaded[fields[0]] = {"refcount": refcount, "users": users, "state": fields[4]}
    return loaded


def module_name_of(path):
    """``kernel/fs/udf/udf.ko.xz`` -> ``udf``; None for a path that is no module file."""
    base = os.path.basename(path.strip())
    for suffix in MODULE_SUFFIXES:
        if base.endswith(suffix):
            return normalize(base[: -len(suffix)])
    return None


def parse_modules_builtin(text):
    """The names listed in modules.builtin (one module path a line)."""
    return {name for name in map(module_name_of, text.splitlines()) if name}


def parse_modules_dep(text):
    """The names of the module files listed in modules.dep (``path: dependencies``)."""
    return {name for name in (module_name_of(line.split(":", 1)[0]) for line in text.splitlines()) if name}


def is_builtin(module, builtin, loaded, in_sys_module, has_initstate):
    """Whether ``module`` is built into the kernel: listed in modules.builtin, or present in
    /sys/module without a /proc/modules line and without an initstate (a loadable module has one)."""
    return module in builtin or (in_sys_module and module not in loaded and not has_initstate)


def in_use(entry):
    """Why a loaded module cannot be unloaded without force, or None: its users, its refcount."""
    if entry["users"]:
        return "used by " + ", ".join(entry["users"])
    if entry["refcount"]:
        return f"in use (refcount {entry['refcount']})"
    return None


def showconfig_argv(modprobe, candidate_dir, dest, config_dirs=CONFIG_DIRS):
    """``modprobe -c`` as modprobe would read its configuration with the candidate file in place of
    ``dest``: the candidate's directory just before dest's (it hides dest, which has its name, and
    a same-named file in an earlier directory still hides it), then the usual directories.

    Without a candidate (dest already holds it), the plain command: modprobe's own directories.
    """
    if candidate_dir is None:
        return [modprobe, "-c"]
    dirs = list(config_dirs)
    here = os.path.dirname(dest)
    at = dirs.index(here) if here in dirs else 0
    dirs.insert(at, candidate_dir)
    argv = [modprobe, "-c"]
    for path in dirs:
        argv += ["-C", path]
    return argv


def config_files(listing):
    """The config files modprobe reads, in its order: ``listing`` is ``[(directory, [names])]`` in
    precedence order; ``*.conf`` names only, the first directory's copy of a name only, sorted by name."""
    chosen = {}
    for directory, names in listing:
        for name in names:
            if name.startswith(".") or len(name) < 6 or not name.endswith(".conf"):
                continue
            chosen.setdefault(name, os.path.join(directory, name))
    return [chosen[name] for name in sorted(chosen)]


def conf_installs(text):
    """The ``(pattern, command)`` install lines of one modprobe.d file (``\\`` continues a line)."""
    found = []
    for line in text.replace("\\\n", "").splitlines():  # kmod joins the lines as they are
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[0] == "install":
            found.append((normalize(fields[1]), fields[2].strip()))
    return found


def describe_override(pattern, command, source):
    """``/etc/modprobe.d/x.conf: install usb_storage /bin/true`` (the file when it was found)."""
    line = f"install {pattern} {command}"
    return f"{source}: {line}" if source else line


def state_diff(unloaded, overridden):
    """The before and after of the modules' state: ``sctp loaded`` -> ``sctp not loaded`` for each
    module unloaded (or to unload), and each override -> our install command."""
    before = [f"{name} loaded\n" for name in unloaded]
    after = [f"{name} not loaded\n" for name in unloaded]
    for name, why in sorted(overridden.items()):
        before.append(f"{name} {why}\n")
        after.append(f"{name} install {INSTALL_COMMAND}\n")
    return "".join(before), "".join(after)

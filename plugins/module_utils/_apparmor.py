# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AppArmor as the kernel shows it and as GRUB will boot it: the loaded profiles and their modes,
a process's label, the processes that run unconfined although a profile for their executable is
loaded, the kernel command line's AppArmor arguments, and the grub.d file that adds them.

Everything here is pure."""

from __future__ import annotations

import os

# The kernel arguments CIS asks for (Debian 12 v1.1.0 1.3.1.2), as name and value.
REQUIRED_ARGS = (("apparmor", "1"), ("security", "apparmor"))
UNCONFINED = "unconfined"
DROP_IN_NAME = "99-bulwark-apparmor.cfg"
# Where grub-mkconfig writes the entries of this host's kernels in grub.cfg.
LINUX_BEGIN = "### BEGIN /etc/grub.d/10_linux ###"
LINUX_END = "### END /etc/grub.d/10_linux ###"
HEADER = "# Managed by bulwark.hardening (os_baseline): AppArmor on the kernel command line\n"
DROP_IN_LINE = 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX apparmor=1 security=apparmor"\n'

# What grub-mkconfig does before it writes grub.cfg (it is a /bin/sh script under set -e): source
# /etc/default/grub, then each /etc/default/grub.d/*.cfg. The files come as arguments, in that order;
# the two variables are printed NUL-terminated, so that no value can fake the separator.
SOURCE_SCRIPT = (
    "set -e; unset GRUB_CMDLINE_LINUX GRUB_CMDLINE_LINUX_DEFAULT; "
    'for file in "$@"; do . "$file"; done; '
    'printf "%s\\0%s\\0" "${GRUB_CMDLINE_LINUX-}" "${GRUB_CMDLINE_LINUX_DEFAULT-}"'
)


def parse_label(text):
    """``(label, mode or None)`` of one line as the kernel prints a profile or a process's label.

    ``/usr/sbin/cupsd (enforce)`` is the profile ``/usr/sbin/cupsd`` in enforce mode; ``unconfined``
    has no mode. A name may hold blanks and parentheses, so the mode is the last `` (...)`` only.
    """
    text = text.strip().rstrip("\0").strip()
    if text.endswith(")") and " (" in text:
        name, _sep, mode = text[:-1].rpartition(" (")
        if name and mode and " " not in mode:
            return name, mode
    return text, None


def parse_profiles(text):
    """``{profile name: mode}`` of ``/sys/kernel/security/apparmor/profiles``, one ``name (mode)`` a line."""
    profiles = {}
    for line in text.splitlines():
        if line.strip():
            name, mode = parse_label(line)
            profiles[name] = mode or "unknown"
    return profiles


def mode_counts(profiles):
    """``{mode: number of profiles}``, the modes sorted."""
    counts = {}
    for mode in profiles.values():
        counts[mode] = counts.get(mode, 0) + 1
    return dict(sorted(counts.items()))


def not_accepted(profiles, accepted):
    """``{name: mode}`` of the profiles whose mode is not one of ``accepted``, sorted by name."""
    return {name: mode for name, mode in sorted(profiles.items()) if mode not in accepted}


def unconfined_with_profile(processes, profiles):
    """The processes that run unconfined although a profile named by their executable's path is loaded.

    ``processes`` are ``(pid, executable path, label)``. This is aa-status's question ("processes are
    unconfined but have a profile defined") in its simple form: a profile whose name is an absolute path
    attaches to that executable, and the process started before the profile was loaded (or was started
    unconfined on purpose). Profiles that attach through a glob or an ``attach`` path are not matched.
    Returns ``[{pid, exe, profile}]`` sorted by PID.
    """
    found = []
    for pid, exe, label in sorted(processes):
        name, _mode = parse_label(label)
        if name == UNCONFINED and exe in profiles and exe.startswith("/"):
            found.append({"pid": pid, "exe": exe, "profile": exe})
    return found


def split_cmdline(text):
    """The arguments of a kernel command line: blank-separated, a double-quoted part kept whole
    (``param="a b"``), the quotes dropped, as the kernel's own parser reads it."""
    args, current, quoted, started = [], [], False, False
    for char in text:
        if char == '"':
            quoted, started = not quoted, True
        elif char.isspace() and not quoted:
            if started:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        args.append("".join(current))
    return args


def last_value(args, name):
    """The value of the last ``name=value`` among ``args`` (the kernel applies them in order), or None."""
    value = None
    for arg in args:
        key, sep, rest = arg.partition("=")
        if sep and key == name:
            value = rest
    return value


def missing_args(args):
    """The required ``name=value`` arguments that ``args`` lack or set otherwise last, in order."""
    return [f"{name}={value}" for name, value in REQUIRED_ARGS if last_value(args, name) != value]


def boot_missing(linux, linux_default):
    """What the entries grub-mkconfig writes lack: Debian's normal entries get
    ``GRUB_CMDLINE_LINUX GRUB_CMDLINE_LINUX_DEFAULT``, its recovery entries ``GRUB_CMDLINE_LINUX`` alone."""
    normal = missing_args(split_cmdline(linux) + split_cmdline(linux_default))
    recovery = missing_args(split_cmdline(linux))
    return [arg for arg in ("apparmor=1", "security=apparmor") if arg in normal or arg in recovery]


def grub_cfg_missing(text):
    """``[(line number, missing args)]`` of the ``linux`` lines of a grub.cfg that boot this host's kernels and
    lack a required argument.

    grub-mkconfig writes this host's kernels between ``### BEGIN /etc/grub.d/10_linux ###`` and its END line;
    only those are judged when the file has them (memtest86+'s ``linux`` lines and another system's kernels
    found by os-prober never carry this host's arguments). A grub.cfg without the markers is judged on the
    ``linux`` lines whose image is a ``vmlinuz``/``vmlinux``.
    """
    lines = text.splitlines()
    marked = LINUX_BEGIN in (line.strip() for line in lines)
    inside = not marked
    found = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if marked and stripped in (LINUX_BEGIN, LINUX_END):
            inside = stripped == LINUX_BEGIN
            continue
        words = stripped.split(None, 1)
        if not inside or not words or words[0] not in ("linux", "linuxefi"):
            continue
        args = split_cmdline(words[1] if len(words) > 1 else "")
        if not args or (not marked and not os.path.basename(args[0]).startswith(("vmlinuz", "vmlinux"))):
            continue
        missing = missing_args(args[1:])  # the first is the kernel image
        if missing:
            found.append((number, missing))
    return found


def grub_d_order(names):
    """The names of ``/etc/default/grub.d`` that grub-mkconfig sources, in its order: ``*.cfg`` (not hidden,
    as the shell's glob skips a leading dot), sorted as the C locale sorts them."""
    return sorted((name for name in names if name.endswith(".cfg") and not name.startswith(".")), key=os.fsencode)


def render_drop_in():
    """Our grub.d file: a header, then the line that appends the arguments to ``GRUB_CMDLINE_LINUX``."""
    return HEADER + DROP_IN_LINE


def parse_sourced(out):
    """``(GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT)`` from SOURCE_SCRIPT's output; ValueError otherwise."""
    parts = out.split("\0")
    if len(parts) != 3 or parts[2] != "":
        raise ValueError(f"unexpected output of the sourced GRUB files: {out!r}")
    return parts[0], parts[1]

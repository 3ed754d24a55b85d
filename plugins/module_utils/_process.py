# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes as the lockout guard and the commit-confirmation see them: /proc and the journal,
looked up by process ID (never a bounded tail of a log, which others can flood)."""

from __future__ import annotations

import json
import os
import time

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text

# What container managers leave for the processes inside: systemd's record (systemd as PID 1 in any
# container manager, nspawn, LXC), Docker's and Podman's markers.
CONTAINER_MARKERS = ("/run/systemd/container", "/.dockerenv", "/run/.containerenv")


def in_container(module=None, markers=CONTAINER_MARKERS):
    """Whether this process runs in a container, whose kernel is the host's: a marker file, or else
    (given a module) ``systemd-detect-virt --container``."""
    if any(os.path.exists(path) for path in markers):
        return True
    detect = module.get_bin_path("systemd-detect-virt") if module is not None else None
    return bool(detect) and module.run_command([detect, "--container"], environ_update={"LC_ALL": "C"})[0] == 0


def _stat_fields(pid):
    """The fields of /proc/PID/stat after the command name (field 3 onwards), or None."""
    parts = read_text(f"/proc/{pid}/stat").rsplit(")", 1)
    return parts[1].split() if len(parts) == 2 else None


def parent_of(pid):
    """The parent's PID, or None."""
    fields = _stat_fields(pid)
    try:
        return int(fields[1]) if fields else None
    except (ValueError, IndexError):
        return None


def ancestor_pids(pid=None):
    """This process (or ``pid``) and its ancestors, nearest first, init excluded."""
    pids = []
    pid = pid or os.getpid()
    while pid and pid > 1 and len(pids) < 64:
        pids.append(pid)
        pid = parent_of(pid)
    return pids


def boot_time():
    """When the kernel booted (epoch seconds), to a hundredth of a second: now less /proc/uptime.

    /proc/stat's btime is whole seconds, truncated: a process start computed from it may be up to a
    second early, enough to place a login sshd accepted just after it re-read its files before that
    moment (the fresh-login confirmation then refused a valid proof on a fast machine).
    """
    try:
        with open("/proc/uptime", encoding="ascii") as handle:
            return time.time() - float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            return float(next(int(line.split()[1]) for line in handle if line.startswith("btime ")))
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_start(pid):
    """Start time of a process (epoch seconds, to a hundredth of a second), or None."""
    fields = _stat_fields(pid)
    try:
        ticks = int(fields[19])
    except (TypeError, ValueError, IndexError):
        return None
    boot = boot_time()
    if boot is None:
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def journal_by_pid(module, pids):
    """``(epoch_seconds, message)`` of everything the processes ``pids`` logged since boot."""
    journalctl = module.get_bin_path("journalctl")
    if not journalctl or not pids:
        return []
    argv = [journalctl, "--boot", "--output", "json", "--no-pager", *(f"_PID={pid}" for pid in pids)]
    rc, out, _err = module.run_command(argv)
    records = []
    for line in out.splitlines() if rc == 0 else []:
        try:
            entry = json.loads(line)
            when = int(entry["__REALTIME_TIMESTAMP"]) / 1e6
        except (ValueError, KeyError, TypeError):
            continue
        if isinstance(entry.get("MESSAGE"), str):
            records.append((when, entry["MESSAGE"]))
    return records

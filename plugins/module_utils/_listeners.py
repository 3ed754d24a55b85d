# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading the host's listening sockets: /proc/net, the processes holding them, their units.

One reader for the modules that ask what listens (listening_sockets, ufw_rules' listener guard and
its port-move rules); the parsing and matching is in ``_sockets`` (pure, tested with samples).
"""

from __future__ import annotations

import os
import pwd
import sys

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._sockets import (
    classify,
    guess_holder,
    listen_key,
    parse_cgroup,
    parse_list_sockets,
    parse_proc_net,
    parse_status,
    pick_holder,
    socket_inode,
)

PROC_NET = (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp"))


def read_sockets(proc):
    listeners = []
    for name, proto in PROC_NET:
        text = read_text(os.path.join(proc, "net", name))
        listeners.extend(parse_proc_net(text, proto, sys.byteorder))
    return listeners


def socket_holders(proc, inodes):
    """Map socket inode -> PIDs holding it; and the PIDs whose fd table is unreadable."""
    holders, hidden = {}, []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        fd_dir = os.path.join(proc, entry, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            hidden.append(int(entry))
            continue
        for fd in fds:
            try:
                inode = socket_inode(os.readlink(os.path.join(fd_dir, fd)))
            except PermissionError:
                hidden.append(int(entry))
                break
            except OSError:
                continue
            if inode in inodes:
                holders.setdefault(inode, set()).add(int(entry))
    return holders, hidden


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, TypeError):
        return None


def process_info(proc, pid):
    """``(name, uid, unit, exe)`` of a process; exe is None when it cannot be read."""
    base = os.path.join(proc, str(pid))
    name, uid = parse_status(read_text(os.path.join(base, "status")))
    unit = parse_cgroup(read_text(os.path.join(base, "cgroup")))
    try:
        exe = os.readlink(os.path.join(base, "exe"))
    except OSError:
        exe = None
    return name, uid, unit, exe


def describe_processes(module, proc, listeners):
    holders, hidden_pids = socket_holders(proc, {item["inode"] for item in listeners})
    hidden = {}
    for pid in hidden_pids:
        _name, uid, unit, _exe = process_info(proc, pid)
        hidden[pid] = (uid, unit)
    guessed = 0
    for item in listeners:
        pid = pick_holder(holders.get(item["inode"], ()))
        item.update({"pid": pid, "process": None, "unit": None, "exe": None, "attributed_by": "fd"})
        if pid is None:
            pid = guess_holder(item["uid"], hidden)
            item["attributed_by"] = "uid" if pid is not None else None
            guessed += pid is not None
        if pid is not None:
            name, uid, unit, exe = process_info(proc, pid)
            item.update({"pid": pid, "process": name, "unit": unit, "exe": exe})
            if uid is not None and item["attributed_by"] == "fd":
                item["uid"] = uid
        item["user"] = user_name(item["uid"])
    if hidden and (guessed or any(item["pid"] is None for item in listeners)):
        module.warn(
            f"could not read the open files of {len(hidden)} process(es) (root needs CAP_SYS_PTRACE, "
            "which containers often lack); their sockets are attributed by owner uid where that is "
            "unambiguous (attributed_by: uid), else reported without process"
        )


def read_socket_units(module):
    """Socket units by listen address; PID 1 holds the sockets of socket-activated units."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return {}
    rc, out, _err = module.run_command([systemctl, "list-sockets", "--all", "--output=json"])
    try:
        return parse_list_sockets(out) if rc == 0 else {}
    except ValueError:
        return {}


def read_listeners(module, proc="/proc"):
    """``(listeners, bindv6only)``: every listening socket, classified, with its process and unit.

    Raises ValueError when /proc/net cannot be parsed.
    """
    listeners = read_sockets(proc)
    bindv6only = read_text(os.path.join(proc, "sys", "net", "ipv6", "bindv6only"), "0").strip() == "1"
    classify(listeners, bindv6only)
    describe_processes(module, proc, listeners)
    if any(item["pid"] == 1 for item in listeners):
        socket_units = read_socket_units(module)
        for item in listeners:
            if item["pid"] == 1 and listen_key(item) in socket_units:
                item["unit"] = socket_units[listen_key(item)]
    return listeners, bindv6only

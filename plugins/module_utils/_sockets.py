# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the listening_sockets module.

Everything here works on text already read from ``/proc`` (and dpkg's file lists), so it
can be tested with captured samples; the module does the reading.

A *listener* is a dict: ``proto`` (tcp/udp), ``family`` (ipv4/ipv6), ``address`` (text
form), ``port``, ``inode``, ``uid``, and the flags ``wildcard`` (bound to every address),
``loopback`` (reachable from this host only) and ``serves_ipv4``.  The module adds the
process, user, unit, executable and package.
"""

from __future__ import annotations

import ipaddress
import json
import re

# /proc/net/tcp* state column: 0A is TCP_LISTEN. A UDP socket that is bound but not
# connected has state 07 (TCP_CLOSE) and a zero remote address: that is a UDP "listener".
TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"

SERVICE_KEYS = ("ports", "proto", "unit", "public")
PROTOS = ("tcp", "udp")
DHCP_CLIENT_PORT = 68
DHCPV6_CLIENT_PORT = 546
# The DHCP clients Debian ships, by process name (the kernel keeps 15 characters: systemd-network).
DHCP_CLIENTS = ("systemd-network", "systemd-networkd", "dhclient", "dhcpcd", "NetworkManager", "udhcpc")
_UNIT_RE = re.compile(r"^[A-Za-z0-9:_.\\@-]+$")
_UNIT_SUFFIXES = (".service", ".socket", ".scope", ".mount", ".swap", ".target", ".timer", ".path")
_SOCKET_LINK_RE = re.compile(r"^socket:\[(\d+)\]$")


class ServiceError(ValueError):
    """A declared service that cannot be used (message names the entry and the value)."""


# --------------------------------------------------------------------------- #
# /proc/net/{tcp,tcp6,udp,udp6}


def decode_address(hex_address, byteorder="little"):
    """Decode the address column of /proc/net/tcp* (``0100007F`` -> ``127.0.0.1``).

    The kernel prints the address as 32-bit words in host byte order: one word for IPv4,
    four for IPv6 (each word's bytes reversed on a little-endian host).
    """
    if len(hex_address) not in (8, 32):
        raise ValueError(f"not an IPv4 or IPv6 address in /proc/net format: {hex_address!r}")
    raw = bytes.fromhex(hex_address)
    words = [raw[i : i + 4] for i in range(0, len(raw), 4)]
    if byteorder == "little":
        words = [word[::-1] for word in words]
    address = ipaddress.ip_address(b"".join(words))
    # IPv4-mapped addresses in dotted form on every Python (3.11 on Debian 12 prints ::ffff:7f00:1).
    if address.version == 6 and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def parse_proc_net(text, proto, byteorder="little"):
    """Return the listening sockets of one /proc/net file's text.

    ``proto`` is ``tcp`` or ``udp``; the family follows from the address width. TCP
    sockets count in state LISTEN; UDP sockets when bound and not connected.
    """
    found = []
    for number, line in enumerate(text.splitlines()):
        fields = line.split()
        if number == 0 or not fields:
            continue  # header
        if len(fields) < 10:
            raise ValueError(f"{proto} line {number} has {len(fields)} fields: {line.strip()[:80]}")
        local, remote, state = fields[1], fields[2], fields[3]
        local_addr, local_port = local.rsplit(":", 1)
        remote_addr, remote_port = remote.rsplit(":", 1)
        if proto == "tcp":
            if state != TCP_LISTEN:
                continue
        elif state != UDP_UNCONNECTED or int(remote_port, 16) != 0 or int(remote_addr, 16) != 0:
            continue
        port = int(local_port, 16)
        if port == 0:
            continue
        address = decode_address(local_addr, byteorder)
        found.append(
            {
                "proto": proto,
                "family": "ipv6" if len(local_addr) == 32 else "ipv4",
                "address": address,
                "port": port,
                "uid": int(fields[7]),
                "inode": int(fields[9]),
            }
        )
    return found


def classify(listeners, bindv6only):
    """Set ``wildcard``, ``loopback`` and ``serves_ipv4`` on each listener (in place).

    An IPv6 wildcard socket (``::``) also accepts IPv4 unless ``net.ipv6.bindv6only`` is 1,
    or the same port is also bound on ``0.0.0.0`` (which a dual-stack socket would forbid,
    so that socket must have IPV6_V6ONLY set).
    """
    ipv4_wildcards = {(item["proto"], item["port"]) for item in listeners if item["address"] == "0.0.0.0"}
    for item in listeners:
        ip = ipaddress.ip_address(item["address"])
        mapped = getattr(ip, "ipv4_mapped", None)
        effective = mapped or ip
        item["wildcard"] = ip.is_unspecified
        item["loopback"] = effective.is_loopback
        if item["family"] == "ipv4" or mapped is not None:
            item["serves_ipv4"] = True
        else:
            item["serves_ipv4"] = (
                ip.is_unspecified and not bindv6only and (item["proto"], item["port"]) not in ipv4_wildcards
            )
        item["dhcp_client"] = is_dhcp_client(item)
    return listeners


def is_dhcp_client(item):
    """A DHCP client's port (udp/68, DHCPv6 udp/546 on IPv6): a client waiting for its server's
    replies, not a service. ufw's own before.rules and before6.rules let those replies in whatever
    the rule set says, so closing the firewall never cuts it off (the listener audit also asks for
    a DHCP client's process: anything else there is reachable and undeclared)."""
    if item["proto"] != "udp":
        return False
    return (item["port"] == DHCP_CLIENT_PORT and item["family"] == "ipv4") or (
        item["port"] == DHCPV6_CLIENT_PORT and item["family"] == "ipv6"
    )


def format_endpoint(item):
    """``tcp 0.0.0.0:80`` / ``tcp [::]:80``."""
    address = f"[{item['address']}]" if item["family"] == "ipv6" else item["address"]
    return f"{item['proto']} {address}:{item['port']}"


def describe(item):
    """One line naming process, unit, user, address and port, for warnings and errors."""
    process = item.get("process") or "no process (kernel socket)"
    if item.get("pid"):
        process = f"{process} (pid {item['pid']})"
    unit = item.get("unit") or "no unit"
    user = item.get("user") or str(item.get("uid", "?"))
    return f"{format_endpoint(item)} {process}, unit {unit}, user {user}"


# --------------------------------------------------------------------------- #
# /proc/<pid>/{fd,status,cgroup}


def socket_inode(link):
    """Inode of a ``socket:[12345]`` fd link, or None for any other link."""
    match = _SOCKET_LINK_RE.match(link)
    return int(match.group(1)) if match else None


def parse_status(text):
    """``(name, real uid)`` from /proc/<pid>/status."""
    name, uid = None, None
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        if key == "Name":
            name = value.strip()
        elif key == "Uid":
            uid = int(value.split()[0])
    return name, uid


def parse_cgroup(text):
    """The systemd unit a process runs in, from /proc/<pid>/cgroup (v1 or v2).

    Looks in the unified (``0::``) line, then the ``name=systemd`` hierarchy, and takes the
    deepest path element that is a unit other than a slice: ``/system.slice/apache2.service``
    and ``/docker/ID/system.slice/apache2.service`` both give ``apache2.service``.
    """
    paths = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths[parts[1]] = parts[2]
    for hierarchy in ("", "name=systemd"):
        for element in reversed(paths.get(hierarchy, "").split("/")):
            if element.endswith(_UNIT_SUFFIXES):
                return element
    return None


def pick_holder(pids):
    """The process to name for a socket several processes hold.

    PID 1 holds the sockets of socket-activated units; the service that inherited the
    socket says more, so the lowest other PID wins.
    """
    others = sorted(pid for pid in pids if pid != 1)
    if others:
        return others[0]
    return 1 if 1 in pids else None


def guess_holder(uid, hidden):
    """A process for a socket no readable fd table holds, from the socket's owner.

    ``hidden`` maps PID -> ``(uid, unit)`` for the processes whose fd table could not be
    read (root without CAP_SYS_PTRACE, as in most containers). When every such process
    of the socket's uid runs in one unit, the lowest PID stands for it; otherwise None.
    """
    candidates = sorted(pid for pid, (owner, _unit) in hidden.items() if owner == uid and pid != 1)
    units = {hidden[pid][1] for pid in candidates}
    if candidates and len(units) == 1:
        return candidates[0]
    return None


# --------------------------------------------------------------------------- #
# dpkg file lists


def path_variants(path):
    """A path and its merged-/usr twin (/bin/x <-> /usr/bin/x), as dpkg may list either."""
    variants = {path}
    for top in ("/bin/", "/sbin/", "/lib/", "/lib64/"):
        if path.startswith("/usr" + top):
            variants.add(path[4:])
        elif path.startswith(top):
            variants.add("/usr" + path)
    return variants


def package_of_list_file(filename):
    """``apache2-bin.list`` / ``libc6:amd64.list`` -> ``apache2-bin`` / ``libc6``."""
    return filename[: -len(".list")].split(":", 1)[0]


def find_owners(wanted, list_files):
    """Map each wanted path to the package whose dpkg file list names it.

    ``list_files`` yields ``(filename, text)`` pairs from /var/lib/dpkg/info/*.list.
    """
    lookup = {}
    for path in wanted:
        for variant in path_variants(path):
            lookup[variant] = path
    owners = {}
    for filename, text in list_files:
        package = package_of_list_file(filename)
        for line in text.splitlines():
            original = lookup.get(line)
            if original is not None and original not in owners:
                owners[original] = package
    return owners


# --------------------------------------------------------------------------- #
# Declared services (bulwark_services)


def _unit_name(name, value):
    if not isinstance(value, str) or not _UNIT_RE.match(value):
        raise ServiceError(f"bulwark_services.{name}.unit must be a systemd unit name, got {value!r}")
    return value if value.endswith(_UNIT_SUFFIXES) else value + ".service"


def _ports(name, value):
    if not isinstance(value, list) or not value:
        raise ServiceError(f"bulwark_services.{name}.ports must be a non-empty list of port numbers, got {value!r}")
    ports = []
    for port in value:
        if isinstance(port, bool) or not isinstance(port, (int, str)) or not str(port).isdigit():
            raise ServiceError(f"bulwark_services.{name}.ports must hold port numbers 1-65535, got {port!r}")
        number = int(port)
        if not 1 <= number <= 65535:
            raise ServiceError(f"bulwark_services.{name}.ports must hold port numbers 1-65535, got {port!r}")
        ports.append(number)
    return ports


def normalize_services(services, ssh_port=22):
    """Validate ``bulwark_services`` and return it as a list of complete entries.

    Each entry is ``{name, ports, proto, unit, public}`` (``unit`` None when not given;
    a unit without suffix gets ``.service``). SSH on ``ssh_port`` is always declared:
    added to a user entry named ``ssh`` or as its own entry.
    """
    if not isinstance(services, dict):
        raise ServiceError(f"bulwark_services must be a mapping of name to service, got {services!r}")
    entries = []
    for name, spec in services.items():
        if not isinstance(spec, dict):
            raise ServiceError(f"bulwark_services.{name} must be a mapping (ports, proto, unit, public), got {spec!r}")
        unknown = sorted(set(spec) - set(SERVICE_KEYS))
        if unknown:
            raise ServiceError(
                f"bulwark_services.{name} has unknown key(s) {', '.join(map(str, unknown))}; "
                f"allowed: {', '.join(SERVICE_KEYS)}"
            )
        proto = spec.get("proto", "tcp")
        if proto not in PROTOS:
            raise ServiceError(f"bulwark_services.{name}.proto must be tcp or udp, got {proto!r}")
        public = spec.get("public", True)
        if not isinstance(public, bool):
            raise ServiceError(f"bulwark_services.{name}.public must be true or false, got {public!r}")
        unit = spec.get("unit")
        entries.append(
            {
                "name": str(name),
                "ports": _ports(name, spec.get("ports")),
                "proto": proto,
                "unit": None if unit is None else _unit_name(name, unit),
                "public": public,
            }
        )
    ssh = next((entry for entry in entries if entry["name"] == "ssh" and entry["proto"] == "tcp"), None)
    if ssh is None:
        entries.append({"name": "ssh", "ports": [ssh_port], "proto": "tcp", "unit": None, "public": True})
    elif ssh_port not in ssh["ports"]:
        ssh["ports"].append(ssh_port)
    return entries


def match_service(item, services):
    """``(service, reason)``: the declared service a listener belongs to, or why none does.

    A listener belongs to a service with its protocol and port, the same unit (when the
    service names one), and, for a service with ``public: false``, an address that is not
    the wildcard (loopback or one internal address).
    """
    reasons = []
    for service in services:
        if service["proto"] != item["proto"] or item["port"] not in service["ports"]:
            continue
        if service["unit"] is not None and service["unit"] != item.get("unit"):
            where = f"{item['proto']}/{item['port']}"
            reasons.append(f"{where} is declared for {service['name']} with unit {service['unit']}")
            continue
        if not service["public"] and item["wildcard"]:
            reasons.append(f"{service['name']} is declared public: false but listens on every address")
            continue
        return service, None
    return None, "; ".join(reasons) or "no declared service has this port"


def audit(listeners, services, purging=(), masking=()):
    """Sort listeners into declared, undeclared, loopback, and conflicts.

    Listeners of a package in ``purging`` or a unit in ``masking`` are about to go away:
    they are not undeclared, but if a declared service needs one, that is a conflict.
    """
    purging, masking = set(purging), set(masking)
    result = {"declared": [], "undeclared": [], "loopback": [], "dhcp_clients": [], "vanishing": [], "conflicts": []}
    for item in listeners:
        service, reason = match_service(item, services)
        going = item.get("package") in purging or item.get("unit") in masking
        if service is not None:
            item["service"] = service["name"]
            result["declared"].append(item)
            if going:
                cause = f"package {item['package']}" if item.get("package") in purging else f"unit {item['unit']}"
                result["conflicts"].append(f"{service['name']} needs {cause} ({describe(item)})")
        elif going:
            result["vanishing"].append(item)
        elif item["loopback"]:
            result["loopback"].append(item)
        elif item.get("dhcp_client") and item.get("process") in DHCP_CLIENTS:
            # Any other process there is reported: ufw lets udp/68 in from source port 67, so a program
            # that is no DHCP client listening there is reachable through the firewall.
            result["dhcp_clients"].append(item)
        else:
            item["reason"] = reason
            result["undeclared"].append(item)
    return result


def unit_paths(unit):
    """Where a package ships a unit file (Debian 12 uses /lib, Debian 13 /usr/lib)."""
    return [f"/lib/systemd/system/{unit}", f"/usr/lib/systemd/system/{unit}"]


def unit_conflicts(services, unit_owners, purging=(), masking=()):
    """Declared services whose unit would be masked or whose unit's package would be purged.

    ``unit_owners`` maps a unit name to the package shipping its unit file.
    """
    purging, masking = set(purging), set(masking)
    conflicts = []
    for service in services:
        unit = service["unit"]
        if unit is None:
            continue
        if unit in masking:
            conflicts.append(f"{service['name']} needs unit {unit}, which is to be masked")
        owner = unit_owners.get(unit)
        if owner in purging:
            conflicts.append(f"{service['name']} needs package {owner} (it ships {unit}), which is to be purged")
    return conflicts


def listen_key(item):
    """How ``systemctl list-sockets`` writes a listener's address: ``0.0.0.0:111``, ``[::]:111``."""
    return format_endpoint(item).split(" ", 1)[1]


def parse_list_sockets(text):
    """Map listen address -> socket unit from ``systemctl list-sockets --output=json``."""
    units = {}
    for entry in json.loads(text or "[]"):
        if isinstance(entry, dict) and entry.get("listen") and entry.get("unit"):
            units.setdefault(entry["listen"], entry["unit"])
    return units

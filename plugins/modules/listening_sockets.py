# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: listening_sockets
short_description: List every listening TCP/UDP socket with its process, user, unit and package
version_added: 0.2.0
description:
  - Reads C(/proc/net/tcp), C(tcp6), C(udp) and C(udp6) (no C(ss) or C(netstat) text parsing),
    TCP sockets in state LISTEN and bound, unconnected UDP sockets, IPv4 and IPv6.
  - Names each socket's process and user (from C(/proc/PID/fd) and C(/proc/PID/status)), its systemd
    unit (from C(/proc/PID/cgroup)), its executable and the Debian package that ships it (from dpkg's
    file lists).
  - A C([::]) socket also serves IPv4 when C(net.ipv6.bindv6only) is 0 (unless the same port is also
    bound on C(0.0.0.0)). Listeners reachable from this host only (C(127.0.0.0/8), C(::1)) are
    returned separately in RV(loopback).
  - Compares the other listeners with the declared services O(services) and returns the ones nobody
    declared in RV(undeclared), each with the reason.
  - Read-only; C(changed) is always false. With C(--diff), the undeclared listeners are returned as a
    diff, so a caller that marks the task changed in check mode shows them in a drift report.
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  diff_mode:
    details: Before lists the undeclared listeners, after is empty.
  platform:
    platforms: linux
options:
  services:
    description:
      - The declared services, in the shape of the collection-wide variable C(bulwark_services) -
        a mapping of name to C({ports, proto, unit, public}).
      - C(ports) (required) is a list of port numbers; C(proto) is V(tcp) (default) or V(udp); C(unit)
        (optional) is the systemd unit that must own the socket (C(.service) is added when no suffix is
        given); C(public) (default V(true)) V(false) means loopback or internal only, so a listener on
        every address (C(0.0.0.0) or C([::])) does not count as that service.
      - Errors name the entry as C(bulwark_services.NAME.KEY).
    type: dict
    default: {}
  ssh_port:
    description: SSH is always declared, on this TCP port.
    type: int
    default: 22
  purging:
    description:
      - Packages about to be purged. Their listeners are expected to disappear, so they are returned in
        RV(vanishing), not in RV(undeclared); when a declared service needs one, that is a conflict.
    type: list
    elements: str
    default: []
  masking:
    description: Units about to be masked; treated like O(purging).
    type: list
    elements: str
    default: []
  warn:
    description: Also emit a warning for each undeclared listener.
    type: bool
    default: false
  proc:
    description: Where procfs is mounted.
    type: path
    default: /proc
  dpkg_info:
    description: dpkg's database directory of file lists (C(PACKAGE.list)), used to name each program's package.
    type: path
    default: /var/lib/dpkg/info
notes:
  - Needs root to see other users' processes; without it the sockets are still listed, without process.
  - A socket held only by PID 1 belongs to a socket-activated unit that has not started yet; systemd does
    not say which, so its unit is C(init.scope).
  - A program that sets C(IPV6_V6ONLY) on a C([::]) socket itself (nginx's C(ipv6only=on)) is reported as
    serving IPv4 too when C(bindv6only) is 0 and C(0.0.0.0) is not bound separately.
"""

EXAMPLES = r"""
- name: What listens on this host, and is it declared?
  bulwark.hardening.listening_sockets:
    services:
      http: {ports: [80, 443], unit: apache2}
      node-exporter: {ports: [9100], public: false}
  register: sockets

- name: Fail on anything nobody declared
  ansible.builtin.assert:
    that: sockets.undeclared | length == 0
    fail_msg: "Undeclared listeners: {{ sockets.undeclared_summary | join('; ') }}"
"""

RETURN = r"""
listeners:
  description:
    - Every listening socket. Keys C(proto), C(family), C(address), C(port), C(wildcard), C(loopback),
      C(serves_ipv4), C(uid), C(user), C(pid), C(process), C(unit), C(exe), C(package), C(inode),
      C(attributed_by) (V(fd), or V(uid) when the process could only be inferred from the socket's owner), and
      C(service) (the declared service it belongs to) or C(reason) (why none).
  returned: always
  type: list
  elements: dict
  sample:
    - {proto: tcp, family: ipv6, address: "::", port: 80, wildcard: true, loopback: false, serves_ipv4: true,
       uid: 0, user: root, pid: 812, process: apache2, unit: apache2.service, exe: /usr/sbin/apache2,
       package: apache2-bin, inode: 31337, service: http}
declared:
  description: Listeners that belong to a declared service.
  returned: always
  type: list
  elements: dict
undeclared:
  description: Listeners on a non-loopback address that no declared service accounts for.
  returned: always
  type: list
  elements: dict
undeclared_summary:
  description: One line per undeclared listener naming protocol, address, port, process, unit and user.
  returned: always
  type: list
  elements: str
  sample: ["tcp 0.0.0.0:8081 python3 (pid 4242), unit bulwark-stray.service, user nobody"]
loopback:
  description: Undeclared listeners reachable from this host only (reported, never drift).
  returned: always
  type: list
  elements: dict
loopback_summary:
  description: One line per loopback listener.
  returned: always
  type: list
  elements: str
dhcp_clients:
  description:
    - DHCP clients' sockets (udp/68 on IPv4, udp/546 on IPv6, held by a DHCP client such as systemd-networkd or
      dhclient; another program there is undeclared), not services; ufw's own framework rules let
      their servers' replies in whatever the rule set says. Never undeclared, never drift.
  returned: always
  type: list
  elements: dict
vanishing:
  description: Undeclared listeners of a package in O(purging) or a unit in O(masking).
  returned: always
  type: list
  elements: dict
conflicts:
  description: Declared services that need a package in O(purging) or a unit in O(masking).
  returned: always
  type: list
  elements: str
  sample: ["http needs package apache2-bin (tcp [::]:80 apache2 (pid 812), unit apache2.service, user root)"]
bindv6only:
  description: The value of C(net.ipv6.bindv6only).
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._listeners import read_listeners
from ansible_collections.bulwark.hardening.plugins.module_utils._sockets import (
    ServiceError,
    audit,
    describe,
    find_owners,
    normalize_services,
    unit_conflicts,
    unit_paths,
)

DPKG_INFO = "/var/lib/dpkg/info"


def dpkg_lists(info_dir):
    try:
        names = sorted(name for name in os.listdir(info_dir) if name.endswith(".list"))
    except OSError:
        return
    for name in names:
        yield name, read_text(os.path.join(info_dir, name))


def main():
    module = AnsibleModule(
        argument_spec={
            "services": {"type": "dict", "default": {}},
            "ssh_port": {"type": "int", "default": 22},
            "purging": {"type": "list", "elements": "str", "default": []},
            "masking": {"type": "list", "elements": "str", "default": []},
            "warn": {"type": "bool", "default": False},
            "proc": {"type": "path", "default": "/proc"},
            "dpkg_info": {"type": "path", "default": DPKG_INFO},
        },
        supports_check_mode=True,
    )
    params = module.params
    proc = params["proc"]
    try:
        services = normalize_services(params["services"], params["ssh_port"])
    except ServiceError as exc:
        module.fail_json(msg=str(exc))

    try:
        listeners, bindv6only = read_listeners(module, proc)
    except ValueError as exc:
        module.fail_json(msg=f"cannot parse {proc}/net: {exc}")

    wanted = {item["exe"] for item in listeners if item["exe"]}
    wanted.update(path for item in listeners if item["unit"] for path in unit_paths(item["unit"]))
    wanted.update(path for service in services if service["unit"] for path in unit_paths(service["unit"]))
    owners = find_owners(wanted, dpkg_lists(params["dpkg_info"]))
    for item in listeners:
        # The program's package; for PID 1 (socket activation) or an unreadable executable,
        # the package that ships the unit.
        item["package"] = None if item["pid"] == 1 else owners.get(item["exe"])
        for path in unit_paths(item["unit"]) if item["unit"] and not item["package"] else ():
            item["package"] = item["package"] or owners.get(path)
    unit_owners = {}
    for service in services:
        if service["unit"]:
            found = [owners[path] for path in unit_paths(service["unit"]) if path in owners]
            if found:
                unit_owners[service["unit"]] = found[0]

    listeners.sort(key=lambda item: (item["proto"], item["port"], item["family"], item["address"]))
    sorted_out = audit(listeners, services, params["purging"], params["masking"])
    sorted_out["conflicts"].extend(unit_conflicts(services, unit_owners, params["purging"], params["masking"]))

    summary = [describe(item) for item in sorted_out["undeclared"]]
    result = {
        "changed": False,
        "listeners": listeners,
        "bindv6only": bindv6only,
        "undeclared_summary": summary,
        "loopback_summary": [describe(item) for item in sorted_out["loopback"]],
        **sorted_out,
    }
    if params["warn"]:
        for item in sorted_out["undeclared"]:
            module.warn(f"listener nobody declared in bulwark_services: {describe(item)} ({item['reason']})")
    if module._diff and summary:
        result["diff"] = {
            "before_header": "undeclared listeners",
            "after_header": "declared services (bulwark_services)",
            "before": "".join(line + "\n" for line in summary),
            "after": "",
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()

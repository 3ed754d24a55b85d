# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host model: what every role of the collection knows about the host, checked once.

The common role computes it (filter ``bulwark.hardening.role_plan('host')``) and publishes it as the
fact ``bulwark_host``; ssh_hardening, ufw, fail2ban, minimal_packages and apache_hardening read
it and never each other's variables. It holds:

- ``ssh_port``: where sshd listens (``bulwark_ssh_port``), the one name of the SSH port;
- ``services``: ``bulwark_services`` normalised (``_sockets.normalize_services``), SSH included;
- ``closed``: ``bulwark_closed_ports``, public listeners the firewall closes on purpose;
- ``declared``: every ``PORT/PROTO`` somebody declared - the services, SSH, the ports
  ``ufw_rules`` opens and the closed ones - which the firewall's listener guard and the listener
  audit accept;
- ``audit_services``: the same, in the shape of ``bulwark_services`` (for listening_sockets);
- ``connection``: the connection Ansible is using (from the login environment).
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils._sockets import ServiceError, normalize_services

# The collection-wide variables the host model is built from.
HOST_VARIABLES = ("bulwark_ssh_port", "bulwark_services", "bulwark_closed_ports")
# ufw_rules entries that open a port (the listener audit counts them as declared).
_OPENING = ("allow", "limit")
# A ufw port range wider than this is left out of the audit's declared ports (an operator who opens
# thousands of ports declares them by hand, if at all).
_MAX_RANGE = 1024


def _port(value):
    if isinstance(value, bool) or not str(value).strip().isdigit() or not 1 <= int(value) <= 65535:
        return None
    return int(value)


def _closed_ports(errors, closed):
    """``bulwark_closed_ports`` as ``[(port, proto)]``; entries are ``PORT`` (tcp) or ``PORT/PROTO``."""
    if not isinstance(closed, (list, tuple)):
        errors.append(f"bulwark_closed_ports must be a list of ports (80, or 5353/udp), got {closed!r}")
        return []
    result = []
    for index, entry in enumerate(closed):
        text = str(entry).strip().lower()
        number, _sep, proto = text.partition("/")
        proto = proto or "tcp"
        port = _port(number)
        if isinstance(entry, bool) or port is None or proto not in ("tcp", "udp"):
            errors.append(
                f"bulwark_closed_ports[{index}] must be a port number 1-65535, "
                f"optionally with /tcp or /udp, got {entry!r}"
            )
            continue
        result.append((port, proto))
    return result


def _rule_ports(rule):
    """``[(port, proto)]`` that one ``ufw_rules`` entry opens to incoming traffic (none for other rules)."""
    if not isinstance(rule, dict) or rule.get("rule", "allow") not in _OPENING:
        return []
    if rule.get("direction", "in") != "in" or rule.get("port") is None:
        return []
    protos = ("tcp", "udp") if str(rule.get("proto", "any")) == "any" else (str(rule.get("proto")),)
    ports = []
    for part in str(rule["port"]).split(","):
        low, _sep, high = part.strip().partition(":")
        first, last = _port(low), _port(high or low)
        if first is None or last is None or last < first or last - first >= _MAX_RANGE:
            continue
        ports.extend((number, proto) for number in range(first, last + 1) for proto in protos)
    return ports


def connection(settings):
    """The connection Ansible is using, from the login environment read over it.

    ``is_ssh`` is true when the login environment was read (an SSH connection); the addresses and
    ports come from ``SSH_CONNECTION``; ``auth_info`` is sshd's record of how the session logged in
    (``ExposeAuthInfo``), read by the lockout guards.
    """
    env = settings.get("login_env") or {}
    words = [*str(env.get("SSH_CONNECTION", "")).split(), "", "", "", ""][:4]
    return {
        "type": settings.get("ansible_connection") or "ssh",
        "is_ssh": bool(settings.get("is_ssh")),
        "user": env.get("USER") or env.get("LOGNAME") or settings.get("ansible_user") or "",
        "client_addr": words[0],
        "client_port": words[1],
        "server_addr": words[2],
        "server_port": words[3],
        "auth_info": env.get("SSH_USER_AUTH", ""),
    }


def declaration_errors(values):
    """The host model's errors for the declaration in *values* (the play's variables), for the input
    check that runs first of all; the model published later is built from the same values."""
    if any(name not in values for name in HOST_VARIABLES) or any(values[name] is None for name in HOST_VARIABLES):
        return []
    return host_model({name: values[name] for name in HOST_VARIABLES})["errors"]


def stale_errors(values):
    """Messages for a host-model variable whose value differs from the one the published model was
    built from (``values`` as the play sees them now, ``bulwark_host`` among them)."""
    host = values.get("bulwark_host")
    if not isinstance(host, dict) or not isinstance(host.get("inputs"), dict):
        return []
    return [
        f"{name} is {values[name]!r} here, but the host model (bulwark_host) was built with "
        f"{host['inputs'][name]!r} at the start of the play: set it in the inventory (group_vars, host_vars) "
        "or for the whole play, not for one role"
        for name in HOST_VARIABLES
        if name in values and name in host["inputs"] and values[name] != host["inputs"][name]
    ]


def host_model(settings):
    """Check the collection-wide declaration and return the host model (see the module's docstring).

    *settings*: ``bulwark_ssh_port``, ``bulwark_services``, ``bulwark_closed_ports``, ``ufw_rules``
    (may be absent: the ufw role is not in the play), and for the connection ``login_env``,
    ``is_ssh``, ``ansible_connection`` and ``ansible_user``. ``errors`` lists what is wrong, one
    message each, naming the variable as the operator wrote it.
    """
    errors = []
    ssh_port = _port(settings["bulwark_ssh_port"])
    if ssh_port is None:
        errors.append(f"bulwark_ssh_port must be a port number 1-65535, got {settings['bulwark_ssh_port']!r}")
        ssh_port = 22
    try:
        services = normalize_services(settings["bulwark_services"], ssh_port)
    except ServiceError as exc:
        errors.append(str(exc))
        services = normalize_services({}, ssh_port)
    closed = _closed_ports(errors, settings["bulwark_closed_ports"])

    audit = {entry["name"]: {key: entry[key] for key in ("ports", "proto", "public")} for entry in services}
    for entry, spec in zip(services, audit.values()):
        if entry["unit"]:
            spec["unit"] = entry["unit"]
    declared = {(port, entry["proto"]) for entry in services for port in entry["ports"]}

    rules = settings.get("ufw_rules") or []
    for index, rule in enumerate(rules if isinstance(rules, (list, tuple)) else []):
        opened = [item for item in _rule_ports(rule) if item not in declared]
        for proto in ("tcp", "udp"):
            ports = sorted({port for port, kind in opened if kind == proto})
            if ports:
                audit[f"ufw_rules[{index}]" + ("" if proto == "tcp" else "/udp")] = {"ports": ports, "proto": proto}
        declared.update(opened)
    for proto in ("tcp", "udp"):
        ports = sorted({port for port, kind in closed if kind == proto and (port, kind) not in declared})
        if ports:
            audit["bulwark_closed_ports" + ("" if proto == "tcp" else "/udp")] = {"ports": ports, "proto": proto}
    declared.update(closed)

    return {
        "errors": errors,
        # What the model was built from: a role included later with other values is refused
        # (_inputs.input_errors), never silently given the play's first answer.
        "inputs": {name: settings[name] for name in HOST_VARIABLES},
        "ssh_port": ssh_port,
        "services": services,
        "closed": [f"{port}/{proto}" for port, proto in closed],
        "declared": [f"{port}/{proto}" for port, proto in sorted(declared)],
        "audit_services": audit,
        "connection": connection(settings),
    }

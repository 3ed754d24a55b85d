# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The os_baseline role's plan: its variables checked against each other and against what the
preflight's checks found on the host, and the settings it writes computed (role_plan)."""

from __future__ import annotations

import re

from ansible_collections.bulwark.hardening.plugins.module_utils._pam import FLAGS as PAM_FLAGS

# A sysctl key as the kernel names it under /proc/sys (dots or slashes; interface names may hold
# dashes and, as the key's own separator is the dot, no dots).
_SYSCTL_KEY = re.compile(r"^[A-Za-z0-9_*-]+([./][A-Za-z0-9_*:@+-]+)+$")
_MODULE = re.compile(r"^[A-Za-z0-9_-]+$")
_UMASK = re.compile(r"^0?[0-7]{3}$")
# What agetty and the motd would expand into system details (CIS 1.6.1-1.6.3).
_ESCAPES = re.compile(r"\\[mrsv]")
_OS_NAMES = re.compile(r"\b(debian|gnu/linux|linux|ubuntu)\b", re.IGNORECASE)
# The most permissive umask CIS accepts: group may not write, others get nothing (027).
_UMASK_REQUIRED = 0o027
# Interfaces that mean the host routes packets for others: containers, VMs, VPNs.
_FORWARDING_INTERFACES = re.compile(r"^(docker|br-|virbr|cni|flannel|cali|vxlan|podman|lxcbr|lxdbr|veth|wg|tun|tap)")


def sysctl_key(key):
    return key.replace("/", ".")


def sysctl_settings(settings):
    """(the sysctl settings to write, errors) from the defaults, forwarding and the overrides."""
    errors = []
    wanted = {key: str(value) for key, value in settings["sysctl_defaults"].items()}
    if not settings["os_baseline_ip_forward"]:
        wanted.update(dict.fromkeys(settings["forwarding_keys"], "0"))
    overrides = settings["os_baseline_sysctl_overrides"]
    if not isinstance(overrides, dict):
        return wanted, [f"os_baseline_sysctl_overrides must be a mapping of sysctl keys to values, got {overrides!r}"]
    for key, value in overrides.items():
        if not isinstance(key, str) or not _SYSCTL_KEY.match(key) or "*" in key:
            errors.append(f"os_baseline_sysctl_overrides: {key!r} is not a sysctl key such as net.ipv4.tcp_syncookies")
            continue
        name = sysctl_key(key)
        if value is None:
            wanted.pop(name, None)
        elif isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
            errors.append(
                f"os_baseline_sysctl_overrides[{key!r}] must be a number or a string as"
                f" /proc/sys/{name.replace('.', '/')} shows it (null leaves the key unmanaged), got {value!r}"
            )
        elif any(ord(char) < 32 and char != "\t" for char in str(value)):
            errors.append(f"os_baseline_sysctl_overrides[{key!r}] holds a control character: {value!r}")
        else:
            wanted[name] = " ".join(str(value).split())
    return dict(sorted(wanted.items())), errors


def kernel_modules(settings):
    """(the modules to disable, errors): the defaults and the extra ones, less the allowed ones."""
    errors = []
    names = {}
    for variable in ("os_baseline_kernel_modules_extra", "os_baseline_kernel_modules_allowed"):
        value = settings[variable]
        if not isinstance(value, list):
            errors.append(f"{variable} must be a list of kernel module names, got {value!r}")
            names[variable] = []
            continue
        bad = [item for item in value if not isinstance(item, str) or not _MODULE.match(item)]
        errors.extend(f"{variable}: {item!r} is not a kernel module name such as usb-storage" for item in bad)
        names[variable] = [item.replace("-", "_") for item in value if item not in bad]
    allowed = set(names["os_baseline_kernel_modules_allowed"])
    wanted = []
    for name in settings["modules_defaults"] + settings["os_baseline_kernel_modules_extra"]:
        if (
            isinstance(name, str)
            and _MODULE.match(name)
            and name.replace("-", "_") not in allowed
            and name not in wanted
        ):
            wanted.append(name)
    return wanted, errors


def forwarding_errors(settings):
    """Refuse to switch forwarding off on a host that forwards for containers, VMs or a VPN."""
    if settings["os_baseline_ip_forward"]:
        return []
    interfaces = settings["sysctl_check"].get("interfaces") or []
    routing = sorted(name for name in interfaces if _FORWARDING_INTERFACES.match(name))
    if not routing:
        return []
    return [
        "os_baseline_ip_forward is false, but this host forwards packets for containers, VMs or a VPN (interfaces "
        f"{', '.join(routing[:5])}{'...' if len(routing) > 5 else ''}): switching forwarding off would cut them off."
        " Set os_baseline_ip_forward: true to leave forwarding as it is (CIS 3.3.1 is then not met)"
    ]


def override_errors(check, what):
    """Another file that overrides one of our settings: named, and refused before anything is written."""
    errors = []
    for key, found in sorted((check.get("overridden") or {}).items()):
        if isinstance(found, dict):
            where = f"{found.get('file', '?')} sets {found.get('value', '?')!s}"
        else:
            where = str(found)
        errors.append(
            f"{what} {key}: {where}, which overrides bulwark.hardening's setting. Remove or change it there"
            " (bulwark.hardening never edits another file)"
        )
    return errors


def banner_errors(banner):
    if not isinstance(banner, str):
        return [f"os_baseline_banner must be a string, got {banner!r}"]
    errors = []
    escape = _ESCAPES.search(banner)
    if escape:
        errors.append(f"os_baseline_banner holds {escape.group(0)!r}, which shows the OS or kernel at login (CIS 1.6)")
    if _OS_NAMES.search(banner):
        errors.append(f"os_baseline_banner names the operating system ({_OS_NAMES.search(banner).group(0)!r}; CIS 1.6)")
    if any(ord(char) < 32 and char not in "\n\t" for char in banner):
        errors.append(f"os_baseline_banner holds a control character: {banner!r}")
    return errors


def access_errors(settings):
    errors = []
    logfile = settings["os_baseline_sudo_logfile"]
    if not isinstance(logfile, str) or not re.match(r"^/[A-Za-z0-9_./-]+$", logfile) or "/../" in logfile + "/":
        errors.append(f"os_baseline_sudo_logfile must be an absolute path without spaces or quotes, got {logfile!r}")
    umask = settings["os_baseline_umask"]
    if not isinstance(umask, str) or not _UMASK.match(umask):
        errors.append(f"os_baseline_umask must be an octal umask such as '027' (quoted), got {umask!r}")
    elif int(umask, 8) & _UMASK_REQUIRED != _UMASK_REQUIRED:
        errors.append(
            f"os_baseline_umask {umask!r} lets the group write or others read; at least '027' is required (CIS 5.4.3.3)"
        )
    return errors


_MOUNT_FLAGS = ("nodev", "nosuid", "noexec")


def mount_options(settings):
    """(mount point -> the flags it must have, errors) from os_baseline_mount_options; a point whose value
    is null or an empty list is left unmanaged."""
    name = "os_baseline_mount_options"
    value = settings[name]
    if not isinstance(value, dict):
        return {}, [f"{name} must be a mapping of mount points to lists of {', '.join(_MOUNT_FLAGS)}, got {value!r}"]
    wanted, errors = {}, []
    for point, flags in value.items():
        if not isinstance(point, str) or not re.match(r"^/[^\s]*$", point) or point.rstrip("/") == "":
            errors.append(
                f"{name}: {point!r} is not a mount point such as /tmp (the root file system is never remounted)"
            )
            continue
        if flags is None or flags == []:
            continue
        if not isinstance(flags, list):
            errors.append(f"{name}[{point!r}] must be a list such as [nodev, nosuid, noexec], got {flags!r}")
            continue
        bad = [flag for flag in flags if flag not in _MOUNT_FLAGS]
        if bad:
            errors.append(f"{name}[{point!r}]: {', '.join(map(repr, bad))} is not one of {', '.join(_MOUNT_FLAGS)}")
            continue
        wanted[point.rstrip("/")] = [flag for flag in _MOUNT_FLAGS if flag in flags]
    return wanted, errors


_SETTING_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The settings of PAM's modules (variable -> pam_auth's option) and login.defs: a word or number each,
# true or false only for the module's bare flags (_pam.FLAGS).
_PAM_SETTINGS = {
    "os_baseline_faillock": "faillock",
    "os_baseline_pwquality": "pwquality",
    "os_baseline_pwhistory": "pwhistory",
}


def setting_errors(name, value, *, flags=()):
    """A mapping of settings (or null): each key a word, each value a number, a word or, for a key of
    ``flags``, a boolean."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [f"{name} must be a mapping of settings (or null to leave them alone), got {value!r}"]
    errors = []
    for key, item in value.items():
        if not isinstance(key, str) or not _SETTING_KEY.match(key):
            errors.append(f"{name}: {key!r} is not a setting name")
        elif isinstance(item, bool):
            if key not in flags:
                also = f" (YAML reads yes/no as a boolean; true or false only for {', '.join(flags)})" if flags else ""
                errors.append(f"{name}[{key!r}] must be a number or a word, got {item!r}{also}")
        elif not isinstance(item, (int, str)) or not re.match(r"^[A-Za-z0-9_.+:/-]+$", str(item)):
            errors.append(f"{name}[{key!r}] must be a number or a single word, got {item!r}")
    return errors


# A user name as useradd takes it (Debian's NAME_REGEX, with upper case and a trailing $ for machines).
_USER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*\$?$")


def access_setting_errors(settings):
    """PAM's and login.defs' settings, refused by the variable's name before any module sees them."""
    errors = [
        problem
        for name, option in _PAM_SETTINGS.items()
        for problem in setting_errors(name, settings[name], flags=PAM_FLAGS[option])
    ]
    unix = settings["os_baseline_pam_unix"]
    if unix is not None:
        if not isinstance(unix, dict) or set(unix) - {"nullok", "hashing"}:
            errors.append(f"os_baseline_pam_unix must be a mapping of nullok and hashing (or null), got {unix!r}")
        else:
            if not isinstance(unix.get("nullok", False), bool):
                errors.append(f"os_baseline_pam_unix.nullok must be true or false, got {unix['nullok']!r}")
            if unix.get("hashing", "yescrypt") not in ("yescrypt", "sha512"):
                errors.append(f"os_baseline_pam_unix.hashing must be yescrypt or sha512, got {unix['hashing']!r}")
    errors += setting_errors("os_baseline_login_defs", settings["os_baseline_login_defs"])
    if settings["os_baseline_login_defs"] is None:
        errors.append("os_baseline_login_defs must be a mapping of login.defs keys ({} leaves the file alone)")
    su_group = settings["os_baseline_su_group"]
    if su_group is not None and (not isinstance(su_group, str) or not _USER_NAME.match(su_group) or su_group == "root"):
        errors.append(
            f"os_baseline_su_group must be a group name other than root (or null to leave su alone), got {su_group!r}"
        )
    exclude = settings["os_baseline_password_ageing_exclude"]
    if not isinstance(exclude, list) or not all(isinstance(item, str) and _SETTING_KEY.match(item.replace("-", "_"))
                                                for item in exclude):  # fmt: skip
        errors.append(f"os_baseline_password_ageing_exclude must be a list of user names, got {exclude!r}")
    return errors


def job_access(settings):
    """({'cron': users, 'at': users}, errors): root first, then the users each variable lists, once each."""
    users, errors = {}, []
    for tool, name in (("cron", "os_baseline_cron_allow"), ("at", "os_baseline_at_allow")):
        value = settings[name]
        if not isinstance(value, list):
            errors.append(f"{name} must be a list of user names (root is always allowed), got {value!r}")
            value = []
        bad = [item for item in value if not isinstance(item, str) or not _USER_NAME.match(item)]
        if bad:
            errors.append(f"{name}: {', '.join(map(repr, bad))} is not a user name")
        users[tool] = ["root", *dict.fromkeys(item for item in value if item not in bad and item != "root")]
    return users, errors


def role_plan(settings):
    """Check the os_baseline role's variables (and what the preflight found); compute its settings.

    Returns ``errors``, ``sysctl`` (key -> value, as written), ``modules`` (names to disable), ``mounts``
    (mount point -> flags), ``jobs`` (cron and at: the users allowed, root first) and ``umask`` (the
    normalised octal string).
    """
    sysctl, errors = sysctl_settings(settings)
    modules, module_errors = kernel_modules(settings)
    errors += module_errors
    errors += forwarding_errors(settings)
    errors += override_errors(settings["sysctl_check"], "sysctl")
    errors += override_errors(settings["modules_check"], "kernel module")
    errors += banner_errors(settings["os_baseline_banner"])
    errors += access_errors(settings)
    mounts, mount_errors = mount_options(settings)
    errors += mount_errors
    access_errors_found = access_setting_errors(settings)
    errors += access_errors_found
    jobs, job_errors = job_access(settings)
    errors += job_errors
    umask = settings["os_baseline_umask"]
    return {
        "errors": errors,
        "sysctl": sysctl,
        "modules": modules,
        "mounts": mounts,
        "jobs": jobs,
        # The PAM and login.defs checks run only on settings that passed (the assert names the rest).
        "access_ok": not access_errors_found,
        "umask": umask.zfill(4)[-3:] if isinstance(umask, str) and _UMASK.match(umask) else "027",
    }

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a daemon running the configuration that is on disk? One engine for every role.

Evidence, none of which an ``touch -r`` can fake:

* the daemon's last (re)load, as systemd saw it: the unit's ``StateChangeTimestampMonotonic``
  (it moves on start, restart and every reload, not on ``daemon-reload``), with the boot id;
* a stamp written by our own modules right after the daemon (re)loaded or was found current:
  ``{"load": <load id>, "at": <epoch>, "files": {path: sha256}}`` - the content known to be loaded;
* a file's ctime (status change time), which the kernel sets to "now" on every write, rename,
  chmod or utime call and which no system call can set back.

Decision, per file the daemon reads: when the stamp belongs to the daemon's current load and
holds the file, the file is stale when its content differs; otherwise (the daemon reloaded since,
e.g. a reboot, or there is no stamp) it is stale when its ctime is newer than the load.
A ctime moved by ``chattr +i`` after the stamp is harmless: the stamp's content decides.
"""

from __future__ import annotations

import glob
import hashlib
import ipaddress
import json
import os
import tempfile
import time

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text

STAMP_DIR = "/var/lib/bulwark/loaded"
BOOT_ID = "/proc/sys/kernel/random/boot_id"
SHOW_PROPERTIES = ("ActiveState", "UnitFileState", "StateChangeTimestampMonotonic", "MainPID")


def parse_show(text):
    """``systemctl show -p ...`` output as a dict."""
    values = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def current_load(show, boot_id, now_realtime, now_monotonic):
    """``{"id", "at"}`` of the unit's last (re)load from ``systemctl show``; None when not active.

    ``id`` is exact (boot id and systemd's microseconds); ``at`` is the same instant as epoch seconds.
    """
    if show.get("ActiveState") != "active":
        return None
    try:
        micro = int(show.get("StateChangeTimestampMonotonic", "0"))
    except ValueError:
        return None
    if micro <= 0:
        return None
    return {"id": f"{boot_id}:{micro}", "at": now_realtime - now_monotonic + micro / 1e6}


def expand(patterns):
    """Paths matched by ``patterns`` (globs; a literal path is kept even when it is missing), in order."""
    paths = []
    for pattern in patterns:
        found = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        paths.extend(path for path in found if path not in paths)
    return paths


def fingerprint(path):
    """``(sha256, ctime)`` of what a daemon reads at ``path``; ``(None, None)`` when it is missing.

    A file is hashed through a symlink (the link's target is part of the hash, so does the newest
    ctime of link and target); a directory by its sorted listing (enabling or removing a link
    changes it).
    """
    try:
        link = os.lstat(path)
        info = os.stat(path)
    except OSError:
        return None, None
    digest = hashlib.sha256(os.path.realpath(path).encode() + b"\0")
    try:
        if os.path.isdir(path):
            digest.update("\0".join(sorted(os.listdir(path))).encode())
        else:
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 16), b""):
                    digest.update(chunk)
    except OSError:
        return None, None
    return digest.hexdigest(), max(link.st_ctime, info.st_ctime)


def decide(stamp, load, files):
    """Which of ``files`` (path -> (sha256, ctime)) the daemon has not loaded.

    ``stamp`` is the unit's stamp (or None), ``load`` its current load (or None: not running, so
    nothing is stale - starting it loads everything). Returns sorted reasons, one per stale file.
    """
    if load is None:
        return []
    known = stamp["files"] if stamp and stamp.get("load") == load["id"] else {}
    reasons = []
    for path, (digest, ctime) in sorted(files.items()):
        if path in known:
            if known[path] != digest:
                reasons.append(f"{path} differs from what the daemon loaded")
        elif digest is not None and ctime > load["at"]:
            reasons.append(f"{path} changed after the daemon last (re)loaded")
    return reasons


def restamp(stamp, load, files):
    """The stamp to record for ``load`` given ``files`` (path -> (sha256, ctime)) now on disk.

    What the stamp already knows for this load stays; any other file whose ctime is not newer than
    the load is what the daemon loaded; a file changed since is left out (unknown).
    """
    known = stamp["files"] if stamp and stamp.get("load") == load["id"] else {}
    recorded = {}
    for path, (digest, ctime) in files.items():
        if path in known:
            recorded[path] = known[path]
        elif digest is None or ctime <= load["at"]:
            recorded[path] = digest
    return {"load": load["id"], "at": load["at"], "files": dict(sorted(recorded.items()))}


def stamp_path(unit, directory=None):
    """The stamp file of a unit (``ssh`` and ``ssh.service`` share one)."""
    name = unit[: -len(".service")] if unit.endswith(".service") else unit
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"unit name {unit!r} cannot name a stamp file")
    return os.path.join(directory or STAMP_DIR, name + ".json")


def read_stamp(path):
    """The stamp at ``path``, or None when it is missing or unreadable (then ctimes decide)."""
    try:
        with open(path, encoding="utf-8") as handle:
            stamp = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or not isinstance(stamp.get("files"), dict):
        return None
    return stamp


def write_stamp(path, stamp):
    """Write a stamp atomically (mode 0600, its directory 0700)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".stamp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stamp, handle, indent=1, sort_keys=True)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_boot_id(path=BOOT_ID):
    text = read_text(path, None)
    return "unknown-boot" if text is None else text.strip()


def unit_show(module, unit):
    """``systemctl show`` of the properties the engine needs (empty dict when systemctl fails)."""
    systemctl = module.get_bin_path("systemctl")
    if not systemctl:
        return {}
    argv = [systemctl, "show", unit]
    for name in SHOW_PROPERTIES:
        argv.extend(["-p", name])
    rc, out, _err = module.run_command(argv, environ_update={"LC_ALL": "C"})
    return parse_show(out) if rc == 0 else {}


def inspect(module, unit, patterns, stamp_dir=None):
    """Everything a module needs to answer for ``unit`` and the files ``patterns`` match.

    Returns ``{"unit", "show", "load", "stamp", "stamp_path", "files", "stale"}``; ``files`` covers the
    patterns and every file the stamp already records (so that a restamp keeps them current).
    """
    show = unit_show(module, unit)
    load = current_load(show, read_boot_id(), time.time(), time.monotonic())
    path = stamp_path(unit, stamp_dir)
    stamp = read_stamp(path)
    wanted = expand(patterns)
    prints = {name: fingerprint(name) for name in wanted}
    stale = decide(stamp, load, prints)
    for name in (stamp or {}).get("files", {}):
        if name not in prints:
            prints[name] = fingerprint(name)
    return {
        "unit": unit,
        "show": show,
        "load": load,
        "stamp": stamp,
        "stamp_path": path,
        "files": prints,
        "stale": stale,
    }


def record(module, state, after_action=False):
    """Write the stamp for the unit's load now (re-read after an action); returns the new load.

    Safe whatever the files: one changed after the load is left out of the stamp. Skipped in check
    mode, when the daemon is not running and when the stamp would not change.
    """
    if module.check_mode:
        return state["load"]
    load = state["load"]
    files = state["files"]
    if after_action:
        show = unit_show(module, state["unit"])
        load = current_load(show, read_boot_id(), time.time(), time.monotonic())
        files = {name: fingerprint(name) for name in files}
    if load is None:
        return None
    new = restamp(state["stamp"], load, files)
    if new != state["stamp"]:
        try:
            write_stamp(state["stamp_path"], new)
        except OSError as exc:
            module.warn(f"cannot record what {state['unit']} loaded in {state['stamp_path']}: {exc}")
    return load


# ------------------------------------------------------------------ ufw: the firewall's own answer
# ufw is no daemon: `ufw reload` puts /etc/default/ufw and the rule files into the kernel without
# systemd seeing it. Its live answer is the kernel's rule set, so that is what is compared.
UFW_USER_CHAINS = ("ufw-user-input", "ufw-user-output", "ufw-user-forward")
_UFW_KEYS = {
    "-p": "proto",
    "-s": "src",
    "-d": "dst",
    "-i": "in",
    "-o": "out",
    "--dport": "dport",
    "--dports": "dport",
    "--sport": "sport",
    "--sports": "sport",
    "--ctstate": "ctstate",
    "-j": "target",
}
_UFW_FLAGS = {"--set": "recent", "--update": "recent"}
# Protocol names as written in ufw's files and as iptables prints them.
_PROTO_ALIASES = {"icmpv6": "ipv6-icmp", "58": "ipv6-icmp", "1": "icmp", "6": "tcp", "17": "udp"}


def _address(value):
    """An address as iptables prints it (a host gets its /32 or /128)."""
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return value


def ufw_rule_key(words):
    """The meaning of one ``-A`` rule (its words after the chain): what iptables keeps, not how it prints it."""
    key = {}
    for index, word in enumerate(words):
        if word in _UFW_KEYS and index + 1 < len(words):
            value = words[index + 1]
            if word in ("-s", "-d"):
                value = _address(value)
            elif word == "-p":
                value = _PROTO_ALIASES.get(value.lower(), value.lower())
            key[_UFW_KEYS[word]] = value
        elif word in _UFW_FLAGS:
            key[_UFW_FLAGS[word]] = word
    return tuple(sorted(key.items()))


def ufw_chain_rules(text, chains):
    """``{chain: [rule key, ...]}`` of the ``-A`` lines of ``chains`` in ``iptables -S`` or user.rules text."""
    rules = {chain: [] for chain in chains}
    for line in (text or "").splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "-A" and words[1] in rules:
            rules[words[1]].append(ufw_rule_key(words[2:]))
    return rules


def _shell_values(text):
    values = {}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("\"'")
    return values


def ufw_live_policies(live):
    """``{"INPUT": "DROP", ...}`` from ``iptables -S``."""
    policies = {}
    for line in (live or "").splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == "-P":
            policies[words[1]] = words[2]
    return policies


# ufw's framework files: their chains are loaded as written, ufw appends the jump to its user chain.
UFW_FRAMEWORK = ("before.rules", "after.rules")


def ufw_framework_rules(text, live):
    """``{chain: ([rule key, ...] in the file, [rule key, ...] live)}`` for every chain a framework file fills.

    Live, the jumps ufw itself appends to its user chains (``-j ufw-user-input``...) are left out.
    """
    chains = []
    for line in (text or "").splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "-A" and words[1] not in chains:
            chains.append(words[1])
    on_disk, loaded = ufw_chain_rules(text, chains), ufw_chain_rules(live, chains)
    return {
        chain: (
            on_disk[chain],
            [key for key in loaded[chain] if not dict(key).get("target", "").startswith(("ufw-user-", "ufw6-user-"))],
        )
        for chain in chains
    }


def ufw_foreign_rules(live):
    """The ``-A INPUT`` lines of ``iptables -S`` that accept traffic and that ufw did not make.

    ufw (MANAGE_BUILTINS=no) only jumps from INPUT to its own chains; a rule inserted by hand before those
    jumps accepts traffic whatever the policies and rules. ``ufw reload`` leaves it there.
    """
    found = []
    for line in (live or "").splitlines():
        words = line.split()
        if len(words) > 2 and words[0] == "-A" and words[1] == "INPUT":
            if dict(ufw_rule_key(words[2:])).get("target") == "ACCEPT":
                found.append(line.strip())
    return found


def ufw_differences(defaults_text, rules_text, live_text, rules6_text, live6_text, *, framework=None):
    """Why the live firewall is not what ufw's files say (empty when it is, or when ufw is not loaded).

    Compared: the built-in chains' policies with /etc/default/ufw, whether IPv6 is filtered by ufw
    (IPV6), rule by rule in order the user chains with user.rules and user6.rules and, given
    *framework* (``{"before.rules": text, "after.rules": text, "before6.rules": ..., "after6.rules": ...}``),
    the chains those files fill; and an INPUT rule ufw did not make that accepts traffic.
    """
    if f"-N {UFW_USER_CHAINS[0]}" not in (live_text or ""):
        return []  # ufw is not active: enabling it loads the files (ufw_rules' business)
    reasons = []
    defaults = _shell_values(defaults_text)
    live_policies = ufw_live_policies(live_text)
    for chain, option in (
        ("INPUT", "DEFAULT_INPUT_POLICY"),
        ("OUTPUT", "DEFAULT_OUTPUT_POLICY"),
        ("FORWARD", "DEFAULT_FORWARD_POLICY"),
    ):
        declared = defaults.get(option)
        if declared is None:
            continue
        wanted = "ACCEPT" if declared.upper() == "ACCEPT" else "DROP"
        if live_policies.get(chain) != wanted:
            reasons.append(
                f"{option}={declared} in /etc/default/ufw, but the live {chain} policy is {live_policies.get(chain)}"
            )
    ipv6 = defaults.get("IPV6", "yes").lower() == "yes"
    chains6 = tuple(chain.replace("ufw-", "ufw6-", 1) for chain in UFW_USER_CHAINS)
    live6_on = f"-N {chains6[0]}" in (live6_text or "")
    if ipv6 != live6_on:
        loaded = "loaded" if live6_on else "not loaded"
        reasons.append(f"IPV6={'yes' if ipv6 else 'no'} in /etc/default/ufw, but ufw's IPv6 chains are {loaded}")
    pairs = [("user.rules", rules_text, live_text, UFW_USER_CHAINS)]
    if ipv6 and live6_on:
        pairs.append(("user6.rules", rules6_text, live6_text, chains6))
    for name, text, live, chains in pairs:
        on_disk, loaded = ufw_chain_rules(text, chains), ufw_chain_rules(live, chains)
        for chain in chains:
            if on_disk[chain] != loaded[chain]:
                counts = f"{len(loaded[chain])} rules live, {len(on_disk[chain])} in {name}"
                reasons.append(f"the live {chain} chain differs from {name} ({counts})")
    families = [("", live_text, "iptables")] + ([("6", live6_text, "ip6tables")] if live6_on else [])
    for suffix, live, command in families:
        for base in UFW_FRAMEWORK if framework is not None else ():
            name = base.replace(".rules", f"{suffix}.rules")
            if framework.get(name) is None:
                continue
            for chain, (on_disk, loaded) in ufw_framework_rules(framework[name], live).items():
                if on_disk != loaded:
                    counts = f"{len(loaded)} rules live, {len(on_disk)} in {name}"
                    reasons.append(f"the live {chain} chain differs from /etc/ufw/{name} ({counts})")
        reasons.extend(
            f"the live INPUT chain accepts traffic by a rule ufw did not make ({command}: {line})"
            for line in ufw_foreign_rules(live)
        )
    return reasons


# ------------------------------------------------------------------ what the running daemon answers
# A web server's own answer to a local request is the most direct evidence of what it runs: its
# response headers (Server: shows ServerTokens, each security header exactly once) and the status of
# a method it must refuse (TRACE: 405).


def answer_differences(probe, status, headers):
    """Why one answer is not the expected one (empty when it is).

    ``probe``: ``url``, ``method``, ``headers`` (name -> the value it must have, exactly once; None:
    absent) and ``status`` (the acceptable codes; empty: any). ``status`` and ``headers`` (``[(name,
    value)]`` in the order received, repeats kept) are the answer; ``status`` None: no answer at all.
    """
    where = f"{probe.get('method') or 'GET'} {probe['url']}"
    if status is None:
        return [f"{where} got no answer"]
    reasons = []
    wanted_status = probe.get("status") or []
    if wanted_status and status not in wanted_status:
        reasons.append(f"{where} answers {status} (expected {' or '.join(str(code) for code in wanted_status)})")
    for name, value in sorted((probe.get("headers") or {}).items()):
        got = [str(found).strip() for key, found in headers if key.lower() == name.lower()]
        if value is None:
            if got:
                reasons.append(f"{where} sends {name}: {'; '.join(got)} (expected none)")
        elif got != [str(value).strip()]:
            shown = "; ".join(got) if got else "nothing"
            times = "" if len(got) < 2 else f" {len(got)} times"
            reasons.append(f"{where} sends {name}: {shown}{times} (expected {str(value).strip()}, once)")
    return reasons

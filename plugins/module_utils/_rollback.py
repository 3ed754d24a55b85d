# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Commit-confirmed changes: a rollback armed on the host before a change that can cut the
operator off goes live, disarmed only when a fresh login has proved the change.

Layout on the host (``STATE_DIR``)::

    armed/manifest.json   what is armed: the files saved, the reload actions, the timer, the deadline
    armed/files/N         each file as it was before the first change of the run
    armed/restore.sh      what the timer runs: put the files back, reload, log to the journal
    last-restored/        the same, moved here by restore.sh when it ran (restored_at added)

Whoever renames ``armed`` first wins: restore.sh (to ``restoring``) or the confirmation (to
``confirming``), so a confirmation that races the timer can never leave half a restore.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import time

from ansible_collections.bulwark.hardening.plugins.module_utils._process import journal_by_pid, parent_of, process_start

STATE_DIR = "/var/lib/bulwark/rollback"
UNIT_PREFIX = "bulwark-rollback"
MIN_WINDOW = 30
SSHD_DIR = "/etc/ssh/"
SSHD_PID_FILE = "/run/sshd.pid"
# The rollback option of the modules that arm (documented by the doc fragment bulwark.hardening.rollback).
ROLLBACK_SPEC = {
    "type": "dict",
    "options": {
        "window": {"type": "int", "default": 90},
        "actions": {"type": "list", "elements": "str", "default": []},
        "what": {"type": "str"},
        "arm": {"type": "bool", "default": True},
    },
}


def manifest_path(state_dir, name="armed"):
    return os.path.join(state_dir, name, "manifest.json")


def load_manifest(state_dir, name="armed"):
    """The manifest in ``state_dir/name``, or None."""
    try:
        with open(manifest_path(state_dir, name), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _write_atomic(path, text, mode=0o600):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def snapshot(manifest, paths, armed_dir):
    """Save each of ``paths`` not saved yet (the first save of a run is the last good state).

    A path that does not exist is recorded as absent (the restore removes it). Returns the
    paths newly saved.
    """
    saved = {entry["path"] for entry in manifest["files"]}
    files_dir = os.path.join(armed_dir, "files")
    os.makedirs(files_dir, mode=0o700, exist_ok=True)
    added = []
    for path in paths:
        if path in saved:
            continue
        entry = {"path": path, "saved": None}
        if os.path.islink(path) and not os.path.exists(path):
            entry["real"] = os.path.realpath(path)  # a dangling link: the change creates its target
        elif os.path.lexists(path):
            real = os.path.realpath(path)
            name = str(len(manifest["files"]))
            target = os.path.join(files_dir, name)
            shutil.copy2(real, target)
            info = os.stat(real)
            os.chown(target, info.st_uid, info.st_gid)
            entry.update(saved=os.path.join("files", name), real=real)
        manifest["files"].append(entry)
        saved.add(path)
        added.append(path)
    return added


def restore_script(manifest, state_dir):
    """The POSIX shell script the timer runs: files back as they were, then the reload actions."""
    quote = shlex.quote
    armed = os.path.join(state_dir, "armed")
    work = os.path.join(state_dir, "restoring")
    done = os.path.join(state_dir, "last-restored")
    what = "; ".join(manifest["what"])
    lines = [
        "#!/bin/sh",
        "# bulwark.hardening rollback, run by the timer " + manifest["unit"] + ".timer unless Ansible",
        "# confirmed a fresh login first. Puts back the files below as they were before the run's",
        "# first change, then reloads what read them. Safe to run by hand.",
        # One comment line: a newline in what (a YAML block, a path) would start a command.
        "# What changed: " + " ".join(what.splitlines()),
        "set -u",
        # Claim the snapshot; if a confirmation took it first, there is nothing to do.
        f"mv {quote(armed)} {quote(work)} 2>/dev/null || exit 0",
        f"logger -t {UNIT_PREFIX} -p auth.warning {quote('restoring the configuration from before: ' + what)}",
        "status=0",
    ]
    for entry in manifest["files"]:
        dest = entry.get("real") or entry["path"]
        if entry["saved"]:
            source = os.path.join(work, entry["saved"])
            tmp = f"{dest}.bulwark-rollback"
            lines.append(f"cp -p {quote(source)} {quote(tmp)} && mv -f {quote(tmp)} {quote(dest)} || status=1")
        else:
            lines.append(f"rm -f {quote(dest)} || status=1")
    for action in manifest["actions"]:
        lines.append(f"{action} || status=1")
    lines += [
        f"rm -rf {quote(done)}",
        f"date +%s > {quote(os.path.join(work, 'restored_at'))}",
        f"mv {quote(work)} {quote(done)}",
        f'logger -t {UNIT_PREFIX} -p auth.warning "restored (status $status)"',
        "exit $status",
        "",
    ]
    return "\n".join(lines)


def summary(manifest, armed=True):
    """What the roles and the confirmation need to know (returned as the fact bulwark_rollback)."""
    if not manifest:
        return {"armed": False}
    return {
        "armed": armed,
        "armed_at": manifest["armed_at"],
        "deadline": manifest["deadline"],
        "window": manifest["window"],
        "unit": manifest["unit"],
        "what": manifest["what"],
        "files": [entry["path"] for entry in manifest["files"]],
    }


def timer_active(module, unit):
    systemctl = module.get_bin_path("systemctl")
    if not systemctl or not unit:
        return False
    rc, out, _err = module.run_command([systemctl, "is-active", f"{unit}.timer"])
    return rc == 0 and out.strip() == "active"


def arm(module, paths, actions, what, window, *, state_dir=STATE_DIR, now=None):
    """Save ``paths`` and (re)start the timer that restores them in ``window`` seconds.

    Called just before a change goes live; a second call in the same run adds its paths and
    actions to the same snapshot and restarts the window (the new timer starts before the
    old one is stopped: the host is never unprotected). Returns the summary.
    """
    if window < MIN_WINDOW:
        module.fail_json(msg=f"the rollback window must be at least {MIN_WINDOW} seconds, got {window}")
    systemd_run = module.get_bin_path("systemd-run")
    systemctl = module.get_bin_path("systemctl")
    if not systemd_run or not systemctl:
        module.fail_json(msg="cannot arm the rollback: systemd-run or systemctl not found (needs systemd)")
    now = time.time() if now is None else now
    what = what or "files " + ", ".join(paths)
    armed_dir = os.path.join(state_dir, "armed")
    manifest = load_manifest(state_dir)
    old_unit = manifest["unit"] if manifest else None
    if manifest and not timer_active(module, old_unit):
        # Left from a run whose timer is gone (a reboot inside the window, or stopped by hand):
        # what is on the host now is what this session logged in to. Start afresh.
        shutil.rmtree(armed_dir, ignore_errors=True)
        manifest = None
    if manifest is None:
        os.makedirs(armed_dir, mode=0o700, exist_ok=True)
        manifest = {"armed_at": int(now), "files": [], "actions": [], "what": []}
    snapshot(manifest, paths, armed_dir)
    for action in actions:
        if action not in manifest["actions"]:
            manifest["actions"].append(action)
    if what not in manifest["what"]:
        manifest["what"].append(what)
    if any(path.startswith(SSHD_DIR) for path in paths):
        manifest["sshd_changed_at"] = now
    unit = f"{UNIT_PREFIX}-{int(now * 1000)}"
    manifest.update(unit=unit, window=int(window), deadline=int(now + window), rearmed_at=int(now))
    _write_atomic(os.path.join(armed_dir, "restore.sh"), restore_script(manifest, state_dir), 0o700)
    argv = [
        systemd_run, "--unit", unit, "--description", f"bulwark.hardening rollback: {'; '.join(manifest['what'])}",
        f"--on-active={int(window)}s", "--timer-property=AccuracySec=1s",
        "/bin/sh", os.path.join(armed_dir, "restore.sh"),
    ]  # fmt: skip
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg=f"cannot arm the rollback timer: {(err or out).strip()}; nothing was changed", cmd=argv)
    # Only once the new timer runs: until then the manifest names the timer a confirmation must stop.
    _write_atomic(manifest_path(state_dir), json.dumps(manifest, indent=2) + "\n")
    if old_unit:
        module.run_command([systemctl, "stop", f"{old_unit}.timer"])
    return summary(manifest)


def arm_option(module, option, paths, default_what, result=None):
    """Arm as the module's ``rollback`` option says; returns the result's ``rollback`` (None without it).

    With ``arm: false`` (a connection that is not SSH: there is no login to prove) nothing is
    armed, and the result says which change went unconfirmed. Given the module's ``result``, puts
    it there too, as ``rollback`` and as the fact ``bulwark_rollback``.
    """
    if not option:
        return None
    what = option.get("what") or default_what
    if not option.get("arm", True):
        armed = {"armed": False, "unconfirmed": [what]}
    else:
        armed = arm(module, paths, option.get("actions") or [], what, option.get("window") or 90)
    if result is not None:
        result["rollback"] = armed
        result["ansible_facts"] = {"bulwark_rollback": armed}
    return armed


# ----------------------------------------------------------------- sshd: is the proof a proof?
# "systemctl reload ssh" returns once SIGHUP is sent; sshd re-reads its files when it re-executes
# a moment later. A login in between is served by the old configuration and proves nothing, so a
# change to sshd is confirmed only by a login that sshd accepted after it re-read its files.


def sshd_listener():
    try:
        with open(SSHD_PID_FILE, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def sshd_loaded_at(module, listener):
    """When the listening sshd last (re)read its configuration: its last "Server listening on"
    line, looked up by its process ID (it keeps its PID when it re-executes), else its start."""
    times = [when for when, message in journal_by_pid(module, [listener]) if message.startswith("Server listening on")]
    return max(times) if times else process_start(listener)


def session_accepted_at(listener, pid=None):
    """Start of this login's own sshd process (the child of the listener among our ancestors)."""
    pid = pid or os.getpid()
    for _step in range(64):
        parent = parent_of(pid)
        if parent is None or parent <= 1:
            return None
        if parent == listener:
            return process_start(pid)
        pid = parent
    return None


def sshd_settled(module, manifest, wait=20, sleep=time.sleep):
    """``(listener, loaded_at, error)``: waits up to ``wait`` seconds for sshd to re-read its files
    after the change; error when it has not. ``(None, None, None)`` when sshd did not change."""
    changed_at = manifest.get("sshd_changed_at")
    listener = sshd_listener()
    if changed_at is None or listener is None:
        return None, None, None
    loaded = sshd_loaded_at(module, listener)
    for _step in range(wait):
        if loaded is not None and loaded >= changed_at:
            return listener, loaded, None
        sleep(1)
        loaded = sshd_loaded_at(module, listener)
    if loaded is not None and loaded >= changed_at:
        return listener, loaded, None
    return listener, loaded, f"sshd has not re-read its configuration {wait} s after the change"


def sshd_proof_error(module, manifest, wait=20, sleep=time.sleep):
    """None when this login proves the sshd change (or sshd did not change), else why not."""
    listener, loaded, error = sshd_settled(module, manifest, wait, sleep)
    if error or listener is None:
        return error
    accepted = session_accepted_at(listener)
    if accepted is not None and accepted < loaded:
        return (
            "this login was accepted by sshd before it re-read its changed configuration, "
            "so it proves nothing about the new one"
        )
    return None


def confirm(module, armed_at=None, state_dir=STATE_DIR):
    """Disarm: keep the changes. Returns ``(summary, error)``; error when the host rolled back already."""
    armed_dir = os.path.join(state_dir, "armed")
    claimed = os.path.join(state_dir, "confirming")
    manifest = load_manifest(state_dir)
    if manifest is not None:
        unproven = sshd_proof_error(module, manifest)
        if unproven:
            return {**summary(manifest), "confirmed": False}, f"not confirmed: {unproven}"
        shutil.rmtree(claimed, ignore_errors=True)
        try:
            os.rename(armed_dir, claimed)
        except OSError:
            manifest = None  # restore.sh claimed it a moment ago
        else:
            systemctl = module.get_bin_path("systemctl")
            if systemctl:
                module.run_command([systemctl, "stop", f"{manifest['unit']}.timer"])
            shutil.rmtree(claimed, ignore_errors=True)
            return {**summary(manifest, armed=False), "confirmed": True}, None
    restored = load_manifest(state_dir, "last-restored")
    if armed_at is not None and restored and restored.get("armed_at") == armed_at:
        return {**summary(restored, armed=False), "restored_at": restored_at(state_dir)}, (
            "the host rolled back before the confirmation arrived (the run took longer than the window)"
        )
    return {"armed": False, "confirmed": False}, None


def restored_at(state_dir=STATE_DIR):
    try:
        with open(os.path.join(state_dir, "last-restored", "restored_at"), encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None

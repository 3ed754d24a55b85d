# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report's data model and its outputs: console, Markdown, JUnit XML and HTML.

Pure functions on plain data, for the drift_report callback (which collects task results into
per-host records with ``record`` and turns them into the report with ``build``) and its tests.
Every output is rendered from the same report dict, the one the JSON file holds. Nothing here
runs on a managed host.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import html
import json
import os
import re
from xml.etree import ElementTree

_DIFF_LINES = 6
# Settings named per task: a new file's first lines, not its whole content.
_SETTINGS = 12
_SUBJECTS = 20
_MESSAGE = 200


def _line(text) -> str:
    """One line of at most _MESSAGE characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= _MESSAGE else line[: _MESSAGE - 3] + "..."


def _diff_items(diff) -> list[dict]:
    items = diff if isinstance(diff, list) else [diff]
    return [item for item in items if isinstance(item, dict) and item]


def summarise_diff(diff) -> list[str]:
    """Return at most a few '+'/'-' lines of an Ansible diff (a dict or a list of dicts)."""
    lines: list[str] = []
    for item in _diff_items(diff):
        if "prepared" in item and isinstance(item["prepared"], str):
            lines.extend(line for line in item["prepared"].splitlines() if line.strip())
            continue
        before = item.get("before", "")
        after = item.get("after", "")
        if isinstance(before, str) and isinstance(after, str):
            old = before.splitlines()
            new = after.splitlines()
            lines.extend("-" + line for line in old if line not in new)
            lines.extend("+" + line for line in new if line not in old)
        elif before != after:
            lines.append("-%s" % json.dumps(before, sort_keys=True, default=str))
            lines.append("+%s" % json.dumps(after, sort_keys=True, default=str))
    if len(lines) > _DIFF_LINES:
        lines = [*lines[:_DIFF_LINES], "... (%d more lines)" % (len(lines) - _DIFF_LINES)]
    return lines


def diff_of(result: dict):
    """The diff of a result; of a loop, the diffs of its changed items."""
    if "results" in result and isinstance(result["results"], list):
        return [
            part
            for item in result["results"]
            if isinstance(item, dict) and item.get("changed")
            for part in (item.get("diff") if isinstance(item.get("diff"), list) else [item.get("diff")])
            if part
        ]
    return result.get("diff")


def parts_by_control(result: dict, ids: list[str]) -> dict[str, dict]:
    """One task's result split by control, for a task that writes the files of several controls in
    one call (``bulwark_control`` lists them; config_file's ``files[].control`` names each file's).

    Each control gets its own files and the diffs whose header names one of them: changed only when
    one of its files changed. A file that names no control, or a control the task does not list,
    belongs to the first control listed; a control no file names is unchanged.
    """
    first = ids[0]
    owner: dict[str, str] = {}
    parts = {ident: {"changed": False, "files": [], "diff": []} for ident in ids}
    for item in result.get("files") or []:
        if not isinstance(item, dict):
            continue
        ident = item.get("control") if item.get("control") in parts else first
        owner[str(item.get("dest", ""))] = ident
        parts[ident]["files"].append(item)
        parts[ident]["changed"] = parts[ident]["changed"] or bool(item.get("changed"))
    for item in _diff_items(result.get("diff")):
        path = path_of(item.get("before_header")) or path_of(item.get("after_header"))
        parts[owner.get(path, first)]["diff"].append(item)
    if not result.get("files"):  # not a files result: it all belongs to the first control
        parts[first] = {**result, "changed": bool(result.get("changed"))}
    return parts


def found(result: dict) -> list[str]:
    """For a drift without a diff (a state a task reports, e.g. updates pending too long): its message."""
    if "results" in result:
        return []
    message = result.get("msg")
    if not isinstance(message, str) or not message.strip():
        return []
    return ["-" + _line(message)]


# A setting line: a key, then '=', ':' or blanks, then its value (sshd, Apache, ini, apt.conf, jail files).
_SETTING = re.compile(r"^([A-Za-z_][\w.\-:/]*?)\s*(?:=|:\s|\s)\s*(.*?)\s*;?$")


def setting_of(line: str):
    """(key, value) of a configuration line, or None for a blank line, a comment or a section."""
    text = line.strip()
    if not text or text[0] in "#;[<" or text.startswith("//"):
        return None
    match = _SETTING.match(text)
    if match is None:
        return (text, "") if re.fullmatch(r"[A-Za-z_][\w.\-]*", text) else None
    return match.group(1), match.group(2)


def path_of(header) -> str:
    """The file a diff header names ('/etc/ssh/moduli (moduli per size)' names /etc/ssh/moduli), or ''."""
    if not isinstance(header, str) or not header.startswith("/"):
        return ""
    return header.split(" (")[0].strip()


def _changed_settings(lines: list[str], indexes) -> list[tuple[str, str]]:
    """(name, value) of the setting lines at indexes; a setting under an ini section ([sshd],
    [PHP]) is named with it, as fail2ban and PHP read it."""
    out = []
    for index in indexes:
        pair = setting_of(lines[index])
        if pair is None:
            continue
        section = next(
            (_SECTION.match(line.strip()) for line in reversed(lines[:index]) if _SECTION.match(line.strip())), None
        )
        out.append(("[%s] %s" % (section.group(1), pair[0]) if section else pair[0], pair[1]))
    return out


_SECTION = re.compile(r"^\[([^\]]+)\]$")


def settings_of(item: dict, path: str) -> list[dict]:
    """The settings a file diff changes: per key, the value expected and the value found (None: absent).

    The changed lines are those of a line diff (a value repeated elsewhere in the file is still
    seen changing). A key on one changed line each side pairs its values; a key on several
    (Apache's Header) is named line by line, its other side absent.
    """
    before, after = item.get("before", ""), item.get("after", "")
    if not isinstance(before, str) or not isinstance(after, str):
        return []
    old, new = before.splitlines(), after.splitlines()
    blocks = [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if op[0] != "equal"]
    gone = _changed_settings(old, [i for block in blocks for i in range(block[1], block[2])])
    come = _changed_settings(new, [j for block in blocks for j in range(block[3], block[4])])
    keys_gone = [pair[0] for pair in gone]
    keys_come = [pair[0] for pair in come]
    once_gone = {key for key in keys_gone if keys_gone.count(key) == 1}
    once_come = {key for key in keys_come if keys_come.count(key) == 1}
    paired = once_gone & once_come
    values_found = dict(gone)
    out = [
        {"file": path, "setting": key, "expected": value, "found": values_found[key] if key in paired else None}
        for key, value in come
    ]
    out.extend(
        {"file": path, "setting": key, "expected": None, "found": value} for key, value in gone if key not in paired
    )
    return out


def evidence(result: dict) -> dict:
    """What a changed task's result says drifted: files, settings (expected / found) and subjects.

    Files come from the diff headers (config_file, template, copy, apache2_config name the file)
    or a file diff's path; settings from the changed lines of a file's diff; subjects (a package, a
    unit, a listener, a path) from the result's own keys, for the controls without a file diff.
    """
    files: list[str] = []
    settings: list[dict] = []
    subjects: list[str] = []

    def add(bucket: list, value) -> None:
        if value and value not in bucket:
            bucket.append(value)

    for item in _diff_items(diff_of(result)):
        path = path_of(item.get("before_header")) or path_of(item.get("after_header"))
        if not path:
            for side in (item.get("after"), item.get("before")):
                if isinstance(side, dict) and isinstance(side.get("path"), str):
                    path = side["path"]
                    break
        if not path:
            continue
        new = item.get("before") == "" and bool(item.get("after"))
        add(files, "%s (new file)" % path if new else path)
        settings.extend(settings_of(item, path))
    items = [item for item in result.get("results", []) if isinstance(item, dict) and item.get("changed")]
    bare = {path.split(" (")[0] for path in files}
    for part in items or [result]:
        for line in _subjects(part):
            if not (line.startswith("path ") and line[5:] in bare):
                add(subjects, line)
    return {"files": files, "settings": settings[:_SETTINGS], "subjects": subjects[:_SUBJECTS]}


_APT = {"Inst": "install", "Remv": "remove", "Purg": "purge"}
_APT_LINE = re.compile(r"^(Inst|Remv|Purg) (\S+)")


def _subjects(result: dict) -> list[str]:
    out = ["listener %s" % line for line in result.get("undeclared_summary") or [] if isinstance(line, str)]
    out += ["package %s: purge" % name for name in result.get("purge") or [] if isinstance(name, str)]
    out += ["security update pending: %s" % name for name in result.get("security_packages") or []]
    paths = result.get("paths")
    if isinstance(paths, dict):
        out += ["%s: %s" % (kind, path) for kind, items in sorted(paths.items()) for path in items or []]
    out += [_line(line) for line in result.get("stale") or [] if isinstance(line, str)]
    out += [_line(line) for line in result.get("reasons") or [] if isinstance(line, str)]
    for override in result.get("overrides") or []:
        if isinstance(override, dict):
            out.append(
                "%s:%s sets [%s] %s = %s"
                % tuple(override.get(k, "") for k in ("file", "line", "jail", "option", "value"))
            )
    # apt's simulation (check mode) names each package it would install, remove or purge
    lines = result.get("stdout_lines") or str(result.get("stdout") or "").splitlines()
    out += ["package %s: %s" % (match.group(2), _APT[match.group(1)]) for match in map(_APT_LINE.match, lines) if match]
    if isinstance(result.get("status"), dict) and isinstance(result.get("name"), str):
        out.append("unit %s" % result["name"])  # systemd / service
    for key, label in (("unit", "unit"), ("dest", "path"), ("path", "path")):
        if isinstance(result.get(key), str) and not out:
            out.append("%s %s" % (label, result[key]))
    if not out and isinstance(result.get("name"), str):
        out.append(result["name"])
    return out


def warnings_of(result) -> list[str]:
    """The warnings a task gave, one line each (ansible-core 2.19 and later hand them to callbacks
    beside the result; older releases inside it)."""
    items = getattr(result, "warnings", None)
    if items is None:
        items = result._result.get("warnings") or []
    return [" ".join(str(getattr(getattr(item, "event", None), "msg", None) or item).split()) for item in items]


def new_host() -> dict:
    return {
        "ok": 0,
        "failed": 0,
        "unreachable": 0,
        "drift": [],
        "controls": {},
        "tasks": {},
        "reason": "",
        "skipped": {},
    }


def control_key(control: dict, task: str) -> str:
    return control["id"] or "task: %s" % task


def record(
    host: dict,
    control: dict,
    role: str,
    task: str,
    *,
    changed: bool,
    diff: list[str],
    warnings: list[str] = (),
    seconds: float = 0.0,
    detail: dict | None = None,
    not_applicable: dict | None = None,
) -> None:
    """Add one task result to a host: the control it checked, its warnings and time and, if changed, the drift.

    *not_applicable* (a module's ``not_applicable``: setting -> why it cannot be judged on this host,
    such as a kernel parameter inside a container) makes a control that did not drift "not_applicable"
    rather than "compliant": what could not be judged is never reported as compliant.
    """
    if not control["id"] and not changed:
        # A task that declares no control (an assert, a read, a task of the user's own) is only
        # counted; it becomes an entry of the report when it changed something.
        host["ok"] += 1
        return
    key = control_key(control, task)
    entry = host["controls"].setdefault(
        key,
        {
            **control,
            "role": role,
            "status": "compliant",
            "expected": [],
            "found": [],
            "tasks": [],
            "warnings": [],
            "files": [],
            "settings": [],
            "subjects": [],
            "not_applicable": [],
            "time": 0.0,
        },
    )
    host["skipped"].pop(key, None)
    entry["time"] = round(entry["time"] + max(seconds, 0.0), 3)
    if task not in entry["tasks"]:
        entry["tasks"].append(task)
    if control["id"]:  # a task of the user's own shows its warnings in the run only
        entry["warnings"].extend(warning for warning in warnings if warning not in entry["warnings"])
    if isinstance(not_applicable, dict) and not_applicable:
        lines = ["%s: %s" % (setting, reason) for setting, reason in sorted(not_applicable.items())]
        entry["not_applicable"] = sorted(set(entry.get("not_applicable", [])) | set(lines))
        if entry["status"] == "compliant":
            entry["status"] = "not_applicable"
    if not changed:
        host["ok"] += 1
        return
    detail = detail or {}
    entry["status"] = "drift"
    entry["expected"].extend(line[1:] for line in diff if line.startswith("+"))
    entry["found"].extend(line[1:] for line in diff if line.startswith("-"))
    entry["files"].extend(path for path in detail.get("files", []) if path not in entry["files"])
    entry["settings"].extend(detail.get("settings", []))
    entry["subjects"].extend(line for line in detail.get("subjects", []) if line not in entry["subjects"])
    host["drift"].append(
        {
            "task": task,
            "role": role,
            "control": control["id"],
            "diff": diff,
            **{k: detail.get(k, []) for k in ("files", "settings", "subjects")},
        }
    )


def skip(host: dict, control: dict, role: str, task: str) -> None:
    """A task of a control was skipped on the host: unless another of its tasks runs, the control
    does not apply there (JUnit says so)."""
    if control["id"] and control["id"] not in host["controls"]:
        host["skipped"].setdefault(control["id"], "its task '%s' was skipped (role %s)" % (task, role or "play"))


def fail(host: dict, task: str, message, *, unreachable: bool = False) -> None:
    """A task failed on the host, or the host was unreachable: the first reason is kept."""
    host["unreachable" if unreachable else "failed"] += 1
    if not host["reason"]:
        host["reason"] = "%s: %s" % (task, _line(message or "no message"))


def host_status(host: dict) -> str:
    if host["unreachable"]:
        return "unreachable"
    if host["failed"]:
        return "failed"
    return "drift" if drifted(host) else "compliant"


def drifted(host: dict) -> list[dict]:
    """The host's drifted controls, in the order they were found."""
    return [dict(entry, key=key) for key, entry in host["controls"].items() if entry["status"] == "drift"]


def fleet(hosts: dict) -> dict:
    """Per control: on which hosts it drifted, out of how many it was checked on."""
    summary: dict[str, dict] = {}
    for name in sorted(hosts):
        for key, entry in hosts[name]["controls"].items():
            item = summary.setdefault(
                key, {"title": entry["title"], "role": entry["role"], "checked": 0, "drifted": []}
            )
            item["checked"] += 1
            if entry["status"] == "drift":
                item["drifted"].append(name)
    return {key: item for key, item in summary.items() if item["drifted"]}


def all_controls(report: dict) -> dict:
    """Every control that ran on any host, by key, in the order first seen (the JUnit cases, the matrix rows)."""
    out: dict[str, dict] = {}
    for name in sorted(report["hosts"]):
        for key, entry in report["hosts"][name]["controls"].items():
            out.setdefault(key, entry)
    return out


def build(hosts: dict, check_mode: bool, run: dict | None = None) -> dict:
    """The report: per host its status and controls, the fleet summary, and the run (started, finished, version)."""
    for host in hosts.values():
        host.setdefault("reason", "")
        host.setdefault("skipped", {})
        host["status"] = host_status(host)
    return {
        "check_mode": check_mode,
        "run": dict(run or {}),
        "hosts": hosts,
        "summary": {
            "hosts": len(hosts),
            "compliant": sorted(name for name, host in hosts.items() if host["status"] == "compliant"),
            "drifted": sorted(name for name, host in hosts.items() if host["status"] == "drift"),
            "failed": sorted(name for name, host in hosts.items() if host["status"] in ("failed", "unreachable")),
            "controls": fleet(hosts),
        },
    }


def collection_version(root: str) -> str:
    """The version of the collection at root: MANIFEST.json when installed, galaxy.yml in a source tree."""
    try:
        with open(os.path.join(root, "MANIFEST.json"), encoding="utf-8") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(root, "galaxy.yml"), encoding="utf-8") as handle:
            for line in handle:
                match = re.match(r"version:\s*['\"]?([^'\"\s]+)", line)
                if match:
                    return match.group(1)
    except OSError:
        pass
    return "unknown"


def not_checked(report: dict, name: str, key: str, entry: dict) -> str:
    """Why a control that ran elsewhere has no result on this host."""
    host = report["hosts"][name]
    if host["status"] in ("failed", "unreachable"):
        return "not checked: %s %s (%s)" % (name, host["status"], host["reason"] or "no reason given")
    if key in host["skipped"]:
        return "not applicable on %s: %s" % (name, host["skipped"][key])
    role = entry["role"] or "play"
    if role not in host["tasks"]:
        return "not checked on %s: role %s did not run there" % (name, role)
    return "not checked on %s: no task of %s ran there" % (name, key)


def _label(entry: dict) -> str:
    return "%s %s" % (entry["id"], entry["title"]) if entry["id"] else "(no control) %s" % entry["title"]


def _measure(entry: dict) -> str:
    parts = [entry["measure"]] if entry["measure"] else []
    if entry["cis"]:
        parts.append("CIS Debian 12 %s" % entry["cis"])
    return "; ".join(parts)


def _diff_lines(entry: dict) -> list[str]:
    return ["-" + line for line in entry["found"]] + ["+" + line for line in entry["expected"]]


def _value(value) -> str:
    return "(absent)" if value is None else '"%s"' % value


def evidence_lines(entry: dict) -> list[str]:
    """What drifted, one line each: per file its settings (expected, found), then the subjects."""
    out: list[str] = []
    settings = entry.get("settings", [])
    for path in entry.get("files", []):
        out.append("file %s" % path)
        bare = path.split(" (")[0]
        out.extend(
            "  %s: expected %s, found %s" % (item["setting"], _value(item["expected"]), _value(item["found"]))
            for item in settings
            if item["file"] == bare
        )
    out.extend(entry.get("subjects", []))
    return out


def _state(host: dict, name: str) -> str:
    status = host["status"]
    if status in ("failed", "unreachable"):
        return "%s (%d failed, %d unreachable): %s" % (
            status.upper(),
            host["failed"],
            host["unreachable"],
            host["reason"] or "no reason given",
        )
    if status == "drift":
        return "%d of %d control(s) drifted" % (len(drifted(host)), len(host["controls"]))
    unjudged = sum(1 for entry in host["controls"].values() if entry["status"] == "not_applicable")
    if unjudged:
        return "in compliance (%d controls checked, %d of them not applicable here)" % (len(host["controls"]), unjudged)
    return "in compliance (%d controls checked)" % len(host["controls"])


def render(report: dict) -> str:
    """Console summary: one block per host, then the drifted controls across the fleet."""
    mode = "check mode (nothing was changed)" if report["check_mode"] else "apply mode"
    out = ["", "BULWARK DRIFT REPORT - %s" % mode]
    for name in sorted(report["hosts"]):
        host = report["hosts"][name]
        out.append("  %s: %s" % (name, _state(host, name)))
        if host["status"] == "compliant" and host["controls"]:
            out.append("    checked: %s" % ", ".join(host["controls"]))
        for entry in drifted(host):
            out.append("    - %s [%s]" % (_label(entry), entry["role"] or "play"))
            out.extend("        %s" % line for line in evidence_lines(entry))
            out.extend("        %s" % line for line in _diff_lines(entry))
        for key, entry in host["controls"].items():
            out.extend("    ! %s: %s" % (key, warning) for warning in entry.get("warnings", []))
    summary = report["summary"]
    if summary["hosts"] > 1:
        out.append(
            "  fleet: %d host(s), %d in compliance, %d drifted, %d failed"
            % (summary["hosts"], len(summary["compliant"]), len(summary["drifted"]), len(summary["failed"]))
        )
        for key, item in sorted(summary["controls"].items()):
            out.append(
                "    %s drifted on %d of %d host(s): %s"
                % (key, len(item["drifted"]), item["checked"], ", ".join(item["drifted"]))
            )
    return "\n".join(out)


def _code(text) -> str:
    """Inline Markdown code that survives backticks in the text."""
    text = str(text)
    fence = "``" if "`" in text else "`"
    return "%s %s %s" % (fence, text, fence) if fence == "``" else "`%s`" % text


def markdown(report: dict) -> str:
    """The report for a ticket or a mail."""
    summary = report["summary"]
    run = report.get("run", {})
    mode = "check mode, nothing was changed" if report["check_mode"] else "apply mode"
    out = [
        "# Drift report (%s)" % mode,
        "",
        "%d host(s): %d in compliance, %d drifted, %d failed or unreachable."
        % (summary["hosts"], len(summary["compliant"]), len(summary["drifted"]), len(summary["failed"])),
    ]
    if run:
        out += [
            "",
            "Run %s to %s, bulwark.hardening %s."
            % (run.get("started", "?"), run.get("finished", "?"), run.get("version", "?")),
        ]
    if summary["controls"]:
        out += ["", "| Control | Title | Drifted on |", "|---|---|---|"]
        for key, item in sorted(summary["controls"].items()):
            out.append(
                "| `%s` | %s | %d of %d: %s |"
                % (key, item["title"], len(item["drifted"]), item["checked"], ", ".join(item["drifted"]))
            )
    for name in sorted(report["hosts"]):
        host = report["hosts"][name]
        out += ["", "## %s: %s" % (name, host["status"])]
        if host["reason"]:
            out += ["", "Reason: %s" % host["reason"]]
        for entry in drifted(host):
            out += ["", "### %s" % _label(entry), ""]
            out.append("Role `%s`. Measure: %s." % (entry["role"] or "play", _measure(entry) or "-"))
            settings = entry.get("settings", [])
            for path in entry.get("files", []):
                bare = path.split(" (")[0]
                out += ["", "- file %s%s" % (_code(bare), path[len(bare) :])]
                out.extend(
                    "  - %s: expected %s, found %s"
                    % (_code(item["setting"]), _mdvalue(item["expected"]), _mdvalue(item["found"]))
                    for item in settings
                    if item["file"] == bare
                )
            if entry.get("subjects"):
                out += [""] + ["- %s" % _code(line) for line in entry["subjects"]]
            if _diff_lines(entry):
                out += ["", "```diff", *_diff_lines(entry), "```"]
        if host["controls"]:
            out += ["", "Controls checked (%d):" % len(host["controls"]), ""]
            out += [
                "- %s %s (%s): %s" % (_code(key), entry["title"], entry["role"] or "play", entry["status"])
                for key, entry in host["controls"].items()
            ]
        warnings = [(key, w) for key, entry in host["controls"].items() for w in entry.get("warnings", [])]
        if warnings:
            out += ["", "Warnings:", ""] + ["- `%s`: %s" % (key, warning) for key, warning in warnings]
    return "\n".join(out) + "\n"


def _mdvalue(value) -> str:
    return "(absent)" if value is None else _code(value)


def junit(report: dict) -> str:
    """JUnit XML: a test suite per host, the same test case per control on every host (the controls
    that ran on any host), skipped with a reason where the control did not run on that host."""
    run = report.get("run", {})
    controls = all_controls(report)
    suites = ElementTree.Element("testsuites", name="bulwark drift report")
    for name in sorted(report["hosts"]):
        host = report["hosts"][name]
        failures = sum(1 for entry in host["controls"].values() if entry["status"] == "drift")
        errors = 1 if host["status"] in ("failed", "unreachable") else 0
        skipped = sum(
            1 for key in controls if key not in host["controls"] or host["controls"][key]["status"] == "not_applicable"
        )
        seconds = sum(entry.get("time", 0.0) for entry in host["controls"].values())
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(len(controls) + errors),
            failures=str(failures),
            errors=str(errors),
            skipped=str(skipped),
            time="%.3f" % seconds,
            timestamp=run.get("started", "").rstrip("Z"),  # UTC; JUnit's schema takes no zone
        )
        for key, reference in controls.items():
            entry = host["controls"].get(key)
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=name,
                name=_label(reference) if reference["id"] else key,
                time="%.3f" % (entry.get("time", 0.0) if entry else 0.0),
            )
            if entry is None:
                ElementTree.SubElement(case, "skipped", message=not_checked(report, name, key, reference))
            elif entry["status"] == "not_applicable":
                ElementTree.SubElement(
                    case, "skipped", message="not applicable on %s: %s" % (name, "; ".join(entry["not_applicable"]))
                )
            elif entry["status"] == "drift":
                failure = ElementTree.SubElement(case, "failure", message="%s drifted on %s" % (key, name))
                failure.text = "\n".join([_measure(entry), *evidence_lines(entry), *_diff_lines(entry)]).strip()
        if errors:
            case = ElementTree.SubElement(suite, "testcase", classname=name, name="run", time="0.000")
            error = ElementTree.SubElement(
                case, "error", message="host %s: %s" % (host["status"], host["reason"] or "no reason given")
            )
            error.text = host["reason"]
    return ElementTree.tostring(suites, encoding="unicode") + "\n"


# The HTML report: one file, its style and script inline and allowed by hash, nothing fetched.
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1d2125}
h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.6em 0 .4em}
.meta{color:#555}.counts span{display:inline-block;margin-right:1.2em;font-weight:600}
.filters{margin:1em 0;padding:.6em;background:#f3f4f6;border-radius:4px}
.filters label{margin-right:1.4em}
table{border-collapse:collapse}th,td{border:1px solid #d0d4d9;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef0f3}td.cell{text-align:center;min-width:5em}
td.drift{background:#f8d7da;color:#842029;font-weight:600}td.compliant{background:#d1e7dd;color:#0f5132}
td.none{background:#f6f6f6;color:#777}.hidden,.filtered{display:none!important}
pre{background:#f6f8fa;padding:.5em;overflow:auto;margin:.3em 0}
.del{color:#b02a37}.add{color:#146c43}
details{margin:.4em 0 .8em;border-left:4px solid #dc3545;padding-left:.6em}
.status-drift{color:#b02a37}.status-compliant{color:#146c43}.status-failed,.status-unreachable{color:#6f42c1}
"""

_JS = """
(function () {
  var drifted = document.getElementById('f-drifted');
  var role = document.getElementById('f-role');
  var hostSel = document.getElementById('f-host');
  function apply() {
    var host = hostSel.value, onlyDrift = drifted.checked, shown = 0, cells = 0;
    document.querySelectorAll('[data-host]').forEach(function (el) {
      el.classList.toggle('hidden', host !== '' && el.getAttribute('data-host') !== host);
    });
    document.querySelectorAll('#matrix tbody tr').forEach(function (row) {
      var visible = Array.prototype.filter.call(row.querySelectorAll('td.drift'), function (cell) {
        return !cell.classList.contains('hidden');
      });
      var show = (!onlyDrift || visible.length > 0) &&
                 (role.value === '' || row.getAttribute('data-role') === role.value);
      row.classList.toggle('hidden', !show);
      if (show) { shown += 1; cells += visible.length; }
    });
    document.querySelectorAll('.control').forEach(function (el) {
      el.classList.toggle('filtered', (role.value !== '' && el.getAttribute('data-role') !== role.value) ||
                                      (onlyDrift && el.getAttribute('data-status') !== 'drift'));
    });
    document.getElementById('shown').textContent = shown + ' control(s) shown, ' + cells + ' drifted result(s)';
  }
  [drifted, role, hostSel].forEach(function (el) { el.addEventListener('change', apply); });
  apply();
})();
"""


def _csp_hash(text: str) -> str:
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _anchor(name: str, key: str) -> str:
    return "d-" + hashlib.sha256(("%s\0%s" % (name, key)).encode("utf-8")).hexdigest()[:12]


def _control_html(name: str, key: str, entry: dict) -> str:
    out = [
        '<details class="control" open id="%s" data-role="%s" data-status="%s">'
        % (_anchor(name, key), _e(entry["role"] or "play"), _e(entry["status"])),
        "<summary><b>%s</b> %s <small>(%s)</small></summary>"
        % (_e(key), _e(entry["title"]), _e(entry["role"] or "play")),
        "<p>Measure: %s<br>CIS Debian 12: %s<br>Tasks: %s<br>Time: %.3f s</p>"
        % (
            _e(entry["measure"] or "-"),
            _e(entry["cis"] or "-"),
            _e("; ".join(entry["tasks"])),
            entry.get("time", 0.0),
        ),
    ]
    if entry.get("settings"):
        out.append('<table class="settings"><tr><th>File</th><th>Setting</th><th>Expected</th><th>Found</th></tr>')
        out.extend(
            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
            % (_e(item["file"]), _e(item["setting"]), _e(_value(item["expected"])), _e(_value(item["found"])))
            for item in entry["settings"]
        )
        out.append("</table>")
    if entry.get("files"):
        out.append("<p>Files: %s</p>" % ", ".join("<code>%s</code>" % _e(path) for path in entry["files"]))
    if entry.get("subjects"):
        out.append("<ul>%s</ul>" % "".join("<li>%s</li>" % _e(line) for line in entry["subjects"]))
    if entry["expected"]:
        out.append("<p>Expected:</p><pre>%s</pre>" % _e("\n".join(entry["expected"])))
    if entry["found"]:
        out.append("<p>Found:</p><pre>%s</pre>" % _e("\n".join(entry["found"])))
    lines = _diff_lines(entry)
    if lines:
        out.append(
            '<p>Diff:</p><pre class="diff">%s</pre>'
            % "\n".join('<span class="%s">%s</span>' % ("del" if line[0] == "-" else "add", _e(line)) for line in lines)
        )
    out.extend("<p>Warning: %s</p>" % _e(warning) for warning in entry.get("warnings", []))
    out.append("</details>")
    return "\n".join(out)


def html_report(report: dict) -> str:
    """The report as one self-contained HTML page: the hosts x controls matrix with filters (drifted
    only, role, host), then per host its drifted controls in detail and the controls it checked."""
    summary = report["summary"]
    run = report.get("run", {})
    hosts = sorted(report["hosts"])
    controls = all_controls(report)
    roles = sorted({entry["role"] or "play" for entry in controls.values()})
    mode = "check mode, nothing was changed" if report["check_mode"] else "apply mode"
    csp = "default-src 'none'; style-src %s; script-src %s; img-src data:" % (_csp_hash(_CSS), _csp_hash(_JS))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % _e(csp),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Drift report: %d host(s), %d drifted</title>" % (summary["hosts"], len(summary["drifted"])),
        "<style>%s</style></head><body>" % _CSS,
        "<h1>Drift report (%s)</h1>" % _e(mode),
        '<p class="meta">Run <span id="started">%s</span> to <span id="finished">%s</span>,'
        ' bulwark.hardening <span id="version">%s</span></p>'
        % (_e(run.get("started", "?")), _e(run.get("finished", "?")), _e(run.get("version", "?"))),
        '<p class="counts"><span id="n-hosts">%d host(s)</span><span id="n-compliant">%d in compliance</span>'
        '<span id="n-drifted">%d drifted</span><span id="n-failed">%d failed or unreachable</span>'
        '<span id="n-controls">%d control(s)</span></p>'
        % (summary["hosts"], len(summary["compliant"]), len(summary["drifted"]), len(summary["failed"]), len(controls)),
        '<div class="filters"><label><input type="checkbox" id="f-drifted"> drifted only</label>',
        '<label>role <select id="f-role"><option value="">all roles</option>%s</select></label>'
        % "".join('<option value="%s">%s</option>' % (_e(role), _e(role)) for role in roles),
        '<label>host <select id="f-host"><option value="">all hosts</option>%s</select></label>'
        % "".join('<option value="%s">%s</option>' % (_e(name), _e(name)) for name in hosts),
        '<span id="shown"></span></div>',
        '<table id="matrix"><thead><tr><th>Control</th><th>Role</th>%s</tr>'
        % "".join(
            '<th data-host="%s">%s<br><small class="status-%s">%s</small></th>'
            % (_e(name), _e(name), _e(report["hosts"][name]["status"]), _e(report["hosts"][name]["status"]))
            for name in hosts
        ),
        "</thead><tbody>",
    ]
    for key, reference in controls.items():
        cells = []
        for name in hosts:
            entry = report["hosts"][name]["controls"].get(key)
            if entry is None:
                cells.append(
                    '<td class="cell none" data-host="%s" title="%s">-</td>'
                    % (_e(name), _e(not_checked(report, name, key, reference)))
                )
            elif entry["status"] == "drift":
                cells.append(
                    '<td class="cell drift" data-host="%s"><a href="#%s">drift</a></td>'
                    % (_e(name), _anchor(name, key))
                )
            else:
                cells.append('<td class="cell compliant" data-host="%s">ok</td>' % _e(name))
        out.append(
            '<tr data-role="%s"><th title="%s">%s <small>%s</small></th><td>%s</td>%s</tr>'
            % (
                _e(reference["role"] or "play"),
                _e(_measure(reference)),
                _e(key),
                _e(reference["title"]),
                _e(reference["role"] or "play"),
                "".join(cells),
            )
        )
    out.append("</tbody></table>")
    for name in hosts:
        host = report["hosts"][name]
        out.append(
            '<section data-host="%s"><h2>%s: <span class="status-%s">%s</span></h2>'
            % (_e(name), _e(name), _e(host["status"]), _e(_state(host, name)))
        )
        for entry in drifted(host):
            out.append(_control_html(name, entry["key"], entry))
        if host["controls"]:
            out.append('<p>Controls checked (%d):</p><ul class="checked">' % len(host["controls"]))
            out.extend(
                '<li class="control" data-role="%s" data-status="%s"><code>%s</code> %s:'
                ' <span class="status-%s">%s</span></li>'
                % (
                    _e(entry["role"] or "play"),
                    _e(entry["status"]),
                    _e(key),
                    _e(entry["title"]),
                    _e(entry["status"]),
                    _e(entry["status"]),
                )
                for key, entry in host["controls"].items()
            )
            out.append("</ul>")
        out.append("</section>")
    out.append("<script>%s</script></body></html>" % _JS)
    return "\n".join(out) + "\n"

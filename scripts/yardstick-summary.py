"""Summarise a yardstick run (scripts/yardsticks.sh): OpenSCAP and Lynis on the bare and the hardened VM.

usage: python3 scripts/yardstick-summary.py OUT        (OUT: .tmp/yardsticks/RELEASE)
       python3 scripts/yardstick-summary.py --self-test

Reads OUT/{bare,hardened}/results.xml (OpenSCAP's XCCDF results: the benchmark's rules with their
references, then the TestResult) and OUT/{bare,hardened}/lynis-report.dat, the steps' wall times
(OUT/times.tsv: step, seconds, load averages) and the scanners' versions (OUT/scanners.txt); writes
OUT/summary.json and OUT/summary.md and prints the latter.

Per scan: OpenSCAP's rule results counted by ``rule-result/result`` (pass, fail, notapplicable, and
the rest as other; notselected rules are not counted at all), Lynis's hardening index, tests
performed, warnings and suggestions. Then the rules that pass only after hardening, those that fail
only after it, and every rule that still fails hardened, split by its CIS recommendation number:
"ours" when a control of the collection's catalogue (plugins/module_utils/_controls.py, CIS Debian 12
numbers) names that recommendation, so a role of ours could be the reason it fails; the rest is what
no role covers yet. On another release than bookworm the data stream follows another CIS benchmark,
whose numbers the catalogue does not use: every failing rule is then listed unsplit.

The verdict, on the hardened scans (issue #23's targets): at least OPENSCAP_TARGET % of the rules
OpenSCAP could judge (pass + fail) pass, every rule that still fails is waived with its reason in
meta/cis/openscap-waivers.yml (under the release's name), and Lynis's hardening index is at least
LYNIS_TARGET. A waiver whose rule no longer fails is stale and listed, so the file stays true.

A yardstick that cannot fail is a defect: exit status 1 when a scan produced nothing to count (no
results file, no rule evaluated, no hardening index, no test performed), after writing what it could;
exit status 3 when the scans measured something and the verdict is "not met".
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import re
import sys
import tempfile
import xml.etree.ElementTree as ET

import yaml

XCCDF = "{http://checklists.nist.gov/xccdf/1.2}"
CIS_HREF = "https://www.cisecurity.org/benchmark/"
RULE_PREFIX = "xccdf_org.ssgproject.content_rule_"
CATALOGUE = pathlib.Path(__file__).resolve().parent.parent / "plugins/module_utils/_controls.py"
SCANS = ("bare", "hardened")
# The catalogue's CIS numbers are CIS Debian 12's (v1.1.0, the bookworm data stream's benchmark).
CATALOGUE_RELEASE = "bookworm"
SHOWN_LYNIS = 10
WAIVERS = pathlib.Path(__file__).resolve().parent.parent / "meta/cis/openscap-waivers.yml"
OPENSCAP_TARGET = 95.0
LYNIS_TARGET = 85


def read_oscap(path: pathlib.Path) -> dict:
    """Counts, each rule's result and the CIS numbers of every rule, from OpenSCAP's results.xml."""
    results: dict[str, str] = {}
    cis: dict[str, list[str]] = {}
    for _event, element in ET.iterparse(path):
        if element.tag == XCCDF + "Rule":
            refs = [
                (ref.text or "").strip()
                for ref in element.findall(XCCDF + "reference")
                if ref.get("href", "").startswith(CIS_HREF) and re.match(r"^\d+(\.\d+)*$", (ref.text or "").strip())
            ]
            cis[element.get("idref") or element.get("id", "")] = refs
            element.clear()
        elif element.tag == XCCDF + "rule-result":
            result = element.find(XCCDF + "result")
            results[element.get("idref", "")] = (result.text or "").strip() if result is not None else "missing"
    counts = {"pass": 0, "fail": 0, "notapplicable": 0, "other": 0}
    other: dict[str, int] = {}
    for result in results.values():
        if result == "notselected":
            continue
        if result in counts:
            counts[result] += 1
        else:
            counts["other"] += 1
            other[result] = other.get(result, 0) + 1
    return {"counts": counts, "other": other, "results": results, "cis": cis}


def read_lynis(path: pathlib.Path) -> dict:
    """Hardening index, tests performed, warnings and suggestions from Lynis's report data file."""
    index = tests = None
    warnings: list[dict] = []
    suggestions: list[dict] = []
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "hardening_index":
            index = int(value) if value.strip().isdigit() else None
        elif key == "lynis_tests_done":
            tests = int(value) if value.strip().isdigit() else None
        elif key in ("warning[]", "suggestion[]"):
            fields = [*value.split("|"), "", ""]
            item = {"test": fields[0], "text": fields[1]}
            (warnings if key == "warning[]" else suggestions).append(item)
    return {"hardening_index": index, "tests_performed": tests, "warnings": warnings, "suggestions": suggestions}


def cis_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


def expand_cis(spec: str) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """A catalogue ``cis`` value ("5.1.4-5.1.7, 5.1.10") as inclusive ranges of recommendation numbers."""
    ranges = []
    for part in filter(None, (item.strip() for item in spec.split(","))):
        low, _sep, high = part.partition("-")
        ranges.append((cis_key(low.strip()), cis_key((high or low).strip())))
    return ranges


def controls_for(number: str, catalogue: dict) -> list[str]:
    """The catalogue's control IDs whose CIS reference covers the recommendation NUMBER."""
    key = cis_key(number)
    return sorted(
        ident
        for ident, entry in catalogue.items()
        if any(low <= key <= high and len(key) == len(low) for low, high in expand_cis(entry.get("cis", "")))
    )


def load_catalogue() -> dict:
    spec = importlib.util.spec_from_file_location("_bulwark_controls", CATALOGUE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CONTROLS


def short(rule: str) -> str:
    return rule[len(RULE_PREFIX) :] if rule.startswith(RULE_PREFIX) else rule


def compare(bare: dict, hardened: dict, catalogue: dict | None) -> dict:
    """Rules fixed and broken by the hardening, and the ones still failing, split by ownership."""
    before, after = bare["results"], hardened["results"]
    fixed = sorted(short(r) for r, res in after.items() if res == "pass" and before.get(r) == "fail")
    broken = sorted(short(r) for r, res in after.items() if res == "fail" and before.get(r) == "pass")
    ours, other = [], []
    for rule in sorted(r for r, res in after.items() if res == "fail"):
        numbers = hardened["cis"].get(rule, [])
        entry = {"rule": short(rule), "cis": numbers}
        if catalogue is not None:
            controls = sorted({c for n in numbers for c in controls_for(n, catalogue)})
            if controls:
                entry["controls"] = controls
                ours.append(entry)
                continue
        other.append(entry)
    return {"fixed": fixed, "broken": broken, "failing_ours": ours, "failing_other": other}


def load_waivers(path: pathlib.Path, release: str) -> dict[str, str]:
    """The release's waivers: rule (without the ssgproject prefix) -> reason. A waiver without a reason is refused."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    waivers = data.get(release) or {}
    for rule, reason in waivers.items():
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("%s: the waiver of %s under %s has no reason" % (path, rule, release))
    return {short(rule): reason for rule, reason in waivers.items()}


def verdict(hardened: dict, waivers: dict[str, str]) -> dict:
    """The targets on the hardened scans: OpenSCAP's pass rate and waivers, Lynis's hardening index."""
    result: dict = {"openscap_target": OPENSCAP_TARGET, "lynis_target": LYNIS_TARGET}
    oscap, lynis = hardened.get("openscap"), hardened.get("lynis")
    met = oscap is not None and lynis is not None
    if oscap is not None:
        judged = oscap["counts"]["pass"] + oscap["counts"]["fail"]
        rate = round(100.0 * oscap["counts"]["pass"] / judged, 1) if judged else 0.0
        failing = sorted(short(r) for r, res in oscap["results"].items() if res == "fail")
        result.update(
            openscap_rate=rate,
            unwaived=[rule for rule in failing if rule not in waivers],
            waived=[rule for rule in failing if rule in waivers],
            stale=sorted(rule for rule in waivers if rule not in failing),
        )
        met = met and rate >= OPENSCAP_TARGET and not result["unwaived"]
    if lynis is not None:
        result["lynis_index"] = lynis["hardening_index"]
        met = met and (lynis["hardening_index"] or 0) >= LYNIS_TARGET
    result["met"] = met
    return result


def read_times(path: pathlib.Path) -> list[dict]:
    steps = []
    if path.exists():
        for line in path.read_text().splitlines():
            label, seconds, load = [*line.split("\t"), "", ""][:3]
            steps.append({"step": label, "seconds": int(seconds), "load": load})
    return steps


def summarise(out: pathlib.Path) -> tuple[dict, list[str]]:
    """The summary of the run in OUT and the problems that make it worthless (empty when none)."""
    release = out.name
    summary: dict = {"release": release, "scans": {}}
    problems: list[str] = []
    # The scans the run made (scans.txt, written by yardsticks.sh; both when it is missing).
    listed = (out / "scans.txt").read_text().split() if (out / "scans.txt").exists() else list(SCANS)
    for scan in [scan for scan in SCANS if scan in listed]:
        data: dict = {}
        results = out / scan / "results.xml"
        try:
            oscap = read_oscap(results)
        except (OSError, ET.ParseError) as error:
            problems.append("%s: OpenSCAP results unreadable: %s" % (results, error))
            oscap = None
        if oscap is not None:
            evaluated = oscap["counts"]["pass"] + oscap["counts"]["fail"]
            if not evaluated:
                problems.append("%s: no rule evaluated to pass or fail" % results)
            data["openscap"] = oscap
        report = out / scan / "lynis-report.dat"
        try:
            lynis = read_lynis(report)
        except OSError as error:
            problems.append("%s: Lynis report unreadable: %s" % (report, error))
            lynis = None
        if lynis is not None:
            if lynis["hardening_index"] is None:
                problems.append("%s: no hardening_index line" % report)
            if not lynis["tests_performed"]:
                problems.append("%s: no test performed (lynis_tests_done)" % report)
            data["lynis"] = lynis
        summary["scans"][scan] = data
    scans = summary["scans"]
    if all("openscap" in scans.get(s, {}) for s in SCANS):
        catalogue = load_catalogue() if release == CATALOGUE_RELEASE else None
        summary["openscap_changes"] = compare(scans["bare"]["openscap"], scans["hardened"]["openscap"], catalogue)
    try:
        waivers = load_waivers(WAIVERS, release)
    except (ValueError, OSError) as error:
        problems.append(str(error))
        waivers = {}
    summary["verdict"] = verdict(scans.get("hardened", {}), waivers)
    summary["steps"] = read_times(out / "times.tsv")
    summary["total_seconds"] = sum(step["seconds"] for step in summary["steps"])
    for name in ("load-start", "load-end"):
        path = out / (name + ".txt")
        summary[name.replace("-", "_")] = path.read_text().strip() if path.exists() else None
    scanners = out / "scanners.txt"
    summary["scanners"] = scanners.read_text().split("\n") if scanners.exists() else []
    summary["scanners"] = [line.replace("\t", " ") for line in summary["scanners"] if line]
    summary["problems"] = problems
    return summary, problems


def minutes(seconds: int) -> str:
    return "%d min %02d s" % divmod(seconds, 60)


def render(summary: dict) -> str:
    """summary.md: the figures side by side, the rule lists, the wall times."""
    scans = summary["scans"]
    lines = [
        "# Yardsticks: %s VM, bare and hardened" % summary["release"],
        "",
        "Scanners: %s. OpenSCAP profile: CIS level 1 server (ComplianceAsCode data stream)."
        % (", ".join(summary["scanners"]) or "unknown"),
        "",
        "| measure | bare | hardened |",
        "|---|---|---|",
    ]

    def cell(scan: str, tool: str, key: str):
        data = scans.get(scan, {}).get(tool)
        if data is None:
            return "-"
        if tool == "openscap":
            return data["counts"][key]
        value = data[key]
        return len(value) if isinstance(value, list) else ("-" if value is None else value)

    target = summary.get("verdict") or {}
    if "openscap_rate" in target or "lynis_index" in target:
        lines[4:4] = [
            "**Verdict: %s.** OpenSCAP, hardened: %s %% of the rules it judged pass (target %s %%), %d failing"
            " without a waiver; Lynis hardening index %s (target %s)."
            % (
                "met" if target["met"] else "NOT met",
                target.get("openscap_rate", "-"),
                target["openscap_target"],
                len(target.get("unwaived", [])),
                target.get("lynis_index", "-"),
                target["lynis_target"],
            ),
            "",
        ]
    for key in ("pass", "fail", "notapplicable", "other"):
        lines.append(
            "| OpenSCAP %s | %s | %s |" % (key, cell("bare", "openscap", key), cell("hardened", "openscap", key))
        )
    for key in ("hardening_index", "tests_performed", "warnings", "suggestions"):
        label = key.replace("_", " ")
        lines.append("| Lynis %s | %s | %s |" % (label, cell("bare", "lynis", key), cell("hardened", "lynis", key)))
    other = {scan: scans.get(scan, {}).get("openscap", {}).get("other") for scan in SCANS}
    if any(other.values()):
        described = {
            scan: ", ".join("%s %d" % item for item in sorted((other[scan] or {}).items())) or "none" for scan in SCANS
        }
        lines += ["", "OpenSCAP's other results: %s." % "; ".join("%s: %s" % (s, described[s]) for s in SCANS)]
    changes = summary.get("openscap_changes")
    if changes:

        def rules(entries: list) -> str:
            return ", ".join("`%s`" % e for e in entries) or "none"

        def failing(entries: list) -> list[str]:
            return [
                "- `%s` (CIS %s%s)"
                % (
                    e["rule"],
                    ", ".join(e["cis"]) or "-",
                    "; " + ", ".join(e["controls"]) if e.get("controls") else "",
                )
                for e in entries
            ] or ["- none"]

        lines += [
            "",
            "## OpenSCAP rules",
            "",
            "Pass only after hardening (%d): %s" % (len(changes["fixed"]), rules(changes["fixed"])),
            "",
            "Fail only after hardening (%d): %s" % (len(changes["broken"]), rules(changes["broken"])),
            "",
        ]
        if summary["release"] == CATALOGUE_RELEASE:
            lines += [
                "Still failing hardened, in a CIS recommendation that a control of ours names (%d):"
                % len(changes["failing_ours"]),
                "",
                *failing(changes["failing_ours"]),
                "",
                "Still failing hardened, in no CIS recommendation that a control of ours names (%d):"
                % len(changes["failing_other"]),
                "",
                *failing(changes["failing_other"]),
            ]
        else:
            lines += [
                "Still failing hardened (%d; this benchmark's CIS numbers are not the catalogue's):"
                % len(changes["failing_other"]),
                "",
                *failing(changes["failing_other"]),
            ]
    if target.get("unwaived") or target.get("stale"):
        lines += ["", "## Waivers (meta/cis/openscap-waivers.yml)", ""]
        lines += ["- failing without a waiver: `%s`" % rule for rule in target.get("unwaived", [])]
        lines += ["- stale waiver (the rule no longer fails): `%s`" % rule for rule in target.get("stale", [])]
    for scan in SCANS:
        lynis = scans.get(scan, {}).get("lynis")
        if lynis:
            lines += ["", "## Lynis, %s" % scan, ""]
            lines += ["- warning %s: %s" % (w["test"], w["text"]) for w in lynis["warnings"]] or ["- no warning"]
            shown = lynis["suggestions"][:SHOWN_LYNIS]
            lines += ["- suggestion %s: %s" % (s["test"], s["text"]) for s in shown]
            if len(lynis["suggestions"]) > len(shown):
                lines.append("- ... %d more suggestions (summary.json)" % (len(lynis["suggestions"]) - len(shown)))
    lines += ["", "## Wall times", "", "| step | time | load after |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % (s["step"], minutes(s["seconds"]), s["load"]) for s in summary["steps"]]
    lines += [
        "| total | %s | |" % minutes(summary["total_seconds"]),
        "",
        "Load averages (1, 5, 15 min) at the start: %s; at the end: %s."
        % (summary["load_start"] or "-", summary["load_end"] or "-"),
    ]
    if summary["problems"]:
        lines += ["", "## PROBLEMS: these scans measured nothing", ""] + ["- " + p for p in summary["problems"]]
    return "\n".join(lines) + "\n"


def write(out: pathlib.Path) -> int:
    summary, problems = summarise(out)
    # The per-rule results are in results.xml already; the summary keeps the counts.
    slim = json.loads(json.dumps(summary))
    for scan in slim["scans"].values():
        if "openscap" in scan:
            del scan["openscap"]["results"], scan["openscap"]["cis"]
    (out / "summary.json").write_text(json.dumps(slim, indent=1) + "\n")
    text = render(summary)
    (out / "summary.md").write_text(text)
    print(text, end="")
    for problem in problems:
        print("yardstick-summary: %s" % problem, file=sys.stderr)
    if problems:
        return 1
    return 0 if summary["verdict"]["met"] else 3


RESULTS = """<?xml version="1.0"?>
<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b">
 <Rule id="xccdf_org.ssgproject.content_rule_sshd_set_max_auth_tries">
  <reference href="https://www.cisecurity.org/benchmark/debian_linux/">5.1.16</reference></Rule>
 <Rule id="xccdf_org.ssgproject.content_rule_grub2_audit_argument">
  <reference href="https://www.cisecurity.org/benchmark/debian_linux/">6.2.1.3</reference></Rule>
 <TestResult id="t">
  <rule-result idref="xccdf_org.ssgproject.content_rule_sshd_set_max_auth_tries"><result>%s</result></rule-result>
  <rule-result idref="xccdf_org.ssgproject.content_rule_grub2_audit_argument"><result>fail</result></rule-result>
  <rule-result idref="xccdf_org.ssgproject.content_rule_x"><result>notapplicable</result></rule-result>
  <rule-result idref="xccdf_org.ssgproject.content_rule_y"><result>notselected</result></rule-result>
  <rule-result idref="xccdf_org.ssgproject.content_rule_z"><result>error</result></rule-result>
 </TestResult>
</Benchmark>
"""
LYNIS = "hardening_index=%s\nlynis_tests_done=237\nwarning[]=PKGS-7392|Found vulnerable packages|-|-|\n" + (
    "suggestion[]=SSH-7408|Consider hardening SSH configuration|MaxAuthTries (6 --> 3)|-|\n"
)


def self_test() -> int:
    """The parsers and the verdict on small inline files; a yardstick that finds nothing must fail."""
    catalogue = {"SSH-CONFIG": {"cis": "5.1.4-5.1.7, 5.1.10-5.1.22"}, "UFW-DEFAULTS": {"cis": "4.2.7"}}
    assert controls_for("5.1.16", catalogue) == ["SSH-CONFIG"]
    assert controls_for("5.1.8", catalogue) == []
    assert controls_for("4.2.7", catalogue) == ["UFW-DEFAULTS"]
    assert controls_for("4.2.7.1", catalogue) == []
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "bookworm"
        for scan, result, index in (("bare", "fail", "61"), ("hardened", "pass", "70")):
            (out / scan).mkdir(parents=True)
            (out / scan / "results.xml").write_text(RESULTS % result)
            (out / scan / "lynis-report.dat").write_text(LYNIS % index)
        (out / "times.tsv").write_text("boot\t42\t1.00 2.00 3.00\n")
        summary, problems = summarise(out)
        assert problems == [], problems
        hardened = summary["scans"]["hardened"]
        assert hardened["openscap"]["counts"] == {"pass": 1, "fail": 1, "notapplicable": 1, "other": 1}
        assert hardened["lynis"]["hardening_index"] == 70 and hardened["lynis"]["tests_performed"] == 237
        assert hardened["lynis"]["warnings"] == [{"test": "PKGS-7392", "text": "Found vulnerable packages"}]
        changes = summary["openscap_changes"]
        assert changes["fixed"] == ["sshd_set_max_auth_tries"] and changes["broken"] == []
        assert [e["rule"] for e in changes["failing_other"]] == ["grub2_audit_argument"]
        assert "| Lynis hardening index | 61 | 70 |" in render(summary)
        # One pass, one fail: 50 %, the failing rule unwaived, Lynis 70 < 85 - not met.
        target = summary["verdict"]
        assert target["openscap_rate"] == 50.0 and target["unwaived"] == ["grub2_audit_argument"], target
        assert not target["met"] and "**Verdict: NOT met.**" in render(summary)
        waived = verdict(hardened, {"grub2_audit_argument": "no GRUB", "sshd_set_max_auth_tries": "old"})
        assert waived["unwaived"] == [] and waived["stale"] == ["sshd_set_max_auth_tries"], waived
        waivers = pathlib.Path(tmp) / "waivers.yml"
        waivers.write_text("bookworm:\n  xccdf_org.ssgproject.content_rule_a: why\n  b: ''\n")
        try:
            load_waivers(waivers, "bookworm")
            raise AssertionError("a waiver without a reason was taken")
        except ValueError as error:
            assert "b under bookworm" in str(error), error
        assert load_waivers(waivers, "trixie") == {}
        # Nothing evaluated, no index: the verdict fails.
        (out / "hardened" / "results.xml").write_text(RESULTS.replace("fail", "notapplicable") % "notapplicable")
        (out / "hardened" / "lynis-report.dat").write_text("lynis_tests_done=0\n")
        _summary, problems = summarise(out)
        assert len(problems) == 3, problems
        (out / "bare" / "results.xml").unlink()
        assert len(summarise(out)[1]) == 4
        # A hardened-only run (YARDSTICK_SCANS=hardened): no bare scan is no problem, and no comparison.
        (out / "scans.txt").write_text("hardened\n")
        (out / "hardened" / "results.xml").write_text(RESULTS % "pass")
        (out / "hardened" / "lynis-report.dat").write_text(LYNIS % "70")
        summary, problems = summarise(out)
        assert problems == [] and "bare" not in summary["scans"] and "openscap_changes" not in summary, problems
        assert "| OpenSCAP pass | - | 1 |" in render(summary)
    print("yardstick-summary: self-test passed")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) != 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return write(pathlib.Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Render the CIS Level 1 (Server) coverage table into a README, and check it.

usage: python3 scripts/cis-coverage.py README                 write the table into README
       python3 scripts/cis-coverage.py --check [README]       check the data (and README's table)
       python3 scripts/cis-coverage.py --self-test
       python3 scripts/cis-coverage.py --import CONTROLS COMMIT   print a benchmark file (meta/cis/)

Every Level 1 Server recommendation of each benchmark (meta/cis/debian12.yml, meta/cis/debian13.yml:
ID, title, levels, assessment) is in one state:

- implemented: a control of os_baseline in the catalogue (plugins/module_utils/_controls.py) names
  it, in its ``cis`` field (CIS Debian 12 numbers) or ``cis13`` (CIS Debian 13 numbers);
- covered elsewhere: a control of another role names it;
- planned, not applicable or manual: a reviewed decision with its reason in meta/cis/coverage.yml,
  which holds only those (a recommendation both there and in the catalogue is an error).

The table goes between ``<!-- cis-coverage:start -->`` and ``<!-- cis-coverage:end -->``. ``--check``
writes nothing and exits 1 naming each defect: a recommendation in no state or in two, a decision for
an ID the benchmark does not hold at Level 1 Server, a catalogue reference to a recommendation the
benchmark does not hold, and a README whose table differs (the difference is printed). Catalogue
ranges ("5.1.4-5.1.7") are read by the yardstick summary's own parser and stay within one section.
"""

from __future__ import annotations

import difflib
import importlib.util
import pathlib
import re
import sys
import tempfile

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
CATALOGUE = "plugins/module_utils/_controls.py"
COVERAGE = "meta/cis/coverage.yml"
# The README's role: its controls are "implemented", every other role's "covered elsewhere".
ROLE = "os_baseline"
# Per benchmark: its key in coverage.yml, its data file and the catalogue field with its numbers.
BENCHMARKS = (
    {"key": "debian12", "data": "meta/cis/debian12.yml", "field": "cis"},
    {"key": "debian13", "data": "meta/cis/debian13.yml", "field": "cis13"},
)
START = "<!-- cis-coverage:start -->"
END = "<!-- cis-coverage:end -->"
LEVEL = "l1_server"
LEVELS = ("l1_server", "l2_server", "l1_workstation", "l2_workstation")
ASSESSMENTS = ("Automated", "Manual")
DECIDED = ("planned", "not_applicable", "manual")
# The states in the order the summary counts them, with the words the table shows.
STATES = {
    "implemented": "implemented",
    "covered_elsewhere": "covered elsewhere",
    "planned": "planned",
    "not_applicable": "not applicable",
    "manual": "manual",
}
ID_RE = re.compile(r"^\d+(\.\d+)+$")


def _load(name: str, path: pathlib.Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The one parser of the catalogue's CIS references (expand_cis, controls_for), shared with the summary.
_yardstick = _load("_bulwark_yardstick_summary", ROOT / "scripts/yardstick-summary.py")


# --------------------------------------------------------------------- data
def import_controls(text: str, commit: str) -> str:
    """A benchmark file (meta/cis/) from a ComplianceAsCode control file: IDs, titles, levels, assessment."""
    policy = yaml.safe_load(text)
    lines = [
        f"# {policy['title']} v{policy['version']}: each recommendation's ID, title, levels (CIS profiles) and",
        "# assessment status (CIS's Automated or Manual, from the title). Data only, extracted from",
        f"# ComplianceAsCode/content controls/{policy['id']}.yml at commit {commit} by",
        "# scripts/cis-coverage.py --import (the commit the yardsticks' SCAP data streams were built from).",
        "# The benchmark itself: https://www.cisecurity.org/cis-benchmarks",
        "---",
        f"benchmark: {policy['title']}",
        f'version: "{policy["version"]}"',
        f"source: ComplianceAsCode/content controls/{policy['id']}.yml {commit}",
        "recommendations:",
    ]
    for control in policy["controls"]:
        match = re.match(r"^(.*?)\s*\((Automated|Manual)\)$", control["title"])
        title, assessment = (match.group(1), match.group(2)) if match else (control["title"], "")
        lines += [
            f'  "{control["id"]}":',
            f"    title: {yaml.safe_dump(title, width=1000).strip().removesuffix('...').strip()}",
            f"    levels: [{', '.join(control.get('levels', []))}]",
            f"    assessment: {assessment}",
        ]
    return "\n".join(lines) + "\n"


def benchmark_problems(path: str, data) -> list[str]:
    """Defects of a benchmark file, each naming the file and the recommendation."""
    if not isinstance(data, dict) or not isinstance(data.get("recommendations"), dict):
        return [f"{path}: must hold benchmark, version and a mapping recommendations"]
    defects = [f"{path}: {key} must be a non-empty string" for key in ("benchmark", "version") if not data.get(key)]
    for ident, rec in data["recommendations"].items():
        where = f"{path}: {ident!r}"
        if not isinstance(ident, str) or not ID_RE.match(ident):
            defects.append(f"{where}: an ID is a quoted string of dotted numbers")
        elif not isinstance(rec, dict) or not isinstance(rec.get("title"), str) or not rec["title"]:
            defects.append(f"{where}: needs a title")
        elif not rec.get("levels") or any(level not in LEVELS for level in rec["levels"]):
            defects.append(f"{where}: levels {rec.get('levels')!r} are not among {', '.join(LEVELS)}")
        elif rec.get("assessment") not in ASSESSMENTS:
            defects.append(f"{where}: assessment {rec.get('assessment')!r} is none of {', '.join(ASSESSMENTS)}")
    return defects


def level1(data: dict) -> list[str]:
    return [ident for ident, rec in data["recommendations"].items() if LEVEL in rec["levels"]]


def reference_problems(catalogue: dict, field: str, data: dict, path: str) -> list[str]:
    """Catalogue references (``field``) to a recommendation the benchmark lacks, or a range across sections."""
    defects = []
    known = {_yardstick.cis_key(ident) for ident in data["recommendations"]}
    for ident, entry in catalogue.items():
        spec = entry.get(field, "")
        where = f"{CATALOGUE}: {ident}: {field} {spec!r}"
        try:
            ranges = _yardstick.expand_cis(spec)
        except ValueError:
            defects.append(f"{where}: is not a list of CIS numbers and ranges")
            continue
        for low, high in ranges:
            shown = ".".join(map(str, low)) if low == high else "-".join(".".join(map(str, k)) for k in (low, high))
            if low not in known or high not in known:
                defects.append(f"{where}: {shown} is not a recommendation of {path}")
            elif low[:-1] != high[:-1] or low > high:
                defects.append(f"{where}: the range {shown} must stay within one section, low to high")
    return defects


def decisions_problems(decisions, data: dict, path: str, key: str) -> list[str]:
    """Defects of one benchmark's decisions in coverage.yml."""
    if decisions is None:
        return []
    if not isinstance(decisions, dict):
        return [f"{COVERAGE}: {key}: must map recommendation IDs to decisions"]
    defects = []
    l1 = set(level1(data))
    for ident, decision in decisions.items():
        where = f"{COVERAGE}: {key}: {ident!r}"
        if not isinstance(ident, str):
            defects.append(f"{where}: not a recommendation of {path} (quote the ID: YAML read a number)")
        elif ident not in data["recommendations"]:
            defects.append(f"{where}: not a recommendation of {path}")
        elif ident not in l1:
            defects.append(f"{where}: not a Level 1 Server recommendation of {path}")
        if not isinstance(decision, dict):
            defects.append(f"{where}: a decision is {{state, reason}} and role when planned")
            continue
        unknown = sorted(str(name) for name in decision if name not in ("state", "role", "reason"))
        if unknown:
            defects.append(f"{where}: unknown keys {', '.join(unknown)} (allowed: state, role, reason)")
        if decision.get("state") not in DECIDED:
            defects.append(f"{where}: state {decision.get('state')!r} is none of {', '.join(DECIDED)}")
        if not isinstance(decision.get("reason"), str) or not decision["reason"].strip():
            defects.append(f"{where}: needs a reason")
        if decision.get("state") == "planned" and not decision.get("role"):
            defects.append(f"{where}: a planned recommendation names the role that will implement it")
    return defects


def rows(data: dict, catalogue: dict, field: str, decisions: dict, key: str) -> tuple[list[dict], list[str]]:
    """One row per Level 1 Server recommendation (id, title, state, by) and the recommendations in no
    state or in two."""
    view = {ident: {"cis": entry.get(field, "")} for ident, entry in catalogue.items()}
    table, defects = [], []
    for ident in level1(data):
        controls = _yardstick.controls_for(ident, view)
        decision = decisions.get(ident)
        rec = data["recommendations"][ident]
        row = {"id": ident, "title": rec["title"], "assessment": rec["assessment"]}
        if controls and decision is not None:
            defects.append(
                f"{COVERAGE}: {key}: {ident!r}: the catalogue covers it ({', '.join(controls)}): remove the decision"
            )
        if controls:
            roles = sorted({catalogue[control]["role"] for control in controls})
            row["state"] = "implemented" if ROLE in roles else "covered_elsewhere"
            row["by"] = "; ".join(
                ", ".join(f"`{c}`" for c in controls if catalogue[c]["role"] == role) + f" ({role})" for role in roles
            )
        elif isinstance(decision, dict) and decision.get("state") in DECIDED:
            row["state"] = decision["state"]
            reason = str(decision.get("reason", "")).strip()
            row["by"] = f"{decision['role']}: {reason}" if decision.get("role") else reason
        else:
            defects.append(f"{COVERAGE}: {key}: {ident!r}: Level 1 Server recommendation in no state ({row['title']})")
            continue
        table.append(row)
    return table, defects


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def counts(table: list[dict]) -> dict:
    return {state: sum(1 for row in table if row["state"] == state) for state in STATES}


def render(results: list[tuple[dict, list[dict]]]) -> str:
    """The README's section: the counts, then one table per benchmark."""
    lines = [
        "Generated by `scripts/cis-coverage.py` from the benchmark files in `meta/cis/`, the catalogue",
        f"(`{CATALOGUE}`) and the reviewed decisions in `{COVERAGE}`; `make lint` checks it.",
        f"*Implemented*: a control of {ROLE}; *covered elsewhere*: a control of the role named; *planned*:",
        "the role named will implement it; *not applicable* and *manual*: the reason says why. A title marked",
        "(Manual) is one CIS assesses by hand.",
        "",
        "| Benchmark | Level 1 Server | " + " | ".join(STATES.values()) + " |",
        "| --- | ---: | " + " | ".join(["---:"] * len(STATES)) + " |",
    ]
    for data, table in results:
        numbers = counts(table)
        name = f"{data['benchmark']} v{data['version']}"
        lines.append(f"| {name} | {len(table)} | " + " | ".join(str(numbers[s]) for s in STATES) + " |")
    for data, table in results:
        name = f"{data['benchmark']} v{data['version']}"
        lines += [
            "",
            "<details>",
            f"<summary>{name}: the {len(table)} Level 1 Server recommendations</summary>",
            "",
            "| CIS | Recommendation | State | By / reason |",
            "| --- | --- | --- | --- |",
        ]
        for row in table:
            title = row["title"] + (" (Manual)" if row["assessment"] == "Manual" else "")
            lines.append(f"| {row['id']} | {cell(title)} | {STATES[row['state']]} | {cell(row['by'])} |")
        lines += ["", "</details>"]
    return "\n".join(lines)


def between(text: str, body: str) -> str | None:
    """The text with ``body`` between the two marker lines, or None when a marker is missing."""
    if START not in text or END not in text.split(START, 1)[1]:
        return None
    head, rest = text.split(START, 1)
    return f"{head}{START}\n{body}\n{END}{rest.split(END, 1)[1]}"


# --------------------------------------------------------------------- the run
def evaluate(root: pathlib.Path, catalogue: dict) -> tuple[list[tuple[dict, list[dict]]], list[str]]:
    """Each benchmark's data and rows, and every defect of the data."""
    coverage_path = root / COVERAGE
    coverage = yaml.safe_load(coverage_path.read_text(encoding="utf-8")) if coverage_path.exists() else None
    if not isinstance(coverage, dict):
        return [], [f"{COVERAGE}: missing, or not a mapping of benchmark keys to decisions"]
    defects = [
        f"{COVERAGE}: {key!r}: not a benchmark key ({', '.join(b['key'] for b in BENCHMARKS)})"
        for key in coverage
        if key not in {b["key"] for b in BENCHMARKS}
    ]
    results = []
    for bench in BENCHMARKS:
        data = yaml.safe_load((root / bench["data"]).read_text(encoding="utf-8"))
        problems = benchmark_problems(bench["data"], data)
        if problems:
            defects += problems
            continue
        decisions = coverage.get(bench["key"]) or {}
        defects += decisions_problems(decisions, data, bench["data"], bench["key"])
        defects += reference_problems(catalogue, bench["field"], data, bench["data"])
        table, missing = rows(
            data, catalogue, bench["field"], decisions if isinstance(decisions, dict) else {}, bench["key"]
        )
        defects += missing
        results.append((data, table))
    return results, defects


def run(argv: list[str], root: pathlib.Path, catalogue: dict, echo=print) -> int:
    """Check or write the READMEs in argv (after --check or not); ``echo`` prints (quiet in the self-test)."""
    check = argv[0] == "--check"
    paths = argv[1:] if check else argv
    results, defects = evaluate(root, catalogue)
    if not defects:
        body = render(results)
        for path in paths:
            readme = pathlib.Path(path)
            text = readme.read_text(encoding="utf-8") if readme.exists() else ""
            new = between(text, body)
            if new is None:
                defects.append(f"{readme}: no {START} ... {END} markers")
            elif new != text and check:
                diff = difflib.unified_diff(text.splitlines(), new.splitlines(), str(readme), "generated", lineterm="")
                defects.append(
                    f"{readme}: the CIS coverage table is out of date (run scripts/cis-coverage.py {readme}):"
                )
                defects.append("\n".join(diff))
            elif new != text:
                readme.write_text(new, encoding="utf-8")
                echo(f"cis-coverage: wrote {readme}")
    if defects:
        echo("\n".join(defects), file=sys.stderr)
        return 1
    for data, table in results:
        numbers = counts(table)
        echo(
            f"cis-coverage: {data['benchmark']} v{data['version']}: {len(table)} Level 1 Server, "
            + ", ".join(f"{numbers[s]} {STATES[s]}" for s in STATES)
        )
    return 0


# --------------------------------------------------------------------- self-test
SAMPLE_BENCHMARK = """
benchmark: CIS Sample
version: "1.0.0"
recommendations:
  "1.1.1":
    title: Ensure cramfs is not available
    levels: [l1_server, l1_workstation]
    assessment: Automated
  "1.1.2":
    title: Ensure overlayfs is not available
    levels: [l2_server, l2_workstation]
    assessment: Automated
  "5.1.1":
    title: Ensure sshd Banner is configured
    levels: [l1_server, l1_workstation]
    assessment: Automated
  "5.1.2":
    title: Ensure sshd Ciphers are configured
    levels: [l1_server, l1_workstation]
    assessment: Automated
  "5.1.10":
    title: Ensure sshd | MACs are configured
    levels: [l1_server]
    assessment: Automated
  "6.1":
    title: Ensure auditd is installed
    levels: [l1_server]
    assessment: Automated
  "7.1":
    title: Ensure SUID files are reviewed
    levels: [l1_server, l1_workstation]
    assessment: Manual
"""
SAMPLE_CATALOGUE = {
    "OS-MODULES": {"role": "os_baseline", "title": "t", "measure": "m", "cis": "1.1.1-1.1.2", "cis13": "1.1.1"},
    "SSH-CONFIG": {"role": "ssh_hardening", "title": "t", "measure": "m", "cis": "5.1.1-5.1.10"},
    "OS-SSHD-MODE": {"role": "os_baseline", "title": "t", "measure": "m", "cis": "5.1.2"},
}
SAMPLE_COVERAGE = """
debian12:
  "6.1": {state: planned, role: logging_audit, reason: auditd is the coming role's}
  "7.1": {state: manual, reason: a site reviews its own SUID files}
debian13:
  "5.1.1": {state: manual, reason: the banner text is the site's}
  "5.1.2": {state: planned, role: ssh_hardening, reason: not claimed yet}
  "5.1.10": {state: not_applicable, reason: the sample has no MACs}
  "6.1": {state: planned, role: logging_audit, reason: auditd is the coming role's}
  "7.1": {state: manual, reason: a site reviews its own SUID files}
"""

# One defect in each decision (and a benchmark key that is none), and a Level 1 recommendation in no state.
BAD_COVERAGE = """
debian12:
  "6.1": {state: planned, role: logging_audit, reason: auditd is the coming role's}
debian13:
  "5.1.1": {state: done, reason: the banner text is the site's}
  "5.1.2": {state: planned, reason: not claimed yet}
  "5.1.10": {state: not_applicable, reason: " "}
  "6.1": {state: planned, role: logging_audit, reason: auditd is the coming role's}
  "7.1": {state: manual, reason: a site reviews its own SUID files}
  "1.1.1": {state: manual, reason: both}
  "1.1.2": {state: manual, reason: level 2}
  "9.9": {state: manual, reason: unknown}
  5.2: {state: manual, reason: a float}
debian14: {}
"""


def _tree(tmp: str, coverage: str) -> pathlib.Path:
    root = pathlib.Path(tmp)
    (root / "meta/cis").mkdir(parents=True, exist_ok=True)
    for bench in BENCHMARKS:
        (root / bench["data"]).write_text(SAMPLE_BENCHMARK)
    (root / COVERAGE).write_text(coverage)
    return root


def self_test() -> int:
    """The states, the defects and the README round trip, on a small inline benchmark."""
    out = []

    def quiet(*_args, **_kwargs):
        pass

    with tempfile.TemporaryDirectory() as tmp:
        root = _tree(tmp, SAMPLE_COVERAGE)
        results, defects = evaluate(root, SAMPLE_CATALOGUE)
        assert defects == [], defects
        (_d12, t12), (_d13, t13) = results
        assert [(r["id"], r["state"]) for r in t12] == [
            ("1.1.1", "implemented"),
            ("5.1.1", "covered_elsewhere"),
            ("5.1.2", "implemented"),
            ("5.1.10", "covered_elsewhere"),
            ("6.1", "planned"),
            ("7.1", "manual"),
        ], t12
        assert t12[2]["by"] == "`OS-SSHD-MODE` (os_baseline); `SSH-CONFIG` (ssh_hardening)", t12[2]
        assert t12[1]["by"] == "`SSH-CONFIG` (ssh_hardening)" and t12[4]["by"].startswith("logging_audit: ")
        assert [r["state"] for r in t13][:4] == ["implemented", "manual", "planned", "not_applicable"], t13
        body = render(results)
        assert "| CIS Sample v1.0.0 | 6 | 2 | 2 | 1 | 0 | 1 |" in body, body
        assert "| 5.1.10 | Ensure sshd \\| MACs are configured | covered elsewhere |" in body, body
        assert "| 7.1 | Ensure SUID files are reviewed (Manual) | manual |" in body, body
        assert "1.1.2" not in body.split("<details>", 1)[1], "a Level 2 recommendation is not in the table"
        # A README: written between the markers, then checked; a stale one fails with a diff.
        readme = root / "README.md"
        readme.write_text(f"# os_baseline\n\n{START}\nold\n{END}\n\n## After\n")
        assert run([str(readme)], root, SAMPLE_CATALOGUE, quiet) == 0
        assert readme.read_text().endswith(f"{END}\n\n## After\n") and "old" not in readme.read_text()
        assert run(["--check", str(readme)], root, SAMPLE_CATALOGUE, quiet) == 0
        readme.write_text(readme.read_text().replace("| 6.1 |", "| 6.2 |"))
        assert run(["--check", str(readme)], root, SAMPLE_CATALOGUE, quiet) == 1
        readme.write_text("# no markers\n")
        assert run(["--check", str(readme)], root, SAMPLE_CATALOGUE, quiet) == 1
        out.append("readme")
        # Each defect, and the fragment its line must contain.
        bad_catalogue = dict(
            SAMPLE_CATALOGUE, UFW_X={"role": "ufw", "title": "t", "measure": "m", "cis": "5.1.2-6.1, 4.2"}
        )
        root = _tree(tmp, BAD_COVERAGE)
        _results, defects = evaluate(root, bad_catalogue)
        expected = [
            "debian13: '5.1.1': state 'done' is none of planned, not_applicable, manual",
            "debian13: '5.1.2': a planned recommendation names the role",
            "debian13: '5.1.10': needs a reason",
            "debian13: '1.1.1': the catalogue covers it (OS-MODULES): remove the decision",
            "debian13: '1.1.2': not a Level 1 Server recommendation",
            "debian13: '9.9': not a recommendation of meta/cis/debian13.yml",
            "'debian14': not a benchmark key",
            "debian13: 5.2: not a recommendation of meta/cis/debian13.yml (quote the ID: YAML read a number)",
            "UFW_X: cis '5.1.2-6.1, 4.2': the range 5.1.2-6.1 must stay within one section",
            "UFW_X: cis '5.1.2-6.1, 4.2': 4.2 is not a recommendation of meta/cis/debian12.yml",
            "debian12: '7.1': Level 1 Server recommendation in no state (Ensure SUID files are reviewed)",
            "debian13: '5.1.1': Level 1 Server recommendation in no state",
        ]
        assert len(defects) == len(expected), defects
        for fragment in expected:
            assert any(fragment in line for line in defects), f"{fragment!r} not in {defects}"
        out.append("defects")
        # A benchmark file that is not one.
        assert benchmark_problems("b.yml", {"recommendations": {"1.1": {"title": "t", "levels": ["l3"]}}})
        # The importer: IDs quoted, the assessment split from the title, readable by the checker.
        imported = import_controls(
            "policy: P\ntitle: CIS Benchmark for Debian 12\nid: cis_debian12\nversion: '1.1.0'\ncontrols:\n"
            "  - {id: 1.2.10, title: 'Ensure: x (Manual)', levels: [l1_server], status: manual}\n",
            "abc123",
        )
        data = yaml.safe_load(imported)
        assert data["recommendations"] == {
            "1.2.10": {"title": "Ensure: x", "levels": ["l1_server"], "assessment": "Manual"}
        }
        assert benchmark_problems("b.yml", data) == [] and "at commit abc123" in imported
        out.append("import")
    print(f"cis-coverage self-test: states, {', '.join(out)} passed")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) == 3 and argv[0] == "--import":
        print(import_controls(pathlib.Path(argv[1]).read_text(encoding="utf-8"), argv[2]), end="")
        return 0
    if not argv or (argv[0].startswith("--") and argv[0] != "--check"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    catalogue = _load("_bulwark_controls", ROOT / CATALOGUE).CONTROLS
    return run(argv, ROOT, catalogue)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

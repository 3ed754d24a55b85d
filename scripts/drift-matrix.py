"""The drift matrix over every scenario that ran one: precision, recall and each control's coverage.

Reads .tmp/drift-matrix/<scenario>.json (written by extensions/molecule/drift_matrix.py in each
scenario's tests) and the injection files, and writes .tmp/drift-matrix/summary.md: per control
and way of drifting (our file, a higher-priority place, the running daemon), the injections made,
where, and whether the drift run named them, or why none can be made. Prints the totals. Exit 1
when a scenario's matrix missed or added a control, or a (control, way) has neither an injection
that ran nor a reason - unless no matrix ran at all (a partial `make molecule`).
"""

from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / ".tmp" / "drift-matrix"
sys.path.insert(0, str(ROOT / "extensions" / "molecule"))

import drift_matrix  # noqa: E402 (the scenarios' helper)


def main() -> int:
    files = sorted(path for path in OUT.glob("*.json")) if OUT.is_dir() else []
    if not files:
        print("drift matrix: no scenario ran one")
        return 0
    runs = [json.loads(path.read_text()) for path in files]
    totals = {"true_positive": 0, "false_positive": 0, "false_negative": 0}
    judged: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        for key in totals:
            totals[key] += run["score"][key]
        for batch in run["batches"]:
            for item in batch["injections"]:
                verdict = "named" if not item["missed"] else f"MISSED {', '.join(item['missed'])}"
                judged.setdefault((item["control"], item["via"]), []).append(
                    f"{item['what']} ({run['scenario']}: {verdict})"
                )
    reasons = {
        (item.control, item.via): item.why
        for item in drift_matrix.load_all()
        if isinstance(item, drift_matrix.NotInjectable)
    }
    found = totals["true_positive"] + totals["false_positive"]
    expected = totals["true_positive"] + totals["false_negative"]
    precision = totals["true_positive"] / found if found else 1.0
    recall = totals["true_positive"] / expected if expected else 1.0
    lines = [
        "# Drift matrix: every control, every way of drifting",
        "",
        f"Scenarios: {', '.join(run['scenario'] for run in runs)}. Precision {precision:.1%}, recall {recall:.1%}"
        f" ({totals['true_positive']} controls named as expected, {totals['false_negative']} missed,"
        f" {totals['false_positive']} named without an injection).",
        "",
        "| control | via | injections (scenario: verdict) or why none |",
        "|---|---|---|",
    ]
    # Each miss and extra by name (CI shows only the end of the output), as the scenarios' tests say them.
    wrong = [
        f"drift matrix: {run['scenario']} {line}"
        for run in runs
        for line in drift_matrix.describe([drift_matrix.Outcome(**batch) for batch in run["batches"]]).splitlines()
    ]
    gaps = []
    catalogue = drift_matrix.catalogue()
    for control in catalogue:
        for via in drift_matrix.VIAS:
            cell = "<br>".join(judged.get((control, via), []))
            if not cell and (control, via) in reasons:
                cell = f"not injectable: {reasons[(control, via)]}"
            if not cell:
                gaps.append(f"{control} {via}")
                cell = "**no injection ran**"
            lines.append(f"| {control} | {via} | {cell} |")
    (OUT / "summary.md").write_text("\n".join(lines) + "\n")
    print(
        f"drift matrix: {len(runs)} scenario(s), precision {precision:.1%}, recall {recall:.1%};"
        f" {sum(len(v) for v in judged.values())} injections, {len(reasons)} (control, way) not injectable;"
        f" {OUT / 'summary.md'}"
    )
    if gaps:
        print(
            f"drift matrix: no injection ran for {len(gaps)} (control, way), e.g. {', '.join(gaps[:5])}"
            " (a partial run?)"
        )
    for line in wrong:
        print(line[:300])
    return 0 if precision == recall == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())

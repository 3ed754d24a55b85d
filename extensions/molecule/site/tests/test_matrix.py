"""The drift matrix on the hardened web host: every control's drift, injected, must be named.

For each control of the catalogue and each way a host drifts (our file edited, a place the
software reads with higher priority, a running daemon that differs from its files), the
injections of extensions/molecule/injections/ that run here are made in batches; the drift run
after each batch must name exactly the expected controls (precision and recall 100 %), and
converge repairs the host before the next batch. Three drift runs of the clean host name
nothing: the check gate's after idempotence, the one after test_drift.py's repair (or one of its
own, when that test did not run) and the one after the matrix's last repair. The matrix is
written to .tmp/drift-matrix/site.{json,md}.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import drift_matrix
import pytest
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "site-bookworm"
testinfra_hosts = [f"ansible://{TARGET}?ansible_inventory={INVENTORY}"]
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
OUT = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "matrix"
ITEMS = drift_matrix.load_all()


def verdict(report: Path) -> tuple[int, list[str]]:
    """A drift run's exit status as its report's verdict states it, and its drifted controls."""
    found = drift_matrix.drifted(report, TARGET)[0]
    return json.loads(report.read_text()).get("verdict", {}).get("exit_status"), found


def clean_run(name: str) -> tuple[int, list[str]]:
    """A drift run of the untouched host: its exit status and the controls it names."""
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"{name}.json"
    env = {"BULWARK_DRIFT_REPORT": str(report), "BULWARK_DRIFT_EXIT_STATUS": "true"}
    result = run_playbook(SCENARIO / "drift.yml", "--check", "--diff", env=env, timeout=900)
    (OUT / f"{name}.log").write_text(result.stdout + result.stderr)
    return result.returncode, drift_matrix.drifted(report, TARGET)[0]


@pytest.fixture(scope="module")
def matrix(host):
    # The check gate's run after idempotence (shared/check_zero.yml), then test_drift.py's last.
    clean = [verdict(OUT.parent / "check_zero.json")]
    repaired = OUT.parent / "drift" / "repaired.json"
    clean.append(verdict(repaired) if repaired.exists() else clean_run("clean-before"))
    outcomes = drift_matrix.run_matrix(
        host, TARGET, drift_matrix.for_scenario("site", ITEMS), scenario_dir=SCENARIO, out=OUT
    )
    clean.append(clean_run("clean-after"))
    score = drift_matrix.write("site", outcomes, ITEMS, [code for code, _found in clean])
    return outcomes, clean, score


def test_three_clean_drift_runs_name_nothing(matrix):
    clean = matrix[1]
    assert clean == [(0, [])] * 3


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    outcomes, score = matrix[0], matrix[2]
    assert (score["precision"], score["recall"]) == (1.0, 1.0), drift_matrix.describe(outcomes)
    assert all(outcome.repair_returncode == 0 for outcome in outcomes), drift_matrix.describe(outcomes)
    made = sum(len(outcome.injections) for outcome in outcomes)
    assert made == len(drift_matrix.for_scenario("site", ITEMS)), drift_matrix.describe(outcomes)
    # A drift run over a drifted host exits 10 (drifted), never 0.
    assert {outcome.returncode for outcome in outcomes} == {10}, drift_matrix.describe(outcomes)

"""The drift matrix of the controls that need TLS, a package the role installs or a served directory
(extensions/molecule/injections/, scenarios=("apache_hardening",)): on the Debian 13 target hardened
with the role's self-signed certificate (matrix.yml), every injected drift must be named, and nothing
else (precision and recall 100 %); the repair run (matrix.yml) fixes it, or refuses naming the file the
injection's undo then removes. Drift runs of the clean host before and after name nothing. The matrix
is written to .tmp/drift-matrix/apache_hardening.{json,md}.
"""

from __future__ import annotations

import os
from pathlib import Path

import drift_matrix
import pytest
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "apache_hardening-trixie"
testinfra_hosts = [f"ansible://{TARGET}?ansible_inventory={INVENTORY}"]
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
OUT = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "matrix"
ITEMS = drift_matrix.load_all()
PLAYBOOK = "matrix.yml"


def clean_run(name: str) -> list[str]:
    """The controls a drift run of the untouched target names."""
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"{name}.json"
    result = run_playbook(SCENARIO / PLAYBOOK, "--check", "--diff", env={"BULWARK_DRIFT_REPORT": str(report)})
    (OUT / f"{name}.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-3000:]
    return drift_matrix.drifted(report, TARGET)[0]


@pytest.fixture(scope="module")
def matrix(host):
    # The target moves from the test CA's certificate (converge.yml) to the role's self-signed one.
    applied = run_playbook(SCENARIO / PLAYBOOK, timeout=900)
    assert applied.returncode == 0, applied.stdout[-3000:]
    clean = [clean_run("clean-before")]
    outcomes = drift_matrix.run_matrix(
        host,
        TARGET,
        drift_matrix.for_scenario("apache_hardening", ITEMS),
        scenario_dir=SCENARIO,
        out=OUT,
        drift_playbook=PLAYBOOK,
        repair_playbook=PLAYBOOK,
    )
    clean.append(clean_run("clean-after"))
    score = drift_matrix.write("apache_hardening", outcomes, ITEMS, [0 if not found else 10 for found in clean])
    return outcomes, clean, score


def test_the_matrix_has_injections_here():
    assert len(drift_matrix.for_scenario("apache_hardening", ITEMS)) >= 4


def test_clean_drift_runs_name_nothing(matrix):
    _outcomes, clean, _score = matrix
    assert clean == [[], []]


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    outcomes, _clean, score = matrix
    assert (score["precision"], score["recall"]) == (1.0, 1.0), drift_matrix.describe(outcomes)
    assert all(outcome.repair_returncode == 0 for outcome in outcomes), drift_matrix.describe(outcomes)

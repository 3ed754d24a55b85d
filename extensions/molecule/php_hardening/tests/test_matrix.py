"""The drift matrix of the controls that need PHP-FPM or a module to disable (extensions/molecule/injections/,
scenarios=("php_hardening",)): on the PHP-FPM host (matrix.yml: converge.yml's variables, that host
alone), every injected drift must be named, and nothing else (precision and recall 100 %); the repair
run (matrix.yml) fixes it, or refuses naming the file the injection's undo then removes. Drift runs of
the clean host before and after name nothing. The matrix is written to
.tmp/drift-matrix/php_hardening.{json,md}.
"""

from __future__ import annotations

import os
from pathlib import Path

import drift_matrix
import pytest
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "php_hardening-fpm"
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
    applied = run_playbook(SCENARIO / PLAYBOOK, timeout=900)
    assert applied.returncode == 0, applied.stdout[-3000:]
    clean = [clean_run("clean-before")]
    outcomes = drift_matrix.run_matrix(
        host,
        TARGET,
        drift_matrix.for_scenario("php_hardening", ITEMS),
        scenario_dir=SCENARIO,
        out=OUT,
        drift_playbook=PLAYBOOK,
        repair_playbook=PLAYBOOK,
    )
    clean.append(clean_run("clean-after"))
    score = drift_matrix.write("php_hardening", outcomes, ITEMS, [0 if not found else 10 for found in clean])
    yield outcomes, clean, score
    # The earlier pool file the repair set stays (it defines the pool first now): gone for the other tests.
    host.run("rm -f /etc/php/*/fpm/pool.d/00-local.conf")
    restored = run_playbook(SCENARIO / PLAYBOOK, timeout=900)
    assert restored.returncode == 0, restored.stdout[-3000:]


def test_the_matrix_has_injections_here():
    assert len(drift_matrix.for_scenario("php_hardening", ITEMS)) >= 4


def test_clean_drift_runs_name_nothing(matrix):
    _outcomes, clean, _score = matrix
    assert clean == [[], []]


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    outcomes, _clean, score = matrix
    assert (score["precision"], score["recall"]) == (1.0, 1.0), drift_matrix.describe(outcomes)
    assert all(outcome.repair_returncode == 0 for outcome in outcomes), drift_matrix.describe(outcomes)

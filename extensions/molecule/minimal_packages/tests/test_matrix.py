"""The drift matrix of the minimal_packages scenario: the injections that need a loaded unit to mask.

rsync is installed here (in the site scenario its masked unit does not exist, and systemd loads a
missing unit afresh at every question), so the injections of extensions/molecule/injections/
minimal_packages.py on a loaded or running masked unit run here, with the others (see
site/tests/test_matrix.py). Each batch is injected on the Debian 12 host, the drift run (converge.yml
in check mode) must name exactly the expected controls, and converge.yml repairs the host. The
matrix is written to .tmp/drift-matrix/minimal_packages.{json,md}.
"""

from __future__ import annotations

import os
from pathlib import Path

import drift_matrix
import pytest
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "minimal_packages-bookworm"
testinfra_hosts = [f"ansible://{TARGET}?ansible_inventory={INVENTORY}"]
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
OUT = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "matrix"
ITEMS = drift_matrix.load_all()


def clean_run(name: str) -> tuple[int, list[str]]:
    """A drift run of the untouched host: its exit status and the controls it names on the target."""
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / f"{name}.json"
    env = {"BULWARK_DRIFT_REPORT": str(report), "BULWARK_DRIFT_EXIT_STATUS": "true"}
    result = run_playbook(SCENARIO / "converge.yml", "--check", "--diff", env=env, timeout=900)
    (OUT / f"{name}.log").write_text(result.stdout + result.stderr)
    return result.returncode, drift_matrix.drifted(report, TARGET)[0]


@pytest.fixture(scope="module")
def matrix(host):
    clean = [clean_run("clean-before")]
    outcomes = drift_matrix.run_matrix(
        host,
        TARGET,
        drift_matrix.for_scenario("minimal_packages", ITEMS),
        scenario_dir=SCENARIO,
        out=OUT,
        drift_playbook="converge.yml",
    )
    clean.append(clean_run("clean-after"))
    score = drift_matrix.write("minimal_packages", outcomes, ITEMS, [code for code, _found in clean])
    return outcomes, clean, score


def test_the_matrix_has_injections_here():
    # Its own injection (scenarios=("minimal_packages",)), and what overflows the site matrix.
    assert len(drift_matrix.for_scenario("minimal_packages", ITEMS)) >= 1


def test_clean_drift_runs_name_nothing(matrix):
    _outcomes, clean, _score = matrix
    assert [found for _code, found in clean] == [[], []]


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    outcomes, _clean, score = matrix
    assert (score["precision"], score["recall"]) == (1.0, 1.0), drift_matrix.describe(outcomes)
    assert all(outcome.repair_returncode == 0 for outcome in outcomes), drift_matrix.describe(outcomes)

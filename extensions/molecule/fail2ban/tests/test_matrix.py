"""The drift matrix in the fail2ban scenario: fail2ban's injections that site's batches leave over.

The injections of extensions/molecule/injections/ that `drift_matrix.allocate` sends here (those
listing "fail2ban" as their second scenario, when site's batches are full; all of them with
BULWARK_MATRIX_SITE_BATCHES=0) are made in batches on fail2ban-bookworm; the check run after each batch
(converge.yml in check mode) must name exactly the expected controls (precision and recall 100 %),
and converge.yml repairs the hosts before the next batch. It runs after test_fail2ban.py (files
run in alphabetical order); its last repair leaves the hosts converged.
The matrix is written to .tmp/drift-matrix/fail2ban.{json,md}.
"""

from __future__ import annotations

import os
from pathlib import Path

import drift_matrix
import pytest

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "fail2ban-bookworm"
testinfra_hosts = [f"ansible://{TARGET}?ansible_inventory={INVENTORY}"]
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
OUT = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "matrix"
ITEMS = drift_matrix.load_all()


@pytest.fixture(scope="module")
def matrix(host):
    outcomes = drift_matrix.run_matrix(
        host,
        TARGET,
        drift_matrix.for_scenario("fail2ban", ITEMS),
        scenario_dir=SCENARIO,
        out=OUT,
        drift_playbook="converge.yml",
        repair_playbook="converge.yml",
    )
    return outcomes, drift_matrix.write("fail2ban", outcomes, ITEMS, [])


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    outcomes, score = matrix
    assert (score["precision"], score["recall"]) == (1.0, 1.0), drift_matrix.describe(outcomes)
    assert all(outcome.repair_returncode == 0 for outcome in outcomes), drift_matrix.describe(outcomes)
    made = sum(len(outcome.injections) for outcome in outcomes)
    assert made == len(drift_matrix.for_scenario("fail2ban", ITEMS)), drift_matrix.describe(outcomes)

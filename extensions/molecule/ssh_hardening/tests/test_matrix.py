"""The drift matrix of the ssh_hardening scenario: the ssh injections that overflow site's batches.

The injections of extensions/molecule/injections/ssh_hardening.py run in the site scenario while its
batches have room, the rest here (drift_matrix.allocate; BULWARK_MATRIX_SITE_BATCHES=0 sends them
all here). Each batch is injected on the Debian 12 host, the check run (converge.yml in check mode)
must name exactly the expected controls, and converge.yml repairs the host; the check after the
last repair names nothing. The matrix is written to .tmp/drift-matrix/ssh_hardening.{json,md}.
"""

from __future__ import annotations

import os
from pathlib import Path

import drift_matrix
import pytest
from playbook_run import run_playbook

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGET = "ssh_hardening-bookworm"
testinfra_hosts = [f"ansible://{TARGET}?ansible_inventory={INVENTORY}"]
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
OUT = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "matrix"
ITEMS = drift_matrix.load_all()
HERE = drift_matrix.for_scenario("ssh_hardening", ITEMS)


@pytest.fixture(scope="module")
def matrix(host):
    outcomes = drift_matrix.run_matrix(
        host, TARGET, HERE, scenario_dir=SCENARIO, out=OUT, drift_playbook="converge.yml"
    )
    report = OUT / "clean-after.json"
    result = run_playbook(
        SCENARIO / "converge.yml", "--check", "--diff", env={"BULWARK_DRIFT_REPORT": str(report)}, timeout=900
    )
    (OUT / "clean-after.log").write_text(result.stdout + result.stderr)
    clean = drift_matrix.drifted(report, TARGET)[0]
    score = drift_matrix.write("ssh_hardening", outcomes, ITEMS, [0 if not clean else 10])
    return outcomes, clean, score


@pytest.mark.skipif(not HERE, reason="every ssh injection fits in the site scenario's batches")
def test_every_injected_drift_is_named_and_nothing_else(matrix):
    outcomes, clean, score = matrix
    assert (score["precision"], score["recall"]) == (1.0, 1.0), drift_matrix.describe(outcomes)
    assert all(outcome.repair_returncode == 0 for outcome in outcomes), drift_matrix.describe(outcomes)
    assert sum(len(outcome.injections) for outcome in outcomes) == len(HERE)
    assert clean == []

"""The drift matrix of the ssh_hardening scenario: the ssh injections that overflow site's batches.

drift_matrix.allocate runs the injections of extensions/molecule/injections/ssh_hardening.py in the
site scenario while its batches have room, the rest here; BULWARK_MATRIX_SITE_BATCHES=0 sends them all
here. With none to make, the tests skip (see drift_matrix.ScenarioMatrix). The matrix is written to
.tmp/drift-matrix/ssh_hardening.{json,md}.
"""

from __future__ import annotations

import pytest
from drift_matrix import ScenarioMatrix

MATRIX = ScenarioMatrix("ssh_hardening", "ssh_hardening-bookworm")
testinfra_hosts = MATRIX.testinfra_hosts


@pytest.fixture(scope="module")
def matrix(host):
    return MATRIX.run(host)


def test_clean_drift_runs_name_nothing(matrix):
    matrix.assert_clean_runs_name_nothing()


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    matrix.assert_every_drift_named_and_nothing_else()

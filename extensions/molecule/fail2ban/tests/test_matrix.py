"""The drift matrix in the fail2ban scenario: fail2ban's injections that site's batches leave over.

drift_matrix.allocate sends here the injections listing "fail2ban" as their second scenario when
site's batches are full (all of them with BULWARK_MATRIX_SITE_BATCHES=0). With none to make, the tests
skip (see drift_matrix.ScenarioMatrix). It runs after test_fail2ban.py (files run in alphabetical
order); its last repair leaves the hosts converged. The matrix is written to .tmp/drift-matrix/fail2ban.{json,md}.
"""

from __future__ import annotations

import pytest
from drift_matrix import ScenarioMatrix

MATRIX = ScenarioMatrix("fail2ban", "fail2ban-bookworm")
testinfra_hosts = MATRIX.testinfra_hosts


@pytest.fixture(scope="module")
def matrix(host):
    return MATRIX.run(host)


def test_clean_drift_runs_name_nothing(matrix):
    matrix.assert_clean_runs_name_nothing()


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    matrix.assert_every_drift_named_and_nothing_else()

"""The drift matrix of the os_baseline scenario: each container-side drift of the role's controls
(extensions/molecule/injections/os_baseline.py), named by the drift run and nothing else.
The matrix is written to .tmp/drift-matrix/os_baseline.{json,md}."""

from __future__ import annotations

import pytest
from drift_matrix import ScenarioMatrix

MATRIX = ScenarioMatrix("os_baseline", "os_baseline-bookworm")
testinfra_hosts = MATRIX.testinfra_hosts


@pytest.fixture(scope="module")
def matrix(host):
    return MATRIX.run(host)


def test_the_matrix_has_injections_here():
    MATRIX.assert_has_injections()


def test_clean_drift_runs_name_nothing(matrix):
    matrix.assert_clean_runs_name_nothing()


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    matrix.assert_every_drift_named_and_nothing_else()

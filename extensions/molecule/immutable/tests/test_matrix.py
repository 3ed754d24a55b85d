"""The drift matrix of the immutable scenario: writable directories and locked system paths.

The site scenario locks a web root only; here the tree has writable directories and system paths are
locked, so the injections of extensions/molecule/injections/immutable.py that need them run here (see
drift_matrix.ScenarioMatrix): each batch is injected on the Debian 12 host, the drift run (converge.yml
in check mode) must name exactly the expected controls, converge.yml repairs the host, and clean drift
runs before and after name nothing. The matrix is written to .tmp/drift-matrix/immutable.{json,md}.
"""

from __future__ import annotations

import pytest
from drift_matrix import ScenarioMatrix

MATRIX = ScenarioMatrix("immutable", "immutable-bookworm", min_injections=6)
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

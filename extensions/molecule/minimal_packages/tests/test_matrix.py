"""The drift matrix of the minimal_packages scenario: the injections that need a loaded unit to mask.

rsync is installed here (in the site scenario its masked unit does not exist, and systemd loads a
missing unit afresh at every question), so the injections of extensions/molecule/injections/
minimal_packages.py on a loaded or running masked unit run here (see drift_matrix.ScenarioMatrix).
The matrix is written to .tmp/drift-matrix/minimal_packages.{json,md}.
"""

from __future__ import annotations

import pytest
from drift_matrix import ScenarioMatrix

MATRIX = ScenarioMatrix("minimal_packages", "minimal_packages-bookworm")
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

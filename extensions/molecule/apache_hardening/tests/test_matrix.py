"""The drift matrix of the controls that need TLS, a package the role installs or a served directory.

The injections of extensions/molecule/injections/ with scenarios=("apache_hardening",) run on the
Debian 13 target hardened with the role's self-signed certificate (matrix.yml moves it there from
converge.yml's test CA): every injected drift must be named, and nothing else; the repair run
(matrix.yml) fixes it, or refuses naming the file the injection's undo then removes (see
drift_matrix.ScenarioMatrix). The matrix is written to .tmp/drift-matrix/apache_hardening.{json,md}.
"""

from __future__ import annotations

import pytest
from drift_matrix import ScenarioMatrix

MATRIX = ScenarioMatrix(
    "apache_hardening", "apache_hardening-trixie", playbook="matrix.yml", apply_first=True, min_injections=4
)
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

"""The drift matrix of the controls that need PHP-FPM or a module to disable.

The injections of extensions/molecule/injections/ with scenarios=("php_hardening",) run on the PHP-FPM
host (matrix.yml: converge.yml's variables, that host alone): every injected drift must be named, and
nothing else; the repair run (matrix.yml) fixes it, or refuses naming the file the injection's undo
then removes (see drift_matrix.ScenarioMatrix). The matrix is written to
.tmp/drift-matrix/php_hardening.{json,md}.
"""

from __future__ import annotations

import pytest
from drift_matrix import ScenarioMatrix
from playbook_run import run_playbook

MATRIX = ScenarioMatrix("php_hardening", "php_hardening-fpm", playbook="matrix.yml", apply_first=True, min_injections=4)
testinfra_hosts = MATRIX.testinfra_hosts


@pytest.fixture(scope="module")
def matrix(host):
    yield MATRIX.run(host)
    # The earlier pool file the repair set stays (it defines the pool first now): gone for the other tests.
    host.run("rm -f /etc/php/*/fpm/pool.d/00-local.conf")
    restored = run_playbook(MATRIX.scenario_dir / MATRIX.playbook, timeout=900)
    assert restored.returncode == 0, restored.stdout[-3000:]


def test_the_matrix_has_injections_here():
    MATRIX.assert_has_injections()


def test_clean_drift_runs_name_nothing(matrix):
    matrix.assert_clean_runs_name_nothing()


def test_every_injected_drift_is_named_and_nothing_else(matrix):
    matrix.assert_every_drift_named_and_nothing_else()

"""Fixtures of the minimal_packages scenario: the role run again with other variables."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playbook_run import run_playbook, scenario_file


@pytest.fixture(scope="session")
def play():
    """Run converge.yml with extra variables (JSON) against every target, once per set of arguments.

    Returns ``(returncode, output, drift_report_hosts)``; results are cached per arguments, so
    the tests for both hosts share one run.
    """
    cache = {}

    def run(extra_vars: dict, *options: str):
        key = json.dumps(extra_vars, sort_keys=True) + " ".join(options)
        if key not in cache:
            report = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / f"play-{len(cache)}.json"
            done = run_playbook(
                scenario_file(),
                "--extra-vars",
                json.dumps(extra_vars),
                *options,
                env={"BULWARK_DRIFT_REPORT": str(report)},
            )
            hosts = json.loads(report.read_text())["hosts"] if report.exists() else {}
            cache[key] = (done.returncode, done.stdout + done.stderr, hosts)
        return cache[key]

    return run


@pytest.fixture
def sockets(host):
    """The listening_sockets module's answer on this host, with converge.yml's declaration."""
    services = {
        "fixture-web": {"ports": [8080], "unit": "bulwark-web"},
        "fixture-stray": {"ports": [8081], "unit": "bulwark-stray.service"},
    }
    return host.ansible("bulwark.hardening.listening_sockets", json.dumps({"services": services}), check=False)

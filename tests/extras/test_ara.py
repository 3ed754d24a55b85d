# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARA's callback beside ours, for real: ARA's default offline client and embedded SQLite database,
a check run of the fixture playbook, then ARA's database read back with ARA's own API client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import FIXTURE

try:
    import ara.setup  # noqa: F401  # pylint: disable=unused-import
except ImportError:
    pytest.fail("ARA is missing: it is in requirements-dev.txt (make venv installs it)", pytrace=False)


@pytest.fixture
def ara_env(project, monkeypatch):
    """The environment of a run that ARA records into a database of the test's own."""
    base = project.root / "ara"
    callbacks = subprocess.run(
        [sys.executable, "-m", "ara.setup.callback_plugins"], capture_output=True, text=True, check=True
    ).stdout.strip()
    for name, value in {
        "ANSIBLE_CALLBACK_PLUGINS": callbacks,
        "ANSIBLE_CALLBACKS_ENABLED": "bulwark.hardening.drift_report",
        "ARA_API_CLIENT": "offline",
        "ARA_BASE_DIR": str(base),
        "BULWARK_DRIFT_REPORT": str(project.root / "drift.json"),
        "ANSIBLE_NOCOLOR": "1",
    }.items():
        monkeypatch.setenv(name, value)
    return base


def _check(project):
    return subprocess.run(
        [sys.executable, "-m", "ansible", "playbook", str(FIXTURE), "--check", "--diff"],
        cwd=project.dir,
        capture_output=True,
        text=True,
        check=False,
    )


# ARA's API client on the test's database (ARA_BASE_DIR), in a process of its own (Django's settings
# are per process): every playbook, with its hosts, tasks and the value of its record 'drift'.
READ = """
import json
from ara.clients.utils import get_client

client = get_client(client="offline", run_sql_migrations=False)
out = []
for item in client.get("/api/v1/playbooks", order="id")["results"]:
    ident = item["id"]
    playbook = client.get("/api/v1/playbooks/%d" % ident)
    playbook["hosts"] = sorted(host["name"] for host in client.get("/api/v1/hosts", playbook=ident)["results"])
    playbook["tasks"] = client.get("/api/v1/tasks", playbook=ident)["count"]
    records = client.get("/api/v1/records", playbook=ident, key="drift")["results"]
    playbook["drift"] = client.get("/api/v1/records/%d" % records[0]["id"])["value"] if records else None
    out.append(playbook)
print(json.dumps(out))
"""


def _ara_playbooks():
    out = subprocess.run([sys.executable, "-c", READ], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def _labels(playbook):
    return sorted(label["name"] for label in playbook["labels"])


def test_both_callbacks_record_and_the_verdict_is_on_aras_playbook(project, ara_env):
    compliant = _check(project)
    assert compliant.returncode == 0, compliant.stdout + compliant.stderr
    project.set("web2", "setting = weakened\n")
    drifted = _check(project)
    assert drifted.returncode != 0, drifted.stdout + drifted.stderr
    # Ours recorded too: the drift report of the second run.
    ours = json.loads((project.root / "drift.json").read_text())
    assert ours["summary"]["drifted"] == ["web2"]

    playbooks = _ara_playbooks()
    assert len(playbooks) == 2
    first, second = playbooks
    assert "ARA: playbook %d labelled drift:compliant" % first["id"] in compliant.stdout
    assert "ARA: playbook %d labelled drift:drifted" % second["id"] in drifted.stdout

    # Complete: closed with an end time, every host and task of the run recorded.
    assert first["status"] == "completed"
    assert first["ended"]
    assert first["hosts"] == ["web1", "web2"]
    assert first["tasks"] == 2
    # Our label beside ARA's own (check mode and tags, by default).
    assert [label for label in _labels(first) if label.startswith("drift:")] == ["drift:compliant"]
    assert "check:True" in _labels(first)
    assert first["drift"] == {
        "verdict": "compliant",
        "hosts": 2,
        "compliant": ["web1", "web2"],
        "drifted": {},
        "failed": {},
    }

    # ARA marks a playbook failed when a task failed: the gate of the drifted host.
    assert second["status"] == "failed"
    assert second["ended"]
    assert second["hosts"] == ["web1", "web2"]
    assert [label for label in _labels(second) if label.startswith("drift:")] == ["drift:drifted"]
    assert "check:True" in _labels(second)
    assert second["drift"] == {
        "verdict": "drifted",
        "hosts": 2,
        "compliant": ["web1"],
        "drifted": {"web2": ["FIXTURE-FILE"]},
        "failed": {},
    }

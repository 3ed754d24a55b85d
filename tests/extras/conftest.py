# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throw-away Ansible project for the tests of extras/: two hosts on the controller through the
local connection, each with one file under the test's own directory that the fixture playbook
checks (in check mode), and an ansible.cfg that finds the collection as a user's project does."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FIXTURE = HERE / "drift_fixture.yml"
DECLARED = "setting = hardened\n"


class Project:
    def __init__(self, root: Path, python: str):
        self.root = root
        self.dir = root / "project"
        self.hosts = root / "hosts"
        self.dir.mkdir()
        self.hosts.mkdir()
        collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
        if not collections:
            pytest.fail("ANSIBLE_COLLECTIONS_PATH must name the collection tree (scripts/collection-tree.sh)")
        (self.dir / "ansible.cfg").write_text(
            "[defaults]\ncollections_path = %s\ninventory = inventory.yml\nretry_files_enabled = false\n" % collections
        )
        (self.dir / "inventory.yml").write_text(
            "all:\n  hosts:\n    web1: {}\n    web2: {}\n  vars:\n"
            "    ansible_connection: local\n    ansible_python_interpreter: %s\n    fixture_dir: %s\n"
            % (python, self.hosts)
        )
        for host in ("web1", "web2"):
            self.set(host, DECLARED)

    def set(self, host: str, content: str) -> None:
        path = self.hosts / ("%s.conf" % host)
        path.write_text(content)
        path.chmod(0o644)


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path, sys.executable)

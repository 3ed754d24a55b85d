# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.modules import purge_plan as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

STATUS = """\
Package: telnet
Status: install ok installed

Package: rsync
Status: install ok installed

Package: libpopt0
Status: install ok installed

Package: logrotate
Status: deinstall ok config-files

Package: cups-bsd
Status: install ok installed
"""


@pytest.fixture
def env(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    status = tmp_path / "status"
    status.write_text(STATUS)
    calls = []
    answers = {"rc": 0, "out": ""}

    def run_command(module, args, **kwargs):
        assert isinstance(args, list), "run_command must get a list, never a shell string"
        assert kwargs.get("environ_update") == {"LC_ALL": "C"}
        calls.append(args)
        return answers["rc"], answers["out"], "E: Unable to locate package nosuch\n" if answers["rc"] else ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    return {"status": str(status), "calls": calls, "answers": answers}


def run(args, expect=ExitJson):
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def test_plan_simulates_the_purge_of_installed_and_residual(env):
    env["answers"]["out"] = "Purg cups-bsd [1]\nPurg logrotate [1]\nPurg telnet [1]\nPurg inetutils-telnet [1]\n"
    result = run({"status_file": env["status"], "patterns": ["telnet", "cups*"], "residual": True})
    assert env["calls"] == [
        ["/usr/bin/apt-get", "--simulate", "-q", "--autoremove", "purge", "cups-bsd", "logrotate", "telnet"]
    ]
    assert result["installed"] == ["cups-bsd", "telnet"]
    assert result["residual"] == ["logrotate"]
    assert result["purge"] == ["cups-bsd", "logrotate", "telnet"]
    assert result["removals"] == ["cups-bsd", "inetutils-telnet", "logrotate", "telnet"]
    assert result["refused"] == []
    assert result["changed"] is False


def test_nothing_to_purge_still_simulates_autoremove(env):
    result = run({"status_file": env["status"], "patterns": ["nosuch"]})
    assert env["calls"] == [["/usr/bin/apt-get", "--simulate", "-q", "--purge", "autoremove"]]
    assert result["purge"] == []
    assert result["removals"] == []


def test_nothing_to_purge_without_autoremove_runs_nothing(env):
    result = run({"status_file": env["status"], "patterns": ["nosuch"], "autoremove": False})
    assert env["calls"] == []
    assert result["removals"] == []


def test_a_dependency_removal_of_a_protected_package_is_refused(env):
    # Purging libpopt0 takes rsync along: the wiped-server case.
    env["answers"]["out"] = "Purg rsync [3.2.7]\nPurg libpopt0 [1.19]\n"
    result = run({"status_file": env["status"], "patterns": ["libpopt0"], "protected": ["rsync", "php*"]})
    assert result["refused"] == [{"package": "rsync", "pattern": "rsync", "why": "protected"}]


def test_a_blocklisted_protected_package_is_refused_even_when_absent(env):
    result = run({"status_file": env["status"], "patterns": ["php8.2-fpm"], "protected": ["php*"]})
    assert result["refused"] == [{"package": "php8.2-fpm", "pattern": "php*", "why": "protected"}]


def test_keep_leaves_a_match_alone(env):
    result = run({"status_file": env["status"], "patterns": ["cups*", "telnet"], "keep": ["cups-*"]})
    assert result["installed"] == ["telnet"]


def test_failed_simulation_fails(env):
    env["answers"]["rc"] = 100
    result = run({"status_file": env["status"], "patterns": ["telnet"]}, expect=FailJson)
    assert result["msg"] == "apt-get --simulate failed (rc 100): E: Unable to locate package nosuch"


def test_unreadable_status_file_fails(env, tmp_path):
    result = run({"status_file": str(tmp_path / "missing")}, expect=FailJson)
    assert result["msg"].startswith(f"cannot read dpkg status {tmp_path / 'missing'}")

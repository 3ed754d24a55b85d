# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""package_purge: the plan from the user's lists, the apt simulation, the refusal, then one purge."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common import warnings

from ansible_collections.bulwark.hardening.plugins.modules import package_purge as mod
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

Package: rpcbind
Status: install ok installed
"""

SIMULATE = ["/usr/bin/apt-get", "--simulate", "-q"]
PURGE = ["/usr/bin/apt-get", "--yes", "-q", "-o", "DPkg::Lock::Timeout=300"]
LOCKED = "E: Could not get lock /var/cache/apt/archives/lock. It is held by process 4242 (apt-get)\n"


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A dpkg status file, and apt-get's answers: ``answers[verb]`` is a list of (rc, out, err) per call."""
    patch_exits(monkeypatch)
    status = tmp_path / "status"
    status.write_text(STATUS)
    calls = []
    answers = {"simulate": [], "purge": []}

    def run_command(module, args, **kwargs):
        assert isinstance(args, list), "run_command must get a list, never a shell string"
        assert kwargs.get("environ_update", {}).get("LC_ALL") == "C"
        calls.append(args)
        queue = answers["simulate" if "--simulate" in args else "purge"]
        return queue.pop(0) if queue else (0, "", "")

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    monkeypatch.setattr(mod.time, "sleep", lambda seconds: None)
    return {"status": str(status), "calls": calls, "answers": answers}


def run(args, expect=ExitJson, check=False, diff=False):
    args = {"status_file": "", **args, "_ansible_check_mode": check, "_ansible_diff": diff}
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


# ----------------------------------------------------------------------------- the plan


def test_plan_simulates_the_purge_of_installed_and_residual_and_changes_nothing(env):
    env["answers"]["simulate"] = [
        (0, "Purg cups-bsd [1]\nPurg logrotate [1]\nPurg telnet [1]\nPurg inetutils-telnet [1]\n", "")
    ]
    result = run(
        {
            "status_file": env["status"],
            "blocklist": ["telnet"],
            "blocklist_extra": ["cups*"],
            "residual": True,
            "plan": True,
        }
    )
    assert env["calls"] == [[*SIMULATE, "--autoremove", "purge", "cups-bsd", "logrotate", "telnet"]]
    assert result["patterns"] == ["telnet", "cups*"]
    assert result["installed"] == ["cups-bsd", "telnet"]
    assert result["residual"] == ["logrotate"]
    assert result["purge"] == ["cups-bsd", "logrotate", "telnet"]
    assert result["removals"] == ["cups-bsd", "inetutils-telnet", "logrotate", "telnet"]
    assert result["refused"] == []
    assert result["changed"] is False


@pytest.mark.parametrize(
    ("services", "purged"),
    [
        ({}, ["rpcbind", "telnet"]),
        ({"nfs": {"ports": [2049]}}, ["telnet"]),
        ({"files": {"ports": ["2049"]}}, ["telnet"]),
    ],
)
def test_nfs_packages_stay_when_the_services_declare_nfs(env, services, purged):
    result = run({"status_file": env["status"], "blocklist": ["telnet", "rpcbind"], "services": services, "plan": True})
    assert result["purge"] == purged


def test_nothing_to_purge_still_simulates_autoremove(env):
    result = run({"status_file": env["status"], "blocklist": ["nosuch"]})
    assert env["calls"] == [[*SIMULATE, "--purge", "autoremove"]]
    assert result["purge"] == []
    assert result["removals"] == []
    assert result["changed"] is False


def test_nothing_to_purge_without_autoremove_runs_nothing(env):
    result = run({"status_file": env["status"], "blocklist": ["nosuch"], "autoremove": False})
    assert env["calls"] == []
    assert result["removals"] == []


def test_keep_leaves_a_match_alone(env):
    result = run({"status_file": env["status"], "blocklist": ["cups*", "telnet"], "keep": ["cups-*"], "plan": True})
    assert result["installed"] == ["telnet"]


# ----------------------------------------------------------------------------- the refusal


def test_a_dependency_removal_of_a_protected_package_is_refused_even_in_plan_mode(env):
    # Purging libpopt0 takes rsync along: the wiped-server case. rsync is on the built-in list.
    env["answers"]["simulate"] = [(0, "Purg rsync [3.2.7]\nPurg libpopt0 [1.19]\nPurg telnet [1]\n", "")] * 2
    result = run(
        {"status_file": env["status"], "blocklist": ["telnet"], "blocklist_extra": ["libpopt0"], "plan": True},
        expect=FailJson,
    )
    assert result["msg"] == (
        "minimal_packages refuses to purge, nothing was changed: rsync matches the protected pattern 'rsync' "
        "(apt would remove it along with libpopt0, telnet); take it out of minimal_packages_blocklist(_extra), "
        "add what apt would take along to minimal_packages_keep, or mark it manually installed (apt-mark manual)."
    )
    assert result["refused"] == [{"package": "rsync", "pattern": "rsync", "why": "protected"}]
    # Asked again without the autoremove, apt still takes rsync along: the refusal stands.
    assert env["calls"] == [
        [*SIMULATE, "--autoremove", "purge", "libpopt0", "telnet"],
        [*SIMULATE, "purge", "libpopt0", "telnet"],
    ]


def test_a_protected_package_only_the_autoremove_would_take_skips_the_autoremove(env, monkeypatch):
    monkeypatch.setattr(warnings, "_global_warnings", type(warnings._global_warnings)())
    # openssh-server removed by hand: openssh-sftp-server (protected) is orphaned. The purge of
    # telnet goes ahead without the autoremove, which waits (a role installs openssh-server again).
    env["answers"]["simulate"] = [
        (0, "Purg telnet [1]\nPurg openssh-sftp-server [1]\nPurg libfoo [1]\n", ""),
        (0, "Purg telnet [1]\nPurg libfoo [1]\n", ""),
    ]
    result = run({"status_file": env["status"], "blocklist": ["telnet"]}, check=True)
    # The other orphan (libfoo) is purged by name; the protected one stays.
    assert env["calls"] == [[*SIMULATE, "--autoremove", "purge", "telnet"], [*SIMULATE, "purge", "libfoo", "telnet"]]
    assert (result["changed"], result["removals"], result["refused"]) == (True, ["libfoo", "telnet"], [])
    assert (result["purge"], result["autoremove_spared"]) == (["libfoo", "telnet"], ["openssh-sftp-server"])
    assert any("leaves openssh-sftp-server (protected or kept)" in line for line in warnings.get_warning_messages())


def test_a_refused_purge_runs_no_apt_transaction(env):
    env["answers"]["simulate"] = [(0, "Purg rsync [3.2.7]\nPurg libpopt0 [1.19]\n", "")] * 2
    run({"status_file": env["status"], "blocklist": ["libpopt0"]}, expect=FailJson)
    assert all("--simulate" in call for call in env["calls"])


def test_a_blocklisted_protected_package_is_refused_even_when_absent(env):
    result = run(
        {"status_file": env["status"], "blocklist": ["php8.2-fpm", "my-agent"], "protected": ["my-*"]}, expect=FailJson
    )
    assert result["refused"] == [
        {"package": "php8.2-fpm", "pattern": "php*", "why": "protected"},
        {"package": "my-agent", "pattern": "my-*", "why": "protected"},
    ]
    assert (
        "php8.2-fpm matches the protected pattern 'php*' (named by minimal_packages_blocklist(_extra)); "
        in result["msg"]
    )
    assert (
        "my-agent matches the protected pattern 'my-*' (named by minimal_packages_blocklist(_extra)); " in result["msg"]
    )


def test_a_kept_package_apt_would_take_along_is_refused(env):
    env["answers"]["simulate"] = [(0, "Purg telnet [1]\nRemv libpopt0 [1.19]\n", "")] * 2
    result = run({"status_file": env["status"], "blocklist": ["telnet"], "keep": ["libpopt*"]}, expect=FailJson)
    assert (
        "libpopt0 matches the minimal_packages_keep entry 'libpopt*' (apt would remove it along with telnet); "
        in result["msg"]
    )


# ----------------------------------------------------------------------------- the purge


def test_the_purge_runs_the_simulated_command_for_real(env):
    env["answers"]["simulate"] = [(0, "Purg telnet [1]\nPurg inetutils-telnet [1]\n", "")]
    result = run({"status_file": env["status"], "blocklist": ["telnet"]}, diff=True)
    assert env["calls"] == [[*SIMULATE, "--autoremove", "purge", "telnet"], [*PURGE, "--autoremove", "purge", "telnet"]]
    assert result["changed"] is True
    assert result["removals"] == ["inetutils-telnet", "telnet"]
    assert result["diff"] == {"before": "inetutils-telnet\ntelnet\n", "after": ""}


def test_only_autoremovals_purge_with_autoremove(env):
    env["answers"]["simulate"] = [(0, "Purg libfoo [1]\n", "")]
    result = run({"status_file": env["status"], "blocklist": ["nosuch"], "lock_timeout": 30})
    assert env["calls"][1] == [
        "/usr/bin/apt-get",
        "--yes",
        "-q",
        "-o",
        "DPkg::Lock::Timeout=30",
        "--purge",
        "autoremove",
    ]
    assert result["changed"] is True


def test_check_mode_reports_the_purge_and_runs_none(env):
    env["answers"]["simulate"] = [(0, "Purg telnet [1]\n", "")]
    result = run({"status_file": env["status"], "blocklist": ["telnet"]}, check=True)
    assert result["changed"] is True
    assert result["removals"] == ["telnet"]
    assert all("--simulate" in call for call in env["calls"])


def test_plan_mode_never_purges_nor_reports_changed(env):
    env["answers"]["simulate"] = [(0, "Purg telnet [1]\n", "")]
    result = run({"status_file": env["status"], "blocklist": ["telnet"], "plan": True})
    assert result["changed"] is False
    assert len(env["calls"]) == 1


def test_a_held_lock_is_waited_for(env):
    env["answers"]["simulate"] = [(0, "Purg telnet [1]\n", "")]
    env["answers"]["purge"] = [(100, "", LOCKED), (0, "", "")]
    result = run({"status_file": env["status"], "blocklist": ["telnet"]})
    assert len(env["calls"]) == 3
    assert result["changed"] is True


def test_a_lock_held_past_the_timeout_fails(env):
    env["answers"]["simulate"] = [(0, "Purg telnet [1]\n", "")]
    env["answers"]["purge"] = [(100, "", LOCKED)] * 3
    result = run({"status_file": env["status"], "blocklist": ["telnet"], "lock_timeout": 0}, expect=FailJson)
    assert result["msg"].startswith("apt-get purge failed (rc 100): E: Could not get lock")
    assert len(env["calls"]) == 2


def test_a_failed_purge_fails_with_apts_message(env):
    env["answers"]["simulate"] = [(0, "Purg telnet [1]\n", "")]
    env["answers"]["purge"] = [(100, "", "E: Sub-process /usr/bin/dpkg returned an error code (1)\n")]
    result = run({"status_file": env["status"], "blocklist": ["telnet"]}, expect=FailJson)
    assert result["msg"] == "apt-get purge failed (rc 100): E: Sub-process /usr/bin/dpkg returned an error code (1)"
    assert len(env["calls"]) == 2


# ----------------------------------------------------------------------------- failures


def test_failed_simulation_fails(env):
    env["answers"]["simulate"] = [(100, "", "E: Unable to locate package nosuch\n")]
    result = run({"status_file": env["status"], "blocklist": ["telnet"]}, expect=FailJson)
    assert result["msg"] == "apt-get --simulate failed (rc 100): E: Unable to locate package nosuch"


def test_unreadable_status_file_fails(env, tmp_path):
    result = run({"status_file": str(tmp_path / "missing"), "blocklist": []}, expect=FailJson)
    assert result["msg"].startswith(f"cannot read dpkg status {tmp_path / 'missing'}")

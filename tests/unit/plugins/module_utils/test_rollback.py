# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _rollback as rb


class Failed(Exception):
    """Raised by FakeModule.fail_json; args[0] is the result, msg included."""


class FakeModule:
    """The three things the rollback helpers use of AnsibleModule. ``answers`` maps the argv's
    second word (``is-active``, ``stop``) or the command's name to (rc, out, err)."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def get_bin_path(self, name, *args, **kwargs):
        return "/usr/bin/" + name

    def run_command(self, argv, **kwargs):
        assert isinstance(argv, list)
        self.calls.append(argv)
        name = os.path.basename(argv[0])
        key = argv[1] if name == "systemctl" else name
        return self.answers.get(key, (0, "", ""))

    def fail_json(self, msg, **kwargs):
        raise Failed({"msg": msg, **kwargs})


def empty_manifest():
    return {"armed_at": 1, "files": [], "actions": [], "what": ["test"], "unit": "bulwark-rollback-1"}


# snapshot()


def test_snapshot_saves_bytes_mode_and_owner(tmp_path):
    path = tmp_path / "sshd_config"
    path.write_bytes(b"Port 22\n\xff raw bytes\n")
    path.chmod(0o640)
    manifest = empty_manifest()
    armed = tmp_path / "armed"
    assert rb.snapshot(manifest, [str(path)], str(armed)) == [str(path)]
    assert manifest["files"] == [{"path": str(path), "saved": "files/0", "real": str(path)}]
    copy = armed / "files" / "0"
    assert copy.read_bytes() == b"Port 22\n\xff raw bytes\n"
    info = copy.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert (info.st_uid, info.st_gid) == (path.stat().st_uid, path.stat().st_gid)


def test_snapshot_records_an_absent_file(tmp_path):
    manifest = empty_manifest()
    missing = str(tmp_path / "not-there")
    assert rb.snapshot(manifest, [missing], str(tmp_path / "armed")) == [missing]
    assert manifest["files"] == [{"path": missing, "saved": None}]
    assert os.listdir(tmp_path / "armed" / "files") == []


def test_snapshot_keeps_the_first_copy(tmp_path):
    path = tmp_path / "rules"
    path.write_text("good\n")
    manifest = empty_manifest()
    armed = str(tmp_path / "armed")
    rb.snapshot(manifest, [str(path)], armed)
    path.write_text("changed by the first task\n")
    assert rb.snapshot(manifest, [str(path), str(path)], armed) == []
    assert len(manifest["files"]) == 1
    assert (tmp_path / "armed" / "files" / "0").read_text() == "good\n"


def test_snapshot_of_a_symlink_saves_its_target(tmp_path):
    target = tmp_path / "real.conf"
    target.write_text("target\n")
    link = tmp_path / "link.conf"
    link.symlink_to(target)
    manifest = empty_manifest()
    rb.snapshot(manifest, [str(link)], str(tmp_path / "armed"))
    assert manifest["files"] == [{"path": str(link), "saved": "files/0", "real": str(target)}]
    assert (tmp_path / "armed" / "files" / "0").read_text() == "target\n"


# restore_script(), run for real with /bin/sh and stubs for logger and systemctl


@pytest.fixture
def host(tmp_path):
    """A state dir and an etc dir under tmp_path; logger and systemctl stubs that log their argv."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    for name in ("logger", "systemctl"):
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
        stub.chmod(0o755)
    etc = tmp_path / "etc with 'quotes' and \"double\" $HOME `x`"
    etc.mkdir()
    state = tmp_path / "state"
    (state / "armed").mkdir(parents=True)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "LC_ALL": "C"}

    def run():
        # A tight umask, as a unit's UMask= may be: the modes must come from the snapshot.
        argv = ["/bin/sh", "-c", 'umask 077 && exec /bin/sh "$1"', "sh", str(state / "armed" / "restore.sh")]
        return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)

    def calls():
        return log.read_text().splitlines() if log.exists() else []

    return type("Host", (), {"etc": etc, "state": state, "run": staticmethod(run), "calls": staticmethod(calls)})()


def arm_by_hand(host, paths, actions, what="sshd configuration"):
    """What arm() leaves in the state dir, without the timer."""
    manifest = empty_manifest()
    manifest.update(actions=actions, what=[what])
    rb.snapshot(manifest, [str(path) for path in paths], str(host.state / "armed"))
    script = rb.restore_script(manifest, str(host.state))
    (host.state / "armed" / "restore.sh").write_text(script)
    (host.state / "armed" / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_restore_script_puts_everything_back_in_order(host):
    config = host.etc / "sshd config"
    config.write_bytes(b"PasswordAuthentication no\n\x00\xfe\n")
    config.chmod(0o600)
    rules = host.etc / 'it\'s "user".rules'
    rules.write_text("old rules\n")
    rules.chmod(0o640)
    dropin = host.etc / "new drop-in.conf"
    arm_by_hand(host, [config, rules, dropin], ["systemctl reload ssh.service", "systemctl restart 'ufw x'"])
    # The run's changes: content and mode of both files, a file that did not exist.
    config.write_text("PasswordAuthentication yes\n")
    config.chmod(0o644)
    rules.write_text("new rules\n")
    dropin.write_text("PermitRootLogin yes\n")

    done = host.run()

    assert done.returncode == 0, done.stderr
    assert config.read_bytes() == b"PasswordAuthentication no\n\x00\xfe\n"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert rules.read_text() == "old rules\n"
    assert stat.S_IMODE(rules.stat().st_mode) == 0o640
    assert not dropin.exists()
    assert sorted(os.listdir(host.etc)) == sorted([config.name, rules.name])  # no temporary left
    calls = host.calls()
    assert calls[0].startswith("logger -t bulwark-rollback -p auth.warning restoring the configuration")
    assert calls[1:3] == ["systemctl reload ssh.service", "systemctl restart ufw x"]
    assert calls[3] == "logger -t bulwark-rollback -p auth.warning restored (status 0)"
    assert not (host.state / "armed").exists()
    assert not (host.state / "restoring").exists()
    restored = host.state / "last-restored"
    assert json.loads((restored / "manifest.json").read_text())["armed_at"] == 1
    assert int((restored / "restored_at").read_text()) > 0


def test_restore_script_restores_through_a_symlink(host):
    target = host.etc / "real.conf"
    target.write_text("good\n")
    link = host.etc / "link.conf"
    link.symlink_to(target)
    arm_by_hand(host, [link], [])
    target.write_text("bad\n")

    assert host.run().returncode == 0
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text() == "good\n"


def test_snapshot_of_a_dangling_symlink_records_its_target_absent(host):
    target = host.etc / "not yet.conf"
    link = host.etc / "link.conf"
    link.symlink_to(target)
    manifest = arm_by_hand(host, [link], [])
    assert manifest["files"] == [{"path": str(link), "saved": None, "real": str(target)}]
    target.write_text("written through the link\n")

    assert host.run().returncode == 0
    assert not target.exists()
    assert link.is_symlink()  # the link is put back as it was: dangling


def test_restore_script_replaces_a_previous_last_restored(host):
    old = host.state / "last-restored"
    old.mkdir()
    (old / "stale").write_text("x")
    config = host.etc / "a.conf"
    config.write_text("good\n")
    arm_by_hand(host, [config], [])

    assert host.run().returncode == 0
    assert not (old / "stale").exists()
    assert (old / "restored_at").exists()


def test_restore_script_reports_a_failed_action(host):
    config = host.etc / "a.conf"
    config.write_text("good\n")
    arm_by_hand(host, [config], ["false", "systemctl reload ssh.service"])
    config.write_text("bad\n")

    done = host.run()
    assert done.returncode == 1
    assert config.read_text() == "good\n"
    assert host.calls()[1:] == [
        "systemctl reload ssh.service",
        "logger -t bulwark-rollback -p auth.warning restored (status 1)",
    ]


def test_restore_script_does_nothing_once_confirmed(host, tmp_path):
    config = host.etc / "a.conf"
    config.write_text("good\n")
    arm_by_hand(host, [config], ["systemctl reload ssh.service"])
    config.write_text("confirmed change\n")
    # The timer's shell holds the script open; the confirmation renames armed first.
    script = tmp_path / "restore.sh"
    (host.state / "armed" / "restore.sh").rename(script)
    (host.state / "armed").rename(host.state / "confirming")

    done = subprocess.run(["/bin/sh", str(script)], capture_output=True, check=False)

    assert done.returncode == 0
    assert config.read_text() == "confirmed change\n"
    assert host.calls() == []
    assert (host.state / "confirming" / "manifest.json").exists()
    assert not (host.state / "last-restored").exists()


@pytest.mark.parametrize(
    "what",
    [
        "files /etc/ssh/sshd_config",
        "sshd\ntouch INJECTED",  # a multi-line what (a YAML block) or a path with a newline
        "it's $(touch INJECTED) `touch INJECTED`",
    ],
)
def test_restore_script_what_is_never_run(host, what, tmp_path):
    config = host.etc / "a.conf"
    config.write_text("good\n")
    arm_by_hand(host, [config], [], what=what)
    config.write_text("bad\n")

    done = subprocess.run(
        ["/bin/sh", str(host.state / "armed" / "restore.sh")],
        cwd=tmp_path,
        env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "INJECTED").exists()
    assert config.read_text() == "good\n"


# arm()


def armed_manifest(state):
    return json.loads((state / "armed" / "manifest.json").read_text())


def test_first_arm_saves_and_starts_the_timer(tmp_path):
    config = tmp_path / "sshd_config"
    config.write_text("good\n")
    state = tmp_path / "state"
    module = FakeModule()

    found = rb.arm(module, [str(config)], ["systemctl reload ssh"], "sshd", 90, state_dir=str(state), now=1000.5)

    unit = "bulwark-rollback-1000500"
    assert found == {
        "armed": True,
        "armed_at": 1000,
        "deadline": 1090,
        "window": 90,
        "unit": unit,
        "what": ["sshd"],
        "files": [str(config)],
    }
    manifest = armed_manifest(state)
    assert manifest["unit"] == unit
    assert manifest["actions"] == ["systemctl reload ssh"]
    assert (state / "armed" / "files" / "0").read_text() == "good\n"
    assert stat.S_IMODE((state / "armed" / "manifest.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "armed" / "restore.sh").stat().st_mode) == 0o700
    assert module.calls == [
        [
            "/usr/bin/systemd-run", "--unit", unit, "--description", "bulwark.hardening rollback: sshd",
            "--on-active=90s", "--timer-property=AccuracySec=1s", "/bin/sh", str(state / "armed" / "restore.sh"),
        ]
    ]  # fmt: skip


def test_second_arm_merges_and_restarts_the_window(tmp_path):
    config = tmp_path / "sshd_config"
    config.write_text("good sshd\n")
    rules = tmp_path / "user.rules"
    rules.write_text("good rules\n")
    state = tmp_path / "state"
    module = FakeModule({"is-active": (0, "active\n", "")})
    rb.arm(module, [str(config)], ["systemctl reload ssh"], "sshd", 90, state_dir=str(state), now=1000)
    config.write_text("changed by the first arm's module\n")
    module.calls.clear()

    found = rb.arm(
        module, [str(rules), str(config)], ["ufw reload", "systemctl reload ssh"], "ufw", 120,
        state_dir=str(state), now=1050,
    )  # fmt: skip

    assert found["armed_at"] == 1000
    assert found["deadline"] == 1170
    assert found["unit"] == "bulwark-rollback-1050000"
    assert found["what"] == ["sshd", "ufw"]
    assert found["files"] == [str(config), str(rules)]
    assert (state / "armed" / "files" / "0").read_text() == "good sshd\n"
    assert (state / "armed" / "files" / "1").read_text() == "good rules\n"
    assert armed_manifest(state)["actions"] == ["systemctl reload ssh", "ufw reload"]
    # The new timer runs before the old one stops: never a moment without a rollback armed.
    assert [argv[:3] for argv in module.calls] == [
        ["/usr/bin/systemctl", "is-active", "bulwark-rollback-1000000.timer"],
        ["/usr/bin/systemd-run", "--unit", "bulwark-rollback-1050000"],
        ["/usr/bin/systemctl", "stop", "bulwark-rollback-1000000.timer"],
    ]


def test_stale_manifest_is_discarded(tmp_path):
    config = tmp_path / "sshd_config"
    config.write_text("from a run the host rebooted out of\n")
    state = tmp_path / "state"
    rb.arm(FakeModule(), [str(config)], ["old action"], "old", 90, state_dir=str(state), now=1000)
    config.write_text("what this session logged in to\n")
    module = FakeModule({"is-active": (3, "inactive\n", "")})

    found = rb.arm(module, [str(config)], [], "new", 90, state_dir=str(state), now=5000)

    assert found["armed_at"] == 5000
    assert found["what"] == ["new"]
    assert armed_manifest(state)["actions"] == []
    assert (state / "armed" / "files" / "0").read_text() == "what this session logged in to\n"


@pytest.mark.parametrize("window", [0, 29, -90])
def test_arm_refuses_a_short_window(tmp_path, window):
    module = FakeModule()
    with pytest.raises(Failed, match=f"at least 30 seconds, got {window}"):
        rb.arm(module, [], [], "x", window, state_dir=str(tmp_path / "state"))
    assert module.calls == []
    assert not (tmp_path / "state").exists()


def test_arm_accepts_the_shortest_window(tmp_path):
    found = rb.arm(FakeModule(), [], [], "x", 30, state_dir=str(tmp_path / "state"), now=0)
    assert found["deadline"] == 30


def test_arm_fails_when_systemd_run_fails(tmp_path):
    config = tmp_path / "sshd_config"
    config.write_text("good\n")
    module = FakeModule({"systemd-run": (1, "", "Failed to connect to bus\n")})
    with pytest.raises(Failed) as caught:
        rb.arm(module, [str(config)], [], "sshd", 90, state_dir=str(tmp_path / "state"), now=1000)
    assert caught.value.args[0]["msg"] == "cannot arm the rollback timer: Failed to connect to bus; nothing was changed"
    assert caught.value.args[0]["cmd"][0] == "/usr/bin/systemd-run"


def test_failed_rearm_leaves_the_running_arm_as_it_was(tmp_path):
    config = tmp_path / "sshd_config"
    config.write_text("good\n")
    state = tmp_path / "state"
    rb.arm(FakeModule(), [str(config)], [], "sshd", 90, state_dir=str(state), now=1000)
    before = armed_manifest(state)
    module = FakeModule({"is-active": (0, "active\n", ""), "systemd-run": (1, "", "no bus\n")})

    with pytest.raises(Failed, match="nothing was changed"):
        rb.arm(module, [str(tmp_path / "rules")], [], "ufw", 90, state_dir=str(state), now=1050)

    # The old timer still runs and is the one a confirmation must stop.
    assert armed_manifest(state) == before
    assert not any(argv[1:2] == ["stop"] for argv in module.calls)


def test_arm_needs_systemd(tmp_path):
    module = FakeModule()
    module.get_bin_path = lambda name, *a, **k: None
    with pytest.raises(Failed, match="systemd-run or systemctl not found"):
        rb.arm(module, [], [], "x", 90, state_dir=str(tmp_path))


# arm_option()


def test_arm_option_without_the_option():
    module = FakeModule()
    assert rb.arm_option(module, None, ["/etc/x"], "x") is None
    assert module.calls == []


@pytest.mark.parametrize(
    "option, unconfirmed",
    [
        ({"arm": False, "window": 90, "actions": [], "what": None}, ["/etc/x"]),
        ({"arm": False, "window": 90, "actions": [], "what": "sshd"}, ["sshd"]),
    ],
)
def test_arm_option_arm_false_only_reports(option, unconfirmed):
    module = FakeModule()
    assert rb.arm_option(module, option, ["/etc/x"], "/etc/x") == {"armed": False, "unconfirmed": unconfirmed}
    assert module.calls == []


def test_arm_option_arms(monkeypatch):
    seen = []
    monkeypatch.setattr(rb, "arm", lambda module, *args: seen.append(args) or {"armed": True})
    option = {"arm": True, "window": 120, "actions": ["ufw reload"], "what": None}
    assert rb.arm_option(FakeModule(), option, ["/etc/x"], "ufw rules") == {"armed": True}
    assert seen == [(["/etc/x"], ["ufw reload"], "ufw rules", 120)]


# confirm()


def test_confirm_disarms(tmp_path):
    state = tmp_path / "state"
    config = tmp_path / "sshd_config"
    config.write_text("good\n")
    rb.arm(FakeModule(), [str(config)], [], "sshd", 90, state_dir=str(state), now=1000)
    module = FakeModule()

    found, error = rb.confirm(module, 1000, str(state))

    assert error is None
    assert found["confirmed"] is True
    assert found["armed"] is False
    assert found["armed_at"] == 1000
    assert module.calls == [["/usr/bin/systemctl", "stop", "bulwark-rollback-1000000.timer"]]
    assert sorted(os.listdir(state)) == []


def test_confirm_after_the_host_rolled_back(tmp_path):
    state = tmp_path / "state"
    (state / "last-restored").mkdir(parents=True)
    manifest = {**empty_manifest(), "armed_at": 1000, "window": 90, "deadline": 1090}
    (state / "last-restored" / "manifest.json").write_text(json.dumps(manifest))
    (state / "last-restored" / "restored_at").write_text("1090\n")
    module = FakeModule()

    found, error = rb.confirm(module, 1000, str(state))

    assert error == "the host rolled back before the confirmation arrived (the run took longer than the window)"
    assert found["restored_at"] == 1090
    assert found["armed"] is False
    assert module.calls == []


def test_confirm_an_older_rollback_is_not_this_one(tmp_path):
    state = tmp_path / "state"
    (state / "last-restored").mkdir(parents=True)
    (state / "last-restored" / "manifest.json").write_text(json.dumps({**empty_manifest(), "armed_at": 500}))
    assert rb.confirm(FakeModule(), 1000, str(state)) == ({"armed": False, "confirmed": False}, None)


@pytest.mark.parametrize("armed_at", [None, 1000])
def test_confirm_with_nothing_at_all(tmp_path, armed_at):
    module = FakeModule()
    assert rb.confirm(module, armed_at, str(tmp_path / "state")) == ({"armed": False, "confirmed": False}, None)
    assert module.calls == []


def test_summary_of_nothing():
    assert rb.summary(None) == {"armed": False}


@pytest.mark.parametrize(
    "answer, active",
    [((0, "active\n", ""), True), ((3, "inactive\n", ""), False), ((0, "activating\n", ""), False)],
)
def test_timer_active(answer, active):
    module = FakeModule({"is-active": answer})
    assert rb.timer_active(module, "bulwark-rollback-1") is active
    assert module.calls == [["/usr/bin/systemctl", "is-active", "bulwark-rollback-1.timer"]]


# sshd: a login accepted before sshd re-read its files proves nothing


def journal_lines(*records):
    return "\n".join(
        json.dumps({"__REALTIME_TIMESTAMP": str(int(when * 1e6)), "MESSAGE": message}) for when, message in records
    )


@pytest.fixture
def sshd(monkeypatch):
    """A listener (PID 100) and this login's own sshd process (PID 200, started at ``accepted``)."""
    state = {"accepted": 1000.0}
    monkeypatch.setattr(rb, "sshd_listener", lambda: 100)
    parents = {os.getpid(): 300, 300: 200, 200: 100, 100: 1}
    monkeypatch.setattr(rb, "parent_of", parents.get)

    def process_start(pid):
        return {200: state["accepted"], 100: 10.0}.get(pid)

    monkeypatch.setattr(rb, "process_start", process_start)
    return state


@pytest.mark.parametrize(
    ("listening", "accepted", "expected"),
    [
        pytest.param([(50.0, "Server listening on 0.0.0.0 port 22."), (900.0, "Server listening on 0.0.0.0 port 22.")],
                     1000.0, None, id="login-after-the-reload"),
        pytest.param([(900.0, "Server listening on 0.0.0.0 port 22.")], 850.0, "accepted by sshd before it re-read",
                     id="login-before-the-reload"),
        pytest.param([(50.0, "Server listening on 0.0.0.0 port 22.")], 1000.0, "has not re-read",
                     id="no-reload-since-the-change"),
        pytest.param([(900.0, "Received SIGHUP; restarting.")], 1000.0, "has not re-read",
                     id="hup-but-not-listening-yet"),
    ],
)  # fmt: skip
def test_sshd_proof_error(sshd, listening, accepted, expected):
    sshd["accepted"] = accepted
    module = FakeModule({"journalctl": (0, journal_lines(*listening), "")})
    error = rb.sshd_proof_error(module, {"sshd_changed_at": 800.0}, wait=2, sleep=lambda _s: None)
    if expected is None:
        assert error is None
    else:
        assert expected in error
    assert all(f"_PID={100}" in call for call in module.calls)


def test_sshd_proof_not_needed_when_sshd_did_not_change(sshd):
    assert rb.sshd_proof_error(FakeModule(), {"files": []}, wait=1, sleep=lambda _s: None) is None


def test_arming_an_sshd_file_records_when_sshd_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(rb, "SSHD_DIR", str(tmp_path) + "/")
    config = tmp_path / "sshd_config"
    config.write_text("Port 22\n")
    module = FakeModule({"is-active": (3, "inactive", "")})
    rb.arm(module, [str(config)], [], "sshd configuration", 30, state_dir=str(tmp_path / "state"), now=1234.5)
    assert rb.load_manifest(str(tmp_path / "state"))["sshd_changed_at"] == 1234.5

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import stat

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _rollback
from ansible_collections.bulwark.hardening.plugins.module_utils._files import describe_owner_mode
from ansible_collections.bulwark.hardening.plugins.modules import ssh_host_keys as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO2gV+nANNnLnhdm/2jQeavxWADex///3nN0sklpCcji"
ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA8QO0QycA1KWr1tJY"
    "Bam2Sn8AOi5xO/x3B8nJSw5Bzbg4ZpLYLp39XhTemCs9HAcbOfQxHAQyAIe49nt7gTX/E="
)
RSA_1024 = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDSbgb3QpY6GuJzpdl32Z0/GovKriDZNJ8dyhzmUlAfJuuez0UbgbZJACdaojDc"
    "9RLghZ5jFzuLHPvVIgezc8Dj9jOkiXrJdXk2OnzYKD2t6Of5u31bhKqs2g91gXHrmcLG0Q34vLHBeYHnZWt79R1VPeIIfSaUGjwddnOGGDWv9Q=="
)
RSA_1024_FP = "SHA256:c2WOKt991oRPct7YvyiZ+knMDuV95SDCH84mGRYRyvk"


@pytest.mark.parametrize(
    "line, key_type, bits",
    [
        (ED25519 + " host", "ssh-ed25519", 256),
        (ECDSA, "ecdsa-sha2-nistp256", 256),
        (RSA_1024 + " root@old", "ssh-rsa", 1024),
    ],
)
def test_describe_public_key(line, key_type, bits):
    described = mod.describe_public_key(line)
    assert described["type"] == key_type
    assert described["bits"] == bits
    assert described["fingerprint"].startswith("SHA256:")


def test_describe_public_key_fingerprint_matches_ssh_keygen():
    assert mod.describe_public_key(RSA_1024)["fingerprint"] == RSA_1024_FP


@pytest.mark.parametrize("line", ["", "ssh-rsa", "ssh-rsa !!!notbase64", "ssh-ed25519 " + RSA_1024.split()[1]])
def test_describe_public_key_refuses_garbage(line):
    with pytest.raises(ValueError):
        mod.describe_public_key(line)


RSA_4096 = {"type": "ssh-rsa", "bits": 4096, "fingerprint": "SHA256:a"}
RSA_SHORT = {"type": "ssh-rsa", "bits": 1024, "fingerprint": "SHA256:b"}
ED = {"type": "ssh-ed25519", "bits": 256, "fingerprint": "SHA256:c"}


@pytest.mark.parametrize(
    "keys, remove, generate",
    [
        ({"ed25519": ED, "rsa": RSA_4096}, [], []),
        ({"ed25519": ED, "rsa": RSA_SHORT}, ["rsa"], ["rsa"]),
        ({"ed25519": None, "rsa": RSA_4096}, [], ["ed25519"]),
        ({}, [], ["ed25519", "rsa"]),
        ({"ed25519": ED, "rsa": {"type": "ssh-rsa", "bits": 3072, "fingerprint": "x"}}, [], []),
    ],
)
def test_plan(keys, remove, generate):
    assert mod.plan(keys, ["ed25519", "rsa"], 3072) == (remove, generate)


@pytest.fixture
def keydir(monkeypatch, tmp_path):
    """A host key directory with an Ed25519 key and a 1024-bit RSA key; ssh-keygen faked."""
    patch_exits(monkeypatch)
    # Root's keys, as on a host: the test's own user stands in for root.
    monkeypatch.setattr(mod, "ROOT_IDS", (os.getuid(), os.getgid()))
    (tmp_path / "ssh_host_ed25519_key").write_text("private\n")
    (tmp_path / "ssh_host_ed25519_key.pub").write_text(ED25519 + " host\n")
    (tmp_path / "ssh_host_rsa_key").write_text("private\n")
    (tmp_path / "ssh_host_rsa_key.pub").write_text(RSA_1024 + " host\n")
    for name in ("ssh_host_ed25519_key", "ssh_host_rsa_key"):
        (tmp_path / name).chmod(0o600)
    for name in ("ssh_host_ed25519_key.pub", "ssh_host_rsa_key.pub"):
        (tmp_path / name).chmod(0o644)
    calls = []

    def run_command(module, args, **kwargs):
        assert isinstance(args, list)
        calls.append(args)
        path = args[args.index("-f") + 1]
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="ascii") as handle:
            handle.write("private\n")
        with open(path + ".pub", "w", encoding="ascii") as handle:
            handle.write(ED25519 + " new\n")  # stands in for the generated key
        return 0, "", ""

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)
    return type("KeyDir", (), {"path": tmp_path, "calls": calls})()


def run(args, expect=ExitJson):
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def test_short_rsa_key_is_replaced_and_reported(keydir):
    result = run({"directory": str(keydir.path), "_ansible_diff": True})
    assert result["changed"] is True
    assert result["removed"] == [str(keydir.path / "ssh_host_rsa_key"), str(keydir.path / "ssh_host_rsa_key.pub")]
    assert result["generated"] == [str(keydir.path / "ssh_host_rsa_key")]
    assert keydir.calls == [
        ["/usr/bin/ssh-keygen", "-q", "-N", "", "-t", "rsa", "-b", "4096", "-f", str(keydir.path / "ssh_host_rsa_key")]
    ]
    assert "1024 bits" in result["diff"]["before"]


def test_check_mode_reports_without_touching(keydir):
    result = run({"directory": str(keydir.path), "_ansible_check_mode": True})
    assert result["changed"] is True
    assert keydir.calls == []
    assert (keydir.path / "ssh_host_rsa_key.pub").read_text().startswith("ssh-rsa")


def test_strong_keys_are_left_alone(keydir):
    result = run({"directory": str(keydir.path), "rsa_min_bits": 1024, "rsa_bits": 2048})
    assert result["changed"] is False
    assert result["removed"] == [] and result["generated"] == []
    assert keydir.calls == []
    assert result["host_keys"][str(keydir.path / "ssh_host_rsa_key")]["bits"] == 1024


def test_missing_key_is_generated(keydir):
    (keydir.path / "ssh_host_ed25519_key").unlink()
    result = run({"directory": str(keydir.path), "rsa_min_bits": 1024, "types": ["ed25519", "rsa"]})
    assert result["generated"] == [str(keydir.path / "ssh_host_ed25519_key")]
    assert keydir.calls[0][4:6] == ["-t", "ed25519"]


def test_rsa_bits_below_min_bits_is_refused(keydir):
    result = run({"directory": str(keydir.path), "rsa_bits": 2048, "rsa_min_bits": 3072}, expect=FailJson)
    assert "rsa_bits (2048) must be at least rsa_min_bits (3072)" in result["msg"]


def test_rollback_is_armed_before_a_key_is_touched(keydir, monkeypatch, tmp_path):
    state = tmp_path / "rollback-state"
    monkeypatch.setitem(_rollback.arm.__kwdefaults__, "state_dir", str(state))
    keygen = basic.AnsibleModule.run_command
    seen = []

    def run_command(module, args, **kwargs):
        if args[0].endswith("systemd-run"):
            seen.append((keydir.path / "ssh_host_rsa_key.pub").read_text())
            return 0, "", ""
        return keygen(module, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    result = run({"directory": str(keydir.path), "rollback": {"actions": ["systemctl reload ssh.service"]}})

    assert seen == [RSA_1024 + " host\n"]  # the timer ran while the old key was still in place
    rsa = str(keydir.path / "ssh_host_rsa_key")
    assert result["rollback"]["files"] == [rsa, rsa + ".pub"]
    assert result["rollback"]["what"] == ["sshd host keys"]
    assert (state / "armed" / "files" / "1").read_text() == RSA_1024 + " host\n"
    assert result["ansible_facts"] == {"bulwark_rollback": result["rollback"]}


def test_no_rollback_is_armed_when_nothing_changes(keydir, monkeypatch, tmp_path):
    monkeypatch.setitem(_rollback.arm.__kwdefaults__, "state_dir", str(tmp_path / "rollback-state"))
    result = run({"directory": str(keydir.path), "rsa_min_bits": 1024, "rollback": {}})
    assert result["changed"] is False
    assert "rollback" not in result
    assert keydir.calls == []
    assert not (tmp_path / "rollback-state").exists()


@pytest.mark.parametrize(
    "key, why",
    [
        (ED, None),
        (RSA_4096, None),
        (RSA_SHORT, "ssh-rsa, 1024 bits"),
        ({"type": "ecdsa-sha2-nistp256", "bits": 256, "fingerprint": "x"}, "ecdsa-sha2-nistp256, 256 bits"),
    ],
)
def test_weak_key(key, why):
    assert mod.weak_key(key, 3072) == why


def test_hostkey_sources_first_line_wins_comments_ignored():
    texts = {
        "/etc/ssh/sshd_config": "HostKey /etc/ssh/ssh_host_rsa_key\n# HostKey /etc/ssh/commented\n",
        "/etc/ssh/sshd_config.d/10-a.conf": "hostkey /etc/ssh/extra_key\nHostKey /etc/ssh/ssh_host_rsa_key\n",
        "/etc/ssh/sshd_config.d/20-b.conf": "HostKey /etc/ssh/extra_key\n",
    }
    assert mod.hostkey_sources(texts) == {
        "/etc/ssh/ssh_host_rsa_key": "/etc/ssh/sshd_config",
        "/etc/ssh/extra_key": "/etc/ssh/sshd_config.d/10-a.conf",
    }


@pytest.fixture
def extra_key(keydir):
    """A strong managed pair, plus a 1024-bit RSA key loaded by a drop-in's HostKey line."""
    (keydir.path / "ssh_host_rsa_key.pub").write_text("ssh-rsa " + RSA_1024.split()[1] + " host\n")
    extra = keydir.path / "extra_rsa_key"
    extra.write_text("private\n")
    (keydir.path / "extra_rsa_key.pub").write_text(RSA_1024 + " extra\n")
    (keydir.path / "sshd_config.d").mkdir()
    (keydir.path / "sshd_config.d" / "10-extra.conf").write_text(f"HostKey {extra}\n")
    return extra


def test_weak_configured_key_is_drift_in_check_mode(keydir, extra_key):
    args = {"directory": str(keydir.path), "rsa_min_bits": 1024, "rsa_bits": 2048, "_ansible_check_mode": True}
    args["configured"] = [str(keydir.path / "ssh_host_ed25519_key"), str(extra_key), str(keydir.path / "gone_key")]
    result = run({**args, "rsa_min_bits": 2048, "_ansible_diff": True})
    assert result["changed"] is True
    dropin = keydir.path / "sshd_config.d" / "10-extra.conf"
    assert result["weak"] == [f"{extra_key} (ssh-rsa, 1024 bits) is loaded by HostKey in {dropin}"]
    assert result["weak"][0] in result["diff"]["before"] and result["weak"][0] not in result["diff"]["after"]
    assert keydir.calls == [] and extra_key.exists()
    # Strong enough for this minimum: no drift (the managed RSA key is 1024 bits too here).
    assert run(args)["changed"] is False


def test_weak_configured_key_is_refused_outside_check_mode(keydir, extra_key):
    args = {"directory": str(keydir.path), "rsa_min_bits": 2048, "rsa_bits": 2048, "configured": [str(extra_key)]}
    result = run(args, expect=FailJson)
    assert str(keydir.path / "sshd_config.d" / "10-extra.conf") in result["msg"]
    assert str(extra_key) in result["msg"]
    assert keydir.calls == [] and extra_key.exists()


# ---------------------------------------------------------------- owners and modes (CIS 5.1.2, 5.1.3)


def fake_stat(mode, uid=0, gid=0):
    return os.stat_result((stat.S_IFREG | mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))


@pytest.mark.parametrize(
    "path, mode, uid, gid, want",
    [
        ("/etc/ssh/ssh_host_ed25519_key", 0o600, 0, 0, None),
        ("/etc/ssh/ssh_host_ed25519_key", 0o400, 0, 0, None),  # stricter stays stricter
        ("/etc/ssh/ssh_host_ed25519_key", 0o644, 0, 0, (0, 0, 0o600)),
        ("/etc/ssh/ssh_host_ed25519_key", 0o640, 0, 101, None),  # group ssh_keys may read
        ("/etc/ssh/ssh_host_ed25519_key", 0o660, 0, 101, (0, 101, 0o640)),
        ("/etc/ssh/ssh_host_ed25519_key", 0o640, 0, 4, (0, 0, 0o600)),  # another group: root's, 0600
        ("/etc/ssh/ssh_host_ed25519_key", 0o600, 1000, 0, (0, 0, 0o600)),
        ("/etc/ssh/ssh_host_rsa_key.pub", 0o644, 0, 0, None),
        ("/etc/ssh/ssh_host_rsa_key.pub", 0o664, 0, 4, (0, 0, 0o644)),
        ("/etc/ssh/ssh_host_rsa_key.pub", 0o4755, 0, 0, (0, 0, 0o644)),
        ("/etc/ssh/sshd_config", 0o644, 0, 0, (0, 0, 0o600)),
        ("/etc/ssh/sshd_config", 0o600, 0, 0, None),
    ],
)
def test_mode_fix(path, mode, uid, gid, want):
    assert mod.mode_fix(path, fake_stat(mode, uid, gid), 101) == want


def test_a_readable_private_key_is_drift_then_made_root_only(keydir):
    key = keydir.path / "ssh_host_ed25519_key"
    key.chmod(0o644)
    checked = run(
        {"directory": str(keydir.path), "rsa_min_bits": 1024, "_ansible_check_mode": True, "_ansible_diff": True}
    )
    assert checked["changed"] is True and checked["generated"] == [] and checked["removed"] == []
    assert checked["modes_fixed"] == [describe_owner_mode(str(key), 0o644, os.getuid(), os.getgid())]
    assert checked["modes_fixed"][0].endswith(" 0644")
    assert describe_owner_mode(str(key), 0o600, os.getuid(), os.getgid()) in checked["diff"]["after"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o644, "check mode changed the mode"
    fixed = run({"directory": str(keydir.path), "rsa_min_bits": 1024})
    assert fixed["changed"] is True
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = run({"directory": str(keydir.path), "rsa_min_bits": 1024})
    assert again["changed"] is False and again["modes_fixed"] == []


def test_sshd_config_is_made_root_only_and_a_drop_in_is_left_alone(keydir):
    config = keydir.path / "sshd_config"
    config.write_text("Include /etc/ssh/sshd_config.d/*.conf\n")
    config.chmod(0o644)
    (keydir.path / "sshd_config.d").mkdir()
    drop_in = keydir.path / "sshd_config.d" / "50-cloud-init.conf"
    drop_in.write_text("PasswordAuthentication no\n")
    drop_in.chmod(0o644)  # cloud-init's, or a site playbook's: tightening it would fight that tool
    result = run({"directory": str(keydir.path), "rsa_min_bits": 1024})
    assert result["changed"] is True and [line.split()[0] for line in result["modes_fixed"]] == [str(config)]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(drop_in.stat().st_mode) == 0o644


def test_a_symlinked_key_is_left_alone(keydir, tmp_path_factory):
    target = tmp_path_factory.mktemp("elsewhere") / "key"
    target.write_text("private\n")
    target.chmod(0o644)
    (keydir.path / "ssh_host_ecdsa_key").symlink_to(target)
    result = run({"directory": str(keydir.path), "rsa_min_bits": 1024})
    assert result["modes_fixed"] == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o644

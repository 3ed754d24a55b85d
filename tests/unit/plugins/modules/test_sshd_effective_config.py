# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import pwd
import stat
import sys
import time

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _loaded
from ansible_collections.bulwark.hardening.plugins.modules import (
    sshd_effective_config as mod,
)
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

DUMP = """\
port 22
permitrootlogin no
pubkeyauthentication yes
passwordauthentication no
kbdinteractiveauthentication no
authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2
authorizedkeyscommand none
allowusers deploy@192.0.2.0/24
allowusers alice
hostkey /etc/ssh/ssh_host_ed25519_key
hostkey /etc/ssh/ssh_host_rsa_key
subsystem sftp /usr/lib/openssh/sftp-server
kexalgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256
"""
VERSION_STDERR = "OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024\n"


def probe_output(methods="publickey", kex="sntrup761x25519-sha512@openssh.com,curve25519-sha256"):
    """What ``ssh -vv`` prints of a server's offer (the lines the probe reads), as Debian's client does."""
    return (
        "debug2: local client KEXINIT proposal\n"
        "debug2: KEX algorithms: curve25519-sha256,diffie-hellman-group14-sha256,ext-info-c\n"
        "debug2: peer server KEXINIT proposal\n"
        f"debug2: KEX algorithms: {kex},kex-strict-s-v00@openssh.com\n"
        "debug2: host key algorithms: ssh-ed25519\n"
        "debug2: first_kex_follows 0 \n"
        f"debug1: Authentications that can continue: {methods}\n"
        f"deploy@127.0.0.1: Permission denied ({methods}).\n"
    )


class FakeCommands:
    """Stands in for AnsibleModule.run_command; answers by the command's first two words."""

    def __init__(self):
        self.calls = []
        self.answers = {
            "-T": (0, DUMP, ""),
            "-V": (1, "", VERSION_STDERR),
            # the live probe, run as "timeout 20 ssh -vv ..."
            "20": (255, "", probe_output()),
        }

    def __call__(self, args):
        assert isinstance(args, list), "run_command must get a list, never a shell string"
        self.calls.append(args)
        answer = self.answers[args[1]]
        return answer(args) if callable(answer) else answer


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Patched exit/fail/run_command, a fake sshd binary, privsep dir and one account."""
    patch_exits(monkeypatch)
    commands = FakeCommands()

    def run_command(module, args, **kwargs):
        return commands(args)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: "/usr/bin/" + name)

    sshd = tmp_path / "sshd"
    sshd.write_text("#!/bin/sh\n")
    privsep = tmp_path / "run" / "sshd"
    privsep.mkdir(parents=True)
    monkeypatch.setattr(mod, "PRIVSEP_DIR", str(privsep))
    monkeypatch.setattr(mod, "DEFAULTS_FILE", str(tmp_path / "default-ssh"))

    home = tmp_path / "home" / "deploy"
    (home / ".ssh").mkdir(parents=True)
    users = {"deploy": pwd.struct_passwd(("deploy", "x", 1001, 1001, "", str(home), sys.executable))}

    def getpwnam(name):
        return users[name]

    monkeypatch.setattr(mod.pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(mod.os, "getgrouplist", lambda name, gid: [gid, 27])
    names = {1001: "deploy", 27: "sudo"}

    def getgrgid(gid):
        return type("group", (), {"gr_name": names[gid]})()

    monkeypatch.setattr(mod.grp, "getgrgid", getgrgid)

    class Env:
        pass

    result = Env()
    result.commands = commands
    result.sshd = str(sshd)
    result.privsep = privsep
    result.home = home
    return result


def run(args, expect=ExitJson):
    with patch_module_args(args), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


def test_settings_and_version_without_connection(env):
    result = run({"sshd": env.sshd, "config": "/etc/ssh/sshd_config"})
    assert result["changed"] is False
    assert env.commands.calls[0] == [env.sshd, "-T", "-f", "/etc/ssh/sshd_config"]
    assert env.commands.calls[1] == [env.sshd, "-V"]
    assert result["command"] == env.commands.calls[0]
    assert result["settings"]["hostkey"] == ["/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"]
    assert result["settings"]["allowusers"] == ["deploy@192.0.2.0/24", "alice"]
    assert result["settings"]["port"] == ["22"]
    assert result["settings"]["permitrootlogin"] == "no"
    assert result["ansible_facts"] == {"sshd_effective_config": result["settings"]}
    assert result["version"] == "OpenSSH_9.2p1"
    assert result["version_number"] == "9.2"
    assert "access" not in result


def test_connection_is_passed_to_sshd_and_access_allowed(env):
    (env.home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 AAAAC3Nz deploy@laptop\n")
    result = run({"sshd": env.sshd, "connection": {"user": "deploy", "addr": "192.0.2.10"}})
    assert env.commands.calls[0] == [
        env.sshd,
        "-T",
        "-f",
        "/etc/ssh/sshd_config",
        "-C",
        "user=deploy,host=192.0.2.10,addr=192.0.2.10",
    ]
    assert result["access"] == {"user": "deploy", "allowed": True, "reasons": []}
    assert result["changed"] is False


def test_connection_all_fields(env):
    connection = {
        "user": "deploy",
        "host": "bastion.example.org",
        "addr": "192.0.2.10",
        "laddr": "192.0.2.1",
        "lport": 2222,
    }
    run({"sshd": env.sshd, "connection": connection, "check_access": False})
    assert env.commands.calls[0][-1] == (
        "user=deploy,host=bastion.example.org,addr=192.0.2.10,laddr=192.0.2.1,lport=2222"
    )


def test_connection_defaults_to_localhost(env):
    result = run({"sshd": env.sshd, "connection": {"user": "deploy"}})
    keys = env.home / ".ssh" / "authorized_keys"
    assert env.commands.calls[0][-1] == "user=deploy,host=127.0.0.1,addr=127.0.0.1"
    assert result["access"]["allowed"] is False
    assert result["access"]["reasons"] == [
        "account 'deploy' is not matched by AllowUsers (deploy@192.0.2.0/24 alice)",
        (
            f"account 'deploy' has no authorized key in AuthorizedKeysFile ({keys} {keys}2) "
            "and PasswordAuthentication and KbdInteractiveAuthentication are off"
        ),
    ]


def test_comment_only_key_file_does_not_count(env):
    (env.home / ".ssh" / "authorized_keys2").write_text("# ssh-ed25519 AAAA old key\n\n")
    result = run({"sshd": env.sshd, "connection": {"user": "deploy", "addr": "192.0.2.10"}})
    assert result["access"]["allowed"] is False
    assert "has no authorized key" in result["access"]["reasons"][0]


def test_unknown_account(env):
    result = run({"sshd": env.sshd, "connection": {"user": "ghost", "addr": "192.0.2.10"}})
    assert result["access"] == {"user": "ghost", "allowed": False, "reasons": ["account 'ghost' does not exist"]}


def test_check_access_false_skips_access(env):
    result = run({"sshd": env.sshd, "connection": {"user": "deploy"}, "check_access": False})
    assert "access" not in result
    assert "-C" in env.commands.calls[0]


def test_check_access_needs_connection(env):
    result = run({"sshd": env.sshd, "check_access": True}, expect=FailJson)
    assert "connection" in result["msg"]
    assert env.commands.calls == []


@pytest.mark.parametrize(
    "connection",
    [
        {"user": "deploy,root"},
        {"user": "deploy", "host": "a b"},
        {"user": ""},
    ],
)
def test_bad_connection_values(env, connection):
    result = run({"sshd": env.sshd, "connection": connection}, expect=FailJson)
    assert "commas or whitespace" in result["msg"]
    assert env.commands.calls == []


def test_invalid_config_fails_with_sshd_stderr(env):
    error = "/etc/ssh/sshd_config line 14: Bad yes/no argument: maybe"
    env.commands.answers["-T"] = (255, "", error + "\n")
    result = run({"sshd": env.sshd}, expect=FailJson)
    assert result["msg"] == "sshd -T rejected /etc/ssh/sshd_config: " + error
    assert result["rc"] == 255


def test_missing_sshd_binary(env, tmp_path):
    result = run({"sshd": str(tmp_path / "nope")}, expect=FailJson)
    assert "does not exist" in result["msg"]


def test_privsep_dir_created_outside_check_mode(env):
    env.privsep.rmdir()
    result = run({"sshd": env.sshd})
    assert env.privsep.is_dir()
    assert stat.S_IMODE(os.stat(env.privsep).st_mode) == 0o755
    assert result["changed"] is True  # it created /run/sshd, and says so


def test_privsep_dir_missing_in_check_mode_is_drift_not_a_failure(env):
    env.privsep.rmdir()
    env.commands.answers["-T"] = (255, "", "Missing privilege separation directory: /run/sshd\n")
    result = run({"sshd": env.sshd, "_ansible_check_mode": True, "running": True, "firewall_port": 2222})
    assert not env.privsep.exists()
    # What a run would create is the drift; nothing is evaluated without the directory.
    assert (result["changed"], result["privsep_missing"], result["settings"]) == (True, True, {})
    assert f"privilege separation directory {env.privsep} is missing" in result["msg"]
    assert not [args for args in env.commands.calls if "-T" in args]


def test_check_mode_still_reads(env):
    result = run({"sshd": env.sshd, "_ansible_check_mode": True})
    assert result["settings"]["port"] == ["22"]


def test_version_from_old_sshd_usage_text(env):
    usage = "unknown option -- V\nOpenSSH_8.4p1 Debian-5+deb11u3, OpenSSL 1.1.1w\nusage: sshd\n"
    env.commands.answers["-V"] = (1, "", usage)
    result = run({"sshd": env.sshd})
    assert (result["version"], result["version_number"]) == ("OpenSSH_8.4p1", "8.4")


def test_version_falls_back_to_ssh_client(env):
    answers = {env.sshd: (1, "", "usage: sshd [-46DdeGiqTtV]\n"), "/usr/bin/ssh": (0, "", "OpenSSH_10.0p2 Debian-7\n")}
    env.commands.answers["-V"] = lambda args: answers[args[0]]
    result = run({"sshd": env.sshd})
    assert env.commands.calls[1:] == [[env.sshd, "-V"], ["/usr/bin/ssh", "-V"]]
    assert (result["version"], result["version_number"]) == ("OpenSSH_10.0p2", "10.0")


def test_version_from_debian12_sshd(env):
    env.commands.answers["-V"] = (0, "", "OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026\n")
    result = run({"sshd": env.sshd})
    assert (result["version"], result["version_number"]) == ("OpenSSH_9.2", "9.2")


def test_no_version_at_all(env):
    env.commands.answers["-V"] = (1, "", "usage: sshd\n")
    result = run({"sshd": env.sshd})
    assert (result["version"], result["version_number"]) == (None, None)


def test_lookup_account_groups(env):
    account = mod.lookup_account("deploy")
    assert account["groups"] == ["deploy", "sudo"]
    assert account["uid"] == 1001 and account["exists"] is True and account["shell_ok"] is True
    assert mod.lookup_account("ghost") == {"name": "ghost", "exists": False}


# ------------------------------------------------------------------ 0.2.0: session, enforce, firewall, running
ECDSA_KEY = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA8QO0QycA1KWr1tJYBam2Sn8AOi5xO/x3B8nJS"
    "w5Bzbg4ZpLYLp39XhTemCs9HAcbOfQxHAQyAIe49nt7gTX/E="
)
ECDSA_FP = "SHA256:9VCez5VuMlSpKaPry51cyhL7aDo2W667gmZ5HzoLQnM"
HARDENED_DUMP = DUMP.replace("allowusers deploy@192.0.2.0/24\nallowusers alice\n", "") + (
    "pubkeyacceptedalgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256\n"
)


def journal(*records):
    return "\n".join(
        json.dumps({"__REALTIME_TIMESTAMP": str(int(when * 1e6)), "MESSAGE": message}) for when, message in records
    )


def test_missing_sshd_with_missing_ok_reports_not_installed(env, tmp_path):
    result = run({"sshd": str(tmp_path / "nosuchsshd"), "missing_ok": True})
    assert result == {"changed": False, "installed": False}


def test_ecdsa_session_refused_by_candidate(env):
    (env.home / ".ssh" / "authorized_keys").write_text(ECDSA_KEY + " admin\n")
    env.commands.answers["-T"] = (0, HARDENED_DUMP, "")
    env.commands.answers["--boot"] = (
        0,
        journal((10.0, f"Accepted publickey for deploy from 192.0.2.7 port 50022 ssh2: ECDSA {ECDSA_FP}")),
        "",
    )
    result = run(
        {
            "sshd": env.sshd,
            "content": "PubkeyAcceptedAlgorithms ssh-ed25519\n",
            "connection": {"user": "deploy", "addr": "192.0.2.7"},
            "session": {"addr": "192.0.2.7", "port": 50022},
        }
    )
    assert result["auth"]["key_type"] == "ECDSA"
    assert result["access"]["allowed"] is False
    (reason,) = result["access"]["reasons"]
    assert f"key type ECDSA (ecdsa-sha2-nistp256), {ECDSA_FP}" in reason
    assert "PubkeyAcceptedAlgorithms" in reason


def test_password_session_refused_when_passwords_go_off(env):
    (env.home / ".ssh" / "authorized_keys").write_text(ECDSA_KEY + "\n")
    env.commands.answers["--boot"] = (
        0,
        journal((10.0, "Accepted password for deploy from 192.0.2.7 port 4242 ssh2")),
        "",
    )
    result = run(
        {
            "sshd": env.sshd,
            "connection": {"user": "deploy", "addr": "192.0.2.7"},
            "session": {"addr": "192.0.2.7", "port": 4242},
        }
    )
    assert result["auth"]["method"] == "password"
    assert any("logged in to this session with password" in reason for reason in result["access"]["reasons"])


def test_match_context_that_reopens_passwords_is_a_violation(env, tmp_path):
    drop_ins = tmp_path / "sshd_config.d"
    drop_ins.mkdir()
    (drop_ins / "zz.conf").write_text("Match all\n    PasswordAuthentication yes\n")

    def sshd_t(args):
        spec = args[args.index("-C") + 1] if "-C" in args else ""
        opened = "user=alice" in spec or "addr=10.0.0.1" in spec
        return 0, DUMP.replace("passwordauthentication no", "passwordauthentication yes") if opened else DUMP, ""

    env.commands.answers["-T"] = sshd_t
    content = f"Include {drop_ins}/*.conf\nMatch User alice\n    PasswordAuthentication yes\nMatch Address 10.0.0.0/8\n"
    result = run(
        {
            "sshd": env.sshd,
            "content": content,
            "connection": {"user": "deploy"},
            "check_access": False,
            "enforce": {"PasswordAuthentication": "no"},
        }
    )
    assert result["violations"] == [
        "Match User alice: PasswordAuthentication is yes, expected no",
        "Match Address 10.0.0.0/8: PasswordAuthentication is yes, expected no",
    ]
    specs = [call[call.index("-C") + 1] for call in env.commands.calls if "-C" in call]
    assert len(specs) == 5  # the evaluation, the global context, Match all (zz.conf), alice, 10.0.0.1
    assert any(spec.startswith("user=alice,") for spec in specs)


def test_firewall_port_with_active_ufw(env, tmp_path, monkeypatch):
    files = []
    for name, text in (
        ("ufw.conf", "ENABLED=yes\n"),
        ("user.rules", "### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n"),
        ("user6.rules", ""),
        ("default-ufw", 'DEFAULT_INPUT_POLICY="DROP"\n'),
    ):
        (tmp_path / name).write_text(text)
        files.append(str(tmp_path / name))
    monkeypatch.setattr(mod, "UFW_FILES", tuple(files))
    moved = run({"sshd": env.sshd, "content": "Port 2222\n", "firewall_port": 2222})
    assert moved["firewall"] == {"port": 2222, "current_ports": ["22"], "active": True, "allowed": False}
    stays = run({"sshd": env.sshd, "firewall_port": 22})
    assert stays["firewall"]["allowed"] is True


def test_running_daemon_older_than_its_config_is_stale(env, tmp_path, monkeypatch):
    """Stale by ctime after the daemon's last load, whatever the mtime says (it was put back)."""
    config = tmp_path / "sshd_config"
    config.write_text("Port 22\n")
    os.utime(config, (1000.0, 1000.0))
    monkeypatch.setattr(_loaded, "STAMP_DIR", str(tmp_path / "stamps"))

    def show(load_us):
        return 0, f"ActiveState=active\nStateChangeTimestampMonotonic={load_us}\n", ""

    env.commands.answers["show"] = show(int((time.monotonic() - 60) * 1e6))
    stale = run({"sshd": env.sshd, "config": str(config), "running": True})
    assert stale["running"]["stale"] is True
    assert stale["running"]["reasons"] == [f"{config} changed after the daemon last (re)loaded"]
    assert any(call[:3] == ["/usr/bin/systemctl", "show", "ssh.service"] for call in env.commands.calls)
    env.commands.answers["show"] = show(int(time.monotonic() * 1e6))
    fresh = run({"sshd": env.sshd, "config": str(config), "running": True})
    assert fresh["running"]["stale"] is False


@pytest.fixture
def ufw_files(tmp_path, monkeypatch):
    files = [tmp_path / name for name in ("ufw.conf", "user.rules", "user6.rules", "default-ufw")]
    monkeypatch.setattr(mod, "UFW_FILES", tuple(str(path) for path in files))
    return files


RULES = """### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=7373682068657265
### tuple ### limit_log tcp 2200 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 80,443 0.0.0.0/0 any 10.0.0.0/8 in
### tuple ### allow tcp 3000:3005 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow udp 5000 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### deny tcp 6000 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### allow tcp 7000 0.0.0.0/0 any 0.0.0.0/0 out
### tuple ### allow any 53 0.0.0.0/0 any 0.0.0.0/0 in
"""


@pytest.mark.parametrize(
    ("texts", "port", "client", "expected"),
    [
        (("ENABLED=no\n", ""), 2222, None, (False, True)),
        (("", ""), 2222, None, (False, True)),
        (("ENABLED=yes\n", 'DEFAULT_INPUT_POLICY="ACCEPT"\n'), 2222, None, (True, True)),
        (("ENABLED=yes\n", 'DEFAULT_INPUT_POLICY="DROP"\n'), 22, None, (True, True)),
        (("ENABLED=yes\n", ""), 2200, None, (True, True)),
        (("ENABLED=yes\n", ""), 3003, None, (True, True)),
        (("ENABLED=yes\n", ""), 53, None, (True, True)),
        (("ENABLED=yes\n", ""), 2222, None, (True, False)),
        (("ENABLED=yes\n", ""), 5000, None, (True, False)),
        (("ENABLED=yes\n", ""), 6000, None, (True, False)),
        (("ENABLED=yes\n", ""), 7000, None, (True, False)),
        (("ENABLED=yes\n", ""), 443, None, (True, False)),
        (("ENABLED=yes\n", ""), 443, "10.1.2.3", (True, True)),
    ],
)
def test_firewall_state_asks_the_ufw_engine(ufw_files, texts, port, client, expected):
    """The port-move guard asks the ufw role's own evaluator (one engine): same rules, same answers."""
    conf, defaults = texts
    for path, text in zip(ufw_files, (conf, RULES, "", defaults)):
        path.write_text(text)
    state = mod.firewall_state(port, [], client)
    assert (state["active"], state["allowed"]) == expected


@pytest.fixture
def running_daemon(env, tmp_path, monkeypatch):
    """A daemon that loaded its configuration a minute after the file was last written (not stale by content)."""
    config = tmp_path / "sshd_config"
    config.write_text("Port 22\n")
    monkeypatch.setattr(_loaded, "STAMP_DIR", str(tmp_path / "stamps"))
    env.commands.answers["show"] = (
        0,
        f"ActiveState=active\nStateChangeTimestampMonotonic={int(time.monotonic() * 1e6)}\n",
        "",
    )
    return str(config)


def probes(env):
    return [call for call in env.commands.calls if call[:2] == ["/usr/bin/timeout", "20"]]


def test_the_running_daemon_is_asked_what_it_offers(env, running_daemon):
    result = run({"sshd": env.sshd, "config": running_daemon, "running": True, "connection": {"user": "deploy"}})
    assert result["running"]["stale"] is False
    assert result["running"]["offered"]["methods"] == ["publickey"]
    [argv] = probes(env)
    assert argv[2:5] == ["/usr/bin/ssh", "-vv", "-F"]
    assert "PreferredAuthentications=none" in argv and "BatchMode=yes" in argv
    assert argv[argv.index("-p") + 1] == "22" and argv[argv.index("-l") + 1] == "deploy"
    assert argv[-2:] == ["127.0.0.1", "true"]
    # sshd -T of the installed file for the probe's own connection (Match blocks for it applied).
    assert [
        env.sshd,
        "-T",
        "-f",
        running_daemon,
        "-C",
        "user=deploy,host=127.0.0.1,addr=127.0.0.1,laddr=127.0.0.1,lport=22",
    ] in env.commands.calls


def test_a_daemon_offering_passwords_its_file_turns_off_is_stale(env, running_daemon):
    """The file was put back (content and mtime) after a reload: only the live offer shows it."""
    env.commands.answers["20"] = (255, "", probe_output(methods="publickey,password"))
    result = run({"sshd": env.sshd, "config": running_daemon, "running": True})
    assert result["running"]["stale"] is True
    assert result["running"]["reasons"] == [
        "the running sshd offers password that its files do not (authentication methods: publickey, password live, "
        "publickey from sshd -T)"
    ]
    assert probes(env)[0][probes(env)[0].index("-l") + 1] == "root"  # no connection: root


def test_a_daemon_that_does_not_answer_where_its_files_listen_is_stale(env, running_daemon):
    env.commands.answers["20"] = (255, "", "ssh: connect to host 127.0.0.1 port 22: Connection refused\n")
    result = run({"sshd": env.sshd, "config": running_daemon, "running": True})
    assert result["running"]["reasons"] == [
        "the running sshd does not answer on 127.0.0.1 port 22, where its files say it listens "
        "(ssh: connect to host 127.0.0.1 port 22: Connection refused)"
    ]
    assert result["running"]["offered"] is None


def test_a_stopped_daemon_is_not_probed(env, running_daemon):
    env.commands.answers["show"] = (0, "ActiveState=inactive\nStateChangeTimestampMonotonic=0\n", "")
    result = run({"sshd": env.sshd, "config": running_daemon, "running": True})
    assert result["running"] == {
        "loaded_at": None,
        "stale": False,
        "reasons": [],
        "offered": None,
        "options": [],
        "sshd_opts": "",
    }
    assert probes(env) == []


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"], []),
        (
            ["sshd: /usr/sbin/sshd -D -o PasswordAuthentication=yes [listener] 0 of 10-60 startups"],
            ["-o", "PasswordAuthentication=yes"],
        ),
        (["/usr/sbin/sshd", "-D"], []),
        (["/usr/sbin/sshd", "-D", "-o", "PasswordAuthentication=yes"], ["-o", "PasswordAuthentication=yes"]),
        (["/usr/sbin/sshd", "-f", "/tmp/weak", "-D"], ["-f", "/tmp/weak"]),
    ],
)
def test_command_line_options(argv, options):
    assert mod.command_line_options(argv) == options


def test_a_daemon_started_with_options_is_stale_and_says_where(env, running_daemon, tmp_path, monkeypatch):
    proc = tmp_path / "proc" / "4242"
    proc.mkdir(parents=True)
    (proc / "cmdline").write_bytes(b"/usr/sbin/sshd\0-D\0-o\0PasswordAuthentication=yes\0")
    monkeypatch.setattr(mod, "PROC", str(tmp_path / "proc"))
    show = env.commands.answers["show"]
    env.commands.answers["show"] = (0, show[1] + "MainPID=4242\n", "")
    result = run({"sshd": env.sshd, "config": running_daemon, "running": True})
    assert result["running"]["options"] == ["-o", "PasswordAuthentication=yes"]
    assert result["running"]["stale"] is True
    assert any(
        "started with options that override its files: -o PasswordAuthentication=yes" in reason
        and "/etc/default/ssh" in reason
        for reason in result["running"]["reasons"]
    ), result["running"]["reasons"]
    (proc / "cmdline").write_bytes(b"/usr/sbin/sshd\0-D\0")
    assert run({"sshd": env.sshd, "config": running_daemon, "running": True})["running"]["options"] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("# Options to pass to sshd\nSSHD_OPTS=\n", ""),
        ('SSHD_OPTS="-o PasswordAuthentication=yes"\n', "-o PasswordAuthentication=yes"),
        ("SSHD_OPTS=-4\nexport SSHD_OPTS='-o Banner=none'\n", "-o Banner=none"),
        ("", ""),
    ],
)
def test_sshd_opts(text, value):
    assert mod.sshd_opts(text) == value


def test_sshd_opts_in_etc_default_is_stale_and_named(env, running_daemon, tmp_path):
    (tmp_path / "default-ssh").write_text('SSHD_OPTS="-o PasswordAuthentication=yes"\n')
    result = run({"sshd": env.sshd, "config": running_daemon, "running": True})
    assert result["running"]["sshd_opts"] == "-o PasswordAuthentication=yes"
    assert result["running"]["stale"] is True
    assert (
        f"SSHD_OPTS in {tmp_path / 'default-ssh'} gives sshd options that override its files:"
        " -o PasswordAuthentication=yes" in result["running"]["reasons"]
    )

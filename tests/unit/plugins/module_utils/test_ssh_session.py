# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The session, key, Match-context, ufw and running-daemon helpers of _ssh."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _ssh

ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO2gV+nANNnLnhdm/2jQeavxWADex///3nN0sklpCcji"
ED25519_FP = "SHA256:LLtDVXPsUaaZaIlX4DPy6ZGzrt24/NCIHp+wZiX31Eg"
ECDSA = (
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBA8QO0QycA1KWr1tJY"
    "Bam2Sn8AOi5xO/x3B8nJSw5Bzbg4ZpLYLp39XhTemCs9HAcbOfQxHAQyAIe49nt7gTX/E="
)
ECDSA_FP = "SHA256:9VCez5VuMlSpKaPry51cyhL7aDo2W667gmZ5HzoLQnM"
RSA_1024 = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDSbgb3QpY6GuJzpdl32Z0/GovKriDZNJ8dyhzmUlAfJuuez0Ubgb"
    "ZJACdaojDc9RLghZ5jFzuLHPvVIgezc8Dj9jOkiXrJdXk2OnzYKD2t6Of5u31bhKqs2g91gXHrmcLG0Q34vLHBeYHn"
    "ZWt79R1VPeIIfSaUGjwddnOGGDWv9Q=="
)
RSA_FP = "SHA256:c2WOKt991oRPct7YvyiZ+knMDuV95SDCH84mGRYRyvk"

HARDENED = {
    "pubkeyauthentication": "yes",
    "passwordauthentication": "no",
    "kbdinteractiveauthentication": "no",
    "pubkeyacceptedalgorithms": "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,rsa-sha2-512,rsa-sha2-256",
}
STOCK = dict(HARDENED, passwordauthentication="yes")
WHO = "account 'deploy'"


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            f"Accepted publickey for deploy from 172.18.0.1 port 50022 ssh2: ED25519 {ED25519_FP}",
            {"method": "publickey", "user": "deploy", "addr": "172.18.0.1", "port": 50022, "key_type": "ED25519",
             "fingerprint": ED25519_FP},
        ),
        (
            "Accepted password for pwadmin from 2001:db8::7 port 4242 ssh2",
            {"method": "password", "user": "pwadmin", "addr": "2001:db8::7", "port": 4242, "key_type": None,
             "fingerprint": None},
        ),
        (
            "Accepted keyboard-interactive/pam for alice from 10.0.0.1 port 1 ssh2",
            {"method": "keyboard-interactive/pam", "user": "alice", "addr": "10.0.0.1", "port": 1, "key_type": None,
             "fingerprint": None},
        ),
        ("Failed password for deploy from 10.0.0.1 port 1 ssh2", None),
        ("Server listening on 0.0.0.0 port 22.", None),
        ("", None),
    ],
)  # fmt: skip
def test_parse_accepted_line(line, expected):
    assert _ssh.parse_accepted_line(line) == expected


def test_find_session_auth_matches_address_and_port_and_keeps_the_last():
    messages = [
        "Accepted password for deploy from 10.0.0.1 port 5000 ssh2",
        f"Accepted publickey for deploy from 10.0.0.1 port 5001 ssh2: ECDSA {ECDSA_FP}",
        f"Accepted publickey for deploy from 10.0.0.2 port 5000 ssh2: ED25519 {ED25519_FP}",
        f"Accepted publickey for deploy from 10.0.0.1 port 5000 ssh2: ED25519 {ED25519_FP}",
    ]
    assert _ssh.find_session_auth(messages, "10.0.0.1", "5000")["method"] == "publickey"
    assert _ssh.find_session_auth(messages, "10.0.0.1", 5001)["key_type"] == "ECDSA"
    assert _ssh.find_session_auth(messages, "10.0.0.3", 5000) is None


def test_parse_authorized_keys_with_options_and_comments():
    text = f'# admin keys\n\n{ED25519} laptop\nfrom="10.0.0.0/8",no-pty {ECDSA} ci\nnot a key line\n{RSA_1024}\n'
    assert _ssh.parse_authorized_keys(text) == [
        {"type": "ssh-ed25519", "fingerprint": ED25519_FP},
        {"type": "ecdsa-sha2-nistp256", "fingerprint": ECDSA_FP},
        {"type": "ssh-rsa", "fingerprint": RSA_FP},
    ]


@pytest.mark.parametrize(
    "key_type, accepted",
    [
        ("ED25519", True),
        ("ssh-ed25519", True),
        ("ED25519-CERT", True),
        ("RSA", True),
        ("ssh-rsa", True),
        ("ECDSA", False),
        ("ecdsa-sha2-nistp256", False),
        ("ECDSA-SK", False),
        ("DSA", False),
    ],
)
def test_key_accepted(key_type, accepted):
    assert _ssh.key_accepted(HARDENED, key_type) is accepted


def test_key_accepted_with_old_keyword_and_wildcards():
    assert _ssh.key_accepted({"pubkeyacceptedkeytypes": "ecdsa-sha2-*"}, "ECDSA")
    assert not _ssh.key_accepted({"pubkeyacceptedkeytypes": "ecdsa-sha2-*,!ecdsa-sha2-nistp256"}, "ecdsa-sha2-nistp256")


ED_KEYS = [{"type": "ssh-ed25519", "fingerprint": ED25519_FP}]
EC_KEYS = [{"type": "ecdsa-sha2-nistp256", "fingerprint": ECDSA_FP}]


@pytest.mark.parametrize(
    "settings, auth, keys, expected",
    [
        pytest.param(HARDENED, {"method": "publickey", "key_type": "ED25519", "fingerprint": ED25519_FP}, ED_KEYS, [],
                     id="ed25519-session-kept"),
        pytest.param(HARDENED, {"method": "publickey", "key_type": "ECDSA", "fingerprint": ECDSA_FP}, EC_KEYS,
                     ["key type ECDSA (ecdsa-sha2-nistp256), SHA256:", "PubkeyAcceptedAlgorithms"],
                     id="ecdsa-session-refused"),
        pytest.param(HARDENED, {"method": "publickey", "key_type": "ECDSA", "fingerprint": "SHA256:x"}, ED_KEYS,
                     ["key type ECDSA, SHA256:x", "PubkeyAcceptedAlgorithms"], id="ecdsa-key-not-in-file"),
        pytest.param(HARDENED, {"method": "password"}, ED_KEYS, ["logged in to this session with password",
                     "PasswordAuthentication"], id="password-session-passwords-off"),
        pytest.param(HARDENED, {"method": "keyboard-interactive/pam"}, ED_KEYS, ["keyboard-interactive/pam"],
                     id="kbd-session-passwords-off"),
        pytest.param(STOCK, {"method": "password"}, [], [], id="password-session-passwords-stay"),
        pytest.param(HARDENED, None, ED_KEYS, [], id="no-log-line-all-keys-accepted"),
        pytest.param(HARDENED, None, ED_KEYS + EC_KEYS, ["could not be found", "ecdsa-sha2-nistp256"],
                     id="no-log-line-one-key-refused"),
        pytest.param(STOCK, None, EC_KEYS, [], id="no-log-line-passwords-stay"),
    ],
)  # fmt: skip
def test_session_reasons(settings, auth, keys, expected):
    reasons = _ssh.session_reasons(WHO, settings, auth, keys)
    if not expected:
        assert reasons == []
    else:
        assert len(reasons) == 1
        for text in [WHO, *expected]:
            assert text in reasons[0], reasons[0]


def test_usable_key_reasons():
    assert _ssh.usable_key_reasons(WHO, HARDENED, ED_KEYS + EC_KEYS) == []
    assert _ssh.usable_key_reasons(WHO, STOCK, EC_KEYS) == []
    assert _ssh.usable_key_reasons(WHO, HARDENED, []) == []  # no keys at all: check_access() says so
    (reason,) = _ssh.usable_key_reasons(WHO, HARDENED, EC_KEYS)
    assert "only keys of type ecdsa-sha2-nistp256" in reason


def test_parse_match_lines():
    text = "Port 22\nMatch all\n  PasswordAuthentication yes\nmatch User alice,bob Address 10.0.0.0/8\nMatch\n"
    assert _ssh.parse_match_lines(text) == [
        {"line": "Match all", "criteria": {"all": ""}},
        {"line": "match User alice,bob Address 10.0.0.0/8", "criteria": {"user": "alice,bob", "address": "10.0.0.0/8"}},
        {"line": "Match", "criteria": {}},
    ]


BASE = {"user": "deploy", "addr": "198.51.100.7"}


@pytest.mark.parametrize(
    "criteria, expected",
    [
        ({"all": ""}, BASE),
        ({"user": "alice,bob"}, {"user": "alice", "addr": "198.51.100.7"}),
        ({"user": "!root,backup"}, {"user": "backup", "addr": "198.51.100.7"}),
        ({"address": "10.0.0.0/8"}, {"user": "deploy", "addr": "10.0.0.1"}),
        ({"address": "192.0.2.5"}, {"user": "deploy", "addr": "192.0.2.5"}),
        ({"localport": "2222"}, {"user": "deploy", "addr": "198.51.100.7", "lport": "2222"}),
        ({"host": "*.example.org"}, None),
        ({"group": "sftponly"}, {"user": "uploader", "addr": "198.51.100.7"}),
        ({"group": "nobody-in-it"}, None),
        ({"rdomain": "x"}, None),
        ({"bogus": "x"}, None),
        ({"address": "10.0.0.300/8"}, None),
    ],
)
def test_match_context(criteria, expected):
    members = {"sftponly": "uploader"}
    assert _ssh.match_context(criteria, BASE, members.get) == expected


def test_enforced_differences():
    settings = {"passwordauthentication": "yes", "permitrootlogin": "without-password", "permitemptypasswords": "no"}
    enforce = {"PasswordAuthentication": "no", "PermitRootLogin": "prohibit-password", "PermitEmptyPasswords": "no",
               "HostbasedAuthentication": "no"}  # fmt: skip
    assert _ssh.enforced_differences(settings, enforce) == [
        ("PasswordAuthentication", "yes", "no"),
        ("HostbasedAuthentication", "", "no"),
    ]


# ------------------------------------------------------------------ issue 19: what the trials got past
OTHER_ED_FP = "SHA256:otherkeyotherkeyotherkeyotherkeyotherkey000"
ED_SESSION = {"method": "publickey", "key_type": "ED25519", "fingerprint": ED25519_FP}


def test_parse_auth_info_reads_sshds_own_record():
    found = _ssh.parse_auth_info(f"publickey {ED25519}\n")
    assert (found["method"], found["key_type"], found["fingerprint"]) == ("publickey", "ssh-ed25519", ED25519_FP)
    assert found["methods"] == ["publickey"] and found["source"] == "ExposeAuthInfo"
    both = _ssh.parse_auth_info(f"password\npublickey {ED25519}\n")
    assert both["method"] == "publickey" and both["methods"] == ["password", "publickey"]
    assert _ssh.parse_auth_info("keyboard-interactive/pam\n")["method"] == "keyboard-interactive/pam"
    assert _ssh.parse_auth_info("") is None


@pytest.mark.parametrize(
    ("value", "used", "expected"),
    [
        ("any", ["publickey"], True),
        ("publickey", ["publickey"], True),
        ("publickey,password", ["publickey"], False),
        ("publickey,password publickey", ["publickey"], True),
        ("publickey,publickey", ["publickey"], False),
        ("publickey,publickey", ["publickey", "publickey"], True),
        ("keyboard-interactive:pam", ["password"], True),
        ("publickey", ["password"], False),
        ("publickey,password", ["password", "publickey"], True),
    ],
)
def test_authentication_methods_satisfied(value, used, expected):
    assert _ssh.authentication_methods_satisfied(value, used) is expected


@pytest.mark.parametrize(
    ("settings", "auth", "keys", "current", "expected"),
    [
        pytest.param(dict(HARDENED, maxsessions="0"), ED_SESSION, ED_KEYS, None, ["MaxSessions is 0"],
                     id="maxsessions-zero"),
        pytest.param(dict(HARDENED, maxsessions="1"), ED_SESSION, ED_KEYS, None, [], id="maxsessions-one"),
        pytest.param(dict(HARDENED, authenticationmethods="publickey,password"), ED_SESSION, ED_KEYS, None,
                     ["cannot satisfy the new AuthenticationMethods publickey,password"], id="auth-chain"),
        pytest.param(dict(HARDENED, authenticationmethods="publickey"), ED_SESSION, ED_KEYS, None, [],
                     id="auth-chain-satisfied"),
        pytest.param(HARDENED, {**ED_SESSION, "fingerprint": OTHER_ED_FP}, ED_KEYS, None,
                     [f"the key {OTHER_ED_FP} (ED25519), which is not in"], id="session-key-gone"),
        pytest.param(dict(HARDENED, authorizedkeyscommand="/usr/bin/keys %u"),
                     {**ED_SESSION, "fingerprint": OTHER_ED_FP}, ED_KEYS, None, [], id="session-key-from-a-command"),
        pytest.param(dict(HARDENED, pubkeyauthentication="no", passwordauthentication="yes"), ED_SESSION, ED_KEYS,
                     None, ["PubkeyAuthentication is no"], id="pubkey-off"),
        pytest.param(HARDENED, None, ED_KEYS, STOCK, ["cannot be told", "turns off password"],
                     id="unknown-method-passwords-go-off"),
        pytest.param(HARDENED, None, ED_KEYS, HARDENED, [], id="unknown-method-nothing-turned-off"),
        pytest.param(dict(STOCK, authenticationmethods="publickey"), None, ED_KEYS, STOCK,
                     ["AuthenticationMethods publickey"], id="unknown-method-chain-set"),
    ],
)  # fmt: skip
def test_session_reasons_issue19(settings, auth, keys, current, expected):
    reasons = _ssh.session_reasons(WHO, settings, auth, keys, current)
    if not expected:
        assert reasons == []
    else:
        assert len(reasons) == 1, reasons
        for text in expected:
            assert text in reasons[0], reasons[0]


@pytest.mark.parametrize(
    ("listen", "laddr", "refused"),
    [
        ([], "172.19.0.2", False),
        (["0.0.0.0:22"], "172.19.0.2", False),
        (["[::]:22"], "172.19.0.2", True),
        (["[::]:22", "0.0.0.0:22"], "172.19.0.2", False),
        (["127.0.0.1:22"], "172.19.0.2", True),
        (["172.19.0.2:2222"], "172.19.0.2", False),
        (["[fe80::1%eth0]:22"], "fe80::1", False),
        (["10.0.0.1:22 rdomain 1"], "10.0.0.1", False),
        (["127.0.0.1:22"], "", False),
    ],
)
def test_listen_reasons(listen, laddr, refused):
    reasons = _ssh.listen_reasons({"listenaddress": listen}, laddr)
    assert bool(reasons) is refused
    if refused:
        assert laddr in reasons[0] and "ListenAddress" in reasons[0]

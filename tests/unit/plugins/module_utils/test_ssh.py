# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _ssh

# Trimmed `sshd -T` output of a stock Debian 12 (OpenSSH 9.2p1) server.
DEBIAN12_DUMP = """\
port 22
addressfamily any
listenaddress [::]:22
listenaddress 0.0.0.0:22
usepam yes
permitrootlogin without-password
pubkeyauthentication yes
passwordauthentication yes
kbdinteractiveauthentication no
x11forwarding yes
usedns no
ciphers chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com
authorizedkeyscommand none
authorizedkeyscommanduser none
banner none
loglevel INFO
authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2
hostkey /etc/ssh/ssh_host_rsa_key
hostkey /etc/ssh/ssh_host_ecdsa_key
hostkey /etc/ssh/ssh_host_ed25519_key
acceptenv LANG
acceptenv LC_*
authenticationmethods any
subsystem sftp /usr/lib/openssh/sftp-server
rekeylimit 0 0
ipqos lowdelay throughput
permitopen any
"""

# A hardened server: keys only, two ports, user/group restrictions (one line per entry, as sshd prints them).
HARDENED_DUMP = """\
port 22
port 2222
permitrootlogin no
pubkeyauthentication yes
passwordauthentication no
kbdinteractiveauthentication no
authorizedkeysfile .ssh/authorized_keys /etc/ssh/authorized_keys/%u
allowusers alice
allowusers deploy@192.0.2.0/24
denyusers mallory
allowgroups ssh-users
denygroups nossh
hostkey /etc/ssh/ssh_host_ed25519_key
subsystem sftp internal-sftp
"""


# Verbatim `sshd -T -C user=deploy,host=192.0.2.10,addr=192.0.2.10` of Debian 12's sshd (9.2p1-2+deb12u10)
# for a config with `AllowUsers alice deploy@192.0.2.0/24`, keys only, and
# `Match Address 192.0.2.0/24` / `PasswordAuthentication yes`. The eight over-long
# algorithm-list lines (ciphers, macs, kexalgorithms, *algorithms) are left out.
REAL_MATCH_DUMP = """\
port 22
addressfamily any
listenaddress [::]:22
listenaddress 0.0.0.0:22
usepam no
logingracetime 120
x11displayoffset 10
maxauthtries 6
maxsessions 10
clientaliveinterval 0
clientalivecountmax 3
requiredrsasize 1024
streamlocalbindmask 0177
unusedconnectiontimeout none
permitrootlogin no
ignorerhosts yes
ignoreuserknownhosts no
hostbasedauthentication no
hostbasedusesnamefrompacketonly no
pubkeyauthentication yes
kerberosauthentication no
kerberosorlocalpasswd yes
kerberosticketcleanup yes
gssapiauthentication no
gssapicleanupcredentials yes
gssapikeyexchange no
gssapistrictacceptorcheck yes
gssapistorecredentialsonrekey no
passwordauthentication yes
kbdinteractiveauthentication no
printmotd yes
printlastlog yes
x11forwarding no
x11uselocalhost yes
permittty yes
permituserrc yes
strictmodes yes
tcpkeepalive yes
permitemptypasswords no
compression yes
gatewayports no
usedns no
allowtcpforwarding yes
allowagentforwarding yes
disableforwarding no
allowstreamlocalforwarding yes
streamlocalbindunlink no
fingerprinthash SHA256
exposeauthinfo no
pidfile /run/sshd.pid
modulifile /etc/ssh/moduli
xauthlocation /usr/bin/xauth
banner none
forcecommand none
chrootdirectory none
trustedusercakeys none
revokedkeys none
securitykeyprovider internal
authorizedprincipalsfile none
versionaddendum none
authorizedkeyscommand none
authorizedkeyscommanduser none
authorizedprincipalscommand none
authorizedprincipalscommanduser none
hostkeyagent none
loglevel INFO
syslogfacility AUTH
authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2
hostkey /x/cfg/host_ed25519
allowusers alice
allowusers deploy@192.0.2.0/24
acceptenv LANG
acceptenv LC_*
authenticationmethods any
subsystem sftp internal-sftp
maxstartups 10:30:100
persourcemaxstartups none
persourcenetblocksize 32:128
permittunnel no
ipqos lowdelay throughput
rekeylimit 0 0
permitopen any
permitlisten any
permituserenvironment no
pubkeyauthoptions none
"""


def test_parse_debian12_dump():
    settings = _ssh.parse_sshd_config_dump(DEBIAN12_DUMP)
    assert settings["port"] == ["22"]
    assert settings["listenaddress"] == ["[::]:22", "0.0.0.0:22"]
    assert settings["hostkey"] == [
        "/etc/ssh/ssh_host_rsa_key",
        "/etc/ssh/ssh_host_ecdsa_key",
        "/etc/ssh/ssh_host_ed25519_key",
    ]
    assert settings["authorizedkeysfile"] == [".ssh/authorized_keys", ".ssh/authorized_keys2"]
    assert settings["acceptenv"] == ["LANG", "LC_*"]
    assert settings["subsystem"] == ["sftp /usr/lib/openssh/sftp-server"]
    assert settings["permitopen"] == ["any"]
    assert settings["permitrootlogin"] == "without-password"
    assert settings["rekeylimit"] == "0 0"
    assert settings["ipqos"] == "lowdelay throughput"
    assert settings["ciphers"].startswith("chacha20-poly1305@openssh.com,")
    assert "allowusers" not in settings


def test_parse_repeated_and_odd_lines():
    settings = _ssh.parse_sshd_config_dump(
        "Port 22\nport 2222\n\nAllowUsers a b\nallowusers c@10.0.0.0/8\nbanner\nLogLevel VERBOSE\n"
    )
    assert settings == {
        "port": ["22", "2222"],
        "allowusers": ["a", "b", "c@10.0.0.0/8"],
        "banner": "",
        "loglevel": "VERBOSE",
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024", "OpenSSH_9.2p1"),
        (
            "unknown option -- V\nOpenSSH_8.4p1 Debian-5+deb11u3, OpenSSL 1.1.1w  11 Sep 2023\nusage: sshd",
            "OpenSSH_8.4p1",
        ),
        ("OpenSSH_10.0p2 Debian-7", "OpenSSH_10.0p2"),
        ("OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026", "OpenSSH_9.2"),  # Debian 12's `sshd -V`
        ("usage: sshd [-46DdeGiqTtV]", None),
        ("", None),
    ],
)
def test_find_openssh_version(text, expected):
    assert _ssh.find_openssh_version(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15", (9, 2)),
        ("OpenSSH_10.0p2", (10, 0)),
        ("OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026", (9, 2)),
        ("OpenSSH_7.4p1, OpenSSL 1.0.2k-fips", (7, 4)),
        ("OpenSSH_6.6.1p1 Ubuntu-2ubuntu2", (6, 6)),
        ("OpenSSH_for_Windows_9.5p1, LibreSSL 3.8.2", (9, 5)),
        ("9.9p1", (9, 9)),
        ("9.2", (9, 2)),
        ("9", None),
        ("9.2x", None),
        ("Dropbear_2022.83", None),
        (None, None),
    ],
)
def test_parse_openssh_version(text, expected):
    assert _ssh.parse_openssh_version(text) == expected


@pytest.mark.parametrize(
    "value, pattern, expected",
    [
        ("alice", "alice", True),
        ("alice", "al*", True),
        ("alice", "al?ce", True),
        ("alice", "a?", False),
        ("alice", "Alice", False),
        ("a.ice", "a.ice", True),
        ("alice", "a.ice", False),
        ("alice", "[a]lice", False),
        ("", "*", True),
    ],
)
def test_match_pattern(value, pattern, expected):
    assert _ssh.match_pattern(value, pattern) is expected


@pytest.mark.parametrize(
    "user, host, addr, pattern, expected",
    [
        ("deploy", "192.0.2.7", "192.0.2.7", "deploy", 1),
        ("deploy", "192.0.2.7", "192.0.2.7", "dep*", 1),
        ("deploy", "192.0.2.7", "192.0.2.7", "alice", 0),
        ("deploy", "192.0.2.7", "192.0.2.7", "deploy@192.0.2.0/24", 1),
        ("deploy", "198.51.100.1", "198.51.100.1", "deploy@192.0.2.0/24", 0),
        ("deploy", "192.0.2.7", "192.0.2.7", "deploy@192.0.2.*", 1),
        ("deploy", "bastion.example.org", "192.0.2.7", "deploy@*.EXAMPLE.org", 1),
        ("deploy", "bastion.example.org", "192.0.2.7", "deploy@192.0.2.0/24,!192.0.2.7", 0),
        ("deploy", "bastion.example.org", "192.0.2.7", "deploy@!bastion.example.org,192.0.2.0/24", 0),
        ("deploy", "2001:db8::5", "2001:db8::5", "deploy@2001:db8::/32", 1),
        ("alice", "192.0.2.7", "192.0.2.7", "deploy@192.0.2.0/24", 0),
        ("deploy", "192.0.2.7", "192.0.2.7", "deploy@192.0.2.1/24", -1),
        ("deploy", "192.0.2.7", "192.0.2.7", "de@ploy@192.0.2.7", 0),
    ],
)
def test_match_user(user, host, addr, pattern, expected):
    assert _ssh.match_user(user, host, addr, pattern) == expected


@pytest.mark.parametrize(
    "template, expected",
    [
        (".ssh/authorized_keys", "/home/deploy/.ssh/authorized_keys"),
        ("%h/.ssh/authorized_keys", "/home/deploy/.ssh/authorized_keys"),
        ("/etc/ssh/authorized_keys/%u", "/etc/ssh/authorized_keys/deploy"),
        ("/etc/ssh/keys/%U", "/etc/ssh/keys/1001"),
        ("/etc/ssh/100%%/%u", "/etc/ssh/100%/deploy"),
    ],
)
def test_expand_authorized_keys_path(template, expected):
    assert _ssh.expand_authorized_keys_path(template, "deploy", "/home/deploy", 1001) == expected


def test_expand_authorized_keys_path_rejects_unknown_token():
    with pytest.raises(ValueError, match="%x"):
        _ssh.expand_authorized_keys_path("/etc/ssh/%x", "deploy", "/home/deploy", 1001)


def test_authorized_keys_paths_drops_none_and_duplicates():
    settings = {"authorizedkeysfile": [".ssh/authorized_keys", "%h/.ssh/authorized_keys", "none"]}
    assert _ssh.authorized_keys_paths(settings, "deploy", "/home/deploy") == ["/home/deploy/.ssh/authorized_keys"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", 0),
        ("# only a comment\n\n", 0),
        ("ssh-ed25519 AAAA deploy@laptop\n", 1),
        ('  # comment\nssh-ed25519 AAAA a\nfrom="10.0.0.0/8" ssh-ed25519 AAAB b\n', 2),
        ("not a key at all\nssh-ed25519\n", 0),
    ],
)
def test_authorized_keys_count(text, expected):
    assert len(_ssh.parse_authorized_keys(text)) == expected


def _account(name="deploy", uid=1001, groups=("deploy", "ssh-users"), **extra):
    home = "/root" if name == "root" else f"/home/{name}"
    account = {"name": name, "exists": True, "uid": uid, "home": home, "groups": list(groups)}
    account.update(extra)
    return account


KEYS = {"/home/deploy/.ssh/authorized_keys": 1, "/root/.ssh/authorized_keys": 1, "/home/alice/.ssh/authorized_keys": 2}
HARDENED = _ssh.parse_sshd_config_dump(HARDENED_DUMP)
STOCK = _ssh.parse_sshd_config_dump(DEBIAN12_DUMP)


@pytest.mark.parametrize(
    "settings, account, addr, keys, reasons",
    [
        pytest.param(HARDENED, _account(), "192.0.2.10", KEYS, [], id="deploy-from-allowed-net"),
        pytest.param(
            HARDENED,
            _account(),
            "198.51.100.1",
            KEYS,
            ["account 'deploy' is not matched by AllowUsers (alice deploy@192.0.2.0/24)"],
            id="deploy-from-other-net",
        ),
        pytest.param(HARDENED, _account("alice", groups=("alice", "ssh-users")), "198.51.100.1", KEYS, [], id="alice"),
        pytest.param(
            HARDENED,
            _account("bob", groups=("bob", "ssh-users")),
            "192.0.2.10",
            {"/home/bob/.ssh/authorized_keys": 1},
            ["account 'bob' is not matched by AllowUsers (alice deploy@192.0.2.0/24)"],
            id="bob-not-allowed",
        ),
        pytest.param(
            dict(HARDENED, allowusers=["*"]),
            _account("mallory", groups=("mallory", "ssh-users")),
            "192.0.2.10",
            {"/home/mallory/.ssh/authorized_keys": 1},
            ["account 'mallory' is matched by DenyUsers pattern 'mallory'"],
            id="denyusers",
        ),
        pytest.param(
            HARDENED,
            _account(groups=("deploy",)),
            "192.0.2.10",
            KEYS,
            ["account 'deploy' (groups: deploy) is not matched by AllowGroups (ssh-users)"],
            id="not-in-allowgroups",
        ),
        pytest.param(
            HARDENED,
            _account(groups=("deploy", "ssh-users", "nossh")),
            "192.0.2.10",
            KEYS,
            ["account 'deploy' is in group 'nossh' matched by DenyGroups pattern 'nossh'"],
            id="denygroups",
        ),
        pytest.param(
            dict(HARDENED, allowgroups=["ssh-*"]), _account(), "192.0.2.10", KEYS, [], id="allowgroups-wildcard"
        ),
        pytest.param(
            HARDENED,
            _account(),
            "192.0.2.10",
            {"/home/deploy/.ssh/authorized_keys": 0},
            [
                (
                    "account 'deploy' has no authorized key in AuthorizedKeysFile "
                    "(/home/deploy/.ssh/authorized_keys /etc/ssh/authorized_keys/deploy) "
                    "and PasswordAuthentication and KbdInteractiveAuthentication are off"
                )
            ],
            id="no-key",
        ),
        pytest.param(
            HARDENED, _account(), "192.0.2.10", {"/etc/ssh/authorized_keys/deploy": 3}, [], id="key-in-central-file"
        ),
        pytest.param(
            dict(HARDENED, authorizedkeyscommand="/usr/bin/sss_ssh_authorizedkeys"),
            _account(),
            "192.0.2.10",
            {},
            [],
            id="authorizedkeyscommand",
        ),
        pytest.param(
            dict(HARDENED, pubkeyauthentication="no"),
            _account(),
            "192.0.2.10",
            KEYS,
            [
                (
                    "account 'deploy' cannot authenticate: PasswordAuthentication and KbdInteractiveAuthentication "
                    "are off and PubkeyAuthentication is no"
                )
            ],
            id="no-method-at-all",
        ),
        pytest.param(
            dict(HARDENED, passwordauthentication="yes"), _account(), "192.0.2.10", {}, [], id="password-no-key"
        ),
        pytest.param(
            HARDENED,
            {"name": "ghost", "exists": False},
            "192.0.2.10",
            KEYS,
            ["account 'ghost' does not exist"],
            id="no-such-account",
        ),
        pytest.param(
            dict(HARDENED, allowusers=[], allowgroups=[]),
            _account("root", uid=0, groups=("root",)),
            "192.0.2.10",
            KEYS,
            ["account 'root' is refused by PermitRootLogin no"],
            id="root-no",
        ),
        pytest.param(
            dict(STOCK, permitrootlogin="forced-commands-only"),
            _account("root", uid=0, groups=("root",)),
            "192.0.2.10",
            KEYS,
            ["account 'root' is refused by PermitRootLogin forced-commands-only"],
            id="root-forced-commands-only",
        ),
        pytest.param(
            STOCK,
            _account("root", uid=0, groups=("root",)),
            "192.0.2.10",
            {"/root/.ssh/authorized_keys": 1},
            [],
            id="root-prohibit-password-with-key",
        ),
        pytest.param(
            STOCK,
            _account("root", uid=0, groups=("root",)),
            "192.0.2.10",
            {},
            [
                (
                    "account 'root' has no authorized key in AuthorizedKeysFile "
                    "(/root/.ssh/authorized_keys /root/.ssh/authorized_keys2) and PermitRootLogin without-password"
                )
            ],
            id="root-prohibit-password-no-key",
        ),
        pytest.param(STOCK, _account(), "192.0.2.10", {}, [], id="stock-debian-password"),
        pytest.param(
            STOCK,
            _account(shell="/bin/nosuchshell", shell_ok=False),
            "192.0.2.10",
            {},
            ["account 'deploy' has shell /bin/nosuchshell which does not exist or is not executable"],
            id="bad-shell",
        ),
        pytest.param(
            dict(HARDENED, allowusers=["deploy@192.0.2.1/24"]),
            _account(),
            "192.0.2.10",
            KEYS,
            ["account 'deploy' is refused: invalid AllowUsers pattern 'deploy@192.0.2.1/24'"],
            id="invalid-cidr",
        ),
    ],
)
def test_check_access(settings, account, addr, keys, reasons):
    result = _ssh.check_access(settings, account, addr, addr, keys)
    assert result == {"user": account["name"], "allowed": not reasons, "reasons": reasons}


def test_check_access_collects_every_reason():
    account = _account("bob", groups=("bob", "nossh"))
    result = _ssh.check_access(HARDENED, account, "198.51.100.1", "198.51.100.1", {})
    assert result["allowed"] is False
    assert [reason.split(" ", 2)[2] for reason in result["reasons"]] == [
        "is not matched by AllowUsers (alice deploy@192.0.2.0/24)",
        "is in group 'nossh' matched by DenyGroups pattern 'nossh'",
        "(groups: bob, nossh) is not matched by AllowGroups (ssh-users)",
        (
            "has no authorized key in AuthorizedKeysFile (/home/bob/.ssh/authorized_keys /etc/ssh/authorized_keys/bob) "
            "and PasswordAuthentication and KbdInteractiveAuthentication are off"
        ),
    ]


def test_check_access_uses_host_name_for_user_at_host():
    settings = {"allowusers": ["deploy@*.example.org"], "passwordauthentication": "yes"}
    assert _ssh.check_access(settings, _account(), "bastion.example.org", "192.0.2.7")["allowed"] is True
    assert _ssh.check_access(settings, _account(), "192.0.2.7", "192.0.2.7")["allowed"] is False


def test_real_dump_with_match_block():
    settings = _ssh.parse_sshd_config_dump(REAL_MATCH_DUMP)
    assert len(settings) > 75
    assert settings["allowusers"] == ["alice", "deploy@192.0.2.0/24"]
    assert settings["listenaddress"] == ["[::]:22", "0.0.0.0:22"]
    assert settings["passwordauthentication"] == "yes"
    assert settings["rekeylimit"] == "0 0"
    account = _account(groups=("deploy",))
    assert _ssh.check_access(settings, account, "192.0.2.10", "192.0.2.10", {})["allowed"] is True

    outside = _ssh.parse_sshd_config_dump(
        REAL_MATCH_DUMP.replace("passwordauthentication yes", "passwordauthentication no")
    )
    result = _ssh.check_access(outside, account, "198.51.100.1", "198.51.100.1", {})
    assert result["allowed"] is False
    assert result["reasons"][0] == "account 'deploy' is not matched by AllowUsers (alice deploy@192.0.2.0/24)"
    assert result["reasons"][1].startswith("account 'deploy' has no authorized key in AuthorizedKeysFile")

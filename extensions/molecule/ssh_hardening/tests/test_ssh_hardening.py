"""ssh_hardening: prove the behaviour with the real OpenSSH client from the test controller."""

from __future__ import annotations

import subprocess

testinfra_hosts = ["all"]


def test_admin_logs_in_with_key(ssh):
    result = ssh("deploy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deploy"


def test_server_offers_public_keys_only(ssh):
    # With keys switched off on the client, the server's refusal names the methods it offers:
    # a stock Debian sshd (and the cloud-init drop-in) would offer "publickey,password".
    result = ssh(
        "deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"
    )
    assert result.returncode == 255
    assert "Permission denied (publickey)." in result.stderr


def test_root_login_refused_even_with_an_authorised_key(ssh):
    result = ssh("root")
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


def test_user_outside_allow_users_refused(ssh):
    result = ssh("alice")
    assert result.returncode == 255
    assert "Permission denied" in result.stderr


def test_banner_is_shown(ssh):
    result = ssh("deploy")
    assert "bulwark-test-banner" in result.stderr


def test_sftp_group_is_chrooted_and_gets_no_shell(ssh, sftp):
    # A shell command is replaced by internal-sftp: no "uploader" comes back from id.
    shell = ssh("uploader")
    assert "uploader" not in shell.stdout
    # SFTP works, and "/" is the chroot: only the fixture's incoming/ is there, no /etc.
    batch = "ls -1 /\nput /etc/hostname /incoming/hostname-copy\nls -1 /incoming\n"
    result = sftp("uploader", batch)
    assert result.returncode == 0, result.stderr
    listing = result.stdout.split()
    assert "/incoming" in listing
    assert "/etc" not in listing
    assert "hostname-copy" in result.stdout


def test_effective_config_overrides_cloud_init(host):
    assert host.file("/etc/ssh/sshd_config.d/50-cloud-init.conf").contains("PasswordAuthentication yes")
    effective = host.check_output("sshd -T -C user=deploy,host=client,addr=198.51.100.7")
    assert "passwordauthentication no" in effective
    assert "kbdinteractiveauthentication no" in effective
    assert "permitrootlogin no" in effective
    backup = host.check_output("sshd -T -C user=backup,host=client,addr=198.51.100.7")
    assert "forcecommand /usr/bin/false" in backup
    listed = host.check_output("sshd -T -C user=deploy,host=client,addr=192.0.2.5")
    assert "maxauthtries 2" in listed


def test_weak_algorithms_are_refused(ssh, host):
    # A client that insists on CBC, NIST-curve or SHA-1 key exchange, or SHA-1 RSA host keys gets nowhere.
    # (MACs are not negotiated with the AEAD ciphers the modern policy keeps, so they are checked in sshd -T.)
    for option in (
        "Ciphers=aes128-cbc",
        "KexAlgorithms=ecdh-sha2-nistp256,diffie-hellman-group14-sha1",
        "HostKeyAlgorithms=ssh-rsa,ecdsa-sha2-nistp256",
    ):
        result = ssh("deploy", "-o", option)
        assert result.returncode == 255, option
        assert "no matching" in result.stderr, (option, result.stderr)
    macs = host.check_output("sshd -T | sed -n 's/^macs //p'").split(",")
    assert macs
    assert all(mac.endswith("-etm@openssh.com") for mac in macs), macs


def test_only_ed25519_and_strong_rsa_host_keys_offered(address):
    def scan(key_type: str) -> str:
        argv = ["ssh-keyscan", "-T", "10", "-t", key_type, address]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False).stdout

    assert "ssh-ed25519" in scan("ed25519")
    assert scan("ecdsa").strip() == ""
    rsa = scan("rsa")
    assert "ssh-rsa" in rsa
    bits = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=rsa, capture_output=True, text=True, check=True)
    assert int(bits.stdout.split()[0]) >= 3072


def test_short_moduli_removed(host):
    sizes = [
        int(line.split()[4]) for line in host.file("/etc/ssh/moduli").content_string.splitlines() if line[:1].isdigit()
    ]
    assert sizes
    assert min(sizes) + 1 >= 3072


def test_previous_config_was_backed_up(host):
    backups = host.check_output("ls /etc/ssh/ | grep -c '^sshd_config\\..*~$' || true")
    assert int(backups) >= 1


def test_sshd_enabled_and_running(host):
    service = host.service("ssh")
    assert service.is_enabled
    assert service.is_running

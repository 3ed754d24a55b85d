"""ssh_hardening: prove the behaviour with the real OpenSSH client from the test controller."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

testinfra_hosts = ["all"]

HARDENED_COPY = "/root/sshd_config.hardened"


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
    # uploader authenticates (the client logs "Authenticated to"), and the command it asks for is
    # replaced by internal-sftp: no "uploader" comes back from id. A refused login fails here.
    shell = ssh("uploader", "-n", "-v")
    assert "Authenticated to" in shell.stderr, shell.stderr
    assert "uploader" not in shell.stdout
    # The same login for an account without ForceCommand does run the command (the check can fail).
    control = ssh("deploy", "-n", "-v")
    assert "Authenticated to" in control.stderr
    assert control.stdout.strip() == "deploy"
    # SFTP works, and "/" is the chroot: only the fixture's incoming/ is there, no /etc.
    batch = "ls -1 /\nput /etc/hostname /incoming/hostname-copy\nls -1 /incoming\n"
    result = sftp("uploader", batch)
    assert result.returncode == 0, result.stderr
    listing = result.stdout.split()
    assert "/incoming" in listing
    assert "/etc" not in listing
    assert "hostname-copy" in result.stdout


def test_sshd_files_and_host_keys_are_roots_alone(host):
    # CIS 5.1.1-5.1.3 on the files the role owns; the prepare step left sshd_config readable by all.
    config = host.file("/etc/ssh/sshd_config")
    config = host.file(config.linked_to) if config.is_symlink else config
    checked = {config.path: 0o600}
    for key in host.check_output("ls /etc/ssh/ssh_host_*_key").split():
        checked[key] = 0o600
        checked[key + ".pub"] = 0o644
    for path, ceiling in checked.items():
        file = host.file(path)
        assert (file.user, file.group) == ("root", "root"), path
        assert file.mode & ~ceiling == 0, f"{path} is {file.mode:04o}, more than {ceiling:04o}"
    # Nobody but root reads a private key or the configuration: prove it as another user.
    assert host.run("runuser -u nobody -- cat /etc/ssh/sshd_config").rc != 0
    assert host.run("runuser -u nobody -- cat /etc/ssh/ssh_host_ed25519_key").rc != 0
    # cloud-init's drop-in is cloud-init's: left as it wrote it.
    assert host.file("/etc/ssh/sshd_config.d/50-cloud-init.conf").mode == 0o644


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


def test_symlinked_sshd_config_is_followed(host):
    # Debian 12's fixture keeps sshd_config behind a symlink: it must still be one, pointing at
    # the hardened file (a plain file in its place would break the admin's own setup).
    config = host.file("/etc/ssh/sshd_config")
    if host.backend.get_hostname().endswith("bookworm"):
        assert config.is_symlink
        assert config.linked_to == "/etc/ssh/sshd_config.real"
        assert host.file("/etc/ssh/sshd_config.real").contains("^PasswordAuthentication no")
    else:
        assert not config.is_symlink
        assert config.contains("^PasswordAuthentication no")


def test_pq_policy_passes_ssh_audit(address):
    # ssh-audit from the controller: no failure and no warning (curve25519-sha256 alone would warn).
    argv = [str(Path(sys.executable).parent / "ssh-audit"), "--skip-rate-test", "-j", address]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    report = json.loads(result.stdout)
    flagged = [
        (kind, item["algorithm"], item.get("notes", {}))
        for kind in ("kex", "key", "enc", "mac")
        for item in report[kind]
        if item.get("notes", {}).get("fail") or item.get("notes", {}).get("warn")
    ]
    assert flagged == []
    assert report["cves"] == []
    assert result.returncode == 0, result.stdout[-2000:]
    kex = [item["algorithm"] for item in report["kex"]]
    assert "curve25519-sha256" not in kex
    assert any(name.startswith(("sntrup761x25519", "mlkem768x25519")) for name in kex), kex


def _offered_rsa_key(address):
    scan = subprocess.run(
        ["ssh-keyscan", "-T", "10", "-t", "rsa", address], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    listed = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=scan, capture_output=True, text=True, check=True)
    bits, fingerprint = listed.stdout.split()[:2]
    return int(bits), fingerprint


def test_lost_reload_is_noticed_and_repaired(host, ssh, address, play):
    # A reload lost to a failure: the hardened file is on disk, the daemon runs a weak one that
    # offers passwords, and a short RSA host key replaced the strong one while sshd_config stayed.
    with host.sudo():
        host.check_output(f"cp /etc/ssh/sshd_config {HARDENED_COPY}")
        host.check_output(
            "printf 'Include /etc/ssh/sshd_config.d/*.conf\\nPasswordAuthentication yes\\n"
            "KbdInteractiveAuthentication no\\nUsePAM yes\\n'"
            " > /etc/ssh/sshd_config && systemctl restart ssh && sleep 1"
        )
        host.check_output(f"cp {HARDENED_COPY} /etc/ssh/sshd_config")
        host.check_output(
            "rm -f /etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_rsa_key.pub"
            " && ssh-keygen -q -N '' -t rsa -b 1024 -f /etc/ssh/ssh_host_rsa_key"
        )
    stale = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "Permission denied (publickey,password)." in stale.stderr, "fixture: the daemon should be stale"

    # The drift check sees it: the running daemon and the short key, though the file is compliant.
    result, drift = play(check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    drifted = [item["task"] for item in drift["drift"]]
    assert any(task.startswith("Keep strong host keys") for task in drifted), drifted
    assert any(task.startswith("Keep sshd enabled and running") for task in drifted), drifted

    # A rerun repairs it: passwords are no longer offered, and the key served is the one on disk.
    result, _drift = play(check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    fresh = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "Permission denied (publickey)." in fresh.stderr, fresh.stderr
    bits, fingerprint = _offered_rsa_key(address)
    assert bits >= 3072
    with host.sudo():
        on_disk = host.check_output("ssh-keygen -l -f /etc/ssh/ssh_host_rsa_key.pub").split()[1]
    assert fingerprint == on_disk


def test_lost_reload_with_the_old_mtime_put_back_is_noticed_and_repaired(host, ssh, play):
    # A run killed between writing sshd_config and reloading sshd, seen from the disk: the weak
    # file was loaded by a real reload, then the hardened file put back with its old modification
    # time (cp -p), so no file is newer than the daemon's last "Server listening on" line.
    with host.sudo():
        host.check_output(f"cp -p /etc/ssh/sshd_config {HARDENED_COPY}")
        host.check_output(
            "printf 'Include /etc/ssh/sshd_config.d/*.conf\\nPasswordAuthentication yes\\n"
            "KbdInteractiveAuthentication no\\nUsePAM yes\\n'"
            " > /etc/ssh/sshd_config && systemctl reload ssh && sleep 1"
        )
        host.check_output(f"cp -p {HARDENED_COPY} /etc/ssh/sshd_config")
    stale = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "Permission denied (publickey,password)." in stale.stderr, "fixture: the daemon should be stale"

    result, drift = play(check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    drifted = [item["task"] for item in drift["drift"]]
    assert any(task.startswith("Keep sshd enabled and running") for task in drifted), drifted

    result, _drift = play(check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    fresh = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "Permission denied (publickey)." in fresh.stderr, fresh.stderr


def test_a_daemon_offering_what_its_files_do_not_is_drift_and_reloaded(host, ssh, play):
    # sshd made to reload a weak file behind systemd's back (SIGHUP to the daemon, not systemctl
    # reload: on Debian 12 systemd sees no reload), then the hardened file put back with its old
    # mtime: the files and the record of what sshd loaded agree, only the running daemon differs.
    # The drift check asks the daemon itself what it offers.
    with host.sudo():
        host.check_output(f"cp -p /etc/ssh/sshd_config {HARDENED_COPY}")
        host.check_output(
            "printf 'Include /etc/ssh/sshd_config.d/*.conf\\nPasswordAuthentication yes\\n"
            "KbdInteractiveAuthentication no\\nUsePAM yes\\nCiphers aes256-gcm@openssh.com,aes128-ctr\\n'"
            " > /etc/ssh/sshd_config && kill -HUP $(systemctl show -p MainPID --value ssh) && sleep 2"
        )
        host.check_output(f"cp -p {HARDENED_COPY} /etc/ssh/sshd_config")
    stale = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "Permission denied (publickey,password)." in stale.stderr, "fixture: the daemon should offer passwords"

    result, drift = play(check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert sorted(key for key, entry in drift["controls"].items() if entry["status"] == "drift") == ["SSH-SERVICE"]
    found = " ".join(drift["controls"]["SSH-SERVICE"]["found"])
    assert "the running sshd offers password that its files do not" in found, found
    assert "offers aes128-ctr that its files do not" in found, found

    result, _drift = play(check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    fresh = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "Permission denied (publickey)." in fresh.stderr, fresh.stderr
    result, drift = play(check=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert drift["drift"] == [], drift["drift"]


def test_match_all_drop_in_reopening_passwords_is_drift_and_refused(host, play):
    # A drop-in whose "Match all" turns passwords back on beats every global setting: check mode
    # names it as SSH-CONFIG's drift (the Match line, its file and the keyword), and a run refuses.
    drop_in = "/etc/ssh/sshd_config.d/zz-reopen.conf"
    with host.sudo():
        before = host.check_output("sha256sum /etc/ssh/sshd_config")
        host.check_output(f"printf 'Match all\\n    PasswordAuthentication yes\\n' > {drop_in}")
    try:
        checked, drift = play(check=True)
        assert checked.returncode == 0, checked.stdout[-3000:]
        # sshd has not loaded the new drop-in yet: SSH-SERVICE names it.
        drifted = sorted(key for key, entry in drift["controls"].items() if entry["status"] == "drift")
        assert drifted == ["SSH-CONFIG", "SSH-SERVICE"], drifted
        found = " ".join(drift["controls"]["SSH-CONFIG"]["found"])
        for text in ("Match all", drop_in, "PasswordAuthentication is yes, expected no"):
            assert text in found, (text, found)
        service = drift["controls"]["SSH-SERVICE"]["found"]
        assert any(line.startswith(f"{drop_in} ") for line in service), service
        ran, _drift = play(check=False)
        assert ran.returncode != 0
        output = ran.stdout + ran.stderr  # failures go to stderr where display_failed_stderr is set
        for text in ("Match all", drop_in, "PasswordAuthentication is yes, expected no"):
            assert text in output, (text, output[-3000:])
    finally:
        with host.sudo():
            host.check_output(f"rm -f {drop_in}")
    with host.sudo():
        assert host.check_output("sha256sum /etc/ssh/sshd_config") == before

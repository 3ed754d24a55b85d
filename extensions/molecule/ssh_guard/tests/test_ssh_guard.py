"""After the guard fired, the admin still logs in exactly as before."""

from __future__ import annotations

testinfra_hosts = ["all"]


def test_admin_still_logs_in(ssh):
    result = ssh("deploy")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deploy"


def test_sshd_config_is_still_debians(host):
    config = host.file("/etc/ssh/sshd_config")
    assert not config.contains("bulwark")
    assert host.run("ls /etc/ssh/sshd_config.*~").rc != 0, "no backup: nothing was replaced"


def test_stock_password_login_still_offered(ssh):
    # Proves the old configuration is live: the stock server (plus cloud-init drop-in) offers passwords.
    result = ssh("deploy", "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password")
    assert "password" in result.stderr or "Permission denied" in result.stderr
    assert "Permission denied (publickey)." not in result.stderr

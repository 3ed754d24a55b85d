"""The immutable role: root cannot change the locked application, the web user can write where
declared, Apache serves it, apt still updates locked package files, drift is reported by path."""

import json

import pytest

APP = "/var/www/app"
LOCKED_FILE = f"{APP}/lib/config.php"
WRITABLE = ["log", "imports", "temp", "upload"]
DENIED = "Operation not permitted"
# Playbook-driven tests (drift, update window, refusals) run on Debian 12 only: each one is a
# whole ansible-playbook run, and the walk and the role do not differ between releases.
ONE_HOST = "immutable-bookworm"
# Flags of the application tree and mode/owner of the ramfs file: "nothing changed".
STATE = "lsattr -R %s 2>/dev/null | sort; stat -c '%%n %%a %%U' /mnt/noflags/index.html"


def test_declared_owners_and_modes(host):
    for path, mode in [(APP, 0o550), (f"{APP}/lib", 0o550), (LOCKED_FILE, 0o440), (f"{APP}/bin/cron.sh", 0o550)]:
        f = host.file(path)
        assert (f.user, f.group, f.mode) == ("www-data", "www-data", mode), path
    for name in WRITABLE:
        f = host.file(f"{APP}/{name}")
        assert f.is_directory
        assert (f.user, f.group, f.mode) == ("www-data", "www-data", 0o770), name


@pytest.mark.parametrize(
    "command",
    [
        "echo x > {f}",  # write
        "echo x >> {f}",  # append
        "truncate -s 0 {f}",
        "rm -f {f}",
        "mv {f} {f}.moved",
        "chmod 0666 {f}",
        "chown root {f}",
        "touch {d}/new-file",  # create in a locked directory
        "ln {f} {d}/hardlink",
        "rmdir {APP}/lib",
    ],
)
def test_root_cannot_change_the_locked_application(host, command, flags):
    before = host.file(LOCKED_FILE).content_string
    cmd = host.run("sh -c %s", command.format(f=LOCKED_FILE, d=f"{APP}/lib", APP=APP))
    assert host.check_output("id -u") == "0"
    assert cmd.rc != 0
    assert DENIED in cmd.stderr
    assert host.file(LOCKED_FILE).content_string == before
    assert not host.file(f"{APP}/lib/new-file").exists
    assert "i" in flags(LOCKED_FILE)


def test_web_user_writes_in_each_writable_directory_only(host, flags):
    for name in WRITABLE:
        probe = f"{APP}/{name}/probe"
        cmd = host.run("runuser -u www-data -- sh -c %s", f"echo ok > {probe} && cat {probe} && rm {probe}")
        assert cmd.rc == 0 and cmd.stdout.strip() == "ok", (name, cmd.stderr)
        assert "i" not in flags(f"{APP}/{name}")
    # What is below a writable directory is never locked (log/app.log, root's, stays as it was);
    # the web root itself is not writable for the web user.
    assert "i" not in flags(f"{APP}/log/app.log")
    assert host.run("sh -c 'echo more >> %s/log/app.log'", APP).rc == 0
    assert host.run("runuser -u www-data -- touch %s/new-file", APP).rc != 0


def test_apache_serves_the_locked_application(host):
    assert host.check_output("curl -sS --max-time 5 http://127.0.0.1/index.html") == "bulwark immutable app"


def test_the_bracketed_role_rewrote_a_locked_config_and_locked_it_again(host, flags):
    # prepare.yml locked "written by hand"; the converge's copy task replaced it in the bracket.
    assert host.file("/etc/bulwark-fixture/app.conf").content_string == "managed by the site playbook\n"
    assert "i" in flags("/etc/bulwark-fixture/app.conf")
    assert "i" in flags("/etc/apache2/apache2.conf")


def test_apt_reinstall_of_a_locked_package_file_succeeds_and_relocks(host, flags):
    assert "i" in flags("/etc/apache2/apache2.conf")
    cmd = host.run("DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall apache2 2>&1")
    assert cmd.rc == 0, cmd.stdout[-2000:]
    assert "unlocked /etc/apache2 for dpkg" in cmd.stdout
    assert "locked /etc/apache2 again" in cmd.stdout
    # The application tree belongs to no package: dpkg never unlocks it.
    assert APP not in cmd.stdout
    for path in ["/etc/apache2", "/etc/apache2/apache2.conf", "/etc/apache2/mods-available/ssl.conf", LOCKED_FILE]:
        assert "i" in flags(path), path
    assert host.run("echo x >> /etc/apache2/apache2.conf").rc != 0
    assert not host.file("/var/lib/bulwark-immutable/dpkg-unlocked.json").exists


def one_host_only(host):
    if host.backend.get_hostname() != ONE_HOST:
        pytest.skip(f"playbook-driven test, run on {ONE_HOST} only")


def test_manual_unlock_is_drift_by_path_and_converge_relocks(host, flags, playbook, check_run):
    one_host_only(host)
    name = host.backend.get_hostname()
    target = f"{APP}/index.html"
    host.run_test("chattr -i %s", target)
    assert "i" not in flags(target)
    run, report = check_run()
    drift = report[name]["drift"]
    # One task drifted; its --diff output names exactly that path.
    assert len(drift) == 1, drift
    assert f"-{target}: unlocked" in run.stdout
    assert f"+{target}: locked" in run.stdout
    assert len([line for line in run.stdout.splitlines() if line.startswith(f"+{APP}")]) == 1
    playbook("extensions/molecule/immutable/converge.yml")
    assert "i" in flags(target)


def test_update_window_with_the_unlock_and_lock_playbooks(host, flags, playbook):
    one_host_only(host)
    new = f"{APP}/lib/new.php"
    playbook("playbooks/unlock.yml")
    assert "i" not in flags(LOCKED_FILE)
    host.run_test("sh -c %s", f"echo '<?php echo 2;' > {new} && echo '<?php $db = 2;' > {LOCKED_FILE}")
    playbook("playbooks/lock.yml")
    for path in [new, LOCKED_FILE, APP]:
        assert "i" in flags(path), path
    f = host.file(new)
    assert (f.user, f.group, f.mode) == ("www-data", "www-data", 0o440)
    assert host.run("rm -f %s", new).rc != 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"path": "/mnt/noflags"}, "/mnt/noflags: the file system does not support the immutable"),
        ({"path": "/srv/missing"}, "/srv/missing: no such file or directory"),
        ({"path": APP, "state": "unlocked", "exclude": ["/etc/passwd"]}, "exclude entry /etc/passwd is outside"),
        ({"path": APP, "state": "unlocked", "exclude": ["../html"]}, "exclude entry ../html is outside"),
    ],
)
def test_module_refuses_bad_input_by_name_and_changes_nothing(host, module, flags, args, message):
    before = host.check_output(STATE, APP)
    result = module(**args)
    assert message in result.get("msg", ""), result
    assert result["changed"] is False
    assert host.check_output(STATE, APP) == before


def test_role_refuses_paths_apt_or_the_kernel_need(host, playbook, flags):
    one_host_only(host)
    paths = ["/var/lib/dpkg", "/run/app", "/var/cache", "/"]
    result = playbook("playbooks/lock.yml", "-e", json.dumps({"immutable_paths": paths}), check_rc=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for path in paths:
        assert f"immutable: '{path}' in immutable_trees (path) or immutable_paths is, contains" in output, path
    assert "i" not in flags("/var/cache")

"""php_hardening, seen through Apache from a second container: the ini PHP really uses, exec
refused, files outside open_basedir unreadable, xdebug gone, session cookies flagged."""

from __future__ import annotations

import json
import os
import re

import pytest

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGETS = ["php_hardening-bookworm", "php_hardening-trixie", "php_hardening-fpm"]
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}" for name in TARGETS]

# What each target is (prepare.yml, molecule.yml).
EXPECTED = {
    "php_hardening-bookworm": {"sapi": "apache2handler", "version": "8.2", "secure": True},
    "php_hardening-trixie": {"sapi": "apache2handler", "version": "8.4", "secure": False},
    "php_hardening-fpm": {"sapi": "fpm-fcgi", "version": "8.4", "secure": True},
}
MOD_PHP_BASEDIR = "/var/www:/tmp:/var/lib/php/sessions:/usr/share/php"
POOL_BASEDIR = "/var/www/html:/tmp:/var/lib/php/sessions"
INI = "/etc/php/{version}/{sapi}/conf.d/99-bulwark-hardening.ini"


def name_of(host):
    return host.backend.get_hostname()


def ini_path(host):
    want = EXPECTED[name_of(host)]
    return INI.format(version=want["version"], sapi="fpm" if want["sapi"] == "fpm-fcgi" else "apache2")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_php_runs_with_the_hardened_ini(host, probe, scheme):
    report = probe(name_of(host), scheme)
    want = EXPECTED[name_of(host)]
    assert (report["sapi"], report["version"]) == (want["sapi"], want["version"])
    ini = report["ini"]
    # ini_get gives "" for Off and "1" for On.
    for off in (
        "expose_php",
        "display_errors",
        "display_startup_errors",
        "allow_url_include",
        "allow_url_fopen",
        "enable_dl",
    ):
        assert ini[off] in ("", "0"), (off, ini[off])
    assert ini["log_errors"] == "1"
    assert {"exec", "passthru", "shell_exec", "system", "proc_open", "popen", "pcntl_exec"} <= set(
        ini["disable_functions"].split(",")
    )
    for on in ("session.use_strict_mode", "session.cookie_httponly", "session.use_only_cookies"):
        assert ini[on] == "1", on
    assert ini["session.cookie_samesite"] == "Lax"
    assert ini["session.cookie_secure"] == ("1" if want["secure"] else "")
    assert ini["session.name"] == "SESSID"
    assert (ini["upload_max_filesize"], ini["post_max_size"], ini["max_execution_time"]) == ("2M", "8M", "30")
    if want["sapi"] == "fpm-fcgi":
        # The pool's own php_admin_value lines win over the ini, and the role kept them.
        assert ini["open_basedir"] == POOL_BASEDIR
        assert ini["memory_limit"] == "96M"
    else:
        assert ini["open_basedir"] == MOD_PHP_BASEDIR
        assert ini["memory_limit"] == "128M"


def test_exec_is_gone_and_files_outside_open_basedir_are_unreadable(host, probe):
    report = probe(name_of(host))
    assert report["exec_exists"] is False
    assert "undefined function exec()" in report["exec_call"]
    assert report["read_outside"] is False
    # The same read works for PHP's CLI, which the role leaves alone: the refusal is open_basedir's.
    assert host.run("php -r 'exit(file_get_contents(\"/etc/hostname\") === false ? 1 : 0);'").rc == 0


def test_xdebug_and_ffi_are_off_and_mysqlnd_stays_for_mysqli(host, probe):
    report = probe(name_of(host))
    assert report["xdebug"] is False
    assert report["ffi"] is False
    # mysqlnd was asked to go, but mysqli and pdo_mysql need it: reported, not broken.
    assert report["mysqlnd"] is True
    assert report["mysqli"] is True


def test_no_php_version_in_the_headers(host, fetch):
    _status, headers, _body = fetch(name_of(host), "/probe.php")
    assert "x-powered-by" not in {name.lower() for name, _value in headers}


def cookies(headers):
    return [value for name, value in headers if name.lower() == "set-cookie"]


def test_session_cookie_carries_httponly_samesite_and_secure_over_tls(host, fetch):
    status, headers, body = fetch(name_of(host), "/session.php", "https")
    assert status == 200
    assert body.strip() == "SESSID 1"
    (cookie,) = cookies(headers)
    attrs = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert cookie.startswith("SESSID=")
    assert "httponly" in attrs
    assert re.search(r";\s*SameSite=Lax\b", cookie, re.I)
    assert ("secure" in attrs) is EXPECTED[name_of(host)]["secure"]


def test_strict_mode_refuses_a_session_id_the_client_made_up(host, fetch):
    _status, headers, body = fetch(name_of(host), "/session.php", "https", cookie="SESSID=attackerchosenid1234567")
    # A fresh session: the counter starts again and the server hands out its own ID.
    assert body.strip() == "SESSID 1"
    (cookie,) = cookies(headers)
    assert "attackerchosenid1234567" not in cookie


def test_the_ini_is_a_plain_root_owned_file(host):
    ini = host.file(ini_path(host))
    assert ini.is_file and not ini.is_symlink
    assert (ini.user, ini.group, ini.mode) == ("root", "root", 0o644)
    assert not re.search(r"^\s*session\.sid_(length|bits_per_character)\s*=", ini.content_string, re.M)


@pytest.fixture
def drifted(inventory_host):
    """A hand-edited ini on the bookworm host and xdebug enabled again on the FPM host."""
    book, fpm = inventory_host("php_hardening-bookworm"), inventory_host("php_hardening-fpm")
    path = INI.format(version="8.2", sapi="apache2")
    book.check_output(f"cp -p {path} /root/ini.saved && echo 'allow_url_fopen = On' >> {path}")
    fpm.check_output("phpenmod -v 8.4 -s fpm xdebug")
    yield
    book.check_output(f"cp -p /root/ini.saved {path}")
    fpm.check_output("phpdismod -v 8.4 -s fpm xdebug")


def test_check_mode_reports_hand_edits_and_changes_nothing(drifted, check_run, inventory_host):
    _run, report = check_run()
    tasks = {name: [d["task"] for d in report[name]["drift"]] for name in TARGETS}
    assert any("hardening ini" in t for t in tasks["php_hardening-bookworm"]), tasks
    assert any("Disable xdebug" in t for t in tasks["php_hardening-fpm"]), tasks
    assert tasks["php_hardening-trixie"] == [], tasks
    # Nothing was changed: the edit and the module are still there.
    assert (
        "allow_url_fopen = On"
        in inventory_host("php_hardening-bookworm").file(INI.format(version="8.2", sapi="apache2")).content_string
    )
    assert inventory_host("php_hardening-fpm").file("/etc/php/8.4/fpm/conf.d/20-xdebug.ini").is_symlink


def test_a_value_that_would_break_the_ini_is_refused_by_name(playbook, inventory_host):
    host = inventory_host("php_hardening-trixie")
    before = host.file(INI.format(version="8.4", sapi="apache2")).sha256sum
    rc, out = playbook(
        "--limit", "php_hardening-trixie", "-e", json.dumps({"php_hardening_open_basedir": ['/var/www";evil=1']})
    )
    assert rc != 0
    assert "php_hardening_open_basedir[0]: '/var/www\";evil=1' contains '\"'" in out, out[-3000:]
    assert host.file(INI.format(version="8.4", sapi="apache2")).sha256sum == before


def test_an_ini_php_rejects_never_replaces_the_good_one(playbook, inventory_host, probe):
    host = inventory_host("php_hardening-fpm")
    path = INI.format(version="8.4", sapi="fpm")
    before = host.file(path).sha256sum
    rc, out = playbook(
        "--limit",
        "php_hardening-fpm",
        "-e",
        json.dumps({"php_hardening_ini_extra": {"extension": "bulwark_missing.so"}}),
    )
    assert rc != 0
    # PHP's own complaint, from the validate step.
    assert "failed to validate" in out, out[-3000:]
    assert "Unable to load dynamic library 'bulwark_missing.so'" in out, out[-3000:]
    assert host.file(path).sha256sum == before
    # FPM still serves with the hardened settings.
    assert probe("php_hardening-fpm", fresh=True)["exec_exists"] is False


LOST_RELOAD = {"php_hardening-bookworm": "apache2", "php_hardening-fpm": "php8.4-fpm"}


@pytest.fixture(scope="module")
def killed_run(inventory_host, probe, check_run, converge_run, wait_for):
    """What a run killed between writing the ini and reloading leaves, under mod_php and under FPM:
    the daemon runs a weaker ini (allow_url_fopen On, loaded by a real reload) while the hardened
    ini is back on disk with its old modification time (cp -p). Then a check run and a real run."""
    state = {"weak": {}, "after": {}}
    for name, unit in LOST_RELOAD.items():
        host = inventory_host(name)
        path = ini_path(host)
        host.check_output(
            f"cp -p {path} /root/ini.hardened && sed -i 's/^allow_url_fopen = .*/allow_url_fopen = On/' {path}"
            f" && systemctl reload {unit}"
        )
        # A graceful reload returns before the workers have read the ini: wait until the weak one serves.
        wait_for(lambda name=name: probe(name, fresh=True)["ini"]["allow_url_fopen"] == "1", 20, 0.5)
        host.check_output(f"cp -p /root/ini.hardened {path}")
        state["weak"][name] = probe(name, fresh=True)["ini"]["allow_url_fopen"]
    state["check"], state["report"] = check_run()
    state["converge"] = converge_run()
    for name in LOST_RELOAD:
        state["after"][name] = probe(name, fresh=True)["ini"]["allow_url_fopen"]
    return state


def test_a_lost_reload_is_drift_in_check_mode_and_reloaded_by_the_next_run(host, killed_run):
    name = name_of(host)
    if name not in LOST_RELOAD:
        pytest.skip("one mod_php host and the FPM host are enough")
    # The fixture really put the weak ini live with the hardened file back on disk ...
    assert killed_run["weak"][name] == "1"
    # ... the next run reloads the daemon, and check mode called the PHP service control drift.
    assert killed_run["after"][name] in ("", "0")
    assert killed_run["report"][name]["controls"].get("PHP-SERVICE", {}).get("status") == "drift"


# A later conf.d ini (read after 99-bulwark-hardening.ini) per SAPI: under mod_php it empties
# disable_functions, under FPM it turns expose_php back on; each daemon reloaded, so that the
# running PHP uses it and only the ini (not the service) has drifted.
LATER = {
    "php_hardening-bookworm": ("/etc/php/8.2/apache2/conf.d/99-zz-local.ini", "disable_functions =", "apache2"),
    "php_hardening-fpm": ("/etc/php/8.4/fpm/conf.d/99-zz-local.ini", "expose_php = On", "php8.4-fpm"),
}


@pytest.fixture(scope="module")
def later_ini(inventory_host, probe, check_run, playbook, wait_for):
    state = {"live": {}, "sha": {}}
    for name, (path, line, unit) in LATER.items():
        host = inventory_host(name)
        host.check_output(f"printf '; a local override\\n{line}\\n' > {path} && systemctl reload {unit}")
        state["sha"][name] = host.file(ini_path(host)).sha256sum
    # The overrides are really in effect in the running PHP.
    wait_for(lambda: probe("php_hardening-bookworm", fresh=True)["exec_exists"] is True, 20, 0.5)
    wait_for(lambda: probe("php_hardening-fpm", fresh=True)["ini"]["expose_php"] == "1", 20, 0.5)
    state["live"] = {name: probe(name, fresh=True) for name in LATER}
    state["check"], state["report"] = check_run()
    state["repair"] = playbook("--limit", ",".join(LATER))
    yield state
    for name, (path, _line, unit) in LATER.items():
        inventory_host(name).run(f"rm -f {path} /etc/php/*/*/conf.d/99-zz-same.ini; systemctl reload {unit}")


def test_a_later_ini_is_really_in_effect(later_ini):
    assert later_ini["live"]["php_hardening-bookworm"]["exec_exists"] is True
    assert later_ini["live"]["php_hardening-fpm"]["ini"]["expose_php"] == "1"


def test_check_mode_names_the_later_ini_and_its_setting_as_ini_drift(later_ini):
    report = later_ini["report"]
    for name, (path, line, _unit) in LATER.items():
        controls = report[name]["controls"]
        assert sorted(key for key, entry in controls.items() if entry["status"] == "drift") == ["PHP-INI"], controls
        found = " ".join(controls["PHP-INI"]["found"])
        assert f"{path}:2 sets {line.split()[0]} = " in found, found
    assert report["php_hardening-trixie"]["drift"] == []


def test_a_real_run_refuses_naming_the_file_and_writes_nothing(later_ini, inventory_host):
    rc, out = later_ini["repair"]
    assert rc != 0
    assert "php_hardening refused to change anything: a later ini overrides the hardening" in out, out[-3000:]
    for name, (path, line, _unit) in LATER.items():
        assert f"{path}:2 sets {line.split()[0]} = " in out
        host = inventory_host(name)
        assert host.file(ini_path(host)).sha256sum == later_ini["sha"][name]


def test_without_the_later_ini_and_with_one_that_repeats_our_values_there_is_no_drift(
    later_ini, inventory_host, probe, check_run, wait_for
):
    for name, (path, _line, unit) in LATER.items():
        same = path.replace("99-zz-local.ini", "99-zz-same.ini")
        inventory_host(name).check_output(
            f"rm {path} && printf 'expose_php = Off\\nsession.use_strict_mode = On\\n' > {same}"
            f" && systemctl reload {unit}"
        )
    assert wait_for(lambda: probe("php_hardening-bookworm", fresh=True)["exec_exists"] is False, 20, 0.5)
    _run, report = check_run()
    for name in TARGETS:
        assert report[name]["drift"] == [], report[name]

"""apache_hardening, seen from the outside: headers, leaks, listings, TLS, and a failed change that changes nothing."""

import hashlib
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import testinfra
import yaml

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
TARGETS = ["apache_hardening-bookworm", "apache_hardening-trixie"]
testinfra_hosts = [f"ansible://{name}?ansible_inventory={INVENTORY}" for name in TARGETS]

ROLE = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "roles" / "apache_hardening"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
HEADERS = {name: value.strip() for name, value in DEFAULTS["apache_hardening_headers"].items()}
CONF = "/etc/apache2/conf-available/zz-bulwark-hardening.conf"
SITE = "/etc/apache2/sites-available/bulwark-tls.conf"
SELF_SIGNED = "/etc/ssl/certs/bulwark-apache-selfsigned.pem"
CA = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "test-ca.pem"
SAPI = {"apache_hardening-bookworm": "apache2handler", "apache_hardening-trixie": "fpm-fcgi"}


def name_of(host):
    return host.backend.get_hostname()


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("path", ["/", "/no-such-page", "/app.php"])
def test_every_header_exactly_once_on_200_404_and_app_pages(host, fetch, scheme, path):
    """Our value, once, although the HTTP vhost says "Header set X-Frame-Options SAMEORIGIN", a
    <Location "/"> says "Header always set Referrer-Policy ..." (prepare.yml) and /app.php sends
    its own X-Frame-Options and X-Content-Type-Options."""
    response = fetch(f"{scheme}://{name_of(host)}{path}")
    assert response.status == (404 if path == "/no-such-page" else 200)
    for name, value in HEADERS.items():
        assert response.all(name) == [value], name
    assert len(response.all("Content-Security-Policy")) == 1
    assert response.all("Content-Security-Policy")[0].startswith("default-src 'self'; ")
    assert response.all("Server") == ["Apache"]
    assert response.all("X-Powered-By") == []
    assert response.all("ETag") == []
    # HSTS only over HTTPS.
    assert len(response.all("Strict-Transport-Security")) == (1 if scheme == "https" else 0)


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_users_own_header_lines_are_in_effect(host, fetch, scheme):
    """The fixture's lines are live (so the test above sees them lose): their headers of other
    names are served. The vhost's lines are in the HTTP vhost only."""
    response = fetch(f"{scheme}://{name_of(host)}/")
    assert response.all("X-Fixture-Location") == ["yes"]
    assert response.all("X-Fixture-Vhost") == (["yes"] if scheme == "http" else [])


def test_php_runs_through_the_expected_sapi(host, fetch):
    response = fetch(f"http://{name_of(host)}/app.php")
    assert response.body.strip() == f"php {SAPI[name_of(host)]}"


def test_error_pages_carry_no_signature(host, fetch):
    response = fetch(f"http://{name_of(host)}/no-such-page")
    assert "Apache/2" not in response.body
    assert "Debian" not in response.body


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("path", ["/override/", "/override/no-such-page"])
def test_an_if_section_after_ours_changes_a_header_for_some_paths(host, fetch, scheme, path):
    # converge.yml's apache_hardening_extra_directives: <If "%{REQUEST_URI} =~ m#^/override/#">.
    response = fetch(f"{scheme}://{name_of(host)}{path}")
    assert response.status == (404 if path.endswith("no-such-page") else 200)
    assert response.all("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.all("Referrer-Policy") == [HEADERS["Referrer-Policy"]]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_trace_is_refused(host, fetch, scheme):
    assert fetch(f"{scheme}://{name_of(host)}/", "TRACE").status == 405


def test_directory_without_index_is_not_listed(host, fetch):
    # The directory and its file exist (prepare.yml); the file is served, the listing is not.
    assert fetch(f"http://{name_of(host)}/noindex/secret.txt").status == 200
    response = fetch(f"http://{name_of(host)}/noindex/")
    assert response.status in (403, 404)
    assert "secret.txt" not in response.body


def test_risky_modules_are_off_and_kept_dependencies_stay(host):
    enabled = host.check_output("ls /etc/apache2/mods-enabled").split()
    for name in ("autoindex", "status", "cgi", "cgid", "dav", "userdir"):
        assert f"{name}.load" not in enabled
    for name in ("headers", "reqtimeout", "ssl"):
        assert f"{name}.load" in enabled
    if name_of(host) == "apache_hardening-trixie":
        # PHP-FPM goes through proxy_fcgi, which needs proxy: kept although proxy is in the disable list.
        assert "proxy_fcgi.load" in enabled and "proxy.load" in enabled


def s_client(prober, host, option):
    # @SECLEVEL=0 lets the client offer old protocols: a refusal then comes from the server.
    cmd = prober.run(
        "timeout 10 openssl s_client -connect %s:443 -servername %s %s -cipher DEFAULT@SECLEVEL=0 </dev/null",
        host,
        host,
        option,
    )
    return cmd.rc, cmd.stdout + cmd.stderr


@pytest.mark.parametrize("option", ["-tls1", "-tls1_1"])
def test_old_tls_versions_are_refused_by_the_server(host, prober, option):
    rc, output = s_client(prober, name_of(host), option)
    assert rc != 0
    assert "alert protocol version" in output


@pytest.mark.parametrize(("option", "protocol"), [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")])
def test_tls12_and_13_are_accepted(host, prober, option, protocol):
    rc, output = s_client(prober, name_of(host), option)
    assert rc == 0, output
    assert f"Protocol  : {protocol}" in output or f"New, {protocol}," in output


def test_sslyze_finds_the_server_mozilla_intermediate_compliant(host, address):
    sslyze = shutil.which("sslyze") or str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "sslyze")
    result = subprocess.run(
        # The certificate comes from prepare.yml's test CA (with the address in its SAN), so path
        # validation is part of the check, as for a real certificate.
        [sslyze, f"--certinfo_ca_file={CA}", "--mozilla_config=intermediate", f"{address}:443"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
    assert f"{address}:443: OK - Compliant." in result.stdout


def sha256(host, path):
    return hashlib.sha256(host.file(path).content).hexdigest()


def test_broken_override_fails_with_apaches_message_while_apache_keeps_serving(host, fetch, playbook):
    if name_of(host) != TARGETS[0]:
        pytest.skip("the broken run covers both targets at once; checked on the first")
    targets = [testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}") for name in TARGETS]
    before = {
        name_of(t): (sha256(t, CONF), t.check_output("ls /etc/apache2/mods-enabled /etc/apache2/sites-enabled"))
        for t in targets
    }
    for target in targets:
        assert fetch(f"https://{name_of(target)}/").status == 200

    result = playbook("broken.yml")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    # Apache's own message, file and line first, for both targets.
    assert output.count("/etc/apache2/conf-enabled/zz-bulwark-hardening.conf:") >= len(targets)
    assert "Invalid command 'BulwarkNoSuchDirective'" in output
    assert "The previous configuration was restored" in output
    for target in targets:
        name = name_of(target)
        assert (
            sha256(target, CONF),
            target.check_output("ls /etc/apache2/mods-enabled /etc/apache2/sites-enabled"),
        ) == before[name]
        assert "BulwarkNoSuchDirective" not in target.file(CONF).content_string
        assert target.run("apache2ctl -t").rc == 0
        response = fetch(f"https://{name}/")
        assert response.status == 200
        assert response.all("X-Frame-Options") == [HEADERS["X-Frame-Options"]]
        # broken.yml asks for a self-signed certificate: generated with community.crypto before the
        # Apache change failed; the site still serves the test CA's certificate (restored file).
        assert target.file(SELF_SIGNED).exists
        assert name in target.check_output("openssl x509 -noout -subject -in %s", SELF_SIGNED)
        assert "fixture.pem" in target.file(SITE).content_string


def test_host_without_apache_is_left_alone(host, prober, playbook):
    if name_of(host) != TARGETS[0]:
        pytest.skip("runs once, against the prober")
    result = playbook("absent.yml")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "apache2 is not installed on apache_hardening-prober; nothing to harden" in result.stdout
    assert prober.run("dpkg-query --show apache2").rc != 0
    assert not prober.file("/etc/apache2").exists


@pytest.fixture(scope="module")
def killed_run(fetch, check_run, converge_run, wait_for):
    """What a run killed between writing the conf and reloading Apache leaves: on both targets,
    Apache runs a weaker conf (ServerTokens Full, loaded by a real reload) while the disk holds the
    hardened one again, with its old modification time (cp -p). Then a check run and a real run."""
    targets = [testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}") for name in TARGETS]
    state = {"weak": {}, "after": {}}
    for target in targets:
        url = f"http://{name_of(target)}/"
        target.check_output(
            f"cp -p {CONF} /root/hardened.conf && sed -i 's/^ServerTokens .*/ServerTokens Full/' {CONF}"
            " && systemctl reload apache2"
        )
        # A graceful reload returns before Apache has read the files: wait until the weak conf serves.
        wait_for(lambda url=url: fetch(url).all("Server") != ["Apache"], 20, 0.5)
        target.check_output(f"cp -p /root/hardened.conf {CONF}")
        state["weak"][name_of(target)] = fetch(url).all("Server")
    state["check"], state["report"] = check_run()
    state["converge"] = converge_run()
    for target in targets:
        state["after"][name_of(target)] = fetch(f"http://{name_of(target)}/").all("Server")
    return state


def test_a_lost_reload_is_drift_in_check_mode_and_reloaded_by_the_next_run(host, killed_run):
    name = name_of(host)
    # The fixture really put the weak conf live, the hardened file back with its old mtime ...
    assert killed_run["weak"][name] != ["Apache"]
    assert host.file(CONF).content_string.count("ServerTokens Prod") == 1
    # ... check mode calls the service control drift, and the next run reloads Apache.
    controls = killed_run["report"][name]["controls"]
    assert controls["APACHE-SERVICE"]["status"] == "drift"
    assert killed_run["after"][name] == ["Apache"]


def test_a_new_ctime_alone_or_a_restart_onto_the_same_files_is_no_drift(host, killed_run, check_run):
    """After the repair: a ctime moved without a content change (as chattr +i by the immutable role
    does) is not a lost reload, nor is a daemon started after the last run onto unchanged files (as
    after a reboot)."""
    if name_of(host) != TARGETS[0]:
        pytest.skip("one check run covers both targets; checked on the first")
    targets = [testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}") for name in TARGETS]
    for target in targets:
        target.check_output(f"touch {CONF} && chmod 0644 {CONF}")
    _run, report = check_run()
    for target in targets:
        assert report[name_of(target)]["drift"] == [], report[name_of(target)]
        target.check_output(f"touch {CONF} && systemctl restart apache2")
    _run, report = check_run()
    for target in targets:
        assert report[name_of(target)]["drift"] == [], report[name_of(target)]


def test_a_lost_reload_is_named_by_what_the_server_serves(host, killed_run):
    """The live answer is evidence of its own: the check run names the Server header the running
    Apache sent (service_loaded's local request), not only the files it had not loaded."""
    found = killed_run["report"][name_of(host)]["controls"]["APACHE-SERVICE"]["found"]
    assert any(" sends Server: Apache/2" in line and "(expected Apache, once)" in line for line in found), found


LATER = "/etc/apache2/conf-available/zz-local.conf"
# A later-sorting conf (read after zz-bulwark-hardening.conf) that re-enables the version leak,
# the signature and TRACE, and changes a header in an <If> section, which is merged after ours.
LATER_CONF = """ServerTokens Full
ServerSignature On
TraceEnable On
<IfModule headers_module>
    <If "true">
        Header always set X-Frame-Options SAMEORIGIN
    </If>
</IfModule>
"""
LATER_FOUND = [
    "/etc/apache2/conf-enabled/zz-local.conf:1: ServerTokens Full",
    "/etc/apache2/conf-enabled/zz-local.conf:2: ServerSignature On",
    "/etc/apache2/conf-enabled/zz-local.conf:3: TraceEnable On",
    "/etc/apache2/conf-enabled/zz-local.conf:6 in <If true>: Header always set X-Frame-Options SAMEORIGIN",
]


def targets():
    return [testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}") for name in TARGETS]


@pytest.fixture(scope="module")
def later_conf(fetch, check_run, playbook, wait_for):
    """The whole cycle, done here so that the order of the tests cannot leave it in place: the user's
    later conf enabled and loaded on both targets, a check run and a real run; then the conf removed,
    one that repeats our values in its place, and a second check run. Both removed at the end."""
    state = {"served": {}, "sha": {}}
    for target in targets():
        url = f"http://{name_of(target)}/"
        target.check_output(
            f"printf '%s' {shlex.quote(LATER_CONF)} > {LATER} && a2enconf -q zz-local && systemctl reload apache2"
        )
        wait_for(lambda url=url: fetch(url).all("Server") != ["Apache"], 20, 0.5)
        state["served"][name_of(target)] = fetch(url)
        state["sha"][name_of(target)] = sha256(target, CONF)
    state["check"], state["report"] = check_run()
    state["repair"] = playbook("converge.yml")
    state["restored"] = {}
    for target in targets():
        url = f"http://{name_of(target)}/"
        target.check_output(
            f"a2disconf -q zz-local && rm {LATER}"
            " && printf 'ServerTokens Prod\\nServerSignature Off\\n' > /etc/apache2/conf-available/zz-same.conf"
            " && a2enconf -q zz-same && systemctl reload apache2"
        )
        state["restored"][name_of(target)] = wait_for(lambda url=url: fetch(url).all("Server") == ["Apache"], 20, 0.5)
    _run, state["clean"] = check_run()
    for target in targets():
        target.check_output("a2disconf -q zz-same && rm /etc/apache2/conf-available/zz-same.conf")
        target.check_output("systemctl reload apache2")
    return state


def test_a_later_conf_is_really_in_effect(host, later_conf):
    served = later_conf["served"][name_of(host)]
    assert served.all("Server")[0].startswith("Apache/2.4")
    assert served.all("X-Frame-Options") == ["SAMEORIGIN"]


def test_check_mode_names_each_overriding_line_of_a_later_conf_as_config_drift(host, later_conf):
    controls = later_conf["report"][name_of(host)]["controls"]
    drifted = sorted(key for key, entry in controls.items() if entry["status"] == "drift")
    # The server runs what is on disk: the configuration drifted, not the service.
    assert drifted == ["APACHE-CONFIG"], controls
    assert controls["APACHE-CONFIG"]["found"] == LATER_FOUND
    assert any(
        "ServerTokens Prod of /etc/apache2/conf-enabled/zz-bulwark-hardening.conf" in line
        for line in controls["APACHE-CONFIG"]["expected"]
    )


def test_a_real_run_refuses_naming_the_file_and_changes_nothing(host, later_conf):
    output = later_conf["repair"].stdout + later_conf["repair"].stderr
    assert later_conf["repair"].returncode != 0
    assert "refused to change anything: " in output
    assert "/etc/apache2/conf-enabled/zz-local.conf:1: ServerTokens Full overrides ServerTokens Prod" in output
    assert sha256(host, CONF) == later_conf["sha"][name_of(host)]


def test_without_the_later_conf_and_with_one_that_repeats_our_values_there_is_no_drift(host, later_conf):
    assert later_conf["restored"][name_of(host)] is True
    assert later_conf["clean"][name_of(host)]["drift"] == [], later_conf["clean"][name_of(host)]

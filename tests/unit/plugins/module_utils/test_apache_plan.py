# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apache_hardening role's plan: each rule of the former vars/main.yml rule list, and the values it computes."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._apache import installed_packages, role_plan
from ansible_collections.bulwark.hardening.tests.unit.plugins.role_settings import host, planner, refuses_then_takes

SELF_CERT = "/etc/ssl/certs/bulwark-apache-selfsigned.pem"
SELF_KEY = "/etc/ssl/private/bulwark-apache-selfsigned.key"
DPKG = (
    "ii  apache2 2.4.62-1~deb12u2\n"
    "ii  libssl3 3.0.17-1~deb12u2\n"
    "un  python3-cryptography <none>\n"
    "dpkg-query: no packages found matching libssl3t64\n"
)
# The role's defaults (defaults/main.yml), as vars/main.yml passes them.
DEFAULTS = {
    "apache_hardening_install": False,
    "apache_hardening_tls_enabled": False,
    "apache_hardening_tls_self_signed": False,
    "apache_hardening_tls_certificate": "",
    "apache_hardening_tls_certificate_key": "",
    "apache_hardening_tls_certificate_chain": "",
    "apache_hardening_document_roots": ["/var/www/html"],
    "apache_hardening_headers": {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"},
    "apache_hardening_csp": {"default-src": ["self"], "object-src": ["none"], "upgrade-insecure-requests": True},
    "apache_hardening_hsts": "max-age=31536000; includeSubDomains",
    "apache_hardening_modules_enabled": [],
    "apache_hardening_modules_disabled": ["status", "info", "autoindex"],
    "self_signed_cert": SELF_CERT,
    "self_signed_key": SELF_KEY,
    "dpkg_output": DPKG,
    "check_mode": False,
    "bulwark_host": host(),
}
CERT = {
    "apache_hardening_tls_certificate": "/etc/ssl/site.pem",
    "apache_hardening_tls_certificate_key": "/etc/ssl/site.key",
}


plan = planner(role_plan, DEFAULTS)


def test_the_defaults_pass():
    assert plan()["errors"] == [], "the role's defaults must pass its own plan"


@pytest.mark.parametrize(
    ("bad", "good", "message"),
    [
        pytest.param(
            {"apache_hardening_tls_enabled": True},
            {"apache_hardening_tls_enabled": True, "apache_hardening_tls_self_signed": True},
            "apache_hardening_tls_enabled is true but apache_hardening_tls_certificate is empty and "
            "apache_hardening_tls_self_signed is false",
            id="tls-needs-a-certificate",
        ),
        pytest.param(
            {"apache_hardening_tls_certificate": "/etc/ssl/site.pem"},
            CERT,
            'apache_hardening_tls_certificate ("/etc/ssl/site.pem") and apache_hardening_tls_certificate_key ("") '
            "go together.",
            id="certificate-needs-its-key",
        ),
        pytest.param(
            {"apache_hardening_tls_certificate_chain": "/etc/ssl/chain.pem"},
            {**CERT, "apache_hardening_tls_certificate_chain": "/etc/ssl/chain.pem"},
            'apache_hardening_tls_certificate_chain ("/etc/ssl/chain.pem") needs apache_hardening_tls_certificate',
            id="chain-needs-a-certificate",
        ),
        pytest.param(
            {**CERT, "apache_hardening_tls_certificate_key": "site key.pem"},
            CERT,
            "apache_hardening_tls_certificate/_key/_chain must be absolute paths without spaces or quotes: "
            '["/etc/ssl/site.pem", "site key.pem"]',
            id="absolute-certificate-paths",
        ),
        pytest.param(
            {"apache_hardening_document_roots": ["/var/www/html", 'www"']},
            {"apache_hardening_document_roots": ["/srv/www/site one"]},
            "apache_hardening_document_roots must hold absolute paths without quotes or backslashes: "
            '["/var/www/html", "www\\""]',
            id="absolute-document-roots",
        ),
        pytest.param(
            {
                "apache_hardening_tls_enabled": True,
                "apache_hardening_tls_self_signed": True,
                "apache_hardening_document_roots": [],
            },
            {"apache_hardening_tls_enabled": False, "apache_hardening_document_roots": []},
            "apache_hardening_tls_enabled needs a document root for the TLS site "
            "(apache_hardening_document_roots is empty).",
            id="tls-needs-a-document-root",
        ),
        pytest.param(
            {"apache_hardening_headers": {"X Frame": "DENY"}},
            {"apache_hardening_headers": {"X-Frame-Options": "DENY"}},
            "apache_hardening_headers: header names are letters, digits and '-': [\"X Frame\"]",
            id="header-names",
        ),
        pytest.param(
            {"apache_hardening_headers": {"content-security-policy": "default-src 'self'"}},
            {"apache_hardening_headers": {"Content-Type-Options": "nosniff"}},
            "apache_hardening_headers must not hold Content-Security-Policy or Strict-Transport-Security "
            '(["content-security-policy"]); use apache_hardening_csp and apache_hardening_hsts.',
            id="csp-and-hsts-have-their-own-variables",
        ),
        pytest.param(
            {"apache_hardening_headers": {"X-Frame-Options": 1}},
            {"apache_hardening_headers": {"X-Frame-Options": None}},
            'apache_hardening_headers values are strings (or null to drop a header): {"X-Frame-Options": 1}',
            id="header-values-are-strings",
        ),
        pytest.param(
            {"apache_hardening_modules_enabled": ["status"]},
            {"apache_hardening_modules_enabled": ["rewrite"]},
            'apache_hardening_modules_enabled and apache_hardening_modules_disabled share ["status"].',
            id="module-enabled-and-disabled",
        ),
        pytest.param(
            {"apache_hardening_csp": {"default-src": []}},
            {"apache_hardening_csp": {}},
            "apache_hardening_csp.default-src is an empty list; write ['none'] to allow nothing",
            id="csp-renders",
        ),
        pytest.param(
            {"apache_hardening_csp": {"default-scr": ["self"]}},
            {"apache_hardening_csp": {"default-src": ["self"]}},
            "apache_hardening_csp: unknown CSP directive 'default-scr'",
            id="csp-unknown-directive",
        ),
    ],
)
def test_each_rule_refuses_naming_the_variable_and_takes_a_good_value(bad, good, message):
    refuses_then_takes(plan, bad, good, message)


def test_installed_packages_from_dpkg_query():
    assert installed_packages(DPKG) == {"apache2": "2.4.62-1~deb12u2", "libssl3": "3.0.17-1~deb12u2"}
    assert installed_packages("") == {}


@pytest.mark.parametrize(
    ("dpkg", "present", "openssl"),
    [(DPKG, True, "3.0.17-1~deb12u2"), ("ii  libssl3t64 3.5.1-1\n", False, "3.5.1-1"), ("", False, "")],
)
def test_what_is_installed(dpkg, present, openssl):
    result = plan(dpkg_output=dpkg)
    assert (result["present"], result["openssl"]) == (present, openssl)


def test_a_self_signed_certificate():
    result = plan(
        apache_hardening_tls_enabled=True, apache_hardening_tls_self_signed=True, apache_hardening_install=True
    )
    assert (result["self_signed_active"], result["user_cert"]) == (True, False)
    assert (result["cert"], result["key"]) == (SELF_CERT, SELF_KEY)
    assert result["wanted_packages"] == ["apache2", "python3-cryptography"]
    assert result["modules_enabled"] == ["headers", "reqtimeout", "ssl", "socache_shmcb"]


def test_the_users_certificate_wins_over_self_signed():
    result = plan(apache_hardening_tls_enabled=True, apache_hardening_tls_self_signed=True, **CERT)
    assert (result["self_signed_active"], result["user_cert"]) == (False, True)
    assert (result["cert"], result["key"]) == ("/etc/ssl/site.pem", "/etc/ssl/site.key")
    assert result["wanted_packages"] == ["python3-cryptography"]


@pytest.mark.parametrize(
    ("dpkg", "check_mode", "ready"),
    [(DPKG, False, True), (DPKG, True, False), ("ii  python3-cryptography 38.0.4-3\n", True, True)],
)
def test_crypto_ready(dpkg, check_mode, ready):
    assert plan(dpkg_output=dpkg, check_mode=check_mode)["crypto_ready"] is ready


def test_modules_enabled_once_and_never_disabled_too():
    result = plan(
        apache_hardening_modules_enabled=["rewrite", "headers", "rewrite"],
        apache_hardening_modules_disabled=["status", "reqtimeout"],
    )
    assert result["modules_enabled"] == ["headers", "reqtimeout", "rewrite"]
    # A module the role needs is never disabled, even when asked.
    assert result["modules_disabled"] == ["status"]


def test_the_csp_header_value():
    assert plan()["csp"] == "default-src 'self'; object-src 'none'; upgrade-insecure-requests"
    assert plan(apache_hardening_csp={})["csp"] == ""


def test_https_must_be_declared_where_the_host_declares_apache():
    web = host(bulwark_services={"http": {"ports": [80], "unit": "apache2"}})
    tls = {"apache_hardening_tls_enabled": True, "apache_hardening_tls_self_signed": True}
    assert plan(bulwark_host=web, **tls)["errors"] == [
        "apache_hardening_tls_enabled serves HTTPS on port 443, which bulwark_services.http.ports (unit apache2) "
        "does not list: the firewall would close it; add 443 there"
    ]
    both = host(bulwark_services={"http": {"ports": [80, 443], "unit": "apache2"}})
    assert plan(bulwark_host=both, **tls)["errors"] == []
    # Nothing declared for Apache (the role used without the host's services): no rule to break.
    assert plan(bulwark_host=host(), **tls)["errors"] == []
    # Plain HTTP: 80 is enough.
    assert plan(bulwark_host=web)["errors"] == []


def test_live_is_what_the_running_apache_must_answer():
    live = role_plan(DEFAULTS)["live"]
    csp = "default-src 'self'; object-src 'none'; upgrade-insecure-requests"
    assert live["http"] == {
        "Server": "Apache",
        "X-Powered-By": None,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": csp,
    }
    assert live["https"] == dict(live["http"], **{"Strict-Transport-Security": "max-age=31536000; includeSubDomains"})
    assert live["methods"] == {"TRACE": 405}
    # A header dropped (null), no CSP, no HSTS: not asked about.
    live = role_plan(
        dict(
            DEFAULTS,
            apache_hardening_headers={"X-Frame-Options": None, "X-Content-Type-Options": " nosniff "},
            apache_hardening_csp={},
            apache_hardening_hsts="",
        )
    )["live"]
    assert (
        live["http"] == live["https"] == {"Server": "Apache", "X-Powered-By": None, "X-Content-Type-Options": "nosniff"}
    )

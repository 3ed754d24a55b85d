# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Apache configuration in effect: include order, later wins, sections, headers."""

from __future__ import annotations

import fnmatch

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._apache import (
    access_file_name,
    allow_override,
    config_words,
    directive_key,
    htaccess_lines,
    htaccess_overrides,
    listeners,
    override_message,
    override_roots,
    overrides,
    probes,
    walk_config,
)

ROOT = "/etc/apache2"
OURS = f"{ROOT}/conf-enabled/zz-bulwark-hardening.conf"
MAIN = """Timeout 300
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
Include ports.conf
IncludeOptional conf-enabled/*.conf
IncludeOptional sites-enabled/*.conf
"""
HARDENING = """ServerTokens Prod
ServerSignature Off
TraceEnable Off
Timeout 60
<IfModule headers_module>
    Header always set X-Frame-Options "DENY"
    <If "true">
        Header always set X-Frame-Options "DENY"
    </If>
</IfModule>
<IfModule ssl_module>
    SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256
    SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256
</IfModule>
<Directory />
    Options None
    AllowOverride None
</Directory>
<Directory "/var/www/html">
    Options -Indexes -Includes -ExecCGI
</Directory>
"""


VHOST_IF = '<VirtualHost *:80>\n<If "true">\nHeader set x-frame-options A\n</If>\n</VirtualHost>\n'


def tree(**extra):
    """A Debian-like tree: apache2.conf, ports.conf, security.conf, our conf, a default site, plus ``extra``."""
    files = {
        f"{ROOT}/apache2.conf": MAIN,
        f"{ROOT}/ports.conf": "Listen 80\n<IfModule ssl_module>\n    Listen 443\n</IfModule>\n",
        f"{ROOT}/mods-enabled/headers.load": "LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so\n",
        f"{ROOT}/mods-enabled/ssl.load": "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n",
        f"{ROOT}/mods-enabled/ssl.conf": "<IfModule ssl_module>\n  SSLCipherSuite HIGH:!aNULL\n</IfModule>\n",
        f"{ROOT}/conf-enabled/security.conf": "ServerTokens OS\nServerSignature On\nTraceEnable Off\n",
        OURS: HARDENING,
        f"{ROOT}/sites-enabled/000-default.conf": (
            "<VirtualHost *:80>\n  Header set X-Frame-Options SAMEORIGIN\n</VirtualHost>\n"
        ),
    }
    files.update({f"{ROOT}/{path}": text for path, text in extra.items()})
    return files


def resolve(files):
    def expand(pattern):
        return sorted(path for path in files if fnmatch.fnmatchcase(path, pattern))

    return walk_config(files.get, expand, ROOT)


def found(files):
    return [(item["where"], item["found"]) for item in overrides(resolve(files), {OURS})]


def test_config_words_join_continuations_keep_quotes_whole_and_drop_comments():
    text = '# a comment\nHeader always set X-A "a b"\nSSLCipherSuite A:\\\n  B\n\n  # indented comment\n'
    assert config_words(text) == [(2, ["Header", "always", "set", "X-A", "a b"]), (3, ["SSLCipherSuite", "A:", "B"])]


def test_the_walk_follows_includes_in_order_and_knows_the_sections():
    entries = resolve(tree())
    order = [(entry["file"].rsplit("/", 1)[-1], entry["name"]) for entry in entries]
    assert order.index(("apache2.conf", "Timeout")) < order.index(("ssl.conf", "SSLCipherSuite"))
    assert order.index(("security.conf", "ServerTokens")) < order.index(("zz-bulwark-hardening.conf", "ServerTokens"))
    vhost = next(entry for entry in entries if entry["file"].endswith("000-default.conf"))
    assert vhost["sections"] == (("VirtualHost", "*:80"),)
    # Conditional sections are read as if they held; <If> is a section.
    ifs = [entry["sections"] for entry in entries if entry["file"] == OURS and entry["name"] == "Header"]
    assert ifs == [(), (("If", "true"),)]


def test_a_clean_tree_has_no_override():
    # security.conf (read before ours) and the vhost's plain Header line lose to ours.
    assert found(tree()) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # A later-sorting conf re-enabling the version leak.
        (
            {"conf-enabled/zz-local.conf": "ServerTokens Full\nServerSignature On\n"},
            [
                (f"{ROOT}/conf-enabled/zz-local.conf:1", "ServerTokens Full"),
                (f"{ROOT}/conf-enabled/zz-local.conf:2", "ServerSignature On"),
            ],
        ),
        # sites-enabled is read after conf-enabled: a server-wide line there wins too.
        ({"sites-enabled/zzz.conf": "TraceEnable On\n"}, [(f"{ROOT}/sites-enabled/zzz.conf:1", "TraceEnable On")]),
        # A section wins for its requests wherever it is.
        (
            {"conf-enabled/aaa.conf": "<VirtualHost *:8080>\n  ServerSignature On\n</VirtualHost>\n"},
            [(f"{ROOT}/conf-enabled/aaa.conf:2 in <VirtualHost *:8080>", "ServerSignature On")],
        ),
        # A keyed directive is compared with ours of the same key only.
        (
            {"conf-enabled/zz-tls.conf": "SSLCipherSuite TLSv1.3 TLS_CHACHA20_POLY1305_SHA256\n"},
            [(f"{ROOT}/conf-enabled/zz-tls.conf:1", "SSLCipherSuite TLSv1.3 TLS_CHACHA20_POLY1305_SHA256")],
        ),
        # A header changed in an <If> read after ours, and in a vhost's <If> wherever it is.
        (
            {"conf-enabled/zz-local.conf": '<If "true">\n  Header always unset X-Frame-Options\n</If>\n'},
            [(f"{ROOT}/conf-enabled/zz-local.conf:2 in <If true>", "Header always unset X-Frame-Options")],
        ),
        (
            {"conf-enabled/aaa.conf": VHOST_IF},
            [(f"{ROOT}/conf-enabled/aaa.conf:3 in <VirtualHost *:80> <If true>", "Header set x-frame-options A")],
        ),
    ],
)
def test_a_later_file_or_a_section_that_overrides_ours_is_named(extra, expected):
    assert found(tree(**extra)) == expected


@pytest.mark.parametrize(
    "extra",
    [
        # The same value later (case aside) is fine.
        {"conf-enabled/zz-local.conf": "ServerTokens prod\nTimeout 60\n"},
        # Earlier is overridden by ours.
        {"conf-enabled/aaa.conf": "ServerTokens Full\n"},
        # A header in an <If> read before ours, or a plain Header line later, loses to ours.
        {"conf-enabled/aaa.conf": '<If "true">\nHeader always set X-Frame-Options SAMEORIGIN\n</If>\n'},
        {"conf-enabled/zz-local.conf": "Header always set X-Frame-Options SAMEORIGIN\n"},
        # Another header, a directive we do not set, the other SSLCipherSuite key.
        {"conf-enabled/zz-local.conf": '<If "true">\nHeader set X-Site-Owner ops\n</If>\nKeepAlive Off\n'},
        {"conf-enabled/zz-tls.conf": "SSLCipherSuite ECDHE-ECDSA-AES128-GCM-SHA256\n"},
    ],
)
def test_what_does_not_change_the_result_is_fine(extra):
    assert found(tree(**extra)) == []


def test_a_file_of_ours_read_later_does_not_hide_a_header_changed_after_our_header_lines():
    # Our TLS site (sites-enabled, read after conf-enabled) sets no header: the <If> after our conf wins.
    files = tree(**{"conf-enabled/zz-local.conf": '<If "true">\nHeader always set X-Frame-Options SAMEORIGIN\n</If>\n'})
    site = f"{ROOT}/sites-enabled/bulwark-tls.conf"
    files[site] = "<VirtualHost *:443>\n  SSLEngine on\n</VirtualHost>\n"
    assert [item["where"] for item in overrides(resolve(files), {OURS, site})] == [
        f"{ROOT}/conf-enabled/zz-local.conf:2 in <If true>"
    ]


def test_our_last_line_wins_over_our_earlier_one_and_a_missing_include_is_skipped():
    files = tree()
    files[OURS] = HARDENING + "ServerSignature On\nIncludeOptional /nowhere/*.conf\n"
    assert found(files) == []


def test_the_message_names_file_line_directive_and_what_it_overrides():
    (item,) = overrides(resolve(tree(**{"conf-enabled/zz-local.conf": "ServerTokens Full\n"})), {OURS})
    assert override_message(item) == (
        f"{ROOT}/conf-enabled/zz-local.conf:1: ServerTokens Full overrides ServerTokens Prod of {OURS}"
    )


def test_directive_key():
    assert directive_key("SSLCipherSuite", ["TLSv1.3", "X"]) == ("sslciphersuite", "tlsv1.3")
    assert directive_key("SSLCipherSuite", ["HIGH"]) == ("sslciphersuite", "")
    assert directive_key("SSLOpenSSLConfCmd", ["Curves", "X25519"]) == ("sslopensslconfcmd", "curves")


def test_an_ifmodule_of_a_module_not_loaded_is_not_in_effect():
    files = tree(**{"conf-enabled/zz-local.conf": "<IfModule mod_status.c>\nServerTokens Full\n</IfModule>\n"})
    assert found(files) == []
    files[f"{ROOT}/mods-enabled/status.load"] = "LoadModule status_module /usr/lib/apache2/modules/mod_status.so\n"
    assert found(files) == [(f"{ROOT}/conf-enabled/zz-local.conf:2", "ServerTokens Full")]
    files[f"{ROOT}/conf-enabled/zz-local.conf"] = "<IfModule !status_module>\nServerTokens Full\n</IfModule>\n"
    assert found(files) == []


def test_listeners_from_the_listen_lines():
    files = tree(**{"sites-enabled/legacy.conf": "Listen 192.0.2.1:8080\nListen [::]:8443 https\n"})
    entries = resolve(files)
    assert listeners(entries) == [
        {"address": "127.0.0.1", "port": 80, "scheme": "http"},
        {"address": "127.0.0.1", "port": 443, "scheme": "https"},
        {"address": "192.0.2.1", "port": 8080, "scheme": "http"},
        {"address": "127.0.0.1", "port": 8443, "scheme": "https"},
    ]
    # Without mod_ssl, ports.conf's <IfModule ssl_module> Listen 443 is not in effect.
    del files[f"{ROOT}/mods-enabled/ssl.load"]
    assert [item["port"] for item in listeners(resolve(files))] == [80, 8080, 8443]


def test_probes_ask_every_listener_with_its_schemes_headers_and_trace_once():
    listen = [
        {"address": "127.0.0.1", "port": 80, "scheme": "http"},
        {"address": "::1", "port": 443, "scheme": "https"},
    ]
    live = {"http": {"Server": "Apache"}, "https": {"Server": "Apache", "Strict-Transport-Security": "x"}}
    assert probes(listen, dict(live, methods={"TRACE": 405})) == [
        {"url": "http://127.0.0.1:80/", "method": "GET", "headers": {"Server": "Apache"}, "status": []},
        {
            "url": "https://[::1]:443/",
            "method": "GET",
            "headers": {"Server": "Apache", "Strict-Transport-Security": "x"},
            "status": [],
        },
        {"url": "http://127.0.0.1:80/", "method": "TRACE", "headers": {}, "status": [405]},
    ]
    assert probes([], live) == []


# ----------------------------------------------------------------------------- .htaccess files
DEBIAN_DIRS = "<Directory /var/www/>\n    Options Indexes FollowSymLinks\n    AllowOverride None\n</Directory>\n"
LOCAL_DIR = "<Directory /srv/local>\n    AllowOverride {}\n</Directory>\n"


def htaccess_found(extra, access):
    entries = resolve(tree(**{"conf-enabled/000-debian.conf": DEBIAN_DIRS, **extra}))
    items = htaccess_overrides(entries, {OURS}, htaccess_lines(entries, sorted(access.items())))
    return [(item["where"], item["found"]) for item in items]


def test_no_directory_lets_an_htaccess_count_on_debians_default():
    entries = resolve(tree(**{"conf-enabled/000-debian.conf": DEBIAN_DIRS}))
    assert override_roots(entries) == []
    assert allow_override(entries, "/var/www/html/app") == set()
    assert access_file_name(entries) == [".htaccess"]


@pytest.mark.parametrize(
    ("config", "directory", "allowed"),
    [
        # The longest path wins whatever the order; then the later section of the same path.
        (
            "<Directory /srv/local/sub>\nAllowOverride None\n</Directory>\n" + LOCAL_DIR.format("All"),
            "/srv/local/sub/x",
            set(),
        ),
        (LOCAL_DIR.format("All"), "/srv/local/sub/x", {"all"}),
        (
            LOCAL_DIR.format("All") + LOCAL_DIR.format("FileInfo Options=Indexes"),
            "/srv/local",
            {"fileinfo", "options=indexes"},
        ),
        # A <VirtualHost>'s section of the same path is merged after the server's.
        (
            "<VirtualHost *:80>\n" + LOCAL_DIR.format("Options") + "</VirtualHost>\n" + LOCAL_DIR.format("None"),
            "/srv/local",
            {"options"},
        ),
        # A wildcard matches within one path component.
        ("<Directory /srv/*>\nAllowOverride All\n</Directory>\n", "/srv/local", {"all"}),
        ("<Directory /srv/*>\nAllowOverride All\n</Directory>\n", "/srv", set()),
        (
            "<Directory /srv/local>\nAllowOverrideList ServerSignature\n</Directory>\n",
            "/srv/local",
            {"list:serversignature"},
        ),
    ],
)
def test_allow_override_resolves_the_directory_sections_as_apache_does(config, directory, allowed):
    assert allow_override(resolve(tree(**{"conf-enabled/zz-local.conf": config})), directory) == allowed


@pytest.mark.parametrize(
    ("allowed", "text", "expected"),
    [
        # Options turning on what ours turns off, ServerSignature and FileETag with other values.
        (
            "All",
            "Options +Indexes -ExecCGI\nServerSignature On\nFileETag MTime\nServerSignature Off\n",
            [
                ("/srv/local/.htaccess:1", "Options +Indexes -ExecCGI"),
                ("/srv/local/.htaccess:2", "ServerSignature On"),
            ],
        ),
        # Only what the directory's AllowOverride allows counts (another directive breaks it with a 500).
        ("Options", "Options Includes\nServerSignature On\n", [("/srv/local/.htaccess:1", "Options Includes")]),
        ("Options=Indexes", "Options ExecCGI\nOptions +Indexes\n", [("/srv/local/.htaccess:2", "Options +Indexes")]),
        ("AuthConfig", "Options +Indexes\nServerSignature On\n", []),
        ("None", "Options +Indexes\n", []),
        # Options that turn nothing of ours on, and our own values, are fine.
        ("All", "Options -Indexes +FollowSymLinks\nServerSignature Off\nTraceEnable Off\n", []),
    ],
)
def test_an_htaccess_apache_lets_count_is_named_when_it_undoes_ours(allowed, text, expected):
    extra = {"conf-enabled/zz-local.conf": LOCAL_DIR.format(allowed)}
    assert htaccess_found(extra, {"/srv/local/.htaccess": text}) == expected


def test_an_htaccess_in_a_subdirectory_counts_and_one_beside_none_does_not():
    extra = {
        "conf-enabled/zz-local.conf": LOCAL_DIR.format("All")
        + "<Directory /srv/local/closed>\nAllowOverride None\n</Directory>\n"
    }
    access = {"/srv/local/a/b/.htaccess": "Options All\n", "/srv/local/closed/.htaccess": "Options All\n"}
    assert htaccess_found(extra, access) == [("/srv/local/a/b/.htaccess:1", "Options All")]


def test_an_htaccess_override_names_what_it_overrides():
    entries = resolve(tree(**{"conf-enabled/zz-local.conf": LOCAL_DIR.format("All")}))
    (item,) = htaccess_overrides(
        entries, {OURS}, htaccess_lines(entries, [("/srv/local/.htaccess", "ServerSignature On\n")])
    )
    assert (
        override_message(item) == f"/srv/local/.htaccess:1: ServerSignature On overrides ServerSignature Off of {OURS}"
    )

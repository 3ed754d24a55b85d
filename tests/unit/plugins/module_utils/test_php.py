# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _php


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "On"),
        (False, "Off"),
        (30, "30"),
        ("Lax", '"Lax"'),
        ("8M", '"8M"'),
        (["exec", "system"], '"exec,system"'),
        ([], '""'),
    ],
)
def test_ini_literal(value, expected):
    assert _php.ini_literal(value, "var") == expected


def test_ini_literal_joins_with_the_separator():
    assert _php.ini_literal(["/var/www", "/tmp"], "php_hardening_open_basedir", ":") == '"/var/www:/tmp"'


@pytest.mark.parametrize(
    ("value", "separator", "message"),
    [
        ('a"b', ",", "php_x: 'a\"b' contains '\"'"),
        ("a;b", ",", "contains ';'"),
        ("a\nb", ",", "contains '\\n'"),
        ("${HOME}", ",", "contains '$'"),
        ("a\\b", ",", "contains '\\\\'"),
        (["ok", "b\tc"], ",", "php_x[1]: 'b\\tc' contains '\\t'"),
        (["/a:/b"], ":", "php_x[0]: '/a:/b' must be non-empty and must not contain ':'"),
        ([""], ",", "php_x[0]: '' must be non-empty"),
        ([["x"]], ",", "php_x[0]: ['x'] must be a string"),
        (1.5, ",", "is a float"),
        ({"a": 1}, ",", "cannot be written"),
    ],
)
def test_ini_literal_refuses_by_name(value, separator, message):
    with pytest.raises(_php.PhpValueError) as exc:
        _php.ini_literal(value, "php_x", separator)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2M", 2 * 1024**2), ("512k", 512 * 1024), ("1G", 1024**3), (1048576, 1048576), ("-1", -1), (" 8M ", 8 * 1024**2)],
)
def test_size_to_bytes(value, expected):
    assert _php.size_to_bytes(value, "var") == expected


@pytest.mark.parametrize("value", ["8MB", "M", "-2", "-1M", "", True, "1.5M"])
def test_size_to_bytes_refuses(value):
    with pytest.raises(_php.PhpValueError, match=r"^php_size: "):
        _php.size_to_bytes(value, "php_size")


@pytest.mark.parametrize(
    ("value", "ok"),
    [(["exec", "pcntl_fork", "_x1"], True), (["exec;"], False), (["1abc"], False), ("exec", False), ([3], False)],
)
def test_function_names(value, ok):
    if ok:
        assert _php.function_names(value, "fn") == value
    else:
        with pytest.raises(_php.PhpValueError, match=r"^fn"):
            _php.function_names(value, "fn")


@pytest.mark.parametrize(
    ("value", "ok"), [("xdebug", True), ("pdo_mysql", True), ("../x", False), ("a b", False), (1, False)]
)
def test_module_name(value, ok):
    if ok:
        assert _php.module_name(value, "m") == value
    else:
        with pytest.raises(_php.PhpValueError, match=r"^m: "):
            _php.module_name(value, "m")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("; configuration for php mysql module\n; priority=20\nextension=pdo_mysql.so\n", ["pdo_mysql"]),
        ("; priority=10\nzend_extension=opcache.so\nopcache.jit=off\n", ["opcache"]),
        ('zend_extension = "/usr/lib/php/20220829/xdebug.so" ; comment\n', ["xdebug"]),
        ("; extension=commented.so\nextension=a.so\nextension=b\n", ["a", "b"]),
        ("", []),
    ],
)
def test_parse_module_ini(text, expected):
    assert _php.parse_module_ini(text) == expected


def test_enabled_modules_counts_only_links_into_mods_available():
    entries = [
        ("10-pdo.ini", "/etc/php/8.2/mods-available/pdo.ini"),
        ("20-xdebug.ini", "../../mods-available/xdebug.ini"),
        ("99-bulwark-hardening.ini", None),  # our plain file
        ("30-other.ini", "/srv/other.ini"),  # a link elsewhere
        ("20-ffi.ini", "/etc/php/8.2/mods-available/other.ini"),  # name and target disagree
        ("README", "/etc/php/8.2/mods-available/README"),
    ]
    assert _php.enabled_modules(entries) == {"pdo": "10-pdo.ini", "xdebug": "20-xdebug.ini"}


def test_pool_names():
    text = "[global]\npid = x\n[www]\nuser = www-data\n; [commented]\n  [shop] ; second pool\nlisten = y\n"
    assert _php.pool_names(text) == ["www", "shop"]


SO = {"mysqlnd": ["mysqlnd"], "mysqli": ["mysqli"], "pdo": ["pdo"], "pdo_mysql": ["pdo_mysql"], "xdebug": ["xdebug"]}
ENABLED = set(SO)
DEPS = {
    "mysqlnd": {"standard": "Required"},
    "mysqli": {"spl": "Required", "mysqlnd": "Required"},
    "pdo_mysql": {"pdo": "Required", "mysqlnd": "Required"},
    "PDO": {"spl": "Required"},
    "xdebug": [],
    "phar": {"apc": "Optional"},
}


@pytest.mark.parametrize(
    ("targets", "expected"),
    [
        (["xdebug"], {}),
        (["mysqlnd"], {"mysqlnd": ["mysqli", "pdo_mysql"]}),
        (["mysqlnd", "mysqli"], {"mysqlnd": ["pdo_mysql"]}),
        (["mysqlnd", "mysqli", "pdo_mysql"], {}),
        # pdo_mysql stays because it is not a target; pdo stays for it (case-insensitive names).
        (["pdo", "xdebug"], {"pdo": ["pdo_mysql"]}),
        (["not_enabled"], {}),
    ],
)
def test_blocked_modules(targets, expected):
    assert _php.blocked_modules(targets, ENABLED, SO, DEPS) == expected


def test_blocked_modules_is_transitive():
    so = {"a": ["a"], "b": ["b"], "c": ["c"]}
    deps = {"c": {"b": "Required"}, "b": {"a": "Required"}}
    # c stays (not a target) and needs b, which stays and needs a.
    assert _php.blocked_modules(["a", "b"], {"a", "b", "c"}, so, deps) == {"a": ["b"], "b": ["c"]}


def make_php(root, version="8.2", sapis=("apache2", "fpm"), programs=True):
    """A fake /etc/php tree plus the SAPI programs under root; returns (etc_dir, programs)."""
    etc = root / "etc-php"
    mods = etc / version / "mods-available"
    mods.mkdir(parents=True)
    (mods / "xdebug.ini").write_text("zend_extension=xdebug.so\n")
    (mods / "pdo.ini").write_text("; priority=10\nextension=pdo.so\n")
    bins = root / "bin"
    bins.mkdir(exist_ok=True)
    progs = {sapi: str(bins / f"{sapi}{{version}}") for sapi in _php.SAPIS}
    for sapi in sapis:
        conf_d = etc / version / sapi / "conf.d"
        conf_d.mkdir(parents=True)
        os.symlink(str(mods / "xdebug.ini"), conf_d / "20-xdebug.ini")
        (conf_d / "99-bulwark-hardening.ini").write_text("expose_php = Off\n")
        if programs:
            (bins / f"{sapi}{version}").write_text("")
    if "fpm" in sapis:
        pool_d = etc / version / "fpm" / "pool.d"
        pool_d.mkdir()
        (pool_d / "www.conf").write_text("[www]\nuser = www-data\n")
        (pool_d / "README").write_text("[ignored]\n")
    return str(etc), progs


def test_scan_reports_installed_sapis(tmp_path):
    etc, progs = make_php(tmp_path)
    (tmp_path / "bin" / "cli8.2").write_text("")
    found = _php.scan(etc, progs)
    assert [(i["version"], i["sapi"]) for i in found] == [("8.2", "apache2"), ("8.2", "fpm")]
    apache = found[0]
    assert apache["enabled"] == {"xdebug": "20-xdebug.ini"}
    assert apache["so_names"] == {"pdo": ["pdo"], "xdebug": ["xdebug"]}
    assert apache["cli"] == str(tmp_path / "bin" / "cli8.2")
    assert "pools" not in apache
    assert found[1]["pools"] == {"www": f"{etc}/8.2/fpm/pool.d/www.conf"}


def test_scan_skips_a_sapi_whose_program_is_gone(tmp_path):
    etc, progs = make_php(tmp_path, programs=False)
    assert _php.scan(etc, progs) == []


def test_scan_without_php(tmp_path):
    assert _php.scan(str(tmp_path / "absent")) == []


def test_scan_sorts_versions_numerically(tmp_path):
    for version in ("8.10", "8.2"):
        (tmp_path / "etc" / version / "cli" / "conf.d").mkdir(parents=True)
    (tmp_path / "etc" / "not-a-version").mkdir()
    (tmp_path / "php").write_text("")
    progs = {sapi: str(tmp_path / "php") for sapi in _php.SAPIS}
    assert [i["version"] for i in _php.scan(str(tmp_path / "etc"), progs)] == ["8.2", "8.10"]

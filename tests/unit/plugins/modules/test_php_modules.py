# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""php_info and php_extensions through main(), on a fake /etc/php tree."""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.module_utils import _php
from ansible_collections.bulwark.hardening.plugins.modules import php_extensions, php_info
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

MODS = {
    "xdebug": "zend_extension=xdebug.so\n",
    "mysqlnd": "; priority=10\nextension=mysqlnd.so\n",
    "mysqli": "; priority=20\nextension=mysqli.so\n",
    "ffi": "; priority=20\nextension=ffi.so\n",
}
DEPS = {"mysqlnd": {"standard": "Required"}, "mysqli": {"mysqlnd": "Required"}, "xdebug": [], "FFI": {}}


@pytest.fixture
def php(monkeypatch, tmp_path):
    """/etc/php/8.4 with apache2, fpm and cli, every module enabled everywhere; programs present."""
    patch_exits(monkeypatch)
    etc = tmp_path / "php"
    mods = etc / "8.4" / "mods-available"
    mods.mkdir(parents=True)
    for name, text in MODS.items():
        (mods / f"{name}.ini").write_text(text)
    bins = tmp_path / "bin"
    bins.mkdir()
    programs = {}
    for sapi in _php.SAPIS:
        conf_d = etc / "8.4" / sapi / "conf.d"
        conf_d.mkdir(parents=True)
        for name in MODS:
            os.symlink(f"../../mods-available/{name}.ini", conf_d / f"20-{name}.ini")
        (bins / f"{sapi}8.4").write_text("")
        programs[sapi] = str(bins / f"{sapi}{{version}}")
    (etc / "8.4" / "fpm" / "pool.d").mkdir()
    (etc / "8.4" / "fpm" / "pool.d" / "www.conf").write_text("[www]\n")
    monkeypatch.setattr(_php, "SAPI_PROGRAMS", programs)
    return etc


class FakeRun:
    """run_command: answers the dependency probe, and really removes links for phpdismod."""

    def __init__(self, etc, deps=None, probe_rc=0, dismod_rc=0):
        self.etc, self.deps, self.probe_rc, self.dismod_rc = etc, deps or DEPS, probe_rc, dismod_rc
        self.calls = []

    def __call__(self, module, cmd, **kwargs):
        self.calls.append((list(cmd), kwargs.get("environ_update")))
        if "-r" in cmd:
            return self.probe_rc, "noise\n" + php_extensions.MARK + json.dumps(self.deps) + "\n", ""
        _bin, _v, version, _s, sapi, *names = cmd
        if self.dismod_rc == 0:
            for name in names:
                os.unlink(self.etc / version / sapi / "conf.d" / f"20-{name}.ini")
        return self.dismod_rc, "", "boom" if self.dismod_rc else ""


def run(monkeypatch, module, args, fake=None, expect=ExitJson):
    if fake is not None:

        def run_command(self, cmd, **kwargs):
            return fake(self, cmd, **kwargs)

        monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
        monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, **kw: f"/usr/sbin/{name}")
    with patch_module_args(args), pytest.raises(expect) as exc:
        module.main()
    return exc.value.args[0]


def test_php_info(monkeypatch, php):
    result = run(monkeypatch, php_info, {"etc_dir": str(php)})
    assert result["changed"] is False
    assert result["versions"] == ["8.4"]
    assert [(s["sapi"], s["service"]) for s in result["sapis"]] == [
        ("apache2", "apache2"),
        ("fpm", "php8.4-fpm"),
        ("cli", None),
    ]
    assert result["sapis"][0]["extensions"] == ["ffi", "mysqli", "mysqlnd", "xdebug"]
    assert result["pools"] == [{"version": "8.4", "pool": "www", "path": f"{php}/8.4/fpm/pool.d/www.conf"}]


def test_disables_per_sapi_and_reports_what_another_module_needs(monkeypatch, php):
    fake = FakeRun(php)
    result = run(monkeypatch, php_extensions, {"etc_dir": str(php), "disabled": ["xdebug", "ffi", "mysqlnd"]}, fake)
    assert result["changed"] is True
    assert result["changed_sapis"] == [{"version": "8.4", "sapi": "apache2"}, {"version": "8.4", "sapi": "fpm"}]
    assert {(d["sapi"], d["module"]) for d in result["disabled"]} == {
        (sapi, name) for sapi in ("apache2", "fpm") for name in ("xdebug", "ffi")
    }
    assert [(b["sapi"], b["module"], b["required_by"]) for b in result["blocked"]] == [
        ("apache2", "mysqlnd", ["mysqli"]),
        ("fpm", "mysqlnd", ["mysqli"]),
    ]
    # The probe ran with the SAPI's own conf.d; phpdismod got the version and SAPI.
    probes = [env for cmd, env in fake.calls if "-r" in cmd]
    assert probes == [{"PHP_INI_SCAN_DIR": f"{php}/8.4/apache2/conf.d"}, {"PHP_INI_SCAN_DIR": f"{php}/8.4/fpm/conf.d"}]
    dismods = [cmd for cmd, _env in fake.calls if "-r" not in cmd]
    assert dismods == [
        ["/usr/sbin/phpdismod", "-v", "8.4", "-s", "apache2", "xdebug", "ffi"],
        ["/usr/sbin/phpdismod", "-v", "8.4", "-s", "fpm", "xdebug", "ffi"],
    ]
    # The CLI was not asked for and keeps everything.
    assert (php / "8.4" / "cli" / "conf.d" / "20-xdebug.ini").is_symlink()
    assert not (php / "8.4" / "fpm" / "conf.d" / "20-xdebug.ini").exists()


def test_second_run_is_unchanged(monkeypatch, php):
    run(monkeypatch, php_extensions, {"etc_dir": str(php), "disabled": ["xdebug"]}, FakeRun(php))
    fake = FakeRun(php)
    result = run(monkeypatch, php_extensions, {"etc_dir": str(php), "disabled": ["xdebug", "absent"]}, fake)
    assert result["changed"] is False
    assert fake.calls == []


def test_check_mode_changes_nothing(monkeypatch, php):
    fake = FakeRun(php)
    args = {
        "etc_dir": str(php),
        "disabled": ["xdebug"],
        "sapis": ["fpm"],
        "_ansible_check_mode": True,
        "_ansible_diff": True,
    }
    result = run(monkeypatch, php_extensions, args, fake)
    assert result["changed"] is True
    assert result["disabled"] == [{"version": "8.4", "sapi": "fpm", "module": "xdebug"}]
    assert result["diff"]["before"] == "8.4/fpm: ffi mysqli mysqlnd xdebug\n"
    assert result["diff"]["after"] == "8.4/fpm: ffi mysqli mysqlnd\n"
    assert all("-r" in cmd for cmd, _env in fake.calls)
    assert (php / "8.4" / "fpm" / "conf.d" / "20-xdebug.ini").is_symlink()


def test_unreadable_dependencies_block_instead_of_guessing(monkeypatch, php):
    result = run(monkeypatch, php_extensions, {"etc_dir": str(php), "disabled": ["ffi"]}, FakeRun(php, probe_rc=255))
    assert result["changed"] is False
    assert {b["module"] for b in result["blocked"]} == {"ffi"}
    assert "cannot read the module dependencies" in result["blocked"][0]["reason"]


def test_phpdismod_failure_fails_naming_the_command(monkeypatch, php):
    result = run(
        monkeypatch, php_extensions, {"etc_dir": str(php), "disabled": ["ffi"]}, FakeRun(php, dismod_rc=1), FailJson
    )
    assert result["msg"].startswith("/usr/sbin/phpdismod -v 8.4 -s apache2 ffi failed (rc 1): boom")


def test_a_bad_module_name_is_refused(monkeypatch, php):
    result = run(
        monkeypatch, php_extensions, {"etc_dir": str(php), "disabled": ["xdebug", "../evil"]}, FakeRun(php), FailJson
    )
    assert result["msg"] == "disabled[1]: '../evil' is not a PHP module name"


HARDENING = 'expose_php = Off\ndisable_functions = "exec,passthru"\nmemory_limit = "128M"\n'


def test_php_info_names_a_later_ini_that_overrides_the_hardening_per_sapi(monkeypatch, php):
    # Our ini is not written yet (a fresh host): it is judged as it will be, in its sorted place.
    (php / "8.4" / "apache2" / "conf.d" / "99-zz-local.ini").write_text("; local\ndisable_functions =\n")
    (php / "8.4" / "fpm" / "conf.d" / "99-zz-local.ini").write_text("memory_limit = 128M\nexpose_php = no\n")
    (php / "8.4" / "cli" / "conf.d" / "99-zz-local.ini").write_text("disable_functions =\n")
    (php / "8.4" / "fpm" / "conf.d" / "10-early.ini").write_text("disable_functions =\n")
    hardening = {"name": "99-bulwark-hardening.ini", "content": HARDENING, "sapis": ["apache2", "fpm"]}
    result = run(monkeypatch, php_info, {"etc_dir": str(php), "hardening": hardening})
    later = f"{php}/8.4/apache2/conf.d/99-zz-local.ini"
    assert [(o["sapi"], o["file"], o["line"], o["setting"], o["found"]) for o in result["overrides"]] == [
        ("apache2", later, 2, "disable_functions", "")
    ]
    assert result["overrides"][0]["message"] == (
        f'{later}:2 sets disable_functions = "" (8.4/apache2; the hardening: exec,passthru)'
    )
    # Without the hardening's content (invalid variables) nothing is judged.
    hardening["content"] = ""
    assert run(monkeypatch, php_info, {"etc_dir": str(php), "hardening": hardening})["overrides"] == []

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest
from ansible.module_utils import basic

from ansible_collections.bulwark.hardening.plugins.modules import apache2_config
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

KINDS = {
    "a2enmod": "mods",
    "a2dismod": "mods",
    "a2enconf": "conf",
    "a2disconf": "conf",
    "a2ensite": "sites",
    "a2dissite": "sites",
}
BAD_LINE = "AH00526: Syntax error on line 3 of {path}:\nInvalid command 'Nope', perhaps misspelled\n"


@pytest.fixture
def apache(monkeypatch, tmp_path):
    """A fake /etc/apache2: a few modules (proxy_fcgi depends on proxy), confs and sites, some enabled."""
    patch_exits(monkeypatch)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: name)
    for stem in ("mods", "conf", "sites"):
        (tmp_path / f"{stem}-available").mkdir()
        (tmp_path / f"{stem}-enabled").mkdir()
    for name, deps in {
        "headers": "",
        "status": "",
        "autoindex": "",
        "proxy": "",
        "proxy_fcgi": "proxy",
        "ssl": "",
    }.items():
        (tmp_path / "mods-available" / f"{name}.load").write_text(f"# Depends: {deps}\n" if deps else "LoadModule x\n")
    (tmp_path / "conf-available" / "security.conf").write_text("ServerTokens OS\n")
    (tmp_path / "sites-available" / "000-default.conf").write_text("<VirtualHost *:80>\n</VirtualHost>\n")
    for stem, name, suffix in [
        ("mods", "status", ".load"),
        ("mods", "autoindex", ".load"),
        ("conf", "security", ".conf"),
    ]:
        os.symlink(f"../{stem}-available/{name}{suffix}", tmp_path / f"{stem}-enabled" / f"{name}{suffix}")
    return tmp_path


class FakeApache:
    """Stands in for run_command: a2en*/a2dis* create and remove links, apache2ctl -t tests the conf."""

    def __init__(self, root, fail_on=None):
        self.root = root
        self.calls = []
        self.fail_on = fail_on

    def __call__(self, module, cmd, **kwargs):
        self.calls.append(list(cmd))
        if cmd[0] == self.fail_on:
            return 1, "", f"{cmd[0]} broke"
        if cmd[0] == "apache2ctl":
            for conf in (self.root / "conf-enabled").iterdir():
                if "Nope" in conf.read_text():
                    return 1, "", BAD_LINE.format(path=conf)
            return 0, "", "Syntax OK\n"
        stem = KINDS[cmd[0]]
        suffix = ".load" if stem == "mods" else ".conf"
        link = self.root / f"{stem}-enabled" / f"{cmd[-1]}{suffix}"
        if cmd[0].startswith("a2en"):
            link.symlink_to(f"../{stem}-available/{cmd[-1]}{suffix}")
        else:
            link.unlink()
        return 0, "", ""


def run(monkeypatch, root, args, expect=ExitJson, fake=None):
    fake = fake or FakeApache(root)

    def run_command(self, cmd, **kwargs):
        return fake(self, cmd, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    with patch_module_args(dict(args, config_root=str(root))), pytest.raises(expect) as exc:
        apache2_config.main()
    return exc.value.args[0], fake.calls


def links(root):
    return {stem: sorted(os.listdir(root / f"{stem}-enabled")) for stem in ("mods", "conf", "sites")}


def desired(root, content="ServerTokens Prod\n"):
    return {
        "files": [{"path": str(root / "conf-available" / "hardening.conf"), "content": content}],
        "enable_confs": ["hardening"],
        "enable_modules": ["headers"],
        "disable_modules": ["status", "autoindex", "proxy"],
    }


def test_apply_writes_enables_disables_then_tests(monkeypatch, apache):
    result, calls = run(monkeypatch, apache, desired(apache))
    assert result["changed"] is True
    assert (apache / "conf-available" / "hardening.conf").read_text() == "ServerTokens Prod\n"
    assert calls == [
        ["a2enmod", "-q", "headers"],
        ["a2dismod", "-q", "status"],
        ["a2dismod", "-q", "-f", "autoindex"],  # Debian's essential module needs force
        ["a2enconf", "-q", "hardening"],
        ["apache2ctl", "-t"],
    ]
    assert links(apache) == {"mods": ["headers.load"], "conf": ["hardening.conf", "security.conf"], "sites": []}
    assert result["enabled"] == ["modules/headers", "confs/hardening"]
    assert result["disabled"] == ["modules/status", "modules/autoindex"]


def test_second_run_changes_nothing_and_runs_nothing(monkeypatch, apache):
    run(monkeypatch, apache, desired(apache))
    result, calls = run(monkeypatch, apache, desired(apache))
    assert result["changed"] is False
    assert calls == []


def test_check_mode_reports_with_diff_and_touches_nothing(monkeypatch, apache):
    before = links(apache)
    result, calls = run(monkeypatch, apache, dict(desired(apache), _ansible_check_mode=True, _ansible_diff=True))
    assert result["changed"] is True
    assert calls == []
    assert links(apache) == before
    assert not (apache / "conf-available" / "hardening.conf").exists()
    assert result["diff"][0]["after"] == "ServerTokens Prod\n"
    assert result["diff"][-1]["before"] == "-modules/status\n-modules/autoindex\n"


def test_failed_configtest_restores_files_and_links_and_names_file_and_line(monkeypatch, apache):
    run(monkeypatch, apache, desired(apache))
    good = links(apache)
    result, calls = run(
        monkeypatch,
        apache,
        dict(desired(apache, "ServerTokens Prod\nNope on\n"), enable_sites=["000-default"]),
        FailJson,
    )
    assert calls[-1] == ["apache2ctl", "-t"]
    assert "conf-enabled/hardening.conf:3: Invalid command 'Nope'" in result["msg"]
    assert "previous configuration was restored" in result["msg"]
    assert (apache / "conf-available" / "hardening.conf").read_text() == "ServerTokens Prod\n"
    assert links(apache) == good
    assert len(result["backups"]) == 1


def test_failed_first_apply_removes_the_new_file(monkeypatch, apache):
    before = links(apache)
    result, _calls = run(monkeypatch, apache, desired(apache, "Nope\n"), FailJson)
    assert "hardening.conf:3: Invalid command 'Nope'" in result["msg"]
    assert not (apache / "conf-available" / "hardening.conf").exists()
    assert links(apache) == before


def test_failing_a2_command_stops_and_restores(monkeypatch, apache):
    before = links(apache)
    fake = FakeApache(apache, fail_on="a2enconf")
    result, calls = run(monkeypatch, apache, desired(apache), FailJson, fake)
    assert result["msg"].startswith("a2enconf -q hardening failed: a2enconf broke")
    assert ["apache2ctl", "-t"] not in calls
    assert links(apache) == before


def test_module_needed_by_an_enabled_one_is_kept_with_a_warning(monkeypatch, apache):
    for name in ("proxy", "proxy_fcgi"):
        os.symlink(f"../mods-available/{name}.load", apache / "mods-enabled" / f"{name}.load")
    warnings = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: warnings.append(text))
    result, calls = run(monkeypatch, apache, desired(apache))
    assert result["kept"] == {"proxy": ["proxy_fcgi"]}
    assert ["a2dismod", "-q", "proxy"] not in calls
    assert "proxy.load" in links(apache)["mods"]
    assert warnings == ["module proxy stays enabled: proxy_fcgi depend(s) on it"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"enable_modules": ["nosuch"]}, "enable_modules: 'nosuch' is not available"),
        ({"enable_sites": ["missing"]}, "enable_sites: 'missing' is not available"),
        ({"enable_modules": ["ssl"], "disable_modules": ["ssl"]}, "modules: ['ssl'] are both"),
        ({"disable_confs": ["../../etc/passwd"]}, "are not plain names"),
        ({"files": [{"path": "relative.conf", "content": ""}]}, "is not absolute"),
        ({"files": [{"path": "/x.conf", "content": "", "mode": "rw"}]}, "mode 'rw' of /x.conf is not an octal number"),
    ],
)
def test_bad_arguments_are_refused_by_name(monkeypatch, apache, args, message):
    result, calls = run(monkeypatch, apache, args, FailJson)
    assert calls == []
    assert message in result["msg"]


def with_main(root, later="ServerTokens Full\n"):
    """apache2.conf reading conf-enabled in order, and a user's later-sorting conf enabled."""
    (root / "apache2.conf").write_text("IncludeOptional conf-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n")
    (root / "conf-available" / "zz-local.conf").write_text(later)
    os.symlink("../conf-available/zz-local.conf", root / "conf-enabled" / "zz-local.conf")


def test_a_later_conf_that_overrides_ours_is_drift_in_check_mode_naming_it(monkeypatch, apache):
    # Our conf is not even enabled yet: the candidate (its link to be made) is what is judged.
    with_main(apache)
    result, calls = run(monkeypatch, apache, dict(desired(apache), _ansible_check_mode=True, _ansible_diff=True))
    assert calls == []
    later = str(apache / "conf-enabled" / "zz-local.conf")
    assert [(item["where"], item["found"]) for item in result["overrides"]] == [(f"{later}:1", "ServerTokens Full")]
    (in_effect,) = [diff for diff in result["diff"] if diff["before_header"] == "in effect"]
    assert in_effect["before"] == f"{later}:1: ServerTokens Full\n"
    assert in_effect["after"].startswith("ServerTokens Prod of ")


def test_an_override_alone_is_drift_and_a_real_run_refuses_changing_nothing(monkeypatch, apache):
    with_main(apache)
    run(monkeypatch, apache, dict(desired(apache), effective=False))
    before = links(apache)
    result, calls = run(monkeypatch, apache, dict(desired(apache), _ansible_check_mode=True))
    assert result["changed"] is True and calls == []
    result, calls = run(monkeypatch, apache, desired(apache, "ServerTokens Prod\nTimeout 60\n"), expect=FailJson)
    assert calls == []
    assert links(apache) == before
    assert (apache / "conf-available" / "hardening.conf").read_text() == "ServerTokens Prod\n"
    assert result["msg"].startswith("refused to change anything: ")
    assert f"{apache}/conf-enabled/zz-local.conf:1: ServerTokens Full overrides ServerTokens Prod" in result["msg"]


def test_a_later_conf_with_our_value_is_fine(monkeypatch, apache):
    with_main(apache, later="ServerTokens prod\n")
    run(monkeypatch, apache, desired(apache))
    result, calls = run(monkeypatch, apache, desired(apache))
    assert (result["changed"], result["overrides"], calls) == (False, [], [])

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re
import types

import pytest

from ansible_collections.bulwark.hardening.plugins.modules import apt_updates as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)

SECURITY_PATTERN = "origin=Debian,codename=${distro_codename}-security,label=Debian-Security"


def package_file(filename, **origin):
    fields = dict.fromkeys(mod.ORIGIN_FIELDS, "")
    fields.update(origin)
    return types.SimpleNamespace(filename=filename, **fields)


STATUS = package_file("/var/lib/dpkg/status", archive="now")


def version(ver_str, *files):
    return types.SimpleNamespace(ver_str=ver_str, file_list=[(f, 0) for f in [*files, STATUS]])


def package(name, current, *versions, arch="amd64"):
    return types.SimpleNamespace(
        name=name,
        architecture=arch,
        current_ver=current,
        version_list=list(versions),
        candidate=max(versions, key=lambda v: v.ver_str) if versions else None,
    )


def compare(a, b):
    return (a > b) - (a < b)


class FakeConfig:
    """apt_pkg.Configuration for scalar and list options; reads one ``Key "value";`` or ``Key { "a"; };`` a line."""

    def __init__(self, values=None, parts="", main=""):
        self.values = values if values is not None else {}
        self.parts, self.main = parts, main

    def value_list(self, key):
        value = self.values.get(key, [])
        return value if isinstance(value, list) else []

    def exists(self, key):
        return key in self.values

    def find(self, key):
        value = self.values.get(key, "")
        return value if isinstance(value, str) else ""

    def find_dir(self, key):
        assert key == "Dir::Etc::parts"
        return self.parts

    def find_file(self, key):
        assert key == "Dir::Etc::main"
        return self.main

    def read(self, path):
        for line in open(path, encoding="utf-8"):
            key, _sep, rest = line.strip().partition(" ")
            if key == "#clear":
                self.values.pop(rest.strip(";"), None)
            elif rest.startswith("{"):
                self.values.setdefault(key, []).extend(re.findall(r'"([^"]*)"', rest))
            elif rest:
                self.values[key] = rest.strip('";')


class FakeApt:
    """Stands in for apt_pkg: a cache of packages, a config, plain string version ordering."""

    def __init__(self, lists, packages, config):
        self.packages = packages(lists)
        self.config = FakeConfig(config)
        self.unreadable = set()

    def Configuration(self):
        return FakeConfig()

    def read_config_file(self, config, path):
        if path in self.unreadable:
            raise SystemError("E:Syntax error")
        config.read(path)

    def init_config(self):
        pass

    def init_system(self):
        pass

    def Cache(self, progress):
        assert progress is None
        return types.SimpleNamespace(packages=self.packages)

    def DepCache(self, cache):
        return types.SimpleNamespace(get_candidate_ver=lambda pkg: pkg.candidate)

    @staticmethod
    def version_compare(a, b):
        return compare(a, b)


def fixture_packages(lists):
    sec_file = package_file(
        str(lists / "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages"),
        origin="Debian",
        label="Debian-Security",
        archive="oldstable-security",
        codename="bookworm-security",
        component="main",
        site="deb.debian.org",
    )
    main_file = package_file(
        str(lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages"),
        origin="Debian",
        label="Debian",
        archive="oldstable",
        codename="bookworm",
        component="main",
        site="deb.debian.org",
    )
    ssl_installed = version("3.0.20", STATUS)
    vim_installed = version("9.0.1")
    return [
        # A security upgrade.
        package("libssl3", ssl_installed, ssl_installed, version("3.0.22", sec_file)),
        # An ordinary upgrade from the main archive.
        package("vim", vim_installed, vim_installed, version("9.0.2", main_file)),
        # Up to date.
        package("bash", version("5.2"), version("5.2", main_file)),
        # Not installed.
        package("nginx", None, version("1.22", main_file)),
    ]


@pytest.fixture
def env(monkeypatch, tmp_path):
    """Patched exits, a fake apt_pkg, a lists directory with a dated InRelease, and paths under tmp_path."""
    patch_exits(monkeypatch)
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "deb.debian.org_debian-security_dists_bookworm-security_InRelease").write_text(
        "Origin: Debian\nDate: Sat, 14 Nov 2026 00:00:00 UTC\n"
    )
    config = {"Unattended-Upgrade::Origins-Pattern": [SECURITY_PATTERN]}
    monkeypatch.setattr(mod, "apt_pkg", FakeApt(lists, fixture_packages, config))
    os_release = tmp_path / "os-release"
    os_release.write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n')
    monkeypatch.setattr(mod, "OS_RELEASE", str(os_release))
    log = tmp_path / "unattended-upgrades.log"
    log.write_text(
        "2026-11-20 06:10:01,100 INFO Starting unattended upgrades script\n"
        "2026-11-20 06:10:09,500 INFO All upgrades installed\n"
    )
    return types.SimpleNamespace(tmp=tmp_path, log=log, config=config)


def run(env, **args):
    args.setdefault("log", str(env.log))
    args.setdefault("reboot_required_file", str(env.tmp / "reboot-required"))
    with patch_module_args(args), pytest.raises((ExitJson, FailJson)) as caught:
        mod.main()
    return caught.value.args[0], isinstance(caught.value, FailJson)


def test_reports_pending_and_security_upgrades(env):
    result, failed = run(env)
    assert not failed
    assert result["changed"] is False
    assert [p["name"] for p in result["pending"]] == ["libssl3", "vim"]
    ssl, vim = result["pending"]
    assert ssl["security"] is True and ssl["allowed"] is True
    assert ssl["installed"] == "3.0.20" and ssl["candidate"] == "3.0.22"
    assert ssl["security_since"] == "2026-11-14T00:00:00+00:00"
    assert ssl["origins"][0]["label"] == "Debian-Security"
    assert vim["security"] is False and vim["allowed"] is False
    assert result["security_pending"] == 1
    assert result["security_packages"] == ["libssl3"]
    assert result["security_pending_days"] >= 10
    assert result["allowed_pending"] == 1
    assert result["origins_pattern"] == [SECURITY_PATTERN]
    assert result["distribution"] == {"distro_id": "Debian", "distro_codename": "bookworm"}


def test_reports_the_last_run_and_no_reboot(env):
    result = run(env)[0]
    assert result["last_run"] == "2026-11-20T06:10:01"
    assert result["last_run_success"] is True
    assert result["last_success"] == "2026-11-20T06:10:01"
    assert result["last_success_days"] >= 3  # the clock only moves on
    assert result["reboot_required"] is False
    assert result["reboot_packages"] == []


def test_reports_a_required_reboot_with_its_packages(env):
    (env.tmp / "reboot-required").write_text("*** System restart required ***\n")
    (env.tmp / "reboot-required.pkgs").write_text("libc6\nlinux-image-amd64\nlibc6\n")
    result = run(env)[0]
    assert result["reboot_required"] is True
    assert result["reboot_packages"] == ["libc6", "linux-image-amd64"]


def test_without_a_log_there_is_no_run(env):
    result = run(env, log=str(env.tmp / "missing.log"))[0]
    assert result["last_run"] is None
    assert result["last_success"] is None
    assert result["last_success_days"] is None


def test_custom_security_origins_replace_debians(env):
    result = run(env, security_origins=["origin=Debian,codename=${distro_codename},label=Debian"])[0]
    assert result["security_packages"] == ["vim"]
    assert result["security_pending_days"] is None  # main's Release file is not in the lists


def test_debians_default_point_release_pattern_allows_vim(env):
    env.config["Unattended-Upgrade::Origins-Pattern"].append("origin=Debian,codename=${distro_codename},label=Debian")
    result = run(env)[0]
    assert result["allowed_pending"] == 2


def test_legacy_allowed_origins_count_as_allowed(env):
    env.config["Unattended-Upgrade::Origins-Pattern"] = []
    env.config["Unattended-Upgrade::Allowed-Origins"] = ["${distro_id}:oldstable"]
    result = run(env)[0]
    assert result["allowed_origins"] == ["${distro_id}:oldstable"]
    assert [p["name"] for p in result["pending"] if p["allowed"]] == ["vim"]


def test_a_bad_security_origin_is_refused_by_name(env):
    result, failed = run(env, security_origins=["Debian:bookworm-security"])
    assert failed
    assert result["msg"].startswith("security_origins: origin pattern 'Debian:bookworm-security'")


def test_a_bad_configured_pattern_is_a_warning(env, monkeypatch):
    warnings = []
    monkeypatch.setattr(mod.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    env.config["Unattended-Upgrade::Origins-Pattern"].append("nonsense")
    result, failed = run(env)
    assert not failed
    assert "nonsense" in warnings[0]
    assert result["origins_pattern"][-1] == "nonsense"


def test_without_python3_apt_it_fails_naming_the_library(env, monkeypatch):
    monkeypatch.setattr(mod, "apt_pkg", None)
    monkeypatch.setattr(mod, "APT_IMPORT_ERROR", "ImportError: No module named apt_pkg")
    result, failed = run(env)
    assert failed
    assert "python3-apt" in result["msg"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ID=debian\nVERSION_CODENAME=trixie\n", ("Debian", "trixie")),
        ("ID='ubuntu'\nVERSION_CODENAME=noble\n", ("Ubuntu", "noble")),
        ("", ("Debian", "")),
    ],
)
def test_distribution(tmp_path, text, expected):
    path = tmp_path / "os-release"
    path.write_text(text)
    assert mod.distribution(str(path)) == expected


# ----------------------------------------------------------------- effective settings
OURS = "90bulwark-unattended-upgrades"
DECLARED_SETTINGS = [
    {"name": "APT::Periodic::Unattended-Upgrade", "value": "1", "variable": "unattended_upgrades_upgrade_interval"},
    {"name": "APT::Periodic::Update-Package-Lists", "value": "1", "variable": "unattended_upgrades_update_interval"},
    {
        "name": "Unattended-Upgrade::Package-Blacklist",
        "value": ["held"],
        "variable": "unattended_upgrades_package_blocklist",
    },
]


@pytest.fixture
def apt_dir(env):
    """An apt.conf.d with Debian's 20auto-upgrades and our file; the fake apt's merged config follows the files."""
    parts = env.tmp / "apt.conf.d"
    parts.mkdir()
    (parts / "20auto-upgrades").write_text(
        'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
    )
    (parts / OURS).write_text(
        'APT::Periodic::Unattended-Upgrade "1";\nAPT::Periodic::Update-Package-Lists "1";\n'
        'Unattended-Upgrade::Package-Blacklist { "held"; };\n'
    )
    main_file = env.tmp / "apt.conf"
    config = mod.apt_pkg.config
    config.parts, config.main = str(parts), str(main_file)

    def merge():
        merged = FakeConfig()
        for path in mod.config_files(mod.apt_pkg):
            merged.read(path)
        config.values.update(merged.values)

    return types.SimpleNamespace(parts=parts, main=main_file, merge=merge)


def run_settings(env, apt_dir, diff=False):
    apt_dir.merge()
    args = {"settings": DECLARED_SETTINGS, "settings_file": str(apt_dir.parts / OURS)}
    if diff:
        args["_ansible_diff"] = True
    return run(env, **args)


def test_declared_settings_in_force_are_no_drift(env, apt_dir):
    result, failed = run_settings(env, apt_dir, diff=True)
    assert not failed
    assert result["settings_drift"] == []
    assert "diff" not in result


def test_a_later_apt_conf_d_file_switching_updates_off_is_named(env, apt_dir):
    later = apt_dir.parts / "99zz-local"
    later.write_text('APT::Periodic::Unattended-Upgrade "0";\nAPT::Periodic::Update-Package-Lists "0";\n')
    result, failed = run_settings(env, apt_dir, diff=True)
    assert not failed and result["changed"] is False
    drift = {d["name"]: d for d in result["settings_drift"]}
    assert sorted(drift) == ["APT::Periodic::Unattended-Upgrade", "APT::Periodic::Update-Package-Lists"]
    entry = drift["APT::Periodic::Unattended-Upgrade"]
    assert (entry["found"], entry["expected"], entry["file"]) == ("0", "1", str(later))
    assert entry["variable"] == "unattended_upgrades_upgrade_interval"
    assert result["diff"]["before"].splitlines()[0] == f'APT::Periodic::Unattended-Upgrade "0";  // {later}'
    assert result["diff"]["after"].splitlines()[0] == (
        f'APT::Periodic::Unattended-Upgrade "1";  // {apt_dir.parts / OURS}'
    )


def test_apt_conf_is_read_after_every_part_and_appends_to_the_blocklist(env, apt_dir):
    apt_dir.main.write_text('Unattended-Upgrade::Package-Blacklist { "openssl"; };\n')
    result = run_settings(env, apt_dir)[0]
    [entry] = result["settings_drift"]
    assert (entry["found"], entry["file"]) == (["held", "openssl"], str(apt_dir.main))
    assert "diff" not in result  # only with --diff


HOOK = [{"name": "DPkg::Pre-Invoke", "value": ["/usr/local/sbin/hook pre"], "contains": True, "variable": "hook"}]


def test_a_hook_among_others_holds_and_a_later_clear_is_named_without_opening_the_cache(env, apt_dir, monkeypatch):
    monkeypatch.setattr(mod.apt_pkg, "Cache", lambda progress: pytest.fail("pending: false opens no cache"))
    (apt_dir.parts / "70other").write_text('DPkg::Pre-Invoke { "/usr/bin/theirs"; };\n')
    ours = apt_dir.parts / "80hook"
    ours.write_text('DPkg::Pre-Invoke { "/usr/local/sbin/hook pre"; };\n')
    apt_dir.merge()
    args = {"settings": HOOK, "settings_file": str(ours), "pending": False}
    result, failed = run(env, **args)
    assert not failed and result["settings_drift"] == []
    assert "pending" not in result and "security_pending" not in result
    later = apt_dir.parts / "99zz-nohook"
    later.write_text("#clear DPkg::Pre-Invoke;\n")
    mod.apt_pkg.config.values.clear()
    apt_dir.merge()
    [entry] = run(env, **args)[0]["settings_drift"]
    assert (entry["found"], entry["file"]) == ([], str(later))
    assert entry["sentence"] == (
        f"apt's effective DPkg::Pre-Invoke is [] (set by {later}, read after {ours}), "
        'lacks the declared ["/usr/local/sbin/hook pre"] (hook)'
    )


def test_a_part_apt_does_not_read_is_not_blamed(env, apt_dir):
    (apt_dir.parts / "99zz-local.dpkg-old").write_text('APT::Periodic::Unattended-Upgrade "0";\n')
    assert run_settings(env, apt_dir)[0]["settings_drift"] == []


def test_an_unreadable_file_is_a_warning(env, apt_dir, monkeypatch):
    warnings = []
    monkeypatch.setattr(mod.AnsibleModule, "warn", lambda self, msg: warnings.append(msg))
    mod.apt_pkg.unreadable.add(str(apt_dir.parts / "20auto-upgrades"))
    result, failed = run_settings(env, apt_dir)
    assert not failed
    assert result["settings_drift"] == []
    assert warnings == [f"cannot read apt configuration file {apt_dir.parts / '20auto-upgrades'}: E:Syntax error"]


def test_without_needrestart_or_timers_nothing_is_compared(env):
    result, failed = run(env)
    assert not failed
    assert (result["needrestart_drift"], result["timers_drift"]) == ([], [])


def test_needrestart_not_installed_is_not_compared(env):
    spec = {"file": str(env.tmp / "conf.d" / "bulwark.conf"), "restart": "a", "conf": str(env.tmp / "missing.conf")}
    result, failed = run(env, needrestart=spec)
    assert not failed and result["needrestart_drift"] == []


def test_needrestart_later_file_is_named(env, monkeypatch):
    confd = env.tmp / "conf.d"
    confd.mkdir()
    main = env.tmp / "needrestart.conf"
    main.write_text("# main\n")
    (confd / "bulwark.conf").write_text("$nrconf{restart} = 'a';\n")
    (confd / "zz.conf").write_text("$nrconf{restart} = 'l';\n")
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        return 0, "restart\tl\nunit\tssh\t0\n", ""

    monkeypatch.setattr(mod.AnsibleModule, "run_command", run_command)
    spec = {"file": str(confd / "bulwark.conf"), "restart": "a", "never_restart": ["ssh"], "conf": str(main)}
    result, failed = run(env, needrestart=spec)
    assert not failed
    assert calls[0][:2] == ["perl", "-e"] and calls[0][3:] == [str(main), "ssh"]
    (entry,) = result["needrestart_drift"]
    assert entry["files"] == [str(confd / "zz.conf")]


def test_a_failing_perl_evaluation_fails_naming_the_file(env, monkeypatch):
    main = env.tmp / "needrestart.conf"
    main.write_text("syntax error (\n")
    monkeypatch.setattr(mod.AnsibleModule, "run_command", lambda self, argv, **kw: (255, "", "syntax error at line 1"))
    result, failed = run(env, needrestart={"file": "/x/bulwark.conf", "restart": "a", "conf": str(main)})
    assert failed and str(main) in result["msg"]


def test_timers_are_judged_from_systemctl_show(env, monkeypatch):
    out = (
        "Id=apt-daily.timer\nLoadState=loaded\nFragmentPath=/lib/systemd/system/apt-daily.timer\n"
        "DropInPaths=\nNeedDaemonReload=yes\n"
    )
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        return 0, out, ""

    monkeypatch.setattr(mod.AnsibleModule, "run_command", run_command)
    dropins = env.tmp / "apt-daily.timer.d"
    dropins.mkdir()
    (dropins / "zz.conf").write_text("[Timer]\nOnCalendar=\n")
    monkeypatch.setattr(mod, "SYSTEMD_UNIT_DIRS", (str(env.tmp),))
    result, failed = run(env, timers={"apt-daily.timer": ""})
    assert not failed
    assert calls[0][:2] == ["systemctl", "show"] and calls[0][-1] == "apt-daily.timer"
    (entry,) = result["timers_drift"]
    assert entry["unit"] == "apt-daily.timer" and entry["reload"] is True
    assert entry["foreign"] == [str(dropins / "zz.conf")]

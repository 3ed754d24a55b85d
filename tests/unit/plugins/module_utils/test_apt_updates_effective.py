# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""needrestart's and the apt timers' effective settings (module_utils/_apt_updates.py)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._apt_updates import (
    NEEDRESTART_EVAL,
    conf_writers,
    dropin_dir_names,
    needrestart_drift,
    parse_needrestart,
    parse_systemctl_show,
    timer_drift,
)

OURS = "/etc/needrestart/conf.d/bulwark.conf"
LATER = "/etc/needrestart/conf.d/zz-local.conf"


def test_parse_needrestart():
    text = "restart\ta\nunit\tssh\t0,0\nunit\tsshd\t\nnoise\n"
    assert parse_needrestart(text) == {"restart": "a", "units": {"ssh": [0, 0], "sshd": []}}


@pytest.mark.parametrize(
    ("effective", "drifted"),
    [
        ({"restart": "a", "units": {"ssh": [0], "sshd": [0, 0]}}, []),
        ({"restart": "l", "units": {"ssh": [0], "sshd": [0]}}, ["$nrconf{restart}"]),
        # No entry matches: needrestart restarts it.
        ({"restart": "a", "units": {"ssh": [], "sshd": [0]}}, ["$nrconf{override_rc} for ssh.service"]),
        # Entries disagree: which one wins depends on Perl's hash order.
        ({"restart": "a", "units": {"ssh": [0, 1], "sshd": [0]}}, ["$nrconf{override_rc} for ssh.service"]),
    ],
)
def test_needrestart_drift(effective, drifted):
    drift = needrestart_drift(effective, "a", ["ssh", "sshd"], {"restart": [LATER], "override_rc": []}, OURS)
    assert [entry["name"] for entry in drift] == drifted


def test_needrestart_drift_names_the_later_file():
    (entry,) = needrestart_drift({"restart": "l", "units": {}}, "a", [], {"restart": [LATER]}, OURS)
    assert entry["files"] == [LATER]
    assert LATER in entry["sentence"] and f"read after {OURS}" in entry["sentence"]
    assert '"l"' in entry["sentence"] and '"a"' in entry["sentence"]


def test_conf_writers_names_only_files_read_after_ours():
    texts = [
        ("/etc/needrestart/needrestart.conf", "$nrconf{override_rc} = { qr(^dbus) => 0 };\n"),
        ("/etc/needrestart/conf.d/a.conf", "$nrconf{restart} = 'i';\n"),
        (OURS, "$nrconf{restart} = 'a';\n$nrconf{override_rc}->{qr'^ssh\\.service$'} = 0;\n"),
        ("/etc/needrestart/conf.d/y.conf", "# $nrconf{restart} = 'l';\n"),
        (LATER, "$nrconf{ restart } = 'l';\n$nrconf{override_rc} = {};\n"),
    ]
    assert conf_writers(texts, OURS) == {"restart": [LATER], "override_rc": [LATER]}


@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl")
def test_needrestart_eval_reads_conf_d_as_needrestart_does(tmp_path):
    confd = tmp_path / "conf.d"
    confd.mkdir()
    main = tmp_path / "needrestart.conf"
    main.write_text(
        "$nrconf{override_rc} = { qr(^dbus) => 0 };\n"
        f"foreach my $fn (sort <{confd}/*.conf>) {{ eval do {{ local(@ARGV, $/) = $fn; <>}}; die $@ if $@; }}\n"
    )
    (confd / "bulwark.conf").write_text("$nrconf{restart} = 'a';\n$nrconf{override_rc}->{qr'^ssh\\.service$'} = 0;\n")
    (confd / "zz.conf").write_text("$nrconf{restart} = 'l';\n")
    argv = ["perl", "-e", NEEDRESTART_EVAL, str(main), "ssh", "cron"]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert parse_needrestart(out.stdout) == {"restart": "l", "units": {"ssh": [0], "cron": []}}


def test_dropin_dir_names():
    assert dropin_dir_names("apt-daily-upgrade.timer") == [
        "timer.d",
        "apt-.timer.d",
        "apt-daily-.timer.d",
        "apt-daily-upgrade.timer.d",
    ]


def test_parse_systemctl_show():
    text = "Id=a.timer\nLoadState=loaded\nDropInPaths=/x.conf /y.conf\n\nId=b.timer\nLoadState=masked\n"
    assert parse_systemctl_show(text) == {
        "a.timer": {"Id": "a.timer", "LoadState": "loaded", "DropInPaths": "/x.conf /y.conf"},
        "b.timer": {"Id": "b.timer", "LoadState": "masked"},
    }


OUR_DROPIN = "/etc/systemd/system/apt-daily.timer.d/bulwark-schedule.conf"


def shown(dropins="", reload="no", load="loaded"):
    return {
        "apt-daily.timer": {
            "Id": "apt-daily.timer",
            "LoadState": load,
            "DropInPaths": dropins,
            "NeedDaemonReload": reload,
        }
    }


@pytest.mark.parametrize(
    ("props", "disk", "expected", "foreign", "reload"),
    [
        # Declared and loaded: nothing.
        (shown(OUR_DROPIN), {"dropins": [OUR_DROPIN], "fragments": []}, OUR_DROPIN, None, None),
        # No schedule declared and none there.
        (shown(), {"dropins": [], "fragments": []}, "", None, None),
        # A later runtime drop-in, loaded.
        (
            shown(f"{OUR_DROPIN} /run/systemd/system/apt-daily.timer.d/zz.conf"),
            {"dropins": [OUR_DROPIN, "/run/systemd/system/apt-daily.timer.d/zz.conf"], "fragments": []},
            OUR_DROPIN,
            ["/run/systemd/system/apt-daily.timer.d/zz.conf"],
            False,
        ),
        # A drop-in written but not loaded yet: on disk is enough.
        (
            shown(reload="yes"),
            {"dropins": ["/etc/systemd/system/timer.d/zz.conf"], "fragments": []},
            "",
            ["/etc/systemd/system/timer.d/zz.conf"],
            True,
        ),
        # A loaded drop-in removed since: only a reload.
        (
            shown("/etc/systemd/system/apt-daily.timer.d/gone.conf", "yes"),
            {"dropins": [], "fragments": []},
            "",
            [],
            True,
        ),
        # Our own drop-in, present although no schedule is declared.
        (shown(OUR_DROPIN), {"dropins": [OUR_DROPIN], "fragments": []}, "", [OUR_DROPIN], False),
        # A unit file replacing the packaged one.
        (
            shown(),
            {"dropins": [], "fragments": ["/etc/systemd/system/apt-daily.timer"]},
            "",
            ["/etc/systemd/system/apt-daily.timer"],
            False,
        ),
        # Masked: the timers' own check.
        (shown(reload="yes", load="masked"), {"dropins": [], "fragments": []}, "", None, None),
    ],
)
def test_timer_drift(props, disk, expected, foreign, reload):
    drift = timer_drift(props, {"apt-daily.timer": disk}, {"apt-daily.timer": expected})
    if foreign is None:
        assert drift == []
    else:
        (entry,) = drift
        assert (entry["foreign"], entry["reload"]) == (foreign, reload)
        assert entry["sentence"].startswith("apt-daily.timer: ")
        assert all(path in entry["sentence"] for path in foreign)

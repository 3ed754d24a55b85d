# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _packages as p

STATUS = """\
Package: telnet
Status: install ok installed
Version: 0.17+2.4-2+deb12u3

Package: logrotate
Status: deinstall ok config-files
Version: 3.21.0-1

Package: cups-bsd
Status: install ok installed

Package: cups-daemon
Status: purge ok not-installed

Package: libc6
Architecture: i386
Status: deinstall ok config-files

Package: libc6
Architecture: amd64
Status: install ok installed

Package: apache2
Status: install ok half-configured
"""

# apt-get --simulate purge --autoremove telnet avahi-daemon rpcbind cups-bsd (Debian 12, trimmed).
SIMULATION = """\
Reading package lists...
The following packages will be REMOVED:
  avahi-daemon* cups-bsd* inetutils-telnet* netbase* rpcbind* telnet*
0 upgraded, 0 newly installed, 6 to remove and 0 not upgraded.
Purg avahi-daemon [0.8-10+deb12u1]
Purg cups-bsd [2.4.2-3+deb12u9]
Purg telnet [0.17+2.4-2+deb12u3]
Purg inetutils-telnet [2:2.4-2+deb12u3]
Remv libfoo:amd64 [1.0]
Purg rpcbind [1.2.6-6+b1]
Purg netbase [6.4]
"""


def test_parse_dpkg_status():
    states = p.parse_dpkg_status(STATUS)
    assert states == {
        "telnet": "installed",
        "logrotate": "config-files",
        "cups-bsd": "installed",
        "cups-daemon": "not-installed",
        "libc6": "installed",
        "apache2": "half-configured",
    }


@pytest.mark.parametrize(
    ("patterns", "keep", "installed", "residual"),
    [
        (["telnet", "cups*"], [], ["cups-bsd", "telnet"], []),
        (["cups*"], ["cups-bsd"], [], []),
        (["logrotate"], [], [], ["logrotate"]),
        (["apache2"], [], ["apache2"], []),
        (["nosuch*"], [], [], []),
        ([], [], [], []),
    ],
)
def test_select(patterns, keep, installed, residual):
    assert p.select(p.parse_dpkg_status(STATUS), patterns, keep) == (installed, residual)


def test_simulation_removals():
    assert p.simulation_removals(SIMULATION) == [
        "avahi-daemon",
        "cups-bsd",
        "inetutils-telnet",
        "libfoo",
        "netbase",
        "rpcbind",
        "telnet",
    ]
    assert p.simulation_removals("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n") == []


def test_refusals_name_pattern_and_reason():
    removals = ["apache2", "libpopt0", "rsync", "telnet"]
    assert p.refusals(removals, protected=["apache2*", "rsync"], keep=["libpopt*"]) == [
        {"package": "apache2", "pattern": "apache2*", "why": "protected"},
        {"package": "libpopt0", "pattern": "libpopt*", "why": "kept"},
        {"package": "rsync", "pattern": "rsync", "why": "protected"},
    ]


@pytest.mark.parametrize(
    ("patterns", "refused"),
    [
        (["rsync"], ["rsync"]),
        (["php8.2-fpm", "telnet"], ["php8.2-fpm"]),
        (["telnet", "cups*"], []),
    ],
)
def test_pattern_refusals(patterns, refused):
    result = p.pattern_refusals(patterns, protected=["php*", "rsync"])
    assert [r["package"] for r in result] == refused


def test_purge_list_from_the_users_lists():
    states = p.parse_dpkg_status(STATUS + "\nPackage: rpcbind\nStatus: install ok installed\n")
    result = p.purge_list(
        states,
        blocklist=["telnet", "rpcbind", "cups*"],
        blocklist_extra=["logrotate", "telnet"],
        keep=["cups-daemon"],
        services={"nfs": {"ports": [2049]}},
    )
    assert result == {
        "patterns": ["telnet", "cups*", "logrotate"],
        "installed": ["cups-bsd", "telnet"],
        "residual": ["logrotate"],
        "purge": ["cups-bsd", "logrotate", "telnet"],
    }
    everything = p.purge_list(states, blocklist=["telnet"], residual=True)
    assert (everything["residual"], everything["purge"]) == (["logrotate"], ["logrotate", "telnet"])
    assert p.purge_list(states, blocklist=["cups*"], keep=["cups-*"])["purge"] == []
    # A protected (or kept) package removed by hand keeps its configuration: a role installs it again.
    spared = p.purge_list(states, blocklist=["telnet"], residual=True, spare=["logrot*"])
    assert (spared["residual"], spared["purge"]) == ([], ["telnet"])
    assert p.purge_list(states, blocklist=["telnet"], residual=True, keep=["logrotate"])["residual"] == []


@pytest.mark.parametrize(
    ("names", "autoremove", "simulate", "argv"),
    [
        (["telnet"], True, True, ["apt-get", "--simulate", "-q", "--autoremove", "purge", "telnet"]),
        (["telnet"], False, True, ["apt-get", "--simulate", "-q", "purge", "telnet"]),
        ([], True, True, ["apt-get", "--simulate", "-q", "--purge", "autoremove"]),
        (
            ["a", "b"],
            True,
            False,
            ["apt-get", "--yes", "-q", "-o", "DPkg::Lock::Timeout=60", "--autoremove", "purge", "a", "b"],
        ),
        ([], True, False, ["apt-get", "--yes", "-q", "-o", "DPkg::Lock::Timeout=60", "--purge", "autoremove"]),
    ],
)
def test_apt_argv_purges_what_was_simulated(names, autoremove, simulate, argv):
    assert p.apt_argv("apt-get", names, autoremove=autoremove, simulate=simulate, lock_timeout=60) == argv


def test_the_built_in_protected_list_keeps_the_web_stack_and_remote_access():
    removals = ["apache2-bin", "libapache2-mod-php8.2", "php8.2-fpm", "openssh-server", "python3.11", "telnet"]
    assert [r["package"] for r in p.refusals(removals, p.PROTECTED)] == removals[:-1]


def test_refusal_message_names_the_variables_and_why():
    refused = [
        {"package": "php8.2-fpm", "pattern": "php*", "why": "protected"},
        {"package": "libpopt0", "pattern": "libpopt*", "why": "kept"},
    ]
    assert p.refusal_message(refused, ["telnet", "php8.2-fpm"], ["rsync", "telnet"]) == (
        "minimal_packages refuses to purge, nothing was changed: "
        "php8.2-fpm matches the protected pattern 'php*' (named by minimal_packages_blocklist(_extra)); "
        "libpopt0 matches the minimal_packages_keep entry 'libpopt*' (apt would remove it along with rsync, telnet); "
        "take it out of minimal_packages_blocklist(_extra), add what apt would take along to minimal_packages_keep, "
        "or mark it manually installed (apt-mark manual)."
    )

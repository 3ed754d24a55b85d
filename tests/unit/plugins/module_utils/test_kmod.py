# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils import _kmod as kmod

SHOWCONFIG = """\
blacklist usb_storage
blacklist pcspkr
install cramfs /bin/true
install usb_storage /bin/false
install snd* /sbin/modprobe --ignore-install $CMDLINE_OPTS && echo hi
install cramfs /bin/false
remove usb_storage /bin/true
alias usb-storage-alias usb_storage
options usb_storage delay_use=1

# End of configuration files. Dumping indexes now:

alias fs-udf udf
blacklist not_a_config_line
"""

PROC_MODULES = """\
usb_storage 81920 1 uas, Live 0x0000000000000000
uas 32768 0 - Live 0x0000000000000000
sctp 434176 4 - Live 0x0000000000000000 (E)
nf_conntrack 176128 3 xt_conntrack,nf_nat,nf_conntrack_netlink, Live 0x0000000000000000
ipv6 557056 - [permanent], Live 0xffffffffc0400000
"""


@pytest.mark.parametrize(
    "names, bad",
    [
        (["usb-storage", "cramfs", "nf_conntrack"], []),
        (["usb storage", "cramfs", "x;rm", "*", ""], ["usb storage", "x;rm", "*", ""]),
        (["../etc"], ["../etc"]),
    ],
)
def test_invalid_names(names, bad):
    assert kmod.invalid_names(names) == bad


def test_wanted_treats_dash_and_underscore_as_one():
    assert kmod.wanted(["usb-storage", "usb_storage", "sctp", "dccp"]) == ["dccp", "sctp", "usb_storage"]


def test_render():
    assert kmod.render(["cramfs", "usb_storage"]) == (
        kmod.HEADER
        + "install cramfs /bin/false\nblacklist cramfs\ninstall usb_storage /bin/false\nblacklist usb_storage\n"
    )
    assert "Managed by bulwark.hardening (os_baseline)" in kmod.HEADER


def test_parse_showconfig_stops_at_the_indexes():
    installs, blacklisted = kmod.parse_showconfig(SHOWCONFIG)
    assert blacklisted == {"usb_storage", "pcspkr"}
    assert installs == [
        ("cramfs", "/bin/true"),
        ("usb_storage", "/bin/false"),
        ("snd*", "/sbin/modprobe --ignore-install $CMDLINE_OPTS && echo hi"),
        ("cramfs", "/bin/false"),
    ]


@pytest.mark.parametrize(
    "module, winner",
    [
        ("cramfs", ("cramfs", "/bin/true")),  # the first match wins, as in kmod
        ("usb_storage", ("usb_storage", "/bin/false")),
        ("snd_pcm", ("snd*", "/sbin/modprobe --ignore-install $CMDLINE_OPTS && echo hi")),
        ("udf", None),
    ],
)
def test_install_for(module, winner):
    assert kmod.install_for(kmod.parse_showconfig(SHOWCONFIG)[0], module) == winner


def test_parse_proc_modules():
    loaded = kmod.parse_proc_modules(PROC_MODULES + "garbage\n")
    assert loaded["usb_storage"] == {"refcount": 1, "users": ["uas"], "state": "Live"}
    assert loaded["uas"] == {"refcount": 0, "users": [], "state": "Live"}
    assert loaded["nf_conntrack"]["users"] == ["xt_conntrack", "nf_nat", "nf_conntrack_netlink"]
    assert loaded["ipv6"] == {"refcount": None, "users": ["[permanent]"], "state": "Live"}
    assert len(loaded) == 5


@pytest.mark.parametrize(
    "name, why",
    [
        ("usb_storage", "used by uas"),
        ("uas", None),
        ("sctp", "in use (refcount 4)"),
        ("ipv6", "used by [permanent]"),
    ],
)
def test_in_use(name, why):
    assert kmod.in_use(kmod.parse_proc_modules(PROC_MODULES)[name]) == why


@pytest.mark.parametrize(
    "path, name",
    [
        ("kernel/fs/udf/udf.ko", "udf"),
        ("kernel/drivers/usb/storage/usb-storage.ko.xz", "usb_storage"),
        ("kernel/net/sctp/sctp.ko.zst", "sctp"),
        ("kernel/fs/cramfs/cramfs.ko.gz\n", "cramfs"),
        ("modules.order", None),
        ("", None),
    ],
)
def test_module_name_of(path, name):
    assert kmod.module_name_of(path) == name


def test_parse_modules_builtin_and_dep():
    assert kmod.parse_modules_builtin("kernel/fs/ext4/ext4.ko\nkernel/drivers/usb/storage/usb-storage.ko\n") == {
        "ext4",
        "usb_storage",
    }
    dep = "kernel/net/sctp/sctp.ko.xz: kernel/lib/libcrc32c.ko.xz\nkernel/lib/libcrc32c.ko.xz:\n"
    assert kmod.parse_modules_dep(dep) == {"sctp", "libcrc32c"}


@pytest.mark.parametrize(
    "builtin, loaded, in_sys, initstate, expected",
    [
        ({"udf"}, {}, False, False, True),  # modules.builtin says so
        (set(), {}, True, False, True),  # /sys/module without initstate and not loaded
        (set(), {}, True, True, False),  # a loadable module has an initstate
        (set(), {"udf": {}}, True, False, False),
        (set(), {}, False, False, False),
    ],
)
def test_is_builtin(builtin, loaded, in_sys, initstate, expected):
    assert kmod.is_builtin("udf", builtin, loaded, in_sys, initstate) is expected


def test_showconfig_argv_plain_without_candidate():
    assert kmod.showconfig_argv("/sbin/modprobe", None, "/etc/modprobe.d/b.conf") == ["/sbin/modprobe", "-c"]


@pytest.mark.parametrize(
    "dest, order",
    [
        ("/etc/modprobe.d/b.conf", ["/tmp/c", "/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d"]),
        ("/run/modprobe.d/b.conf", ["/etc/modprobe.d", "/tmp/c", "/run/modprobe.d", "/lib/modprobe.d"]),
        ("/srv/b.conf", ["/tmp/c", "/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d"]),
    ],
)
def test_showconfig_argv_puts_the_candidate_before_dest(dest, order):
    dirs = ("/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d")
    argv = kmod.showconfig_argv("modprobe", "/tmp/c", dest, dirs)
    assert argv[:2] == ["modprobe", "-c"]
    assert argv[2::2] == ["-C"] * len(order)
    assert argv[3::2] == order


def test_config_files_follow_kmods_order():
    listing = [
        ("/etc/modprobe.d", ["bulwark-hardening.conf", "00-local.conf", "README", ".hidden.conf"]),
        ("/run/modprobe.d", ["zz.conf"]),
        ("/lib/modprobe.d", ["00-local.conf", "aliases.conf", ".conf"]),
    ]
    assert kmod.config_files(listing) == [
        "/etc/modprobe.d/00-local.conf",
        "/lib/modprobe.d/aliases.conf",
        "/etc/modprobe.d/bulwark-hardening.conf",
        "/run/modprobe.d/zz.conf",
    ]


def test_conf_installs():
    text = "# c\ninstall usb-storage /bin/true\nblacklist x\ninstall snd \\\n  /bin/true\ninstall bad\n"
    assert kmod.conf_installs(text) == [("usb_storage", "/bin/true"), ("snd", "/bin/true")]


def test_describe_override():
    assert kmod.describe_override("cramfs", "/bin/true", "/etc/modprobe.d/a.conf") == (
        "/etc/modprobe.d/a.conf: install cramfs /bin/true"
    )
    assert kmod.describe_override("cramfs", "/bin/true", None) == "install cramfs /bin/true"


def test_state_diff():
    before, after = kmod.state_diff(
        ["sctp", "usb_storage"], {"cramfs": "/etc/modprobe.d/a.conf: install cramfs /bin/true"}
    )
    assert before == "sctp loaded\nusb_storage loaded\ncramfs /etc/modprobe.d/a.conf: install cramfs /bin/true\n"
    assert after == "sctp not loaded\nusb_storage not loaded\ncramfs install /bin/false\n"
    assert kmod.state_diff([], {}) == ("", "")

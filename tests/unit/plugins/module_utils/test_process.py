# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a module runs in a container: one answer for every module that must know (sysctl_settings,
kernel_modules)."""

from __future__ import annotations

import subprocess
import time

from ansible_collections.bulwark.hardening.plugins.module_utils._process import boot_time, in_container, process_start


class Module:
    def __init__(self, detect, rc):
        self.detect, self.rc, self.calls = detect, rc, []

    def get_bin_path(self, name):
        return self.detect if name == "systemd-detect-virt" else None

    def run_command(self, argv, environ_update=None):
        self.calls.append(argv)
        return self.rc, "docker\n" if self.rc == 0 else "none\n", ""


def test_a_marker_is_enough_without_asking_systemd(tmp_path):
    (tmp_path / "container").write_text("docker\n")
    module = Module("/usr/bin/systemd-detect-virt", 1)
    assert in_container(module, (str(tmp_path / "container"),)) is True
    assert module.calls == []


def test_without_a_marker_systemd_detect_virt_decides(tmp_path):
    markers = (str(tmp_path / "none"),)
    assert in_container(Module("/usr/bin/systemd-detect-virt", 0), markers) is True
    assert in_container(Module("/usr/bin/systemd-detect-virt", 1), markers) is False
    assert in_container(Module(None, 0), markers) is False
    assert in_container(None, markers) is False


def test_a_process_start_is_precise_to_a_tick_not_btimes_whole_second():
    # btime in /proc/stat is truncated to a whole second: a start computed from it came out up to a
    # second early. A child started now must not appear to have started before now.
    before = time.time()
    child = subprocess.Popen(["sleep", "5"])
    try:
        started = process_start(child.pid)
    finally:
        child.kill()
        child.wait()
    assert before - 0.05 <= started <= time.time() + 0.05, (before, started)
    with open("/proc/uptime", encoding="ascii") as handle:
        uptime = float(handle.read().split()[0])
    assert abs(boot_time() - (time.time() - uptime)) < 0.05

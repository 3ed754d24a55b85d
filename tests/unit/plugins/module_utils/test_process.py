# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a module runs in a container: one answer for every module that must know (sysctl_settings,
kernel_modules)."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils._process import in_container


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

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils._files import read_text
from ansible_collections.bulwark.hardening.plugins.module_utils._loaded import read_boot_id
from ansible_collections.bulwark.hardening.plugins.module_utils._process import parent_of


def test_reads_utf8_text(tmp_path):
    path = tmp_path / "f"
    path.write_bytes("Port 22\nBanner é\n".encode())
    assert read_text(path) == "Port 22\nBanner é\n"


def test_a_bad_byte_is_replaced_by_default(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"a\xffb")
    assert read_text(path) == "a\ufffdb"


def test_surrogateescape_keeps_a_bad_byte_for_a_round_trip(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"a\xffb")
    text = read_text(path, errors="surrogateescape")
    assert text.encode("utf-8", "surrogateescape") == b"a\xffb"


@pytest.mark.parametrize("default", ["", None, "0"])
def test_a_missing_file_is_the_default(tmp_path, default):
    assert read_text(tmp_path / "missing", default) == default


def test_an_unreadable_file_is_the_default(tmp_path):
    # A directory raises IsADirectoryError on open, as root too (a mode would not stop root).
    assert read_text(tmp_path, "fallback") == "fallback"


def test_tolerating_only_missing_lets_other_errors_through(tmp_path):
    assert read_text(tmp_path / "missing", None, FileNotFoundError) is None
    with pytest.raises(IsADirectoryError):
        read_text(tmp_path, None, FileNotFoundError)


def test_tolerating_nothing_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_text(tmp_path / "missing", tolerate=())


def test_users_parent_of_reads_proc_and_a_gone_process_is_none():
    assert parent_of(os.getpid()) == os.getppid()
    assert parent_of(2**22 + 1) is None  # above pid_max's ceiling: never a live process


def test_users_boot_id_is_stripped_and_a_missing_file_is_unknown(tmp_path):
    path = tmp_path / "boot_id"
    path.write_text("0b1c\n")
    assert read_boot_id(str(path)) == "0b1c"
    assert read_boot_id(str(tmp_path / "missing")) == "unknown-boot"

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import stat
from collections import Counter

import pytest

from ansible_collections.bulwark.hardening.plugins.modules import ssh_moduli as mod
from ansible_collections.bulwark.hardening.tests.unit.plugins.modules.utils import (
    ExitJson,
    FailJson,
    patch_exits,
    patch_module_args,
)


def modulus(size_field, n=1):
    return f"20230316{n:06d} 2 6 100 {size_field} 5 {'F' * 16}\n"


HEADER = "#    $OpenBSD: moduli,v 1.33 2023/03/15 $\n# Time Type Tests Tries Size Generator Modulus\n"
MODULI = (
    HEADER
    + modulus(2047, 1)
    + modulus(2047, 2)
    + modulus(3071, 3)
    + "\n"
    + modulus(4095, 4)
    + modulus(4095, 5)
    + modulus(8191, 6)
)


@pytest.fixture
def moduli(monkeypatch, tmp_path):
    patch_exits(monkeypatch)
    path = tmp_path / "ssh" / "moduli"
    path.parent.mkdir()
    path.write_text(MODULI)
    path.chmod(0o640)
    return path


def run(args, tmp_path, expect=ExitJson):
    workdir = tmp_path / "ansible-tmp"
    workdir.mkdir(exist_ok=True)
    with patch_module_args({**args, "_ansible_tmpdir": str(workdir)}), pytest.raises(expect) as caught:
        mod.main()
    return caught.value.args[0]


@pytest.mark.parametrize(
    "min_bits, kept, removed",
    [
        (3072, {3072: 1, 4096: 2, 8192: 1}, {2048: 2}),
        (4096, {4096: 2, 8192: 1}, {2048: 2, 3072: 1}),
        (3073, {4096: 2, 8192: 1}, {2048: 2, 3072: 1}),
        (2048, {2048: 2, 3072: 1, 4096: 2, 8192: 1}, {}),
        (8193, {}, {2048: 2, 3072: 1, 4096: 2, 8192: 1}),
    ],
)
def test_filter_moduli_sizes(min_bits, kept, removed):
    text, kept_sizes, removed_sizes = mod.filter_moduli(MODULI, min_bits)
    assert kept_sizes == Counter(kept)
    assert removed_sizes == Counter(removed)
    assert text.startswith(HEADER)
    assert text.count("\n") == MODULI.count("\n") - sum(removed.values())


def test_filter_moduli_keeps_3071_field_at_3072():
    text = mod.filter_moduli(MODULI, 3072)[0]
    assert text == HEADER + modulus(3071, 3) + "\n" + modulus(4095, 4) + modulus(4095, 5) + modulus(8191, 6)


@pytest.mark.parametrize("line", ["20230316 2 6 100 3071 5\n", "20230316 2 6 100 big 5 FFFF\n"])
def test_filter_moduli_rejects_malformed_lines(line):
    with pytest.raises(ValueError, match="line 3 is not a moduli entry"):
        mod.filter_moduli(HEADER + line, 3072)


def test_size_summary():
    assert mod.size_summary(Counter({4096: 2, 2048: 1})) == "2048 bits: 1\n4096 bits: 2\n"
    assert mod.size_summary(Counter()) == "no moduli\n"


def test_removes_short_moduli_with_backup(moduli, tmp_path):
    os.chmod(moduli, 0o640)
    result = run({"path": str(moduli)}, tmp_path)
    assert (result["changed"], result["removed"], result["kept"]) == (True, 2, 4)
    assert moduli.read_text() == mod.filter_moduli(MODULI, 3072)[0]
    assert stat.S_IMODE(os.stat(moduli).st_mode) == 0o640
    backup = result["backup_file"]
    assert backup.startswith(str(moduli) + ".")
    with open(backup) as handle:
        assert handle.read() == MODULI
    assert "diff" not in result

    again = run({"path": str(moduli)}, tmp_path)
    assert (again["changed"], again["removed"], again["kept"]) == (False, 0, 4)
    assert "backup_file" not in again


def test_no_backup(moduli, tmp_path):
    result = run({"path": str(moduli), "min_bits": 4096, "backup": False}, tmp_path)
    assert (result["removed"], result["kept"]) == (3, 3)
    assert "backup_file" not in result
    assert sorted(os.listdir(moduli.parent)) == ["moduli"]


def test_check_mode_with_diff_writes_nothing(moduli, tmp_path):
    result = run({"path": str(moduli), "_ansible_check_mode": True, "_ansible_diff": True}, tmp_path)
    assert (result["changed"], result["removed"], result["kept"]) == (True, 2, 4)
    assert moduli.read_text() == MODULI
    assert sorted(os.listdir(moduli.parent)) == ["moduli"]
    assert result["diff"]["before"] == "2048 bits: 2\n3072 bits: 1\n4096 bits: 2\n8192 bits: 1\n"
    assert result["diff"]["after"] == "3072 bits: 1\n4096 bits: 2\n8192 bits: 1\n"


def test_refuses_to_remove_every_modulus(moduli, tmp_path):
    result = run({"path": str(moduli), "min_bits": 16384}, tmp_path, expect=FailJson)
    assert "without moduli" in result["msg"] and "16384" in result["msg"]
    assert moduli.read_text() == MODULI


def test_malformed_file_fails(moduli, tmp_path):
    moduli.write_text(HEADER + "garbage\n")
    result = run({"path": str(moduli)}, tmp_path, expect=FailJson)
    assert "line 3 is not a moduli entry: garbage" in result["msg"]


def test_missing_file_fails(tmp_path, moduli):
    result = run({"path": str(tmp_path / "nope")}, tmp_path, expect=FailJson)
    assert result["msg"].startswith("cannot read moduli file")

# Copyright: (c) 2026, bulwark.hardening contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ssh_moduli
short_description: Remove short Diffie-Hellman moduli from the OpenSSH moduli file
description:
  - Removes every Diffie-Hellman group shorter than O(min_bits) from the OpenSSH moduli file, so that
    C(diffie-hellman-group-exchange-*) key exchange never picks a weak group.
  - Comments and blank lines are kept. The file is replaced atomically and keeps its mode and owner.
  - Refuses to write a file with no modulus left, because C(sshd) would then fall back to fixed groups.
version_added: 0.2.0
extends_documentation_fragment:
  - bulwark.hardening.module
attributes:
  diff_mode:
    details: The diff is a summary (number of moduli per size), not the file itself.
  platform:
    platforms: posix
options:
  path:
    description:
      - Path of the moduli file.
    type: path
    default: /etc/ssh/moduli
  min_bits:
    description:
      - Smallest modulus size, in bits, to keep.
      - The file's fifth field is the size minus one (V(3071) for a 3072-bit modulus); a line is kept
        when that field plus one is at least O(min_bits).
    type: int
    default: 3072
  backup:
    description:
      - Keep a timestamped copy of the original file next to it before changing it.
    type: bool
    default: true
notes:
  - Malformed lines (not seven fields, or a non-numeric size) make the module fail rather than guess.
seealso:
  - module: bulwark.hardening.sshd_effective_config
"""

EXAMPLES = r"""
- name: Keep only Diffie-Hellman moduli of 3072 bits or more
  bulwark.hardening.ssh_moduli:
  notify: Restart sshd (bulwark)

- name: Keep only 4096-bit and larger moduli, without a backup
  bulwark.hardening.ssh_moduli:
    path: /etc/ssh/moduli
    min_bits: 4096
    backup: false
"""

RETURN = r"""
removed:
  description: Number of moduli removed (or that would be removed in check mode).
  returned: success
  type: int
  sample: 124
kept:
  description: Number of moduli left in the file.
  returned: success
  type: int
  sample: 288
backup_file:
  description: Path of the backup of the original file.
  returned: when a backup was made
  type: str
  sample: /etc/ssh/moduli.4242.2026-01-01@12:00:00~
"""

# Imports follow the documentation blocks, as in every Ansible module (hence the E402 waivers).
import os
import tempfile
from collections import Counter

from ansible.module_utils.basic import AnsibleModule


def filter_moduli(text, min_bits):
    """Drop moduli shorter than ``min_bits`` from a moduli file's text.

    Returns ``(new_text, kept_sizes, removed_sizes)`` where the sizes are
    Counters of modulus size in bits.  Raises ValueError naming the first
    malformed line.
    """
    out = []
    kept = Counter()
    removed = Counter()
    for number, line in enumerate(text.splitlines(True), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            out.append(line)
            continue
        fields = stripped.split()
        if len(fields) != 7 or not fields[4].isdigit():
            raise ValueError(f"line {number} is not a moduli entry: {stripped[:80]}")
        bits = int(fields[4]) + 1
        if bits >= min_bits:
            kept[bits] += 1
            out.append(line)
        else:
            removed[bits] += 1
    return "".join(out), kept, removed


def size_summary(sizes):
    """One line per modulus size, e.g. ``3072 bits: 40``; for the diff."""
    if not sizes:
        return "no moduli\n"
    return "".join(f"{bits} bits: {sizes[bits]}\n" for bits in sorted(sizes))


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/ssh/moduli"},
            "min_bits": {"type": "int", "default": 3072},
            "backup": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    min_bits = module.params["min_bits"]

    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "surrogateescape")
    except OSError as exc:
        module.fail_json(msg=f"cannot read moduli file {path}: {exc}")

    try:
        new_text, kept, removed = filter_moduli(text, min_bits)
    except ValueError as exc:
        module.fail_json(msg=f"{path}: {exc}")

    n_kept = sum(kept.values())
    n_removed = sum(removed.values())
    if n_kept == 0:
        sizes = ", ".join(str(bits) for bits in sorted(removed)) or "none"
        module.fail_json(
            msg=f"refusing to leave {path} without moduli: none of its {n_removed} moduli "
            f"has {min_bits} bits or more (sizes: {sizes})",
        )

    result = {"changed": n_removed > 0, "removed": n_removed, "kept": n_kept}
    if module._diff:
        before = kept + removed
        result["diff"] = {
            "before_header": f"{path} (moduli per size)",
            "after_header": f"{path} (moduli per size)",
            "before": size_summary(before),
            "after": size_summary(kept),
        }

    if result["changed"] and not module.check_mode:
        if module.params["backup"]:
            try:
                result["backup_file"] = module.backup_local(path)
            except Exception as exc:  # backup_local() raises a bare Exception
                module.fail_json(msg=f"cannot back up {path}: {exc}")
        fd, tmp = tempfile.mkstemp(prefix=".moduli.", dir=module.tmpdir)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(new_text.encode("utf-8", "surrogateescape"))
            module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    module.exit_json(**result)


if __name__ == "__main__":
    main()

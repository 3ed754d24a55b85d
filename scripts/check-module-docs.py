"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN parse as YAML (seconds, where ansible-test's
validate-modules takes minutes): a ': ' inside a plain list item breaks a whole module's docs.

usage: python scripts/check-module-docs.py [FILE...]   (default: plugins/**/*.py)
"""

from __future__ import annotations

import ast
import pathlib
import sys

import yaml

BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def problems(path: pathlib.Path) -> list[str]:
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if name in BLOCKS and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            try:
                yaml.safe_load(node.value.value)
            except yaml.YAMLError as exc:
                out.append(f"{path}: {name} is not YAML: {' '.join(str(exc).split())}")
    return out


def main(argv: list[str]) -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    files = [pathlib.Path(arg) for arg in argv] or sorted((root / "plugins").rglob("*.py"))
    found = [line for path in files for line in problems(path)]
    for line in found:
        print(line, file=sys.stderr)
    print(f"check-module-docs: {len(files)} files, {len(found)} broken documentation block(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

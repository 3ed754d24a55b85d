"""Render each role's variable table from meta/argument_specs.yml into its README.md.

The table goes between the lines ``<!-- BEGIN VARIABLES -->`` and ``<!-- END VARIABLES -->``.
With ``--check`` nothing is written; the exit code says whether any README is out of date.
"""

from __future__ import annotations

import pathlib
import re
import sys

import yaml

BEGIN = "<!-- BEGIN VARIABLES -->"
END = "<!-- END VARIABLES -->"


def cell(value) -> str:
    text = " ".join(value) if isinstance(value, list) else str(value)
    text = re.sub(r"\b[CVOR]\(([^)]*)\)", r"`\1`", text)  # Ansible doc markup to Markdown
    text = re.sub(r"\bI\(([^)]*)\)", r"*\1*", text)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def table(spec: dict) -> str:
    rows = ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for name, option in spec.get("options", {}).items():
        kind = option.get("type", "str")
        if kind == "list" and "elements" in option:
            kind = f"list of {option['elements']}"
        if "choices" in option:
            kind += " (" + ", ".join(f"`{choice}`" for choice in option["choices"]) + ")"
        default = ""
        if "default" in option:
            dumped = yaml.safe_dump(option["default"], default_flow_style=True)
            default = f"`{dumped.strip().removesuffix('...').strip()}`"
        rows.append(f"| `{name}` | {cell(kind)} | {cell(default)} | {cell(option.get('description', ''))} |")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for specs in sorted(pathlib.Path("roles").glob("*/meta/argument_specs.yml")):
        role = specs.parent.parent
        readme = role / "README.md"
        spec = yaml.safe_load(specs.read_text())["argument_specs"]["main"]
        text = readme.read_text() if readme.exists() else ""
        if BEGIN not in text or END not in text:
            stale.append(f"{readme}: no {BEGIN} ... {END} markers")
            continue
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        new = f"{head}{BEGIN}\n{table(spec)}\n{END}{tail}"
        if new != text:
            stale.append(f"{readme}: variable table is out of date (run scripts/role-docs.py)")
            if not check:
                readme.write_text(new)
    if check and stale:
        print("\n".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

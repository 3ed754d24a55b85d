"""Render each role's variable table and drift controls into its README.md.

The variables come from meta/argument_specs.yml and go between ``<!-- BEGIN VARIABLES -->`` and
``<!-- END VARIABLES -->``; the role's drift controls come from the catalogue
(plugins/module_utils/_controls.py) and go between ``<!-- BEGIN CONTROLS -->`` and
``<!-- END CONTROLS -->``. With ``--check`` nothing is written; the exit code says whether any
README is out of date.
"""

from __future__ import annotations

import importlib.util
import pathlib
import re
import sys

import yaml

BEGIN = "<!-- BEGIN VARIABLES -->"
END = "<!-- END VARIABLES -->"
BEGIN_CONTROLS = "<!-- BEGIN CONTROLS -->"
END_CONTROLS = "<!-- END CONTROLS -->"
CATALOGUE = "plugins/module_utils/_controls.py"


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


def controls(catalogue: dict, role: str) -> str:
    """The role's drift controls as the report names them, in the catalogue's order."""
    rows = [
        f"What `playbooks/drift.yml` reports for this role, from the catalogue (`{CATALOGUE}`).",
        "",
        "| Control | Title | Measure | CIS Debian 12 |",
        "| --- | --- | --- | --- |",
    ]
    for ident, entry in catalogue.items():
        if entry["role"] == role:
            rows.append(
                f"| `{ident}` | {cell(entry['title'])} | {cell(entry['measure'])} | {cell(entry.get('cis', ''))} |"
            )
    return "\n".join(rows)


def load_catalogue() -> dict:
    """The catalogue's CONTROLS, read from its file (no Ansible, no collection path needed)."""
    spec = importlib.util.spec_from_file_location("_bulwark_controls", CATALOGUE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CONTROLS


def between(text: str, begin: str, end: str, body: str) -> str | None:
    """The text with ``body`` between the two marker lines, or None when a marker is missing."""
    if begin not in text or end not in text:
        return None
    head, rest = text.split(begin, 1)
    return f"{head}{begin}\n{body}\n{end}{rest.split(end, 1)[1]}"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    catalogue = load_catalogue()
    for specs in sorted(pathlib.Path("roles").glob("*/meta/argument_specs.yml")):
        role = specs.parent.parent
        readme = role / "README.md"
        spec = yaml.safe_load(specs.read_text())["argument_specs"]["main"]
        text = readme.read_text() if readme.exists() else ""
        new = between(text, BEGIN, END, table(spec))
        if new is None:
            stale.append(f"{readme}: no {BEGIN} ... {END} markers")
            continue
        if any(entry["role"] == role.name for entry in catalogue.values()):
            new = between(new, BEGIN_CONTROLS, END_CONTROLS, controls(catalogue, role.name))
            if new is None:
                stale.append(f"{readme}: no {BEGIN_CONTROLS} ... {END_CONTROLS} markers")
                continue
        if new != text:
            stale.append(f"{readme}: variable or control table is out of date (run scripts/role-docs.py)")
            if not check:
                readme.write_text(new)
    if check and stale:
        print("\n".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Drift injections for the common role's controls (see extensions/molecule/drift_matrix.py)."""

from drift_matrix import Injection, NotInjectable

FACT = "/etc/ansible/facts.d/bulwark.fact"

INJECTIONS = [
    Injection(
        control="COMMON-RECORD",
        via="file",
        what="the record of the managing collection names another version",
        inject=(
            'python3 -c \'import json, sys; p = sys.argv[1]; d = json.load(open(p)); d["version"] = "0.0.1";'
            f' json.dump(d, open(p, "w"))\' {FACT}'
        ),
    ),
    NotInjectable(
        control="COMMON-RECORD",
        via="override",
        why="Ansible reads a local fact from its one file in facts.d; nothing reads it with higher priority.",
    ),
    NotInjectable(
        control="COMMON-RECORD",
        via="daemon",
        why="A record on disk, read by no running process.",
    ),
]

#!/usr/bin/env bash
# The tests of what the collection ships beside its plugins and of its neighbours on the controller
# (tests/extras): the scheduling recipe's extras/drift_check.py, run with an empty environment, and
# ARA's callback recording beside drift_report. Check runs of a fixture playbook through the local
# connection, writing only under pytest's temporary directory; no container. Needs the collection
# tree (make tree; ANSIBLE_COLLECTIONS_PATH) and the venv with ARA (requirements-dev.txt).
#   usage: scripts/extras.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$PWD/.tmp/collections}"
exec "${PYTHON:-python}" -m pytest -q -p no:cacheprovider tests/extras "$@"

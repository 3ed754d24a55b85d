#!/usr/bin/env bash
# The static checks of `make lint`: YAML, Ansible (production profile), Python, the plugins' docs as
# YAML, the collection's version, the role docs, the drift controls, the CIS coverage table, the yardstick summary's parsers
# and the changelog.
# Reads the repository only; runs from the collection tree that `make tree` made
# (ANSIBLE_COLLECTIONS_PATH), so `make test` runs it beside the scenarios (scripts/test-parallel.sh)
# without touching their tree.
#   usage: scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
run() { echo "+ $*"; "$@"; }
run yamllint -s .
run ansible-lint --profile production
run ruff check plugins tests extensions scripts extras
run ruff format --check plugins tests extensions scripts extras
scripts/check-version.sh
run python scripts/check-module-docs.py
run python scripts/role-docs.py --check
run python scripts/check-controls.py
run python scripts/check-controls.py --self-test
# The CIS Level 1 coverage (meta/cis/): the data always, the table once os_baseline's README exists.
if [[ -f roles/os_baseline/README.md ]]; then
  run python scripts/cis-coverage.py --check roles/os_baseline/README.md
else
  echo "cis-coverage: roles/os_baseline/README.md does not exist yet: its table is not checked, only the data"
  run python scripts/cis-coverage.py --check
fi
run python scripts/cis-coverage.py --self-test
run python scripts/yardstick-summary.py --self-test
run antsibull-changelog lint

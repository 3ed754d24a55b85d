#!/usr/bin/env bash
# The static checks of `make lint`: YAML, Ansible (production profile), Python, the collection's
# version, the role docs, the drift controls, the yardstick summary's parsers and the changelog.
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
run python scripts/role-docs.py --check
run python scripts/check-controls.py
run python scripts/check-controls.py --self-test
run python scripts/yardstick-summary.py --self-test
run antsibull-changelog lint

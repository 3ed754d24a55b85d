#!/usr/bin/env bash
# Print the path of a Python >= 3.12 for the controller venv, or explain and fail.
# Order: the interpreter .python-version selects (pyenv), then python3.13/3.12/python3.
set -euo pipefail
cd "$(dirname "$0")/.."
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  candidates+=("$(pyenv which python 2>/dev/null || true)")
fi
candidates+=(python3.13 python3.12 python3)
for py in "${candidates[@]}"; do
  [ -n "$py" ] || continue
  path=$(command -v "$py" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
cat >&2 <<MSG
find-python: no Python >= 3.12 found (ansible-core 2.21 needs it on the controller).
Install one, e.g. with pyenv ('pyenv install 3.13' - .python-version selects it), or a
distribution package such as python3.13 with its venv module, then re-run.
MSG
exit 1

#!/usr/bin/env bash
# Run `molecule test` for each named scenario, one after the other, timing each.
# Keeps going after a failure so one run shows every broken scenario; exits 1 if any failed.
#   usage: scripts/molecule.sh SCENARIO...
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0 summary=()
for scenario in "$@"; do
  start=$(date +%s)
  echo "=== molecule: $scenario"
  if molecule test -s "$scenario"; then
    passed=$((passed + 1)) result=passed
  else
    failed=$((failed + 1)) result=FAILED
  fi
  summary+=("$(printf '%-24s %-7s %4ss' "$scenario" "$result" $(( $(date +%s) - start )))")
done
echo "=== molecule scenarios"
printf '  %s\n' "${summary[@]}"
echo "molecule: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

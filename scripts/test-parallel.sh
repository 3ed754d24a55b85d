#!/usr/bin/env bash
# The long part of `make test`, side by side: the test images and then the Molecule scenarios
# (scripts/build-images.sh, scripts/molecule.sh) and,
# next to them, the static checks (scripts/lint.sh), then ansible-test sanity and units on the
# newest ansible-core and on every version of requirements-matrix.txt (CORES). Lint only reads, and ansible-test works in
# trees of its own, so neither touches the collection tree the scenarios run from. Their output
# goes to .tmp/sanity-units.log; its tail is printed last when they failed.
#   usage: CORES="2.16 2.19" scripts/test-parallel.sh SCENARIO...
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
log=.tmp/sanity-units.log
start=$(date +%s)
(
  set -e
  echo "=== lint"
  scripts/lint.sh
  for what in sanity units; do
    echo "=== $what: newest ansible-core"
    scripts/ansible-test.sh "$what"
    for core in ${CORES:-}; do
      echo "=== $what: ansible-core $core"
      CORE=$core scripts/ansible-test.sh "$what"
    done
  done
) >"$log" 2>&1 &
checks=$!
# How busy the machine was (vmstat every 10 s), to tune MOLECULE_JOBS by.
vmstat -n 10 >.tmp/cpu.log 2>&1 &
sampler=$!

# The test images (cached by recipe) are built while the checks run: they need no image.
if scripts/build-images.sh; then
  scripts/molecule.sh "$@"
  molecule=$?
else
  echo "=== the test images could not be built"
  molecule=1
fi
wait "$checks"
checked=$?
kill "$sampler" 2>/dev/null
awk 'NR > 2 && $15 ~ /^[0-9]+$/ {n++; idle += $15} END {if (n) printf "=== the machine was %d%% idle on average (.tmp/cpu.log)\n", idle / n}' .tmp/cpu.log
if [ "$checked" -eq 0 ]; then
  echo "=== lint, sanity and units (${CORES:-} and the newest ansible-core): passed"
else
  echo "=== lint/sanity/units FAILED - last lines of $log"
  tail -n 80 "$log"
fi
echo "=== molecule, lint, sanity and units took $(( $(date +%s) - start ))s"
[ "$molecule" -eq 0 ] && [ "$checked" -eq 0 ]

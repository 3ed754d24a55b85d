#!/usr/bin/env bash
# The whole of `make test`, with what does not depend on each other side by side:
#   - the Docker engine (scripts/ensure-docker.sh) and then the test images (scripts/build-images.sh)
#     and the VM guests' images (make vm-image), all cached by recipe, which need neither the venv nor
#     the collection;
#   - meanwhile the venv, the collection tree and the EE build context (`make tree ee`), then the
#     static checks (scripts/lint.sh) and ansible-test sanity and units on the newest ansible-core
#     and on every version of requirements-matrix.txt (CORES), then the tests of extras/ (scripts/extras.sh)
#     and the HTML drift report in headless chromium (scripts/browser-test.sh, which installs it when missing);
#   - the Molecule scenarios (scripts/molecule.sh) once the images and the tree are there.
# Lint only reads, and ansible-test works in trees of its own, so neither touches the collection
# tree the scenarios run from. The output of the checks goes to .tmp/sanity-units.log, that of the
# engine and images to .tmp/images.log; their tails are printed when they failed.
#   usage: CORES="2.16 2.19" scripts/test-parallel.sh SCENARIO...
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp
log=.tmp/sanity-units.log
start=$(date +%s)

# The VM guests' images (make vm-image: QEMU and debootstrap installed where missing) beside the
# containers', once the engine's packages are in (one apt at a time).
(
  scripts/ensure-docker.sh || exit 1
  scripts/build-images.sh &
  containers=$!
  ${MAKE:-make} --no-print-directory vm-image VM_RELEASES="${VM_RELEASES:-bookworm}" &
  vms=$!
  # Both waited for, so that neither build outlives this step when the other fails.
  wait "$containers"
  built=$?
  wait "$vms" && [ "$built" -eq 0 ]
) >.tmp/images.log 2>&1 &
images=$!
if ! ${MAKE:-make} --no-print-directory tree ee; then
  echo "=== make tree ee FAILED"
  wait "$images"
  exit 1
fi

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
  echo "=== extras"
  scripts/extras.sh
  echo "=== browser: the HTML drift report in headless chromium"
  scripts/browser-test.sh
) >"$log" 2>&1 &
checks=$!
# How busy the machine was (vmstat every 10 s), to tune MOLECULE_JOBS by.
vmstat -n 10 >.tmp/cpu.log 2>&1 &
sampler=$!

if wait "$images"; then
  cat .tmp/images.log
  scripts/molecule.sh "$@"
  molecule=$?
else
  echo "=== the Docker engine, the test images or the VM images FAILED - last lines of .tmp/images.log"
  tail -n 40 .tmp/images.log
  molecule=1
fi
wait "$checks"
checked=$?
kill "$sampler" 2>/dev/null
awk 'NR > 2 && $15 ~ /^[0-9]+$/ {n++; idle += $15} END {if (n) printf "=== the machine was %d%% idle on average (.tmp/cpu.log)\n", idle / n}' .tmp/cpu.log
if [ "$checked" -eq 0 ]; then
  echo "=== lint, sanity and units (${CORES:-} and the newest ansible-core), extras, browser: passed"
else
  echo "=== lint/sanity/units/extras/browser FAILED - last lines of $log"
  tail -n 80 "$log"
fi
echo "=== molecule, lint, sanity, units and extras took $(( $(date +%s) - start ))s"
# CI shows only the last lines of the output: why a scenario failed, once more, at the very end.
if [ "$molecule" -ne 0 ]; then
  grep -h -E ': missed |named without' .tmp/molecule-logs/drift-matrix.why 2>/dev/null | head -n 6
  for why in .tmp/molecule-logs/*.why; do
    case $why in */drift-matrix.why) continue ;; esac
    [ -f "$why" ] && tail -n 8 "$why"
  done
fi
[ "$molecule" -eq 0 ] && [ "$checked" -eq 0 ]

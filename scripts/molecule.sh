#!/usr/bin/env bash
# Run `molecule test` for each named scenario, MOLECULE_JOBS at a time (default 3: the
# scenarios are independent - own containers, own network. On the 2-core machine three keep it
# busy: `make test` with three took 1950 s for this part, with four 2075 s, the machine 0% idle;
# test-parallel.sh logs how idle it stays, .tmp/cpu.log). Each scenario logs to
# .tmp/molecule-logs/<scenario>.log; a failed scenario's log tail is printed. Keeps going
# after a failure so one run shows every broken scenario; exits 1 if any failed.
#   usage: scripts/molecule.sh SCENARIO...
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=${MOLECULE_JOBS:-3}
logs=.tmp/molecule-logs
rm -rf "$logs" .tmp/drift-matrix && mkdir -p "$logs"
# The VM scenarios' VMs (scripts/vm.sh) belong to this run: stopped when it ends, also when it is
# interrupted; those of an earlier run that was killed outright (no trap ran) go first.
export BULWARK_VM_OWNER=$$
scripts/vm.sh prune
trap 'scripts/vm.sh down --owner "$BULWARK_VM_OWNER" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run_one() {
  local scenario=$1 start result
  start=$(date +%s)
  # Each log line starts with the seconds since the scenario started, to see where its time goes.
  if molecule test -s "$scenario" 2>&1 | perl -pe 'BEGIN { $| = 1; $t0 = time } s/^/sprintf("%4d ", time - $t0)/e' \
      >"$logs/$scenario.log"; then result=passed; else result=FAILED; fi
  # The second line of `times`: CPU time of this job's children (molecule, ansible, pytest), not
  # of the containers. (Not in a $(...): a subshell starts with none.)
  times >"$logs/$scenario.times"
  printf '%-24s %-7s %4ss  controller cpu %s\n' "$scenario" "$result" $(( $(date +%s) - start )) \
    "$(sed -n 2p "$logs/$scenario.times")" >"$logs/$scenario.result"
  echo "=== molecule: $(cat "$logs/$scenario.result")"
}

# Longest first (measured), so the last to finish is a short one; the rest in the given order.
slow="site kernel site_existing os_baseline controller immutable ssh_hardening php_hardening fail2ban apache_hardening minimal_packages unattended_upgrades ufw rollback quickstart ssh_guard"
ordered=()
for scenario in $slow; do
  for given in "$@"; do [ "$given" = "$scenario" ] && ordered+=("$scenario"); done
done
for given in "$@"; do
  case " $slow " in *" $given "*) ;; *) ordered+=("$given") ;; esac
done
set -- "${ordered[@]}"

start_all=$(date +%s)
for scenario in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  echo "=== molecule: starting $scenario"
  run_one "$scenario" &
done
wait

passed=0 failed=0
for scenario in "$@"; do
  if grep -q ' passed ' "$logs/$scenario.result" 2>/dev/null; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "=== molecule: $scenario FAILED - last lines of $logs/$scenario.log"
    tail -n 150 "$logs/$scenario.log" | sed "s/^/[$scenario] /"
    # CI shows only the end of the output: the lines that say why, once more, last.
    # test-parallel.sh prints the .why files once more at its very end.
    { echo "=== molecule: $scenario FAILED - why (from $logs/$scenario.log)"
      sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^ *[0-9]* //' "$logs/$scenario.log" \
        | grep -E 'fatal:|FAILED!|│ E   |^E   |ERROR |^FAILED |^(E  +)?batch [0-9]+: ' | cut -c1-300 | tail -n 25 \
        | sed "s/^/[$scenario] /"; } | tee "$logs/$scenario.why"
  fi
done
echo "=== molecule scenarios ($jobs at a time, $(( $(date +%s) - start_all ))s in all)"
cat "$logs"/*.result 2>/dev/null | sed 's/^/  /'
# The drift matrices of the scenarios that ran one, together (each scenario's tests assert its own).
python3 scripts/drift-matrix.py | tee "$logs/drift-matrix.why" || true
echo "molecule: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Fleet benchmark (a measurement, not a test): playbooks/site.yml from this controller over SSH
# (key auth as "admin" with sudo, pipelining, ControlPersist) against N fresh Debian 12 containers,
# for N in BENCH_SIZES (default "1 5 20"): the hardening run, a rerun (no changes) and a --check
# run, each with wall time, the controller's CPU time (user+sys of ansible-playbook and its
# children: "ctl cpu"), the whole machine's CPU time ("all cpu": controller and targets, which
# share this machine's cores), executed tasks per host and the changed/failed totals. On the
# largest N the rerun and check are repeated with forks=N, and the rerun with the free strategy.
# Logs: .tmp/fleet-logs/. Prints a table; removes its
# containers (bulwark-fleet-*) and network (bulwark-fleet) on exit.
#   usage: scripts/bench-fleet.sh            BENCH_SIZES="1 5" scripts/bench-fleet.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export PATH="$repo/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-$repo/.tmp/collections}"
read -r -a sizes <<<"${BENCH_SIZES:-1 5 20}"
image=bulwark/debian-systemd:bookworm
net=bulwark-fleet
mkdir -p "$repo/.tmp"
work=$(mktemp -d "$repo/.tmp/fleet.XXXXXX")
# Each run's ansible-playbook output, kept after the benchmark.
logs="$repo/.tmp/fleet-logs"
rm -rf "$logs" && mkdir -p "$logs"
started=()

cleanup() {
  [ "${#started[@]}" -eq 0 ] || docker rm -f "${started[@]}" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
}

# CPU time of the whole machine (controller, targets, docker) in clock ticks, from /proc/stat.
machine_cpu() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Containers as the scenarios' (scripts/systemd-container.sh: systemd as PID 1, named capabilities).
start_fleet() {
  local n=$1 i name
  for i in $(seq 1 "$n"); do
    name=bulwark-fleet-$i
    docker rm -f "$name" >/dev/null 2>&1 || true
    scripts/systemd-container.sh start "$name" "$image" --network "$net" --label owner=bulwark-fleet
    started+=("$name")
  done
  scripts/systemd-container.sh wait "${started[@]}"
}

stop_fleet() {
  docker rm -f "${started[@]}" >/dev/null 2>&1 || true
  started=()
  # The next fleet reuses names and addresses with new host keys and no SSH masters.
  rm -rf "$work/known_hosts" "$work/cp" && mkdir -p "$work/cp"
}

# Two inventories of the same hosts: over docker for the fixture, over SSH for the benchmark.
write_inventory() {
  local n=$1 i
  {
    echo "fleet:"
    echo "  hosts:"
    for i in $(seq 1 "$n"); do
      echo "    bulwark-fleet-$i:"
      echo "      ansible_host: $(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "bulwark-fleet-$i")"
    done
    echo "  vars:"
    echo "    ansible_user: admin"
    echo "    ansible_ssh_private_key_file: $work/id_admin"
    echo "    ansible_python_interpreter: /usr/bin/python3"
  } >"$work/inventory.yml"
}

# One timed ansible-playbook run; appends a table row.
#   run N FORKS STRATEGY LABEL [ARGS...]
run() {
  local n=$1 forks=$2 strategy=$3 label=$4
  shift 4
  local log="$logs/$n-$forks-$strategy-$label.log" times rc=0 before after
  before=$(machine_cpu)
  times=$( { TIMEFORMAT='%R %U %S'; time ANSIBLE_FORKS=$forks ANSIBLE_STRATEGY=$strategy \
    ansible-playbook -i "$work/inventory.yml" playbooks/site.yml "$@" >"$log" 2>&1; } 2>&1 ) || rc=$?
  after=$(machine_cpu)
  # Sums over the fleet from PLAY RECAP; "tasks/host" = ok+failed of the first host (executed).
  read -r ok changed failed unreachable skipped < <(awk '
    /^PLAY RECAP/ {on = 1; next}
    on && / : ok=/ {for (i = 1; i <= NF; i++) {split($i, kv, "="); c[kv[1]] += kv[2]; if (!first) f[kv[1]] = kv[2]}
                    first = 1}
    END {print f["ok"] + f["failed"], c["changed"] + 0, c["failed"] + 0, c["unreachable"] + 0, f["skipped"] + 0}' "$log")
  read -r wall user sys <<<"$times"
  printf '%4s %5s %-7s %-8s %8.1f %8.1f %8.1f %10s %8s %7s %6s\n' "$n" "$forks" "$strategy" "$label" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l)" \
    "$ok/$skipped" "$changed" "$failed" "$unreachable" | tee -a "$work/table"
  printf '%s %s %s %s %s\n' "$n" "$forks" "$strategy" "$label" "$wall" >>"$work/times"
  [ "$rc" -eq 0 ] || { echo "  ($label failed, rc=$rc; tail of $log:)"; tail -25 "$log" | sed 's/^/    /'; }
}

docker network rm "$net" >/dev/null 2>&1 || true
docker network create --label owner=bulwark-fleet "$net" >/dev/null
ssh-keygen -q -t ed25519 -N '' -C bulwark-fleet -f "$work/id_admin"
mkdir -p "$work/cp"

export ANSIBLE_NOCOLOR=1 ANSIBLE_INJECT_FACT_VARS=false ANSIBLE_PIPELINING=true ANSIBLE_RETRY_FILES_ENABLED=false
export ANSIBLE_SSH_CONTROL_PATH_DIR="$work/cp"
export ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=accept-new"

header=$(printf '%4s %5s %-7s %-8s %8s %8s %8s %10s %8s %7s %6s' N forks strategy run "wall s" "ctl cpu" "all cpu" "tasks/skip" changed failed unrch)
echo "bench-fleet: playbooks/site.yml over SSH against N fresh Debian 12 containers ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
echo "$header"
largest=${sizes[-1]}
for n in "${sizes[@]}"; do
  start_fleet "$n"
  write_inventory "$n"
  ANSIBLE_FORKS=20 ansible-playbook -i "$work/inventory.yml" -e bench_key="$work/id_admin" \
    scripts/fleet/prepare.yml >"$logs/prepare-$n.log" 2>&1 \
    || { echo "prepare failed for N=$n:"; tail -20 "$logs/prepare-$n.log"; exit 1; }
  run "$n" 5 linear converge
  run "$n" 5 linear rerun
  run "$n" 5 linear check --check
  if [ "$n" = "$largest" ] && [ "$n" -gt 5 ]; then
    run "$n" "$n" linear rerun
    run "$n" "$n" linear check --check
    run "$n" "$n" free rerun
  fi
  stop_fleet
done

# The issue's target: with the default forks, the largest fleet's rerun and check take at most
# 4x the one-host time.
if [ "${sizes[0]}" = 1 ] && [ "$largest" != 1 ]; then
  for label in rerun check; do
    one=$(awk -v l="$label" '$1 == 1 && $2 == 5 && $4 == l {print $5}' "$work/times")
    big=$(awk -v n="$largest" -v l="$label" '$1 == n && $2 == 5 && $4 == l {print $5}' "$work/times")
    printf '%s: %s hosts / 1 host = %.2fx (target <= 4x)\n' "$label" "$largest" "$(echo "$big / $one" | bc -l)"
  done
fi

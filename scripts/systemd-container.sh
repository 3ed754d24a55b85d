#!/usr/bin/env bash
# The one place where a test container is described: systemd as PID 1 without --privileged
# (which fails on the test machines, and would hide a missing capability), the named capabilities
# the roles need (ufw's iptables, chattr +i, sshd's audit messages), the host's cgroups, tmpfs on
# /run. Molecule's shared/create.yml and destroy.yml, make demo and the benches all use it.
#   scripts/systemd-container.sh start NAME IMAGE [docker run options]   start one, do not wait
#   scripts/systemd-container.sh wait NAME...    until systemd has booted in each (side by side)
#   scripts/systemd-container.sh up NETWORK NAME=IMAGE...
#       the network and the containers that do not exist yet, then wait for all of them
#   scripts/systemd-container.sh down NETWORK NAME...   remove the containers and the network
# A Molecule scenario's create and destroy steps are one command each: starting, polling and
# removing through a module per container cost a module run (a Python start on the controller) per
# container and per poll, several seconds of CPU per scenario.
set -euo pipefail

start() {
  local name=$1 image=$2
  shift 2
  docker run -d --name "$name" --hostname "$name" \
    --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW --cap-add LINUX_IMMUTABLE --cap-add AUDIT_WRITE \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    "$@" "$image" /lib/systemd/systemd >/dev/null
}

# Until boot is over, systemd-tmpfiles may clean /tmp under a first module's payload (seen on a
# loaded machine as "No such file or directory: .../apt_payload.zip"), so wait for the end of boot.
# Right after the start there is no bus to ask yet ("Failed to connect to bus"): ask again.
# At most 180 s in all, however the asking fails (a hung exec is cut at what is left).
wait_booted() {
  local name=$1 state= deadline=$((SECONDS + 180))
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(timeout $((deadline - SECONDS)) docker exec "$name" systemctl is-system-running --wait 2>/dev/null || true)
    case "$state" in running | degraded) return 0 ;; esac
    sleep 2
  done
  echo "systemd-container: systemd in $name did not finish booting within 180 s (state: ${state:-none})" >&2
  return 1
}

wait_all() {
  local pids=() name failed=0
  for name; do
    wait_booted "$name" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return "$failed"
}

case ${1:-} in
  start)
    shift
    start "$@"
    ;;
  wait)
    shift
    wait_all "$@"
    ;;
  up)
    network=$2
    shift 2
    docker network inspect "$network" >/dev/null 2>&1 \
      || docker network create --label owner=molecule "$network" >/dev/null
    names=()
    for pair; do
      name=${pair%%=*}
      names+=("$name")
      # A container left by an interrupted run is used as it is (Molecule's destroy step removes
      # them first in every scenario's sequence).
      if docker container inspect "$name" >/dev/null 2>&1; then
        docker start "$name" >/dev/null
      else
        start "$name" "${pair#*=}" --network "$network" --label owner=molecule
      fi
    done
    wait_all "${names[@]}"
    ;;
  down)
    network=$2
    shift 2
    [ "$#" -eq 0 ] || docker rm -f -v "$@" >/dev/null 2>&1 || true
    if docker network inspect "$network" >/dev/null 2>&1; then docker network rm "$network" >/dev/null; fi
    ;;
  *)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac

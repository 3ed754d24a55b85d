#!/usr/bin/env bash
# Test hosts with their own kernel: the VM counterpart of scripts/systemd-container.sh. Each VM boots
# a fresh qcow2 overlay on the cached base image of its release (scripts/build-vm-image.sh), with
# QEMU's user-mode network bound to 127.0.0.1 (SSH, HTTP and HTTPS forwarded to free ports), its
# serial console in a log file, 1 vCPU and BULWARK_VM_MEMORY MiB (default 1024, at most 1536).
# Real hardware KVM where /dev/kvm is one (vmx/svm in /proc/cpuinfo and not the paravirtual
# kvm_pvm), TCG otherwise; BULWARK_VM_ACCEL=tcg|kvm decides instead.
#   scripts/vm.sh up NAME=RELEASE...   start the VMs that do not run yet, side by side, and wait until
#                                      the admin logs in over SSH and `sudo -n true` works in each
#   scripts/vm.sh down NAME...         stop them, remove their overlays; console logs are kept
#   scripts/vm.sh state NAME...        the VMs' connection data, a JSON list (each in RUN/NAME/state.json)
#   scripts/vm.sh ssh NAME [COMMAND]   log in as the admin (for debugging)
#   scripts/vm.sh down --owner PID     stop the VMs started with BULWARK_VM_OWNER=PID
#   scripts/vm.sh prune                stop the VMs whose owner process is gone (a killed run)
# scripts/molecule.sh exports BULWARK_VM_OWNER (its PID), stops its VMs when it exits - also when
# interrupted - and prunes those of an earlier run that was killed outright.
# Directories: RUN=${BULWARK_VM_RUN:-CHECKOUT/.tmp/vm} holds NAME/{overlay.qcow2,qemu.pid,
# console.log,state.json} - one per checkout, so that two checkouts testing side by side (a worktree
# beside the main one) never stop each other's VM of the same name; `down` moves console.log to
# ${BULWARK_VM_LOGS:-RUN/logs}/NAME.console.log (Molecule's shared/vm-destroy.yml sets it to the scenario logs' directory). The wait for SSH ends
# after BULWARK_VM_BOOT_TIMEOUT seconds (default 300 under TCG, 120 with KVM) with the console's last
# lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
run=${BULWARK_VM_RUN:-$(dirname "$here")/.tmp/vm}
logs=${BULWARK_VM_LOGS:-$run/logs}
memory=${BULWARK_VM_MEMORY:-1024}
case $memory in '' | *[!0-9]*) echo "vm: BULWARK_VM_MEMORY must be a number of MiB, not '$memory'" >&2; exit 2 ;; esac
[ "$memory" -ge 512 ] && [ "$memory" -le 1536 ] \
  || { echo "vm: BULWARK_VM_MEMORY=$memory MiB is outside 512-1536" >&2; exit 2; }

# KVM only where it is hardware virtualisation: on a paravirtual KVM (kvm_pvm) a stock Debian
# kernel does not boot.
accel() {
  case ${BULWARK_VM_ACCEL:-} in
    tcg | kvm) echo "$BULWARK_VM_ACCEL"; return ;;
    '') ;;
    *) echo "vm: BULWARK_VM_ACCEL must be tcg or kvm" >&2; exit 2 ;;
  esac
  if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ ! -d /sys/module/kvm_pvm ] \
    && grep -qwE 'vmx|svm' /proc/cpuinfo; then
    echo kvm
  else
    echo tcg
  fi
}

# N free TCP ports on 127.0.0.1, all different (held together while they are chosen).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# The QEMU process of a VM, if it still runs (a stale pidfile or a reused pid is not it).
qemu_pid() {
  local dir=$run/$1 pid
  [ -s "$dir/qemu.pid" ] || return 1
  pid=$(cat "$dir/qemu.pid")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-name $1 " || return 1
  echo "$pid"
}

# "NAME OWNER" for each VM of RUN (OWNER empty for one started without BULWARK_VM_OWNER).
owners() {
  local dir name
  for dir in "$run"/*/; do
    [ -s "$dir/state.json" ] || continue
    name=$(basename "$dir")
    echo "$name $(state_field "$name" owner 2>/dev/null || true)"
  done
}

state_field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$run/$1/state.json" "$2"
}

# The admin's SSH command line for a VM, in the array ssh_argv.
ssh_command() {
  ssh_argv=(ssh -i "$(state_field "$1" key)" -p "$(state_field "$1" ssh_port)"
    -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
    -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=3
    "$(state_field "$1" user)@127.0.0.1")
}

start() {
  local name=$1 release=$2 image accel dir ports ssh http https cpu
  image=$("$here/build-vm-image.sh" "$release")
  accel=$(accel)
  dir=$run/$name
  rm -rf "$dir"
  mkdir -p "$dir"
  qemu-img create -q -f qcow2 -b "$image/disk.qcow2" -F qcow2 "$dir/overlay.qcow2"
  read -r ssh http https <<<"$(free_ports 3)"
  if [ "$accel" = kvm ]; then
    cpu=(-accel kvm -cpu host)
  else
    # QEMU's translation cache is 1 GiB per VM by default; 256 MiB is enough here.
    cpu=(-accel tcg,thread=multi,tb-size=256 -cpu max)
  fi
  cat >"$dir/state.json" <<EOF
{"name": "$name", "release": "$release", "address": "127.0.0.1", "ssh_port": $ssh, "http_port": $http,
 "https_port": $https, "user": "admin", "key": "$(dirname "$image")/id_ed25519", "accel": "$accel",
 "image": "$image", "console": "$dir/console.log", "owner": "${BULWARK_VM_OWNER:-}"}
EOF
  # The overlay is thrown away with the VM: the host's cache need not hold its writes for it
  # (cache=unsafe only drops flushes; a reboot of the guest keeps everything it wrote).
  qemu-system-x86_64 -name "$name" -machine q35 "${cpu[@]}" -smp 1 -m "$memory" \
    -nodefaults -display none -monitor none -serial "file:$dir/console.log" \
    -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 systemd.hostname=$name" \
    -drive "file=$dir/overlay.qcow2,if=virtio,format=qcow2,cache=unsafe,discard=unmap" \
    -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$ssh-:22,hostfwd=tcp:127.0.0.1:$http-:80,hostfwd=tcp:127.0.0.1:$https-:443" \
    -device virtio-net-pci,netdev=net0 \
    -object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0 \
    -pidfile "$dir/qemu.pid" -daemonize 2>"$dir/qemu.err" \
    || { cat "$dir/qemu.err" >&2; echo "vm: QEMU did not start $name" >&2; return 1; }
}

# The forwarded port accepts connections long before sshd runs: only a real login counts.
wait_ssh() {
  local name=$1 limit deadline
  if [ "$(state_field "$name" accel)" = kvm ]; then limit=${BULWARK_VM_BOOT_TIMEOUT:-120}; else limit=${BULWARK_VM_BOOT_TIMEOUT:-300}; fi
  deadline=$((SECONDS + limit))
  ssh_command "$name"
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! qemu_pid "$name" >/dev/null; then
      echo "vm: QEMU of $name exited; last console lines:" >&2
      tail -n 30 "$run/$name/console.log" >&2 || true
      return 1
    fi
    if timeout 60 "${ssh_argv[@]}" sudo -n true </dev/null >/dev/null 2>&1; then
      return 0
    fi
    sleep 3
  done
  echo "vm: no SSH login with sudo to $name within $limit s; last console lines:" >&2
  tail -n 30 "$run/$name/console.log" >&2 || true
  return 1
}

stop() {
  local name=$1 dir=$run/$1 pid i
  if pid=$(qemu_pid "$name"); then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 50); do
      [ -d "/proc/$pid" ] || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  if [ -d "$dir" ]; then
    if [ -s "$dir/console.log" ]; then
      mkdir -p "$logs"
      mv "$dir/console.log" "$logs/$name.console.log"
    fi
    rm -rf "$dir"
  fi
}

case ${1:-} in
  up)
    shift
    names=()
    for pair; do
      name=${pair%%=*}
      names+=("$name")
      # A VM left running by an interrupted run is used as it is (Molecule's destroy step removes
      # them first in every scenario's sequence); one whose QEMU died is started afresh.
      qemu_pid "$name" >/dev/null || start "$name" "${pair#*=}"
    done
    pids=()
    for name in "${names[@]}"; do
      wait_ssh "$name" &
      pids+=($!)
    done
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    exit "$failed"
    ;;
  down)
    shift
    if [ "${1:-}" = --owner ]; then
      [ -n "${2:-}" ] || { echo "vm: down --owner needs a PID" >&2; exit 2; }
      set -- $(owners | awk -v owner="$2" '$2 == owner {print $1}')
    fi
    for name; do stop "$name"; done
    ;;
  prune)
    owners | while read -r name owner; do
      if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
        echo "vm: stopping $name, left by a run that is gone (pid $owner)" >&2
        stop "$name"
      fi
    done
    ;;
  state)
    shift
    files=()
    for name; do
      [ -s "$run/$name/state.json" ] || { echo "vm: no VM named $name runs here ($run/$name)" >&2; exit 1; }
      files+=("$run/$name/state.json")
    done
    python3 -c 'import json, sys; print(json.dumps([json.load(open(f)) for f in sys.argv[1:]], indent=1))' "${files[@]}"
    ;;
  ssh)
    ssh_command "$2"
    shift 2
    exec "${ssh_argv[@]}" "$@"
    ;;
  *)
    sed -n '2,21p' "$0" >&2
    exit 2
    ;;
esac

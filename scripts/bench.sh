#!/usr/bin/env bash
# make bench: time playbooks/site.yml on a throw-away web host container (Debian 12, Apache with
# mod_php; BENCH_IMAGE for another) - the first (hardening) run, a second (no-change) run, a check
# run and the scheduled drift run (playbooks/drift.yml) - with per-task timings for the slowest
# tasks, and the tasks executed on the host per role in the no-change and the drift run.
# Speed is tracked here, never by a timed test.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
name=bulwark-bench
work=$(mktemp -d "$repo/.tmp/bench.XXXXXX")
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
docker rm -f "$name" >/dev/null 2>&1 || true
scripts/systemd-container.sh start "$name" "${BENCH_IMAGE:-bulwark/debian-systemd:bookworm-modphp}"
scripts/systemd-container.sh wait "$name"
# Over SSH, as a user runs it (key auth as admin with sudo, pipelining, ControlPersist): the
# lockout guards read the real session, and a run that changes sshd or ufw pays for its
# commit-confirmation (a fresh login), which the timings below include.
docker exec "$name" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -qq -y openssh-server >/dev/null'
ssh-keygen -q -t ed25519 -N "" -C bulwark-bench -f "$work/id_bench"
docker exec -i "$name" sh -c 'useradd -m -s /bin/bash admin && install -d -m 0700 -o admin -g admin ~admin/.ssh &&
  cat >~admin/.ssh/authorized_keys && chown admin:admin ~admin/.ssh/authorized_keys &&
  echo "admin ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/admin && chmod 0440 /etc/sudoers.d/admin' <"$work/id_bench.pub"
address=$(docker exec "$name" hostname -I | cut -d" " -f1)
printf 'all:\n  hosts:\n    %s:\n      ansible_host: %s\n      ansible_user: admin\n      ansible_become: true\n      ansible_ssh_private_key_file: %s\n      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes\n  vars:\n    bulwark_services: {http: {ports: [80], unit: apache2.service}}\n' \
  "$name" "$address" "$work/id_bench" >"$work/inventory.yml"
export ANSIBLE_INJECT_FACT_VARS=false ANSIBLE_PIPELINING=true ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks,bulwark.hardening.drift_report
export PROFILE_TASKS_TASK_OUTPUT_LIMIT=200 BULWARK_DRIFT_QUIET=true
run() {
  local label=$1 playbook=playbooks/site.yml; shift
  [ "$label" = drift ] && playbook=playbooks/drift.yml
  local start end
  start=$(date +%s%N)
  BULWARK_DRIFT_REPORT="$work/$label.json" \
    ansible-playbook -i "$work/inventory.yml" "$playbook" "$@" >"$work/$label.log" || [ "$label" = drift ]
  end=$(date +%s%N)
  printf '%-8s %5d ms  %s\n' "$label" $(( (end - start) / 1000000 )) "$(grep -o 'changed=[0-9]*' "$work/$label.log" | head -1)"
  sed -n '/^=\{20,\}/,$p' "$work/$label.log" | sed -n '2,9p' | sed 's/^/    /'
}
echo "bench: playbooks/site.yml on one Debian 12 container, over SSH"
run harden
# The commit-confirmation's share of the hardening run (its fresh login, become and disarm).
sed -n '/^=\{20,\}/,$p' "$work/harden.log" | grep -E 'common : (Wait until the changed daemons|Close the connection in use|Log in afresh with)' |
  sed 's/^/    confirmation: /' || true
run rerun
run check --check
# The scheduled drift run exits 0 (compliant) here; the exit status is not the bench's concern.
run drift --check --diff
# Tasks that ran on the host (skipped ones not counted) in the no-change run, per role.
python3 - "$work/rerun.json" "$work/drift.json" <<'PY'
import json, sys
runs = {"no-change run": sys.argv[1], "drift run": sys.argv[2]}
counts = {label: json.load(open(path))["hosts"] for label, path in runs.items()}
for label, hosts in counts.items():
    for host, data in sorted(hosts.items()):
        tasks = data["tasks"]
        print("executed tasks in the %s on %s: %d" % (label, host, sum(tasks.values())))
        for role, count in sorted(tasks.items(), key=lambda item: -item[1]):
            print("    %-22s %3d" % (role, count))
PY

#!/usr/bin/env bash
# make demo: harden a throw-away Debian 12 systemd container with playbooks/site.yml, show
# the drift report of playbooks/drift.yml (in compliance), tamper with the host by hand, and show
# the drift report again. The container is removed at the end (set KEEP=1 to keep it).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
name=bulwark-demo
work=$(mktemp -d "$repo/.tmp/demo.XXXXXX")
cleanup() {
  [ "${KEEP:-0}" = 1 ] || docker rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting a throw-away Debian 12 systemd container ($name)"
docker rm -f "$name" >/dev/null 2>&1 || true
scripts/systemd-container.sh start "$name" bulwark/debian-systemd:bookworm
scripts/systemd-container.sh wait "$name"
# A web server as admins find it: Apache as Debian ships it (Server: Apache/2.4.x (Debian)).
docker exec "$name" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2 >/dev/null'
# An admin account with a key, as on any real server: the ssh role's lockout guard checks it.
docker exec "$name" sh -c 'useradd -m -s /bin/bash admin && mkdir -p ~admin/.ssh'
ssh-keygen -q -t ed25519 -N '' -C bulwark-demo -f "$work/id_admin"
docker exec -i "$name" sh -c 'cat > ~admin/.ssh/authorized_keys && chown -R admin: ~admin/.ssh && chmod 600 ~admin/.ssh/authorized_keys' <"$work/id_admin.pub"

cat >"$work/inventory.yml" <<YAML
all:
  hosts:
    $name:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: /usr/bin/python3
  vars:
    ssh_hardening_admin_users: [admin]
    # The host's public services, declared once: ufw opens them, the listener audit expects them.
    bulwark_services:
      http: {ports: [80], unit: apache2.service}
YAML

export ANSIBLE_INJECT_FACT_VARS=false ANSIBLE_NOCOWS=1 ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_PIPELINING=true
export ANSIBLE_CALLBACKS_ENABLED=bulwark.hardening.drift_report

step "Hardening it with playbooks/site.yml"
BULWARK_DRIFT_QUIET=true ansible-playbook -i "$work/inventory.yml" playbooks/site.yml

# The scheduled drift run: playbooks/drift.yml exits 0 in compliance, 10 when a host drifted.
drift() {
  local rc=0
  ansible-playbook -i "$work/inventory.yml" playbooks/drift.yml --check --diff >"$work/drift.log" 2>&1 || rc=$?
  sed -n '/BULWARK DRIFT REPORT/,$p' "$work/drift.log"
  echo "(playbooks/drift.yml exit status: $rc)"
}

step "Drift check (playbooks/drift.yml --check --diff) right after hardening"
drift

step "Tampering by hand: password logins on, an extra firewall port open, Apache's ServerTokens"
docker exec "$name" sh -c "sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' /etc/ssh/sshd_config && ufw allow 7777/tcp >/dev/null"
docker exec "$name" sh -c "sed -i 's/^ServerTokens Prod/ServerTokens Full/' /etc/apache2/conf-available/zz-bulwark-hardening.conf"

step "Drift check again: the report names the drifted controls"
drift

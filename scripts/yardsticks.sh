#!/usr/bin/env bash
# make yardsticks: measure the collection the way an auditor would, with tools that are not ours, on
# a VM with its own kernel (scripts/vm.sh), outside `make test`:
#   1. boot one VM (yardstick-RELEASE) and install the scanners in it (OpenSCAP, Lynis);
#   2. build the kernel scenario's fixture on it (extensions/molecule/kernel/prepare.yml: the SSH
#      accounts and drop-ins, the website), so that the two scans differ by the collection's work only;
#   3. scan it: OpenSCAP's CIS level 1 server profile (ComplianceAsCode's data stream from
#      $BULWARK_SCAP_DIR, default ../shared/scap), then `lynis audit system`;
#   4. harden it with the kernel scenario's converge (playbooks/site.yml) over SSH as the admin;
#   5. scan it again the same way; the VM is stopped at the end, whatever happened.
# Reports in .tmp/yardsticks/RELEASE/{bare,hardened}/ (results.xml, report.html, lynis-report.dat,
# lynis.log), the playbooks' logs and the VM's console log beside them, and the summary
# (scripts/yardstick-summary.py: summary.md, summary.json, printed at the end; it fails when a scan
# produced no results). Over an hour under TCG: each Lynis scan took 28 minutes there, each OpenSCAP
# scan 11-13, the converge 15 (Debian 12, the 2-core machine at load 4-8).
# YARDSTICK_SCANS=hardened skips the bare scans (about 40 minutes): the verdict needs the hardened ones only.
#   usage: scripts/yardsticks.sh [bookworm|trixie]      (default bookworm)
set -euo pipefail

release=${1:-bookworm}
case $release in
  bookworm) ds_name=ssg-debian12-ds.xml.xz ;;
  trixie) ds_name=ssg-debian13-ds.xml.xz ;;
  *) echo "yardsticks: unknown release '$release' (bookworm, trixie)" >&2; exit 2 ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scap_dir=${BULWARK_SCAP_DIR:-$repo/../shared/scap}
datastream=$scap_dir/$ds_name
# Before any VM starts: without the data stream there is nothing to measure with.
[ -s "$datastream" ] || {
  echo "yardsticks: no SCAP data stream $datastream (set BULWARK_SCAP_DIR to the directory that holds $ds_name)" >&2
  exit 2
}
profile=xccdf_org.ssgproject.content_profile_cis_level1_server
name=yardstick-$release
out=$repo/.tmp/yardsticks/$release
work=$out/work
scans=${YARDSTICK_SCANS:-bare hardened}
case " $scans " in
  *" hardened "*) ;;
  *) echo "yardsticks: YARDSTICK_SCANS must include hardened, got '$scans'" >&2; exit 2 ;;
esac
rm -rf "$out"
mkdir -p "$out/hardened" "$work"
echo "$scans" >"$out/scans.txt"

export PATH=$repo/.venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$repo/.tmp/collections
scripts/collection-tree.sh >/dev/null

# The VM goes whatever happens; vm.sh down moves its console log next to the reports.
cleanup() {
  BULWARK_VM_LOGS=$out scripts/vm.sh down "$name" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Each step's wall time and the machine's load when it ended (a TCG guest shares 2 cores), for the
# summary: "step<TAB>seconds<TAB>load averages". A failing step ends the run (set -e holds inside it).
step() {
  local label=$1 start
  shift
  echo "== $label ($(date -u +%H:%M:%S) UTC)"
  start=$SECONDS
  "$@"
  printf '%s\t%d\t%s\n' "$label" $((SECONDS - start)) "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/times.tsv"
}

guest() { scripts/vm.sh ssh "$name" "$@"; }

install_scanners() {
  guest 'sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq update &&
    sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq -y install openscap-scanner lynis xz-utils' \
    >"$work/scanners.log" 2>&1 || { tail -n 30 "$work/scanners.log" >&2; return 1; }
  guest 'dpkg-query -W openscap-scanner lynis' | tee "$out/scanners.txt"
  # The data stream is decompressed where it is read.
  guest 'sudo install -d -m 0700 /var/tmp/yardstick && sudo sh -c "xz -dc >/var/tmp/yardstick/ds.xml"' <"$datastream"
}

# OpenSCAP: exit status 2 means that some rules failed, which is the measure, not an error.
scan_oscap() {
  local label=$1 rc=0 dir=/var/tmp/yardstick/$1
  guest "sudo sh -c 'install -d -m 0700 $dir && cd $dir && oscap xccdf eval --profile $profile \
    --results results.xml --report report.html /var/tmp/yardstick/ds.xml'" >"$out/$label/oscap.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ] && [ "$rc" != 2 ]; then
    tail -n 20 "$out/$label/oscap.log" >&2
    echo "yardsticks: oscap failed on the $label VM (exit status $rc)" >&2
    return 1
  fi
  guest "sudo cat $dir/results.xml" >"$out/$label/results.xml"
  guest "sudo cat $dir/report.html" >"$out/$label/report.html"
}

# Lynis, non-interactive (--quick: no pauses); its report data and log are kept.
scan_lynis() {
  local label=$1
  guest 'sudo lynis audit system --quick --no-colors' >"$out/$label/lynis.out" 2>&1 \
    || { tail -n 20 "$out/$label/lynis.out" >&2; echo "yardsticks: lynis failed on the $label VM" >&2; return 1; }
  guest 'sudo cat /var/log/lynis-report.dat' >"$out/$label/lynis-report.dat"
  guest 'sudo cat /var/log/lynis.log' >"$out/$label/lynis.log"
}

playbook() {
  local log=$1
  shift
  ansible-playbook -i "$work/inventory.yml" "$@" >"$log" 2>&1 \
    || { tail -n 40 "$log" >&2; echo "yardsticks: ansible-playbook $* failed (log: $log)" >&2; return 1; }
  grep -A3 '^PLAY RECAP' "$log" || true
}

echo "yardsticks: $release VM $name; reports in $out"
cut -d' ' -f1-3 /proc/loadavg >"$out/load-start.txt"
step boot scripts/vm.sh up "$name=$release"
scripts/vm.sh state "$name" >"$work/state.json"

# The inventory (group targets, as in the kernel scenario) and the two things prepare.yml takes from
# Molecule: the directory of its test key and the instance config that names the forwarded HTTP port.
python3 - "$work" "$name" <<'PY'
import json, sys

work, name = sys.argv[1], sys.argv[2]
vm = json.load(open(work + "/state.json"))[0]
host = {
    "ansible_host": "127.0.0.1",
    "ansible_port": vm["ssh_port"],
    "ansible_user": "admin",
    "ansible_ssh_private_key_file": vm["key"],
    "ansible_become": True,
    "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes",
}
with open(work + "/inventory.yml", "w") as f:
    json.dump({"all": {"children": {"targets": {"hosts": {name: host}}}}}, f, indent=1)
with open(work + "/instance_config.yml", "w") as f:
    json.dump([{"instance": name, "http_port": vm["http_port"]}], f)
PY

# The settings of the scenarios' shared Molecule config (extensions/molecule/config.yml).
export ANSIBLE_INJECT_FACT_VARS=false ANSIBLE_PIPELINING=true ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
export ANSIBLE_CALLBACKS_ENABLED=bulwark.hardening.drift_report BULWARK_DRIFT_QUIET=true
export ANSIBLE_NOCOWS=1 ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_HOST_KEY_CHECKING=false
export MOLECULE_EPHEMERAL_DIRECTORY=$work

step scanners install_scanners
step prepare playbook "$out/prepare.log" extensions/molecule/kernel/prepare.yml -e "molecule_instance_config=$work/instance_config.yml"
if [[ " $scans " == *" bare "* ]]; then
  mkdir -p "$out/bare"
  step bare-oscap scan_oscap bare
  step bare-lynis scan_lynis bare
fi
step converge playbook "$out/converge.log" --diff extensions/molecule/kernel/converge.yml
step hardened-oscap scan_oscap hardened
step hardened-lynis scan_lynis hardened
cut -d' ' -f1-3 /proc/loadavg >"$out/load-end.txt"

echo
python3 scripts/yardstick-summary.py "$out"

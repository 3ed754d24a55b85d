#!/usr/bin/env bash
# make bench (immutable): lock and check a generated 100,000-file tree with the module
# bulwark.hardening.immutable versus `chattr -R +i` and `lsattr -R`, in a throw-away
# container that has CAP_LINUX_IMMUTABLE, and print the ratios.
#   module     the real module run by Ansible (docker connection, pipelining): includes
#              Ansible's own start-up, so it is the time an operator waits
#   walk       the same walk without Ansible (module_utils run by python3 in the container)
# Targets (issue 9): locking <= 1.5x chattr -R, checking <= 1x lsattr -R.
#   usage: scripts/bench-immutable.sh [number-of-files]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
files=${1:-100000}
name=bulwark-bench-immutable
work=$(mktemp -d "$repo/.tmp/bench-immutable.XXXXXX")
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
docker rm -f "$name" >/dev/null 2>&1 || true
docker run -d --name "$name" --cap-add LINUX_IMMUTABLE \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  bulwark/debian-systemd:bookworm sleep infinity >/dev/null
docker cp plugins/module_utils/_immutable.py "$name:/root/_immutable.py" >/dev/null

# 100 directories of 10 subdirectories of $files/1000 files each.
docker exec -i "$name" python3 - "$files" <<'PY'
import os, sys
files = int(sys.argv[1])
per = max(1, files // 1000)
for a in range(100):
    for b in range(10):
        d = f"/srv/tree/d{a:02d}/s{b}"
        os.makedirs(d, exist_ok=True)
        for c in range(per):
            with open(f"{d}/f{c:03d}.php", "w") as handle:
                handle.write("<?php echo 1;\n")
PY
count=$(docker exec "$name" sh -c 'find /srv/tree | wc -l')

printf 'all:\n  hosts:\n    %s:\n      ansible_connection: community.docker.docker\n' "$name" >"$work/inventory.yml"
export ANSIBLE_PIPELINING=true ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3

ms() { local start end; start=$(date +%s%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }
module() { ansible -i "$work/inventory.yml" "$name" -m bulwark.hardening.immutable -a "path=/srv/tree state=$1" "${@:2}"; }
walk() {
  docker exec "$name" python3 -c "
import sys; sys.path.insert(0, '/root')
import _immutable as m
w = m.run('/srv/tree', m.Plan(lock=sys.argv[1] == 'locked'), check=sys.argv[2] == 'check')
" "$1" "$2"
}

# Each pair starts from the same state; the first (cold) walk warms the caches for all.
docker exec "$name" chattr -R -i /srv/tree
chattr_lock=$(ms docker exec "$name" chattr -R +i /srv/tree)
lsattr_check=$(ms docker exec "$name" lsattr -R /srv/tree)
docker exec "$name" chattr -R -i /srv/tree
walk_lock=$(ms walk locked apply)
walk_check=$(ms walk locked check)
docker exec "$name" chattr -R -i /srv/tree
module_lock=$(ms module locked)
module_check=$(ms module locked --check)
docker exec "$name" sh -c 'lsattr -R /srv/tree | grep -c "^----i"' >"$work/locked"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "bench: immutable on a tree of $count entries ($(cat "$work/locked") files and directories locked at the end)"
printf '  %-22s %6d ms\n' "chattr -R +i" "$chattr_lock" "lsattr -R" "$lsattr_check"
printf '  %-22s %6d ms   %sx chattr -R   (target <= 1.5x)\n' "walk lock" "$walk_lock" "$(ratio "$walk_lock" "$chattr_lock")"
printf '  %-22s %6d ms   %sx lsattr -R   (target <= 1x)\n' "walk check" "$walk_check" "$(ratio "$walk_check" "$lsattr_check")"
printf '  %-22s %6d ms   %sx chattr -R   (with Ansible start-up)\n' "module lock" "$module_lock" "$(ratio "$module_lock" "$chattr_lock")"
printf '  %-22s %6d ms   %sx lsattr -R   (with Ansible start-up)\n' "module check" "$module_check" "$(ratio "$module_check" "$lsattr_check")"

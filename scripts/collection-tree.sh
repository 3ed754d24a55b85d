#!/usr/bin/env bash
# Print the path of a throw-away ansible_collections/bulwark/hardening tree holding a
# copy of the files git tracks (plus new, unignored ones). ansible-test and pytest run
# from inside it, because both want the collection at its namespaced path.
#   usage: cd "$(scripts/collection-tree.sh [ROOT])"   (ROOT default: .tmp/collections)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$repo/.tmp/collections}
dest="$root/ansible_collections/bulwark/hardening"
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
rm -rf "$dest"
mkdir -p "$dest"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
   | tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$dest" -xf -
# ansible-test wants a repository root to decide what is "the change"; give it one.
git -C "$dest" init -q && git -C "$dest" add -A && git -C "$dest" -c user.name=t -c user.email=t@t commit -qm tree
echo "$dest"

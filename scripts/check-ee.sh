#!/usr/bin/env bash
# Check what `ansible-builder create` rendered: the Containerfile installs the collection from
# the tarball in the context, and the tarball holds every role and plugin of the collection.
#   usage: scripts/check-ee.sh CONTEXT_DIR
set -euo pipefail
context=$1
containerfile="$context/Containerfile"
tarball="$context/_build/collections/bulwark-hardening.tar.gz"
fail() { echo "check-ee: $*" >&2; exit 1; }
[ -f "$containerfile" ] || fail "no Containerfile in $context"
[ -f "$tarball" ] || fail "the collection tarball is not in the build context ($tarball)"
grep -q 'ansible-galaxy collection install' "$containerfile" \
  || grep -q 'install-from-bindep\|introspect' "$containerfile" || fail "the Containerfile installs no collections"
requirements=$(find "$context/_build" -name 'requirements.yml' | head -n 1)
[ -n "$requirements" ] || fail "no galaxy requirements in the build context"
grep -q 'bulwark-hardening.tar.gz' "$requirements" || fail "$requirements does not install the collection tarball"
listing=$(tar -tzf "$tarball")
for role in roles/*/; do
  grep -q "^${role}tasks/main.yml$" <<<"$listing" || fail "the tarball lacks ${role}tasks/main.yml"
done
for plugin in plugins/*/*.py; do
  grep -qx "$plugin" <<<"$listing" || fail "the tarball lacks $plugin"
done
echo "check-ee: $containerfile installs the collection tarball ($(grep -c '^roles/[^/]*/$' <<<"$listing") roles, $(grep -c '^plugins/.*[.]py$' <<<"$listing") plugin files)"

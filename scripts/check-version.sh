#!/usr/bin/env bash
# The version recorded on hosts (roles/common/vars) must be the collection's version.
set -euo pipefail
cd "$(dirname "$0")/.."
galaxy=$(sed -n 's/^version: *//p' galaxy.yml)
role=$(sed -n 's/^_common_collection_version: *"\(.*\)"/\1/p' roles/common/vars/main.yml)
if [ "$galaxy" != "$role" ]; then
  echo "check-version: galaxy.yml says $galaxy, roles/common/vars/main.yml says $role" >&2
  exit 1
fi

#!/usr/bin/env bash
# The HTML drift report in a real headless browser (tests/browser): Debian's chromium, installed
# here when it is missing (as root on Debian, like scripts/ensure-docker.sh installs Docker).
# Reads the collection tree `make tree` made (ANSIBLE_COLLECTIONS_PATH) and never rebuilds it, so
# `make test` runs it beside the scenarios. Keeps the page and a screenshot under .tmp/
# (drift-report.html, drift-report.png) as artifacts.
#   usage: scripts/browser-test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
collections=${ANSIBLE_COLLECTIONS_PATH:-$PWD/.tmp/collections}
if [ ! -d "$collections/ansible_collections/bulwark/hardening" ]; then
  echo "browser-test: no collection tree in $collections (make tree)" >&2
  exit 1
fi
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
    echo "browser-test: chromium is missing; install Debian's chromium (apt-get install chromium) and re-run" >&2
    exit 1
  fi
  echo "browser-test: installing chromium" >&2
  # The lock timeout: ensure-docker.sh may be installing Docker at the same time.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
fi
echo "browser-test: $(chromium --version 2>/dev/null || echo chromium)"
PYTHONPATH="$collections" python -m pytest -p no:cacheprovider -q tests/browser "$@"

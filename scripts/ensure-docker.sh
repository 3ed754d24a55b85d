#!/usr/bin/env bash
# Make sure a Docker engine answers. Use a running one; else, as root on Debian,
# install docker.io and start dockerd in the background; else say what to install.
set -euo pipefail

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

if engine_up; then exit 0; fi

if [ "$(id -u)" -ne 0 ] || [ ! -f /etc/debian_version ]; then
  echo "ensure-docker: no Docker engine answers, and I can only install one as root on Debian." >&2
  echo "ensure-docker: install and start Docker (e.g. 'apt-get install docker.io'), then re-run." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  echo "ensure-docker: installing docker.io and debootstrap" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd (log: /var/log/dockerd.log)" >&2
  setsid nohup dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
fi

for _ in $(seq 1 60); do
  if engine_up; then exit 0; fi
  sleep 1
done
echo "ensure-docker: dockerd did not answer within 60 s; see /var/log/dockerd.log" >&2
exit 1

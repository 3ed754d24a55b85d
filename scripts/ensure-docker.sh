#!/usr/bin/env bash
# Make sure a Docker engine answers. Use a running one; else, as root on Debian,
# install docker.io and start dockerd in the background; else say what to install.
set -euo pipefail

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

# Every systemd container takes inotify instances (systemd, journald, logind, fail2ban's journal
# reader...) from the host's one per-user budget, 128 by default: with the scenarios running side
# by side or the 20-host fleet, fail2ban died with "Cannot initialize new instance of inotify
# (EMFILE)" in some containers. Raise it where we may (it is a machine setting), say so where not.
inotify=/proc/sys/fs/inotify/max_user_instances
if [ "$(cat "$inotify" 2>/dev/null || echo 1024)" -lt 1024 ]; then
  if { echo 1024 >"$inotify"; } 2>/dev/null; then
    echo "ensure-docker: raised fs.inotify.max_user_instances to 1024 (until the next boot)" >&2
  else
    echo "ensure-docker: fs.inotify.max_user_instances is $(cat "$inotify"); with many containers" \
      "services may fail to start (as root: sysctl -w fs.inotify.max_user_instances=1024)" >&2
  fi
fi

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

#!/usr/bin/env bash
# Build (once) the Debian systemd test image for RELEASE and point the stable alias
# bulwark/debian-systemd:RELEASE at it. The real tag carries a hash of this recipe,
# so a changed recipe builds a new image and an unchanged one is reused.
#
# A VARIANT is the base image with a scenario fixture's packages already installed: what the
# prepare playbooks install on web servers and test clients (they still name them, and their
# apt tasks find them present). Installed once here instead of in every scenario's prepare:
# prepare takes a third less time and downloads less, though `make test` as a whole, bound by
# CPU and not by those downloads, was not measurably shorter. The packages under test (ufw, fail2ban,
# unattended-upgrades, ...) are never in an image: the roles install those on a bare host.
#   web     an SSH server and Apache as Debian installs them, and the clients' tools
#   modphp  web with Apache's mod_php
#   usage: scripts/build-image.sh [bookworm|trixie] [web|modphp]
set -euo pipefail

release=${1:-bookworm}
variant=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=bulwark/debian-systemd
# python3-apt: Ansible's apt module needs it, and check mode cannot install it.
packages=python3,python3-apt,systemd,systemd-sysv,sudo,iproute2,procps
recipe_hash=$(cat "$here/build-image.sh" "$here/../images/Dockerfile" | sha256sum | cut -c1-12)
case $variant in
  '') parent='' ;;
  web) parent=''; extra='openssh-server apache2 curl ca-certificates openssl netcat-openbsd sshpass' ;;
  modphp) parent=web; extra='libapache2-mod-php' ;;
  *) echo "build-image: unknown variant '$variant' (web, modphp)" >&2; exit 2 ;;
esac
name=$release${variant:+-$variant}
tag="$repo:$name-$recipe_hash"

if ! docker image inspect "$tag" >/dev/null 2>&1; then
  echo "build-image: building $tag" >&2
  if [ -n "$variant" ]; then
    from=$("$0" "$release" $parent)
    # No daemon starts during the installation (policy-rc.d); systemd starts them in the test
    # container, as on a booted server. The SSH host keys and ssl-cert's snakeoil pair are made
    # here, so every container of a variant shares them: test fixtures, never a real host.
    cid=$(docker run -d "$from" sleep infinity)
    trap 'docker rm -f "$cid" >/dev/null 2>&1' EXIT
    out=$(docker exec -e DEBIAN_FRONTEND=noninteractive "$cid" sh -ec "
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
      apt-get update -qq
      apt-get install -y -qq $extra
      apt-get clean; rm -f /usr/sbin/policy-rc.d" 2>&1) \
      || { printf '%s\nbuild-image: installing %s into %s failed\n' "$out" "$extra" "$name" >&2; exit 1; }
    docker commit -c 'CMD ["/lib/systemd/systemd"]' "$cid" "$tag" >/dev/null
  elif timeout 30 docker pull -q "debian:$release" >/dev/null 2>&1; then
    docker build -q --build-arg "RELEASE=$release" -t "$tag" "$here/../images" >/dev/null
  else
    rootfs=$(mktemp -d /var/tmp/bulwark-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase --include="$packages" "$release" "$rootfs" >"$rootfs.log" 2>&1 \
      || { echo "build-image: debootstrap failed, see $rootfs.log" >&2; exit 1; }
    rm -f "$rootfs.log"
    # Keep apt's lists: a freshly installed Debian server has them, and check mode
    # (which never refreshes them) needs them to tell what a package install would do.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$tag" >/dev/null
  fi
fi
docker tag "$tag" "$repo:$name"
echo "$repo:$name"

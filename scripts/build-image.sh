#!/usr/bin/env bash
# Build (once) the Debian systemd test image for RELEASE and point the stable alias
# bulwark/debian-systemd:RELEASE at it. The real tag carries a hash of this recipe,
# so a changed recipe builds a new image and an unchanged one is reused.
#   usage: scripts/build-image.sh [bookworm|trixie]
set -euo pipefail

release=${1:-bookworm}
here=$(cd "$(dirname "$0")" && pwd)
repo=bulwark/debian-systemd
# python3-apt: Ansible's apt module needs it, and check mode cannot install it.
packages=python3,python3-apt,systemd,systemd-sysv,sudo,iproute2,procps
recipe_hash=$(cat "$here/build-image.sh" "$here/../images/Dockerfile" | sha256sum | cut -c1-12)
tag="$repo:$release-$recipe_hash"

if ! docker image inspect "$tag" >/dev/null 2>&1; then
  echo "build-image: building $tag" >&2
  if timeout 30 docker pull -q "debian:$release" >/dev/null 2>&1; then
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
docker tag "$tag" "$repo:$release"
echo "$repo:$release"

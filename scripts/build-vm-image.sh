#!/usr/bin/env bash
# Build (once) the Debian VM guest for RELEASE and print the directory that holds it:
#   disk.qcow2   the root filesystem (ext4, no partition table: /dev/vda), never booted itself;
#                scripts/vm.sh boots a fresh qcow2 overlay on it per VM
#   vmlinuz, initrd.img   the guest's kernel, for QEMU's direct kernel boot
# The directory is named by a hash of this recipe and of the test key, so a changed recipe builds a
# new image and an unchanged one is reused. A build runs in a temporary directory renamed into place
# at the end: an interrupted build never leaves a half-made image that looks cached.
#
# The guest comes from Debian's packages alone (debootstrap, no cloud image, no registry): a kernel,
# systemd, an SSH server, Python for Ansible, AppArmor, and the web host's fixture (Apache with mod_php,
# the packages of the container image's modphp variant) baked in, because installing them under TCG is
# slow. The packages under test (ufw, fail2ban, unattended-upgrades, auditd, ...) are never in it.
#
# The test key: $BULWARK_VM_CACHE/id_ed25519 (made once, without a passphrase; a test fixture, never a
# real credential). Its public half is the `admin` account's only key; admin has NOPASSWD sudo.
#
# Boot: direct kernel boot with scripts/vm.sh's own command line, no boot loader in the image. A
# kernel parameter a role sets in /etc/default/grub (auditd's audit=1, AppArmor's) is therefore not in
# effect after a reboot, nor is a kernel upgrade: a scenario that must see those needs GRUB in the image
# (grub-pc on a partitioned disk) - not built yet.
#   usage: scripts/build-vm-image.sh [bookworm|trixie]      cache: ${BULWARK_VM_CACHE:-/var/cache/bulwark/vm}
set -euo pipefail

release=${1:-bookworm}
case $release in
  bookworm | trixie) ;;
  *) echo "build-vm-image: unknown release '$release' (bookworm, trixie)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
cache=${BULWARK_VM_CACHE:-/var/cache/bulwark/vm}
mkdir -p "$cache"

# The key first: it is part of the recipe. One builder at a time makes it (flock).
key=$cache/id_ed25519
(
  flock 9
  [ -s "$key" ] || ssh-keygen -q -t ed25519 -N '' -C bulwark-vm-test -f "$key"
) 9>"$cache/.key.lock"

recipe_hash=$(cat "$here/build-vm-image.sh" "$key.pub" | sha256sum | cut -c1-12)
dest=$cache/debian-$release-$recipe_hash
if [ -s "$dest/disk.qcow2" ]; then
  echo "$dest"
  exit 0
fi

# One build per image at a time: a second caller waits, then finds it built.
exec 8>"$cache/.build-$release.lock"
flock 8
if [ -s "$dest/disk.qcow2" ]; then
  echo "$dest"
  exit 0
fi

echo "build-vm-image: building $dest" >&2
work=$(mktemp -d "$cache/.build-$release.XXXXXX")
rootfs=$work/rootfs
cleanup() {
  local m
  # Whatever is still mounted under the rootfs goes first, deepest first, or rm would walk into it.
  for m in $(awk -v r="$rootfs" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Each stage's output goes to the log, shown when the stage fails.
log=$work/build.log
run() {
  "$@" >>"$log" 2>&1 || {
    tail -n 40 "$log" >&2
    echo "build-vm-image: failed: $*" >&2
    exit 1
  }
}

# debootstrap's default variant (Debian's required and important packages) is a Debian server as
# an installer leaves it more nearly than minbase; the mirror is debootstrap's default.
base=linux-image-amd64,initramfs-tools,systemd-sysv,udev,dbus,openssh-server,python3,python3-apt,sudo
base=$base,iproute2,apparmor,kmod,procps,libnss-myhostname
run debootstrap --include="$base" "$release" "$rootfs"

# The security and updates suites, as on an installed server; the build installs their updates.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $release $release-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $release-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# The web host's fixture, and the security updates. No daemon starts in the chroot (policy-rc.d).
# debootstrap left /proc and /sys mounted in the rootfs; the kernel's postinst needs them.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod +x "$rootfs/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
mountpoint -q "$rootfs/proc" || mount -t proc proc "$rootfs/proc"
chroot_apt() { run chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 apt-get "$@"; }
chroot_apt update
chroot_apt -y upgrade
chroot_apt -y install apache2 libapache2-mod-php curl ca-certificates openssl
chroot_apt clean
rm -f "$rootfs/usr/sbin/policy-rc.d"

# The guest's own settings: name, disk, network, name service.
echo debian >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
printf '/dev/vda\t/\text4\tdefaults,errors=remount-ro\t0\t1\n' >"$rootfs/etc/fstab"
# QEMU's user-mode network: DHCP and its DNS forwarder at 10.0.2.3.
printf 'nameserver 10.0.2.3\n' >"$rootfs/etc/resolv.conf"
cat >"$rootfs/etc/systemd/network/20-wired.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF
ln -sf /lib/systemd/system/systemd-networkd.service "$rootfs/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
# man-db rebuilds its index after every dpkg run that installs a manual page: a minute of each
# package install under TCG, for nothing a test reads. Debian's trigger runs only where this file is.
rm -f "$rootfs/var/lib/man-db/auto-update"
# apt's timers stay as Debian installs them, not masked: the unattended_upgrades role enables them,
# and systemd refuses to enable a masked unit (the role then fails). They first fire after 06:00 or
# 18:00 (apt-daily with a random delay of up to 12 h, apt-daily-upgrade up to 1 h after 06:00), so a
# test run only meets them at those hours - as it does in the containers, whose timers are real too.

# Every clone its own identity: an empty machine-id is made anew at the first boot, and the SSH
# host keys are generated at the first boot (once, while the marker file is there).
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_*
touch "$rootfs/etc/ssh/.bulwark-generate-host-keys"
cat >"$rootfs/etc/systemd/system/bulwark-ssh-host-keys.service" <<'EOF'
[Unit]
Description=Generate this clone's SSH host keys (test VM, first boot)
ConditionPathExists=/etc/ssh/.bulwark-generate-host-keys
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
ExecStart=/bin/rm -f /etc/ssh/.bulwark-generate-host-keys

[Install]
WantedBy=ssh.service
EOF
ln -sf /etc/systemd/system/bulwark-ssh-host-keys.service "$rootfs/etc/systemd/system/multi-user.target.wants/bulwark-ssh-host-keys.service"

# The admin: the test key, sudo without a password. "*" is no password and not a locked account.
run chroot "$rootfs" useradd --create-home --shell /bin/bash --groups sudo --password '*' admin
install -d -m 0700 "$rootfs/home/admin/.ssh"
install -m 0600 "$key.pub" "$rootfs/home/admin/.ssh/authorized_keys"
run chroot "$rootfs" chown -R admin:admin /home/admin/.ssh
printf 'admin ALL=(ALL) NOPASSWD: ALL\n' >"$rootfs/etc/sudoers.d/admin"
chmod 0440 "$rootfs/etc/sudoers.d/admin"
run chroot "$rootfs" visudo -cqf /etc/sudoers.d/admin

# The newest kernel and its initrd, for direct kernel boot.
kver=$(find "$rootfs/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
[ -n "$kver" ] && [ -s "$rootfs/boot/initrd.img-$kver" ] || { echo "build-vm-image: no kernel or initrd in the guest" >&2; exit 1; }
cp "$rootfs/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$rootfs/boot/initrd.img-$kver" "$work/initrd.img"
echo "$kver" >"$work/kernel-version"

# Nothing mounted may be copied into the filesystem (mkfs -d would copy /proc's files).
for m in $(awk -v r="$rootfs" 'index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r); do
  umount "$m"
done
# 8 GiB of room for what the roles install (the qcow2 holds only what is written).
run mkfs.ext4 -q -L root -d "$rootfs" "$work/disk.raw" 8G
run qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
rm -rf "$rootfs" "$work/disk.raw"
mv "$work" "$dest"
trap - EXIT
# Older images of this release (other recipes) go, except the newest of them (another checkout, e.g.
# a branch, may still use it) and any a running QEMU still boots from.
for old in $(ls -dt "$cache/debian-$release"-* 2>/dev/null | tail -n +3); do
  [ "$old" != "$dest" ] && [ -d "$old" ] || continue
  if grep -qsF -- "$old/" /proc/[0-9]*/cmdline; then continue; fi
  echo "build-vm-image: removing $old (an older recipe)" >&2
  rm -rf "$old"
done
echo "$dest"

#!/bin/sh
# Test fixture: two tiny packages at version 1.0 installed, and version 1.1 of each in its
# own local flat repository ([trusted=yes] file: sources):
#   /srv/bulwark-fixture/security  Origin Bulwark-Fixture, Label Bulwark-Fixture-Security
#                                   carries bulwark-fixture-sec 1.1; Release dated 10 days ago
#   /srv/bulwark-fixture/other     Origin Bulwark-Fixture, Label Bulwark-Fixture-Other
#                                   carries bulwark-fixture-other 1.1
# The scenario allows (and counts as security) only the first.
set -eu
root=/srv/bulwark-fixture
rm -rf "$root"
mkdir -p "$root/build" "$root/security" "$root/other"

build() {  # build NAME VERSION -> path of the .deb
  dir="$root/build/$1-$2"
  mkdir -p "$dir/DEBIAN" "$dir/usr/share/doc/$1"
  printf 'bulwark fixture %s %s\n' "$1" "$2" >"$dir/usr/share/doc/$1/VERSION"
  cat >"$dir/DEBIAN/control" <<CONTROL
Package: $1
Version: $2
Architecture: all
Maintainer: bulwark.hardening tests <root@localhost>
Description: bulwark.hardening test fixture ($2)
CONTROL
  dpkg-deb --root-owner-group -Zgzip --build "$dir" "$root/build/$1_$2_all.deb" >/dev/null
  echo "$root/build/$1_$2_all.deb"
}

repo() {  # repo DIR LABEL DATE DEB
  cp "$4" "$1/"
  deb=$(basename "$4")
  {
    dpkg-deb -f "$1/$deb"
    echo "Filename: ./$deb"
    echo "Size: $(stat -c %s "$1/$deb")"
    echo "SHA256: $(sha256sum "$1/$deb" | cut -d' ' -f1)"
    echo
  } >"$1/Packages"
  cat >"$1/Release" <<RELEASE
Origin: Bulwark-Fixture
Label: $2
Suite: fixture
Codename: fixture
Date: $3
Architectures: all
SHA256:
 $(sha256sum "$1/Packages" | cut -d' ' -f1) $(stat -c %s "$1/Packages") Packages
RELEASE
}

dpkg -i "$(build bulwark-fixture-sec 1.0)" "$(build bulwark-fixture-other 1.0)" >/dev/null
repo "$root/security" Bulwark-Fixture-Security "$(LC_ALL=C date -u -R -d '10 days ago')" "$(build bulwark-fixture-sec 1.1)"
repo "$root/other" Bulwark-Fixture-Other "$(LC_ALL=C date -u -R)" "$(build bulwark-fixture-other 1.1)"
cat >/etc/apt/sources.list.d/bulwark-fixture.list <<SOURCES
deb [trusted=yes] file:$root/security ./
deb [trusted=yes] file:$root/other ./
SOURCES

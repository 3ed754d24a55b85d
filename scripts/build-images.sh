#!/usr/bin/env bash
# Every test image: for each release its base image, then its fixture variants
# (scripts/build-image.sh); the releases side by side. Exits 1 if any build failed.
#   usage: RELEASES="bookworm trixie" IMAGE_VARIANTS="web modphp" scripts/build-images.sh
set -uo pipefail
cd "$(dirname "$0")/.."
pids=()
for release in ${RELEASES:-bookworm trixie}; do
  (
    set -e
    for variant in '' ${IMAGE_VARIANTS-web modphp}; do scripts/build-image.sh "$release" $variant; done
  ) &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit "$failed"

#!/usr/bin/env bash
# Build (or reuse) the qemu guest image the end-to-end tests boot: Debian bookworm with v4l2loopback,
# ffmpeg, v4l2-ctl, Python 3.11 + numpy, OpenCV, onnxruntime, pyvirtualcam, click.
#
# It is the shared recipe ../shared/vm/vcam_vm.sh (read-only beside the clone; $SHARPCAM_E2E_VM
# overrides) with its cache in tests/e2e/cache (git-ignored; $VCAM_CACHE overrides). Needs root, the
# Debian mirror and PyPI. About 2 minutes the first time; a no-op when the cached image matches the recipe.
#
#   bash tests/e2e/build_guest.sh          # installs qemu/debootstrap if missing, builds the image
#   bash tests/e2e/build_guest.sh check    # also boots it once and runs the recipe's pixel check
set -euo pipefail

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E/../.." && pwd)
VM=${SHARPCAM_E2E_VM:-$REPO/../shared/vm/vcam_vm.sh}
export VCAM_CACHE=${VCAM_CACHE:-$E2E/cache}

[ -f "$VM" ] || { echo "build_guest.sh: $VM not found (fix: put the shared folder beside the clone or set SHARPCAM_E2E_VM)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build_guest.sh: needs root (debootstrap, chroot); fix: run it with sudo" >&2; exit 2; }
mkdir -p "$VCAM_CACHE"

T0=$SECONDS
bash "$VM" build
if [ "${1:-}" = check ]; then
  bash "$VM" check
fi
echo "build_guest.sh: guest image ready in $VCAM_CACHE ($((SECONDS - T0)) s)"

#!/usr/bin/env bash
# Build (or reuse) the qemu guest images the end-to-end tests boot: Debian bookworm with v4l2loopback,
# ffmpeg, v4l2-ctl, Python 3.11 + numpy, OpenCV, onnxruntime, pyvirtualcam, click.
#
# It is the shared recipe ../shared/vm/vcam_vm.sh (read-only beside the clone; $SHARPCAM_E2E_VM
# overrides) with its cache in tests/e2e/cache (git-ignored; $VCAM_CACHE overrides). Needs root, the
# Debian mirror and PyPI. About 2 minutes the first time; a no-op when the cached image matches the recipe.
#
# The `browsers` image (tests/e2e/test_e2e_browsers.py) is a second one, so the plain image keeps its
# boot speed: the same recipe plus Debian's chromium, chromium-driver, firefox-esr and python3-selenium
# (Firefox is driven over its own Marionette port, so no geckodriver is needed). The recipe is
# read-only, so a copy with the package list extended goes into its cache
# (tests/e2e/cache/browser, $SHARPCAM_E2E_BROWSER_CACHE overrides) and builds there.
#
#   bash tests/e2e/build_guest.sh            # installs qemu/debootstrap if missing, builds the plain image
#   bash tests/e2e/build_guest.sh check      # also boots it once and runs the recipe's pixel check
#   bash tests/e2e/build_guest.sh browsers   # the browser image (~5 min the first time, ~2.5 GB on disk)
#   bash tests/e2e/build_guest.sh all        # both images
set -euo pipefail

E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E/../.." && pwd)
VM=${SHARPCAM_E2E_VM:-$REPO/../shared/vm/vcam_vm.sh}
PLAIN_CACHE=${VCAM_CACHE:-$E2E/cache}
BROWSER_CACHE=${SHARPCAM_E2E_BROWSER_CACHE:-$E2E/cache/browser}
BROWSER_PKGS="chromium chromium-driver firefox-esr python3-selenium"

[ -f "$VM" ] || { echo "build_guest.sh: $VM not found (fix: put the shared folder beside the clone or set SHARPCAM_E2E_VM)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build_guest.sh: needs root (debootstrap, chroot); fix: run it with sudo" >&2; exit 2; }

build_plain() {
  local T0=$SECONDS
  mkdir -p "$PLAIN_CACHE"
  VCAM_CACHE=$PLAIN_CACHE bash "$VM" build
  echo "build_guest.sh: guest image ready in $PLAIN_CACHE ($((SECONDS - T0)) s)"
}

build_browsers() {
  local T0=$SECONDS derived="$BROWSER_CACHE/vcam_vm_browsers.sh"
  mkdir -p "$BROWSER_CACHE"
  # The recipe's hash covers GUEST_PKGS, so extending it after its definition rebuilds the image
  # whenever the shared recipe or this list changes, and reuses it otherwise.
  sed "/^WHEELS=/a GUEST_PKGS=\"\$GUEST_PKGS $BROWSER_PKGS\"  # added by tests/e2e/build_guest.sh browsers" \
    "$VM" > "$derived.new"
  grep -q "^GUEST_PKGS=\"\$GUEST_PKGS $BROWSER_PKGS\"" "$derived.new" \
    || { echo "build_guest.sh: $VM has no WHEELS= line to extend the package list after (recipe changed?)" >&2; exit 2; }
  mv "$derived.new" "$derived"
  VCAM_CACHE=$BROWSER_CACHE bash "$derived" build
  echo "build_guest.sh: browser guest image ready in $BROWSER_CACHE ($((SECONDS - T0)) s)"
}

case "${1:-}" in
  "")       build_plain ;;
  check)    build_plain; VCAM_CACHE=$PLAIN_CACHE bash "$VM" check ;;
  browsers) build_browsers ;;
  all)      build_plain; build_browsers ;;
  *) echo "build_guest.sh: unknown argument '$1' (use: check, browsers or all)" >&2; exit 2 ;;
esac

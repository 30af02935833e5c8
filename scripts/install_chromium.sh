#!/usr/bin/env bash
# Chromium for the dashboard's browser tests: Debian's package (Playwright drives it; its own
# browser download is not used). Skipped when a Chromium is already there.
set -euo pipefail
if [ -x "${POSTURE_CHROMIUM:-/usr/bin/chromium}" ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "install Chromium and set POSTURE_CHROMIUM to its path for the browser tests" >&2
  exit 1
fi

#!/usr/bin/env bash
# Debian packages the tests use beyond Python: Chromium for the dashboard's browser tests
# (Playwright drives it; its own browser download is not used); desktop-file-utils and
# GLib's gio to check the login autostart entry the way a desktop reads and runs it; and
# dbus-daemon for a private session bus on which the screen-lock test locks the screen.
# Installs only what is missing.
set -euo pipefail
missing=()
[ -x "${POSTURE_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium chromium-driver)
command -v desktop-file-validate >/dev/null 2>&1 || missing+=(desktop-file-utils)
command -v gio >/dev/null 2>&1 || missing+=(libglib2.0-bin)
command -v dbus-daemon >/dev/null 2>&1 || missing+=(dbus-daemon)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "install ${missing[*]} (or set POSTURE_CHROMIUM to a Chromium) for the tests" >&2
  exit 1
fi

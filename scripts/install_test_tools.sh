#!/usr/bin/env bash
# Debian packages the tests use beyond Python, installed when missing:
# - Chromium for the dashboard's browser tests (Playwright drives it; its own browser
#   download is not used);
# - desktop-file-utils and GLib's gio, to check the login autostart entry the way a desktop
#   reads and runs it; dbus-daemon, for a private session bus on which the screen-lock test
#   locks the screen;
# - Xvfb, trayer (a system tray), xdotool and imagemagick, to show, click and photograph the
#   tray icon, and the X11 libraries Qt's xcb platform loads.
set -euo pipefail
packages=(desktop-file-utils libglib2.0-bin dbus-daemon xvfb trayer xdotool imagemagick
          libegl1 libgl1 libfontconfig1 libx11-xcb1 libxkbcommon-x11-0 libxcb-cursor0
          libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
          libxcb-shape0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1)
missing=()
[ -x "${POSTURE_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium chromium-driver)
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
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

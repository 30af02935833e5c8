"""Delivering alerts: a desktop notification where one can be shown, always a terminal line,
optionally a sound. Desktop delivery runs on a short-lived thread so it never stalls the
monitor; if the notification library or command is missing, the terminal line remains.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from posture.analysis.events import Alert, Event
from posture.config import AlertsConfig

log = logging.getLogger(__name__)


def _desktop_library(title: str, message: str) -> bool:
    """The maintained desktop-notifier package, when installed (pip install posture[notify])."""
    try:
        from desktop_notifier import DesktopNotifierSync
    except ImportError:
        return False
    try:
        DesktopNotifierSync(app_name="posture").send(title=title, message=message)
        return True
    except Exception as exc:  # noqa: BLE001 - no notification service on this desktop
        log.info("desktop-notifier failed: %s", exc)
        return False


def _desktop_command(title: str, message: str) -> bool:
    if sys.platform.startswith("linux") and shutil.which("notify-send"):
        cmd = ["notify-send", "--app-name=posture", title, message]
    elif sys.platform == "darwin" and shutil.which("osascript"):
        text = message.replace('"', "'")
        cmd = ["osascript", "-e", f'display notification "{text}" with title "{title}"']
    else:
        return False
    try:
        return subprocess.run(cmd, timeout=5, capture_output=True).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Notifier:
    """Sink for Alert events: a terminal line always, a desktop notification if enabled."""

    def __init__(self, config: AlertsConfig, stream: TextIO | None = None,
                 browser_shows: Callable[[], bool] = lambda: False) -> None:
        self.config = config
        self.stream = stream or sys.stderr
        self.delivered: list[Alert] = []
        # True while an open dashboard shows alerts as browser notifications: the desktop
        # notification would then be a duplicate (the terminal line always stays).
        self.browser_shows = browser_shows

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, Alert):
            self.deliver(event, wall_ms)

    def deliver(self, alert: Alert, wall_ms: int | None = None) -> None:
        self.delivered.append(alert)
        bell = "\a" if self.config.sound else ""
        stamp = time.strftime("%H:%M", time.localtime(
            time.time() if wall_ms is None else wall_ms / 1000))
        self.stream.write(f"{bell}[{stamp}] {alert.title}: {alert.message}\n")
        self.stream.flush()
        if self.config.desktop and not self.browser_shows():
            threading.Thread(target=self._desktop, args=(alert,), daemon=True,
                             name="notify").start()

    def _desktop(self, alert: Alert) -> None:
        if not (_desktop_library(alert.title, alert.message)
                or _desktop_command(alert.title, alert.message)):
            log.debug("no desktop notification service; the terminal line stands")

"""Delivering alerts: a desktop notification where one can be shown, always a terminal line,
optionally a sound. Desktop delivery runs on a short-lived thread so it never stalls the
monitor; if the notification library or command is missing, the terminal line remains.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from posture.analysis.events import Alert, Event
from posture.config import AlertsConfig, Config

log = logging.getLogger(__name__)


NOTIFICATIONS = ("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
# What the user can do from an alert: (key, label); "default" is a click on the alert itself.
ACTIONS = (("snooze", "Snooze alerts"), ("default", "Open the dashboard"))
ACTION_WAIT_S = 120.0


def _desktop_dbus(title: str, message: str, on_action: Callable[[str], None] | None,
                  bus_address: str | None = None) -> bool:
    """Linux desktops: the freedesktop Notifications service on the session bus, with the
    alert's actions (Snooze, open the dashboard) where the server shows actions. Waits on
    this short-lived thread, at most ACTION_WAIT_S, for the user's choice."""
    address = bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not sys.platform.startswith("linux") or not address:
        return False
    try:
        from jeepney import DBusAddress, MatchRule, MessageType, message_bus, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        with open_dbus_connection(address) as conn:
            rule = MatchRule(type="signal", interface=NOTIFICATIONS[0], member="ActionInvoked")
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5)
            with conn.filter(rule) as chosen:
                service = DBusAddress(NOTIFICATIONS[1], bus_name=NOTIFICATIONS[0],
                                      interface=NOTIFICATIONS[0])
                actions = [part for action in ACTIONS for part in action] if on_action else []
                reply = conn.send_and_get_reply(new_method_call(
                    service, "Notify", "susssasa{sv}i",
                    ("posture", 0, "", title, message, actions, {}, 15_000)), timeout=5)
                if reply.header.message_type is not MessageType.method_return:
                    return False  # no notification service on this bus
                if on_action is not None:
                    _await_action(conn, chosen, reply.body[0], on_action)
        return True
    except Exception as exc:  # noqa: BLE001 - no bus, no service: the next way is tried
        log.info("desktop notification over D-Bus failed: %s", exc)
        return False


def _await_action(conn, chosen, notification_id: int,  # noqa: ANN001
                  on_action: Callable[[str], None]) -> None:
    deadline = time.monotonic() + ACTION_WAIT_S
    while (left := deadline - time.monotonic()) > 0:
        try:
            signal = conn.recv_until_filtered(chosen, timeout=left)
        except TimeoutError:
            return
        if signal.body and signal.body[0] == notification_id:
            on_action(str(signal.body[1]))
            return


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
        # Called with "snooze" or "default" when the user picks an alert's action.
        self.on_action: Callable[[str], None] | None = None
        self.bus_address: str | None = None  # the session bus (tests give a private one)

    def configure(self, config: Config) -> None:
        """Settings changed while running: sound and desktop take effect at once."""
        self.config = config.alerts

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
        actions = self.on_action if alert.alert != "test" else None
        if not (_desktop_dbus(alert.title, alert.message, actions, self.bus_address)
                or _desktop_library(alert.title, alert.message)
                or _desktop_command(alert.title, alert.message)):
            log.debug("no desktop notification service; the terminal line stands")

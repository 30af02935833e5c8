"""The tray icon of `posture run`: its colour and tooltip say the monitor's state; its menu
opens the dashboard, pauses, snoozes, starts a routine, calibrates and quits.

Qt (PySide6) draws it: QSystemTrayIcon works with the StatusNotifier hosts of KDE and GNOME
(with the AppIndicator extension), the XEmbed trays of other X11 desktops, the macOS menu bar
and the Windows notification area. The monitor runs on its own thread; Qt's event loop runs
on the main thread, as the toolkit requires, and reads the session's status once a second.
Menu actions go through `session.request`, as the dashboard's do.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, cast

from posture.analysis.program import builtin_program, builtin_program_names
from posture.live.session import PostureSession

# state -> (colour, words); colours as the dashboard's banner uses them
LOOKS = {"good": ("#2e9d5b", "good posture"), "slouched": ("#d1495b", "slouched"),
         "reclined": ("#3f7cac", "reclined (leaning back with support)"),
         "away": ("#8d99ae", "away"), "unknown": ("#8d99ae", "not judged yet"),
         "paused": ("#adb5bd", "paused"), "camera busy": ("#e09f3e", "camera busy")}


def tray_state(status: dict[str, Any], paused_until: float | None = None,
               now: float | None = None) -> tuple[str, str, str]:
    """(state, colour, tooltip) for a session status: what the icon shows."""
    camera = status.get("camera", {}).get("state")
    if status.get("screen_locked"):
        state, why = "paused", "the screen is locked"
    elif status.get("paused"):
        left = None if paused_until is None else max(0, paused_until - (now or time.time()))
        state, why = "paused", ("" if left is None else f"for {_duration(left)} more")
    elif camera == "busy":
        state, why = "camera busy", "another program is using the camera"
    else:
        state = status.get("state", "unknown")
        state = state if state in LOOKS else "unknown"
        reasons = status.get("reasons") or []
        why = ", ".join(r.replace("_", " ") for r in reasons) if state == "slouched" else ""
    colour, words = LOOKS[state]
    return state, colour, f"posture: {words}" + (f" ({why})" if why else "")


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def tomorrow(now: float | None = None) -> float:
    """The epoch second of the next local midnight."""
    today = dt.datetime.fromtimestamp(now or time.time()).date()
    return dt.datetime.combine(today + dt.timedelta(days=1), dt.time()).timestamp()


def tray_available() -> bool:
    """Whether a tray can be shown: Qt is installed and the desktop has a tray."""
    if not display_reachable():
        return False  # Qt would abort the whole process on a display it cannot open
    try:
        from PySide6.QtWidgets import QSystemTrayIcon
    except ImportError:
        return False
    _application()
    return QSystemTrayIcon.isSystemTrayAvailable()


def display_reachable(environ: dict[str, str] | None = None) -> bool:
    """Whether the desktop's display server answers (an X display named by DISPLAY, or the
    Wayland socket); macOS and Windows always have one."""
    env = dict(os.environ) if environ is None else environ
    if not sys.platform.startswith("linux"):
        return True
    if wayland := env.get("WAYLAND_DISPLAY"):
        path = Path(wayland) if wayland.startswith("/") else Path(
            env.get("XDG_RUNTIME_DIR", "/nonexistent")) / wayland
        if _connects(socket.AF_UNIX, str(path)):
            return True
    host, _, rest = env.get("DISPLAY", "").partition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix"):
        return _connects(socket.AF_UNIX, f"/tmp/.X11-unix/X{number}")
    return _connects(socket.AF_INET, (host, 6000 + int(number)))


def _connects(family: int, address: Any) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            probe.connect(address)
        return True
    except OSError:
        return False


def _application() -> Any:
    """The process's one QApplication (made on first use; closing no window quits it)."""
    from PySide6.QtWidgets import QApplication

    app = cast(QApplication, QApplication.instance() or QApplication([]))
    app.setQuitOnLastWindowClosed(False)
    return app


def run_with_tray(session: PostureSession, url: str | None, stop: threading.Event,
                  monitor: Callable[[], int]) -> int:
    """Run `monitor` on a thread and the tray on this (the main) thread until either ends;
    return the monitor's exit code."""
    from PySide6.QtCore import QTimer

    app = _application()
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(monitor()), name="monitor")
    tray = _Tray(session, url, stop)
    worker.start()
    ticker = QTimer()
    ticker.timeout.connect(lambda: app.quit() if not worker.is_alive() else tray.refresh())
    ticker.start(500)  # also lets Python run its signal handlers (Ctrl-C) between ticks
    app.exec()
    stop.set()
    worker.join()
    tray.icon.hide()
    return result[0] if result else 1


class _Tray:
    def __init__(self, session: PostureSession, url: str | None,
                 stop: threading.Event) -> None:
        from PySide6.QtWidgets import QMenu, QSystemTrayIcon

        self.session, self.url, self.stop = session, url, stop
        self.paused_until: float | None = None
        self.shown: tuple[str, str, str] | None = None
        self.icon = QSystemTrayIcon()
        self.menu = QMenu()
        self._build_menu()
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._clicked)
        self.refresh()
        self.icon.show()

    def _build_menu(self) -> None:
        menu = self.menu
        menu.addAction("Open the dashboard", self._open).setEnabled(self.url is not None)
        pause = menu.addMenu("Pause")
        pause.addAction("For 30 minutes", lambda: self._pause(30 * 60))
        pause.addAction("For 1 hour", lambda: self._pause(60 * 60))
        pause.addAction("Until tomorrow", lambda: self._pause(tomorrow() - time.time()))
        self.resume = menu.addAction("Resume", self._resume)
        menu.addAction("Snooze alerts", lambda: self.session.request("snooze"))
        routines = menu.addMenu("Start a routine")
        for name in builtin_program_names():
            program = builtin_program(name)
            routines.addAction(program.title, partial(self.session.request, "exercise",
                                                      program=program))
        menu.addAction("Calibrate (sit upright for 5 s)",
                       lambda: self.session.request("calibrate", seconds=5.0))
        menu.addSeparator()
        menu.addAction("Quit posture", self.stop.set)

    def refresh(self) -> None:
        if self.stop.is_set():
            from PySide6.QtWidgets import QApplication

            QApplication.quit()
            return
        if self.paused_until is not None and time.time() >= self.paused_until:
            self._resume()
        status = self.session.status()
        self.resume.setEnabled(bool(status.get("paused")))
        look = tray_state(status, self.paused_until)
        if look != self.shown:
            self.shown = look
            self.icon.setIcon(_dot(look[1]))
            self.icon.setToolTip(look[2])

    def _pause(self, seconds: float) -> None:
        self.paused_until = time.time() + seconds
        self.session.request("pause", paused=True)

    def _resume(self) -> None:
        self.paused_until = None
        self.session.request("pause", paused=False)

    def _open(self) -> None:
        if self.url:
            webbrowser.open(self.url)

    def _clicked(self, reason: Any) -> None:
        from PySide6.QtWidgets import QSystemTrayIcon

        if reason == QSystemTrayIcon.ActivationReason.Trigger:  # a left click
            self._open()


def _dot(colour: str) -> Any:
    """A round icon of one colour."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor("#1d3557"))
    painter.setBrush(QColor(colour))
    painter.drawEllipse(4, 4, 56, 56)
    painter.end()
    return QIcon(pixmap)

"""Out of the way while the screen is locked: a watcher of the desktop session's lock state.

Linux: the screensaver interfaces on the session bus, `org.freedesktop.ScreenSaver` (KDE,
Xfce, and others) and `org.gnome.ScreenSaver` (GNOME, Cinnamon): their `ActiveChanged(b)`
signal says the screen was locked or unlocked, `GetActive()` what it is at start. Read with
jeepney, a pure-Python D-Bus client. Without a session bus (a server, a plain terminal),
the watcher says so once and the monitor runs as before. macOS and Windows: not watched
yet; pause from the dashboard.

The watcher only reports (`on_change(locked)`); the session pauses and the camera loop
closes the camera, as for a pause from the dashboard, and reopens it after unlocking.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

SERVICES = (("org.freedesktop.ScreenSaver", "/org/freedesktop/ScreenSaver"),
            ("org.gnome.ScreenSaver", "/org/gnome/ScreenSaver"))
INTERFACES = frozenset(name for name, _ in SERVICES)


class ScreenLockWatcher:
    """A thread reporting lock changes of the desktop session; start(), stop()."""

    def __init__(self, on_change: Callable[[bool], None],
                 bus_address: str | None = None) -> None:
        self.on_change = on_change
        self.bus_address = bus_address
        self.available = False
        self.locked = False
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="screen-lock", daemon=True)

    def start(self, timeout_s: float = 5.0) -> ScreenLockWatcher:
        """Start watching; returns once subscribed (or known to be unavailable)."""
        self._thread.start()
        self._ready.wait(timeout_s)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        try:
            conn = self._connect()
        except Exception as exc:  # noqa: BLE001 - no bus: nothing to watch, say why once
            log.info("screen lock not watched: %s", exc)
            self._ready.set()
            return
        with conn:
            self._watch(conn)

    def _connect(self):  # noqa: ANN202 - a jeepney connection
        if sys.platform != "linux":
            raise OSError("only the Linux desktop session's lock state is watched")
        from jeepney.io.blocking import open_dbus_connection

        address = self.bus_address or os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        if not address:
            raise OSError("no desktop session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
        return open_dbus_connection(address)

    def _watch(self, conn) -> None:  # noqa: ANN001
        from jeepney import MatchRule, message_bus

        rule = MatchRule(type="signal", member="ActiveChanged")
        with conn.filter(rule) as signals:
            conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5)
            self.available = True
            self._report(any(self._get_active(conn, name, path) for name, path in SERVICES))
            self._ready.set()
            while not self._stop.is_set():
                try:
                    msg = conn.recv_until_filtered(signals, timeout=0.5)
                except TimeoutError:
                    continue
                except (OSError, ValueError) as exc:
                    log.warning("screen lock watch ended: %s", exc)
                    return
                if _interface(msg) in INTERFACES and msg.body and isinstance(msg.body[0],
                                                                             bool):
                    self._report(msg.body[0])

    def _get_active(self, conn, name: str, path: str) -> bool:  # noqa: ANN001
        from jeepney import DBusAddress, new_method_call

        call = new_method_call(DBusAddress(path, bus_name=name, interface=name), "GetActive")
        try:
            reply = conn.send_and_get_reply(call, timeout=2)
        except Exception:  # noqa: BLE001 - no such screensaver on this desktop
            return False
        return bool(reply.body and reply.body[0] is True)

    def _report(self, locked: bool) -> None:
        if locked != self.locked:
            self.locked = locked
            self.on_change(locked)


def _interface(msg) -> str | None:  # noqa: ANN001
    from jeepney import HeaderFields

    return msg.header.fields.get(HeaderFields.interface)

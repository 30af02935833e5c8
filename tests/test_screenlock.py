"""The screen lock, for real over D-Bus: a private session bus started here, a stand-in
screensaver on it (a real D-Bus service that answers GetActive and emits ActiveChanged),
and the monitor's camera closed while locked and reopened after unlocking."""

import contextlib
import os
import shutil
import subprocess
import threading
import time

import pytest
from fakecam import FakeWorld
from test_camera import FAST, FakeEstimator, wait_for

from posture.config import Config
from posture.live.loop import run_camera
from posture.live.screenlock import ScreenLockWatcher
from posture.live.session import PostureSession
from posture.vision.camera import SupervisedCamera

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not shutil.which("dbus-daemon"), reason="needs dbus-daemon (scripts/install_test_tools.sh)")]


@pytest.fixture()
def bus():
    """A private session bus: its address."""
    proc = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address"],
                            stdout=subprocess.PIPE, text=True)
    address = proc.stdout.readline().strip()
    assert address.startswith("unix:"), address
    yield address
    proc.terminate()
    proc.wait(10)


class BusService:
    """A D-Bus service of the test's own on the bus: owns `name`, answers method calls with
    answer(member, body) -> (signature, values) or None, emits signals from `path`."""

    def __init__(self, address, name):
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        self.name, self.path = name, "/" + name.replace(".", "/")
        self.conn = open_dbus_connection(address)
        self.conn.send_and_get_reply(message_bus.RequestName(name), timeout=5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def answer(self, member, body):
        return None

    def _serve(self):
        from jeepney import HeaderFields, MessageType, new_method_return

        while not self._stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type is MessageType.method_call:
                answer = self.answer(msg.header.fields.get(HeaderFields.member), msg.body)
                if answer is not None:
                    self.conn.send(new_method_return(msg, *answer))

    def emit(self, member, signature, values):
        from jeepney import DBusAddress, new_signal

        emitter = DBusAddress(self.path, interface=self.name)
        self.conn.send(new_signal(emitter, member, signature, values))

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.conn.close()


class ScreenSaver(BusService):
    """A screensaver: answers GetActive, emits ActiveChanged (as GNOME's or KDE's does when
    the screen locks)."""

    def __init__(self, address, name="org.freedesktop.ScreenSaver", active=False):
        self.active = active
        super().__init__(address, name)

    def answer(self, member, body):
        return ("b", (self.active,)) if member == "GetActive" else None

    def lock(self, active=True):
        self.active = active
        self.emit("ActiveChanged", "b", (active,))


@pytest.mark.parametrize("name", ["org.freedesktop.ScreenSaver", "org.gnome.ScreenSaver"])
def test_lock_and_unlock_are_reported(bus, name):
    saver = ScreenSaver(bus, name)
    seen = []
    watcher = ScreenLockWatcher(seen.append, bus_address=bus).start()
    try:
        assert watcher.available and seen == []
        saver.lock(True)
        assert wait_for(lambda: seen == [True], 5)
        saver.lock(False)
        assert wait_for(lambda: seen == [True, False], 5)
    finally:
        watcher.stop()
        saver.close()


def test_a_screen_locked_at_start_is_seen(bus):
    saver = ScreenSaver(bus, active=True)
    seen = []
    watcher = ScreenLockWatcher(seen.append, bus_address=bus).start()
    try:
        assert wait_for(lambda: seen == [True], 5)
    finally:
        watcher.stop()
        saver.close()


def test_without_a_session_bus_the_monitor_runs_as_before():
    watcher = ScreenLockWatcher(lambda locked: None, bus_address="unix:path=/nonexistent/bus")
    watcher.start()
    assert not watcher.available and not watcher.locked
    watcher.stop()


def test_a_locked_screen_closes_the_camera_and_unlocking_reopens_it(bus):
    world, saver = FakeWorld(), ScreenSaver(bus)
    cfg = Config().model_copy(update={"camera": FAST}).with_changes(
        {"monitor": {"sample_hz": 5}})
    session, estimator, stop = PostureSession(cfg), FakeEstimator(), threading.Event()
    camera = SupervisedCamera(0, FAST, opener=world.opener)
    watcher = ScreenLockWatcher(lambda locked: session.request("screen_lock", locked=locked),
                                bus_address=bus).start()
    loop = threading.Thread(target=run_camera, args=(
        cfg, session, lambda: contextlib.nullcontext(estimator), stop, camera), daemon=True)
    loop.start()
    try:
        assert wait_for(lambda: session.status()["camera"]["state"] == "streaming", 5)
        saver.lock(True)
        assert wait_for(lambda: camera.state == "released", 5)
        assert camera.detail == "screen locked" and session.status()["screen_locked"]
        calls = estimator.calls
        time.sleep(1.0)
        assert estimator.calls == calls  # nothing analysed while locked
        opens = world.opens
        saver.lock(False)
        assert wait_for(lambda: world.opens > opens
                        and session.status()["camera"]["state"] == "streaming", 5)
        assert wait_for(lambda: estimator.calls > calls, 5)
        assert not session.status()["screen_locked"]
    finally:
        stop.set()
        loop.join(10)
        watcher.stop()
        saver.close()


class NotificationServer(BusService):
    """A freedesktop notification server: records Notify calls (answering id 7) and emits
    ActionInvoked when the test "clicks" an action."""

    def __init__(self, address):
        self.shown = []
        super().__init__(address, "org.freedesktop.Notifications")

    def answer(self, member, body):
        if member != "Notify":
            return None
        self.shown.append(body)
        return "u", (7,)

    def click(self, action):
        self.emit("ActionInvoked", "us", (7, action))


def test_an_alert_offers_snooze_and_the_click_snoozes(bus):
    """A slouch alert as a desktop notification with actions; choosing Snooze snoozes."""
    from posture.analysis.events import Alert
    from posture.live.notify import Notifier

    server = NotificationServer(bus)
    session = PostureSession(Config())
    notifier = Notifier(Config().alerts, stream=open(os.devnull, "w"))  # noqa: SIM115
    notifier.bus_address = bus
    notifier.on_action = lambda action: session.request("snooze") if action == "snooze" else None
    try:
        notifier.deliver(Alert(0, "slouch", "Check your posture", "Slouched for a minute"))
        assert wait_for(lambda: server.shown, 5)
        app, _, _, title, message, actions, _, _ = server.shown[0]
        assert title == "Check your posture" and "snooze" in actions[::2]
        time.sleep(0.3)  # the notifier is listening for the choice now
        server.click("snooze")
        assert wait_for(lambda: (session.apply_requests(), session.status())[1][
            "snoozed_until_ms"] is not None, 5)
    finally:
        server.close()

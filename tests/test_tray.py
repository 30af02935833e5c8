"""The tray icon: what it shows for each state, and, for real, `posture run` in an X session
(Xvfb) with a tray host (trayer): the icon appears, its menu opens on a right click, a menu
action reaches the monitor, and Quit ends it with status 0. Screenshot:
test-artifacts/tray-menu.png."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO

from posture.cli.tray import LOOKS, tomorrow, tray_state

SHOTS = REPO / "test-artifacts"


@pytest.mark.parametrize("status, state, words", [
    ({"state": "good"}, "good", "posture: good posture"),
    ({"state": "slouched", "reasons": ["forward_head"]}, "slouched",
     "posture: slouched (forward head)"),
    ({"state": "reclined"}, "reclined", "reclined"),
    ({"state": "away"}, "away", "posture: away"),
    ({"state": "good", "paused": True}, "paused", "posture: paused"),
    ({"state": "good", "screen_locked": True}, "paused", "the screen is locked"),
    ({"state": "unknown", "camera": {"state": "busy"}}, "camera busy", "another program"),
    ({"state": "calibrating?"}, "unknown", "not judged yet"),
])
def test_the_icon_says_the_state(status, state, words):
    shown, colour, tooltip = tray_state(status)
    assert shown == state and colour == LOOKS[state][0] and words in tooltip


def test_an_unreachable_display_means_no_tray(tmp_path):
    """Qt aborts the process on a display it cannot open: never try one that does not
    answer (a stale DISPLAY from an old SSH session, say)."""
    from posture.cli.tray import display_reachable

    assert not display_reachable({"DISPLAY": ":987"})
    assert not display_reachable({"DISPLAY": "nonsense"})
    assert not display_reachable({"WAYLAND_DISPLAY": "wayland-9",
                                  "XDG_RUNTIME_DIR": str(tmp_path)})


def test_a_timed_pause_says_how_long_is_left():
    assert "for 30 min more" in tray_state({"paused": True}, paused_until=2800, now=1000)[2]
    assert tomorrow(0) > 0 and 0 < tomorrow() - time.time() <= 86400 + 3600


TOOLS = ("Xvfb", "trayer", "xdotool", "import")


@pytest.mark.slow
@pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS),
                    reason="needs Xvfb, trayer, xdotool and imagemagick "
                           "(scripts/install_test_tools.sh)")
def test_the_tray_icon_and_its_menu_for_real(tmp_path, model_path):
    pytest.importorskip("PySide6")
    display = _free_display()
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
           "POSTURE_DATA_DIR": str(tmp_path / "data")}
    env.pop("WAYLAND_DISPLAY", None)
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "800x600x24", "-nolisten",
                             "tcp"], stderr=subprocess.DEVNULL)
    procs = [xvfb]
    try:
        _wait(lambda: Path(f"/tmp/.X11-unix/X{display[1:]}").exists(), "Xvfb")
        procs.append(subprocess.Popen(["trayer", "--edge", "top", "--align", "right",
                                       "--widthtype", "request", "--height", "32"],
                                      env=env, stderr=subprocess.DEVNULL))
        time.sleep(1.0)
        monitor = subprocess.Popen(
            [sys.executable, "-m", "posture", "run", "--source",
             str(REPO / "tests" / "data" / "exercise" / "squats_3.mp4"), "--speed", "0",
             "--keep-open", "--no-browser", "--port", "0", "--no-history"],
            env=env, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        procs.append(monitor)
        url = _dashboard(monitor)
        x, y = _wait(lambda: _icon(display), "the tray icon")
        _xdotool(display, "mousemove", str(x), str(y), "click", "3")
        time.sleep(1.0)
        SHOTS.mkdir(exist_ok=True)
        shot = _screen(display)
        _save(display, SHOTS / "tray-menu.png")
        below = shot[y + 12:y + 150, max(0, x - 220):x]  # the menu opens below the icon
        assert (below.min(axis=2) > 200).mean() > 0.5, "no menu below the icon"
        # Up from the top selects the last item: Quit; two: Calibrate (an action that
        # reaches the monitor, seen in its status).
        _xdotool(display, "key", "Up", "Up", "Return")
        _wait(lambda: _status(url)["calibrating"] is True, "the calibration the menu started")
        _xdotool(display, "mousemove", str(x), str(y), "click", "3")
        time.sleep(1.0)
        _xdotool(display, "key", "Up", "Return")
        assert monitor.wait(20) == 0
        assert "stopped after" in monitor.stderr.read()
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)


def _free_display() -> str:
    for number in range(90, 120):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(
                f"/tmp/.X11-unix/X{number}").exists():
            return f":{number}"
    pytest.fail("no free X display number")


def _wait(found, what, timeout=30.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not appear within {timeout} s")


def _dashboard(proc) -> str:  # noqa: ANN001
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if match := re.search(r"dashboard at (\S+)", line):
            return match.group(1)
    raise AssertionError("posture run did not print the dashboard address")


def _status(url: str) -> dict:
    base, token = url.split("/?token=")
    request = urllib.request.Request(base + "/api/status",
                                     headers={"authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def _screen(display: str) -> np.ndarray:
    import cv2

    png = subprocess.run(["import", "-display", display, "-window", "root", "png:-"],
                         capture_output=True, check=True).stdout
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR),
                        cv2.COLOR_BGR2RGB)


def _save(display: str, path: Path) -> None:
    subprocess.run(["import", "-display", display, "-window", "root", str(path)], check=True)


def _icon(display: str) -> tuple[int, int] | None:
    """Where the tray icon is: the pixels of one of its colours in the tray at the top."""
    strip = _screen(display)[:40].astype(int)
    for colour, _ in LOOKS.values():
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        ys, xs = np.nonzero(np.abs(strip - rgb).max(axis=2) < 12)
        if len(xs) > 20:
            return int(xs.mean()), int(ys.mean())
    return None


def _xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, env={**os.environ, "DISPLAY": display})

"""One monitor per user: a second `posture run` points at the first and exits 0; a lock left
by a crashed run is taken over."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import DATA, run_cli

from posture.instance import InstanceLock, describe


def test_the_lock_is_held_once_and_reports_the_holder(tmp_path):
    path = tmp_path / "monitor.lock"
    first = InstanceLock(path)
    assert first.acquire() is None and first.previous == {}
    first.update(pid=4242, url="http://127.0.0.1:8765/?token=x", dashboard=True)
    second = InstanceLock(path)
    running = second.acquire()
    assert running == {"pid": 4242, "url": "http://127.0.0.1:8765/?token=x", "dashboard": True}
    assert "pid 4242" in describe(running) and "http://127.0.0.1:8765/" in describe(running)
    first.release()
    assert second.acquire() is None and second.previous == {}  # a clean exit leaves nothing
    second.release()
    assert (path.stat().st_mode & 0o777) == 0o600


def test_a_lock_left_by_a_crash_is_taken_over(tmp_path):
    path = tmp_path / "monitor.lock"
    crashed = InstanceLock(path)
    assert crashed.acquire() is None
    crashed.update(pid=99999, url=None)
    os.close(crashed._fd)  # what the system does when the process dies: no clean release
    heir = InstanceLock(path)
    assert heir.acquire() is None and heir.previous["pid"] == 99999
    heir.release()


@pytest.mark.parametrize("record, words", [({}, "starting"), ({"pid": 7}, "pid 7"),
                                           ({"pid": 7, "dashboard": False}, "without")])
def test_what_a_second_start_says(record, words):
    assert words in describe(record)


def _start(env):
    """`posture run` on a 'camera' (OpenCV opens a video file given as the device)."""
    proc = subprocess.Popen([sys.executable, "-m", "posture", "run", "--camera",
                             str(DATA / "exercise" / "squats_3.mp4"), "--no-browser",
                             "--port", "0", "--no-history"], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **env}, stdin=subprocess.DEVNULL)
    lines, deadline = [], time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if match := re.search(r"dashboard at (\S+)", line):
            return proc, match.group(1), lines
    proc.kill()
    raise AssertionError("posture run did not start: " + "".join(lines))


@pytest.mark.slow
def test_a_second_run_names_the_first_and_a_crashed_one_is_taken_over(tmp_path, model_path):
    env = {"POSTURE_DATA_DIR": str(tmp_path / "data")}
    first, url, _ = _start(env)
    try:
        started = time.monotonic()
        second = run_cli("run", "--camera", str(DATA / "exercise" / "squats_3.mp4"),
                         "--port", "0", env=env, timeout=30)
        took = time.monotonic() - started
        assert second.returncode == 0, second.stderr
        assert f"already running (pid {first.pid}); its dashboard: {url}" in second.stderr
        assert took < 2.0, f"{took:.2f} s"
        assert first.poll() is None  # the first one goes on
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    heir, _, lines = _start(env)
    try:
        assert f"the last monitor (pid {first.pid}) ended without closing" in "".join(lines)
    finally:
        heir.send_signal(signal.SIGTERM)
        assert heir.wait(30) == 0
    assert (tmp_path / "data" / "monitor.lock").read_bytes() == b""

"""The live monitor over a day-like trace: alerts when due, none while away or in cooldown,
break reminders; history written; the same loop through the CLI."""

import contextlib
import sqlite3
import threading
import time

import numpy as np
import pytest
from conftest import empty_config, run_cli
from synthetic import jittered, side_pose

from posture.analysis.events import Alert
from posture.config import AlertsConfig, BreaksConfig, Config
from posture.history.sink import StoreSink
from posture.history.store import Store
from posture.live.alerts import SittingTimer, SlouchAlerts, in_quiet_hours
from posture.live.loop import run_file
from posture.live.session import PostureSession
from posture.vision.pose import Pose
from posture.vision.trace import TraceHeader, TraceWriter

MIN = 60_000


def test_slouch_alert_policy():
    policy = SlouchAlerts(AlertsConfig(after_slouched_s=60, cooldown_min=15))
    fired = []
    for t in range(0, 10 * MIN, 1000):
        state = "slouched" if t < 5 * MIN or t >= 7 * MIN else "good"
        fired += [a.t_ms for a in policy.update(state, ("forward_head",), t, 600)]
    # One alert a minute into the first slouch; the second slouch falls inside the cooldown.
    assert fired == [60_000]


def test_snooze_pause_quiet_hours_and_away_block_alerts():
    cfg = AlertsConfig(after_slouched_s=10, cooldown_min=0, quiet_hours="22:00-07:00")
    policy = SlouchAlerts(cfg)
    assert not policy.update("slouched", (), 0, 23 * 60)
    assert not policy.update("slouched", (), 20_000, 23 * 60)  # quiet hours
    assert policy.update("slouched", (), 21_000, 12 * 60)  # daytime: due
    policy.update("away", (), 22_000, 12 * 60)
    policy.snooze(22_000)
    for t in range(22_000, 60_000, 1000):
        assert not policy.update("slouched", (), t, 12 * 60)
    assert in_quiet_hours("22:00-07:00", 6 * 60) and not in_quiet_hours("22:00-07:00", 8 * 60)
    assert not in_quiet_hours("", 8 * 60)


def test_sitting_timer_reminds_and_resets_after_a_break():
    timer = SittingTimer(BreaksConfig(sit_limit_min=45, repeat_min=10, break_min=2))
    reminders = []
    for t in range(0, 120 * MIN, 10_000):
        present = not (60 * MIN <= t < 63 * MIN)  # a 3-minute break at one hour
        reminders += [a.t_ms for a in timer.update(present, t)]
    assert reminders == [45 * MIN, 55 * MIN, 108 * MIN, 118 * MIN]
    assert all(isinstance(a, Alert) for a in timer.update(True, 200 * MIN))


def day_trace(path, fps=1.0):
    """89 minutes of side-view sitting: slouches, a break away from the desk, long sitting."""
    rng = np.random.default_rng(5)
    plan = [(20, "good"), (5, "slouched"), (2, "good"), (2, "slouched"), (6, "away"),
            (50, "good"), (3, "slouched"), (1, "good")]
    with TraceWriter(path, TraceHeader("day", fps, 640, 360)) as writer:
        t = 0
        for minutes, what in plan:
            for _ in range(int(minutes * 60 * fps)):
                if what == "away":
                    writer.write(Pose.empty(t, (640, 360)))
                else:
                    neck = 40 if what == "slouched" else 12
                    writer.write(jittered(side_pose(neck, 3, 95, t_ms=t), t, rng))
                t += int(1000 / fps)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    path = tmp_path_factory.mktemp("day") / "day.jsonl"
    day_trace(path)
    return path


@pytest.mark.slow
def test_day_replay_alerts_breaks_and_history(day, tmp_path):
    store = Store(tmp_path / "h.sqlite3")
    noon = int(time.mktime(time.strptime("2026-11-26 09:00", "%Y-%m-%d %H:%M")) * 1000)
    monitor = PostureSession(Config(), sinks=[StoreSink(store)], wall_start_ms=noon)
    run_file(day, monitor, lambda: None, threading.Event(), speed=0)
    monitor.close()
    store.close()
    alerts = [(a.alert, round(a.t_ms / MIN, 2)) for a in monitor.events if isinstance(a, Alert)]
    slouch = [t for k, t in alerts if k == "slouch"]
    breaks = [t for k, t in alerts if k == "break"]
    # Slouch from 20:00 turns "slouched" after the 10 s onset; the alert follows 60 s later.
    assert slouch == [pytest.approx(20 + 70 / 60, abs=0.05), pytest.approx(85 + 70 / 60,
                                                                           abs=0.05)]
    # Sitting restarts after the 6-minute absence at 29:00-35:00: 35 + 45 = 80 minutes.
    assert breaks == [pytest.approx(80, abs=0.05)]
    conn = sqlite3.connect(tmp_path / "h.sqlite3")
    states = [r[0] for r in conn.execute("SELECT state FROM state_changes ORDER BY t_ms")]
    assert states[:4] == ["good", "slouched", "good", "slouched"] and "away" in states
    assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 3
    samples = conn.execute("SELECT count(*) FROM samples").fetchone()[0]
    assert samples == 89 * 60  # one a second, as history.sample_interval_s asks
    minutes = conn.execute("SELECT count(*), sum(slouched_s), sum(away_s) FROM minutes")
    count, slouched_s, away_s = minutes.fetchone()
    assert count in (89, 90)
    assert slouched_s == pytest.approx((5 + 2 + 3) * 60 - 3 * 10, abs=30)
    assert away_s == pytest.approx(6 * 60 - 3, abs=5)
    hours = conn.execute("SELECT count(*), sum(slouched_s), sum(away_s) FROM hours").fetchone()
    assert hours[0] in (2, 3) and hours[1:] == pytest.approx((slouched_s, away_s))


@pytest.mark.slow
def test_no_alert_in_quiet_hours(day):
    night = int(time.mktime(time.strptime("2026-11-26 23:00", "%Y-%m-%d %H:%M")) * 1000)
    config = Config().with_changes({"alerts": {"quiet_hours": "22:00-07:00"}})
    monitor = PostureSession(config, wall_start_ms=night)
    run_file(day, monitor, lambda: None, threading.Event(), speed=0)
    assert not [a for a in monitor.events if isinstance(a, Alert)]


@pytest.mark.slow
def test_run_cli_on_trace_writes_history(day, tmp_path):
    proc = run_cli("run", "--source", str(day), "--speed", "0", "--no-dashboard",
                   env={"POSTURE_HISTORY_PATH": str(tmp_path / "cli.sqlite3"),
                        "POSTURE_CONFIG": empty_config(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "Check your posture" in proc.stderr and "Time to move" in proc.stderr
    conn = sqlite3.connect(tmp_path / "cli.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 3


@pytest.mark.slow
def test_demo_runs_without_camera_and_stays_open_until_quit(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "POSTURE_CONFIG": empty_config(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "posture", "demo", "--speed", "0",
                             "--no-history", "--no-browser", "--port", "0"],
                            stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)
    lines = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if not line or "stays open" in line:
            break
    err = "".join(lines)
    # The recording is over, and the newcomer's dashboard is still there.
    assert "dashboard stays open until you press Ctrl-C" in err, err
    time.sleep(1)
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0, rest
    assert "posture slouched" in err and "posture away" in err
    assert "Check your posture" in err


@pytest.mark.slow
def test_sigterm_flushes_and_exits_cleanly(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    db = tmp_path / "h.sqlite3"
    env = {**os.environ, "POSTURE_HISTORY_PATH": str(db),
           "POSTURE_CONFIG": empty_config(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "posture", "demo", "--speed", "5",
                             "--no-browser", "--port", "0"],
                            stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)
    # Stop it once it has stored a few samples (however long a busy machine takes to start).
    deadline, stored = time.monotonic() + 60, 0
    while stored <= 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        if db.exists():
            with contextlib.suppress(sqlite3.Error):
                probe = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
                stored = probe.execute("SELECT count(*) FROM samples").fetchone()[0]
                probe.close()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped after" in err and "Traceback" not in err
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM samples").fetchone()[0] >= stored > 5
    assert conn.execute("SELECT count(*) FROM minutes").fetchone()[0] >= 1


def test_calibrate_is_recorded_in_history(tmp_path, data_dir, model_path):
    db = tmp_path / "h.sqlite3"
    proc = run_cli("calibrate", "--source", str(data_dir / "front_webcam" / "upright"),
                   "--out", str(tmp_path / "me.json"),
                   env={"POSTURE_HISTORY_PATH": str(db),
                        "POSTURE_CONFIG": empty_config(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    row = sqlite3.connect(db).execute("SELECT name, profile FROM calibrations").fetchone()
    assert row[0] == "me" and '"view":"front"' in row[1]


@pytest.mark.slow
def test_report_cli_after_a_run(day, tmp_path):
    import json

    env = {"POSTURE_HISTORY_PATH": str(tmp_path / "r.sqlite3"),
           "POSTURE_CONFIG": empty_config(tmp_path)}
    missing = run_cli("report", env=env)
    assert missing.returncode == 2 and "no history yet" in missing.stderr
    assert run_cli("run", "--source", str(day), "--speed", "0", "--no-dashboard",
                   env=env).returncode == 0
    text = run_cli("report", "--days", "7", env=env)
    assert text.returncode == 0 and "2 slouch alerts, 1 break reminders" in text.stdout
    data = json.loads(run_cli("report", "--json", env=env).stdout)
    assert data["posture"]["slouch_alerts"] == 2
    csv = run_cli("report", "--csv", "--days", "3", env=env).stdout.splitlines()
    assert csv[0].startswith("date,") and len(csv) == 4


def test_notifier_always_writes_a_terminal_line():
    import io

    from posture.live.notify import Notifier

    out = io.StringIO()
    notifier = Notifier(AlertsConfig(desktop=False, sound=True), stream=out)
    wall = int(time.mktime(time.strptime("2026-11-26 14:05", "%Y-%m-%d %H:%M")) * 1000)
    notifier.deliver(Alert(0, "slouch", "Check your posture", "Sit back."), wall)
    assert out.getvalue() == "\a[14:05] Check your posture: Sit back.\n"


@pytest.mark.slow
def test_sigkill_during_run_loses_at_most_a_second_of_samples(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    trace = tmp_path / "sit.jsonl"
    day_trace(trace, fps=5.0)
    db = tmp_path / "h.sqlite3"
    env = {**os.environ, "POSTURE_HISTORY_PATH": str(db),
           "POSTURE_HISTORY_SAMPLE_INTERVAL_S": "0.2",
           "POSTURE_CONFIG": empty_config(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "posture", "run", "--source", str(trace),
                             "--speed", "1", "--no-dashboard"], stderr=subprocess.PIPE,
                            text=True, env=env, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it is writing
        if db.exists() and sqlite3.connect(db).execute(
                "SELECT count(*) FROM samples").fetchone()[0] > 10:
            break
        time.sleep(0.2)
    time.sleep(2.3)
    killed_ms = time.time() * 1000
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    last = conn.execute("SELECT max(t_ms) FROM samples").fetchone()[0]
    print(f"lost {killed_ms - last:.0f} ms")
    assert killed_ms - last <= 1000, f"lost {killed_ms - last:.0f} ms of samples"

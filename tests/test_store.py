"""History store: migrations, what is stored, and surviving SIGKILL during heavy writing."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from posture.errors import UsageError
from posture.history.store import MIGRATIONS, Row, Store, connect, migrate

WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from posture.history.store import Row, Store
    store = Store(Path(sys.argv[1]))
    i = 0
    while True:
        store.put([Row("INSERT INTO samples (t_ms, state, reasons) VALUES (?, ?, ?)",
                       (i, "good", "")),
                   Row("INSERT INTO state_changes VALUES (?, ?, ?, ?)",
                       (i, "slouched", "good", "forward_head"))])
        i += 1
""")


def test_migrations_are_numbered_and_idempotent(tmp_path):
    conn = connect(tmp_path / "h.sqlite3")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert migrate(conn) == len(MIGRATIONS)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"samples", "minutes", "state_changes", "alerts", "camera_events",
            "exercise_sessions", "reps", "calibrations"} <= tables


def test_upgrade_from_schema_2_keeps_history_and_adds_reclined_time(tmp_path):
    path = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.execute("INSERT INTO hours (hour, good_s, slouched_s) VALUES (0, 50, 10)")
    conn.commit()
    conn.close()
    conn = connect(path)
    assert conn.execute("SELECT good_s, slouched_s, reclined_s FROM hours").fetchall() == [
        (50.0, 10.0, 0.0)]


def test_newer_schema_is_refused(tmp_path):
    conn = connect(tmp_path / "h.sqlite3")
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(UsageError, match="newer posture"):
        migrate(conn)


def test_retention_drops_old_samples_only(tmp_path):
    path = tmp_path / "h.sqlite3"
    old = int((time.time() - 40 * 86400) * 1000)
    store = Store(path, retention_days=30)
    store.put([Row("INSERT INTO samples (t_ms, state) VALUES (?, 'good')", (old,)),
               Row("INSERT INTO alerts VALUES (?, 'slouch', 't', 'm', '')", (old,))])
    store.close()
    Store(path, retention_days=30).close()  # retention runs when the writer starts
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM samples").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 1


@pytest.mark.slow
def test_sigkill_during_heavy_writing_loses_only_the_last_moment(tmp_path):
    path = tmp_path / "h.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    try:
        deadline = time.monotonic() + 30
        committed = 0
        while time.monotonic() < deadline and committed < 20_000:
            time.sleep(0.2)
            if path.exists():
                try:
                    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
                    committed = reader.execute("SELECT count(*) FROM samples").fetchone()[0]
                    reader.close()
                except sqlite3.OperationalError:
                    continue
        assert committed >= 20_000, "the writer did not get going"
        time.sleep(1.0)
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        before_kill = reader.execute("SELECT max(t_ms) FROM samples").fetchone()[0]
        reader.close()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after = conn.execute("SELECT max(t_ms), count(*) FROM samples").fetchone()
    # Everything committed before the kill is still there, and samples and events agree.
    assert after[0] >= before_kill
    events = conn.execute("SELECT count(*) FROM state_changes").fetchone()[0]
    assert abs(events - after[1]) <= 1

"""History in SQLite: one writer thread, WAL, numbered migrations, retention. No images.

Callers hand typed records to `Store.put`; a single thread writes them in short transactions
(at most about 0.3 s of data is ever uncommitted), so a crash loses at most the last
moments and never corrupts the file.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from posture.errors import UsageError
from posture.files import PRIVATE_FILE, history_path_problem, private_dir

log = logging.getLogger(__name__)


MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE samples (
        t_ms INTEGER NOT NULL, state TEXT NOT NULL, view TEXT, neck_deg REAL,
        thoracic_deg REAL, hip_deg REAL, head_drop REAL, reasons TEXT NOT NULL DEFAULT '');
    CREATE INDEX samples_t ON samples (t_ms);
    CREATE TABLE minutes (
        minute INTEGER PRIMARY KEY, good_s REAL NOT NULL DEFAULT 0,
        slouched_s REAL NOT NULL DEFAULT 0, away_s REAL NOT NULL DEFAULT 0,
        unknown_s REAL NOT NULL DEFAULT 0, sitting_s REAL NOT NULL DEFAULT 0,
        neck_sum REAL NOT NULL DEFAULT 0, neck_n INTEGER NOT NULL DEFAULT 0,
        thoracic_sum REAL NOT NULL DEFAULT 0, thoracic_n INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE state_changes (
        t_ms INTEGER NOT NULL, state TEXT NOT NULL, previous TEXT NOT NULL, reasons TEXT);
    CREATE INDEX state_changes_t ON state_changes (t_ms);
    CREATE TABLE alerts (
        t_ms INTEGER NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
        message TEXT NOT NULL, reasons TEXT);
    CREATE INDEX alerts_t ON alerts (t_ms);
    CREATE TABLE camera_events (t_ms INTEGER NOT NULL, state TEXT NOT NULL, detail TEXT);
    CREATE TABLE exercise_sessions (
        id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL, ended_ms INTEGER,
        exercise TEXT, program TEXT, reps INTEGER NOT NULL DEFAULT 0,
        partial_reps INTEGER NOT NULL DEFAULT 0, adherence TEXT);
    CREATE TABLE reps (
        session_id INTEGER NOT NULL REFERENCES exercise_sessions (id), exercise TEXT NOT NULL,
        start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, hold_s REAL, depth REAL,
        faults TEXT, valid INTEGER NOT NULL);
    CREATE TABLE calibrations (
        id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, name TEXT NOT NULL,
        profile TEXT NOT NULL);
    """,
    # 2: hourly rollups, so trends over a year read 8,760 rows, not 525,600
    """
    CREATE TABLE hours (
        hour INTEGER PRIMARY KEY, good_s REAL NOT NULL DEFAULT 0,
        slouched_s REAL NOT NULL DEFAULT 0, away_s REAL NOT NULL DEFAULT 0,
        unknown_s REAL NOT NULL DEFAULT 0, sitting_s REAL NOT NULL DEFAULT 0,
        neck_sum REAL NOT NULL DEFAULT 0, neck_n INTEGER NOT NULL DEFAULT 0,
        thoracic_sum REAL NOT NULL DEFAULT 0, thoracic_n INTEGER NOT NULL DEFAULT 0);
    INSERT INTO hours
        SELECT minute / 3600000 * 3600000, sum(good_s), sum(slouched_s), sum(away_s),
               sum(unknown_s), sum(sitting_s), sum(neck_sum), sum(neck_n), sum(thoracic_sum),
               sum(thoracic_n)
        FROM minutes GROUP BY 1;
    """,
    # 3: reclined (leaning back against support) is a state of its own, not a slouch
    """
    ALTER TABLE minutes ADD COLUMN reclined_s REAL NOT NULL DEFAULT 0;
    ALTER TABLE hours ADD COLUMN reclined_s REAL NOT NULL DEFAULT 0;
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this file has not seen yet; return the schema version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise UsageError(f"it was written by a newer posture (schema {version}, this one "
                         f"reads up to {len(MIGRATIONS)}): upgrade posture, or set "
                         "history.path to another file")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        with conn:
            conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating it readable by the user only, in a private folder) and migrate."""
    problem = history_path_problem(path)
    if problem:
        raise UsageError(f"history {path}: {problem}")
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
        conn = sqlite3.connect(str(path), timeout=10.0, check_same_thread=False,
                               isolation_level=None)
        _setup(conn)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(f"history {path}: cannot open ({exc})") from exc
    except UsageError as exc:
        conn.close()
        raise UsageError(f"history {path}: {exc}") from None
    return conn


def _setup(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a power cut may lose the last commit, never consistency.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    migrate(conn)


@dataclass(frozen=True)
class Row:
    """One statement for the writer: an INSERT (or UPSERT) and its parameters."""

    sql: str
    params: tuple
    droppable: bool = False  # samples may be dropped under overload; events never


ROLLUP_UPSERT = """
INSERT INTO {table} ({key}, good_s, slouched_s, away_s, unknown_s, sitting_s, neck_sum,
                     neck_n, thoracic_sum, thoracic_n, reclined_s)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT ({key}) DO UPDATE SET
    good_s = good_s + excluded.good_s, slouched_s = slouched_s + excluded.slouched_s,
    reclined_s = reclined_s + excluded.reclined_s,
    away_s = away_s + excluded.away_s, unknown_s = unknown_s + excluded.unknown_s,
    sitting_s = sitting_s + excluded.sitting_s, neck_sum = neck_sum + excluded.neck_sum,
    neck_n = neck_n + excluded.neck_n, thoracic_sum = thoracic_sum + excluded.thoracic_sum,
    thoracic_n = thoracic_n + excluded.thoracic_n
"""
MINUTE_UPSERT = ROLLUP_UPSERT.format(table="minutes", key="minute")
HOUR_UPSERT = ROLLUP_UPSERT.format(table="hours", key="hour")


class Store:
    """The single writer. put() never blocks the caller for long; close() flushes."""

    def __init__(self, path: Path, retention_days: int = 30, flush_s: float = 0.3,
                 max_queue: int = 20_000) -> None:
        self.path = path
        self.retention_days = retention_days
        self.flush_s = flush_s
        self.dropped = 0
        self._queue: queue.Queue[Row | None] = queue.Queue(maxsize=max_queue)
        conn = connect(path)  # migrate now, so errors surface in the caller's thread
        conn.close()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._thread.start()

    def put(self, rows: Iterable[Row]) -> None:
        for row in rows:
            try:
                self._queue.put(row, block=not row.droppable, timeout=5.0)
            except queue.Full:
                self.dropped += 1

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn = connect(self.path)
        self._apply_retention(conn)
        last_retention = time.monotonic()
        done = False
        while not done:
            # Sleep until there is something to write (no idle wake-ups), then gather what
            # comes within flush_s into one transaction.
            first = self._queue.get()
            if first is None:
                break
            batch: list[Row] = [first]
            deadline = time.monotonic() + self.flush_s
            while time.monotonic() < deadline:
                try:
                    row = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if row is None:
                    done = True
                    break
                batch.append(row)
            if batch:
                try:
                    with conn:
                        conn.execute("BEGIN")
                        for row in batch:
                            conn.execute(row.sql, row.params)
                except sqlite3.Error as exc:
                    log.error("history: could not write %d rows: %s", len(batch), exc)
            if time.monotonic() - last_retention > 3600:
                self._apply_retention(conn)
                last_retention = time.monotonic()
        conn.close()

    def _apply_retention(self, conn: sqlite3.Connection) -> None:
        cutoff = int(time.time() * 1000) - self.retention_days * 86_400_000
        with conn:
            conn.execute("DELETE FROM samples WHERE t_ms < ?", (cutoff,))


def read_only(path: Path) -> sqlite3.Connection:
    """A reader connection (the dashboard's); WAL lets it read while the writer writes."""
    conn = connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))

"""Dashboard latency and trend-query speed.

1. From a pose result handed to the monitor to its receipt by a WebSocket client of the real
   dashboard server (uvicorn, loopback, with the security checks), at 15 samples a second.
   Target: p95 <= 50 ms.
2. The trends and report queries over a year of generated history (one rollup row a minute,
   alerts and reps). Target: <= 100 ms.

    python benchmarks/live_latency.py [--samples 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from websockets.sync.client import connect as ws_connect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from synthetic import side_pose  # noqa: E402

from posture.config import Config  # noqa: E402
from posture.history import queries  # noqa: E402
from posture.history.store import MIGRATIONS, connect  # noqa: E402
from posture.live.session import PostureSession  # noqa: E402
from posture.server.app import create_app  # noqa: E402
from posture.server.hub import LiveHub  # noqa: E402
from posture.server.serve import DashboardServer, pick_port  # noqa: E402

TOKEN = "b" * 43


def latency(samples: int, tmp: Path) -> list[float]:
    hub = LiveHub(max_hz=15)
    monitor = PostureSession(Config(), sinks=[hub])
    port = pick_port("127.0.0.1", 0)
    server = DashboardServer(create_app(monitor, hub, tmp / "h.sqlite3", TOKEN, port),
                             "127.0.0.1", port)
    server.start()
    sent: dict[int, float] = {}
    received: dict[int, float] = {}
    ready = threading.Event()

    def client() -> None:
        with ws_connect(f"ws://127.0.0.1:{port}/api/live", origin=f"http://127.0.0.1:{port}",
                        additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
            ws.recv()  # the current status
            ready.set()
            while len(received) < samples:
                message = json.loads(ws.recv(timeout=10))
                if message.get("kind") == "sample" and message.get("t_ms") is not None:
                    received[message["t_ms"]] = time.perf_counter()

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    ready.wait(10)
    rng = np.random.default_rng(0)
    period = 1 / 15
    for i in range(samples):
        t_ms = i * 67
        pose = side_pose(12 + rng.normal(0, 0.5), 3, 95, t_ms=t_ms)
        sent[t_ms] = time.perf_counter()
        monitor.process(pose)
        time.sleep(period)
    thread.join(15)
    server.stop()
    return [(received[t] - sent[t]) * 1000 for t in received if t in sent]


def year_of_history(path: Path) -> None:
    conn = connect(path)
    now = int(time.time() * 1000) // 60_000 * 60_000
    rng = np.random.default_rng(1)
    with conn:
        conn.executemany(
            "INSERT INTO minutes (minute, good_s, slouched_s, sitting_s, neck_sum, neck_n, "
            "thoracic_sum, thoracic_n) VALUES (?, ?, ?, 60, ?, 60, ?, 60)",
            ((now - i * 60_000, 60 - s, s, 60 * (15 + s / 4), 60 * (5 + s / 8))
             for i, s in zip(range(365 * 1440), rng.integers(0, 30, 365 * 1440).tolist())))
        # The hourly rollups, as the writer keeps them (the same SQL as the migration).
        conn.execute("DELETE FROM hours")
        conn.executescript(MIGRATIONS[1].split(";", 1)[1])
        conn.executemany("INSERT INTO alerts VALUES (?, 'slouch', 't', 'm', '')",
                         ((now - i * 3_600_000,) for i in range(365 * 8)))
        conn.execute("INSERT INTO exercise_sessions (id, started_ms) VALUES (1, ?)", (now,))
        conn.executemany("INSERT INTO reps VALUES (1, 'chin_tuck', ?, ?, 2.0, 1.0, '', 1)",
                         ((now - i * 86_400_000, now - i * 86_400_000 + 5000)
                          for i in range(365) for _ in range(10)))
    conn.close()


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        connect(tmp / "h.sqlite3").close()
        ms = sorted(latency(args.samples, tmp))
        p50, p95 = ms[len(ms) // 2], ms[int(len(ms) * 0.95) - 1]
        print(f"pose result -> WebSocket client: {len(ms)} samples at 15 Hz, "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (target p95 <= 50)")
        year = tmp / "year.sqlite3"
        year_of_history(year)
        conn = connect(year)
        rows = conn.execute("SELECT count(*) FROM minutes").fetchone()[0]
        for label, fn in (("trends 7 days", lambda: queries.trends(conn, 7)),
                          ("trends 90 days", lambda: queries.trends(conn, 90)),
                          ("trends 365 days", lambda: queries.trends(conn, 365)),
                          ("report 365 days", lambda: queries.report(conn, 365))):
            print(f"{label:<16} over {rows:,} minute rows: {timed(fn):6.1f} ms "
                  "(median of 5; target <= 100)")


if __name__ == "__main__":
    main()

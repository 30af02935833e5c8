"""A week of earlier workdays written into a history database, as `posture run` would have
left them: per-sample rows (every 10 s), minute and hour rollups, state changes and alerts.

Each day: 09:00-11:00 mostly upright (slouched 10% of the time), 14:00-17:00 slouched 40%;
`looking_down` behind 30% of judged samples; break reminders at 10:00, 15:00 and 16:00 that
are not followed by a break. Times are UTC days (tests pass offset_ms=0 or run with TZ=UTC).
"""

from __future__ import annotations

from pathlib import Path

from posture.history.store import HOUR_UPSERT, MINUTE_UPSERT, connect

DAY_MS, MIN_MS = 86_400_000, 60_000


def seed_week(path: Path, now_ms: int, days: int = 5) -> list[str]:
    """Seed `days` days before today; returns their ISO dates."""
    from datetime import date, timedelta

    conn = connect(path)
    today = now_ms // DAY_MS
    dates = []
    with conn:
        for back in range(days, 0, -1):
            day = today - back
            dates.append((date(1970, 1, 1) + timedelta(days=day)).isoformat())
            base = day * DAY_MS
            for start_h, end_h, slouched_share in ((9, 11, 0.1), (14, 17, 0.4)):
                _block(conn, base + start_h * 3_600_000, (end_h - start_h) * 60, slouched_share)
            for hour in (10, 15, 16):
                conn.execute("INSERT INTO alerts VALUES (?, 'break', 'Time for a break', "
                             "'You have been sitting for 45 min', '')",
                             (base + hour * 3_600_000,))
    conn.close()
    return dates


def _block(conn, start_ms: int, minutes: int, slouched_share: float) -> None:
    state = None
    for m in range(minutes):
        minute = start_ms + m * MIN_MS
        slouched = (m % 10) < round(10 * slouched_share)
        new = "slouched" if slouched else "good"
        if new != state:
            conn.execute("INSERT INTO state_changes VALUES (?, ?, ?, '')",
                         (minute, new, state or "unknown"))
            state = new
        for s in range(6):
            reasons = "looking_down" if (m * 6 + s) % 10 < 3 else ""
            if slouched and not reasons:
                reasons = "forward_head"
            conn.execute("INSERT INTO samples VALUES (?, ?, 'side', ?, 12.0, 95.0, NULL, ?)",
                         (minute + s * 10_000, new, 35.0 if slouched else 18.0, reasons))
        good, bad = (0.0, 60.0) if slouched else (60.0, 0.0)
        neck = 35.0 if slouched else 18.0
        values = (good, bad, 0.0, 0.0, 60.0, neck * 6, 6, 12.0 * 6, 6, 0.0)
        conn.execute(MINUTE_UPSERT, (minute, *values))
        conn.execute(HOUR_UPSERT, (minute // 3_600_000 * 3_600_000, *values))
    conn.execute("INSERT INTO state_changes VALUES (?, 'away', ?, '')",
                 (start_ms + minutes * MIN_MS, state))

"""Patterns in the history turned into the advice a therapist would give, each with the days
and numbers behind it, and today at a glance.

An insight appears only with enough data: at least MIN_DAYS days with MIN_JUDGED_MIN minutes
of judged sitting each (and, for time-of-day patterns, an hour of it in each part of the
day). Shares are of judged time (upright, slouched or reclined), from the stored samples.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from posture.analysis.coaching import title_of
from posture.history.queries import DAY_MS, HOUR_MS, _day_range, local_offset_ms

MIN_DAYS = 3
MIN_JUDGED_MIN = 30.0
# A reason behind at least this share of a day's judged samples makes that day count.
REASON_SHARE = 0.15
# Slouching this many points more in the afternoon (from 14:00) than in the morning (to 12:00).
LATE_RISE = 0.10
# Break reminders followed by a break (away for breaks.break_min within 15 minutes) under
# this share, with at least MIN_REMINDERS reminders: breaks are being skipped.
BREAK_TAKEN_SHARE = 0.5
MIN_REMINDERS = 3
BREAK_WINDOW_MS = 15 * 60_000
JUDGED = ("good", "slouched", "reclined")

PATTERNS = (
    ("looking_down", ("looking_down", "forward_head"), "Persistent looking down",
     "Raise the screen so the top of it is at eye level (a laptop stand and a separate "
     "keyboard), and strengthen the neck extensors: chin tucks and neck extensions, a few "
     "times a day (the desk_break routine has both)."),
    ("leaning_in", ("too_close", "trunk_flexion"), "Leaning in toward the screen",
     "Move the screen to about an arm's length and enlarge the text (browser zoom or display "
     "scaling) so you can read it sitting back against the chair."),
    ("lateral_lean", ("lateral_lean",), "Leaning to one side",
     "Centre the screen and keyboard in front of you, mouse close to the keyboard, and keep "
     "both feet flat with the knees near 90 degrees."),
)


def _day(ms: int, offset_ms: int) -> int:
    return (ms + offset_ms) // DAY_MS


def _iso(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def weekly_insights(conn: sqlite3.Connection, days: int = 7, now_ms: int | None = None,
                    offset_ms: int | None = None, break_min: float = 2.0) -> list[dict[str, Any]]:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    offset_ms = local_offset_ms() if offset_ms is None else offset_ms
    _, since = _day_range(days, now_ms, offset_ms)
    judged: Counter[int] = Counter()
    reasons: Counter[tuple[int, str]] = Counter()
    for t_ms, state, text in conn.execute(
            "SELECT t_ms, state, reasons FROM samples WHERE t_ms >= ?", (since,)):
        if state not in JUDGED:
            continue
        day = _day(t_ms, offset_ms)
        judged[day] += 1
        for reason in (text or "").split(","):
            if reason:
                reasons[(day, reason)] += 1
    minutes = _judged_minutes(conn, since, offset_ms)
    good_days = sorted(d for d in judged if minutes.get(d, 0.0) >= MIN_JUDGED_MIN)
    out: list[dict[str, Any]] = []
    if len(good_days) >= MIN_DAYS:
        for kind, names, title, advice in PATTERNS:
            shares = {d: sum(reasons[(d, n)] for n in names) / judged[d] for d in good_days}
            hit = [d for d in good_days if shares[d] >= REASON_SHARE]
            if len(hit) >= MIN_DAYS:
                mean = sum(shares[d] for d in hit) / len(hit)
                out.append({"kind": kind, "title": title, "advice": advice, "evidence": {
                    "summary": (f"{len(hit)} of {len(good_days)} days with enough data, on "
                                f"average {mean * 100:.0f}% of judged time"),
                    "days": [{"date": _iso(d), "share": round(shares[d], 3),
                              "judged_min": round(minutes[d], 1)} for d in hit]}})
    late = _late_day(conn, since, offset_ms)
    if late is not None:
        out.append(late)
    skipped = _skipped_breaks(conn, since, offset_ms, break_min)
    if skipped is not None:
        out.append(skipped)
    return out


def _judged_minutes(conn: sqlite3.Connection, since: int, offset_ms: int) -> dict[int, float]:
    return {day: (judged or 0.0) / 60 for day, judged in conn.execute(
        "SELECT (minute + ?) / ? AS day, sum(good_s + slouched_s + reclined_s) FROM minutes "
        "WHERE minute >= ? GROUP BY day", (offset_ms, DAY_MS, since))}


def _late_day(conn: sqlite3.Connection, since: int, offset_ms: int) -> dict[str, Any] | None:
    """Slouching that rises in the afternoon, on days with an hour judged in each half."""
    parts: dict[int, dict[str, list[float]]] = {}
    for hour, good, slouched, reclined in conn.execute(
            "SELECT hour, good_s, slouched_s, reclined_s FROM hours WHERE hour >= ?", (since,)):
        local_hour = (hour + offset_ms) // HOUR_MS % 24
        part = "morning" if local_hour < 12 else "afternoon" if local_hour >= 14 else None
        if part is None:
            continue
        totals = parts.setdefault(_day(hour, offset_ms), {}).setdefault(part, [0.0, 0.0])
        totals[0] += slouched
        totals[1] += good + slouched + reclined
    rows = []
    for day, p in sorted(parts.items()):
        if all(p.get(k, [0, 0])[1] >= 3600 for k in ("morning", "afternoon")):
            am, pm = (p[k][0] / p[k][1] for k in ("morning", "afternoon"))
            rows.append((day, am, pm))
    risen = [r for r in rows if r[2] - r[1] >= LATE_RISE]
    if len(rows) < MIN_DAYS or len(risen) < MIN_DAYS:
        return None
    am = sum(r[1] for r in risen) / len(risen)
    pm = sum(r[2] for r in risen) / len(risen)
    return {"kind": "late_day_slouch", "title": "Slouching rises later in the day",
            "advice": "Take short breaks more often in the afternoon (every 30 minutes), stand "
                      "and walk, and do the micro_movements routine after lunch.",
            "evidence": {"summary": (f"{len(risen)} of {len(rows)} days: slouched {am * 100:.0f}% "
                                     f"of the morning, {pm * 100:.0f}% of the afternoon"),
                         "days": [{"date": _iso(d), "morning_share": round(a, 3),
                                   "afternoon_share": round(p, 3)} for d, a, p in risen]}}


def _skipped_breaks(conn: sqlite3.Connection, since: int, offset_ms: int,
                    break_min: float) -> dict[str, Any] | None:
    reminders = [t for (t,) in conn.execute(
        "SELECT t_ms FROM alerts WHERE kind = 'break' AND t_ms >= ? ORDER BY t_ms", (since,))]
    if len(reminders) < MIN_REMINDERS:
        return None
    changes = list(conn.execute(
        "SELECT t_ms, state FROM state_changes WHERE t_ms >= ? ORDER BY t_ms", (since,)))
    breaks = []  # (start, end) of away stretches
    for i, (t, state) in enumerate(changes):
        if state == "away":
            end = changes[i + 1][0] if i + 1 < len(changes) else None
            breaks.append((t, end))
    taken = 0
    for t in reminders:
        if any(t <= start <= t + BREAK_WINDOW_MS
               and (end is None or end - start >= break_min * 60_000) for start, end in breaks):
            taken += 1
    if taken / len(reminders) >= BREAK_TAKEN_SHARE:
        return None
    days = sorted({_day(t, offset_ms) for t in reminders})
    return {"kind": "breaks_skipped", "title": "Breaks are being skipped",
            "advice": "When the break reminder comes, stand up and move for two minutes: walk, "
                      "fetch water, or do the desk_break routine.",
            "evidence": {"summary": f"{taken} of {len(reminders)} break reminders were followed "
                                    f"by a break of {break_min:g} min or more",
                         "days": [{"date": _iso(d)} for d in days],
                         "reminders": len(reminders), "taken": taken}}


def today(conn: sqlite3.Connection, now_ms: int | None = None, offset_ms: int | None = None,
          sit_limit_min: float = 45.0, break_min: float = 2.0) -> dict[str, Any]:
    """Today at a glance: time per state, the longest slouch, breaks and reps."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    offset_ms = local_offset_ms() if offset_ms is None else offset_ms
    start = _day(now_ms, offset_ms) * DAY_MS - offset_ms
    row = conn.execute(
        "SELECT sum(good_s), sum(slouched_s), sum(reclined_s), sum(away_s), sum(sitting_s) "
        "FROM minutes WHERE minute >= ?", (start,)).fetchone()
    good, slouched, reclined, away, sitting = (v or 0.0 for v in row)
    changes = list(conn.execute("SELECT t_ms, state FROM state_changes WHERE t_ms >= ? "
                                "ORDER BY t_ms", (start,)))
    longest = 0.0
    taken = 0
    for i, (t, state) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else now_ms
        if state == "slouched":
            longest = max(longest, (end - t) / 1000)
        if state == "away" and end - t >= break_min * 60_000:
            taken += 1
    reps = conn.execute("SELECT count(*) FROM reps WHERE valid = 1 AND start_ms >= ?",
                        (start,)).fetchone()[0]
    program = conn.execute(
        "SELECT program, adherence FROM exercise_sessions WHERE program IS NOT NULL AND "
        "started_ms >= ? ORDER BY started_ms DESC LIMIT 1", (start,)).fetchone()
    prescribed = None
    if program is not None and program[1]:
        done = json.loads(program[1])
        steps = done.get("steps", [])
        prescribed = {"program": program[0],
                      "title": done.get("title") or title_of(program[0], program=True),
                      "reps": sum(s["prescribed"]["sets"] * s["prescribed"]["reps"]
                                  for s in steps),
                      "done": sum(min(s["done"]["reps"], s["prescribed"]["sets"]
                                      * s["prescribed"]["reps"]) for s in steps)}
    return {"date": _iso(_day(now_ms, offset_ms)),
            "minutes": {"upright": round(good / 60, 1), "slouched": round(slouched / 60, 1),
                        "reclined": round(reclined / 60, 1), "away": round(away / 60, 1)},
            "longest_slouch_min": round(longest / 60, 1),
            "breaks": {"taken": taken, "due": int(sitting / 60 // sit_limit_min)},
            "reps": reps, "program": prescribed}

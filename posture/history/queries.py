"""Read-only queries behind the dashboard's trends, history and report (JSON-ready dicts).

Days and hours are local: the caller passes the offset of local time from UTC. Trends read
the hourly rollups (a year is 8,760 rows); in a time zone offset by a fraction of an hour,
a day's bounds are rounded to the hour.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

from posture.analysis.coaching import rule_cues, summary, title_of
from posture.analysis.events import RepFinished
from posture.analysis.exercise import builtin_exercise, builtin_names
from posture.care import care_json

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def local_offset_ms() -> int:
    return int(time.localtime().tm_gmtoff * 1000)


def _day_range(days: int, now_ms: int, offset_ms: int) -> tuple[int, int]:
    """(first local day number, start of that day in UTC ms) for the last `days` days."""
    today = (now_ms + offset_ms) // DAY_MS
    first = today - days + 1
    return first, first * DAY_MS - offset_ms


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def _mean(total: float, n: int) -> float | None:
    return round(total / n, 2) if n else None


def trends(conn: sqlite3.Connection, days: int, now_ms: int | None = None,
           offset_ms: int | None = None) -> dict[str, Any]:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    offset_ms = local_offset_ms() if offset_ms is None else offset_ms
    first, since = _day_range(days, now_ms, offset_ms)
    per_day = {row[0]: row for row in conn.execute(
        "SELECT (hour + ?) / ? AS day, sum(good_s), sum(slouched_s), sum(sitting_s), "
        "sum(neck_sum), sum(neck_n), sum(thoracic_sum), sum(thoracic_n), sum(reclined_s) "
        "FROM hours WHERE hour >= ? GROUP BY day", (offset_ms, DAY_MS, since))}
    alerts: Counter[tuple[int, str]] = Counter()
    for day, kind, n in conn.execute(
            "SELECT (t_ms + ?) / ? AS day, kind, count(*) FROM alerts WHERE t_ms >= ? "
            "GROUP BY day, kind", (offset_ms, DAY_MS, since)):
        alerts[(day, kind)] = n
    reps = {day: (n, hold) for day, n, hold in conn.execute(
        "SELECT (start_ms + ?) / ? AS day, count(*), sum(hold_s) FROM reps "
        "WHERE valid = 1 AND start_ms >= ? GROUP BY day", (offset_ms, DAY_MS, since))}
    out = []
    for day in range(first, first + days):
        _, good, slouched, sitting, neck, neck_n, thor, thor_n, reclined = per_day.get(
            day, (day, 0, 0, 0, 0, 0, 0, 0, 0))
        n_reps, hold = reps.get(day, (0, 0.0))
        judged = good + slouched + reclined
        out.append({"date": (date(1970, 1, 1) + timedelta(days=day)).isoformat(),
                    "slouched_share": _share(slouched, judged),
                    "reclined_share": _share(reclined, judged),
                    "judged_h": round(judged / 3600, 2),
                    "sitting_h": round(sitting / 3600, 2),
                    "neck_deg": _mean(neck, neck_n), "thoracic_deg": _mean(thor, thor_n),
                    "slouch_alerts": alerts[(day, "slouch")],
                    "break_reminders": alerts[(day, "break")],
                    "reps": n_reps, "hold_s": round(hold or 0.0, 1)})
    hours = {h: (s, g + s + r) for h, g, s, r in conn.execute(
        "SELECT ((hour + ?) / ?) % 24 AS h, sum(good_s), sum(slouched_s), sum(reclined_s) "
        "FROM hours WHERE hour >= ? GROUP BY h", (offset_ms, HOUR_MS, since))}
    return {"days": out,
            "hours": [{"hour": h, "slouched_share": _share(*hours.get(h, (0, 0)))}
                      for h in range(24)]}


def history(conn: sqlite3.Connection, limit: int = 50) -> dict[str, Any]:
    sessions = [{"id": sid, "started_ms": start, "ended_ms": end, "exercise": exercise,
                 "program": program, "reps": reps, "partial_reps": partial,
                 **_session_summary(conn, sid, start, end, exercise, program, adherence)}
                for sid, start, end, exercise, program, reps, partial, adherence in conn.execute(
                    "SELECT id, started_ms, ended_ms, exercise, program, reps, partial_reps, "
                    "adherence FROM exercise_sessions ORDER BY started_ms DESC LIMIT ?",
                    (limit,))]
    alerts = [{"t_ms": t, "kind": kind, "title": title, "message": message}
              for t, kind, title, message in conn.execute(
                  "SELECT t_ms, kind, title, message FROM alerts ORDER BY t_ms DESC LIMIT ?",
                  (limit,))]
    calibrations = [{"created_ms": t, "name": name, "view": json.loads(profile).get("view")}
                    for t, name, profile in conn.execute(
                        "SELECT created_ms, name, profile FROM calibrations "
                        "ORDER BY created_ms DESC LIMIT ?", (limit,))]
    return {"sessions": sessions, "alerts": alerts, "calibrations": calibrations}


def _session_summary(conn: sqlite3.Connection, sid: int, start: int, end: int | None,
                     exercise: str | None, program: str | None, adherence: str | None
                     ) -> dict[str, Any]:
    """A stored session's title, and how it went as it was told when it ended
    (coaching.summary)."""
    reps = [RepFinished(t, name, s, hold or 0.0, depth or 0.0,
                        tuple(f for f in (faults or "").split(",") if f), bool(valid))
            for name, s, t, hold, depth, faults, valid in conn.execute(
                "SELECT exercise, start_ms, end_ms, hold_s, depth, faults, valid FROM reps "
                "WHERE session_id = ? ORDER BY start_ms", (sid,))]
    names = {r.exercise for r in reps} | ({exercise} if exercise else set())
    holds = {n: builtin_exercise(n).hold_s for n in names if n in builtin_names()}
    done = json.loads(adherence) if adherence else {}
    for step in done.get("steps", []):  # a routine's own hold times
        holds[step["exercise"]] = step["prescribed"]["hold_s"]
    prescribed = sum(s["prescribed"]["sets"] * s["prescribed"]["reps"]
                     for s in done.get("steps", [])) or None
    # A routine from a file kept its title in its adherence record.
    title = done.get("title") or (title_of(program, program=True) if program
                                  else title_of(exercise))
    return {"title": title, "summary": summary(
        title, "routine" if program else "exercise", start, end or start, reps, holds,
        {n: rule_cues(n) for n in names}, done.get("completion"), prescribed)}


def report(conn: sqlite3.Connection, days: int, now_ms: int | None = None,
           offset_ms: int | None = None, break_min: float = 2.0) -> dict[str, Any]:
    """Adherence and posture for a therapist: totals, faults, programs, the daily trend, and
    the patterns of the last week turned into advice (see insights.py)."""
    from posture.history.insights import weekly_insights

    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    offset_ms = local_offset_ms() if offset_ms is None else offset_ms
    trend = trends(conn, days, now_ms, offset_ms)
    _, since = _day_range(days, now_ms, offset_ms)
    faults: Counter[str] = Counter()
    per_exercise: dict[str, dict[str, Any]] = {}
    for exercise, valid, hold, fault_text in conn.execute(
            "SELECT exercise, valid, hold_s, faults FROM reps WHERE start_ms >= ?", (since,)):
        item = per_exercise.setdefault(exercise, {"exercise": exercise,
                                                  "title": title_of(exercise), "reps": 0,
                                                  "partial_reps": 0, "hold_s": 0.0})
        item["reps" if valid else "partial_reps"] += 1
        item["hold_s"] = round(item["hold_s"] + (hold or 0.0) * bool(valid), 1)
        faults.update(f for f in (fault_text or "").split(",") if f)
    programs = [{"started_ms": start, "program": program,
                 "title": done.get("title") or title_of(program, program=True),
                 "completion": done.get("completion")}
                for start, program, adherence in conn.execute(
                    "SELECT started_ms, program, adherence FROM exercise_sessions "
                    "WHERE program IS NOT NULL AND started_ms >= ? ORDER BY started_ms",
                    (since,))
                for done in [json.loads(adherence) if adherence else {}]]
    sessions = conn.execute("SELECT count(*) FROM exercise_sessions WHERE started_ms >= ?",
                            (since,)).fetchone()[0]
    judged = sum(d["judged_h"] for d in trend["days"])
    slouched = sum((d["slouched_share"] or 0) * d["judged_h"] for d in trend["days"])
    reclined = sum((d["reclined_share"] or 0) * d["judged_h"] for d in trend["days"])
    return {"days": days, "generated_ms": now_ms,
            "posture": {"judged_h": round(judged, 2),
                        "slouched_share": round(slouched / judged, 4) if judged else None,
                        "reclined_share": round(reclined / judged, 4) if judged else None,
                        "slouch_alerts": sum(d["slouch_alerts"] for d in trend["days"]),
                        "break_reminders": sum(d["break_reminders"] for d in trend["days"])},
            "exercise": {"sessions": sessions, "by_exercise": sorted(
                per_exercise.values(), key=lambda e: e["exercise"]),
                "faults": dict(faults.most_common()), "programs": programs},
            "daily": trend["days"],
            "insights": weekly_insights(conn, min(days, 7), now_ms, offset_ms, break_min),
            "when_to_seek_care": care_json()}


CSV_COLUMNS = ("date", "slouched_share", "reclined_share", "judged_h", "sitting_h", "neck_deg",
               "thoracic_deg", "slouch_alerts", "break_reminders", "reps", "hold_s")


def report_csv(data: dict[str, Any]) -> str:
    lines = [",".join(CSV_COLUMNS)]
    for day in data["daily"]:
        lines.append(",".join("" if day[c] is None else str(day[c]) for c in CSV_COLUMNS))
    return "\n".join(lines) + "\n"

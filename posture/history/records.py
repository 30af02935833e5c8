"""What gets stored: small pure functions from events and samples to store rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from posture.analysis.events import Alert, CameraStateChanged, Event, PostureChanged, RepFinished
from posture.analysis.metrics import Metrics
from posture.history.store import HOUR_UPSERT, MINUTE_UPSERT, Row, dumps

# A sample stands for the time since the one before, up to this long (a gap is not data).
MAX_SAMPLE_SPAN_S = 5.0


def sample_row(wall_ms: int, state: str, metrics: Metrics, reasons: tuple[str, ...]) -> Row:
    v = metrics.values
    return Row("INSERT INTO samples (t_ms, state, view, neck_deg, thoracic_deg, hip_deg, "
               "head_drop, reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (wall_ms, state, metrics.view.value if metrics.view else None,
                v.get("neck_deg"), v.get("thoracic_deg"), v.get("hip_deg"), v.get("head_drop"),
                ",".join(reasons)), droppable=True)


def event_rows(wall_ms: int, event: Event) -> list[Row]:
    if isinstance(event, PostureChanged):
        return [Row("INSERT INTO state_changes VALUES (?, ?, ?, ?)",
                    (wall_ms, event.state, event.previous, ",".join(event.reasons)))]
    if isinstance(event, Alert) and event.alert != "test":  # a test is not history
        return [Row("INSERT INTO alerts VALUES (?, ?, ?, ?, ?)",
                    (wall_ms, event.alert, event.title, event.message, ",".join(event.reasons)))]
    if isinstance(event, CameraStateChanged):
        return [Row("INSERT INTO camera_events VALUES (?, ?, ?)",
                    (wall_ms, event.state, event.detail))]
    return []


def calibration_row(wall_ms: int, name: str, profile: dict[str, Any]) -> Row:
    """profile: a Baseline's JSON form."""
    return Row("INSERT INTO calibrations (created_ms, name, profile) VALUES (?, ?, ?)",
               (wall_ms, name, dumps(profile)))


def session_rows(session_id: int, started_ms: int, ended_ms: int, exercise: str | None,
                 program: str | None, reps: list[RepFinished], to_wall_ms: int,
                 adherence: dict | None = None) -> list[Row]:
    """An exercise session and its reps; to_wall_ms converts the source's t_ms to wall time."""
    rows = [Row("INSERT INTO exercise_sessions (id, started_ms, ended_ms, exercise, program, "
                "reps, partial_reps, adherence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, started_ms, ended_ms, exercise, program,
                 sum(r.valid for r in reps), sum(not r.valid for r in reps),
                 dumps(adherence) if adherence is not None else None))]
    rows += [Row("INSERT INTO reps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (session_id, r.exercise, r.start_ms + to_wall_ms, r.t_ms + to_wall_ms,
                  r.hold_s, r.depth, ",".join(r.faults), int(r.valid))) for r in reps]
    return rows


STATES = ("good", "slouched", "reclined", "away", "unknown")


@dataclass
class MinuteRollup:
    """Accumulates per-minute time in each state and metric sums; emits upserts per minute."""

    minute: int | None = None
    totals: dict[str, float] = field(default_factory=dict)
    _last_wall_ms: int | None = None

    def add(self, wall_ms: int, state: str, metrics: Metrics, sitting: bool) -> list[Row]:
        span = 0.0 if self._last_wall_ms is None else min(
            (wall_ms - self._last_wall_ms) / 1000, MAX_SAMPLE_SPAN_S)
        self._last_wall_ms = wall_ms
        minute = wall_ms // 60_000
        rows = self.flush() if self.minute is not None and minute != self.minute else []
        self.minute = minute
        t = self.totals
        key = f"{state}_s" if state in STATES else "unknown_s"
        t[key] = t.get(key, 0.0) + span
        if sitting:
            t["sitting_s"] = t.get("sitting_s", 0.0) + span
        for name, short in (("neck_deg", "neck"), ("thoracic_deg", "thoracic")):
            value = metrics.get(name)
            if value is not None:
                t[f"{short}_sum"] = t.get(f"{short}_sum", 0.0) + value
                t[f"{short}_n"] = t.get(f"{short}_n", 0) + 1
        return rows

    def flush(self) -> list[Row]:
        if self.minute is None or not self.totals:
            return []
        t, self.totals = self.totals, {}
        values = (t.get("good_s", 0.0), t.get("slouched_s", 0.0), t.get("away_s", 0.0),
                  t.get("unknown_s", 0.0), t.get("sitting_s", 0.0), t.get("neck_sum", 0.0),
                  t.get("neck_n", 0), t.get("thoracic_sum", 0.0), t.get("thoracic_n", 0),
                  t.get("reclined_s", 0.0))
        start_ms = self.minute * 60_000
        return [Row(MINUTE_UPSERT, (start_ms, *values)),
                Row(HOUR_UPSERT, (start_ms // 3_600_000 * 3_600_000, *values))]

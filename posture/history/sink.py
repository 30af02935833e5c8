"""StoreSink: what a session's events and samples become in the history."""

from __future__ import annotations

from posture.analysis.events import (
    CalibrationFinished,
    Event,
    ExerciseSessionEnded,
    Sample,
)
from posture.history.records import (
    MinuteRollup,
    calibration_row,
    event_rows,
    sample_row,
    session_rows,
)
from posture.history.store import Row, Store


class StoreSink:
    """Samples at most every `sample_interval_s`, per-minute and per-hour rollups, state
    changes, alerts, camera events, calibrations and exercise sessions with their reps."""

    def __init__(self, store: Store, sample_interval_s: float = 1.0) -> None:
        self.store = store
        self.interval_ms = sample_interval_s * 1000
        self.rollup = MinuteRollup()
        self._last_sample_ms: int | None = None

    def handle(self, event: Event, wall_ms: int) -> None:
        rows: list[Row] = []
        if isinstance(event, Sample):
            rows += self.rollup.add(wall_ms, event.state, event.metrics, event.sitting)
            t = event.t_ms
            if self._last_sample_ms is None or t - self._last_sample_ms >= self.interval_ms:
                self._last_sample_ms = t
                rows.append(sample_row(wall_ms, event.state, event.metrics, event.reasons))
        elif isinstance(event, CalibrationFinished):
            if event.ok and event.profile is not None:
                rows.append(calibration_row(wall_ms, "default", event.profile))
        elif isinstance(event, ExerciseSessionEnded):
            rows += self._session(event, wall_ms)
        else:
            rows += event_rows(wall_ms, event)
        if rows:
            self.store.put(rows)

    @staticmethod
    def _session(event: ExerciseSessionEnded, wall_ms: int) -> list[Row]:
        if event.exercise is not None and not event.reps:
            return []  # an exercise chosen and left without a single movement
        offset = wall_ms - event.t_ms
        start = event.started_ms + offset
        return session_rows(start, start, wall_ms, event.exercise, event.program,
                            list(event.reps), offset, event.adherence)

    def close(self) -> None:
        self.store.put(self.rollup.flush())

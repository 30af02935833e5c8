"""The live monitor's per-sample step: pose -> metrics -> analyzers -> events -> sinks.

All analyzer state lives here and is touched from one thread (the loop in posture/live.py).
Times are the source's t_ms; wall-clock time is derived as session start + t_ms, so a replay
produces the same alerts and the same history as the live run did.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

import cv2
import numpy as np

from posture.alerts import SittingTimer, SlouchAlerts, in_quiet_hours
from posture.calibrate import default_profile_path
from posture.calibration import Baseline, Calibration, save_profile
from posture.config import Config
from posture.events import Alert, CalibrationFinished, CameraStateChanged
from posture.exercise import Exercise
from posture.metrics import Metrics, View, compute_metrics
from posture.notify import Notifier
from posture.pose import Pose
from posture.program import Program, SessionRunner
from posture.records import (
    MinuteRollup,
    calibration_row,
    event_rows,
    sample_row,
    session_rows,
)
from posture.repcount import RepCounter
from posture.slouch import PostureState, SlouchConfig, SlouchDetector
from posture.smoothing import MetricsSmoother
from posture.store import Store

Publish = Callable[[dict[str, Any]], None]


def event_json(event: object) -> dict[str, Any]:
    return {"type": type(event).__name__, **asdict(event)}  # type: ignore[call-overload]


class Monitor:
    def __init__(self, config: Config, *, baseline: Baseline | None = None,
                 store: Store | None = None, notifier: Notifier | None = None,
                 publish: Publish | None = None, exercise: Exercise | None = None,
                 program: Program | None = None, view: View | None = None,
                 wall_start_ms: int | None = None) -> None:
        self.config = config
        self.view = view
        p = config.posture
        self.detector = SlouchDetector(baseline, replace(
            SlouchConfig(), onset_s=p.onset_s, recover_s=p.recover_s,
            away_after_s=p.away_after_s))
        self.smoother = MetricsSmoother()
        self.slouch_alerts = SlouchAlerts(config.alerts)
        self.sitting = SittingTimer(config.breaks)
        self.rollup = MinuteRollup()
        self.store, self.notifier = store, notifier
        self.publish = publish or (lambda message: None)
        self.wall_start_ms = int(time.time() * 1000) if wall_start_ms is None else wall_start_ms
        self.counter = RepCounter(exercise) if exercise else None
        self.runner = SessionRunner(program) if program else None
        self._session_start_ms = 0
        self.paused = False
        self.preview_enabled = False
        self._preview: bytes | None = None
        self.calibration: Calibration | None = None
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        # The latest events, for tests and debugging; bounded so a day-long run stays flat.
        self.events: deque[object] = deque(maxlen=1000)
        self._last_sample_ms: int | None = None
        self._last_t_ms = 0
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"state": PostureState.UNKNOWN.value, "reasons": [],
                                        "camera": {"state": "opening", "detail": ""},
                                        "metrics": {}, "t_ms": None, "sitting_s": 0.0}

    # --- helpers ---------------------------------------------------------------------------
    def wall_ms(self, t_ms: int) -> int:
        return self.wall_start_ms + t_ms

    def minute_of_day(self, t_ms: int) -> int:
        local = time.localtime(self.wall_ms(t_ms) / 1000)
        return local.tm_hour * 60 + local.tm_min

    @property
    def active(self) -> bool:
        """Sample fast: slouched, a slouch pending, or an exercise under way."""
        return (self.detector.state is PostureState.SLOUCHED or self.detector.pending
                or self.counter is not None or self.runner is not None)

    def interval_s(self) -> float:
        m = self.config.monitor
        return 1.0 / (m.active_hz if self.active else m.sample_hz)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._status)

    # --- the opt-in live preview: the newest frame as JPEG, in memory only -----------------
    def offer_frame(self, rgb: np.ndarray | None) -> None:
        if not self.preview_enabled or rgb is None:
            self._preview = None
            return
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, 70])
        self._preview = jpeg.tobytes() if ok else None

    def preview_jpeg(self) -> bytes | None:
        return self._preview if self.preview_enabled else None

    # --- requests from other threads (the dashboard), applied on the monitor's thread ------
    def request(self, action: str, **kwargs: Any) -> None:
        """Queue an action: calibrate(seconds), exercise(exercise|program|None), snooze,
        pause(paused)."""
        self._requests.put((action, kwargs))

    def apply_requests(self) -> None:
        t = self._last_t_ms
        while not self._requests.empty():
            action, kwargs = self._requests.get()
            if action == "calibrate":
                self.calibration = Calibration(kwargs["seconds"])
            elif action == "exercise":
                self.end_exercise(t)
                exercise, program = kwargs.get("exercise"), kwargs.get("program")
                self.counter = RepCounter(exercise) if exercise else None
                self.runner = SessionRunner(program) if program else None
                self._session_start_ms = t
            elif action == "snooze":
                self.slouch_alerts.snooze(t)
            elif action == "pause":
                self.paused = bool(kwargs["paused"])
            self._update_status_controls()

    def _update_status_controls(self) -> None:
        with self._lock:
            self._status.update({
                "paused": self.paused, "calibrated": self.detector.baseline is not None,
                "calibrating": self.calibration is not None,
                "snoozed_until_ms": self.slouch_alerts.snoozed_until_ms})
            if self.counter is None:
                self._status.pop("exercise", None)
            if self.runner is None:
                self._status.pop("program", None)

    def _calibrate(self, raw: Metrics) -> list[object]:
        done = self.calibration.add(raw) if self.calibration else None
        if done is None:
            return []
        self.calibration = None
        if isinstance(done, str):
            return [CalibrationFinished(raw.timestamp_ms, False, done)]
        self.detector.baseline = done
        save_profile(done, default_profile_path())
        if self.store is not None:
            self.store.put([calibration_row(self.wall_ms(raw.timestamp_ms), "default", done)])
        self._update_status_controls()
        return [CalibrationFinished(raw.timestamp_ms, True,
                                    f"{done.view.value} view, {done.frames} frames")]

    # --- the step --------------------------------------------------------------------------
    def process(self, pose: Pose) -> list[object]:
        t = pose.timestamp_ms
        self._last_t_ms = t
        self.apply_requests()
        raw = compute_metrics(pose, self.view)
        metrics = self.smoother.update(raw)
        events: list[object] = self._calibrate(raw)
        events += self.detector.update(metrics)
        state, reasons = self.detector.state.value, self.detector.reasons
        quiet = in_quiet_hours(self.config.alerts.quiet_hours, self.minute_of_day(t))
        events += self.slouch_alerts.update(state, reasons, t, self.minute_of_day(t))
        events += self.sitting.update(state != PostureState.AWAY.value and pose.person, t,
                                      quiet)
        if self.counter is not None:
            events += self.counter.update(metrics)
        if self.runner is not None:
            events += self.runner.update(metrics)
        self._sinks(t, state, reasons, metrics, events)
        self._update_status(t, state, reasons, metrics, pose)
        self.publish({"type": "sample", **self.status(),
                      "landmarks": pose.landmarks[:, :2].round(4).tolist() if pose.person
                      else None})
        return events

    def camera_changed(self, state: str, detail: str, t_ms: int) -> None:
        event = CameraStateChanged(t_ms, state, detail)
        with self._lock:
            self._status["camera"] = {"state": state, "detail": detail}
        self._sinks(t_ms, None, (), None, [event])

    def _sinks(self, t: int, state: str | None, reasons: tuple[str, ...],
               metrics: Metrics | None, events: list[object]) -> None:
        self.events.extend(events)
        wall = self.wall_ms(t)
        rows = [row for e in events for row in event_rows(wall, e)]
        if metrics is not None and state is not None:
            sitting = self.sitting.sitting_since_ms is not None
            rows += self.rollup.add(wall, state, metrics, sitting)
            interval = self.config.history.sample_interval_s * 1000
            if self._last_sample_ms is None or t - self._last_sample_ms >= interval:
                self._last_sample_ms = t
                rows.append(sample_row(wall, state, metrics, reasons))
        if self.store is not None and rows:
            self.store.put(rows)
        for event in events:
            if isinstance(event, Alert) and self.notifier is not None:
                self.notifier.deliver(event, wall)
            self.publish(event_json(event))

    def _update_status(self, t: int, state: str, reasons: tuple[str, ...], metrics: Metrics,
                       pose: Pose) -> None:
        status = {"state": state, "reasons": list(reasons), "t_ms": t,
                  "view": metrics.view.value if metrics.view else None,
                  "person": pose.person, "metrics": metrics.to_json(),
                  "sitting_s": round(self.sitting.sitting_s(t), 1)}
        if self.counter is not None:
            status["exercise"] = {"name": self.counter.exercise.name, "reps": self.counter.reps,
                                  "partial_reps": self.counter.partial_reps,
                                  "phase": self.counter.phase.value}
        if self.runner is not None:
            step = self.runner.step
            status["program"] = {"name": self.runner.program.name,
                                 "exercise": step.exercise.name if step else None,
                                 "set": self.runner.set_number,
                                 "finished": self.runner.finished}
        with self._lock:
            self._status.update(status)

    def end_exercise(self, t: int) -> None:
        """Close the exercise session under way, if any, and store it with its reps."""
        rows = []
        for analyzer in (self.counter, self.runner):
            if analyzer is not None:
                self._sinks(t, None, (), None, analyzer.close(t))
        start = self.wall_ms(self._session_start_ms)
        if self.counter is not None and self.counter.finished:
            rows += session_rows(start, start, self.wall_ms(t), self.counter.exercise.name,
                                 None, self.counter.finished, self.wall_start_ms)
        if self.runner is not None:
            rows += session_rows(start, start, self.wall_ms(t), None, self.runner.program.name,
                                 self.runner.finished_reps(), self.wall_start_ms,
                                 self.runner.adherence())
        self.counter = self.runner = None
        if self.store is not None and rows:
            self.store.put(rows)

    def close(self) -> None:
        """Flush what is pending: the minute rollup and any exercise session."""
        self.end_exercise(self._last_t_ms)
        if self.store is not None:
            self.store.put(self.rollup.flush())

"""PostureSession: the one pipeline every path drives (analyze, run, demo, calibrate,
benchmarks). Pose -> metrics -> smoothing -> slouch detector, alerts, sitting timer, rep
counter or program -> typed events -> sinks.

All analyzer state lives here and is touched from one thread (the caller of process()).
Times are the source's t_ms; wall-clock time is session start + t_ms, so a replay produces
the same alerts and history as the live run did.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from posture.analysis.calibration import Baseline, Calibration, save_profile
from posture.analysis.coaching import Coach, session_summary
from posture.analysis.events import (
    Alert,
    CalibrationFinished,
    CameraStateChanged,
    Event,
    ExerciseSessionEnded,
    Sample,
)
from posture.analysis.exercise import Exercise
from posture.analysis.metrics import Metrics, View, compute_metrics
from posture.analysis.placement import placement_advice, placement_for
from posture.analysis.program import Program, SessionRunner
from posture.analysis.repcount import RepCounter
from posture.analysis.slouch import (
    PostureState,
    SlouchConfig,
    SlouchDetector,
    angle_limits,
    baseline_note,
    calibration_check,
    posture_kind,
    verdict,
)
from posture.analysis.smoothing import MetricsSmoother
from posture.analysis.teach import TeachRecorder
from posture.config import Config
from posture.errors import UsageError
from posture.live.alerts import SittingTimer, SlouchAlerts, in_quiet_hours
from posture.vision.pose import Pose

JUDGED = frozenset({PostureState.GOOD.value, PostureState.SLOUCHED.value,
                    PostureState.RECLINED.value})
# Camera states in which nothing is monitored, and how the dashboard says why.
NOT_MONITORING = {"ended": "the recording ended", "busy": "the camera is in use by another "
                  "program", "unavailable": "the camera is not available",
                  "stalled": "the camera stopped sending pictures"}
# Settings a running monitor takes at once; the others are read when it starts.
LIVE_SETTINGS = ("alerts", "breaks", "posture.onset_s", "posture.recover_s",
                 "posture.away_after_s", "posture.reclined_alerts", "monitor.sample_hz",
                 "monitor.active_hz", "monitor.exercise_hz")


class Sink(Protocol):
    """Receives every event of a session, on the session's thread, with its wall time."""

    def handle(self, event: Event, wall_ms: int) -> None: ...


def slouch_config(config: Config) -> SlouchConfig:
    p = config.posture
    return SlouchConfig(onset_s=p.onset_s, recover_s=p.recover_s, away_after_s=p.away_after_s,
                        reclined_alerts=p.reclined_alerts)


class PostureSession:
    def __init__(self, config: Config, *, baseline: Baseline | None = None,
                 sinks: Sequence[Sink] = (), exercise: Exercise | None = None,
                 program: Program | None = None, view: View | None = None,
                 wall_start_ms: int | None = None, profile_path: Path | None = None) -> None:
        self.config = config
        self.view = view
        self.slouch = slouch_config(config)
        self.detector = SlouchDetector(baseline, self.slouch)
        self.smoother = MetricsSmoother()
        self.slouch_alerts = SlouchAlerts(config.alerts)
        self.sitting = SittingTimer(config.breaks)
        self.sinks = list(sinks)
        self.profile_path = profile_path
        self.wall_start_ms = int(time.time() * 1000) if wall_start_ms is None else wall_start_ms
        self.counter: RepCounter | None = None
        self.runner: SessionRunner | None = None
        self.coach: Coach | None = None
        self.last_summary: dict[str, Any] | None = None
        # A calibration that looked slouched waits here until the user keeps it.
        self.pending_baseline: Baseline | None = None
        self._session_start_ms = 0
        self._start_exercise(exercise, program, 0)
        self.paused = False
        self.screen_locked = False  # the desktop session is locked: monitoring steps aside
        self.preview_enabled = False
        # Until when (time.monotonic()) an open dashboard shows alerts as browser
        # notifications; it says so again every 30 s while it does.
        self.browser_notifications_until = 0.0
        self._preview: bytes | None = None
        self.calibration: Calibration | None = None
        self.teaching: TeachRecorder | None = None  # a demonstration being recorded
        self._requests: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        # The latest events, for tests and debugging; bounded so a day-long run stays flat.
        self.events: deque[Event] = deque(maxlen=1000)
        self._last_t_ms = 0
        self._lock = threading.Lock()
        self._status: dict[str, Any] = {"state": PostureState.UNKNOWN.value, "reasons": [],
                                        "camera": {"state": "opening", "detail": ""},
                                        "metrics": {}, "t_ms": None, "sitting_s": 0.0}
        self._update_status_controls()

    # --- time ------------------------------------------------------------------------------
    def wall_ms(self, t_ms: int) -> int:
        return self.wall_start_ms + t_ms

    def minute_of_day(self, t_ms: int) -> int:
        try:
            local = time.localtime(self.wall_ms(t_ms) / 1000)
        except (OverflowError, OSError, ValueError):  # beyond the platform's calendar
            return int(self.wall_ms(t_ms) // 60_000 % 1440)
        return local.tm_hour * 60 + local.tm_min

    @property
    def last_t_ms(self) -> int:
        """The source time of the latest frame processed."""
        return self._last_t_ms

    @property
    def baseline(self) -> Baseline | None:
        return self.detector.baseline

    # --- how often a live camera is sampled ------------------------------------------------
    def interval_s(self) -> float:
        """Seconds to the next camera sample: fast while an exercise or a demonstration is
        under way, faster while slouched or a slouch is building, slow in the background.
        File sources are analysed frame by frame instead (see posture.live.loop.run_file)."""
        m = self.config.monitor
        teaching = self.teaching is not None and not self.teaching.finished
        if self.counter is not None or self.runner is not None or teaching:
            return 1.0 / m.exercise_hz
        slouching = self.detector.state is PostureState.SLOUCHED or self.detector.pending
        return 1.0 / (m.active_hz if slouching else m.sample_hz)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return self._with_monitoring(dict(self._status))

    def _with_monitoring(self, status: dict[str, Any]) -> dict[str, Any]:
        """Whether anything is being monitored now, and if not, why (in words)."""
        camera = status.get("camera") or {}
        reason = ("paused" if self.paused else "the screen is locked" if self.screen_locked
                  else NOT_MONITORING.get(camera.get("state", "")))
        status["monitoring"] = {"active": reason is None, "reason": reason or ""}
        return status

    def monitoring_problem(self) -> str | None:
        """Why an exercise could not be counted now, or None."""
        state = self.status()["monitoring"]
        return None if state["active"] else f"not monitoring: {state['reason']}"

    def browser_notifications_on(self) -> bool:
        return time.monotonic() < self.browser_notifications_until

    # --- the opt-in live preview: the newest frame as JPEG, in memory only -----------------
    def offer_frame(self, rgb: np.ndarray | None) -> None:
        if not self.preview_enabled or rgb is None:
            self._preview = None
            return
        import cv2

        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, 70])
        self._preview = jpeg.tobytes() if ok else None

    def preview_jpeg(self) -> bytes | None:
        return self._preview if self.preview_enabled else None

    def analyses_every_frame(self) -> bool:
        """During an exercise or a calibration every sample goes through the model."""
        return self.counter is not None or self.runner is not None or (
            self.calibration is not None) or (
            self.teaching is not None and not self.teaching.finished)

    # --- requests from other threads (the dashboard), applied on the session's thread ------
    def request(self, action: str, **kwargs: Any) -> None:
        """Queue an action: calibrate(seconds), exercise(exercise|program|None), snooze,
        pause(paused), screen_lock(locked), test_notification, keep_calibration,
        settings(config), teach(seconds|None: record a demonstration, or drop it)."""
        self._requests.put((action, kwargs))

    def apply_requests(self) -> None:
        t = self._last_t_ms
        while not self._requests.empty():
            action, kwargs = self._requests.get()
            if action == "calibrate":
                self.calibration = Calibration(kwargs["seconds"])
                self.pending_baseline = None
            elif action == "keep_calibration" and self.pending_baseline is not None:
                self._use_baseline(self.pending_baseline)
                self.pending_baseline = None
            elif action == "settings":
                self.apply_config(kwargs["config"])
            elif action == "teach":
                seconds = kwargs.get("seconds")
                self.teaching = None if seconds is None else TeachRecorder(seconds)
            elif action == "exercise":
                self.end_exercise(t)
                self._start_exercise(kwargs.get("exercise"), kwargs.get("program"), t)
            elif action == "snooze":
                self.slouch_alerts.snooze(t)
            elif action == "pause":
                self.paused = bool(kwargs["paused"])
            elif action == "screen_lock":
                self.screen_locked = bool(kwargs["locked"])
            elif action == "test_notification":
                self._emit(t, [Alert(t, "test", "posture: test notification",
                                     "Notifications work: this is how alerts will arrive.")])
            self._update_status_controls()

    def apply_config(self, config: Config) -> None:
        """Settings changed while running: alerts, breaks, posture timing and sampling
        rates apply at once (LIVE_SETTINGS); the rest waits for the next start."""
        self.config = config
        self.slouch = slouch_config(config)
        self.detector.config = self.slouch
        self.slouch_alerts.config = config.alerts
        self.sitting.config = config.breaks
        for sink in self.sinks:
            configure = getattr(sink, "configure", None)
            if configure is not None:
                configure(config)

    def _start_exercise(self, exercise: Exercise | None, program: Program | None,
                        t: int) -> None:
        self.counter = RepCounter(exercise) if exercise else None
        self.runner = SessionRunner(program) if program else None
        self._session_start_ms = t
        self.coach = (Coach(self.counter, self.runner, t, self.wall_start_ms)
                      if exercise or program else None)

    def _update_status_controls(self) -> None:
        with self._lock:
            self._status.update({
                "paused": self.paused, "screen_locked": self.screen_locked,
                "calibrated": self.detector.baseline is not None,
                "calibrating": self.calibration is not None,
                "snoozed_until_ms": self.slouch_alerts.snoozed_until_ms,
                "calibration": self._calibration_words(),
                "teach": self.teaching.status() if self.teaching else None,
                "activity": self._activity(self._last_t_ms)})

    def _activity(self, t: int) -> dict[str, Any]:
        if self.coach is not None:
            return self.coach.status(t)
        return {"kind": "idle", "summary": self.last_summary}

    def _calibration_words(self) -> dict[str, Any] | None:
        """The baseline in use, or one waiting to be kept, in words (see calibration_check)."""
        baseline = self.pending_baseline or self.detector.baseline
        if baseline is None:
            return None
        check = calibration_check(baseline, self.slouch)
        return {**check, "pending": self.pending_baseline is not None}

    def _calibrate(self, raw: Metrics) -> list[Event]:
        done = self.calibration.add(raw) if self.calibration else None
        if done is None:
            return []
        self.calibration = None
        if isinstance(done, str):
            return [CalibrationFinished(raw.timestamp_ms, False, done)]
        check = calibration_check(done, self.slouch)
        if check["looks_slouched"]:
            # Not used until the user keeps it: a hunched "upright" would make every
            # slouch look good.
            self.pending_baseline = done
            self._update_status_controls()
            return [CalibrationFinished(raw.timestamp_ms, False, check["warning"],
                                        done.to_json(), placement_advice(done).to_json(),
                                        check)]
        detail = self._use_baseline(done)
        return [CalibrationFinished(raw.timestamp_ms, True, detail, done.to_json(),
                                    placement_advice(done).to_json(), check)]

    def _use_baseline(self, baseline: Baseline) -> str:
        """Judge against this baseline from now on, and save it; what happened, in words."""
        self.detector.baseline = baseline
        detail = f"{baseline.view.value} view, {baseline.frames} frames"
        if self.profile_path is not None:
            try:
                save_profile(baseline, self.profile_path)
            except UsageError as exc:  # in use now; a disk problem must not stop monitoring
                detail += f"; not saved ({exc})"
        self._update_status_controls()
        return detail

    # --- the step --------------------------------------------------------------------------
    def judge_still(self, pose: Pose) -> tuple[Metrics, str, tuple[str, ...]]:
        """One still image, on its own: metrics, verdict and reasons (no state over time)."""
        metrics = compute_metrics(pose, self.view)
        state, reasons = verdict(metrics, self.detector.baseline, self.slouch)
        return metrics, state, reasons

    def judged_from(self, metrics: Metrics, state: str) -> dict[str, Any] | None:
        """Which view a judgement came from and whether it was against the baseline."""
        if state not in JUDGED or metrics.view is None:
            return None
        base = self.detector.baseline
        relative = base is not None and base.view is metrics.view
        return {"view": metrics.view.value,
                "against": "baseline" if relative else "absolute thresholds"}

    def process(self, pose: Pose) -> list[Event]:
        """Analyse one pose; hand its events, then its Sample, to every sink."""
        t = pose.timestamp_ms
        self._last_t_ms = t
        self.apply_requests()
        raw = compute_metrics(pose, self.view)
        metrics = self.smoother.update(raw)
        events = self._calibrate(raw)
        if self.teaching is not None and not self.teaching.finished:
            self.teaching.add(raw)
        events += self.detector.update(metrics)
        state, reasons = self.detector.state.value, self.detector.reasons
        minute = self.minute_of_day(t)
        quiet = in_quiet_hours(self.config.alerts.quiet_hours, minute)
        events += self.slouch_alerts.update(state, reasons, t, minute,
                                            metrics.view.value if metrics.view else None)
        events += self.sitting.update(state != PostureState.AWAY.value and pose.person, t,
                                      quiet)
        exercise_events: list[Event] = []
        if self.counter is not None:
            exercise_events += self.counter.update(raw)
        if self.runner is not None:
            exercise_events += self.runner.update(raw)
        if self.coach is not None:
            self.coach.handle(exercise_events)
        events += exercise_events
        status = self._update_status(t, state, reasons, metrics, pose)
        sample = Sample(t, state, reasons, metrics, raw,
                        self.sitting.sitting_since_ms is not None, status,
                        pose.landmarks if pose.person else None)
        self._emit(t, [*events, sample])
        if self.runner is not None and self.runner.finished:
            self.end_exercise(t)  # a routine done is a session ended: its summary follows
        return events

    def camera_changed(self, state: str, detail: str, t_ms: int) -> None:
        with self._lock:
            self._status["camera"] = {"state": state, "detail": detail}
        self._emit(t_ms, [CameraStateChanged(t_ms, state, detail)])

    def _emit(self, t: int, events: list[Event]) -> None:
        wall = self.wall_ms(t)
        for event in events:
            if not isinstance(event, Sample):
                self.events.append(event)
            for sink in self.sinks:
                sink.handle(event, wall)

    def _update_status(self, t: int, state: str, reasons: tuple[str, ...], metrics: Metrics,
                       pose: Pose) -> dict[str, Any]:
        status: dict[str, Any] = {
            "state": state, "reasons": list(reasons), "t_ms": t,
            "view": metrics.view.value if metrics.view else None,
            "person": pose.person, "metrics": metrics.to_json(),
            "quality": metrics.quality, "posture": posture_kind(state, reasons),
            "judged_from": self.judged_from(metrics, state),
            "limits": angle_limits(metrics.view, self.detector.baseline, self.slouch),
            "baseline_note": baseline_note(metrics.view, self.detector.baseline),
            "sitting_s": round(self.sitting.sitting_s(t), 1),
            # What the camera can judge follows the view it sees now.
            "placement": placement_for(metrics.view, metrics.values, metrics.image_size
                                       ).to_json()
            if pose.person and metrics.view is not None else self._status.get("placement"),
            "teach": self.teaching.status() if self.teaching else None,
            "activity": self._activity(t)}
        with self._lock:
            self._status.update(status)
            return self._with_monitoring(dict(self._status))

    def end_exercise(self, t: int) -> None:
        """Close the exercise session under way, if any, with every rep it saw."""
        events: list[Event] = []
        if self.counter is not None:
            events += self.counter.close(t)
        if self.runner is not None:
            events += self.runner.close(t)
        if self.coach is not None:
            self.coach.handle(events)
            self.last_summary = session_summary(self.counter, self.runner,
                                                self.wall_ms(self._session_start_ms),
                                                self.wall_ms(t))
        if self.counter is not None:
            events.append(ExerciseSessionEnded(t, self._session_start_ms,
                                               self.counter.exercise.name, None,
                                               tuple(self.counter.finished),
                                               summary=self.last_summary))
        if self.runner is not None:
            events.append(ExerciseSessionEnded(t, self._session_start_ms, None,
                                               self.runner.program.name,
                                               tuple(self.runner.finished_reps()),
                                               self.runner.adherence(), self.last_summary))
        self.counter = self.runner = self.coach = None
        self._update_status_controls()
        self._emit(t, events)

    def close(self) -> None:
        """End of the session: close any exercise under way and let sinks flush."""
        self.end_exercise(self._last_t_ms)
        for sink in self.sinks:
            flush = getattr(sink, "close", None)
            if flush is not None:
                flush()

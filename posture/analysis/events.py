"""Typed events. Every event has a timestamp (the source's t_ms) and a stable `kind` string,
used on the wire (the dashboard's WebSocket), in the history and by every sink; sinks
(store, notifier, dashboard hub, terminal, the analyze summary) decide what to keep.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from posture.analysis.metrics import Metrics


@dataclass(frozen=True)
class Event:
    t_ms: int
    kind: ClassVar[str] = "event"

    def to_json(self) -> dict[str, Any]:
        """The wire form: {"kind": ..., **fields}, plain JSON types only."""
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class PostureChanged(Event):
    """The posture state changed (good, slouched, reclined, away, unknown)."""

    state: str
    previous: str
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "posture_changed"


@dataclass(frozen=True)
class RepStarted(Event):
    exercise: str
    rep: int
    kind: ClassVar[str] = "rep_started"


@dataclass(frozen=True)
class HoldProgress(Event):
    exercise: str
    held_s: float
    target_s: float
    kind: ClassVar[str] = "hold_progress"


@dataclass(frozen=True)
class FormFault(Event):
    exercise: str
    fault: str
    cue: str
    kind: ClassVar[str] = "form_fault"


@dataclass(frozen=True)
class RepFinished(Event):
    """A repetition ended: valid reps count; partial ones say why they did not."""

    exercise: str
    start_ms: int
    hold_s: float
    depth: float
    faults: tuple[str, ...]
    valid: bool
    hold_start_ms: int | None = None  # when the end position was first held with good form
    # 0-100 against the exercise's demonstration (exercises with a template; else None)
    similarity: float | None = None
    kind: ClassVar[str] = "rep_finished"


@dataclass(frozen=True)
class SetCompleted(Event):
    exercise: str
    set_number: int
    sets: int
    kind: ClassVar[str] = "set_completed"


@dataclass(frozen=True)
class ProgramCompleted(Event):
    program: str
    kind: ClassVar[str] = "program_completed"


@dataclass(frozen=True)
class ExerciseSessionEnded(Event):
    """An exercise or program session closed, with every rep it saw (valid or not)."""

    started_ms: int
    exercise: str | None
    program: str | None
    reps: tuple[RepFinished, ...]
    adherence: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None  # how it went (analysis.coaching.summary)
    kind: ClassVar[str] = "exercise_session_ended"


@dataclass(frozen=True)
class Alert(Event):
    """A message for the user: a slouch alert or a break reminder."""

    alert: str  # "slouch" or "break"
    title: str
    message: str
    reasons: tuple[str, ...] = ()
    kind: ClassVar[str] = "alert"


@dataclass(frozen=True)
class CameraStateChanged(Event):
    state: str  # opening, streaming, stalled, unavailable, released
    detail: str = ""
    kind: ClassVar[str] = "camera_state_changed"


@dataclass(frozen=True)
class CalibrationFinished(Event):
    """A live calibration ended; profile is the saved baseline (its JSON form) when ok."""

    ok: bool
    detail: str
    profile: dict[str, Any] | None = None
    advice: dict[str, Any] | None = None  # camera placement advice (analysis.placement)
    check: dict[str, Any] | None = None  # the upright in words (slouch.calibration_check)
    kind: ClassVar[str] = "calibration_finished"


@dataclass(frozen=True)
class Sample(Event):
    """One analysed frame: the state after it, smoothed and raw metrics, and the landmarks.

    Emitted for every pose the session processes, after the events that frame caused.
    """

    state: str
    reasons: tuple[str, ...]
    metrics: Metrics
    raw: Metrics
    sitting: bool
    status: dict[str, Any] = field(default_factory=dict)
    landmarks: np.ndarray | None = None
    kind: ClassVar[str] = "sample"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.status,
                "frame": list(self.raw.image_size),
                "landmarks": None if self.landmarks is None
                else self.landmarks[:, :2].round(4).tolist()}

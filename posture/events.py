"""Typed events that analyzers emit; sinks (CLI, store, dashboard) decide what to keep."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostureChanged:
    """The posture state changed at t_ms (good, slouched, away, unknown)."""

    t_ms: int
    state: str
    previous: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepStarted:
    t_ms: int
    exercise: str
    rep: int


@dataclass(frozen=True)
class HoldProgress:
    t_ms: int
    exercise: str
    held_s: float
    target_s: float


@dataclass(frozen=True)
class FormFault:
    t_ms: int
    exercise: str
    fault: str
    cue: str


@dataclass(frozen=True)
class RepFinished:
    """A repetition ended: valid reps count; partial ones say why they did not."""

    t_ms: int
    exercise: str
    start_ms: int
    hold_s: float
    depth: float
    faults: tuple[str, ...]
    valid: bool


@dataclass(frozen=True)
class SetCompleted:
    t_ms: int
    exercise: str
    set_number: int
    sets: int


@dataclass(frozen=True)
class ProgramCompleted:
    t_ms: int
    program: str


@dataclass(frozen=True)
class Alert:
    """A message for the user: a slouch alert or a break reminder."""

    t_ms: int
    kind: str  # "slouch" or "break"
    title: str
    message: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class CameraStateChanged:
    t_ms: int
    state: str  # opening, streaming, stalled, unavailable, released
    detail: str = ""


@dataclass(frozen=True)
class CalibrationFinished:
    t_ms: int
    ok: bool
    detail: str

"""TerminalSink: state and camera changes, and exercise progress, as lines on stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from posture.analysis.coaching import summary_lines, title_of
from posture.analysis.events import (
    CalibrationFinished,
    CameraStateChanged,
    Event,
    ExerciseSessionEnded,
    FormFault,
    PostureChanged,
    ProgramCompleted,
    RepFinished,
    Sample,
    SetCompleted,
)
from posture.analysis.registry import fault_label


def describe(event: Event) -> str | None:
    """One line for the events a person at the terminal wants to see, else None."""
    if isinstance(event, PostureChanged):
        why = f" ({', '.join(event.reasons)})" if event.reasons else ""
        return f"posture {event.state}{why}"
    if isinstance(event, CameraStateChanged):
        return f"camera {event.state}" + (f": {event.detail}" if event.detail else "")
    if isinstance(event, RepFinished):
        why = ", ".join(fault_label(f) for f in event.faults)
        return (f"{title_of(event.exercise)}: {'good rep' if event.valid else 'partial rep'}"
                + (f" ({why})" if why else ""))
    if isinstance(event, FormFault):
        return f"{title_of(event.exercise)}: {event.cue}"
    if isinstance(event, SetCompleted):
        return f"{title_of(event.exercise)}: set {event.set_number} of {event.sets} done"
    if isinstance(event, ProgramCompleted):
        return f"routine {title_of(event.program, program=True)} complete"
    if isinstance(event, ExerciseSessionEnded) and event.summary is not None:
        return "\n             ".join(["session summary:", *summary_lines(event.summary)])
    if isinstance(event, CalibrationFinished):
        check = event.check or {}
        if check.get("looks_slouched"):
            return f"calibration not used yet: {check['warning']}"
        return (f"calibrated ({event.detail}). {check.get('words', '')}".strip()
                if event.ok else f"calibration failed: {event.detail}")
    return None


class TerminalSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self._note: str | None = None

    def handle(self, event: Event, wall_ms: int) -> None:
        line = describe(event)
        if isinstance(event, Sample) and event.raw.person:
            # Said once each time it changes: a baseline that does not fit the view seen.
            note = event.status.get("baseline_note")
            if note != self._note:
                self._note = note
                line = f"note: {note}" if note else None
        if line is not None:
            print(f"  {event.t_ms / 1000:8.1f} s  {line}", file=self.stream or sys.stderr)

"""TerminalSink: state and camera changes, and exercise progress, as lines on stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from posture.analysis.events import (
    CameraStateChanged,
    Event,
    FormFault,
    PostureChanged,
    ProgramCompleted,
    RepFinished,
    Sample,
    SetCompleted,
)


def describe(event: Event) -> str | None:
    """One line for the events a person at the terminal wants to see, else None."""
    if isinstance(event, PostureChanged):
        why = f" ({', '.join(event.reasons)})" if event.reasons else ""
        return f"posture {event.state}{why}"
    if isinstance(event, CameraStateChanged):
        return f"camera {event.state}" + (f": {event.detail}" if event.detail else "")
    if isinstance(event, RepFinished):
        return (f"{event.exercise}: rep {'done' if event.valid else 'partial'}"
                + (f" ({', '.join(event.faults)})" if event.faults else ""))
    if isinstance(event, FormFault):
        return f"{event.exercise}: {event.cue}"
    if isinstance(event, SetCompleted):
        return f"{event.exercise}: set {event.set_number} of {event.sets} done"
    if isinstance(event, ProgramCompleted):
        return f"program {event.program} complete"
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

"""SummarySink: a session's result for a file, as `posture analyze --json` reports it."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from posture.analysis.events import (
    Alert,
    Event,
    ExerciseSessionEnded,
    PostureChanged,
    RepFinished,
    Sample,
)
from posture.analysis.slouch import PostureState


def rep_json(r: RepFinished) -> dict[str, Any]:
    return {"start_s": round(r.start_ms / 1000, 3),
            "hold_from_s": None if r.hold_start_ms is None else round(r.hold_start_ms / 1000, 3),
            "end_s": round(r.t_ms / 1000, 3),
            "hold_s": r.hold_s, "depth": round(min(r.depth, 9.99), 2),
            "faults": list(r.faults), "valid": r.valid,
            **({} if r.similarity is None else {"similarity": r.similarity})}


class SummarySink:
    """Collects state changes, alerts, frames per state and view, metric medians, and the
    exercise or program session."""

    def __init__(self) -> None:
        self.timeline: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self.states: Counter[str] = Counter()
        self.views: Counter[str] = Counter()
        self.series: dict[str, list[float]] = {}
        self.frames = self.person_frames = 0
        self.exercise: dict[str, Any] | None = None
        self.program: dict[str, Any] | None = None

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, Sample):
            self._sample(event)
        elif isinstance(event, PostureChanged):
            self.timeline.append({"t_s": round(event.t_ms / 1000, 3), "state": event.state,
                                  "reasons": list(event.reasons)})
        elif isinstance(event, Alert):
            self.alerts.append({"t_s": round(event.t_ms / 1000, 3), "alert": event.alert,
                                "title": event.title, "reasons": list(event.reasons)})
        elif isinstance(event, ExerciseSessionEnded):
            if event.program is not None:
                self.program = event.adherence
            else:
                reps = event.reps
                self.exercise = {"name": event.exercise, "reps": sum(r.valid for r in reps),
                                 "partial_reps": sum(not r.valid for r in reps),
                                 "reps_detail": [rep_json(r) for r in reps]}

    def _sample(self, sample: Sample) -> None:
        self.frames += 1
        self.person_frames += sample.raw.person
        if not self.timeline:
            self.timeline.append({"t_s": round(sample.t_ms / 1000, 3), "state": sample.state,
                                  "reasons": []})
        self.states[sample.state] += 1
        if sample.raw.view is not None:
            self.views[sample.raw.view.value] += 1
        for name, value in sample.raw.values.items():
            if value is not None:
                self.series.setdefault(name, []).append(value)

    def view(self) -> str | None:
        return self.views.most_common(1)[0][0] if self.views else None

    def posture_json(self) -> dict[str, Any]:
        judged = sum(self.states[s.value] for s in (PostureState.GOOD, PostureState.SLOUCHED,
                                                     PostureState.RECLINED))

        def share(state: PostureState) -> float | None:
            return round(self.states[state.value] / judged, 4) if judged else None

        return {"slouched_fraction": share(PostureState.SLOUCHED),
                "reclined_fraction": share(PostureState.RECLINED),
                "state_frames": dict(self.states), "timeline": self.timeline,
                "alerts": self.alerts}

    def median_metrics(self) -> dict[str, float]:
        return {k: round(statistics.median(v), 2) for k, v in self.series.items()}

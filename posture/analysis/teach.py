"""The teach countdown: keep still, show the movement, keep still again; then learn.

Fed every frame's raw metrics (the session does, live), it waits until the person keeps
still, records `seconds` of movement, waits until they keep still again, and learns the
exercise from the whole recording (`learn.py`), which then starts and ends at rest.
"""

from __future__ import annotations

import math
import statistics

from posture.analysis.learn import NOISE, SMOOTH_MS, Learned, learn
from posture.analysis.metrics import Metrics
from posture.errors import UsageError

# Still: for STILL_MS every measurement in view (through the counter's 0.4 s median) spans
# under STILL_NOISE times its worst noise at rest (benchmarks/metric_noise.py).
STILL_MS = 1000
STILL_NOISE = 1.5
# Waiting longer than this for stillness before the movement, the teach gives up; after
# it, the recording so far is learned from.
WAIT_MS = 15000
SECONDS = (3.0, 60.0)  # how long the movement may be given
CUES = {"still_before": "Stand still where the movement starts",
        "move": "Now do {reps} slow repetitions",
        "still_after": "Back to rest and keep still",
        "done": "Done: check what was learned, then save it",
        "failed": "That did not work: {error}"}


class TeachRecorder:
    def __init__(self, seconds: float, reps: int = 2) -> None:
        if not SECONDS[0] <= seconds <= SECONDS[1]:
            raise UsageError(f"teach seconds must be within [{SECONDS[0]:g}, {SECONDS[1]:g}], "
                             f"got {seconds}")
        self.seconds, self.reps = seconds, reps
        self.phase = "still_before"
        self.frames: list[Metrics] = []
        self.learned: Learned | None = None
        self.error = ""
        self._phase_ms: int | None = None  # when the phase began
        self._start = 0  # index of the first frame learned from
        self._last_ms = 0

    @property
    def finished(self) -> bool:
        return self.phase in ("done", "failed")

    def add(self, metrics: Metrics) -> None:
        if self.finished:
            return
        t = self._last_ms = metrics.timestamp_ms
        if self._phase_ms is None:
            self._phase_ms = t
        self.frames.append(metrics)
        if self.phase == "still_before":
            since = self._still_since()
            if since is not None:
                self._start = since
                self._next("move", t)
            elif t - self._phase_ms > WAIT_MS:
                self._fail(t, "you were not seen keeping still; stand or sit where the "
                              "movement starts, in view, and try again")
            else:
                # keep only what a still second could start from
                cut = next((i for i, m in enumerate(self.frames)
                            if t - m.timestamp_ms <= STILL_MS + SMOOTH_MS), 0)
                del self.frames[:cut]
        elif self.phase == "move":
            if t - self._phase_ms >= self.seconds * 1000:
                self._next("still_after", t)
        elif self.phase == "still_after":
            if self._still_since() is not None or t - self._phase_ms > WAIT_MS:
                self._learn(t)

    def _next(self, phase: str, t: int) -> None:
        self.phase, self._phase_ms = phase, t

    def _fail(self, t: int, why: str) -> None:
        self.error = why
        self._next("failed", t)

    def _learn(self, t: int) -> None:
        try:
            self.learned = learn(self.frames[self._start:], "new_exercise")
        except UsageError as exc:
            self._fail(t, str(exc))
            return
        self._next("done", t)

    def _still_since(self) -> int | None:
        """The index of the frame a still STILL_MS ending now began at, else None."""
        t = self.frames[-1].timestamp_ms
        recent = [(i, m) for i, m in enumerate(self.frames)
                  if t - m.timestamp_ms <= STILL_MS + SMOOTH_MS]
        if t - recent[0][1].timestamp_ms < STILL_MS + SMOOTH_MS * 0.9:
            return None
        if not all(m.person for _, m in recent):
            return None
        checked = 0
        for name, (_, worst) in NOISE.items():
            seen = [(m.timestamp_ms, v) for _, m in recent
                    if (v := m.get(name)) is not None and math.isfinite(v)]
            if len(seen) < 0.8 * len(recent):
                continue
            smooth = [statistics.median(v for s, v in seen if ts - SMOOTH_MS <= s <= ts)
                      for ts, _ in seen if ts >= t - STILL_MS]
            if max(smooth) - min(smooth) > STILL_NOISE * worst:
                return None
            checked += 1
        if not checked:
            return None
        return next(i for i, m in recent if t - m.timestamp_ms <= STILL_MS)

    def status(self) -> dict[str, object]:
        left = None
        if self.phase == "move" and self._phase_ms is not None:
            left = max(0.0, round(self.seconds - (self._last_ms - self._phase_ms) / 1000, 1))
        cue = CUES[self.phase].format(reps=self.reps, error=self.error)
        return {"phase": self.phase, "cue": cue, "left_s": left, "seconds": self.seconds,
                "error": self.error or None,
                "learned": self.learned.to_json() if self.learned else None}

"""RepCounter: repetitions and holds of one exercise, from metrics, with form checks."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from posture.analysis.events import Event, FormFault, HoldProgress, RepFinished, RepStarted
from posture.analysis.exercise import Bounce, Exercise
from posture.analysis.metrics import Metrics

# Without a value this long (person left, signal hidden) a rep under way ends as partial.
GAP_MS = 2000
# A frame gap longer than this adds no hold time: holds count only time that was seen.
MAX_STEP_MS = 500
# Reps whose depth sets the user's own range when the exercise gives no end position.
ADAPT_REPS = 3
BOUNCE_WINDOW_MS = 3000
BOUNCE_FAULT = ("bouncing", "Hold still at the stretch; don't bounce")
# The resting position is taken from a settled stretch, never from the first frame: the
# first frames of a stream come from the person detector, later ones from the tracker, and
# the two differ by more than a small movement's range (measured on a front-view clip made
# from a real photo: face_to_shoulders 0.321 on frame 0, settling at 0.307 within 0.7 s).
SETTLE_MS = 1000
SETTLE_SPREAD = 0.5  # of min_range, peak to peak over SETTLE_MS
# Seen from the wrong side this long, the user is told how to turn.
WRONG_VIEW_MS = 2000
VIEW_CUES = {"side": "Turn side-on to the camera for this exercise",
             "front": "Face the camera for this exercise"}


class Phase(str, Enum):
    REST = "rest"
    ACTIVE = "active"


@dataclass
class _Rep:
    start_ms: int
    start_values: dict[str, float | None]
    depth: float = 0.0
    extreme: float | None = None
    hold_ms: int = 0
    faults: list[str] = field(default_factory=list)
    next_progress_s: float = 1.0


class RepCounter:
    """update(metrics) -> events; close(t_ms) ends a rep still under way as partial."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self.rest = exercise.rest
        self.end = exercise.end
        self.finished: list[RepFinished] = []
        self._rep: _Rep | None = None
        self._last_value_ms: int | None = None
        self._last_t_ms: int | None = None
        # Slowly followed resting values of the form-rule metrics: what "relative" rules
        # compare with, and how a fault is caught even when no rep starts (a nod).
        self._ref: dict[str, float] = {}
        self._rest_faults: set[str] = set()
        self._extremes: list[float] = []
        self._window: deque[tuple[int, float]] = deque()
        self._wrong_view_since: int | None = None
        self._wrong_view_told = False
        self._armed = True
        self._settling: deque[tuple[int, float]] = deque()

    @property
    def phase(self) -> Phase:
        return Phase.REST if self._rep is None else Phase.ACTIVE

    @property
    def reps(self) -> int:
        return sum(r.valid for r in self.finished)

    @property
    def partial_reps(self) -> int:
        return sum(not r.valid for r in self.finished)

    def progress(self, value: float) -> float:
        """How far value is from rest toward the end position, as a fraction of the range;
        0 until the resting position is known."""
        ex, rest = self.exercise, self.rest
        if rest is None:
            return 0.0
        span = ex.min_range if self.end is None else max(abs(self.end - rest), ex.min_range)
        return (value - rest) * ex.direction / span

    def update(self, metrics: Metrics) -> list[Event]:
        return self._check_view(metrics) + self._update_signal(metrics)

    def _check_view(self, metrics: Metrics) -> list[Event]:
        """One wrong_view fault each time the view stays wrong for WRONG_VIEW_MS."""
        want, t = self.exercise.view, metrics.timestamp_ms
        seen = metrics.view.value if metrics.view is not None else None
        if seen is None or want == "any" or seen == want or (want, seen) == ("side", "oblique"):
            self._wrong_view_since, self._wrong_view_told = None, False
            return []
        if self._wrong_view_since is None:
            self._wrong_view_since = t
        if self._wrong_view_told or t - self._wrong_view_since < WRONG_VIEW_MS:
            return []
        self._wrong_view_told = True
        return [FormFault(t, self.exercise.name, "wrong_view", VIEW_CUES[want])]

    def _update_signal(self, metrics: Metrics) -> list[Event]:
        ex, t = self.exercise, metrics.timestamp_ms
        value = metrics.get(ex.metric)
        if value is None:
            if self._rep and self._last_value_ms is not None and t - self._last_value_ms > GAP_MS:
                return self._finish(t, "left_frame")
            return []
        step = 0 if self._last_t_ms is None else min(t - self._last_t_ms, MAX_STEP_MS)
        self._last_value_ms = self._last_t_ms = t
        if self.rest is None:
            self.rest = self._settle(t, value)
            if self.rest is None:
                return []
        p = self.progress(value)
        events: list[Event] = []
        if self._rep is None and not self._armed:
            self._armed = p < ex.exit
        elif self._rep is None:
            if p >= ex.enter:
                self._rep = _Rep(t, dict(self._ref))
                self._window.clear()
                events.append(RepStarted(t, ex.name, len(self.finished) + 1))
            elif ex.rest is None and p < ex.exit:
                # Follow slow drift of the resting position (the user settling in the chair).
                self.rest += 0.05 * (value - self.rest)
        if self._rep is not None:
            events += self._during_rep(metrics, value, p, t, step)
        if self._rep is None:
            events += self._check_at_rest(metrics, t)
        return events

    def _settle(self, t: int, value: float) -> float | None:
        """The median of the last SETTLE_MS of values once they hold still, else None."""
        window = self._settling
        window.append((t, value))
        while t - window[0][0] > SETTLE_MS:
            window.popleft()
        values = sorted(v for _, v in window)
        if t - window[0][0] < SETTLE_MS * 0.9 or (
                values[-1] - values[0] > SETTLE_SPREAD * self.exercise.min_range):
            return None
        window.clear()
        return values[len(values) // 2]

    def _check_at_rest(self, metrics: Metrics, t: int) -> list[Event]:
        events: list[Event] = []
        broken = {r.fault: r for r in self.exercise.rules
                  if r.broken(metrics.get(r.metric), self._ref.get(r.metric))}
        for fault in broken.keys() - self._rest_faults:
            events.append(FormFault(t, self.exercise.name, fault, broken[fault].cue))
        self._rest_faults = set(broken)
        if not broken:
            for rule in self.exercise.rules:
                value = metrics.get(rule.metric)
                if value is not None:
                    ref = self._ref.get(rule.metric, value)
                    self._ref[rule.metric] = ref + 0.1 * (value - ref)
        return events

    def _during_rep(self, metrics: Metrics, value: float, p: float, t: int,
                    step: int) -> list[Event]:
        ex, rep = self.exercise, self._rep
        assert rep is not None
        events: list[Event] = []
        if p > rep.depth:
            rep.depth, rep.extreme = p, value
        broken = [(r.fault, r.cue) for r in ex.rules
                  if r.broken(metrics.get(r.metric), rep.start_values.get(r.metric))]
        if ex.bounce is not None and self._bouncing(t, p, ex.bounce):
            broken.append(BOUNCE_FAULT)
        for fault, cue in broken:
            if fault not in rep.faults:
                rep.faults.append(fault)
                events.append(FormFault(t, ex.name, fault, cue))
        if p >= ex.full and not broken:
            rep.hold_ms += step
            held = rep.hold_ms / 1000
            if ex.hold_s and held >= rep.next_progress_s:
                rep.next_progress_s = int(held) + 1.0
                events.append(HoldProgress(t, ex.name, round(held, 1), ex.hold_s))
        if p <= ex.exit:
            events += self._finish(t, None)
        elif t - rep.start_ms > ex.max_rep_s * 1000:
            events += self._finish(t, "too_long")
        return events

    def _bouncing(self, t: int, p: float, bounce: Bounce) -> bool:
        """Oscillation of the held signal at min_hz-max_hz with at least the set amplitude."""
        self._window.append((t, p))
        while self._window and t - self._window[0][0] > BOUNCE_WINDOW_MS:
            self._window.popleft()
        turns: list[int] = []
        last_extreme, rising = self._window[0][1], None
        for tt, v in self._window:
            if rising is not False and v <= last_extreme - bounce.amplitude:
                if rising:
                    turns.append(tt)
                rising, last_extreme = False, v
            elif rising is not True and v >= last_extreme + bounce.amplitude:
                if rising is False:
                    turns.append(tt)
                rising, last_extreme = True, v
            elif (rising and v > last_extreme) or (rising is False and v < last_extreme):
                last_extreme = v
        if len(turns) < 3:
            return False
        hz = (len(turns) - 1) / 2 / max((turns[-1] - turns[0]) / 1000, 1e-3)
        return bounce.min_hz <= hz <= bounce.max_hz

    def _finish(self, t: int, why: str | None) -> list[Event]:
        ex, rep = self.exercise, self._rep
        self._rep = None
        if rep is None or (why is None and t - rep.start_ms < ex.min_rep_s * 1000):
            return []  # a flicker across the threshold, not a movement
        faults = list(rep.faults)
        if why:
            faults.append(why)
        if rep.depth < ex.full:
            faults.append("too_shallow")
        if ex.hold_s and rep.hold_ms < ex.hold_s * 1000:
            faults.append("hold_too_short")
        event = RepFinished(t, ex.name, rep.start_ms, round(rep.hold_ms / 1000, 2),
                            round(rep.depth, 3), tuple(faults), not faults)
        self.finished.append(event)
        if ex.end is None and rep.extreme is not None and len(self._extremes) < ADAPT_REPS:
            self._extremes.append(rep.extreme)
            self.end = sum(self._extremes) / len(self._extremes)
        return [event]

    def rearm(self) -> None:
        """Drop any rep under way and start counting only after a return to rest.

        Used after a rest between sets, so a movement begun while resting is not counted.
        """
        self._rep, self._armed = None, False

    def close(self, t_ms: int) -> list[Event]:
        """End of the session: a hold already held long enough counts; anything else is partial."""
        if self._rep is None:
            return []
        ex = self.exercise
        done = ex.kind == "hold" and self._rep.hold_ms >= ex.hold_s * 1000
        return self._finish(t_ms, None if done else "unfinished")

"""A demonstrated repetition as the measure of each rep: the whole body's motion features
(`motion.py`) matched against an exercise's template (`spring.py`), for the RepCounter.

Two uses. An exercise that no single measurement carries (it spans several joints) is
counted by the match itself: each stretch of the stream that matches the template closely
enough is a rep. Any other exercise that has a template is counted on its signal as usual,
and each finished rep is scored against the template afterwards. Either way a rep gets a
similarity (0-100; 50 at the template's form threshold) and, when it is not close enough, a
fault naming the body part that differed most ("left_knee_not_as_shown"); a match costing more
than the template's threshold is another movement and no rep at all.

The matcher sees a steady FEED_HZ whatever the camera's rate (each step takes the nearest
frame, so a faster camera's frames are skipped and a slower one's repeated), since the
template was recorded at that rate and the warping allows only so much change of pace.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from posture.analysis.exercise import Template
from posture.analysis.motion import SWAP_ORDER, mirrored
from posture.analysis.spring import MAX_SHARE, Match, SpringCounter, dtw_cost, trim, weights

FEED_HZ = 30.0
FEED_MS = 1000.0 / FEED_HZ
# A frame is repeated to fill a gap of at most this many feed steps; a longer gap (nobody in
# view, a stalled camera) breaks every match under way.
MAX_REPEAT = 4
# A match that moved less than this share of the template's largest excursion from its start
# is stillness or fidgeting that happens to cost little against a small movement: no rep.
MIN_DEPTH = 0.5
# Moving, for the live phase: away from the template's first (rest) frame by this share of
# the template's own largest excursion from it.
MOVING_SHARE = 0.3


PART_FAULT = "_not_as_shown"


def part_fault(part: str) -> str:
    """The fault naming a body part that differed from the demonstration."""
    return part.replace(" ", "_") + PART_FAULT


@dataclass(frozen=True)
class Scored:
    """A rep against the template."""

    start_ms: int
    end_ms: int
    similarity: float
    cost: float  # in units of the template's own movement
    depth: float  # its largest excursion from its start, as a share of the template's
    fault: str | None  # the part that differed most, when not close enough


class TemplateTrack:
    """Feeds motion features to the matcher at FEED_HZ and keeps the recent ones, to find
    reps (count=True) or to score a rep found on the signal."""

    def __init__(self, template: Template, keep_ms: float) -> None:
        self.template = np.asarray(template.frames, dtype=np.float64)
        self.threshold, self.form = template.threshold, template.form
        self.count = template.count
        trimmed = trim(self.template)
        w = weights(trimmed)
        # Plain and mirrored: the weights and the rest pose each way.
        self._ways = ((w, trimmed[0]), (w[SWAP_ORDER], mirrored(trimmed[0])))
        self._reach = max(self._excursion_of(trimmed), 1e-9)
        self._keep_ms = keep_ms + 2 * MAX_SHARE * len(trimmed) * FEED_MS
        self._fed: deque[tuple[int, np.ndarray]] = deque()  # (t_ms, features) as fed
        self._spring = self._new_spring()
        self._stamps: deque[int] = deque()  # the time of each of the matcher's frames
        self._next_ms: float | None = None
        self._last_t: int | None = None  # the last frame's time

    def _new_spring(self) -> SpringCounter | None:
        return SpringCounter(self.template, self.threshold) if self.count else None

    def update(self, t: int, x: np.ndarray | None) -> list[Scored]:
        """One frame's features (None: no person); the reps matched, when counting."""
        if x is None:
            if self._next_ms is not None and t - self._next_ms > MAX_REPEAT * FEED_MS:
                self._break()
            return []
        if self._next_ms is None or t - self._next_ms > MAX_REPEAT * FEED_MS:
            self._break()
            self._next_ms = float(t)
        found: list[Scored] = []
        # Each feed step takes the nearest frame (a step within half a frame interval ahead
        # takes this one): a camera at FEED_HZ whose timestamps are rounded to milliseconds
        # fills every step once, neither skipping nor repeating; a faster one is thinned evenly.
        interval = t - self._last_t if self._last_t is not None else FEED_MS
        ahead = min(FEED_MS, max(interval, 0)) / 2
        while self._next_ms <= t + ahead:
            found += self._feed(int(min(self._next_ms, t)), x)
            self._next_ms += FEED_MS
        self._last_t = t
        while self._fed and t - self._fed[0][0] > self._keep_ms:
            self._fed.popleft()
        while len(self._stamps) > len(self._fed) + MAX_REPEAT:
            self._stamps.popleft()
        return found

    def _feed(self, t: int, x: np.ndarray) -> list[Scored]:
        self._fed.append((t, x))
        if self._spring is None:
            return []
        self._stamps.append(t)
        return [r for m in self._spring.update(x) if (r := self._scored(m)).depth >= MIN_DEPTH]

    def _break(self) -> None:
        if self._spring is not None:
            self._stamps.append(-1)
            self._spring.update(None)

    def _at(self, index: int) -> int:
        """The time of the matcher's frame `index`."""
        assert self._spring is not None
        first = self._spring.t - len(self._stamps)
        return self._stamps[max(0, index - first)]

    def _scored(self, match: Match) -> Scored:
        return self._judge(self._at(match.start), self._at(match.end), match)

    def _judge(self, start: int, end: int, match: Match) -> Scored:
        frames = self._frames(start, end)
        depth = self._excursion_of(frames) / self._reach if len(frames) else 0.0
        close = match.cost <= self.form
        return Scored(start, end, round(match.similarity(self.form), 1), match.cost,
                      round(depth, 3), None if close else part_fault(match.part))

    def _frames(self, start_ms: int, end_ms: int) -> np.ndarray:
        got = [x for t, x in self._fed if start_ms <= t <= end_ms]
        return np.stack(got) if got else np.empty((0, self.template.shape[1]))

    def _excursion_of(self, frames: np.ndarray) -> float:
        """The largest weighted distance from the first frame, the way it moves most."""
        return max(float(np.sqrt((w * (frames - frames[0]) ** 2).sum(axis=1).max()))
                   for w, _ in self._ways)

    def score(self, start_ms: int, end_ms: int) -> Scored | None:
        """A rep found on the signal, against the whole template (None: too few frames)."""
        frames = self._frames(start_ms, end_ms)
        if len(frames) < 3:
            return None
        # At most twice the template's length: the score is per template frame, and a long
        # rep's slow stretches only repeat frames.
        limit = 2 * len(self.template)
        if len(frames) > limit:
            frames = frames[np.linspace(0, len(frames) - 1, limit).round().astype(int)]
        return self._judge(start_ms, end_ms, dtw_cost(frames, self.template))

    def moving(self) -> bool:
        """Away from the template's rest, as far as a movement gets under way."""
        if not self._fed:
            return False
        x = self._fed[-1][1]
        return min(float(np.sqrt((w * (x - start) ** 2).sum())) for w, start in self._ways) > (
            MOVING_SHARE * self._reach)

    def rearm(self) -> None:
        """Forget every match under way (a rest between sets)."""
        self._spring = self._new_spring()
        self._stamps.clear()

    def close(self) -> list[Scored]:
        if self._spring is None:
            return []
        return [r for m in self._spring.close() if (r := self._scored(m)).depth >= MIN_DEPTH]

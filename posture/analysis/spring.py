"""Counting a demonstrated multi-joint movement in a stream: SPRING, the streaming
subsequence dynamic time warping of Sakurai, Faloutsos and Yamamuro (ICDE 2007).

Each new frame of motion features (`motion.py`) extends one column of warping costs against
the template (the demonstration's repetition, its still ends trimmed); a match may start at
any frame. When the cheapest complete match can no longer be improved by any warping path
still open, it is reported (causally, a little after the repetition ends) and the paths that
overlap it are closed, so repetitions never overlap. The template is also matched mirrored
(left and right swapped): a movement shown with the right arm counts done with the left, and
a mirrored picture counts the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posture.analysis.motion import PART_OF, PARTS, mirrored

INF = float("inf")
# A template frame is still when it is within this share of the largest excursion from
# the start pose; still ends are trimmed down to TRIM_KEEP frames.
STILL_SHARE, TRIM_KEEP = 0.05, 2
# Feature weights: how much each moved in the template, plus this floor (radians / unit
# components), so a feature the demonstration kept still still counts against moving it.
WEIGHT_FLOOR = 0.05
# A match may not be shorter than this share of the template (a twitch), nor longer than
# MAX_SHARE of it (slower than that, or with a long stop, it is another movement).
MIN_SHARE, MAX_SHARE = 0.5, 2.0


@dataclass(frozen=True)
class Match:
    start: int  # frame indices in the stream, inclusive
    end: int
    cost: float  # mean weighted squared difference per template frame, over its energy
    part: str  # the body part that differed most from the template
    mirrored: bool

    def similarity(self, scale: float) -> float:
        """0-100: 100 identical, 50 at `scale` (the counting threshold's cost)."""
        return float(100.0 * 0.5 ** (self.cost / scale)) if scale > 0 else 0.0


def trim(template: np.ndarray) -> np.ndarray:
    """The template without its still start and end."""
    moved = np.linalg.norm(template - template[0], axis=1)
    back = np.linalg.norm(template - template[-1], axis=1)
    big = max(float(moved.max()), 1e-9)
    first = int(np.argmax(moved > STILL_SHARE * big))
    last = len(template) - 1 - int(np.argmax(back[::-1] > STILL_SHARE * big))
    return template[max(0, first - TRIM_KEEP):min(len(template), last + TRIM_KEEP + 1)]


def weights(template: np.ndarray) -> np.ndarray:
    w = template.std(axis=0) + WEIGHT_FLOOR
    return w / w.sum()


class _Column:
    """SPRING's state for one template: the open warping paths' costs, starts and per-part
    costs; step() extends them by one stream frame."""

    def __init__(self, template: np.ndarray, w: np.ndarray) -> None:
        self.y, self.w = template, w
        m = len(template)
        self.d = np.full(m, INF)
        self.s = np.zeros(m, dtype=np.int64)
        self.part = np.zeros((m, len(PARTS)))  # per-part cost along each open path

    def step(self, t: int, x: np.ndarray) -> tuple[float, int, np.ndarray] | None:
        """Extend the paths by frame t; a complete path's (cost per template frame, start,
        per-part costs) when one ends here with an allowed length."""
        y, w = self.y, self.w
        m = len(y)
        diff = w * (x - y) ** 2  # (m, features)
        cost = diff.sum(axis=1)
        by_part = np.zeros((m, len(PARTS)))
        np.add.at(by_part.T, PART_OF, diff.T)
        d_prev, s_prev, p_prev = self.d, self.s, self.part
        d = np.empty(m)
        s = np.empty(m, dtype=np.int64)
        part = np.empty_like(p_prev)
        # i = 0: a path may start here at any frame
        d[0], s[0], part[0] = cost[0], t, by_part[0]
        for i in range(1, m):
            left, diag, down = d[i - 1], d_prev[i - 1], d_prev[i]
            if diag <= left and diag <= down:
                best, s[i], part[i] = diag, s_prev[i - 1], p_prev[i - 1]
            elif left <= down:
                best, s[i], part[i] = left, s[i - 1], part[i - 1]
            else:
                best, s[i], part[i] = down, s_prev[i], p_prev[i]
            d[i] = cost[i] + best
            part[i] = part[i] + by_part[i]
        self.d, self.s, self.part = d, s, part
        if d[-1] < INF and MIN_SHARE * m <= t - s[-1] + 1 <= MAX_SHARE * m:
            return float(d[-1] / m), int(s[-1]), part[-1] / m
        return None

    def could_beat(self, cost: float, end: int) -> bool:
        """Whether an open path that overlaps a match ending at `end` could still end
        cheaper than `cost` (costs only grow along a path)."""
        m = len(self.y)
        return bool(np.any((self.d < cost * m) & (self.s <= end)))

    def close(self, end: int) -> None:
        """Close the paths that started by `end` (a match was reported there)."""
        self.d[self.s <= end] = INF


def energy(template: np.ndarray, w: np.ndarray) -> float:
    """How much the (trimmed) template moves: the mean weighted squared distance of its
    frames from their mean. Costs are measured in this unit, so one threshold fits every
    movement."""
    return max(float((w * (template - template.mean(axis=0)) ** 2).sum(axis=1).mean()), 1e-12)


class SpringCounter:
    """Counts matches of a template in a stream of feature frames, causally.

    threshold: the largest cost a match may have, in units of the template's own movement
    (`energy`): the mean weighted squared difference per template frame over it.
    """

    def __init__(self, template: np.ndarray, threshold: float) -> None:
        template = trim(np.asarray(template, dtype=np.float64))
        w = weights(template)
        self.scale = energy(template, w)
        self.threshold = threshold
        self._columns = [_Column(template, w), _Column(mirrored(template), w)]
        self.t = 0
        self.matches: list[Match] = []
        self._best: Match | None = None  # the cheapest complete match not yet reported (raw)

    def update(self, x: np.ndarray | None) -> list[Match]:
        """Feed one frame's features (None: nobody in view, a gap that no match spans)."""
        t = self.t
        self.t += 1
        if x is None:
            for column in self._columns:
                column.d[:] = INF
            self._best = None
            return []
        for mirror, column in enumerate(self._columns):
            ended = column.step(t, x)
            if ended is not None and (self._best is None or ended[0] < self._best.cost):
                cost, start, parts = ended
                self._best = Match(start, t, cost, PARTS[int(np.argmax(parts))][0],
                                   bool(mirror))
        best = self._best
        # Reported once no open path of either column, plain or mirrored, that overlaps it
        # could still end cheaper: the closest of overlapping candidates wins.
        if best is None or best.end == t or any(c.could_beat(best.cost, best.end)
                                                for c in self._columns):
            return []
        return self._report(best)

    def _report(self, best: Match) -> list[Match]:
        self._best = None
        for column in self._columns:
            column.close(best.end)
        match = Match(best.start, best.end, best.cost / self.scale, best.part, best.mirrored)
        if match.cost > self.threshold:
            return []
        self.matches.append(match)
        return [match]

    def close(self) -> list[Match]:
        """The end of the stream: a match still waiting to be confirmed is reported."""
        return [] if self._best is None else self._report(self._best)


def dtw_cost(rep: Sequence[np.ndarray] | np.ndarray, template: np.ndarray) -> Match:
    """The whole repetition against the template (both trimmed; the cheaper of the plain and
    mirrored template): its cost and the body part that differed most."""
    x = trim(np.asarray(rep, dtype=np.float64))
    y0 = trim(np.asarray(template, dtype=np.float64))
    w = weights(y0)
    best: Match | None = None
    for mirror, y in enumerate((y0, mirrored(y0))):
        n, m = len(x), len(y)
        diff = w * (x[:, None, :] - y[None, :, :]) ** 2
        cost = diff.sum(axis=2)
        acc = np.full((n + 1, m + 1), INF)
        acc[0, 0] = 0.0
        for i in range(1, n + 1):
            for j in range(1, m + 1):
                acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1],
                                                     acc[i - 1, j - 1])
        # the path, for the part that differed most
        i, j, parts = n, m, np.zeros(len(PARTS))
        while i > 0 and j > 0:
            np.add.at(parts, PART_OF, diff[i - 1, j - 1])
            step = int(np.argmin([acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]]))
            i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
        match = Match(0, n - 1, float(acc[n, m] / m) / energy(y0, w),
                      PARTS[int(np.argmax(parts))][0], bool(mirror))
        if best is None or match.cost < best.cost:
            best = match
    assert best is not None
    return best

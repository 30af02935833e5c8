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
    """SPRING's state for one template."""

    def __init__(self, template: np.ndarray, w: np.ndarray) -> None:
        self.y, self.w = template, w
        m = len(template)
        self.d = np.full(m, INF)
        self.s = np.zeros(m, dtype=np.int64)
        self.part = np.zeros((m, len(PARTS)))  # per-part cost along each open path
        self.best: tuple[float, int, int, np.ndarray] | None = None  # cost, start, end, parts

    def step(self, t: int, x: np.ndarray) -> tuple[float, int, int, np.ndarray] | None:
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
        found = None
        if self.best is not None:
            c, ts, te, parts = self.best
            # Report once no open path could still end cheaper while overlapping it.
            if all(d[i] >= c * m or s[i] > te for i in range(m)):
                found = self.best
                self.best = None
                closed = s <= te
                self.d[closed] = INF
        if d[-1] < INF and MIN_SHARE * m <= t - s[-1] + 1 <= MAX_SHARE * m:
            c = d[-1] / m
            if self.best is None or c < self.best[0]:
                self.best = (c, int(s[-1]), t, part[-1] / m)
        return found


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
        self._last_end = -1

    def update(self, x: np.ndarray | None) -> list[Match]:
        """Feed one frame's features (None: nobody in view, a gap that no match spans)."""
        t = self.t
        self.t += 1
        found: list[Match] = []
        for mirror, column in enumerate(self._columns):
            if x is None:
                column.d[:] = INF
                column.best = None
                continue
            hit = column.step(t, x)
            if hit is not None and hit[0] / self.scale <= self.threshold and (
                    hit[1] > self._last_end):
                part = PARTS[int(np.argmax(hit[3]))][0]
                found.append(Match(hit[1], hit[2], hit[0] / self.scale, part, bool(mirror)))
        # The same repetition seen both ways: keep the closer match.
        found.sort(key=lambda m: m.cost)
        for match in found:
            if match.start > self._last_end:
                self.matches.append(match)
                self._last_end = match.end
                for column in self._columns:
                    column.d[column.s <= match.end] = INF
                    if column.best is not None and column.best[1] <= match.end:
                        column.best = None
        return [m for m in found if m in self.matches]

    def close(self) -> list[Match]:
        """The end of the stream: a match still waiting to be confirmed is reported."""
        found = []
        for mirror, column in enumerate(self._columns):
            if column.best is not None and column.best[0] / self.scale <= self.threshold and (
                    column.best[1] > self._last_end):
                c, ts, te, parts = column.best
                found.append(Match(ts, te, c / self.scale, PARTS[int(np.argmax(parts))][0],
                                   bool(mirror)))
        found.sort(key=lambda m: m.cost)
        for match in found[:1]:
            self.matches.append(match)
        return found[:1]


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

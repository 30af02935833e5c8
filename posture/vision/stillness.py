"""Skipping the pose model on frames that have not changed: the background monitor's main
saving while someone sits still.

A frame is compared, as a small grayscale thumbnail, with the thumbnail of the last frame the
model analysed (not with the previous frame: a slow drift into a slouch adds up until it
shows). It is analysed when some part of the picture changed by more than the camera's own
noise allows, and in any case every `max_skip_s`.

The threshold sits between what a still person and what a posture change do to the
picture, measured on the real front-webcam photos (640x480, with sensor noise of 2 grey
levels and JPEG compression; `python benchmarks/background_cpu.py --responses`): sensor
noise alone changes the thumbnail by 0.4 (the statistic of `change`), a sway of 1 px by 7,
2 px by 14, 4 px by 28; the same man slumped instead of upright by 133 to 180, and even two
upright moments of his by 57 or more. So a frame counts as changed above 8 (`min_threshold`,
a breathing sway of a pixel does not count), or above `noise_factor` times the camera's own
noise where that is higher, measured as it runs: each frame is also compared with the one
before it, and the quietest of the recent comparisons (a low quantile of the last `window`)
is what the camera shows when nothing moves (a webcam in a dim room is several times noisier
than in daylight). Never above 20 (`max_threshold`, a 3 px move): a third of the smallest
posture change, so one is always analysed at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

THUMB_SIZE = (32, 24)  # width, height: cells of 20x20 pixels at 640x480


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A (24, 32) float32 grayscale thumbnail, each cell the mean of its pixels."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)  # no rounding
    return cv2.resize(gray, THUMB_SIZE, interpolation=cv2.INTER_AREA)


def change(a: np.ndarray, b: np.ndarray) -> float:
    """How much two thumbnails differ: the 99th percentile of the cells' absolute grey-level
    differences (a few cells that change a lot count, as a head moving does; one cell of
    noise or a JPEG block does not)."""
    return float(np.percentile(np.abs(a - b), 99))


@dataclass
class StillnessGate:
    """should_analyse(rgb, t_ms) for each sampled frame; analysed(...) after the model ran."""

    max_skip_s: float = 5.0
    noise_factor: float = 3.0
    min_threshold: float = 8.0
    max_threshold: float = 20.0
    window: int = 30
    quiet_quantile: float = 25.0

    def __post_init__(self) -> None:
        self._reference: np.ndarray | None = None
        self._reference_ms = 0
        self._previous: np.ndarray | None = None
        self._recent: deque[float] = deque(maxlen=self.window)
        self._pending: np.ndarray | None = None

    @property
    def threshold(self) -> float:
        if len(self._recent) < 3:
            return self.min_threshold
        quiet = float(np.percentile(list(self._recent), self.quiet_quantile))
        return min(self.max_threshold, max(self.min_threshold, self.noise_factor * quiet))

    def should_analyse(self, rgb: np.ndarray, t_ms: int) -> bool:
        thumb = thumbnail(rgb)
        if self._previous is not None and self._previous.shape == thumb.shape:
            self._recent.append(change(thumb, self._previous))
        self._previous = thumb
        self._pending = thumb
        reference = self._reference
        if (reference is None or reference.shape != thumb.shape
                or t_ms - self._reference_ms >= self.max_skip_s * 1000
                or change(thumb, reference) > self.threshold):
            return True
        return False

    def analysed(self, t_ms: int) -> None:
        """The frame last offered was analysed: it is the new reference."""
        self._reference, self._reference_ms = self._pending, t_ms

    def reset(self) -> None:
        """Forget the frames seen (after a pause, or while every frame is analysed): the
        next one is analysed, and compared with nothing from before."""
        self._reference = self._previous = None

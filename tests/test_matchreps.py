"""The template matcher's feed: what the live session gives it at the camera's own rate."""

import numpy as np
import pytest

from posture.analysis.exercise import Template
from posture.analysis.matchreps import FEED_MS, TemplateTrack
from posture.analysis.motion import SIZE


def _track() -> TemplateTrack:
    template = np.zeros((20, SIZE))
    template[:, 0] = np.sin(np.linspace(0, np.pi, 20))
    return TemplateTrack(Template(tuple(map(tuple, template)), 1.0, 0.1), keep_ms=60_000)


def _fed(stamps: list[int]) -> list[int]:
    """The index of the camera frame behind each step the matcher was fed."""
    track = _track()
    for i, t in enumerate(stamps):
        track.update(t, np.full(SIZE, float(i)))
    return [int(x[0]) for _, x in track._fed]


@pytest.mark.parametrize("rounding", [round, int, lambda v: int(v) + 1])
def test_a_camera_at_the_feed_rate_is_fed_every_frame_once(rounding):
    """Timestamps rounded to milliseconds (33, 67, 100 ...) neither skip nor repeat a frame."""
    stamps = [rounding(i * FEED_MS) for i in range(300)]
    assert _fed(stamps) == list(range(300))


def test_a_faster_camera_is_thinned_and_a_slower_one_repeated_evenly():
    fast = _fed([round(i * 1000 / 60) for i in range(600)])
    assert len(fast) == pytest.approx(300, abs=1)
    assert set(np.diff(fast)) == {2}
    slow = _fed([round(i * 1000 / 15) for i in range(150)])
    assert len(slow) == pytest.approx(300, abs=2)
    assert max(np.bincount(slow)) == 2

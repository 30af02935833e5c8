"""One Euro smoothing: steady when still, quick on real movement, honest about gaps."""

import numpy as np
import pytest
from synthetic import side_pose

from posture.analysis.metrics import View, compute_metrics
from posture.analysis.smoothing import MetricsSmoother, OneEuroFilter


def test_still_jitter_is_reduced():
    rng = np.random.default_rng(0)
    f = OneEuroFilter()
    raw = 15 + rng.normal(0, 1.0, 300)  # 1 degree of jitter at 30 fps
    out = [f.update(v, i * 33) for i, v in enumerate(raw)]
    assert np.std(out[30:]) < 0.35 * np.std(raw[30:])


def test_step_passes_within_half_a_second():
    f = OneEuroFilter()
    out = [f.update(10.0 if i < 30 else 30.0, i * 33) for i in range(60)]
    settled = next(i for i in range(30, 60) if out[i] > 28.0)
    assert (settled - 30) * 33 <= 500


def test_long_gap_restarts_from_new_value():
    f = OneEuroFilter()
    f.update(10.0, 0)
    f.update(10.0, 100)
    assert f.update(40.0, 100 + 5000) == 40.0


def test_missing_metric_stays_missing():
    s = MetricsSmoother()
    s.update(compute_metrics(side_pose(t_ms=0), View.SIDE))
    m = s.update(compute_metrics(side_pose(t_ms=100), View.FRONT))
    assert m.get("neck_deg") is None and m.missing["neck_deg"]


def test_rejects_bad_parameters():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff_hz=0)

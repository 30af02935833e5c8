"""Skipping the model on unchanged frames: the gate's logic on synthetic frames (its
threshold on real scenes and clips is measured by benchmarks/background_cpu.py)."""

import contextlib
import threading
import time

import numpy as np
import pytest
from fakecam import FakeWorld
from test_camera import FAST, FakeEstimator

from posture.live.loop import Sampler
from posture.vision.stillness import StillnessGate

RNG = np.random.default_rng(0)
BASE = RNG.integers(40, 200, (480, 640, 3)).astype(np.float32)
BASE = np.repeat(np.repeat(BASE[::40, ::40], 40, 0), 40, 1)  # a blocky, textured scene


def frame(sigma=2.0, patch=None, shift=0):
    """The scene with sensor noise; `patch` brightens a head-sized square by that much."""
    image = np.roll(BASE, shift, axis=1).copy()
    if patch:
        image[100:180, 280:360] += patch
    return np.clip(image + RNG.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def run(gate, frames, step_ms=1000):
    decisions = []
    for i, rgb in enumerate(frames):
        wanted = gate.should_analyse(rgb, i * step_ms)
        if wanted:
            gate.analysed(i * step_ms)
        decisions.append(wanted)
    return decisions


def test_an_unchanged_scene_is_analysed_every_max_skip_s_only():
    decisions = run(StillnessGate(max_skip_s=5), [frame() for _ in range(21)])
    assert [i for i, d in enumerate(decisions) if d] == [0, 5, 10, 15, 20]


def test_a_head_moving_is_analysed_at_once():
    frames = [frame() for _ in range(6)] + [frame(patch=25)]
    assert run(StillnessGate(), frames)[-1] is True


def test_a_slow_drift_adds_up_against_the_last_analysed_frame():
    """Each step moves too little to count; against the last analysed frame it shows."""
    gate = StillnessGate(max_skip_s=1000)
    decisions = run(gate, [frame(patch=p) for p in np.arange(0, 30, 1.0)])
    assert any(decisions[1:]), "a drift of 30 grey levels went unseen"
    assert decisions[1:].count(True) < 10  # and not every step


def test_a_noisy_camera_raises_the_threshold_instead_of_analysing_everything():
    gate = StillnessGate()
    decisions = run(gate, [frame(sigma=40.0) for _ in range(40)], step_ms=200)  # a dark room
    assert gate.threshold > gate.min_threshold
    assert sum(decisions) <= 12  # the first few, then every 5 s (8 s of frames)


def test_the_mirror_image_makes_the_same_decisions():
    frames = [frame(patch=p) for p in (0, 0, 0, 0, 20, 20, 0)]
    a = run(StillnessGate(), frames)
    b = run(StillnessGate(), [f[:, ::-1] for f in frames])
    assert a == b


def test_the_sampler_reuses_the_pose_at_the_new_time_and_never_during_an_exercise():
    sampler, estimator = Sampler(StillnessGate()), FakeEstimator()
    still = frame()
    first = sampler.pose(estimator, still, 0, every_frame=False)
    again = sampler.pose(estimator, still, 1000, every_frame=False)
    assert estimator.calls == 1 and again.timestamp_ms == 1000
    assert np.array_equal(again.landmarks, first.landmarks)
    sampler.pose(estimator, still, 2000, every_frame=True)
    assert estimator.calls == 2
    off = Sampler(None)
    for t in range(3):
        off.pose(estimator, still, 3000 + t, every_frame=False)
    assert estimator.calls == 5


@pytest.mark.slow
@pytest.mark.parametrize("skip", [True, False])
def test_the_camera_loop_skips_the_model_on_a_still_camera(skip):

    from posture.config import Config
    from posture.live.loop import run_camera
    from posture.live.session import PostureSession
    from posture.vision.camera import SupervisedCamera

    world = FakeWorld(frame(sigma=0.0))
    cfg = Config().model_copy(update={"camera": FAST}).with_changes(
        {"monitor": {"sample_hz": 10, "active_hz": 10, "skip_still": skip}})
    session, estimator, stop = PostureSession(cfg), FakeEstimator(), threading.Event()
    samples = []
    camera = SupervisedCamera(0, FAST, opener=world.opener)
    loop = threading.Thread(target=lambda: samples.append(run_camera(
        cfg, session, lambda: contextlib.nullcontext(estimator), stop, camera)), daemon=True)
    loop.start()
    time.sleep(3.0)
    stop.set()
    loop.join(10)
    assert samples and samples[0] >= 15
    if skip:
        assert estimator.calls <= 3, (estimator.calls, samples)
    else:
        assert estimator.calls == samples[0]

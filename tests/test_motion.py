"""Whole-body motion features and the streaming matcher that counts a demonstrated
multi-joint movement (logic on synthetic feature sequences; the accuracy on real motion
capture is benchmarks/learned_counting.py)."""

import json
import sys

import numpy as np
import pytest
from conftest import DATA, REPO

from posture.analysis.motion import SIZE, feature_index, features, mirrored
from posture.analysis.spring import SpringCounter, dtw_cost, trim
from posture.vision.pose import NUM_LANDMARKS, Pose

sys.path.insert(0, str(REPO / "benchmarks"))
from ui_prmd import fill_gaps  # noqa: E402


def reference_pose(turn_deg=0.0):
    """MediaPipe's expected world landmarks for its reference photo, turned about the
    vertical by turn_deg."""
    data = json.loads((DATA / "pose_reference" / "expected_landmarks.json").read_text())
    world = np.asarray(data["EXPECTED_POSE_WORLD_LANDMARKS"], np.float64)[:, :3]
    a = np.radians(turn_deg)
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    world = world @ turn.T
    seen = np.ones(NUM_LANDMARKS, np.float32)
    return Pose(0, (1000, 667), np.zeros((NUM_LANDMARKS, 3), np.float32),
                world.astype(np.float32), seen, seen)


def test_features_do_not_depend_on_where_the_camera_stands():
    f = features(reference_pose())
    assert f is not None and f.shape == (SIZE,)
    for turn in (30, 90, 180):
        np.testing.assert_allclose(features(reference_pose(turn)), f, atol=1e-5)
    assert features(Pose.empty(0, (640, 480))) is None


def test_mirroring_twice_is_the_identity_and_swaps_the_arms():
    f = features(reference_pose())
    np.testing.assert_allclose(mirrored(mirrored(f)), f)
    left_up, right_up = feature_index("left arm", 1), feature_index("right arm", 1)
    assert mirrored(f)[left_up] == pytest.approx(f[right_up])


THIGH = feature_index("left leg", 2)  # the left thigh's forward component
KNEE = feature_index("right knee")
ARM_UP = feature_index("left arm", 1)  # the left upper arm's up component


def bump(length, part_index, height=1.0):
    """A movement of one feature out and back, smooth, over `length` frames."""
    x = np.zeros((length, SIZE))
    x[:, part_index] = height * np.sin(np.linspace(0, np.pi, length)) ** 2
    return x


def rest(n, rng):
    return rng.normal(0, 0.003, (n, SIZE))


def feed(counter, frames):
    reported = []
    for t, x in enumerate(frames):
        for match in counter.update(x):
            reported.append((t, match))
    for match in counter.close():
        reported.append((len(frames), match))
    return reported


def test_counts_each_repetition_once_after_it_ends_at_any_tempo():
    rng = np.random.default_rng(3)
    template = np.concatenate([rest(10, rng), bump(40, THIGH), rest(10, rng)])
    stream = [rest(30, rng)]
    for length in (40, 28, 60, 40):  # at the demonstration's tempo, faster, slower
        stream += [bump(length, THIGH) + rest(length, rng), rest(25, rng)]
    frames = np.concatenate(stream)
    reported = feed(SpringCounter(template, threshold=0.3), frames)
    assert len(reported) == 4, [(t, m.start, m.end, round(m.cost, 3)) for t, m in reported]
    for t, match in reported:
        assert match.end < t  # reported after the repetition ended: causal
        assert match.cost < 0.3 and match.similarity(0.3) > 50


def test_another_movement_and_stillness_count_zero():
    rng = np.random.default_rng(4)
    template = np.concatenate([rest(10, rng), bump(40, THIGH), rest(10, rng)])
    other = np.concatenate([rest(30, rng), bump(40, feature_index("left knee")), rest(30, rng),
                            bump(40, ARM_UP)])
    still = rest(200, rng)
    for frames in (other, still):
        assert feed(SpringCounter(template, threshold=0.3), frames) == []


def test_a_movement_shown_with_one_arm_counts_with_the_other():
    rng = np.random.default_rng(5)
    template = np.concatenate([rest(10, rng), bump(40, ARM_UP), rest(10, rng)])
    right = mirrored(bump(40, ARM_UP))
    frames = np.concatenate([rest(20, rng), right, rest(20, rng), right, rest(20, rng)])
    reported = feed(SpringCounter(template, threshold=0.3), frames)
    assert len(reported) == 2 and all(m.mirrored for _, m in reported)


def test_form_cost_names_the_part_that_differed_most():
    rng = np.random.default_rng(6)
    template = np.concatenate([rest(10, rng), bump(40, THIGH), rest(10, rng)])
    same = dtw_cost(template + rest(60, rng), template)
    knees = template + np.concatenate([rest(10, rng), bump(40, KNEE, 0.8), rest(10, rng)])
    wrong = dtw_cost(knees, template)
    assert same.cost < 0.05 < wrong.cost
    assert wrong.part == "right knee"
    assert len(trim(template)) < len(template)


def test_lost_markers_are_filled_from_their_neighbours_in_time():
    markers = np.ones((5, 2, 3))
    markers[:, 0, 0] = [0.0, 1.0, 0.0, 3.0, 0.0]
    markers[[0, 2, 4], 0] = 0.0  # lost
    filled = fill_gaps(markers)
    assert filled[:, 0, 0].tolist() == [1.0, 1.0, 2.0, 3.0, 3.0]
    assert (filled[:, 1] == 1.0).all()


@pytest.mark.parametrize("n", [0, 1])
def test_a_gap_with_nobody_in_view_breaks_any_match(n):
    rng = np.random.default_rng(7)
    template = np.concatenate([rest(10, rng), bump(40, THIGH), rest(10, rng)])
    counter = SpringCounter(template, threshold=0.3)
    half = bump(40, THIGH)
    frames = list(rest(20, rng)) + list(half[:20]) + [None] * (1 + n) + list(half[20:])
    frames += list(rest(20, rng))
    assert feed(counter, frames) == []

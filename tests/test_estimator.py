"""The pose adapter against MediaPipe's own golden landmarks for pose.jpg."""

import json
import re

import numpy as np
import pytest

from posture.vision.estimator import PoseEstimator, RunningMode, _pick_person
from posture.vision.pose import NUM_LANDMARKS, Landmark
from posture.vision.pose import Landmark as L
from posture.vision.sources import read_image_rgb

PIXEL_TOLERANCE = 15  # MediaPipe's pose_test.py DIFF_THRESHOLD, pixels
WORLD_TOLERANCE_M = 0.2  # MediaPipe's pose_test.py WORLD_DIFF_THRESHOLD, metres
NORMALIZED_MARGIN = 0.03  # MediaPipe's pose_landmarker_test.py margin on x and y


@pytest.fixture(scope="module")
def reference(data_dir):
    return json.loads((data_dir / "pose_reference" / "expected_landmarks.json").read_text())


@pytest.fixture(scope="module")
def reference_pose(data_dir, model_path):
    image = read_image_rgb(data_dir / "pose_reference" / "pose.jpg")
    with PoseEstimator(model_path, RunningMode.IMAGE) as estimator:
        return estimator.detect(image, 0)


def test_image_landmarks_within_mediapipe_tolerance(reference_pose, reference):
    assert reference_pose.person
    assert reference_pose.image_size == (1000, 667)
    expected = np.array(reference["EXPECTED_POSE_LANDMARKS"], float)
    error = np.abs(reference_pose.pixels - expected).max(axis=1)
    worst = Landmark(int(error.argmax())).name
    assert error.max() < PIXEL_TOLERANCE, f"{worst} is {error.max():.1f} px off"


def test_world_landmarks_within_mediapipe_tolerance(reference_pose, reference):
    expected = np.array(reference["EXPECTED_POSE_WORLD_LANDMARKS"], float)
    assert np.abs(reference_pose.world - expected).max() < WORLD_TOLERANCE_M


def test_normalized_landmarks_match_tasks_golden(reference_pose, data_dir):
    text = (data_dir / "pose_reference" / "expected_normalized_landmarks.pbtxt").read_text()
    xs = [float(v) for v in re.findall(r"\bx: ([-\d.e]+)", text)]
    ys = [float(v) for v in re.findall(r"\by: ([-\d.e]+)", text)]
    expected = np.column_stack([xs, ys])[:NUM_LANDMARKS]
    assert np.abs(reference_pose.landmarks[:, :2] - expected).max() < NORMALIZED_MARGIN
    assert reference_pose.visibility.shape == (NUM_LANDMARKS,)
    assert reference_pose.presence.min() >= 0.0


def test_image_without_person_gives_empty_pose(data_dir, model_path):
    image = read_image_rgb(data_dir / "pose_reference" / "pose.jpg")
    background = np.ascontiguousarray(image[:200, :250])  # top-left corner: no one there
    with PoseEstimator(model_path, RunningMode.IMAGE) as estimator:
        pose = estimator.detect(background, 0)
    assert not pose.person
    assert pose.landmarks.shape == (0, 3)
    assert pose.image_size == (250, 200)


def test_video_mode_requires_increasing_timestamps(data_dir, model_path):
    image = read_image_rgb(data_dir / "pose_reference" / "pose.jpg")
    with PoseEstimator(model_path, RunningMode.VIDEO) as estimator:
        assert estimator.detect(image, 0).person
        assert estimator.detect(image, 33).person
        with pytest.raises(ValueError, match="must increase"):
            estimator.detect(image, 33)


def test_pick_person_prefers_large_and_central():
    def box(x0, y0, x1, y1):
        lm = np.zeros((NUM_LANDMARKS, 3), np.float32)
        lm[:, 0] = np.linspace(x0, x1, NUM_LANDMARKS)
        lm[:, 1] = np.linspace(y0, y1, NUM_LANDMARKS)
        return lm

    small_corner = box(0.0, 0.0, 0.2, 0.3)
    big_centre = box(0.25, 0.1, 0.75, 0.95)
    big_edge = box(0.5, 0.1, 1.0, 0.95)
    assert _pick_person([small_corner, big_centre]) == 1
    assert _pick_person([big_edge, big_centre]) == 1


@pytest.mark.parametrize("kwargs", [{"num_poses": 0}, {"min_detection_confidence": 1.5}])
def test_estimator_rejects_bad_options(model_path, kwargs):
    with pytest.raises(ValueError):
        PoseEstimator(model_path, **kwargs)


def test_bystander_walking_behind_does_not_take_the_track(data_dir, model_path):
    """A real seated user (front webcam) and a real second person cut from another photo,
    who walks across behind the user: every frame's pose stays on the user."""
    import cv2
    from videos import person_mask, walk_behind

    user = cv2.resize(read_image_rgb(data_dir / "front_webcam" / "upright" /
                                     "sample-1542640808958-4.jpg"), (640, 480),
                      interpolation=cv2.INTER_CUBIC)
    other = read_image_rgb(data_dir / "pose_reference" / "pose.jpg")
    with PoseEstimator(model_path, RunningMode.IMAGE) as est:
        alone = est.detect(user, 0)
    for height, top in ((300, 40), (420, 20)):
        frames = walk_behind(user, person_mask(model_path, user), other,
                             person_mask(model_path, other), 60, height, top)
        with PoseEstimator(model_path, RunningMode.VIDEO) as est:
            poses = [est.detect(f, i * 66) for i, f in enumerate(frames)]
        assert all(p.person for p in poses)
        # The nose stays on the user's (within a third of the face's width), never jumps to
        # the passer-by, and the apparent shoulder width stays the user's.
        face = np.linalg.norm(alone.pixels[L.LEFT_EYE_OUTER] - alone.pixels[L.RIGHT_EYE_OUTER])
        drift = [np.linalg.norm(p.pixels[L.NOSE] - alone.pixels[L.NOSE]) for p in poses]
        assert max(drift) < 0.35 * face, drift
        width = [np.linalg.norm(p.pixels[L.LEFT_SHOULDER] - p.pixels[L.RIGHT_SHOULDER])
                 for p in poses]
        base = np.linalg.norm(alone.pixels[L.LEFT_SHOULDER] - alone.pixels[L.RIGHT_SHOULDER])
        assert np.allclose(width, base, rtol=0.15), width

"""Geometry and metrics on synthetic landmark arrays with known angles."""

import numpy as np
import pytest
from synthetic import side_pose

from posture.analysis import geometry as geo
from posture.analysis.metrics import View, compute_metrics, detect_view
from posture.vision.pose import Landmark as L
from posture.vision.pose import Pose

TOL = 0.1  # degrees


@pytest.mark.parametrize("angle", [-30.0, -5.0, 0.0, 12.5, 45.0, 80.0])
@pytest.mark.parametrize("facing", [1.0, -1.0])
def test_inclination_known_angles(angle, facing):
    lower = np.array([100.0, 300.0])
    a = np.radians(angle)
    upper = lower + 80 * np.array([facing * np.sin(a), -np.cos(a)])
    assert geo.inclination_deg(lower, upper, facing) == pytest.approx(angle, abs=1e-9)


@pytest.mark.parametrize("angle", [30.0, 90.0, 135.0, 180.0])
def test_joint_angle_known(angle):
    a = np.radians(angle)
    assert geo.joint_angle_deg(np.array([10.0, 0.0]), np.zeros(2),
                               10 * np.array([np.cos(a), np.sin(a)])) == pytest.approx(angle)


def test_tilt_and_yaw():
    assert geo.tilt_deg(np.array([0.0, 0.0]), np.array([10.0, 10.0])) == pytest.approx(45.0)
    assert geo.tilt_deg(np.array([10.0, 10.0]), np.array([0.0, 0.0])) == pytest.approx(45.0)
    assert geo.yaw_deg(np.array([-0.2, 0, 0]), np.array([0.2, 0, 0])) == pytest.approx(0.0)
    assert geo.yaw_deg(np.array([0, 0, -0.2]), np.array([0, 0, 0.2])) == pytest.approx(90.0)


def test_zero_length_segments_raise():
    with pytest.raises(ValueError):
        geo.inclination_deg(np.zeros(2), np.zeros(2), 1.0)
    with pytest.raises(ValueError):
        geo.joint_angle_deg(np.zeros(2), np.zeros(2), np.ones(2))


@pytest.mark.parametrize("size", [(640, 360), (360, 640), (1000, 1000)])
@pytest.mark.parametrize("facing", [1.0, -1.0])
@pytest.mark.parametrize("neck, trunk, hip", [(10, 0, 90), (35, 18, 100), (-5, -12, 120)])
def test_side_metrics_exact_on_any_frame_shape(size, facing, neck, trunk, hip):
    m = compute_metrics(side_pose(neck, trunk, hip, size=size, facing=facing), View.SIDE)
    assert m.get("neck_deg") == pytest.approx(neck, abs=TOL)
    assert m.get("thoracic_deg") == pytest.approx(trunk, abs=TOL)
    assert m.get("hip_deg") == pytest.approx(hip, abs=TOL)


def test_angles_on_normalized_coordinates_would_be_wrong():
    # The same pose on a 16:9 frame: normalized coordinates distort angles, pixels do not.
    pose = side_pose(30, 0, 90, size=(1280, 720))
    lm = pose.landmarks
    naive = geo.inclination_deg(lm[L.LEFT_SHOULDER, :2], lm[L.LEFT_EAR, :2], 1.0)
    assert abs(naive - 30) > 5
    assert compute_metrics(pose, View.SIDE).get("neck_deg") == pytest.approx(30, abs=TOL)


def test_uses_near_side_when_far_side_is_hidden():
    pose = side_pose(20, 5, 95, near="right")
    assert compute_metrics(pose, View.SIDE).get("neck_deg") == pytest.approx(20, abs=TOL)


def _edit(pose, visibility=None, move=None):
    lm, vis = pose.landmarks.copy(), pose.visibility.copy()
    for idx, v in (visibility or {}).items():
        vis[idx] = v
    for idx, xy in (move or {}).items():
        lm[idx, :2] = xy
    return Pose(pose.timestamp_ms, pose.image_size, lm, pose.world, vis, pose.presence)


def test_hidden_knee_gives_null_hip_angle_with_reason():
    pose = _edit(side_pose(), visibility={L.LEFT_KNEE: 0.1, L.RIGHT_KNEE: 0.1})
    m = compute_metrics(pose, View.SIDE)
    assert m.get("hip_deg") is None
    assert m.missing["hip_deg"] == ("left_knee hidden: the seated hip angle needs hips and "
                                    "knees in view")
    assert m.get("thoracic_deg") is not None


def test_hip_below_frame_gives_null_even_when_visible():
    # Behind a desk the model guesses hips below the frame with high visibility.
    pose = _edit(side_pose(), move={L.LEFT_HIP: (0.45, 1.3), L.RIGHT_HIP: (0.45, 1.3)})
    m = compute_metrics(pose, View.SIDE)
    assert m.get("thoracic_deg") is None and "off-frame" in m.missing["thoracic_deg"]
    assert m.get("hip_deg") is None
    assert m.get("neck_deg") is not None


def test_implausible_hip_inside_frame_is_rejected():
    # A hip guessed just under the shoulder: a torso far shorter than any adult's.
    pose = side_pose()
    shoulder = pose.landmarks[L.LEFT_SHOULDER, :2]
    pose = _edit(pose, move={L.LEFT_HIP: shoulder + (0.0, 0.02)})
    m = compute_metrics(pose, View.SIDE)
    assert m.get("thoracic_deg") is None and m.missing["thoracic_deg"] == "implausible hip position"


def front_world_pose(neck_deg: float, trunk_deg: float, hip_deg: float = 90.0,
                     facing_camera: bool = True) -> Pose:
    """A seated person square to the camera whose world landmarks hold the given sagittal
    angles; forward is toward the camera (-z) when facing it."""
    pose = side_pose()
    ahead = np.array([0.0, 0.0, -1.0 if facing_camera else 1.0])
    up = np.array([0.0, -1.0, 0.0])

    def along(angle: float) -> np.ndarray:
        a = np.radians(angle)
        return np.sin(a) * ahead + np.cos(a) * up

    world = np.zeros((33, 3))
    for side, x in ((("LEFT",), 0.18), (("RIGHT",), -0.18)):
        hip = np.array([x * 0.6, 0.0, 0.0])
        shoulder = hip + 0.5 * along(trunk_deg) + [x - x * 0.6, 0, 0]
        ear = shoulder + 0.22 * along(neck_deg) - [x * 0.6, 0, 0]
        knee = hip + 0.45 * along(trunk_deg + hip_deg)
        for name, point in (("SHOULDER", shoulder), ("HIP", hip), ("EAR", ear),
                            ("KNEE", knee)):
            world[L[f"{side[0]}_{name}"]] = point
    world[L.NOSE] = (world[L.LEFT_EAR] + world[L.RIGHT_EAR]) / 2 + 0.1 * ahead
    # Image landmarks: a plausible frontal layout, everything in frame and visible.
    lm = pose.landmarks.copy()
    lm[:, :2] = 0.5
    vis = np.ones(33, np.float32)
    return Pose(0, pose.image_size, lm, world.astype(np.float32), vis, vis)


@pytest.mark.parametrize("neck, trunk, hip", [(15.0, 0.0, 95.0), (30.0, 10.0, 80.0),
                                              (-5.0, -20.0, 120.0)])
@pytest.mark.parametrize("facing_camera", [True, False])
def test_front_view_estimates_sagittal_angles_from_world(neck, trunk, hip, facing_camera):
    m = compute_metrics(front_world_pose(neck, trunk, hip, facing_camera), View.FRONT)
    assert m.get("neck_deg") == pytest.approx(neck, abs=0.5)
    assert m.get("thoracic_deg") == pytest.approx(trunk, abs=0.5)
    assert m.get("hip_deg") == pytest.approx(hip, abs=0.5)
    assert m.quality == {"neck_deg": "estimated", "thoracic_deg": "estimated",
                         "hip_deg": "estimated"}


def test_front_view_angles_need_their_landmarks_and_say_why():
    pose = front_world_pose(15, 0)
    vis = pose.visibility.copy()
    vis[[L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_KNEE, L.RIGHT_KNEE]] = 0.1  # behind the desk
    vis[L.LEFT_EAR] = 0.6  # unsure
    m = compute_metrics(Pose(0, pose.image_size, pose.landmarks, pose.world, vis, vis),
                        View.FRONT)
    assert m.get("neck_deg") is not None and m.quality["neck_deg"] == "low"
    assert m.get("thoracic_deg") is None and "hips in view" in m.missing["thoracic_deg"]
    assert m.get("hip_deg") is None and "hips and knees" in m.missing["hip_deg"]
    assert "thoracic_deg" not in m.quality


def test_front_view_without_world_landmarks_says_so():
    m = compute_metrics(side_pose(), View.FRONT)
    assert m.view is View.FRONT
    assert m.get("neck_deg") is None


def test_side_view_angles_are_measured():
    assert compute_metrics(side_pose(), View.SIDE).quality == {
        "neck_deg": "measured", "thoracic_deg": "measured", "hip_deg": "measured"}


def test_no_person_gives_all_null():
    m = compute_metrics(Pose.empty(5, (640, 480)))
    assert not m.person and m.view is None
    assert all(v is None for v in m.values.values())


@pytest.mark.parametrize("z, view", [(0.0, View.FRONT), (0.4, View.OBLIQUE),
                                     (0.9, View.SIDE)])
def test_view_from_world_shoulders(z, view):
    pose = side_pose()
    world = np.zeros_like(pose.world)
    world[L.LEFT_SHOULDER] = (-0.18, 0, -z / 2)
    world[L.RIGHT_SHOULDER] = (0.18, 0, z / 2)
    pose = Pose(0, pose.image_size, pose.landmarks, world, pose.visibility, pose.presence)
    assert detect_view(pose) is view


def test_front_signals():
    pose = side_pose()
    lm = pose.landmarks.copy()
    w, h = pose.image_size
    lm[L.LEFT_SHOULDER, :2] = (400 / w, 300 / h)
    lm[L.RIGHT_SHOULDER, :2] = (240 / w, 300 / h)
    lm[L.NOSE, :2] = (320 / w, 200 / h)
    lm[L.LEFT_EYE_OUTER, :2] = (345 / w, 180 / h)
    lm[L.RIGHT_EYE_OUTER, :2] = (295 / w, 180 / h)
    lm[L.LEFT_EAR, :2] = (360 / w, 190 / h)
    lm[L.RIGHT_EAR, :2] = (280 / w, 190 / h)
    vis = np.ones_like(pose.visibility)
    m = compute_metrics(Pose(0, (w, h), lm, pose.world, vis, vis), View.FRONT)
    assert m.get("shoulder_width_px") == pytest.approx(160, abs=0.01)
    assert m.get("head_drop") == pytest.approx(100 / 160, abs=1e-4)
    assert m.get("face_width_px") == pytest.approx(50, abs=0.01)
    assert m.get("head_pitch") == pytest.approx(10 / 50, abs=1e-4)
    assert m.get("shoulder_tilt_deg") == pytest.approx(0.0, abs=TOL)


def test_lying_and_arm_metrics():
    # Trunk 70 degrees forward of vertical (lifted 20 above horizontal), thigh straight on
    # from it: the knee lies 20 degrees below the hip.
    pose = side_pose(neck_deg=80, trunk_deg=70, hip_deg=180, size=(800, 1000))
    m = compute_metrics(pose, View.SIDE)
    assert m.get("trunk_lift_deg") == pytest.approx(20, abs=TOL)
    assert m.get("hip_lift_deg") == pytest.approx(20, abs=TOL)
    flat = compute_metrics(side_pose(neck_deg=90, trunk_deg=90, hip_deg=180), View.SIDE)
    assert flat.get("trunk_lift_deg") == pytest.approx(0, abs=TOL)
    assert flat.get("thoracic_deg") is None and "not below" in flat.missing["thoracic_deg"]
    assert flat.get("hip_deg") == pytest.approx(180, abs=TOL)


def test_elbow_behind_shoulder_in_head_lengths():
    pose = side_pose()
    px = pose.pixels.copy()
    head = np.linalg.norm(px[L.LEFT_EAR] - px[L.NOSE])
    px[L.LEFT_ELBOW] = px[L.RIGHT_ELBOW] = px[L.LEFT_SHOULDER] - (1.5 * head, 0)  # behind
    lm = pose.landmarks.copy()
    lm[:, 0], lm[:, 1] = px[:, 0] / 640, px[:, 1] / 360
    moved = Pose(0, pose.image_size, lm, pose.world, pose.visibility, pose.presence)
    assert compute_metrics(moved, View.SIDE).get("elbow_behind") == pytest.approx(1.5, abs=1e-3)


def test_face_to_shoulders_ratio():
    pose = side_pose()
    lm = pose.landmarks.copy()
    lm[L.LEFT_SHOULDER, :2] = (400 / 640, 300 / 360)
    lm[L.RIGHT_SHOULDER, :2] = (240 / 640, 300 / 360)
    lm[L.LEFT_EYE_OUTER, :2] = (345 / 640, 180 / 360)
    lm[L.RIGHT_EYE_OUTER, :2] = (295 / 640, 180 / 360)
    vis = np.ones_like(pose.visibility)
    m = compute_metrics(Pose(0, (640, 360), lm, pose.world, vis, vis), View.FRONT)
    assert m.get("face_to_shoulders") == pytest.approx(50 / 160, abs=1e-4)

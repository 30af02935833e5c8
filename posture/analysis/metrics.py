"""Per-frame posture metrics from a Pose, with quality gating and view detection.

A metric is None, with a reason, whenever its landmarks are hidden, off-frame or implausible:
MediaPipe always returns 33 landmarks and guesses hips and knees hidden behind a desk, at
times with high visibility, so visibility alone is not trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from posture.analysis import geometry as geo
from posture.analysis.registry import METRIC_NAMES, SIDE_ONLY
from posture.vision.pose import Landmark as L
from posture.vision.pose import Pose

MIN_VISIBILITY = 0.5
# Shoulder line turned less than this from the image plane: front; more than SIDE: side.
FRONT_MAX_YAW_DEG = 30.0
SIDE_MIN_YAW_DEG = 60.0
# Plausible body proportions (side view): torso (shoulder-hip) in head lengths (ear-nose),
# thigh (hip-knee) in torso lengths. Adult segment ratios (Drillis & Contini 1966) put the
# torso near 5 head lengths and the thigh near 0.9 torso; the bounds are generous.
TORSO_HEADS = (2.5, 10.0)
THIGH_TORSOS = (0.3, 1.6)

class View(str, Enum):
    FRONT = "front"
    SIDE = "side"
    OBLIQUE = "oblique"


@dataclass(frozen=True)
class Metrics:
    """Named metric values for one frame (None where not measurable, with a reason)."""

    timestamp_ms: int
    person: bool
    view: View | None
    image_size: tuple[int, int]
    values: dict[str, float | None]
    missing: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> float | None:
        return self.values.get(name)

    def to_json(self, digits: int = 2) -> dict[str, float | None]:
        return {k: (None if v is None else round(v, digits)) for k, v in self.values.items()}


def _gate(pose: Pose, min_visibility: float) -> dict[int, str]:
    """Why each unusable landmark cannot be used: off-frame or hidden."""
    xy = pose.landmarks[:, :2]
    inside = np.all((xy >= 0.0) & (xy <= 1.0), axis=1)
    problems = {}
    for i in range(len(xy)):
        if not inside[i]:
            problems[i] = f"{L(i).name.lower()} off-frame"
        elif pose.visibility[i] < min_visibility:
            problems[i] = f"{L(i).name.lower()} hidden"
    return problems


def detect_view(pose: Pose) -> View:
    """Front, side or oblique, from how far the shoulder line turns out of the image plane."""
    world = pose.world
    if np.any(world[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER]]):
        yaw = geo.yaw_deg(world[L.LEFT_SHOULDER], world[L.RIGHT_SHOULDER])
    else:
        # No world landmarks: compare shoulder width with the nose-to-shoulders height,
        # about 1.7 facing the camera and near 0 in profile.
        px = pose.pixels
        mid = (px[L.LEFT_SHOULDER] + px[L.RIGHT_SHOULDER]) / 2
        ratio = geo.distance_px(px[L.LEFT_SHOULDER], px[L.RIGHT_SHOULDER]) / max(
            abs(mid[1] - px[L.NOSE][1]), 1e-6)
        yaw = float(np.degrees(np.arccos(np.clip(ratio / 1.7, 0.0, 1.0))))
    if yaw < FRONT_MAX_YAW_DEG:
        return View.FRONT
    return View.SIDE if yaw > SIDE_MIN_YAW_DEG else View.OBLIQUE


class _Builder:
    """Collects values and the first reason each missing one could not be measured."""

    def __init__(self, pose: Pose, problems: dict[int, str]) -> None:
        self.px = pose.pixels
        self.problems = problems
        self.values: dict[str, float | None] = dict.fromkeys(METRIC_NAMES)
        self.missing: dict[str, str] = {}

    def blocked(self, name: str, *landmarks: L) -> bool:
        for lm in landmarks:
            if lm in self.problems:
                self.missing[name] = self.problems[lm]
                return True
        return False

    def skip(self, name: str, reason: str) -> None:
        self.missing[name] = reason


def compute_metrics(pose: Pose, view: View | None = None,
                    min_visibility: float = MIN_VISIBILITY) -> Metrics:
    """All metrics for one pose; view=None detects it."""
    if not pose.person:
        return Metrics(pose.timestamp_ms, False, None, pose.image_size,
                       dict.fromkeys(METRIC_NAMES), dict.fromkeys(METRIC_NAMES, "no person"))
    b = _Builder(pose, _gate(pose, min_visibility))
    if np.any(pose.world[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER]]):
        b.values["yaw_deg"] = geo.yaw_deg(pose.world[L.LEFT_SHOULDER],
                                          pose.world[L.RIGHT_SHOULDER])
    view = view or detect_view(pose)
    groups: list[Callable[[_Builder], None]] = [_front_metrics, _knee_metric]
    if view is View.FRONT:
        for name in SIDE_ONLY:
            b.skip(name, "not measurable from the front")
    else:
        groups.append(lambda builder: _side_metrics(builder, pose))
    for group in groups:
        try:
            group(b)
        except ValueError:
            # Landmarks fallen onto each other (a zero-length segment): what was measured
            # stands, the rest of the group is missing, never an exception.
            for name, value in b.values.items():
                if value is None and name not in b.missing:
                    b.skip(name, "degenerate pose: landmarks on top of each other")
    return Metrics(pose.timestamp_ms, True, view, pose.image_size, b.values, b.missing)


def _front_metrics(b: _Builder) -> None:
    px, v = b.px, b.values
    if not b.blocked("nose_y_px", L.NOSE):
        v["nose_y_px"] = float(px[L.NOSE][1])
    if not b.blocked("face_width_px", L.LEFT_EYE_OUTER, L.RIGHT_EYE_OUTER):
        v["face_width_px"] = geo.distance_px(px[L.LEFT_EYE_OUTER], px[L.RIGHT_EYE_OUTER])
    shoulders = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    if not b.blocked("shoulder_width_px", *shoulders):
        width = geo.distance_px(px[L.LEFT_SHOULDER], px[L.RIGHT_SHOULDER])
        v["shoulder_width_px"] = width
        if width > 0:
            v["shoulder_tilt_deg"] = geo.tilt_deg(px[L.LEFT_SHOULDER], px[L.RIGHT_SHOULDER])
        if width > 0 and not b.blocked("head_drop", L.NOSE):
            mid_y = (px[L.LEFT_SHOULDER][1] + px[L.RIGHT_SHOULDER][1]) / 2
            v["head_drop"] = float((mid_y - px[L.NOSE][1]) / width)
    else:
        b.skip("shoulder_tilt_deg", b.missing["shoulder_width_px"])
        b.skip("head_drop", b.missing["shoulder_width_px"])
    if v["face_width_px"] and v["shoulder_width_px"]:
        v["face_to_shoulders"] = v["face_width_px"] / v["shoulder_width_px"]
    else:
        b.skip("face_to_shoulders", b.missing.get("face_width_px")
               or b.missing.get("shoulder_width_px", "not measurable"))
    if v["face_width_px"] and v["shoulder_tilt_deg"] is not None:
        eyes = geo.tilt_deg(px[L.LEFT_EYE_OUTER], px[L.RIGHT_EYE_OUTER])
        v["head_side_bend_deg"] = abs(eyes - v["shoulder_tilt_deg"])
    else:
        b.skip("head_side_bend_deg", b.missing.get("face_width_px")
               or b.missing.get("shoulder_width_px", "not measurable"))
    face = v["face_width_px"]
    if face and not b.blocked("head_pitch", L.NOSE, L.LEFT_EAR, L.RIGHT_EAR):
        ear_y = (px[L.LEFT_EAR][1] + px[L.RIGHT_EAR][1]) / 2
        v["head_pitch"] = float((px[L.NOSE][1] - ear_y) / face)
    elif "head_pitch" not in b.missing:
        b.skip("head_pitch", b.missing.get("face_width_px", "face not measurable"))


def _knee_metric(b: _Builder) -> None:
    """Knee angle hip-knee-ankle, averaged over the sides that are fully in view."""
    angles = []
    for hip, knee, ankle in ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE),
                             (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE)):
        if not any(lm in b.problems for lm in (hip, knee, ankle)):
            try:
                angles.append(geo.joint_angle_deg(b.px[hip], b.px[knee], b.px[ankle]))
            except ValueError:
                continue
    if angles:
        b.values["knee_deg"] = float(np.mean(angles))
    elif not b.blocked("knee_deg", L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE):
        b.skip("knee_deg", "legs not in view")


def _near_side(pose: Pose) -> tuple[L, L, L, L]:
    """(ear, shoulder, hip, knee) of the side turned toward the camera."""
    left = (L.LEFT_EAR, L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE)
    right = (L.RIGHT_EAR, L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE)
    score = [float(np.sum(pose.visibility[list(side[:2])])) for side in (left, right)]
    if score[0] == score[1] and np.any(pose.world):
        # Tie: world z is smaller (closer to the camera) on the near side.
        return left if pose.world[L.LEFT_SHOULDER][2] <= pose.world[L.RIGHT_SHOULDER][2] \
            else right
    return left if score[0] >= score[1] else right


def _elevation_deg(low_px: np.ndarray, high_px: np.ndarray) -> float:
    """Angle of the line low -> high above horizontal, whichever way it points: 0 to 90."""
    dx, dy = high_px - low_px
    return float(np.degrees(np.arctan2(-dy, abs(dx))))


def _side_metrics(b: _Builder, pose: Pose) -> None:
    px, v = b.px, b.values
    ear, shoulder, hip, knee = _near_side(pose)
    elbow = L.LEFT_ELBOW if shoulder is L.LEFT_SHOULDER else L.RIGHT_ELBOW
    # The face points the way the nose sits from the ear.
    forward = 1.0 if px[L.NOSE][0] >= px[ear][0] else -1.0
    head = geo.distance_px(px[ear], px[L.NOSE])
    if not b.blocked("neck_deg", ear, shoulder, L.NOSE) and head > 0:
        v["neck_deg"] = geo.inclination_deg(px[shoulder], px[ear], forward)
        # Chin-tuck signals, in head lengths (ear to nose): how far the ear sits in front of
        # the shoulder, and how high above it; and the ear-nose line's pitch.
        v["head_forward"] = float(forward * (px[ear][0] - px[shoulder][0]) / head)
        v["ear_above_shoulder"] = float((px[shoulder][1] - px[ear][1]) / head)
        v["head_tilt_deg"] = geo.inclination_deg(px[ear], px[L.NOSE], forward) - 90.0
    for name in ("neck_deg", "head_forward", "ear_above_shoulder", "head_tilt_deg"):
        if v[name] is None and name not in b.missing:
            b.skip(name, b.missing.get("neck_deg", "head not measurable"))
    if head > 0 and not b.blocked("elbow_behind", shoulder, elbow, ear, L.NOSE):
        v["elbow_behind"] = float(forward * (px[shoulder][0] - px[elbow][0]) / head)
    _trunk_metrics(b, ear, shoulder, hip, knee, forward)


def _trunk_metrics(b: _Builder, ear: L, shoulder: L, hip: L, knee: L, forward: float) -> None:
    px, v = b.px, b.values
    names = ("thoracic_deg", "trunk_lift_deg", "hip_deg", "hip_lift_deg")
    if b.blocked("thoracic_deg", shoulder, hip, ear, L.NOSE):
        for name in names[1:]:
            b.skip(name, b.missing["thoracic_deg"])
        return
    torso = geo.distance_px(px[shoulder], px[hip])
    head = geo.distance_px(px[ear], px[L.NOSE])
    if not TORSO_HEADS[0] * head <= torso <= TORSO_HEADS[1] * head:
        for name in names:
            b.skip(name, "implausible hip position")
        return
    v["trunk_lift_deg"] = _elevation_deg(px[hip], px[shoulder])
    if px[hip][1] > px[shoulder][1]:
        v["thoracic_deg"] = geo.inclination_deg(px[hip], px[shoulder], forward)
    else:
        b.skip("thoracic_deg", "hip not below the shoulder: not sitting or standing")
    if b.blocked("hip_deg", knee):
        b.skip("hip_lift_deg", b.missing["hip_deg"])
        return
    thigh = geo.distance_px(px[hip], px[knee])
    if not THIGH_TORSOS[0] * torso <= thigh <= THIGH_TORSOS[1] * torso:
        b.skip("hip_deg", "implausible knee position")
        b.skip("hip_lift_deg", "implausible knee position")
        return
    v["hip_deg"] = geo.joint_angle_deg(px[shoulder], px[hip], px[knee])
    v["hip_lift_deg"] = _elevation_deg(px[knee], px[hip])

"""Landmark arrays with known geometry, and real poses moved in controlled ways."""

from __future__ import annotations

import math

import numpy as np

from posture.vision.pose import NUM_LANDMARKS, Pose
from posture.vision.pose import Landmark as L

LEFT = (L.LEFT_EAR, L.LEFT_SHOULDER, L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_EYE, L.LEFT_EYE_OUTER)
RIGHT = (L.RIGHT_EAR, L.RIGHT_SHOULDER, L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_EYE,
         L.RIGHT_EYE_OUTER)


def _unit(angle_deg: float, facing: float) -> np.ndarray:
    """Unit vector at angle_deg from straight up, toward the facing direction (pixels)."""
    a = math.radians(angle_deg)
    return np.array([facing * math.sin(a), -math.cos(a)])


def side_pose(neck_deg: float = 10.0, trunk_deg: float = 0.0, hip_deg: float = 90.0,
              size: tuple[int, int] = (640, 360), facing: float = 1.0, t_ms: int = 0,
              near: str = "left") -> Pose:
    """A seated person in profile with exactly the given angles, in a frame of `size` pixels."""
    px = np.tile(np.array([size[0] / 2, size[1] / 2]), (NUM_LANDMARKS, 1))
    hip = np.array([size[0] / 2 - facing * 40, size[1] * 0.75])
    shoulder = hip + 150 * _unit(trunk_deg, facing)
    ear = shoulder + 60 * _unit(neck_deg, facing)
    nose = ear + np.array([facing * 28, 6])
    # The thigh leaves the hip hip_deg away from the hip->shoulder line, toward the front.
    knee = hip + 130 * _unit(trunk_deg + hip_deg, facing)
    for lm, point in ((L.NOSE, nose), (L.LEFT_EAR, ear), (L.RIGHT_EAR, ear),
                      (L.LEFT_SHOULDER, shoulder), (L.RIGHT_SHOULDER, shoulder),
                      (L.LEFT_HIP, hip), (L.RIGHT_HIP, hip), (L.LEFT_KNEE, knee),
                      (L.RIGHT_KNEE, knee)):
        px[lm] = point
    for lm in (L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EYE_OUTER, L.RIGHT_EYE_OUTER):
        px[lm] = ear + np.array([facing * 18, -8])
    landmarks = np.zeros((NUM_LANDMARKS, 3), np.float32)
    landmarks[:, 0] = px[:, 0] / size[0]
    landmarks[:, 1] = px[:, 1] / size[1]
    visibility = np.ones(NUM_LANDMARKS, np.float32)
    for lm in (RIGHT if near == "left" else LEFT):
        visibility[lm] = 0.3
    world = np.zeros((NUM_LANDMARKS, 3), np.float32)
    world[L.LEFT_SHOULDER] = (0.0, 0.0, -0.15 if near == "left" else 0.15)
    world[L.RIGHT_SHOULDER] = (0.0, 0.0, 0.15 if near == "left" else -0.15)
    return Pose(t_ms, size, landmarks, world, visibility, np.ones(NUM_LANDMARKS, np.float32))


def with_landmarks(pose: Pose, pixels: np.ndarray, t_ms: int | None = None,
                   world: np.ndarray | None = None) -> Pose:
    """A copy of pose with new pixel positions (and optionally world landmarks and time)."""
    w, h = pose.image_size
    lm = pose.landmarks.copy()
    lm[:, 0] = pixels[:, 0] / w
    lm[:, 1] = pixels[:, 1] / h
    return Pose(pose.timestamp_ms if t_ms is None else t_ms, pose.image_size,
                lm.astype(np.float32), pose.world if world is None else world.astype(np.float32),
                pose.visibility, pose.presence)


def rotate_about(points: np.ndarray, centre: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate (N, 2) image points about centre; positive turns +x toward +y (clockwise)."""
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (points - centre) @ rot.T + centre


HEAD = [L.NOSE, L.LEFT_EYE_INNER, L.LEFT_EYE, L.LEFT_EYE_OUTER, L.RIGHT_EYE_INNER, L.RIGHT_EYE,
        L.RIGHT_EYE_OUTER, L.LEFT_EAR, L.RIGHT_EAR, L.MOUTH_LEFT, L.MOUTH_RIGHT]
UPPER_BODY = HEAD + [L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_ELBOW, L.RIGHT_ELBOW,
                     L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_PINKY, L.RIGHT_PINKY, L.LEFT_INDEX,
                     L.RIGHT_INDEX, L.LEFT_THUMB, L.RIGHT_THUMB]


def profile_from_world(pose: Pose, facing: float, size: tuple[int, int] = (640, 480),
                       neck_flex_deg: float = 0.0, trunk_flex_deg: float = 0.0) -> Pose:
    """Turn a real pose's world landmarks 90 degrees to a profile view and project them.

    The person then faces +x (facing=1) or -x (facing=-1). neck_flex_deg tips the head
    forward about the shoulder midpoint; trunk_flex_deg tips the upper body about the hips.
    """
    world = pose.world.astype(float)
    # Turn about the vertical axis: world x (the person's left-right) becomes depth.
    turned = np.column_stack([-facing * world[:, 2], world[:, 1], facing * world[:, 0]])
    scale = 0.55 * size[1] / max(np.ptp(turned[:, 1]), 1e-6)
    px = turned[:, :2] * scale + np.array([size[0] / 2, size[1] / 2])
    hips = (px[L.LEFT_HIP] + px[L.RIGHT_HIP]) / 2
    shoulders = (px[L.LEFT_SHOULDER] + px[L.RIGHT_SHOULDER]) / 2
    px[HEAD] = rotate_about(px[HEAD], shoulders, facing * neck_flex_deg)
    px[UPPER_BODY] = rotate_about(px[UPPER_BODY], hips, facing * trunk_flex_deg)
    lm = np.zeros((NUM_LANDMARKS, 3), np.float32)
    lm[:, 0], lm[:, 1] = px[:, 0] / size[0], px[:, 1] / size[1]
    # The far side is occluded in profile: the model reports it with low visibility.
    visibility = np.full(NUM_LANDMARKS, 0.95, np.float32)
    near_is_left = turned[L.LEFT_SHOULDER, 2] < turned[L.RIGHT_SHOULDER, 2]
    far = RIGHT if near_is_left else LEFT
    visibility[list(far)] = 0.35
    return Pose(pose.timestamp_ms, size, lm, turned.astype(np.float32), visibility,
                np.ones(NUM_LANDMARKS, np.float32))


def jittered(pose: Pose, t_ms: int, rng: np.random.Generator, sigma_px: float = 0.6) -> Pose:
    """pose at time t_ms with Gaussian landmark noise of sigma_px pixels."""
    return with_landmarks(pose, pose.pixels + rng.normal(0, sigma_px, (NUM_LANDMARKS, 2)), t_ms)


def blend(a: Pose, b: Pose, w: float) -> Pose:
    """Landmarks a*(1-w) + b*w: a move from one real posture toward another."""
    return with_landmarks(a, a.pixels * (1 - w) + b.pixels * w,
                          world=a.world * (1 - w) + b.world * w)


def real_still_jitter() -> np.ndarray:
    """(N, 33, 2) landmark jitter of a person sitting still, as the real model reports it, in
    face widths (outer eye corners): the first 40 s of the bundled demo trace (upright
    sitting, traced by the full model from a real photo), minus each landmark's median."""
    from importlib import resources

    from posture.vision.sources import open_source

    path = resources.files("posture") / "data" / "demo.jsonl.gz"
    with open_source(str(path)) as source:
        still = [f.pose.pixels for f in source if f.timestamp_ms < 40_000 and f.pose.person]
    stack = np.stack(still)
    median = np.median(stack, axis=0)
    face = np.linalg.norm(median[L.LEFT_EYE_OUTER] - median[L.RIGHT_EYE_OUTER])
    return (stack - median) / face


# Outer-eye width over ear-to-nose length, for adults about 9 cm over 10.5 cm.
FACE_PER_HEAD = 9.0 / 10.5


_JITTER: list[np.ndarray] = []


def real_jittered(pose: Pose, t_ms: int, index: int) -> Pose:
    """pose at t_ms with the index-th frame of real still-sitting jitter added, scaled to the
    pose's own head size (a profile pose has no visible face width: use ear to nose)."""
    if not _JITTER:
        _JITTER.append(real_still_jitter())
    jitter = _JITTER[0]
    px = pose.pixels
    head = np.linalg.norm(px[L.LEFT_EAR] - px[L.NOSE])
    return with_landmarks(pose, px + jitter[index % len(jitter)] * head * FACE_PER_HEAD, t_ms)


def mirrored(pose: Pose) -> Pose:
    """The exact left-right mirror of a pose, as the model would report the mirror image if it
    had no noise: x flipped, left and right landmarks swapped, world x negated."""
    swap = np.arange(NUM_LANDMARKS)
    for lm in L:
        if lm.name.startswith("LEFT_"):
            other = L[lm.name.replace("LEFT_", "RIGHT_")]
            swap[lm], swap[other] = other, lm
    lm_ = pose.landmarks[swap].copy()
    lm_[:, 0] = 1.0 - lm_[:, 0]
    world = pose.world[swap].copy()
    world[:, 0] = -world[:, 0]
    return Pose(pose.timestamp_ms, pose.image_size, lm_, world, pose.visibility[swap].copy(),
                pose.presence[swap].copy())


def refit(pose: Pose, size: tuple[int, int], t_ms: int | None = None) -> Pose:
    """The same pose in a frame of another size: pixels scaled uniformly (angles kept) and
    centred, so poses from photos of different shapes can share one trace."""
    w, h = pose.image_size
    scale = min(size[0] / w, size[1] / h)
    px = pose.pixels * scale + (np.array(size) - np.array([w, h]) * scale) / 2
    lm = pose.landmarks.copy()
    lm[:, 0], lm[:, 1] = px[:, 0] / size[0], px[:, 1] / size[1]
    return Pose(pose.timestamp_ms if t_ms is None else t_ms, size, lm, pose.world,
                pose.visibility, pose.presence)

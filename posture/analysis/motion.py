"""Whole-body motion features from world landmarks, for matching a movement to a
demonstration: joint angles and limb directions in the trunk's own frame, so they do not
depend on where the camera stands (a turn about the vertical changes none of them), and a
left-right swap that makes a mirrored performance match too.
"""

from __future__ import annotations

import numpy as np

from posture.vision.pose import Landmark as L
from posture.vision.pose import Pose

# Feature groups: (name of the body part, number of features). Order matters.
PARTS = (("trunk", 2), ("left arm", 6), ("right arm", 6), ("left elbow", 1),
         ("right elbow", 1), ("left leg", 6), ("right leg", 6), ("left knee", 1),
         ("right knee", 1), ("head", 3))
SIZE = sum(n for _, n in PARTS)
PART_OF = np.concatenate([np.full(n, i) for i, (_, n) in enumerate(PARTS)])
# Swapping left and right: which feature takes which place, and which change sign (the
# sideways components of directions).
_SWAP = {"left arm": "right arm", "right arm": "left arm", "left elbow": "right elbow",
         "right elbow": "left elbow", "left leg": "right leg", "right leg": "left leg",
         "left knee": "right knee", "right knee": "left knee"}


def feature_index(part: str, k: int = 0) -> int:
    """Where the k-th feature of a body part sits."""
    return _start(part) + k


def _start(part: str) -> int:
    i = 0
    for name, n in PARTS:
        if name == part:
            return i
        i += n
    raise KeyError(part)


def _swap_index() -> tuple[np.ndarray, np.ndarray]:
    order = np.arange(SIZE)
    sign = np.ones(SIZE)
    for name, n in PARTS:
        other = _SWAP.get(name, name)
        order[_start(name):_start(name) + n] = np.arange(_start(other), _start(other) + n)
    # Sideways components: the trunk's lean to a side, each limb direction's x (below),
    # the head's sideways direction.
    for part in ("left arm", "right arm", "left leg", "right leg"):
        sign[_start(part)] = -1
        sign[_start(part) + 3] = -1  # the limb's second segment's sideways part
    sign[_start("trunk") + 1] = -1
    sign[_start("head")] = -1
    return order, sign


SWAP_ORDER, SWAP_SIGN = _swap_index()


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 else v


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """The angle at b (radians) of a-b-c."""
    u, v = _unit(a - b), _unit(c - b)
    return float(np.arccos(np.clip(u @ v, -1.0, 1.0)))


def features(pose: Pose) -> np.ndarray | None:
    """SIZE features of one pose's world landmarks (metres, y down), or None without a
    person. Directions are unit-vector components in the trunk frame (sideways toward the
    person's left, up along the trunk, forward); angles in radians."""
    if not pose.person or pose.world.shape[0] == 0 or not np.any(pose.world):
        return None  # no person, or a trace recorded without world landmarks
    w = pose.world.astype(np.float64)
    hip = (w[L.LEFT_HIP] + w[L.RIGHT_HIP]) / 2
    shoulder = (w[L.LEFT_SHOULDER] + w[L.RIGHT_SHOULDER]) / 2
    up = _unit(shoulder - hip)
    across = w[L.LEFT_HIP] - w[L.RIGHT_HIP] + w[L.LEFT_SHOULDER] - w[L.RIGHT_SHOULDER]
    left = _unit(across - (across @ up) * up)
    forward = np.cross(left, up)
    frame = np.stack([left, up, forward])
    vertical = np.array([0.0, -1.0, 0.0])  # world y points down
    out = [float(np.arccos(np.clip(up @ vertical, -1, 1))),  # trunk inclination
           float(left @ vertical)]  # lean to a side
    limbs = (((L.LEFT_SHOULDER, L.LEFT_ELBOW, L.LEFT_WRIST),
              (L.RIGHT_SHOULDER, L.RIGHT_ELBOW, L.RIGHT_WRIST)),
             ((L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE),
              (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE)))
    for pair in limbs:  # arms, then legs: each side's two segments, then both middle joints
        for root, mid, end in pair:
            out += [*(frame @ _unit(w[mid] - w[root])), *(frame @ _unit(w[end] - w[mid]))]
        out += [_angle(w[root], w[mid], w[end]) for root, mid, end in pair]
    head = frame @ _unit(w[L.NOSE] - shoulder)
    out += [head[0], head[1], head[2]]
    result = np.asarray(out)
    return result if np.all(np.isfinite(result)) else None


def mirrored(f: np.ndarray) -> np.ndarray:
    """The features of the mirror image of the same pose (left and right swapped)."""
    return f[..., SWAP_ORDER] * SWAP_SIGN

"""Pure geometry on pixel coordinates: no I/O, no state.

Points are numpy arrays (x, y) in image pixels, x to the right and y down. Angles are in
degrees. Callers convert normalized landmarks to pixels first (x * width, y * height); an
angle computed on normalized coordinates of a non-square frame would be wrong.
"""

from __future__ import annotations

import numpy as np

UP = np.array([0.0, -1.0])


def inclination_deg(lower_px: np.ndarray, upper_px: np.ndarray, forward_sign: float) -> float:
    """Signed angle of the line lower -> upper from vertical, positive when it leans forward.

    forward_sign is +1 when the person faces +x (right in the image) and -1 when facing left.
    0 means upper is straight above lower; 90 means level with it, ahead of it.
    """
    dx, dy = (upper_px - lower_px).astype(float)
    if dx == 0.0 and dy == 0.0:
        raise ValueError("inclination of a zero-length segment is undefined")
    return float(np.degrees(np.arctan2(forward_sign * dx, -dy)))


def joint_angle_deg(a_px: np.ndarray, vertex_px: np.ndarray, b_px: np.ndarray) -> float:
    """Interior angle a-vertex-b in [0, 180] degrees (180 = a straight line)."""
    u = (a_px - vertex_px).astype(float)
    v = (b_px - vertex_px).astype(float)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0.0 or nv == 0.0:
        raise ValueError("joint angle with a zero-length segment is undefined")
    cos = np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0)
    return float(np.degrees(np.arccos(cos)))


def tilt_deg(p_px: np.ndarray, q_px: np.ndarray) -> float:
    """Angle of the line between two points from horizontal, in [-90, 90].

    Positive when the point further right in the image sits lower (larger y).
    """
    a, b = (p_px, q_px) if p_px[0] <= q_px[0] else (q_px, p_px)
    dx, dy = (b - a).astype(float)
    if dx == 0.0 and dy == 0.0:
        raise ValueError("tilt of a zero-length segment is undefined")
    return float(np.degrees(np.arctan2(dy, dx)))


def distance_px(a_px: np.ndarray, b_px: np.ndarray) -> float:
    return float(np.linalg.norm((a_px - b_px).astype(float)))


def yaw_deg(left_xyz: np.ndarray, right_xyz: np.ndarray) -> float:
    """How far the line between two 3-D points turns away from the image plane, in [0, 90].

    0 when the shoulders are square to the camera (front view), 90 when one is straight
    behind the other (side view). Uses metric world coordinates (x right, y down, z depth).
    """
    d = (right_xyz - left_xyz).astype(float)
    return float(np.degrees(np.arctan2(abs(d[2]), abs(d[0]))))


def joint_angle_3d_deg(a: np.ndarray, vertex: np.ndarray, b: np.ndarray) -> float:
    """Interior angle a-vertex-b between 3-D points, in [0, 180] degrees: the same from
    any camera direction."""
    u = (a - vertex).astype(float)
    v = (b - vertex).astype(float)
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0.0 or nv == 0.0:
        raise ValueError("joint angle with a zero-length segment is undefined")
    return float(np.degrees(np.arccos(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))))

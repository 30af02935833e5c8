"""Videos synthesized from real, permissively licensed photos, for end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posture.vision.pose import Landmark as L
from posture.vision.pose import Pose


def retract_head(image_rgb: np.ndarray, pose: Pose, amount: float,
                 feather_px: int = 12) -> np.ndarray:
    """The photo with the head shrunk by `amount` (0.08 = 8% smaller) about the neck.

    A chin tuck seen from a laptop camera: the head moves back, so it looks smaller, while
    the shoulders stay put. Everything above the neck is zoomed out about a point between
    the chin and the shoulders; a feathered band blends it into the unchanged body.
    """
    px = pose.pixels
    shoulders_y = (px[L.LEFT_SHOULDER][1] + px[L.RIGHT_SHOULDER][1]) / 2
    mouth_y = (px[L.MOUTH_LEFT][1] + px[L.MOUTH_RIGHT][1]) / 2
    neck_y = mouth_y + 0.55 * (shoulders_y - mouth_y)
    centre = (float(px[L.NOSE][0]), float(neck_y))
    scale = 1.0 - amount
    m = cv2.getRotationMatrix2D(centre, 0.0, scale)
    h, w = image_rgb.shape[:2]
    zoomed = cv2.warpAffine(image_rgb, m, (w, h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    rows = np.arange(h, dtype=np.float32)[:, None]
    weight = np.clip((neck_y + feather_px / 2 - rows) / feather_px, 0.0, 1.0)
    out = zoomed * weight[..., None] + image_rgb * (1 - weight[..., None])
    return out.astype(np.uint8)


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()


def tuck_plan_frames(image_rgb: np.ndarray, pose: Pose, plan: list[tuple[float, float]],
                     fps: float, ramp_s: float = 0.5) -> list[np.ndarray]:
    """Frames for plan steps (seconds, retraction); each step eases in from the last level."""
    frames, level = [], 0.0
    for seconds, target in plan:
        n = max(1, int(seconds * fps))
        ramp = max(1, int(ramp_s * fps))
        for i in range(n):
            w = min(1.0, (i + 1) / ramp)
            value = level + (target - level) * (w * w * (3 - 2 * w))
            frames.append(retract_head(image_rgb, pose, value) if value > 1e-4 else image_rgb)
        level = target
    return frames

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


def person_mask(model_path: Path, rgb: np.ndarray) -> np.ndarray:
    """Where the main person is in a photo (0-1), from the pose model's segmentation."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.IMAGE, output_segmentation_masks=True)
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB,
                                            data=np.ascontiguousarray(rgb)))
    return np.squeeze(result.segmentation_masks[0].numpy_view()).astype(np.float32)


def walk_behind(user: np.ndarray, user_mask: np.ndarray, other: np.ndarray,
                other_mask: np.ndarray, frames: int, height_px: int,
                top_px: int) -> list[np.ndarray]:
    """A second person (cut out of another photo) walks across the frame behind the user."""
    ys, xs = np.nonzero(other_mask > 0.5)
    scale = height_px / (ys.max() - ys.min())
    cut = cv2.resize(other[ys.min():ys.max(), xs.min():xs.max()], None, fx=scale, fy=scale)
    cut_mask = cv2.resize(other_mask[ys.min():ys.max(), xs.min():xs.max()],
                          (cut.shape[1], cut.shape[0]))
    h, w = user.shape[:2]
    out = []
    for i in range(frames):
        x0 = int(-cut.shape[1] + (w + cut.shape[1]) * i / (frames - 1))
        layer = np.zeros_like(user, dtype=np.float32)
        alpha = np.zeros((h, w), np.float32)
        xa, xb = max(0, x0), min(w, x0 + cut.shape[1])
        rows = slice(top_px, min(h, top_px + cut.shape[0]))
        n = rows.stop - rows.start
        if xb > xa:
            layer[rows, xa:xb] = cut[:n, xa - x0:xb - x0]
            alpha[rows, xa:xb] = cut_mask[:n, xa - x0:xb - x0]
        alpha *= 1.0 - user_mask  # behind the user
        out.append((user * (1 - alpha[..., None]) + layer * alpha[..., None]).astype(np.uint8))
    return out

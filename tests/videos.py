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

# The talk-through clip: a person talks to the camera from the front (moving between real
# webcam photos of one man, about half a second each, as in conversation), turns side-on
# (a cut to the real side-view chin-tuck clip tucks_dev1), does two tucks, the camera
# zooms in (a cut to the same clip 1.35 times larger, from its still lead-in, then on from
# its 13th second: a partial tuck, a tuck, a nod, a tuck), and talks from the front again.
TALK_FPS = 30
TALK_FRONT_S = 8.0
TALK_SPLIT_S = 13.0  # where tucks_dev1 is cut: after its second tuck, before the partial
TALK_LEAD_S = 2.0  # its still lead-in, repeated after the zoom
TALK_ZOOM = 1.35
TALK_END_S = 5.0


def _talk_windows() -> list[dict]:
    import json

    labels = json.loads((Path(__file__).parent / "data" / "chin_tuck" / "labels.json")
                        .read_text())["clips"]["tucks_dev1.mp4"]["reps"]
    out = []
    for rep in labels:
        shift = TALK_FRONT_S if rep["start_s"] < TALK_SPLIT_S else (
            TALK_FRONT_S + TALK_LEAD_S)
        out.append({**rep, **{k: round(rep[k] + shift, 3)
                              for k in ("start_s", "hold_from_s", "end_s")}})
    return out


TALK_THROUGH_WINDOWS: list[dict] = _talk_windows()


def _cover(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scaled to cover w x h and centre-cropped."""
    scale = max(w / rgb.shape[1], h / rgb.shape[0])
    big = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                     interpolation=cv2.INTER_AREA)
    y0, x0 = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return big[y0:y0 + h, x0:x0 + w]


def _zoom(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    cw, ch = round(w / factor), round(h / factor)
    x0, y0 = (w - cw) // 2, max(0, round(h * 0.42 - ch / 2))
    return cv2.resize(rgb[y0:y0 + ch, x0:x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR)


def _talking(data_dir: Path, seconds: float, w: int, h: int, seed: int, fps: float):
    """Front-view frames moving between real webcam photos, with small camera shake."""
    photos = sorted((data_dir / "front_webcam" / "upright").glob("*.jpg"))[:8]
    photos += sorted((data_dir / "front_webcam" / "slouching").glob("*.jpg"))[:2]
    images = [_cover(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB), w, h)
              for p in photos]
    rng = np.random.default_rng(seed)
    frame, current, left = 0, 0, 0
    while frame < seconds * fps:
        if left == 0:
            current = int(rng.integers(len(images)))
            left = int(rng.integers(round(0.3 * fps), round(0.7 * fps) + 1))
        shift = np.float32([[1, 0, rng.normal(0, 1.5)], [0, 1, rng.normal(0, 1.5)]])
        yield cv2.warpAffine(images[current], shift, (w, h), borderMode=cv2.BORDER_REPLICATE)
        frame, left = frame + 1, left - 1


def _clip_frames(video: Path):
    cap = cv2.VideoCapture(str(video))
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def write_talk_through(path: Path, data_dir: Path, fps: int = TALK_FPS) -> None:
    """Write the talk-through clip (labels: TALK_THROUGH_WINDOWS) from the real clip and
    photos under data_dir (the project's test data). fps below the clip's 30 keeps every
    (30 / fps)-th frame: the same movements, sampled as a slower camera would."""
    step = max(1, round(TALK_FPS / fps))
    side = list(_clip_frames(data_dir / "chin_tuck" / "tucks_dev1.mp4"))
    h, w = side[0].shape[:2]
    split, lead = round(TALK_SPLIT_S * TALK_FPS), round(TALK_LEAD_S * TALK_FPS)
    rate = TALK_FPS / step
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), rate, (w, h))
    try:
        for rgb in _talking(data_dir, TALK_FRONT_S, w, h, 1, rate):
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        for rgb in side[:split:step]:
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        for rgb in side[:lead:step] + side[split::step]:
            writer.write(cv2.cvtColor(_zoom(rgb, TALK_ZOOM), cv2.COLOR_RGB2BGR))
        for rgb in _talking(data_dir, TALK_END_S, w, h, 2, rate):
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()

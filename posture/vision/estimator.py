"""MediaPipe PoseLandmarker behind our Pose type. The only module that imports mediapipe."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import numpy as np

from posture.errors import ModelError
from posture.vision.pose import NUM_LANDMARKS, Pose

# The native runtime logs model-loading chatter to stderr; keep the CLI's stderr readable.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import mediapipe as mp  # noqa: E402
from mediapipe.tasks.python import BaseOptions, vision  # noqa: E402


class RunningMode(Enum):
    IMAGE = "image"  # independent stills: every frame is detected from scratch
    VIDEO = "video"  # a stream: landmarks are tracked from frame to frame


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while the native runtime starts up."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _pick_person(candidates: list[np.ndarray]) -> int:
    """Index of the largest, most central person among (33, 3) normalized landmark arrays."""
    best, best_score = 0, -1.0
    for i, lm in enumerate(candidates):
        xy = np.clip(lm[:, :2], 0.0, 1.0)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        area = float(np.prod(hi - lo))
        off_centre = float(np.linalg.norm((lo + hi) / 2 - 0.5) / np.sqrt(0.5))
        score = area * (1.0 - 0.5 * off_centre)
        if score > best_score:
            best, best_score = i, score
    return best


class PoseEstimator:
    """Detects one person per frame. Use as a context manager so the native graph is closed.

    In VIDEO mode with one pose (MediaPipe's default) the landmarker tracks the person from
    frame to frame and runs its person detector only when the track is lost: several times
    cheaper, and steadier landmarks, than detecting every frame. A bystander walking behind
    the user cannot take over a track that is held. With num_poses > 1 (stills) the largest,
    most central person is chosen.
    """

    def __init__(self, model_path: Path | str, mode: RunningMode = RunningMode.VIDEO,
                 num_poses: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5) -> None:
        if num_poses < 1:
            raise ValueError(f"num_poses must be at least 1, got {num_poses}")
        for name, value in (("min_detection_confidence", min_detection_confidence),
                            ("min_tracking_confidence", min_tracking_confidence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        self.mode = mode
        running_mode = (vision.RunningMode.VIDEO if mode is RunningMode.VIDEO
                        else vision.RunningMode.IMAGE)
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=running_mode,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        try:
            with _native_stderr_silenced():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"cannot load pose model {model_path}: {exc}") from exc
        self._last_timestamp_ms = -1

    def detect(self, rgb: np.ndarray, timestamp_ms: int) -> Pose:
        """Pose of the main person in an RGB uint8 (H, W, 3) image; empty when nobody is there.

        In VIDEO mode timestamp_ms must increase strictly from call to call.
        """
        height, width = rgb.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self.mode is RunningMode.VIDEO:
            if timestamp_ms <= self._last_timestamp_ms:
                raise ValueError(f"timestamp_ms must increase: {timestamp_ms} after "
                                 f"{self._last_timestamp_ms}")
            self._last_timestamp_ms = timestamp_ms
            result = self._landmarker.detect_for_video(image, timestamp_ms)
        else:
            result = self._landmarker.detect(image)
        return _to_pose(result, timestamp_ms, (width, height))

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _to_pose(result: vision.PoseLandmarkerResult, timestamp_ms: int,
             image_size: tuple[int, int]) -> Pose:
    if not result.pose_landmarks:
        return Pose.empty(timestamp_ms, image_size)
    candidates = [np.array([[p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0]
                            for p in person], np.float32)
                  for person in result.pose_landmarks]
    chosen = _pick_person([c[:, :3] for c in candidates])
    lm = candidates[chosen]
    if lm.shape[0] != NUM_LANDMARKS:
        return Pose.empty(timestamp_ms, image_size)
    world = np.array([[p.x, p.y, p.z] for p in result.pose_world_landmarks[chosen]], np.float32)
    return Pose(timestamp_ms, image_size, lm[:, :3].copy(), world, lm[:, 3].copy(),
                lm[:, 4].copy())


def open_estimator(variant: str, video: bool, show_progress: bool = False) -> PoseEstimator:
    """The verified model of this variant (fetched if missing), as an estimator for a stream
    (video=True, tracking) or for independent stills."""
    from posture.vision.modelstore import ensure_model

    model = ensure_model(variant, show_progress=show_progress)
    if video:
        return PoseEstimator(model, RunningMode.VIDEO)
    # A still is detected from scratch anyway: look for two people and keep the largest,
    # most central one.
    return PoseEstimator(model, RunningMode.IMAGE, num_poses=2)

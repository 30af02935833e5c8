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
from posture.vision.pose import NUM_LANDMARKS, Landmark, Pose

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
    most central person is chosen. With both_ways (stills) the image and its mirror image are
    both detected and merged, so a mirror image gives the same answer.
    """

    def __init__(self, model_path: Path | str, mode: RunningMode = RunningMode.VIDEO,
                 num_poses: int = 1, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, both_ways: bool = False) -> None:
        if num_poses < 1:
            raise ValueError(f"num_poses must be at least 1, got {num_poses}")
        for name, value in (("min_detection_confidence", min_detection_confidence),
                            ("min_tracking_confidence", min_tracking_confidence)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        self.mode = mode
        self.both_ways = both_ways and mode is RunningMode.IMAGE
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
            return _to_pose(_candidates(result), timestamp_ms, (width, height))
        found = _candidates(self._landmarker.detect(image))
        if self.both_ways:
            flipped = mp.Image(image_format=mp.ImageFormat.SRGB,
                               data=np.ascontiguousarray(rgb[:, ::-1]))
            found = _merge_both_ways(found, _candidates(self._landmarker.detect(flipped)))
        return _to_pose(found, timestamp_ms, (width, height))

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A candidate person: (33, 5) normalized x, y, z, visibility, presence and (33, 3) world.
_Candidate = tuple[np.ndarray, np.ndarray]
# Two detections (one of them from the mirror image) are the same person when their boxes
# overlap this much, each the other's best match.
SAME_PERSON_IOU = 0.5


def _candidates(result: vision.PoseLandmarkerResult) -> list[_Candidate]:
    return [(np.array([[p.x, p.y, p.z, p.visibility or 0.0, p.presence or 0.0]
                       for p in person], np.float32),
             np.array([[p.x, p.y, p.z] for p in world], np.float32))
            for person, world in zip(result.pose_landmarks, result.pose_world_landmarks,
                                     strict=True)
            if len(person) == NUM_LANDMARKS]


def _swap_sides() -> np.ndarray:
    swap = np.arange(NUM_LANDMARKS)
    for lm in Landmark:
        if lm.name.startswith("LEFT_"):
            other = Landmark[lm.name.replace("LEFT_", "RIGHT_")]
            swap[lm], swap[other] = other, lm
    return swap


_SWAP = _swap_sides()


def _unmirror(candidate: _Candidate) -> _Candidate:
    """A person found in the mirror image, as the same person in the image: x flipped, left
    and right landmarks swapped (the model names sides by how they look), world x negated."""
    lm, world = candidate[0][_SWAP].copy(), candidate[1][_SWAP].copy()
    lm[:, 0] = 1.0 - lm[:, 0]
    world[:, 0] = -world[:, 0]
    return lm, world


def _box(lm: np.ndarray) -> np.ndarray:
    xy = np.clip(lm[:, :2], 0.0, 1.0)
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    lo, hi = np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])
    inter = float(np.prod(np.clip(hi - lo, 0.0, None)))
    union = float(np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2])) - inter
    return inter / union if union > 0 else 0.0


def _merge_both_ways(direct: list[_Candidate], mirror: list[_Candidate]) -> list[_Candidate]:
    """Everyone found in the image or in its mirror image (mapped back); a person found in
    both is the mean of the two. The result is the same, mirrored, for the mirror image: the
    person chosen and every measurement then do not depend on which way the image faces."""
    back = [_unmirror(c) for c in mirror]
    boxes = [_box(c[0]) for c in back]
    iou = np.array([[_iou(_box(a[0]), b) for b in boxes] for a in direct])
    merged: list[_Candidate] = []
    used: set[int] = set()
    for i, (lm, world) in enumerate(direct):
        j = int(np.argmax(iou[i])) if back else -1
        if j >= 0 and iou[i, j] >= SAME_PERSON_IOU and int(np.argmax(iou[:, j])) == i:
            used.add(j)
            merged.append(((lm + back[j][0]) / 2, (world + back[j][1]) / 2))
        else:
            merged.append((lm, world))
    return merged + [c for j, c in enumerate(back) if j not in used]


def _to_pose(candidates: list[_Candidate], timestamp_ms: int,
             image_size: tuple[int, int]) -> Pose:
    if not candidates:
        return Pose.empty(timestamp_ms, image_size)
    lm, world = candidates[_pick_person([c[0][:, :3] for c in candidates])]
    return Pose(timestamp_ms, image_size, lm[:, :3].copy(), world.copy(), lm[:, 3].copy(),
                lm[:, 4].copy())


def open_estimator(variant: str, video: bool, show_progress: bool = False) -> PoseEstimator:
    """The verified model of this variant (fetched if missing), as an estimator for a stream
    (video=True, tracking) or for independent stills."""
    from posture.vision.modelstore import ensure_model

    model = ensure_model(variant, show_progress=show_progress)
    if video:
        return PoseEstimator(model, RunningMode.VIDEO)
    # A still is detected from scratch anyway: look for up to three people, in the image and
    # in its mirror image (the model's person detector finds different people in the two:
    # measured on side-by-side photos of three people), and keep the largest, most central.
    return PoseEstimator(model, RunningMode.IMAGE, num_poses=3, both_ways=True)

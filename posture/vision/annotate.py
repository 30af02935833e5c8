"""Overlays: functions that return a new image with the skeleton drawn. Analysis never draws."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posture.errors import UsageError
from posture.files import PendingFile, write_bytes_atomic
from posture.vision.pose import CONNECTIONS, Pose

VISIBLE = 0.5
BONE_RGB = (80, 220, 120)
JOINT_RGB = (255, 255, 255)
HIDDEN_RGB = (150, 150, 150)


def draw_pose(image_rgb: np.ndarray, pose: Pose, label: str | None = None) -> np.ndarray:
    """A copy of image_rgb (H, W, 3 uint8) with the pose's skeleton and an optional label."""
    out = image_rgb.copy()
    height, width = out.shape[:2]
    scale = max(1, round(min(width, height) / 360))
    if pose.person:
        sx, sy = width / pose.image_size[0], height / pose.image_size[1]
        pts = np.round(pose.pixels * (sx, sy)).astype(int)
        seen = pose.visibility >= VISIBLE
        for a, b in CONNECTIONS:
            colour = BONE_RGB if seen[a] and seen[b] else HIDDEN_RGB
            cv2.line(out, tuple(pts[a]), tuple(pts[b]), colour, 2 * scale, cv2.LINE_AA)
        for i, (x, y) in enumerate(pts):
            cv2.circle(out, (int(x), int(y)), 3 * scale, JOINT_RGB if seen[i] else HIDDEN_RGB,
                       -1, cv2.LINE_AA)
    if label:
        cv2.putText(out, label, (8 * scale, 24 * scale), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale,
                    (255, 255, 0), max(1, scale), cv2.LINE_AA)
    return out


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")


def check_image_output(path: Path) -> None:
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise UsageError(f"{path}: --annotate for an image needs an image file name "
                         f"({', '.join(IMAGE_SUFFIXES)})")


def write_image(path: Path, image_rgb: np.ndarray) -> None:
    check_image_output(path)
    ok, data = cv2.imencode(path.suffix, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise UsageError(f"{path}: cannot encode an image with suffix {path.suffix!r}")
    write_bytes_atomic(path, data.tobytes())


class VideoAnnotator:
    """Writes annotated frames to an MP4 (mp4v) file of the source's size and rate."""

    def __init__(self, path: Path, fps: float, width: int, height: int) -> None:
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise UsageError(f"{path}: --annotate for a video or trace needs a .mp4, .mov or "
                             ".avi file name")
        self._pending = PendingFile(path)
        fourcc = cv2.VideoWriter.fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
        self.size = (width, height)
        self.path = path
        self.frames = 0
        self._writer = cv2.VideoWriter(str(self._pending.tmp), fourcc, fps, self.size)
        if not self._writer.isOpened():
            self._pending.abort()
            raise UsageError(f"cannot write video {path}")

    def write(self, image_rgb: np.ndarray | None, pose: Pose, label: str | None = None) -> None:
        if image_rgb is None:
            image_rgb = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        drawn = draw_pose(image_rgb, pose, label)
        self._writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        """Finish the video and put it in place, after checking that it holds every frame:
        OpenCV's writer says nothing when the disk fills up and leaves a stub of a file."""
        self._writer.release()
        problem = written_video_problem(self._pending.tmp, self.frames)
        if problem is not None:
            self._pending.abort()
            raise UsageError(f"cannot write video {self.path}: {problem}; the disk may be "
                             "full")
        self._pending.commit()

    def __enter__(self) -> VideoAnnotator:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self._writer.release()
            self._pending.abort()


def written_video_problem(path: Path, frames: int) -> str | None:
    """Why the video file just written does not hold `frames` frames, or None."""
    if frames == 0:
        return None
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return "the file written cannot be read back"
        found = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    if found < frames:
        return f"only {max(found, 0)} of {frames} frames were written"
    return None

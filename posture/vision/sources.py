"""Frame sources: webcam, video file, image(s) and landmark traces behind one interface.

Every source yields Frame objects with strictly increasing timestamp_ms taken from the source
itself (frame index and fps for files, a monotonic clock for cameras), so analyzers never read
the wall clock and a replay gives exactly the live result.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from posture import MAX_IMAGE_PIXELS
from posture.errors import CameraError, UsageError
from posture.files import check_regular_input, read_small_file
from posture.vision.pose import Pose
from posture.vision.trace import open_text, read_header, read_poses

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg"})
TRACE_SUFFIXES = frozenset({".jsonl"})
DEFAULT_FPS = 30.0
# Largest image file read: a 40-megapixel image uncompressed (BMP, TIFF) is 120-240 MB.
MAX_IMAGE_BYTES = 256 << 20
# Containers estimate their frame count; allow that much slack before calling a file truncated.
TRUNCATION_SLACK = 0.02


@dataclass(frozen=True, eq=False)
class Frame:
    """One step of a source: an RGB uint8 (H, W, 3) image, or a pose for traces."""

    index: int
    timestamp_ms: int
    name: str
    image: np.ndarray | None = None
    pose: Pose | None = None


class FrameSource:
    """Base of all sources. kind: camera, video, image, images or trace."""

    kind = "video"

    def __init__(self, source: str, fps: float, width: int, height: int,
                 frame_count: int | None) -> None:
        self.source = source
        self.fps = fps
        self.width = width
        self.height = height
        self.frame_count = frame_count

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying device or file."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _index_timestamps_ms(fps: float) -> Iterator[int]:
    """round(i * 1000 / fps), nudged up where rounding would repeat a value."""
    last, i = -1, 0
    while True:
        t = max(round(i * 1000.0 / fps), last + 1)
        yield t
        last, i = t, i + 1


class VideoSource(FrameSource):
    kind = "video"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cap = cv2.VideoCapture(str(path))
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            raise UsageError(f"{path}: cannot decode this file as video")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        fps = fps if 1.0 <= fps <= 1000.0 else DEFAULT_FPS
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        super().__init__(str(path), fps, first.shape[1], first.shape[0],
                         count if count > 0 else None)
        self._first = first

    def __iter__(self) -> Iterator[Frame]:
        times = _index_timestamps_ms(self.fps)
        bgr: np.ndarray | None = self._first
        index = 0
        while bgr is not None:
            yield Frame(index, next(times), self.path.name, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index += 1
            ok, bgr = self._cap.read()
            if not ok:
                bgr = None
        expected = self.frame_count
        if expected and index < expected * (1 - TRUNCATION_SLACK) - 1:
            raise UsageError(f"{self.path}: video ends after {index} of {expected} frames; "
                             "the file is truncated or damaged")

    def close(self) -> None:
        self._cap.release()


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, without decoding; None for other formats."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7],
                                                                            "big")
        i += 2 + length
    return None


def read_image_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB; refused above MAX_IMAGE_PIXELS before it is decoded."""
    path = Path(path)
    data = np.frombuffer(read_small_file(path, "image", MAX_IMAGE_BYTES), dtype=np.uint8)
    size = header_size(data[:65536].tobytes())
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise UsageError(f"{path}: image is {size[0]}x{size[1]} pixels, more than the "
                         f"{MAX_IMAGE_PIXELS // 1_000_000} megapixel limit; scale it down")
    try:
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error:
        bgr = None
    if bgr is None:
        raise UsageError(f"{path}: cannot decode this file as an image (or it is larger "
                         f"than {MAX_IMAGE_PIXELS // 1_000_000} megapixels)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class ImageSource(FrameSource):
    """One image, or every image of a folder in name order, one second apart."""

    def __init__(self, paths: list[Path], source: str, kind: str) -> None:
        self.paths = paths
        self.kind = kind
        self._first = read_image_rgb(paths[0])
        height, width = self._first.shape[:2]
        super().__init__(source, 1.0, width, height, len(paths))

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            image = self._first if index == 0 else read_image_rgb(path)
            yield Frame(index, index * 1000, path.name, image)


class TraceSource(FrameSource):
    kind = "trace"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open_text(path, "r")
        try:
            self.header = read_header(self._fh, path)
        except UsageError:
            self._fh.close()
            raise
        super().__init__(self.header.source, self.header.fps, self.header.width,
                         self.header.height, None)

    def __iter__(self) -> Iterator[Frame]:
        for index, pose in enumerate(read_poses(self._fh, self.path, self.header)):
            yield Frame(index, pose.timestamp_ms, self.path.name, pose=pose)

    def close(self) -> None:
        self._fh.close()


class CameraSource(FrameSource):
    """A webcam by index or device path; timestamps from a monotonic clock since opening."""

    kind = "camera"

    def __init__(self, camera: int | str, width: int | None = None,
                 height: int | None = None) -> None:
        self._cap = cv2.VideoCapture(camera)
        if width and height:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if not self._cap.isOpened():
            raise CameraError(f"camera {camera!r} cannot be opened (not found, busy, or no "
                              "permission)")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        super().__init__(f"camera:{camera}", fps if 1.0 <= fps <= 240.0 else DEFAULT_FPS,
                         int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), None)
        self._t0 = time.monotonic()

    def __iter__(self) -> Iterator[Frame]:
        index, last_t = 0, -1
        while True:
            ok, bgr = self._cap.read()
            if not ok or bgr is None:
                raise CameraError(f"{self.source}: the camera stopped delivering frames")
            t = max(int((time.monotonic() - self._t0) * 1000), last_t + 1)
            yield Frame(index, t, self.source, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            index, last_t = index + 1, t

    def close(self) -> None:
        self._cap.release()


def open_source(path: str | Path) -> FrameSource:
    """Open a file or folder as a frame source, with a one-line UsageError when it cannot be."""
    path = Path(path)
    check_regular_input(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if path.is_dir():
        images = sorted(p for p in path.iterdir()
                        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise UsageError(f"{path}: folder holds no images "
                             f"({', '.join(sorted(IMAGE_SUFFIXES))})")
        return ImageSource(images, str(path), "images")
    suffix = path.suffix.lower()
    if suffix in TRACE_SUFFIXES or path.name.lower().endswith(".jsonl.gz"):
        return TraceSource(path)
    if suffix in IMAGE_SUFFIXES:
        return ImageSource([path], str(path), "image")
    if suffix in VIDEO_SUFFIXES:
        return VideoSource(path)
    raise UsageError(f"{path}: unsupported file type {suffix or '(none)'}; give an image, "
                     "a folder of images, a video or a .jsonl landmark trace")


T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Produce items on a background thread so decoding overlaps the consumer's work.

    Exceptions raised by the producer are re-raised in the consumer, after the items that
    came before them. Closing the generator early stops the producer.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            buffer.put(exc)

    thread = threading.Thread(target=produce, name="frame-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=2.0)

"""Landmark traces (SPEC section 6): JSON Lines, a header then one line per frame.

Values are written as the shortest text that reads back to the same float32, so a replayed
trace feeds the analyzers bit-for-bit the numbers the live run saw.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, cast

import numpy as np

from posture.errors import UsageError
from posture.files import PendingFile
from posture.vision.pose import NUM_LANDMARKS, Pose

FORMAT = "posture-landmarks"
VERSION = 1
# Limits a trace must keep: timestamps fit a day-long recording many times over and stay
# exact in a float; a line this long is no trace line (33 rows of 5 numbers need ~3 KB).
MAX_T_MS = 2**53
MAX_LINE = 64 * 1024
MAX_SIZE_PX = 100_000


@dataclass(frozen=True)
class TraceHeader:
    source: str
    fps: float
    width: int
    height: int

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, "source": self.source,
                           "fps": self.fps, "width": self.width, "height": self.height})


def open_text(path: str | Path, mode: str) -> TextIO:
    """Open a trace for reading ("r") or writing ("w"); .gz files are gzip-compressed."""
    path = Path(path)
    if path.name.lower().endswith(".gz"):
        return cast(TextIO, gzip.open(path, mode + "t", encoding="utf-8"))
    return cast(TextIO, open(path, mode, encoding="utf-8"))  # noqa: SIM115


def _rows(array: np.ndarray) -> str:
    return "[" + ",".join("[" + ",".join(str(v) for v in row) + "]" for row in array) + "]"


def pose_to_line(pose: Pose) -> str:
    if not pose.person:
        return f'{{"t_ms": {pose.timestamp_ms}, "landmarks": null, "world": null}}'
    image = np.column_stack([pose.landmarks, pose.visibility, pose.presence]).astype(np.float32)
    return (f'{{"t_ms": {pose.timestamp_ms}, "landmarks": {_rows(image)}, '
            f'"world": {_rows(pose.world.astype(np.float32))}}}')


def _array(value: object, columns: int, what: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    if (array.shape != (NUM_LANDMARKS, columns) or not np.all(np.isfinite(array))
            or np.abs(array).max() > 1e6):
        raise ValueError(f"{what} must be {NUM_LANDMARKS} rows of {columns} finite numbers "
                         "(at most 1e6 in size)")
    return array.astype(np.float32)


def _loads(line: str) -> object:
    if len(line.rstrip("\r\n")) > MAX_LINE:
        raise ValueError(f"line longer than {MAX_LINE} characters")
    try:
        return json.loads(line)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def line_to_pose(line: str, image_size: tuple[int, int]) -> Pose:
    record = _loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    t_ms = record["t_ms"]
    if not isinstance(t_ms, int) or isinstance(t_ms, bool) or not 0 <= t_ms <= MAX_T_MS:
        raise ValueError(f"t_ms must be a whole number of milliseconds in [0, {MAX_T_MS}]")
    if record.get("landmarks") is None:
        return Pose.empty(t_ms, image_size)
    image = _array(record["landmarks"], 5, "landmarks")
    if not np.all((image[:, 3:] >= 0.0) & (image[:, 3:] <= 1.0)):
        raise ValueError("visibility and presence (columns 4 and 5) must be within [0, 1]")
    world = (np.zeros((NUM_LANDMARKS, 3), np.float32) if record.get("world") is None
             else _array(record["world"], 3, "world"))
    return Pose(t_ms, image_size, image[:, :3].copy(), world, image[:, 3].copy(),
                image[:, 4].copy())


def read_header(fh: TextIO, path: Path) -> TraceHeader:
    try:
        head = _loads(fh.readline(MAX_LINE + 1))
        if not isinstance(head, dict):
            raise ValueError("the first line is not a JSON object")
        if head.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        if head.get("version") != VERSION:
            raise ValueError(f"unsupported version {head.get('version')!r}")
        fps = float(head["fps"])
        width, height = head["width"], head["height"]
        if not 0 < fps <= 1000:
            raise ValueError(f"fps must be within (0, 1000], got {fps}")
        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or isinstance(value, bool) or not (
                    0 < value <= MAX_SIZE_PX):
                raise ValueError(f"{name} must be a whole number of pixels in "
                                 f"[1, {MAX_SIZE_PX}], got {value!r}")
        return TraceHeader(str(head.get("source", path.name)), fps, width, height)
    except (ValueError, KeyError, TypeError, AttributeError, OSError, EOFError,
            UnicodeDecodeError, zlib.error) as exc:
        raise UsageError(f"{path}: not a posture landmark trace ({exc})") from exc


def _lines(fh: TextIO, path: Path) -> Iterator[str]:
    """Each line, read at most MAX_LINE + 1 characters at a time: a line too long for a
    trace is refused after that much, never read whole (a gzip of a few megabytes can
    unpack to a single line of gigabytes)."""
    while True:
        try:
            line = fh.readline(MAX_LINE + 1)
        except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
            raise UsageError(f"{path}: the trace is damaged ({exc})") from exc
        if not line:
            return
        yield line


def read_poses(fh: TextIO, path: Path, header: TraceHeader) -> Iterator[Pose]:
    """Yield the poses after the header, checking that timestamps increase strictly."""
    last_t = -1
    for number, line in enumerate(_lines(fh, path), start=2):
        if len(line.rstrip("\r\n")) > MAX_LINE:
            raise UsageError(f"{path}:{number}: bad trace line (longer than {MAX_LINE} "
                             "characters)")
        if not line.strip():
            continue
        try:
            pose = line_to_pose(line, (header.width, header.height))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UsageError(f"{path}:{number}: bad trace line ({exc})") from exc
        if pose.timestamp_ms <= last_t:
            raise UsageError(f"{path}:{number}: t_ms {pose.timestamp_ms} does not increase")
        last_t = pose.timestamp_ms
        yield pose


class TraceWriter:
    """Writes a trace line by line to a temporary file that replaces `path` only when the
    trace is complete: a failed or interrupted write never leaves half a trace there."""

    def __init__(self, path: str | Path, header: TraceHeader) -> None:
        self.path = Path(path)
        self._pending = PendingFile(self.path)
        try:
            self._fh = open_text(self._pending.tmp, "w")
            self._fh.write(header.to_json() + "\n")
        except OSError as exc:
            self._pending.abort()
            raise UsageError(f"cannot write landmarks to {path}: {exc.strerror}") from exc

    def write(self, pose: Pose) -> None:
        try:
            self._fh.write(pose_to_line(pose) + "\n")
        except OSError as exc:
            self.abort()
            raise UsageError(f"cannot write landmarks to {self.path}: {exc.strerror}") from exc

    def close(self) -> None:
        """Finish the trace and put it in place."""
        try:
            self._fh.close()
        except OSError as exc:
            self._pending.abort()
            raise UsageError(f"cannot write landmarks to {self.path}: {exc.strerror}") from exc
        self._pending.commit()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()
        self._pending.abort()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

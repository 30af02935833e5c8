"""Landmark traces (SPEC section 6): JSON Lines, a header then one line per frame.

Values are written as the shortest text that reads back to the same float32, so a replayed
trace feeds the analyzers bit-for-bit the numbers the live run saw.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, cast

import numpy as np

from posture.errors import UsageError
from posture.vision.pose import NUM_LANDMARKS, Pose

FORMAT = "posture-landmarks"
VERSION = 1


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
    array = np.asarray(value, dtype=np.float32)
    if array.shape != (NUM_LANDMARKS, columns) or not np.all(np.isfinite(array)):
        raise ValueError(f"{what} must be {NUM_LANDMARKS} rows of {columns} finite numbers")
    return array


def line_to_pose(line: str, image_size: tuple[int, int]) -> Pose:
    record = json.loads(line)
    t_ms = record["t_ms"]
    if not isinstance(t_ms, int) or isinstance(t_ms, bool):
        raise ValueError("t_ms must be an integer")
    if record.get("landmarks") is None:
        return Pose.empty(t_ms, image_size)
    image = _array(record["landmarks"], 5, "landmarks")
    world = (np.zeros((NUM_LANDMARKS, 3), np.float32) if record.get("world") is None
             else _array(record["world"], 3, "world"))
    return Pose(t_ms, image_size, image[:, :3].copy(), world, image[:, 3].copy(),
                image[:, 4].copy())


def read_header(fh: TextIO, path: Path) -> TraceHeader:
    first = fh.readline()
    try:
        head = json.loads(first)
        if head.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        if head.get("version") != VERSION:
            raise ValueError(f"unsupported version {head.get('version')!r}")
        fps = float(head["fps"])
        width, height = int(head["width"]), int(head["height"])
        if not (fps > 0 and width > 0 and height > 0):
            raise ValueError("fps, width and height must be positive")
        return TraceHeader(str(head.get("source", path.name)), fps, width, height)
    except (ValueError, KeyError, TypeError, AttributeError, OSError, EOFError) as exc:
        raise UsageError(f"{path}: not a posture landmark trace ({exc})") from exc


def _lines(fh: TextIO, path: Path) -> Iterator[str]:
    try:
        yield from fh
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: the trace is damaged ({exc})") from exc


def read_poses(fh: TextIO, path: Path, header: TraceHeader) -> Iterator[Pose]:
    """Yield the poses after the header, checking that timestamps increase strictly."""
    last_t = -1
    for number, line in enumerate(_lines(fh, path), start=2):
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
    """Writes a trace line by line; a crash leaves every frame written so far readable."""

    def __init__(self, path: str | Path, header: TraceHeader) -> None:
        try:
            self._fh = open_text(path, "w")
        except OSError as exc:
            raise UsageError(f"cannot write landmarks to {path}: {exc.strerror}") from exc
        self._fh.write(header.to_json() + "\n")

    def write(self, pose: Pose) -> None:
        self._fh.write(pose_to_line(pose) + "\n")

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Landmark traces: exact float32 round trip and clear errors for malformed files."""

import io
from pathlib import Path

import numpy as np
import pytest

from posture.errors import UsageError
from posture.vision.pose import NUM_LANDMARKS, Pose
from posture.vision.trace import TraceHeader, line_to_pose, pose_to_line, read_header, read_poses


def random_pose(t_ms: int, seed: int = 0) -> Pose:
    rng = np.random.default_rng(seed)
    return Pose(t_ms, (640, 480), rng.random((NUM_LANDMARKS, 3), np.float32),
                rng.normal(size=(NUM_LANDMARKS, 3)).astype(np.float32),
                rng.random(NUM_LANDMARKS, np.float32), rng.random(NUM_LANDMARKS, np.float32))


def test_pose_round_trips_bit_exact():
    pose = random_pose(1234, seed=7)
    back = line_to_pose(pose_to_line(pose), (640, 480))
    assert back.timestamp_ms == 1234
    for name in ("landmarks", "world", "visibility", "presence"):
        assert np.array_equal(getattr(back, name), getattr(pose, name)), name
        assert getattr(back, name).dtype == np.float32


def test_empty_pose_round_trips_as_null():
    line = pose_to_line(Pose.empty(40, (640, 480)))
    assert '"landmarks": null' in line
    assert not line_to_pose(line, (640, 480)).person


def _trace(*lines: str) -> io.StringIO:
    header = TraceHeader("clip.mp4", 30.0, 640, 480).to_json()
    return io.StringIO("\n".join([header, *lines]) + "\n")


def test_reader_yields_poses_in_order():
    fh = _trace(pose_to_line(random_pose(0)), pose_to_line(Pose.empty(33, (640, 480))))
    header = read_header(fh, Path("t.jsonl"))
    assert (header.fps, header.width, header.height) == (30.0, 640, 480)
    poses = list(read_poses(fh, Path("t.jsonl"), header))
    assert [p.timestamp_ms for p in poses] == [0, 33]
    assert [p.person for p in poses] == [True, False]


@pytest.mark.parametrize("bad_line, message", [
    ('{"t_ms": 0, "landmarks": [[0, 0, 0, 1, 1]], "world": null}', "33 rows"),
    ('{"t_ms": "zero", "landmarks": null}', "whole number"),
    ("not json", "bad trace line"),
])
def test_reader_rejects_bad_lines_with_line_number(bad_line, message):
    fh = _trace(bad_line)
    header = read_header(fh, Path("t.jsonl"))
    with pytest.raises(UsageError, match=message) as info:
        list(read_poses(fh, Path("t.jsonl"), header))
    assert "t.jsonl:2" in str(info.value)


def test_reader_rejects_time_going_backwards():
    fh = _trace(pose_to_line(Pose.empty(66, (640, 480))), pose_to_line(Pose.empty(33, (640, 480))))
    header = read_header(fh, Path("t.jsonl"))
    with pytest.raises(UsageError, match="does not increase"):
        list(read_poses(fh, Path("t.jsonl"), header))


@pytest.mark.parametrize("first_line", [
    '{"format": "other", "version": 1}',
    '{"format": "posture-landmarks", "version": 9, "fps": 30, "width": 1, "height": 1}',
    '{"format": "posture-landmarks", "version": 1, "fps": 0, "width": 640, "height": 480}',
    "",
])
def test_header_errors_name_the_file(first_line):
    with pytest.raises(UsageError, match="not a posture landmark trace"):
        read_header(io.StringIO(first_line + "\n"), Path("t.jsonl"))

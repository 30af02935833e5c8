"""Frame sources: one interface, increasing timestamps, one-line errors for bad input."""

import shutil

import cv2
import numpy as np
import pytest

from posture.errors import UsageError
from posture.vision.sources import _index_timestamps_ms, open_source, prefetch


def test_video_frames_are_rgb_with_increasing_timestamps(data_dir):
    with open_source(data_dir / "exercise" / "squats_3.mp4") as source:
        assert source.kind == "video"
        frames = list(source)
    assert len(frames) == 149
    times = [f.timestamp_ms for f in frames]
    assert times[0] == 0 and all(b > a for a, b in zip(times, times[1:]))
    assert abs(times[-1] - 148 * 1000 / source.fps) <= 1
    # OpenCV decodes BGR; the source must hand out RGB.
    cap = cv2.VideoCapture(str(data_dir / "exercise" / "squats_3.mp4"))
    _, bgr = cap.read()
    cap.release()
    assert np.array_equal(frames[0].image, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def test_timestamps_never_repeat_at_high_fps():
    gen = _index_timestamps_ms(3000.0)
    times = [next(gen) for _ in range(100)]
    assert all(b > a for a, b in zip(times, times[1:]))


def test_folder_yields_images_in_name_order(data_dir):
    with open_source(data_dir / "front_webcam" / "upright") as source:
        assert source.kind == "images"
        frames = list(source)
    names = [f.name for f in frames]
    assert names == sorted(names) and len(names) == 15
    assert all(f.image.ndim == 3 and f.image.shape[2] == 3 for f in frames)


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: (d / "text.mp4").write_text("hello") and d / "text.mp4", "cannot decode"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "holds no images"),
    (lambda d: (d / "note.txt").write_text("x") and d / "note.txt", "unsupported file type"),
    (lambda d: (d / "bad.jpg").write_bytes(b"\xff\xd8garbage") and d / "bad.jpg",
     "cannot decode"),
    (lambda d: (d / "bad.jsonl").write_text("{}\n") and d / "bad.jsonl",
     "not a posture landmark trace"),
])
def test_bad_inputs_raise_usage_errors(tmp_path, make, message):
    with pytest.raises(UsageError, match=message):
        open_source(make(tmp_path))


def test_truncated_video_is_reported(tmp_path, data_dir):
    original = data_dir / "exercise" / "squats_3.mp4"
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(original.read_bytes()[: original.stat().st_size * 2 // 5])
    with open_source(truncated) as source, pytest.raises(UsageError, match="truncated"):
        for _ in source:
            pass


def test_complete_copy_is_not_called_truncated(tmp_path, data_dir):
    copy = tmp_path / "copy.mp4"
    shutil.copy(data_dir / "exercise" / "squats_2_plus_partial.mp4", copy)
    with open_source(copy) as source:
        assert len(list(source)) == 65


def test_prefetch_keeps_order_and_reraises():
    def items():
        yield from range(10)
        raise UsageError("boom")

    seen = []
    with pytest.raises(UsageError, match="boom"):
        for item in prefetch(items(), depth=2):
            seen.append(item)
    assert seen == list(range(10))

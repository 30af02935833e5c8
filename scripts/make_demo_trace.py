"""Build the demo's landmark trace from real photos, through the real pose model.

The front-webcam photos in ../shared/data (MIT-licensed, one person at a laptop) are turned
into a 200 s, 3 fps video: upright sitting, a long slouch, a short absence, sitting up again
and three chin tucks. Each frame is shifted by a pixel or so, so the model shows its natural
jitter. The video is traced with the full model and written, compressed, to
posture/data/demo.jsonl.gz, with the upright baseline to posture/data/demo_baseline.json.

    .venv/bin/python scripts/make_demo_trace.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from videos import retract_head, write_video  # noqa: E402

from posture.analysis.calibration import save_profile  # noqa: E402
from posture.cli.main import quiet_native_logs  # noqa: E402
from posture.live.offline import AnalyzeOptions, analyze_path, load_baseline  # noqa: E402
from posture.vision.estimator import PoseEstimator, RunningMode  # noqa: E402
from posture.vision.modelstore import ensure_model  # noqa: E402
from posture.vision.sources import read_image_rgb  # noqa: E402

PHOTOS = REPO / "tests" / "data" / "front_webcam"
FPS = 3
SIZE = 448


def photo(folder: str, index: int) -> np.ndarray:
    image = read_image_rgb(PHOTOS / folder / f"sample-1542640808958-{index}.jpg")
    return cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)


def shaken(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    dx, dy, angle = rng.normal(0, 0.8), rng.normal(0, 0.8), rng.normal(0, 0.3)
    m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), angle, 1.0)
    m[:, 2] += (dx, dy)
    out = cv2.warpAffine(image, m, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
    noise = rng.normal(0, 2.0, out.shape)
    return np.clip(out + noise, 0, 255).astype(np.uint8)


def frames(rng: np.random.Generator) -> list[np.ndarray]:
    upright, slouched, upright2 = photo("upright", 4), photo("slouching", 5), photo("upright", 10)
    with PoseEstimator(ensure_model(), RunningMode.IMAGE) as est:
        pose = est.detect(upright, 0)
    empty = np.full((SIZE, SIZE, 3), (200, 205, 210), np.uint8)
    out: list[np.ndarray] = []

    def hold(image: np.ndarray, seconds: float) -> None:
        out.extend(shaken(image, rng) for _ in range(int(seconds * FPS)))

    hold(upright, 45)
    hold(slouched, 80)
    hold(empty, 15)
    hold(upright2, 30)
    for _ in range(3):  # chin tucks: about 4 s back with a hold, 4 s rest
        hold(upright, 4)
        for level in (0.04, 0.08) + (0.09,) * 10 + (0.05,):
            out.append(shaken(retract_head(upright, pose, level), rng))
    hold(upright, 6)
    return out


def main() -> None:
    quiet_native_logs()
    rng = np.random.default_rng(2026)
    data = REPO / "posture" / "data"
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "demo.mp4"
        write_video(video, frames(rng), FPS)
        trace = data / "demo.jsonl.gz"
        analyze_path(video, AnalyzeOptions(landmarks_out=trace))
    first = Path(tempfile.mkdtemp()) / "upright"
    first.mkdir()
    for i in range(3):
        cv2.imwrite(str(first / f"{i}.png"), cv2.cvtColor(shaken(photo("upright", 4), rng),
                                                          cv2.COLOR_RGB2BGR))
    save_profile(load_baseline(first, AnalyzeOptions(show_progress=False)),
                 data / "demo_baseline.json")
    print(f"wrote {trace} ({trace.stat().st_size:,} bytes) and demo_baseline.json")


if __name__ == "__main__":
    main()

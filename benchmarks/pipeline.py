"""Throughput of `posture analyze` against bare PoseLandmarker.detect_for_video.

Both run in one process on the same decoded frames: the bare loop gets frames already
decoded in memory, the pipeline decodes the video itself (on its prefetch thread) and does
everything `posture analyze` does. Target: pipeline fps >= 0.9 x bare fps.

    python benchmarks/pipeline.py [VIDEO] [--size 640x480] [--loops 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

from posture.analyze import AnalyzeOptions, analyze_path
from posture.cli import quiet_native_logs
from posture.modelstore import ensure_model

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = REPO.parent / "shared" / "data" / "exercise" / "squats_3.mp4"


def make_clip(src: Path, dest: Path, size: tuple[int, int], loops: int) -> tuple[list, float]:
    """Write src resized to size, played `loops` times, and return its decoded RGB frames."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA))
    cap.release()
    if not frames:
        sys.exit(f"cannot decode {src}")
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for _ in range(loops):
        for bgr in frames:
            writer.write(bgr)
    writer.release()
    cap = cv2.VideoCapture(str(dest))
    decoded = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        decoded.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    return decoded, fps


def bare_fps(model: Path, frames: list, fps: float) -> float:
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model)),
        running_mode=vision.RunningMode.VIDEO, num_poses=2)
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        start = time.perf_counter()
        for i, rgb in enumerate(frames):
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            landmarker.detect_for_video(image, round(i * 1000 / fps))
        return len(frames) / (time.perf_counter() - start)


def pipeline_fps(video: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = analyze_path(video, AnalyzeOptions(show_progress=False))
    return result["frames"] / (time.perf_counter() - start), result["frames"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--size", default="640x480", help="WxH the clip is resized to")
    parser.add_argument("--loops", type=int, default=4, help="times the clip is repeated")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best kept")
    args = parser.parse_args()
    quiet_native_logs()
    width, height = (int(v) for v in args.size.lower().split("x"))
    model = ensure_model("full")
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        frames, fps = make_clip(args.video, clip, (width, height), args.loops)
        bare, pipe = [], []
        for _ in range(args.rounds):
            bare.append(bare_fps(model, frames, fps))
            rate, n = pipeline_fps(clip)
            pipe.append(rate)
    print(f"video: {args.video.name} at {width}x{height}, {len(frames)} frames, model full")
    print(f"bare detect_for_video: {max(bare):6.1f} fps  (rounds: "
          + ", ".join(f"{v:.1f}" for v in bare) + ")")
    print(f"posture analyze:       {max(pipe):6.1f} fps  (rounds: "
          + ", ".join(f"{v:.1f}" for v in pipe) + ")")
    print(f"ratio: {max(pipe) / max(bare):.3f}  (target >= 0.9)")


if __name__ == "__main__":
    main()

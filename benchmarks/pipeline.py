"""Whole-process throughput of `posture analyze` against a bare MediaPipe loop, same file.

The bare loop is what anyone would write: decode the file with OpenCV and call
PoseLandmarker.detect_for_video with MediaPipe's default options (one pose, tracking). Both
run as separate processes on the same clip, start-up included; the figures are frames per
wall-clock second and CPU seconds (user + system, all threads). Target: posture analyze
reaches at least 0.9x the bare loop's frames per second.

    python benchmarks/pipeline.py [VIDEO] [--size 640x480] [--loops 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from posture.vision.modelstore import ensure_model

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = REPO / "tests" / "data" / "exercise" / "squats_3.mp4"

BARE_LOOP = """
import sys, cv2, mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision
options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=sys.argv[1]),
                                       running_mode=vision.RunningMode.VIDEO)
cap = cv2.VideoCapture(sys.argv[2])
fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
n = 0
with vision.PoseLandmarker.create_from_options(options) as landmarker:
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        image = mp.Image(image_format=mp.ImageFormat.SRGB,
                         data=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        landmarker.detect_for_video(image, round(n * 1000 / fps))
        n += 1
print(n)
"""


def make_clip(src: Path, dest: Path, size: tuple[int, int] | None, loops: int) -> int:
    """Write src (resized to size, if given) played `loops` times; return its frame count."""
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr if size is None else cv2.resize(bgr, size,
                                                          interpolation=cv2.INTER_AREA))
    cap.release()
    if not frames:
        sys.exit(f"cannot decode {src}")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for _ in range(loops):
        for bgr in frames:
            writer.write(bgr)
    writer.release()
    return len(frames) * loops


def run_child(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the child's user + system, through wait4) and stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[:4])} failed with exit {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--size", default="640x480",
                        help="WxH the clip is resized to, or 'native' (default 640x480)")
    parser.add_argument("--loops", type=int, default=4, help="times the clip is repeated")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best kept")
    args = parser.parse_args()
    size = None if args.size == "native" else tuple(int(v) for v in args.size.split("x"))
    model = ensure_model("full")
    posture = [sys.executable, "-m", "posture", "analyze"]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        frames = make_clip(args.video, clip, size, args.loops)  # type: ignore[arg-type]
        bare, pipe = [], []
        for _ in range(args.rounds):
            wall, cpu, out = run_child([sys.executable, "-c", BARE_LOOP, str(model), str(clip)])
            bare.append((int(out) / wall, cpu))
            wall, cpu, out = run_child([*posture, str(clip), "--json", "--quiet"])
            pipe.append((json.loads(out)["frames"] / wall, cpu))
    best_bare, best_pipe = max(bare), max(pipe)
    shown = "native size" if size is None else f"{size[0]}x{size[1]}"
    print(f"video: {args.video.name} at {shown}, {frames} frames, model full, whole process")
    for name, runs, best in (("bare detect_for_video", bare, best_bare),
                             ("posture analyze", pipe, best_pipe)):
        print(f"{name + ':':23s}{best[0]:6.1f} fps, {best[1]:5.1f} s CPU  (rounds: "
              + ", ".join(f"{fps:.1f} fps/{cpu:.1f} s" for fps, cpu in runs) + ")")
    print(f"throughput ratio: {best_pipe[0] / best_bare[0]:.3f}  (target >= 0.9)")
    print(f"CPU ratio:        {best_pipe[1] / best_bare[1]:.3f}  (posture / bare)")


if __name__ == "__main__":
    main()

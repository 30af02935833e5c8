"""Slouch verdict accuracy on the front-webcam set (with a 3-image baseline) and on side views
made from the same people's real 3-D landmarks (no baseline). Prints confusion matrices.

    python benchmarks/slouch_accuracy.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from synthetic import profile_from_world  # noqa: E402

from posture.analysis.calibration import baseline_from_metrics  # noqa: E402
from posture.analysis.metrics import compute_metrics  # noqa: E402
from posture.cli.main import quiet_native_logs  # noqa: E402
from posture.config import Config  # noqa: E402
from posture.live.session import PostureSession  # noqa: E402
from posture.vision.estimator import PoseEstimator, RunningMode  # noqa: E402
from posture.vision.modelstore import ensure_model  # noqa: E402
from posture.vision.sources import read_image_rgb  # noqa: E402

DATA = REPO / "tests" / "data" / "front_webcam"
BASELINE = ("sample-1542640808958-0.jpg", "sample-1542640808958-1.jpg",
            "sample-1542640808958-2.jpg")
SIDE = [((0, 0), "good"), ((5, 0), "good"), ((-5, 0), "good"), ((0, -5), "good"),
        ((25, 0), "slouched"), ((0, 25), "slouched"), ((15, 15), "slouched")]


def report(title: str, table: Counter) -> None:
    labels = ("good", "slouched")
    print(f"\n{title}\n{'label / verdict':<18}" + "".join(f"{v:>10}" for v in
                                                         (*labels, "unknown")))
    recalls = []
    for label in labels:
        row = [table[(label, v)] for v in (*labels, "unknown")]
        recalls.append(table[(label, label)] / max(sum(row), 1))
        print(f"{label:<18}" + "".join(f"{n:>10}" for n in row))
    print(f"balanced accuracy: {sum(recalls) / len(recalls):.3f}")


def main() -> None:
    quiet_native_logs()
    poses = {}
    with PoseEstimator(ensure_model("full"), RunningMode.IMAGE) as est:
        for folder, label in (("upright", "good"), ("slouching", "slouched")):
            for path in sorted((DATA / folder).glob("*.jpg")):
                poses[(label, path.name)] = est.detect(read_image_rgb(path), 0)
    baseline = baseline_from_metrics(
        [compute_metrics(poses[("good", n)]) for n in BASELINE], "3 upright images")
    calibrated, plain = PostureSession(Config(), baseline=baseline), PostureSession(Config())
    front: Counter[tuple[str, str]] = Counter()
    for (label, name), pose in poses.items():
        if not (label == "good" and name in BASELINE):
            front[(label, calibrated.judge_still(pose)[1])] += 1
    report("front webcam, baseline = 3 upright images, judged: the other 26", front)
    side: Counter[tuple[str, str]] = Counter()
    for (label, _), pose in poses.items():
        if label != "good":
            continue
        for facing in (1.0, -1.0):
            for (neck, trunk), truth in SIDE:
                turned = profile_from_world(pose, facing, neck_flex_deg=neck,
                                            trunk_flex_deg=trunk)
                side[(truth, plain.judge_still(turned)[1])] += 1
    report("side views from real 3-D landmarks, no baseline", side)


if __name__ == "__main__":
    main()

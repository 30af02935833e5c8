"""How far each metric wanders at rest, on the labelled real clips, through the real model.

    python benchmarks/metric_noise.py

For every chin-tuck clip of `exercise_accuracy.py` (real photos of real people, side view,
and one front-webcam clip), the rest stretches are the times at least 0.5 s away from every
labelled movement (and after the model's first 1.5 s). Each metric goes through the rep
counter's 0.4 s running median; its spread is the peak to peak within each second, the
median over the clip's seconds. Printed per metric: the typical (median over clips) and the
worst clip, and the table `posture/analysis/learn.py` keeps as NOISE: what a demonstrated
movement is weighed against when an exercise is learned.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from exercise_accuracy import clips, trace_of  # noqa: E402

from posture.analysis.learn import NOISE  # noqa: E402
from posture.analysis.metrics import Metrics, compute_metrics  # noqa: E402
from posture.analysis.repcount import MEDIAN_MS  # noqa: E402
from posture.cli.main import quiet_native_logs  # noqa: E402
from posture.vision.modelstore import ensure_model  # noqa: E402
from posture.vision.trace import open_text, read_header, read_poses  # noqa: E402

MARGIN_S = 0.5  # away from a labelled movement
SKIP_S = 1.5  # the model's first frames of a person drift
MIN_REST_S = 1.2


def frames_of(trace: Path) -> list[Metrics]:
    with open_text(trace, "r") as fh:
        header = read_header(fh, trace)
        return [compute_metrics(p) for p in read_poses(fh, trace, header)]


def rest_stretches(windows: list[dict], end_s: float) -> list[tuple[float, float]]:
    busy = sorted((w["start_s"] - MARGIN_S, w["end_s"] + MARGIN_S) for w in windows)
    out, free_from = [], SKIP_S
    for a, b in busy:
        if a - free_from >= MIN_REST_S:
            out.append((free_from, a))
        free_from = max(free_from, b)
    if end_s - free_from >= MIN_REST_S:
        out.append((free_from, end_s))
    return out


def spreads(frames: list[Metrics], stretches: list[tuple[float, float]]) -> dict[str, float]:
    """Per metric, the median over this clip's seconds of rest of the peak-to-peak spread."""
    per: dict[str, list[float]] = {name: [] for name in NOISE}
    for a, b in stretches:
        seen = [m for m in frames if a <= m.timestamp_ms / 1000 < b]
        for name in NOISE:
            values = [m.get(name) for m in seen]
            if len(values) < 10 or any(v is None for v in values):
                continue
            times = [m.timestamp_ms / 1000 for m in seen]
            smooth = []
            for i, t in enumerate(times):
                recent = [v for s, v in zip(times[:i + 1], values[:i + 1], strict=True)
                          if t - s <= MEDIAN_MS / 1000]
                smooth.append(statistics.median(recent))  # type: ignore[type-var]
            start = times[0] + MEDIAN_MS / 1000
            while start + 1 <= times[-1]:
                second = [v for t, v in zip(times, smooth, strict=True) if start <= t < start + 1]
                if len(second) > 5:
                    per[name].append(max(second) - min(second))
                start += 0.5
    return {name: statistics.median(v) for name, v in per.items() if v}


def main() -> int:
    quiet_native_logs()
    model = ensure_model()
    found: dict[str, list[tuple[str, float]]] = {name: [] for name in NOISE}
    for clip in clips(None):
        if not clip.windows:
            continue
        frames = frames_of(trace_of(clip, model))
        stretches = rest_stretches(clip.windows, frames[-1].timestamp_ms / 1000)
        for name, spread in spreads(frames, stretches).items():
            found[name].append((clip.name, spread))
    print(f"{'metric':20s} {'clips':>5s} {'typical':>9s} {'worst':>9s}  worst clip")
    for name, seen in found.items():
        if not seen:
            print(f"{name:20s} {0:5d}   (no rest stretch with it)")
            continue
        worst = max(seen, key=lambda s: s[1])
        typical = statistics.median(s for _, s in seen)
        print(f"{name:20s} {len(seen):5d} {typical:9.4f} {worst[1]:9.4f}  {worst[0]}")
    print("\nNOISE = {")
    for name, seen in found.items():
        if seen:
            typical = statistics.median(s for _, s in seen)
            print(f'    "{name}": ({typical:.2g}, {max(s for _, s in seen):.2g}),')
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

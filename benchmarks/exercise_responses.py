"""How the model's landmarks actually respond on the labelled clips: the measurements behind
the built-in exercise thresholds and the camera-cut thresholds. Used by
exercise_accuracy.py --responses / --framing."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import numpy as np

from posture.analysis.events import Event, Sample
from posture.analysis.metrics import CUT_WITHIN_MS
from posture.config import Config
from posture.live.session import PostureSession
from posture.vision.sources import open_source

TUCK_METRICS = {"chin_tuck": ("head_forward", "head_tilt_deg", "ear_above_shoulder", "yaw_deg"),
                "chin_tuck_front": ("face_to_shoulders", "head_pitch", "yaw_deg")}
OTHER_METRICS = {"squat": ("knee_deg",), "glute_bridge": ("hip_deg", "knee_deg")}


class _Samples:
    def __init__(self) -> None:
        self.rows: list[Sample] = []

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, Sample):
            self.rows.append(event)


def samples(trace: Path) -> list[Sample]:
    keep = _Samples()
    session = PostureSession(Config(), sinks=[keep])
    with open_source(trace) as source:
        for frame in source:
            assert frame.pose is not None
            session.process(frame.pose)
    return keep.rows


def _series(rows: list[Sample], name: str, t0: float, t1: float) -> list[float]:
    return [v for r in rows if t0 <= r.t_ms / 1000 < t1
            and (v := r.raw.get(name)) is not None]


def print_responses(clip: Any, trace: Path) -> None:
    rows = samples(trace)
    if clip.windows:
        names = TUCK_METRICS[clip.exercise]
        print(f"{clip.name}: change from rest (median of the 1 s before) to the hold "
              "(median of the hold), per-frame values as the counter reads them")
        for w in clip.windows:
            rest = {n: _series(rows, n, w["start_s"] - 1.0, w["start_s"]) for n in names}
            hold = {n: _series(rows, n, w["hold_from_s"], w["hold_from_s"] + w["hold_s"])
                    for n in names}
            parts = []
            for n in names:
                if rest[n] and hold[n]:
                    change = statistics.median(hold[n]) - statistics.median(rest[n])
                    parts.append(f"{n} {change:+.3f}")
            print(f"  {w['kind']:8s} {w['start_s']:5.1f}s  " + "  ".join(parts))
        still = [statistics.pstdev(s) for t in np.arange(0, rows[-1].t_ms / 1000, 1.0)
                 if not any(w["start_s"] - 0.2 < t + 1 and t < w["end_s"] + 0.5
                            for w in clip.windows)
                 and len(s := _series(rows, names[0], t, t + 1)) > 5]
        if still:
            print(f"  {names[0]} at rest: sd within 1 s windows median "
                  f"{statistics.median(still):.4f}, max {max(still):.4f}")
        return
    for name in OTHER_METRICS.get(clip.exercise, ()):
        values = [v for r in rows if (v := r.raw.get(name)) is not None]
        if values:
            print(f"{clip.name}: {name} first 0.3 s median "
                  f"{statistics.median(values[:max(3, len(values) // 30)]):.1f}, "
                  f"min {min(values):.1f}, max {max(values):.1f}, "
                  f"5th-95th percentile {np.percentile(values, 5):.1f}-"
                  f"{np.percentile(values, 95):.1f}")


def print_framing(clip: Any, trace: Path) -> None:
    """The largest head-and-shoulders size ratio and centre shift (in sizes) within
    CUT_WITHIN_MS, over the clip, and where the largest ratio happened."""
    rows = [r for r in samples(trace) if r.raw.framing is not None]
    ratio, shift, at = 1.0, 0.0, 0.0
    start = 0
    for i, row in enumerate(rows):
        while row.t_ms - rows[start].t_ms > CUT_WITHIN_MS:
            start += 1
        b = row.raw.framing
        assert b is not None
        for before in rows[start:i]:
            a = before.raw.framing
            assert a is not None
            r = max(b.size / a.size, a.size / b.size)
            if r > ratio:
                ratio, at = r, row.t_ms / 1000
            shift = max(shift, float(np.hypot(b.x - a.x, b.y - a.y)) / max(a.size, b.size))
    print(f"{clip.name}: framing within {CUT_WITHIN_MS} ms: size x{ratio:.3f} (at {at:.1f} s), "
          f"centre {shift:.3f} sizes")


def _change(rows: list[Sample], name: str, window: dict[str, Any]) -> float | None:
    """From the posture just before the movement to the median of its hold."""
    before = _series(rows, name, window["start_s"] - 0.6, window["start_s"] + 0.1)
    hold = _series(rows, name, window["hold_from_s"], window["hold_from_s"] + window["hold_s"])
    if not before or not hold:
        return None
    return statistics.median(hold) - statistics.median(before)


def print_flex(clips: list[tuple[Any, Path]]) -> None:
    """Per photo: each tuck's change of head_forward (and as a share of the same photo's tuck
    with no chin-down) and of head_tilt_deg, by its chin-down in degrees; then the nod's."""
    import json

    print("change from just before each movement to its hold: head_forward (share of the "
          "photo's plain tuck), head_tilt_deg")
    for clip, trace in clips:
        rows = samples(trace)
        reps = json.loads(clip.spec.read_text())["reps"]
        plain = None
        cells = []
        for rep, window in zip(reps, clip.windows, strict=True):
            hf, tilt = _change(rows, "head_forward", window), _change(rows, "head_tilt_deg", window)
            if hf is None or tilt is None:
                continue
            if rep["kind"] == "nod":
                cells.append(f"nod {hf:+.3f} {tilt:+.1f}")
                continue
            plain = hf if plain is None and not rep.get("flex_deg") else plain
            share = f" ({hf / plain:.0%})" if plain else ""
            cells.append(f"{rep.get('flex_deg', 0):g}deg {hf:+.3f}{share} {tilt:+.1f}")
        print(f"{clip.name}:\n  " + "\n  ".join(cells))

"""How the model's landmarks actually respond on the labelled clips: the measurements behind
the built-in exercise thresholds and the camera-cut thresholds. Used by
exercise_accuracy.py --responses / --framing."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import numpy as np

from posture.analysis.events import Event, Sample
from posture.analysis.metrics import CUT_WITHIN_MS, View
from posture.analysis.repcount import MEDIAN_MS
from posture.config import Config
from posture.live.session import PostureSession
from posture.vision.pose import Landmark as L
from posture.vision.sources import open_source
from posture.vision.trace import open_text, read_header, read_poses

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
        tucks = clip.exercise == "chin_tuck"
        tracks = {n: [(r.t_ms / 1000, v) for r in rows if (v := r.raw.get(n)) is not None]
                  for n in names}
        if tucks:
            tracks |= _ear_and_shoulder(trace)
        print(f"{clip.name}: change from rest (median of the 1 s before) to the hold "
              "(median of the hold), per-frame values as the counter reads them")
        for w in clip.windows:
            parts = []
            for n, track in tracks.items():
                rest = _within(track, w["start_s"] - 1.0, w["start_s"])
                hold = _within(track, w["hold_from_s"], w["hold_from_s"] + w["hold_s"])
                if rest and hold:
                    change = statistics.median(hold) - statistics.median(rest)
                    parts.append(f"{n} {change:+.3f}")
            print(f"  {w['kind']:8s} {w['start_s']:5.1f}s  " + "  ".join(parts))
        if tucks:
            # The rests: from 0.5 s after a movement (1 s into the clip: the model's first
            # frames) to 0.2 s before the next.
            ends = [1.0] + [w["end_s"] + 0.5 for w in clip.windows]
            rests = [(a, w["start_s"] - 0.2) for a, w in zip(ends, clip.windows, strict=False)]
            # Only side-on, where the framing has held for a second before (not across
            # talk_through's front-view talk, turn, cut and zoom, nor the model's settling
            # after them): the ear and shoulder are read against the image.
            still_rests = [(a, b) for a, b in rests if _one_framing(rows, a - 1.0, b)]
            strays = {n: max((abs(_stray(tracks[n], a, b)) for a, b in still_rests),
                             default=0.0)
                      for n in ("head_forward", "ear", "shoulder")}
            print("  at rest, how far the 0.4 s median strays from the median of its rest, "
                  "largest: " + "  ".join(f"{n} {v:.3f}" for n, v in strays.items()))
        still = [statistics.pstdev(s) for t in np.arange(0, rows[-1].t_ms / 1000, 1.0)
                 if not any(w["start_s"] - 0.2 < t + 1 and t < w["end_s"] + 0.5
                            for w in clip.windows)
                 and len(s := _within(tracks[names[0]], t, t + 1)) > 5]
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


Track = list[tuple[float, float]]  # (s, value) per frame


def _within(track: Track, t0: float, t1: float) -> list[float]:
    return [v for t, v in track if t0 <= t < t1]


def _ear_and_shoulder(trace: Path) -> dict[str, Track]:
    """Where the ear and the shoulder (both sides' mean) sit across the image toward the
    face, per frame, in the clip's median head length (ear to nose). Their difference is
    head_forward; apart, they show which of the two a movement moved."""
    with open_text(trace, "r") as fh:
        header = read_header(fh, trace)
        poses = [p for p in read_poses(fh, trace, header) if p.person]
    found = []
    for pose in poses:
        px = pose.pixels
        ear = (px[L.LEFT_EAR] + px[L.RIGHT_EAR]) / 2
        shoulder = (px[L.LEFT_SHOULDER] + px[L.RIGHT_SHOULDER]) / 2
        forward = 1.0 if px[L.NOSE][0] >= ear[0] else -1.0
        found.append((pose.timestamp_ms / 1000, forward * ear[0], forward * shoulder[0],
                      float(np.hypot(*(ear - px[L.NOSE])))))
    head = statistics.median(f[3] for f in found) if found else 1.0
    return {"ear": [(t, e / head) for t, e, _, _ in found],
            "shoulder": [(t, s / head) for t, _, s, _ in found]}


def _one_framing(rows: list[Sample], t0: float, t1: float) -> bool:
    """Whether from t0 to t1 s the person stays side-on and the head-and-shoulders framing
    within 10% of one size."""
    within = [r.raw for r in rows if t0 <= r.t_ms / 1000 < t1]
    sizes = [m.framing.size for m in within if m.framing is not None]
    return (bool(sizes) and max(sizes) <= 1.1 * min(sizes)
            and all(m.view != View.FRONT for m in within))


def _stray(track: Track, t0: float, t1: float) -> float:
    """Between t0 and t1 s (a rest), the farthest the signal's running median (over
    MEDIAN_MS, as the counter reads it) gets from the median of the whole rest."""
    series = [(t, v) for t, v in track if t0 <= t < t1]
    if len(series) < 10:
        return 0.0
    rest = statistics.median(v for _, v in series)
    span = MEDIAN_MS / 1000
    medians = [statistics.median(v for tt, v in series if t - span < tt <= t)
               for t, _ in series]
    return max(medians, key=lambda m: abs(m - rest)) - rest


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

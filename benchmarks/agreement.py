"""Does skipping unchanged frames change what the monitor says? (background_cpu.py
--agreement)

Each scene and real clip is sampled as the camera loop samples it (at the session's own
rate: 1 Hz while good, 5 Hz while a slouch builds), through loop.Sampler, once with the
StillnessGate and once without, each with its own real pose model, on the same frames at the
same times. Every posture state change of the skipping monitor is matched with the nearest
change to the same state of the other; the target is every one within 1 s.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import scenes

from posture.analysis.events import Event, PostureChanged
from posture.config import Config
from posture.live.loop import Sampler
from posture.live.session import PostureSession
from posture.vision.estimator import open_estimator
from posture.vision.stillness import StillnessGate

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
WITHIN_MS = 1000


def real_clips() -> list[Path]:
    """The real clips: from ../shared/data when it is there, else tests/data."""
    names = ["chin_tuck/tucks_dev1.mp4", "chin_tuck/tucks_dev2.mp4", "exercise/squats_3.mp4",
             "exercise/bridging_1.mp4", "exercise/squats_2_plus_partial.mp4"]
    found = []
    for name in names:
        for root in (SHARED, REPO / "tests" / "data"):
            if (root / name).is_file():
                found.append(root / name)
                break
    return found


class Changes:
    def __init__(self) -> None:
        self.changes: list[tuple[int, str]] = []

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, PostureChanged):
            self.changes.append((event.t_ms, event.state))


def sample(buffers: list[bytes], fps: float, gate: bool, baseline, loops: int = 1
           ) -> tuple[list[tuple[int, str]], int, int]:
    """State changes, samples and model calls of a monitor sampling these frames."""
    changes = Changes()
    session = PostureSession(Config(), baseline=baseline, sinks=[changes], wall_start_ms=0)
    sampler = Sampler(StillnessGate() if gate else None)
    duration_ms = int(len(buffers) * loops * 1000 / fps)
    t_ms, samples, calls = 0, 0, 0
    with open_estimator("full", video=True) as estimator:
        while t_ms < duration_ms:
            frame = buffers[int(t_ms * fps / 1000) % len(buffers)]
            rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(frame, np.uint8), cv2.IMREAD_COLOR),
                               cv2.COLOR_BGR2RGB)
            before = sampler.last
            session.process(sampler.pose(estimator, rgb, t_ms, session.analyses_every_frame()))
            calls += sampler.last is not before
            samples += 1
            t_ms += max(1, round(session.interval_s() * 1000))
    return changes.changes, samples, calls


def compare(name: str, buffers: list[bytes], fps: float, baseline, loops: int = 1) -> bool:
    gated, samples, calls = sample(buffers, fps, True, baseline, loops)
    every, _, _ = sample(buffers, fps, False, baseline, loops)
    worst, ok = 0, len(gated) == len(every)
    for t, state in gated:
        near = [abs(t - u) for u, s in every if s == state]
        off = min(near) if near else None
        ok = ok and off is not None and off <= WITHIN_MS
        worst = max(worst, off if off is not None else 10**9)
    shown = ", ".join(f"{t / 1000:.1f} s {s}" for t, s in gated) or "none"
    print(f"{name:<28} {samples:>4} samples, {calls:>4} through the model "
          f"({100 * calls / max(samples, 1):.0f}%); changes {len(gated)} vs {len(every)} "
          f"without skipping; worst offset {worst / 1000:.2f} s {'ok' if ok else 'MISMATCH'}")
    print(f"{'':<28} {shown}")
    return ok


def main(baseline) -> None:
    results = []
    for name, make, loops in (("scene still", scenes.still, 8),
                              ("scene moving", scenes.moving, 2),
                              ("scene slouch", scenes.slouch, 1)):
        results.append(compare(name, make(), scenes.FPS, baseline, loops))
    for clip in real_clips():
        buffers, fps = scenes.video(clip)
        results.append(compare(clip.name, buffers, fps, None, 1))
    print(f"agreement: {sum(results)} of {len(results)} scenes and clips with every state "
          f"change within {WITHIN_MS / 1000:g} s")

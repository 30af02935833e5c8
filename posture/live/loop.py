"""Driving a PostureSession from a camera or a file until stopped (`posture run`, `demo`).

One loop thread owns the session and the pose estimator; the camera grabber, the SQLite
writer and the web server are the only other threads.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from posture.config import Config
from posture.live.session import PostureSession
from posture.vision.camera import SupervisedCamera, device_of
from posture.vision.pose import Pose
from posture.vision.sources import open_source, prefetch
from posture.vision.stillness import StillnessGate

EstimatorFactory = Callable[[], contextlib.AbstractContextManager[Any]]


def run_file(path: str | Path, session: PostureSession, open_estimator: EstimatorFactory,
             stop: threading.Event, speed: float = 1.0) -> int:
    """Feed every frame of a video or trace through the session; return frames analysed.

    Every frame, as `posture analyze` does, so a file gives the same states, alerts and reps
    on both paths. speed 1 plays in real time (what a dashboard viewer expects), 0 as fast as
    possible.
    """
    samples = 0
    with open_source(path) as source, contextlib.ExitStack() as stack:
        session.camera_changed("streaming", f"{source.kind} file {Path(path).name}", 0)
        estimator = None if source.kind == "trace" else stack.enter_context(open_estimator())
        start = time.monotonic()
        for frame in (source if source.kind == "trace" else prefetch(source)):
            if stop.is_set():
                break
            while session.paused and not stop.is_set():
                paused_at = time.monotonic()
                stop.wait(0.2)
                session.apply_requests()
                start += time.monotonic() - paused_at  # the recording waits too
            if speed > 0:
                delay = start + frame.timestamp_ms / 1000 / speed - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    break
            if frame.pose is not None:
                pose = frame.pose
            elif estimator is not None and frame.image is not None:
                pose = estimator.detect(frame.image, frame.timestamp_ms)
            else:
                continue
            session.offer_frame(frame.image)
            session.process(pose)
            samples += 1
    return samples


class Sampler:
    """The pose of each camera sample: from the model, or, when the picture has not changed
    since the last frame the model saw (StillnessGate), that frame's pose again at the new
    time. Every frame is analysed during an exercise or a calibration, and with the gate
    off. The benchmark drives this same object."""

    def __init__(self, gate: StillnessGate | None) -> None:
        self.gate = gate
        self.last: Pose | None = None  # the pose of the gate's reference frame

    def pose(self, estimator: Any, rgb: np.ndarray, t_ms: int, every_frame: bool) -> Pose:
        if self.gate is None or every_frame:
            # No thumbnails at 30 Hz during an exercise: the gate starts afresh after it.
            self.forget()
        elif not self.gate.should_analyse(rgb, t_ms) and self.last is not None:
            return replace(self.last, timestamp_ms=t_ms)
        self.last = estimator.detect(rgb, t_ms)
        if self.gate is not None and not every_frame:
            self.gate.analysed(t_ms)
        return self.last

    def forget(self) -> None:
        """After the camera was closed: analyse the next frame whatever it looks like."""
        if self.gate is not None:
            self.gate.reset()


def run_camera(config: Config, session: PostureSession, open_estimator: EstimatorFactory,
               stop: threading.Event, camera: SupervisedCamera | None = None) -> int:
    """Sample the camera until stop is set; release it while nobody is there."""
    changes: queue.SimpleQueue = queue.SimpleQueue()
    cam = camera or SupervisedCamera(device_of(config.camera.device), config.camera)
    cam.on_state = lambda state, detail: changes.put((state, detail))
    cam.start()
    samples, last_t, away_since, next_probe = 0, -1, None, 0.0
    release_s = config.camera.release_when_away_s
    sampler = Sampler(StillnessGate() if config.monitor.skip_still else None)
    with open_estimator() as estimator:
        try:
            while not stop.is_set():
                tick = time.monotonic()
                session.apply_requests()
                if session.paused or session.screen_locked:  # the camera is closed
                    if not cam.paused:
                        cam.pause("screen locked" if session.screen_locked else "paused")
                        sampler.forget()  # the first frame after it goes through the model
                    _drain(changes, session, cam)
                    stop.wait(0.2)
                    continue
                cam.check()
                _drain(changes, session, cam)
                if cam.paused:
                    if tick < next_probe:
                        stop.wait(min(1.0, next_probe - tick))
                        continue
                    cam.resume()  # look again: is someone back?
                frame = cam.read_fresh(timeout_s=config.camera.read_timeout_s)
                if frame is None:
                    stop.wait(0.2)
                    continue
                t = max(frame.t_ms, last_t + 1)
                last_t = t
                pose = sampler.pose(estimator, frame.rgb, t, session.analyses_every_frame())
                session.offer_frame(frame.rgb)
                session.process(pose)
                samples += 1
                if pose.person:
                    away_since = None
                else:
                    away_since = tick if away_since is None else away_since
                    if release_s and tick - away_since >= release_s:
                        cam.pause("nobody there")
                        sampler.forget()
                        next_probe = tick + config.camera.away_probe_s
                stop.wait(max(0.0, session.interval_s() - (time.monotonic() - tick)))
        finally:
            cam.stop()
    return samples


def _drain(changes: queue.SimpleQueue, session: PostureSession, cam: SupervisedCamera) -> None:
    while not changes.empty():
        state, detail = changes.get()
        session.camera_changed(state, detail, cam.now_ms())

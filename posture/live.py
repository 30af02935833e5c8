"""`posture run` and `posture demo`: drive the Monitor from a camera or a file until stopped.

One loop thread owns the monitor and the pose estimator; the camera grabber, the SQLite
writer and the web server are the only other threads.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from posture.camera import SupervisedCamera, device_of
from posture.config import Config
from posture.monitor import Monitor
from posture.pose import Pose
from posture.sources import FrameSource, open_source

EstimatorFactory = Callable[[], contextlib.AbstractContextManager]


def run_file(path: str | Path, monitor: Monitor, open_estimator: EstimatorFactory,
             stop: threading.Event, speed: float = 1.0) -> int:
    """Feed a video or trace through the monitor at its sampling rate; return samples run.

    speed 1 plays in real time (what a dashboard viewer expects), 0 as fast as possible.
    """
    samples = 0
    with open_source(path) as source, contextlib.ExitStack() as stack:
        monitor.camera_changed("streaming", f"{source.kind} file {Path(path).name}", 0)
        estimator = None if source.kind == "trace" else stack.enter_context(open_estimator())
        next_due, start = 0, time.monotonic()
        for frame in _frames(source):
            if stop.is_set():
                break
            if frame.timestamp_ms < next_due:
                continue
            while monitor.paused and not stop.is_set():
                paused_at = time.monotonic()
                stop.wait(0.2)
                monitor.apply_requests()
                start += time.monotonic() - paused_at  # the recording waits too
            if speed > 0:
                delay = start + frame.timestamp_ms / 1000 / speed - time.monotonic()
                if delay > 0 and stop.wait(delay):
                    break
            pose = frame.pose if frame.pose is not None else estimator.detect(
                frame.image, frame.timestamp_ms)
            monitor.offer_frame(frame.image)
            monitor.process(pose)
            samples += 1
            next_due = frame.timestamp_ms + int(monitor.interval_s() * 1000)
    return samples


def _frames(source: FrameSource):  # noqa: ANN202
    yield from source


def run_camera(config: Config, monitor: Monitor, open_estimator: EstimatorFactory,
               stop: threading.Event, camera: SupervisedCamera | None = None) -> int:
    """Sample the camera until stop is set; release it while nobody is there."""
    changes: queue.SimpleQueue = queue.SimpleQueue()
    cam = camera or SupervisedCamera(device_of(config.camera.device), config.camera)
    cam.on_state = lambda state, detail: changes.put((state, detail))
    cam.start()
    samples, last_t, away_since, next_probe = 0, -1, None, 0.0
    release_s = config.camera.release_when_away_s
    with open_estimator() as estimator:
        try:
            while not stop.is_set():
                tick = time.monotonic()
                monitor.apply_requests()
                if monitor.paused:
                    if not cam.paused:
                        cam.pause()
                    _drain(changes, monitor, cam)
                    stop.wait(0.2)
                    continue
                cam.check()
                _drain(changes, monitor, cam)
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
                pose: Pose = estimator.detect(frame.rgb, t)
                monitor.offer_frame(frame.rgb)
                monitor.process(pose)
                samples += 1
                if pose.person:
                    away_since = None
                else:
                    away_since = tick if away_since is None else away_since
                    if release_s and tick - away_since >= release_s:
                        cam.pause()
                        next_probe = tick + config.camera.away_probe_s
                stop.wait(max(0.0, monitor.interval_s() - (time.monotonic() - tick)))
        finally:
            cam.stop()
    return samples


def _drain(changes: queue.SimpleQueue, monitor: Monitor, cam: SupervisedCamera) -> None:
    while not changes.empty():
        state, detail = changes.get()
        monitor.camera_changed(state, detail, cam.now_ms())

"""CPU cost of background monitoring: the whole `posture run` loop at its default 1 Hz.

With a real webcam (--camera 0) it measures exactly that. Without one it stands in a camera
that behaves like a 640x480 MJPEG webcam at 30 fps: grab() waits for the next frame and
hands over the compressed buffer (as V4L2 dequeues it), retrieve() decodes the JPEG. The
frames are a real person sitting (a front-webcam photo, shifted slightly each frame).
CPU time is the process's own (all threads: grabber, model, analysis, SQLite writer).

    python benchmarks/background_cpu.py [--seconds 60] [--camera ID]
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from posture.cli.main import quiet_native_logs
from posture.config import Config
from posture.history.store import Store
from posture.live.loop import run_camera
from posture.live.offline import AnalyzeOptions, open_estimator
from posture.live.session import Monitor
from posture.vision.camera import SupervisedCamera, device_of
from posture.vision.sources import read_image_rgb

REPO = Path(__file__).resolve().parent.parent
PHOTO = REPO.parent / "shared" / "data" / "front_webcam" / "upright" / "sample-1542640808958-4.jpg"


class MjpegCamera:
    """A paced 30 fps camera whose frames are JPEG buffers, decoded only on retrieve()."""

    def __init__(self, fps: float = 30.0) -> None:
        rgb = cv2.resize(read_image_rgb(PHOTO), (640, 480), interpolation=cv2.INTER_CUBIC)
        rng = np.random.default_rng(0)
        self.buffers = []
        for _ in range(30):
            m = np.float32([[1, 0, rng.normal(0, 1)], [0, 1, rng.normal(0, 1)]])
            shifted = cv2.warpAffine(rgb, m, (640, 480), borderMode=cv2.BORDER_REFLECT)
            ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(shifted, cv2.COLOR_RGB2BGR))
            self.buffers.append(jpg.tobytes())
        self.period = 1.0 / fps
        self.next_at = time.monotonic()
        self.index = 0
        self.current = b""

    def isOpened(self) -> bool:  # noqa: N802
        return True

    def grab(self) -> bool:
        self.next_at += self.period
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.index = (self.index + 1) % len(self.buffers)
        self.current = bytes(self.buffers[self.index])  # the driver's copy out of its queue
        return True

    def retrieve(self):
        return True, cv2.imdecode(np.frombuffer(self.current, np.uint8), cv2.IMREAD_COLOR)

    def release(self) -> None:
        pass


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--camera", help="measure a real camera instead of the stand-in")
    args = parser.parse_args()
    quiet_native_logs()
    config = Config()
    options = AnalyzeOptions(variant=config.monitor.model, show_progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "h.sqlite3")
        monitor = Monitor(config, store=store)
        opener = (lambda *a: MjpegCamera()) if args.camera is None else None
        camera = SupervisedCamera(device_of(args.camera or "0"), config.camera,
                                  **({"opener": opener} if opener else {}))
        stop = threading.Event()
        with contextlib.ExitStack():
            open_estimator(options, video=True).close()  # load once so the model is cached
            timer = threading.Timer(args.seconds, stop.set)
            timer.start()
            cpu0, wall0 = cpu_seconds(), time.monotonic()
            samples = run_camera(replace(config), monitor,
                                 lambda: open_estimator(options, video=True), stop, camera)
            cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
        monitor.close()
        store.close()
    print(f"camera: {'stand-in 640x480 MJPEG at 30 fps' if args.camera is None else args.camera}"
          f", model {config.monitor.model}, sampling {config.monitor.sample_hz:g} Hz")
    print(f"ran {wall:.1f} s, {samples} samples analysed, final state {monitor.status()['state']}")
    print(f"CPU: {cpu:.2f} s = {100 * cpu / wall:.2f}% of one core (target <= 5%)")


if __name__ == "__main__":
    main()

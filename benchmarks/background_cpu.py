"""CPU cost of background monitoring: the whole `posture run` loop at its default 1 Hz,
and its CPU per sample against a bare model call on the same frames.

With a real webcam (--camera 0) it measures exactly that. Without one it stands in a camera
that behaves like a 640x480 MJPEG webcam at 30 fps: grab() waits for the next frame and
hands over the compressed buffer (as V4L2 dequeues it), retrieve() decodes the JPEG. The
frames are a real person sitting (a front-webcam photo, shifted slightly each frame).
CPU time is the process's own (all threads: grabber, model, analysis, SQLite writer). The
bare figure is PoseLandmarker.detect_for_video with MediaPipe's default options on the same
frames (decoded beforehand), paced like the monitor: one call a second, idle in between (a
call after an idle second costs more than one in a tight loop: cold caches). Targets: at
most 2.5% of one core, and at most 1.3x the bare call per sample.

    python benchmarks/background_cpu.py [--seconds 60] [--camera ID]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from posture.analysis.events import Event, Sample
from posture.cli.main import quiet_native_logs
from posture.config import Config
from posture.history.sink import StoreSink
from posture.history.store import Store
from posture.live.loop import run_camera
from posture.live.session import PostureSession
from posture.vision.camera import SupervisedCamera, device_of
from posture.vision.estimator import open_estimator
from posture.vision.modelstore import ensure_model
from posture.vision.sources import read_image_rgb

REPO = Path(__file__).resolve().parent.parent
PHOTO = REPO / "tests" / "data" / "front_webcam" / "upright" / "sample-1542640808958-4.jpg"


class MjpegCamera:
    """A 30 fps camera whose frames are JPEG buffers, decoded only on retrieve(). Like a V4L2
    driver it keeps streaming whether or not it is read, holding up to QUEUE frames: grab()
    hands over the oldest queued frame at once, or waits for the next one."""

    QUEUE = 2

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
        self.start = time.monotonic()
        self.taken = 0  # frames dequeued so far
        self.index = 0
        self.current = b""

    def isOpened(self) -> bool:  # noqa: N802
        return True

    def grab(self) -> bool:
        arrived = int((time.monotonic() - self.start) / self.period)
        self.taken = max(self.taken, arrived - self.QUEUE)  # the driver dropped the rest
        if self.taken >= arrived:  # nothing queued: wait for the sensor
            time.sleep(max(0.0, self.start + (arrived + 1) * self.period - time.monotonic()))
        self.taken += 1
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


def bare_cpu_per_call(frames: list[bytes], calls: int, interval_s: float) -> float:
    """CPU seconds of one default detect_for_video call on these (JPEG) frames, made every
    interval_s."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(ensure_model("full"))),
        running_mode=vision.RunningMode.VIDEO)
    decoded = [cv2.cvtColor(cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR),
                            cv2.COLOR_BGR2RGB) for b in frames]
    with vision.PoseLandmarker.create_from_options(options) as landmarker:
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB,
                                             data=decoded[0]), 0)
        spent = 0.0
        for i in range(1, calls + 1):
            time.sleep(interval_s)
            start = cpu_seconds()
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=decoded[i % len(decoded)])
            landmarker.detect_for_video(image, round(i * interval_s * 1000))
            spent += cpu_seconds() - start
        return spent / calls


class FirstSample:
    """Sink noting the process CPU time and the time when the first sample is analysed, so the
    steady state (model loaded, camera streaming) can be told from start-up."""

    def __init__(self) -> None:
        self.at: tuple[float, float] | None = None
        self.samples = 0

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, Sample):
            self.samples += 1
            if self.at is None:
                self.at = (cpu_seconds(), time.monotonic())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--camera", help="measure a real camera instead of the stand-in")
    args = parser.parse_args()
    quiet_native_logs()
    config = Config()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "h.sqlite3")
        first = FirstSample()
        session = PostureSession(config, sinks=[StoreSink(store), first])
        stand_in = MjpegCamera() if args.camera is None else None
        opener = (lambda *a: stand_in) if stand_in is not None else None
        camera = SupervisedCamera(device_of(args.camera or "0"), config.camera,
                                  **({"opener": opener} if opener else {}))
        stop = threading.Event()
        open_estimator(config.monitor.model, video=True).close()  # cache the model file
        timer = threading.Timer(args.seconds, stop.set)
        timer.start()
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        samples = run_camera(config, session,
                             lambda: open_estimator(config.monitor.model, video=True), stop,
                             camera)
        cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
        session.close()
        store.close()
    print(f"camera: {'stand-in 640x480 MJPEG at 30 fps' if args.camera is None else args.camera}"
          f", model {config.monitor.model}, sampling {config.monitor.sample_hz:g} Hz")
    print(f"ran {wall:.1f} s, {samples} samples analysed, final state {session.status()['state']}")
    print(f"CPU, whole run: {cpu:.2f} s = {100 * cpu / wall:.2f}% of one core")
    if first.at is None or first.samples < 2:
        return
    steady_cpu = cpu0 + cpu - first.at[0]
    steady_wall = wall0 + wall - first.at[1]
    print(f"CPU, steady state (after the first sample: model loaded, camera streaming): "
          f"{steady_cpu:.2f} s over {steady_wall:.1f} s = {100 * steady_cpu / steady_wall:.2f}% "
          "of one core (target <= 2.5%)")
    if stand_in is not None:
        bare = bare_cpu_per_call(stand_in.buffers, 30, 1.0 / config.monitor.sample_hz)
        per_sample = steady_cpu / (first.samples - 1)
        print(f"CPU per sample: {1000 * per_sample:.1f} ms; bare detect_for_video on the same "
              f"frames: {1000 * bare:.1f} ms; ratio {per_sample / bare:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()

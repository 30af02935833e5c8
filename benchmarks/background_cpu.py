"""CPU cost of background monitoring: the whole `posture run` loop at its default 1 Hz,
and its CPU per sample against a bare model call on the same frames.

With a real webcam (--camera 0) it measures exactly that. Without one it stands in a camera
that behaves like a 640x480 MJPEG webcam at 30 fps: grab() waits for the next frame and
hands over the compressed buffer (as V4L2 dequeues it), retrieve() decodes the JPEG. The
frames are a real person sitting (front-webcam photos; benchmarks/scenes.py):
  --scene shifting  (default) the photo shifted by about a pixel every frame;
  --scene still     sitting still: sensor noise, breathing sway (what most of a day is);
  --scene moving    still, typing, turning, leaving and coming back;
  --scene slouch    sitting up, slumped for 30 s, up again;
  --clip VIDEO      a real clip played as the camera.
CPU time is the process's own (all threads: grabber, model, analysis, SQLite writer). The
bare figure is PoseLandmarker.detect_for_video with MediaPipe's default options on the same
frames (decoded beforehand), paced like the monitor: one call a second, idle in between (a
call after an idle second costs more than one in a tight loop: cold caches). Targets: at
most 2.5% of one core, at most 1.3x the bare call per sample; sitting still at most 1.0%.
--no-skip analyses every sample (monitor.skip_still off), for comparison.

--agreement  runs the camera loop's own sampling (loop.Sampler) over every scene and real
             clip twice, with and without skipping unchanged frames, through the real model
             on the same frames at the times the monitor would sample them, and prints each
             posture state change of the skipping monitor with the nearest one of the other
             (target: every one within 1 s).
--noise      prints the per-pixel temporal noise of the real clips' static background.
--responses  prints what the gate's statistic reads for noise, small sways and real posture
             changes on the real photos (what its thresholds were set from).

    python benchmarks/background_cpu.py [--seconds 60] [--scene S | --clip V | --camera ID]
                                        [--no-skip] [--agreement] [--noise] [--responses]
"""

from __future__ import annotations

import argparse
import resource
import sys
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import agreement  # noqa: E402
import scenes  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PHOTO = REPO / "tests" / "data" / "front_webcam" / "upright" / "sample-1542640808958-4.jpg"


def shifting() -> list[bytes]:
    """The photo shifted by about a pixel every frame (the original stand-in scene)."""
    rgb = cv2.resize(read_image_rgb(PHOTO), (640, 480), interpolation=cv2.INTER_CUBIC)
    rng = np.random.default_rng(0)
    buffers = []
    for _ in range(30):
        m = np.float32([[1, 0, rng.normal(0, 1)], [0, 1, rng.normal(0, 1)]])
        shifted = cv2.warpAffine(rgb, m, (640, 480), borderMode=cv2.BORDER_REFLECT)
        ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(shifted, cv2.COLOR_RGB2BGR))
        buffers.append(jpg.tobytes())
    return buffers


class MjpegCamera:
    """A camera whose frames are JPEG buffers (played in a loop at `fps`), decoded only on
    retrieve(). Like a V4L2 driver it keeps streaming whether or not it is read, holding up
    to QUEUE frames: grab() hands over the oldest queued frame at once, or waits for the next
    one."""

    QUEUE = 2

    def __init__(self, buffers: list[bytes], fps: float = 30.0) -> None:
        self.buffers = buffers
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
        self.index = self.taken % len(self.buffers)  # the frame the sensor gave at that time
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


SCENES = {"shifting": shifting, "still": scenes.still, "moving": scenes.moving,
          "slouch": scenes.slouch}


def measure_cpu(args: argparse.Namespace) -> None:
    config = Config().with_changes({"monitor": {"skip_still": not args.no_skip}})
    if args.clip:
        buffers, fps = scenes.video(Path(args.clip))
        what = f"clip {args.clip} as a {fps:g} fps camera"
    else:
        buffers, fps = SCENES[args.scene](), scenes.FPS
        what = f"stand-in 640x480 MJPEG at 30 fps, scene {args.scene}"
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "h.sqlite3")
        first = FirstSample()
        session = PostureSession(config, baseline=front_baseline(), sinks=[StoreSink(store),
                                                                           first])
        stand_in = MjpegCamera(buffers, fps) if args.camera is None else None
        opener = (lambda *a: stand_in) if stand_in is not None else None
        camera = SupervisedCamera(device_of(args.camera or "0"), config.camera,
                                  **({"opener": opener} if opener else {}))
        stop = threading.Event()
        open_estimator(config.monitor.model, video=True).close()  # cache the model file
        estimators: list = []

        def counting_estimator():  # noqa: ANN202
            est = open_estimator(config.monitor.model, video=True)
            estimators.append(CountingDetect(est))
            return estimators[-1]

        timer = threading.Timer(args.seconds, stop.set)
        timer.start()
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        samples = run_camera(config, session, counting_estimator, stop, camera)
        cpu, wall = cpu_seconds() - cpu0, time.monotonic() - wall0
        session.close()
        store.close()
    detected = sum(e.calls for e in estimators)
    print(f"camera: {what if args.camera is None else args.camera}, model "
          f"{config.monitor.model}, sampling {config.monitor.sample_hz:g} Hz, skip unchanged "
          f"frames {'off' if args.no_skip else 'on'}")
    print(f"ran {wall:.1f} s, {samples} samples, {detected} through the model, final state "
          f"{session.status()['state']}")
    print(f"CPU, whole run: {cpu:.2f} s = {100 * cpu / wall:.2f}% of one core")
    if first.at is None or first.samples < 2:
        return
    steady_cpu = cpu0 + cpu - first.at[0]
    steady_wall = wall0 + wall - first.at[1]
    print(f"CPU, steady state (after the first sample: model loaded, camera streaming): "
          f"{steady_cpu:.2f} s over {steady_wall:.1f} s = {100 * steady_cpu / steady_wall:.2f}% "
          "of one core (target <= 2.5%; sitting still <= 1.0%)")
    if stand_in is not None and args.no_skip:
        bare = bare_cpu_per_call(stand_in.buffers[:30], 30, 1.0 / config.monitor.sample_hz)
        per_sample = steady_cpu / (first.samples - 1)
        print(f"CPU per sample: {1000 * per_sample:.1f} ms; bare detect_for_video on the same "
              f"frames: {1000 * bare:.1f} ms; ratio {per_sample / bare:.2f} (target <= 1.3)")


class CountingDetect:
    """An estimator context that counts model calls."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.calls = 0

    def __enter__(self) -> CountingDetect:
        self.est = self.inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)

    def detect(self, rgb, t_ms):  # noqa: ANN001, ANN201
        self.calls += 1
        return self.est.detect(rgb, t_ms)


def front_baseline():  # noqa: ANN201
    """The demo's front-view baseline of the same man, so front scenes are judged."""
    from posture.analysis.calibration import load_profile

    return load_profile(REPO / "posture" / "data" / "demo_baseline.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--camera", help="measure a real camera instead of the stand-in")
    where.add_argument("--scene", choices=sorted(SCENES), default="shifting")
    where.add_argument("--clip", help="a real video played as the camera")
    parser.add_argument("--no-skip", action="store_true",
                        help="analyse every sample (monitor.skip_still off)")
    parser.add_argument("--agreement", action="store_true")
    parser.add_argument("--noise", action="store_true")
    parser.add_argument("--responses", action="store_true")
    args = parser.parse_args()
    quiet_native_logs()
    if args.noise:
        for clip in agreement.real_clips():
            print(f"{clip.name}: {scenes.temporal_noise(clip):.2f} grey levels per pixel")
        return
    if args.responses:
        scenes.responses()
        return
    if args.agreement:
        agreement.main(front_baseline())
        return
    measure_cpu(args)


if __name__ == "__main__":
    main()

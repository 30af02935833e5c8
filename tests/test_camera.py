"""Camera supervision with a fake camera: it fails to open, stalls, hangs, sends garbage and
comes back; the monitor never crashes, reports each state, and resumes within 5 s."""

import contextlib
import threading
import time

import pytest
from fakecam import FakeWorld
from synthetic import side_pose

from posture.config import CameraConfig, Config
from posture.live.loop import run_camera
from posture.live.session import PostureSession
from posture.vision.camera import SupervisedCamera, valid_frame, why_unavailable

pytestmark = pytest.mark.slow

FAST = CameraConfig(read_timeout_s=0.5, open_timeout_s=0.5, max_backoff_s=2.0,
                    release_when_away_s=0)


class FakeEstimator:
    """Stands in for the pose model: a seated person in every frame."""

    def __init__(self):
        self.calls = 0

    def detect(self, rgb, t_ms):
        self.calls += 1
        return side_pose(12, 3, 95, t_ms=t_ms)


@contextlib.contextmanager
def running(world, config=FAST):
    # Every sample through the (fake) model: its calls show that frames flow (skipping
    # unchanged frames is tested in test_stillness.py).
    cfg = Config().model_copy(update={"camera": config}).with_changes(
        {"monitor": {"sample_hz": 5, "skip_still": False}})
    monitor, estimator, stop = PostureSession(cfg), FakeEstimator(), threading.Event()
    states = []
    camera = SupervisedCamera(0, config, opener=world.opener)
    original = monitor.camera_changed

    def record(state, detail, t_ms):
        states.append(state)
        original(state, detail, t_ms)

    monitor.camera_changed = record
    errors = []

    def loop():
        try:
            run_camera(cfg, monitor, lambda: contextlib.nullcontext(estimator), stop, camera)
        except BaseException as exc:  # noqa: BLE001 - the test asserts there is none
            errors.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield monitor, estimator, states
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
        assert not errors, errors


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.02)
    return None


def resumes(monitor, estimator, timeout=5.0):
    start, calls = time.monotonic(), estimator.calls
    done = wait_for(lambda: estimator.calls > calls + 2
                    and monitor.status()["camera"]["state"] == "streaming", timeout)
    return None if done is None else done - start


@pytest.mark.parametrize("failure", ["absent", "stall", "garbage", "hang"])
def test_monitor_survives_and_resumes(failure):
    world = FakeWorld()
    with running(world) as (monitor, estimator, states):
        assert resumes(monitor, estimator) is not None
        world.mode = failure
        expected = {"absent": "stalled", "stall": "stalled", "garbage": "stalled",
                    "hang": "stalled"}[failure]
        assert wait_for(lambda: expected in states, 5.0), states
        if failure == "absent":  # busy where a /dev/video0 exists, unavailable where not
            assert wait_for(lambda: {"unavailable", "busy"} & set(states), 5.0), states
        time.sleep(1.0)
        world.mode = "ok"
        took = resumes(monitor, estimator)
        assert took is not None and took <= 5.0, (failure, states)
        assert monitor.status()["camera"]["state"] == "streaming"


def test_camera_missing_at_start_reports_reason_then_recovers():
    world = FakeWorld()
    world.mode = "absent"
    with running(world) as (monitor, estimator, states):
        assert wait_for(lambda: {"unavailable", "busy"} & set(states), 3.0)
        assert "not found" in monitor.status()["camera"]["detail"] or \
            "another program" in monitor.status()["camera"]["detail"]
        assert estimator.calls == 0
        world.mode = "ok"
        assert resumes(monitor, estimator) is not None


def test_camera_released_while_nobody_is_there():
    world = FakeWorld()
    config = FAST.model_copy(update={"release_when_away_s": 0.5, "away_probe_s": 2.0})

    class Nobody(FakeEstimator):
        def detect(self, rgb, t_ms):
            from posture.vision.pose import Pose

            self.calls += 1
            return Pose.empty(t_ms, (64, 48))

    cfg = Config().model_copy(update={"camera": config}).with_changes(
        {"monitor": {"sample_hz": 5}})
    monitor, estimator, stop = PostureSession(cfg), Nobody(), threading.Event()
    camera = SupervisedCamera(0, config, opener=world.opener)
    thread = threading.Thread(target=run_camera, args=(
        cfg, monitor, lambda: contextlib.nullcontext(estimator), stop, camera), daemon=True)
    thread.start()
    assert wait_for(lambda: camera.state == "released", 5.0)
    opens = world.opens
    assert wait_for(lambda: world.opens > opens, 5.0)  # probes again later
    stop.set()
    thread.join(10)


def test_only_requested_frames_are_decoded():
    world = FakeWorld()
    camera = SupervisedCamera(0, FAST, opener=world.opener)
    camera.start()
    try:
        assert camera.read_fresh(1.0) is not None
        time.sleep(0.5)  # about 50 grabs happen meanwhile
        assert world.retrieves <= 2
        frame = camera.read_fresh(1.0)
        assert frame is not None and frame.seq == 2
    finally:
        camera.stop()


def test_helpers(tmp_path):
    import numpy as np

    assert not valid_frame(np.zeros((3, 3), np.float32))
    assert valid_frame(np.zeros((48, 64, 3), np.uint8))
    assert "not found" in why_unavailable(str(tmp_path / "video9"))


def test_a_camera_held_by_another_program_is_busy_not_an_error(tmp_path):
    """A device that is there and ours to open but will not open (a video call holds it):
    the start goes on, the state is "busy", retried quietly until the camera is free."""
    from posture.vision.camera import probe

    device = tmp_path / "video0"
    device.write_bytes(b"")  # present and readable, like a camera node
    world = FakeWorld()
    world.mode = "absent"
    probe(str(device), FAST, opener=world.opener)  # no CameraError: wait for it
    states = []
    camera = SupervisedCamera(str(device), FAST, opener=world.opener)
    camera.on_state = lambda state, detail: states.append((state, detail))
    camera.start()
    try:
        assert wait_for(lambda: ("busy", camera.detail) in states, 3.0), states
        assert "another program" in camera.detail
        opens = world.opens
        assert wait_for(lambda: world.opens > opens, 4.0)  # tried again, with backoff
        assert states.count(states[-1]) == 1  # quietly: said once, not at every try
        world.mode = "ok"
        assert camera.read_fresh(timeout_s=5.0) is not None
    finally:
        camera.stop()


def test_a_video_file_as_the_camera_comes_at_its_own_rate():
    """Frames of a file given as the camera are handed over at the file's rate (a grab
    waits for its frame's time), not as fast as they decode."""
    from posture.vision.camera import PacedFile

    class Decoder:
        grabs = 0

        def isOpened(self):  # noqa: N802
            return True

        def grab(self):
            Decoder.grabs += 1
            return True

    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(round(s, 3))
        now[0] += s

    paced = PacedFile(Decoder(), 25.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        assert paced.grab()
    assert slept == [0.04, 0.04] and Decoder.grabs == 3
    now[0] += 1.0  # read late (the model was busy): the next frame comes at once
    paced.grab()
    assert slept == [0.04, 0.04]

"""A supervised webcam: a grabber thread that keeps only the newest frame, with open and read
watchdogs, reopening with backoff, and release on request (paused, or nobody there).

States: opening -> streaming; stalled (no good frame for read_timeout_s) and unavailable
(with a reason) -> reopened with backoff; released while paused.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from posture.config import CameraConfig
from posture.errors import CameraError

log = logging.getLogger(__name__)

# Between samples the grabber waits instead of draining the driver at the camera's frame
# rate (30 wake-ups a second cost more CPU than the 1 Hz model call they serve). When a
# frame is wanted it first takes what the driver queued meanwhile: a grab that returns
# faster than FRESH_GRAB_S handed over a queued, stale frame, so it grabs again, at most
# MAX_STALE_GRABS times (drivers queue a few buffers).
FRESH_GRAB_S = 0.004
MAX_STALE_GRABS = 8


class Capture(Protocol):
    """The part of cv2.VideoCapture we use (OpenCV's names)."""

    def isOpened(self) -> bool: ...  # noqa: N802
    def grab(self) -> bool: ...
    def retrieve(self) -> tuple[bool, np.ndarray | None]: ...
    def release(self) -> None: ...


class PacedFile:
    """A video file given as the camera: its frames come at the file's own rate, as a
    camera's would, not as fast as they decode (a demonstration replayed to the teach
    countdown then takes as long as it did)."""

    def __init__(self, cap: Any, fps: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.cap, self.period = cap, 1.0 / fps
        self._clock, self._sleep = clock, sleep
        self._due: float | None = None

    def isOpened(self) -> bool:  # noqa: N802
        return bool(self.cap.isOpened())

    def grab(self) -> bool:
        now = self._clock()
        if self._due is not None and now < self._due:
            self._sleep(self._due - now)
        self._due = max(now, self._due or now) + self.period
        return bool(self.cap.grab())

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        return self.cap.retrieve()

    def release(self) -> None:
        self.cap.release()


def open_capture(device: int | str, width: int, height: int) -> Capture:
    cap = cv2.VideoCapture(device)
    if isinstance(device, str) and os.path.isfile(device) and cap.isOpened():
        fps = cap.get(cv2.CAP_PROP_FPS)
        return PacedFile(cap, fps if 1 <= fps <= 240 else 30.0)
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        # Keep the driver's queue short so a read returns a fresh frame, not a stale one.
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return cap


def probe(device: int | str, config: CameraConfig,
          opener: Callable[[int | str, int, int], Capture] = open_capture) -> None:
    """Open the camera once and let it go: CameraError with the reason when it cannot be
    opened at all, so a wrong camera is reported at start instead of retried forever."""
    try:
        cap = opener(device, config.width, config.height)
    except Exception as exc:  # noqa: BLE001 - whatever the driver says, it is unavailable
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CameraError(f"camera {device} unavailable: {first}{what_else()}") from exc
    try:
        # A camera another program holds (a video call) is no error: the monitor waits for
        # it, retrying quietly, in the state "busy".
        if not cap.isOpened() and (reason := why_unavailable(device)) != BUSY:
            raise CameraError(f"camera {device} unavailable: {reason}{what_else()}")
    finally:
        cap.release()


def cameras_found() -> list[str]:
    """The video devices this system shows (Linux: /dev/video*); empty where it cannot
    tell."""
    if not sys.platform.startswith("linux"):
        return []
    return sorted(str(p) for p in Path("/dev").glob("video*"))


def what_else() -> str:
    """What to try instead, for a camera error's line."""
    found = cameras_found()
    where = (f"; cameras found: {', '.join(found)} (--camera ID or PATH)" if found else
             "; no camera found" if sys.platform.startswith("linux") else "")
    return f"{where}; without a camera, `posture demo` shows the monitor on a recording"


# OpenCV takes a camera index as a C int; a larger number is no camera.
MAX_CAMERA_INDEX = 2**31 - 1


def device_of(text: str) -> int | str:
    """A camera index (0, 1, ...) or a device path, from the text of a flag or setting."""
    if not (text.isascii() and text.isdigit()):
        return text
    if int(text) > MAX_CAMERA_INDEX:
        raise CameraError(f"camera {text[:20]}: no such camera (indexes are 0, 1, 2, ...)")
    return int(text)


def why_unavailable(device: int | str) -> str:
    """A user-facing reason the device could not be opened."""
    path = f"/dev/video{device}" if isinstance(device, int) else device
    if sys.platform.startswith("linux") or isinstance(device, str):
        if not os.path.exists(path):
            return f"not found: {path} does not exist"
        if not os.access(path, os.R_OK | os.W_OK):
            return f"permission denied on {path} (add yourself to the 'video' group)"
    return BUSY


BUSY = "another program may be using the camera (a video call?); trying again"


def unavailable_state(reason: str) -> str:
    """The camera state for a reason it could not be opened: busy, or unavailable."""
    return "busy" if reason == BUSY else "unavailable"


def valid_frame(frame: object) -> bool:
    return (isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3
            and frame.shape[2] == 3 and frame.shape[0] >= 16 and frame.shape[1] >= 16)


@dataclass(frozen=True)
class Grabbed:
    rgb: np.ndarray
    t_ms: int  # monotonic, since the camera object was made
    seq: int


class SupervisedCamera:
    """Call start(), then latest() whenever a frame is wanted; stop() at the end."""

    def __init__(self, device: int | str, config: CameraConfig,
                 on_state: Callable[[str, str], None] | None = None,
                 opener: Callable[[int | str, int, int], Capture] = open_capture,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self.config = config
        self.on_state = on_state or (lambda state, detail: None)
        self._opener = opener
        self._clock = clock
        self._t0 = clock()
        self._cond = threading.Condition()
        self._latest: Grabbed | None = None
        self._seq = 0
        self._want = False
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._pause_reason = ""
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = "opening"
        self.detail = ""
        self._state_since = clock()
        self._reopening = False
        self._generation = 0
        self._last_good = clock()
        self._grab_since: float | None = None  # when the grab under way began

    # --- consumer side ---------------------------------------------------------------------
    def now_ms(self) -> int:
        return int((self._clock() - self._t0) * 1000)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, args=(self._generation,),
                                        name="camera-grabber", daemon=True)
        self._thread.start()

    def check(self) -> None:
        """Watchdog, called by the consumer: replace a grabber stuck inside the driver."""
        if self._paused.is_set() or self._stop.is_set():
            return
        now = self._clock()
        in_grab = self._grab_since
        stuck_read = (self.state == "streaming" and in_grab is not None
                      and now - in_grab > 2 * self.config.read_timeout_s)
        stuck_open = (self.state == "opening"
                      and now - self._state_since > self.config.open_timeout_s + 2)
        if stuck_read or stuck_open:
            self._generation += 1
            self._reopening = True
            self._set_state("stalled" if stuck_read else "unavailable",
                            "the camera driver stopped responding; restarting")
            self.start()

    def read_fresh(self, timeout_s: float = 1.0) -> Grabbed | None:
        """A frame grabbed after this call, or None if none comes within timeout_s.

        The grabber thread idles until asked, then drains what the driver queued meanwhile
        and decodes (retrieve) only the fresh frame, so background monitoring at 1 Hz grabs
        a few frames and decodes one a second, and never returns a stale buffered one.
        """
        with self._cond:
            wanted = self._seq + 1
            self._want = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._seq >= wanted or self._stop.is_set(), timeout_s)
            self._want = False
            return self._latest if self._latest is not None and self._seq >= wanted else None

    def pause(self, reason: str) -> None:
        """Release the device until resume(); `reason` is the released state's detail."""
        self._pause_reason = reason
        self._paused.set()
        self._wake.set()
        with self._cond:
            self._cond.notify_all()

    def resume(self) -> None:
        self._paused.clear()
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=self.config.read_timeout_s + 2)

    # --- grabber thread --------------------------------------------------------------------
    def _set_state(self, state: str, detail: str = "") -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail, self._state_since = state, detail, self._clock()
            log.info("camera %s: %s %s", self.device, state, detail)
            self.on_state(state, detail)

    def _idle_until_wanted(self) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._want or self._stop.is_set()
                                or self._paused.is_set(), timeout=5.0)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _alive(self, gen: int) -> bool:
        return gen == self._generation and not self._stop.is_set()

    def _run(self, gen: int) -> None:
        backoff = 1.0
        while self._alive(gen):
            if self._paused.is_set():
                self._set_state("released", self._pause_reason)
                self._sleep(3600)
                continue
            self._set_state("opening")
            cap = self._open(gen)
            if not self._alive(gen):
                if cap is not None:
                    cap.release()
                return
            if cap is None:
                self._reopening = True
                reason = why_unavailable(self.device)
                self._set_state(unavailable_state(reason), reason)
                self._sleep(backoff)
                backoff = min(backoff * 2, self.config.max_backoff_s)
                continue
            streamed = self._stream(cap, gen)
            cap.release()
            if streamed:
                backoff = 1.0
            elif not self._stop.is_set() and not self._paused.is_set():
                self._sleep(backoff)
                backoff = min(backoff * 2, self.config.max_backoff_s)

    def _open(self, gen: int) -> Capture | None:
        deadline = self._clock() + self.config.open_timeout_s
        while self._alive(gen):
            try:
                cap = self._opener(self.device, self.config.width, self.config.height)
            except Exception as exc:  # noqa: BLE001 - a driver error must not kill the thread
                log.warning("camera %s: open failed: %s", self.device, exc)
                cap = None
            if cap is not None and cap.isOpened():
                return cap
            if cap is not None:
                cap.release()
            if self._clock() >= deadline:
                return None
            self._sleep(0.25)
        return None

    def _stream(self, cap: Capture, gen: int) -> bool:
        """Grab until stopped, paused or stalled; True if any good frame came."""
        got_any, decode_failing = False, False
        self._last_good = self._clock()
        stale, healthy = 0, True
        while self._alive(gen) and not self._paused.is_set():
            if got_any and not self._want and not decode_failing:
                self._idle_until_wanted()
                if healthy:  # idle time is not a stall; failing time still counts
                    self._last_good = self._clock()
                stale = 0
                continue
            frame = None
            try:
                self._grab_since = started = self._clock()
                ok = cap.grab()
                queued = self._clock() - started < FRESH_GRAB_S
                if ok and self._want and queued and stale < MAX_STALE_GRABS:
                    stale += 1
                    continue
                if ok and self._want:
                    ok, frame = cap.retrieve()
                    stale = 0
            except Exception as exc:  # noqa: BLE001 - a driver error must not kill the thread
                log.warning("camera %s: read failed: %s", self.device, exc)
                ok = False
            finally:
                self._grab_since = None
            now = self._clock()
            garbage = ok and frame is not None and not valid_frame(frame)
            if not self._alive(gen):
                return got_any
            if frame is not None:
                decode_failing = garbage
            # While a frame is wanted, or decoding has been failing, only a good decoded
            # frame counts as progress.
            healthy = ok and not garbage
            if ok and not garbage and (frame is not None
                                       or not (self._want or decode_failing)):
                self._last_good, got_any = now, True
                if self.state != "streaming":
                    self._set_state("streaming", "reopened" if self._reopening else "")
                    self._reopening = False
                if frame is not None:
                    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                    with self._cond:
                        self._seq += 1
                        self._latest = Grabbed(rgb, int((now - self._t0) * 1000), self._seq)
                        self._cond.notify_all()
                continue
            if now - self._last_good > self.config.read_timeout_s:
                self._reopening = True
                self._set_state("stalled", "frames from the camera are unreadable" if garbage
                                else f"no frame for {self.config.read_timeout_s:g} s")
                return got_any
            if ok:
                continue
            self._sleep(0.05)
        return got_any

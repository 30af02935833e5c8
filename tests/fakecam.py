"""A scriptable stand-in for cv2.VideoCapture: fails to open, stalls, hangs, sends garbage."""

from __future__ import annotations

import threading
import time

import numpy as np


class FakeWorld:
    """Shared script for every capture the camera opens: what the device does right now."""

    def __init__(self, frame: np.ndarray | None = None) -> None:
        self.mode = "ok"  # ok | absent | stall | garbage | hang
        self.frame = frame if frame is not None else np.full((48, 64, 3), 120, np.uint8)
        self.opens = 0
        self.retrieves = 0
        self.hang = threading.Event()

    def opener(self, device, width, height):
        self.opens += 1
        return FakeCapture(self)


class FakeCapture:
    def __init__(self, world: FakeWorld) -> None:
        self.world = world
        self.opened = world.mode != "absent"

    def isOpened(self) -> bool:  # noqa: N802
        return self.opened

    def grab(self) -> bool:
        time.sleep(0.01)
        mode = self.world.mode
        if mode == "hang":
            # A driver call that does not return while the device is wedged.
            while self.world.mode == "hang" and not self.world.hang.is_set():
                time.sleep(0.01)
            return False
        return mode in ("ok", "garbage")

    def retrieve(self):
        self.world.retrieves += 1
        if self.world.mode == "garbage":
            return True, np.zeros((3, 3), np.float32)
        return True, self.world.frame.copy()

    def release(self) -> None:
        self.opened = False

"""`posture exercises learn NAME --camera`: the teach countdown on the terminal, through the
same session and camera loop as `posture run`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
from typing import Any

from posture.analysis.events import CameraStateChanged, Event, Sample
from posture.analysis.learn import Learned
from posture.errors import UsageError

# The countdown waits this long at most beyond its own phases (15 s for each stillness, and
# the model starting): then the camera gave no usable picture.
SLACK_S = 45.0


class CountdownPrinter:
    """Prints each phase of the teach countdown once, the seconds left while moving, and
    the camera's troubles; sets `done` when the countdown is over."""

    def __init__(self, out: Any = sys.stderr) -> None:
        self.out = out
        self.done = threading.Event()
        self.phase: str | None = None
        self.left: int | None = None
        self.camera = ""

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, CameraStateChanged):
            if event.state not in ("opening", "streaming"):
                self.camera = f"camera {event.state}{f': {event.detail}' if event.detail else ''}"
                print(f"posture: {self.camera}", file=self.out, flush=True)
            if event.state == "unavailable":
                self.done.set()
            return
        if not isinstance(event, Sample):
            return
        teach = event.status.get("teach")
        if not teach:
            return
        if teach["phase"] != self.phase:
            self.phase = teach["phase"]
            cue = "done" if self.phase == "done" else teach["cue"]  # saved without review
            print(f"posture: {cue}", file=self.out, flush=True)
        left = teach.get("left_s")
        if left is not None and int(left) != self.left:
            self.left = int(left)
            print(f"  {self.left} s", file=self.out, flush=True)
        if teach["phase"] in ("done", "failed"):
            self.done.set()


def learn_from_camera(args: argparse.Namespace) -> Learned:
    from posture.config import load_config
    from posture.live.loop import run_camera
    from posture.live.session import PostureSession
    from posture.vision.estimator import open_estimator

    overrides = {"camera": {"device": args.camera}} if args.camera else None
    config = load_config(args.config, overrides=overrides)
    printer = CountdownPrinter()
    session = PostureSession(config, sinks=[printer])
    session.request("teach", seconds=args.seconds)
    stop = threading.Event()
    watchdog = threading.Timer(args.seconds + SLACK_S, stop.set)
    watchdog.daemon = True
    def stop_when_done() -> None:
        printer.done.wait()
        stop.set()

    threading.Thread(target=stop_when_done, daemon=True).start()
    print(f"posture: teaching {args.name!r} from camera {config.camera.device}; Ctrl-C to "
          "stop", file=sys.stderr)
    watchdog.start()
    try:
        run_camera(config, session, lambda: open_estimator(args.variant, video=True), stop)
    finally:
        watchdog.cancel()
        printer.done.set()
    teaching = session.teaching
    if teaching is None or not teaching.finished:
        why = printer.camera or "no usable picture came from the camera"
        raise UsageError(f"the demonstration was not recorded: {why}")
    if teaching.learned is None:
        raise UsageError(f"nothing learned: {teaching.error}")
    learned = dataclasses.replace(teaching.learned, name=args.name,
                                  title=args.title or args.name.replace("_", " ").capitalize())
    if args.hold is not None:
        learned.hold_s, learned.measured_hold = args.hold, False
    return learned

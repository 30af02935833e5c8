"""The `posture run` and `posture demo` commands: wire config, sinks and the live loop."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from posture.analyze import AnalyzeOptions, load_baseline, open_estimator
from posture.calibrate import default_profile_path
from posture.calibration import Baseline
from posture.config import Config, load_config
from posture.errors import UsageError
from posture.live import run_camera, run_file
from posture.modelstore import ensure_model
from posture.monitor import Monitor
from posture.notify import Notifier
from posture.paths import user_data_dir
from posture.store import Store


def add_run_arguments(parser: argparse.ArgumentParser, demo: bool = False) -> None:
    if not demo:
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--camera", metavar="ID", help="camera index or device path "
                           "(default: camera.device from the config, 0)")
        where.add_argument("--source", metavar="PATH",
                           help="run on a video or landmark trace instead of a camera")
        parser.add_argument("--baseline", metavar="PATH",
                            help="upright baseline (default: posture.calibration from the "
                                 "config, else the profile saved by `posture calibrate`)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="file sources: 1 plays in real time, 2 twice as fast, 0 as fast "
                             "as possible (default: 1)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--exercise", metavar="NAME", help="an exercise session: count reps")
    chosen.add_argument("--exercise-file", type=Path, metavar="FILE.toml")
    chosen.add_argument("--program", type=Path, metavar="FILE.toml")
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="config file (default: the user config directory's)")
    parser.add_argument("--no-history", action="store_true", help="do not write history")


def _baseline(args: argparse.Namespace, config: Config, options: AnalyzeOptions,
              demo: bool) -> Baseline | None:
    if demo:
        path = Path(str(resources.files("posture") / "data" / "demo_baseline.json"))
    else:
        text = args.baseline or config.posture.calibration
        path = Path(text).expanduser() if text else default_profile_path()
        if not text and not path.exists():
            return None
    return load_baseline(path, options)


def _exercise_options(args: argparse.Namespace) -> dict[str, Any]:
    from posture.exercise import builtin_exercise, load_exercise_file
    from posture.program import load_program

    if args.exercise:
        return {"exercise": builtin_exercise(args.exercise)}
    if args.exercise_file:
        return {"exercise": load_exercise_file(args.exercise_file)}
    if args.program:
        return {"program": load_program(args.program)}
    return {}


def terminal_lines(message: dict[str, Any]) -> None:
    """State and camera changes, and exercise progress, as lines on stderr."""
    kind = message["type"]
    if kind == "PostureChanged":
        why = f" ({', '.join(message['reasons'])})" if message["reasons"] else ""
        line = f"posture {message['state']}{why}"
    elif kind == "CameraStateChanged":
        line = f"camera {message['state']}" + (f": {message['detail']}"
                                                if message["detail"] else "")
    elif kind == "RepFinished":
        line = (f"{message['exercise']}: rep {'done' if message['valid'] else 'partial'}"
                + (f" ({', '.join(message['faults'])})" if message["faults"] else ""))
    elif kind in ("FormFault", "SetCompleted", "ProgramCompleted"):
        line = {"FormFault": lambda m: f"{m['exercise']}: {m['cue']}",
                "SetCompleted": lambda m: f"{m['exercise']}: set {m['set_number']} of "
                                          f"{m['sets']} done",
                "ProgramCompleted": lambda m: f"program {m['program']} complete"}[kind](message)
    else:
        return
    print(f"  {message['t_ms'] / 1000:8.1f} s  {line}", file=sys.stderr)


def demo_trace() -> Path:
    return Path(str(resources.files("posture") / "data" / "demo.jsonl.gz"))


def run_command(args: argparse.Namespace, demo: bool = False) -> int:
    config = load_config(args.config)
    if demo:
        # Short delays so the demo shows an alert and a break reminder within minutes.
        config = replace(config, alerts=replace(config.alerts, after_slouched_s=20.0,
                                                cooldown_min=2.0),
                         breaks=replace(config.breaks, sit_limit_min=1.0, break_min=0.2))
    if args.speed < 0 or args.speed > 100:
        raise UsageError(f"--speed must be within [0, 100], got {args.speed}")
    options = AnalyzeOptions(variant=config.monitor.model)
    source = str(demo_trace()) if demo else args.source
    if source is None:
        ensure_model(config.monitor.model)  # fail early (exit 3), before opening the camera
    baseline = _baseline(args, config, options, demo)
    store = None
    if config.history.enabled and not args.no_history:
        path = Path(config.history.path).expanduser() if config.history.path else (
            user_data_dir() / "history.sqlite3")
        store = Store(path, config.history.retention_days)
    monitor = Monitor(config, baseline=baseline, store=store, notifier=Notifier(config.alerts),
                      publish=terminal_lines, **_exercise_options(args))
    return _loop(monitor, config, options, source, args.speed, store)


def _loop(monitor: Monitor, config: Config, options: AnalyzeOptions, source: str | None,
          speed: float, store: Store | None) -> int:
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    what = source or f"camera {config.camera.device}"
    print(f"posture: monitoring {what}; Ctrl-C to stop", file=sys.stderr)
    try:
        if source is not None:
            samples = run_file(source, monitor, lambda: open_estimator(options, video=True),
                               stop, speed)
        else:
            samples = run_camera(config, monitor, lambda: open_estimator(options, video=True),
                                 stop)
    finally:
        monitor.close()
        if store is not None:
            store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    status = monitor.status()
    print(f"posture: stopped after {samples} samples; last state {status['state']}",
          file=sys.stderr)
    return 0

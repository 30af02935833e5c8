"""The `posture run` and `posture demo` commands: wire config, sinks and the live loop."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import webbrowser
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
from posture.server.hub import LiveHub
from posture.server.security import load_or_create_token
from posture.server.serve import DashboardServer, is_loopback, pick_port
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
    parser.add_argument("--host", default="127.0.0.1",
                        help="dashboard address (default 127.0.0.1; others need "
                             "--allow-remote)")
    parser.add_argument("--port", type=int, default=8765,
                        help="dashboard port (default 8765; 0 picks a free one)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (the access token is still needed)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open the dashboard in a browser")
    parser.add_argument("--no-dashboard", action="store_true", help="run without the dashboard")
    parser.add_argument("--keep-open", action="store_true",
                        help="file sources: keep the dashboard up after the file ends")


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
    history = Path(config.history.path).expanduser() if config.history.path else (
        user_data_dir() / "history.sqlite3")
    store = None
    if config.history.enabled and not args.no_history:
        store = Store(history, config.history.retention_days)
    hub = LiveHub()

    def publish(message: dict[str, Any]) -> None:
        terminal_lines(message)
        hub.publish(message)

    monitor = Monitor(config, baseline=baseline, store=store, notifier=Notifier(config.alerts),
                      publish=publish, **_exercise_options(args))
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    server = None
    try:
        server = None if args.no_dashboard else _start_dashboard(args, monitor, hub, history)
        code = _loop(monitor, config, options, source, args.speed, store, stop)
        if server is not None and args.keep_open and source is not None and not stop.is_set():
            print("posture: the recording ended; the dashboard stays open (Ctrl-C to stop)",
                  file=sys.stderr)
            stop.wait()
        return code
    finally:
        if server is not None:
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_dashboard(args: argparse.Namespace, monitor: Monitor, hub: LiveHub,
                     history: Path) -> DashboardServer:
    from posture.server.app import create_app

    if not is_loopback(args.host) and not args.allow_remote:
        raise UsageError(f"--host {args.host} is not a loopback address; add --allow-remote "
                         "to serve the dashboard beyond this machine")
    port = pick_port(args.host, args.port)
    token = load_or_create_token(user_data_dir() / "dashboard-token")
    extra = () if is_loopback(args.host) else (args.host,)
    app = create_app(monitor, hub, history, token, port,
                     programs_dir=user_data_dir() / "programs", extra_hosts=extra)
    server = DashboardServer(app, args.host, port)
    server.start()
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{'127.0.0.1' if shown == '0.0.0.0' else shown}:{port}/?token={token}"
    print(f"posture: dashboard at {url}", file=sys.stderr)
    if not args.no_browser and _has_display():
        webbrowser.open(url)
    return server


def _has_display() -> bool:
    """A graphical session to open a browser in (a headless Linux box has none)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _loop(monitor: Monitor, config: Config, options: AnalyzeOptions, source: str | None,
          speed: float, store: Store | None, stop: threading.Event) -> int:
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
    status = monitor.status()
    print(f"posture: stopped after {samples} samples; last state {status['state']}",
          file=sys.stderr)
    return 0

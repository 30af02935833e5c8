"""The `posture run` and `posture demo` commands: wire config, sinks and the live loop."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import socket
import sys
import threading
import webbrowser
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

from posture.analysis.calibration import Baseline, default_profile_path
from posture.cli.args import exercise_options
from posture.cli.terminal import TerminalSink
from posture.config import Config, load_config
from posture.errors import UsageError
from posture.files import secure_user_data
from posture.history.sink import StoreSink
from posture.history.store import Store
from posture.instance import InstanceLock
from posture.live.loop import run_camera, run_file
from posture.live.notify import Notifier
from posture.live.offline import AnalyzeOptions, load_baseline
from posture.live.screenlock import ScreenLockWatcher
from posture.live.session import PostureSession, Sink
from posture.paths import user_data_dir, user_exercises_dir
from posture.server.hub import LiveHub
from posture.server.security import load_or_create_token
from posture.server.serve import DashboardServer, is_loopback, pick_port
from posture.vision.camera import device_of, probe
from posture.vision.estimator import open_estimator
from posture.vision.modelstore import ensure_model
from posture.vision.sources import open_source


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


def demo_trace() -> Path:
    return Path(str(resources.files("posture") / "data" / "demo.jsonl.gz"))


def run_command(args: argparse.Namespace, demo: bool = False,
                lock: InstanceLock | None = None) -> int:
    """The monitor; a camera run holds `lock` (the one-monitor lock), which says where its
    dashboard is."""
    overrides = {"camera": {"device": args.camera}} if getattr(args, "camera", None) else None
    config = load_config(args.config, overrides=overrides)
    with contextlib.suppress(UsageError):  # whatever needs the folder says why it cannot
        secure_user_data()
    if demo:
        # Short delays so the demo shows an alert and a break reminder within minutes.
        config = config.with_changes({"alerts": {"after_slouched_s": 20.0, "cooldown_min": 2.0},
                                      "breaks": {"sit_limit_min": 1.0, "break_min": 0.2}})
    options = AnalyzeOptions(variant=config.monitor.model, config=config, show_progress=False)
    source = str(demo_trace()) if demo else args.source
    if not (math.isfinite(args.speed) and 0 <= args.speed <= 100):
        raise UsageError(f"--speed must be within [0, 100], got {args.speed}")
    if source is not None:
        with open_source(source):  # a wrong file is said before anything else is printed
            pass
    else:
        ensure_model(config.monitor.model)  # fail early (exit 3), before opening the camera
        probe(device_of(config.camera.device), config.camera)  # exit 4 for a wrong camera
    return _monitor(args, config, options, source, demo, lock)


def _monitor(args: argparse.Namespace, config: Config, options: AnalyzeOptions,
             source: str | None, demo: bool, lock: InstanceLock | None) -> int:
    """The monitor with its sinks and dashboard, until the source ends or a signal."""
    baseline = _baseline(args, config, options, demo)
    history = Path(config.history.path).expanduser() if config.history.path else (
        user_data_dir() / "history.sqlite3")
    store = None
    if config.history.enabled and not args.no_history:
        store = Store(history, config.history.retention_days)
    hub = LiveHub()
    notifier = Notifier(config.alerts)
    sinks: list[Sink] = [TerminalSink(), notifier, hub]
    if store is not None:
        sinks.append(StoreSink(store, config.history.sample_interval_s))
    session = PostureSession(config, baseline=baseline, sinks=sinks,
                             profile_path=default_profile_path(), **exercise_options(args))
    notifier.browser_shows = session.browser_notifications_on
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    server = None
    # A camera steps aside while the desktop session is locked (a file plays on).
    watcher = None if source is not None else ScreenLockWatcher(
        lambda locked: session.request("screen_lock", locked=locked)).start()
    try:
        server, url = (None, None) if args.no_dashboard else _start_dashboard(
            args, session, hub, history)
        if lock is not None:
            lock.update(pid=os.getpid(), url=url, dashboard=server is not None)
        notifier.on_action = partial(_alert_action, session, url)

        def monitor() -> int:
            code = _loop(session, config, source, args.speed, store, stop)
            # The demo's dashboard stays up for a newcomer still reading it.
            if server is not None and (args.keep_open or demo) and source is not None and (
                    not stop.is_set()):
                print("posture: the recording ended; the dashboard stays open until you "
                      "press Ctrl-C", file=sys.stderr)
                stop.wait()
            return code

        if _wants_tray(args):
            from posture.cli.tray import run_with_tray

            return run_with_tray(session, url, stop, monitor)
        return monitor()
    finally:
        if watcher is not None:
            watcher.stop()
        if server is not None:
            server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_dashboard(args: argparse.Namespace, session: PostureSession, hub: LiveHub,
                     history: Path) -> tuple[DashboardServer, str]:
    """The dashboard, serving; and its address with the token (the link to open)."""
    from posture.server.app import create_app

    if not is_loopback(args.host) and not args.allow_remote:
        raise UsageError(f"--host {args.host} is not a loopback address; add --allow-remote "
                         "to serve the dashboard beyond this machine")
    port = pick_port(args.host, args.port)
    token = load_or_create_token(user_data_dir() / "dashboard-token")
    extra = () if is_loopback(args.host) else own_host_names(args.host, args.allow_host)
    app = create_app(session, hub, history, token, port,
                     programs_dir=user_data_dir() / "programs", extra_hosts=extra,
                     exercises_dir=user_exercises_dir(),
                     settings_path=args.config)  # the Settings page saves where run read
    server = DashboardServer(app, args.host, port)
    server.start()
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{'127.0.0.1' if shown == '0.0.0.0' else shown}:{port}/?token={token}"
    print(f"posture: dashboard at {url}", file=sys.stderr)
    if not args.no_browser and _has_display():
        webbrowser.open(url)
    return server, url


def own_host_names(host: str, allowed: list[str] | None) -> tuple[str, ...]:
    """The Host names a remote dashboard answers to: the bound address (unless it is the
    wildcard), this machine's names and addresses, and any given with --allow-host."""
    names = {socket.gethostname(), socket.getfqdn()}
    if host in ("0.0.0.0", "::"):
        # Bound to every interface: each interface's address is a name it is reached by
        # (the host name often resolves to 127.0.x.1 only, not the LAN address).
        names.update(interface_addresses())
    else:
        names.add(host)
    for name in list(names):
        try:
            names.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
        except OSError:
            continue
    names.update(allowed or ())
    return tuple(sorted(f"[{n}]" if ":" in n and not n.startswith("[") else n.lower()
                        for n in names if n))


def interface_addresses() -> set[str]:
    """The IPv4 and IPv6 addresses of this machine's network interfaces (without an IPv6
    zone: a browser's Host header never carries one)."""
    import psutil

    return {str(a.address).split("%")[0] for addrs in psutil.net_if_addrs().values()
            for a in addrs if a.family in (socket.AF_INET, socket.AF_INET6)}


def _alert_action(session: PostureSession, url: str | None, action: str) -> None:
    """What an alert's buttons do: snooze, or (a click on the alert) open the dashboard."""
    if action == "snooze":
        session.request("snooze")
    elif action == "default" and url:
        webbrowser.open(url)


def _wants_tray(args: argparse.Namespace) -> bool:
    """The tray icon is shown in a desktop session unless --no-tray; without Qt or a tray
    there, the monitor says so once and runs as in a terminal."""
    if getattr(args, "no_tray", True) or not _has_display():
        return False
    from posture.cli.tray import tray_available

    if tray_available():
        return True
    print("posture: no tray icon (it needs PySide6 and a desktop with a system tray); "
          "use the dashboard", file=sys.stderr)
    return False


def _has_display() -> bool:
    """A graphical session to open a browser in (a headless Linux box has none)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _loop(session: PostureSession, config: Config, source: str | None, speed: float,
          store: Store | None, stop: threading.Event) -> int:
    def estimator() -> Any:
        return open_estimator(config.monitor.model, video=True)

    what = source or f"camera {config.camera.device}"
    print(f"posture: monitoring {what}; Ctrl-C to stop", file=sys.stderr)
    try:
        if source is not None:
            samples = run_file(source, session, estimator, stop, speed)
            if not stop.is_set():  # nothing more to monitor: the page says so
                session.camera_changed("ended", "the recording ended", session.last_t_ms)
        else:
            samples = run_camera(config, session, estimator, stop)
    finally:
        session.close()
        if store is not None:
            store.close()
    status = session.status()
    print(f"posture: stopped after {samples} samples; last state {status['state']}",
          file=sys.stderr)
    return 0

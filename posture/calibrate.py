"""`posture calibrate`: sample upright sitting and save it as the baseline profile."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

from posture.analyze import AnalyzeOptions, load_baseline, open_estimator
from posture.calibration import Baseline, baseline_from_metrics, save_profile
from posture.config import load_config
from posture.metrics import compute_metrics
from posture.paths import user_data_dir
from posture.records import calibration_row
from posture.sources import CameraSource
from posture.store import Store


def default_profile_path() -> Path:
    return user_data_dir() / "calibration" / "default.json"


def camera_id(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def calibrate(source: str | None, camera: str, seconds: float, out: Path | None,
              options: AnalyzeOptions) -> tuple[Baseline, Path]:
    """Build a baseline from a file or folder, or from `seconds` of camera frames, and save it."""
    if source is not None:
        baseline = load_baseline(source, options)
    else:
        baseline = _from_camera(camera_id(camera), seconds, options)
    path = out or default_profile_path()
    save_profile(baseline, path)
    _remember(baseline, path)
    return baseline, path


def _remember(baseline: Baseline, path: Path) -> None:
    """Keep the calibration in the history too, so the dashboard can show when it changed."""
    config = load_config()
    if not config.history.enabled:
        return
    db = Path(config.history.path).expanduser() if config.history.path else (
        user_data_dir() / "history.sqlite3")
    store = Store(db, config.history.retention_days)
    store.put([calibration_row(int(time.time() * 1000), path.stem, baseline)])
    store.close()


def _from_camera(camera: int | str, seconds: float, options: AnalyzeOptions) -> Baseline:
    print(f"sit upright and look at the screen; sampling for {seconds:g} s", file=sys.stderr)
    metrics = []
    with CameraSource(camera) as cam, contextlib.ExitStack() as stack:
        estimator = stack.enter_context(open_estimator(options, video=True))
        for frame in cam:
            metrics.append(compute_metrics(estimator.detect(frame.image, frame.timestamp_ms),
                                           options.view))
            if frame.timestamp_ms >= seconds * 1000:
                break
    return baseline_from_metrics(metrics, cam.source)

"""`posture calibrate`: sample upright sitting and save it as the baseline profile."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from posture.analysis.calibration import (
    Baseline,
    Calibration,
    default_profile_path,
    save_profile,
)
from posture.analysis.events import CalibrationFinished, Event
from posture.analysis.slouch import calibration_check
from posture.config import Config
from posture.errors import UsageError
from posture.files import check_output_file, refuse_overwriting_inputs
from posture.history.records import calibration_row
from posture.history.store import Store
from posture.live.offline import AnalyzeOptions, load_baseline
from posture.live.session import slouch_config
from posture.paths import user_data_dir
from posture.vision.camera import device_of
from posture.vision.estimator import open_estimator
from posture.vision.sources import CameraSource


def calibrate(source: str | None, camera: str, seconds: float, out: Path | None,
              options: AnalyzeOptions, keep: bool = False
              ) -> tuple[Baseline, Path, dict[str, Any]]:
    """Build a baseline from a file or folder, or from `seconds` of camera frames, and save
    it with its check in words (slouch.calibration_check). One that looks slouched is saved
    only with keep."""
    path = out or default_profile_path()
    refuse_overwriting_inputs([source], [("--out", path)])
    if out is not None:  # fail before sampling, not after (the default folder is made)
        check_output_file(out)
    if source is not None:
        baseline = load_baseline(source, options)
    else:
        baseline = _from_camera(device_of(camera), seconds, options)
    check = calibration_check(baseline, slouch_config(options.config))
    if check["looks_slouched"] and not keep:
        raise UsageError(f"not saved: {check['warning'].replace('keep it', 'add --keep')}")
    save_profile(baseline, path)
    _remember(baseline, path, options.config)
    return baseline, path, check


def _remember(baseline: Baseline, path: Path, config: Config) -> None:
    """Keep the calibration in the history too, so the dashboard can show when it changed."""
    if not config.history.enabled:
        return
    db = Path(config.history.path).expanduser() if config.history.path else (
        user_data_dir() / "history.sqlite3")
    store = Store(db, config.history.retention_days)
    store.put([calibration_row(int(time.time() * 1000), path.stem, baseline.to_json())])
    store.close()


class _Finished:
    def __init__(self) -> None:
        self.event: CalibrationFinished | None = None

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, CalibrationFinished):
            self.event = event


def _from_camera(camera: int | str, seconds: float, options: AnalyzeOptions) -> Baseline:
    """The session's own live calibration, fed from the camera."""
    print(f"sit upright and look at the screen; sampling for {seconds:g} s", file=sys.stderr)
    finished = _Finished()
    session = options.session((finished,))
    session.calibration = Calibration(seconds)
    with CameraSource(camera) as cam, open_estimator(options.variant, video=True,
                                                     show_progress=options.show_progress) as est:
        for frame in cam:
            assert frame.image is not None
            session.process(est.detect(frame.image, frame.timestamp_ms))
            if finished.event is not None:
                break
    event = finished.event
    if event is not None and event.profile is not None and (event.check or {}).get(
            "looks_slouched"):
        return Baseline.from_json(event.profile, "live calibration")  # the caller says so
    if event is None or not event.ok or event.profile is None:
        raise UsageError(f"calibration failed: {event.detail if event else 'camera ended'}")
    return Baseline.from_json(event.profile, "live calibration")

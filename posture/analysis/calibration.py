"""Calibration: the user's own upright baseline, saved as a per-setup profile (JSON)."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator

from posture.analysis.metrics import Metrics, View
from posture.analysis.registry import METRIC_NAMES
from posture.config import Config
from posture.errors import SettingError, UsageError
from posture.files import private_dir, read_small_text, write_text_atomic
from posture.paths import user_data_dir
from posture.schema import StrictModel, first_error

FORMAT = "posture-calibration"
VERSION = 1
# Metrics measured in pixels scale with the frame when the baseline came at another size.
PIXEL_METRICS = frozenset({"shoulder_width_px", "face_width_px", "nose_y_px"})


def default_profile_path() -> Path:
    """Where `posture calibrate` and the dashboard save the user's baseline."""
    return user_data_dir() / "calibration" / "default.json"


@dataclass(frozen=True)
class Baseline:
    """Median metrics of upright sitting, in one view, at one frame size."""

    view: View
    image_size: tuple[int, int]
    values: dict[str, float]
    frames: int
    source: str

    def value(self, name: str, image_size: tuple[int, int]) -> float | None:
        """The baseline value of a metric, rescaled to the given frame size for pixel metrics."""
        v = self.values.get(name)
        if v is None or name not in PIXEL_METRICS:
            return v
        axis = 1 if name == "nose_y_px" else 0
        return v * image_size[axis] / self.image_size[axis]

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "view": self.view.value,
                "image_size": list(self.image_size), "frames": self.frames,
                "source": self.source, "metrics": self.values}

    @classmethod
    def from_json(cls, data: object, where: str) -> Baseline:
        try:
            profile = ProfileFile.model_validate(data, strict=True)
        except ValidationError as exc:
            raise UsageError(f"{where}: not a calibration profile ({first_error(exc)})"
                             ) from None
        values = {k: v for k, v in profile.metrics.items() if v is not None}
        width, height = profile.image_size
        return usable(cls(View(profile.view), (width, height), values, profile.frames,
                          profile.source), where)


class ProfileFile(StrictModel):
    """A saved baseline, as read back: every value bounded and finite."""

    format: Literal["posture-calibration"]
    version: Literal[1]
    view: Literal["front", "side", "oblique"]
    image_size: list[Annotated[int, Field(ge=1, le=100_000)]] = Field(min_length=2,
                                                                       max_length=2)
    frames: int = Field(ge=1, le=10_000_000)
    source: str = Field("", max_length=4096)
    metrics: dict[str, Annotated[float, Field(ge=-1e6, le=1e6)] | None]

    @field_validator("metrics")
    @classmethod
    def _known(cls, metrics: dict[str, float | None]) -> dict[str, float | None]:
        unknown = sorted(set(metrics) - set(METRIC_NAMES))
        if unknown:
            raise ValueError(f"unknown metric(s): {', '.join(unknown[:5])}")
        return metrics


def usable(baseline: Baseline, where: str) -> Baseline:
    """The baseline, if posture can be judged against it; else a UsageError."""
    from posture.analysis.slouch import baseline_judges  # slouch imports this module

    if not baseline_judges(baseline):
        measured = ", ".join(sorted(baseline.values)) or "nothing"
        raise UsageError(f"{where}: this {baseline.view.value}-view baseline cannot judge "
                         f"posture (it measured only: {measured}); calibrate again, sitting "
                         "upright with head and shoulders in view")
    return baseline


def baseline_from_metrics(frames: Iterable[Metrics], source: str) -> Baseline:
    """Median of each metric over the frames with a person, in the most common view."""
    views = Counter(m.view for m in frames if m.person and m.view is not None)
    if not views:
        raise UsageError(f"{source}: no person found in the baseline")
    view = views.most_common(1)[0][0]
    assert view is not None
    chosen = [m for m in frames if m.person and m.view is view]
    values = {}
    for name in chosen[0].values:
        series = [v for m in chosen if (v := m.values.get(name)) is not None]
        if series:
            values[name] = float(statistics.median(series))
    return usable(Baseline(view, chosen[0].image_size, values, len(chosen), source), source)


def save_profile(baseline: Baseline, path: Path) -> None:
    """Write the profile atomically (a crash leaves the old profile or the new one),
    readable by the user only; the default folder is created private."""
    if path == default_profile_path():
        private_dir(path.parent)
    write_text_atomic(path, json.dumps(baseline.to_json(), indent=2), private=True)


def load_profile(path: Path) -> Baseline:
    text = read_small_text(path, "calibration profile")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{path}: cannot read calibration profile ({exc})") from exc
    except RecursionError:
        raise UsageError(f"{path}: cannot read calibration profile (nested too deeply)"
                         ) from None
    return Baseline.from_json(data, str(path))


def check_calibration_setting(config: Config) -> None:
    """SettingError when `posture.calibration` names a profile that does not load: what the
    next start would stop on (config check and the Settings page ask before that)."""
    text = config.posture.calibration
    path = Path(text).expanduser()
    if text and path.suffix.lower() == ".json":
        try:
            load_profile(path)
        except UsageError as exc:
            raise SettingError(f"posture.calibration: {exc}", "posture.calibration") from None


class Calibration:
    """Collects `seconds` of live metrics; add() returns the Baseline when done, or a reason
    (str) it failed, and None while still collecting."""

    def __init__(self, seconds: float) -> None:
        if not 0.5 <= seconds <= 120:
            raise UsageError(f"calibration seconds must be within [0.5, 120], got {seconds}")
        self.seconds = seconds
        self.frames: list[Metrics] = []
        self._start_ms: int | None = None

    def add(self, metrics: Metrics) -> Baseline | str | None:
        if self._start_ms is None:
            self._start_ms = metrics.timestamp_ms
        self.frames.append(metrics)
        if metrics.timestamp_ms - self._start_ms < self.seconds * 1000:
            return None
        try:
            return baseline_from_metrics(self.frames, "live calibration")
        except UsageError as exc:
            if "no person found" in str(exc):
                return "nobody was in view while calibrating"
            return str(exc).removeprefix("live calibration: ")

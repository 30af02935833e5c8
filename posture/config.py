"""One validated configuration: a TOML file, then POSTURE_<SECTION>_<KEY> environment
variables, then command-line flags. Unknown keys and out-of-range values are rejected with a
message that names them; every field carries its description (README lists them all).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from posture.errors import UsageError
from posture.paths import user_config_dir


def _f(default: Any, help: str, lo: float | None = None, hi: float | None = None,
       choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "lo": lo, "hi": hi,
                                            "choices": choices})


@dataclass(frozen=True)
class CameraConfig:
    device: str = _f("0", "camera index (0, 1, ...) or device path (/dev/video0)")
    width: int = _f(640, "requested capture width in pixels", 160, 3840)
    height: int = _f(480, "requested capture height in pixels", 120, 2160)
    open_timeout_s: float = _f(5.0, "give up opening the camera after this long", 0.5, 60)
    read_timeout_s: float = _f(3.0, "no frame for this long means the camera stalled", 0.5, 60)
    max_backoff_s: float = _f(30.0, "longest wait between attempts to reopen", 1, 600)
    release_when_away_s: float = _f(120.0, "release the camera after nobody is seen this long "
                                           "(0 = never)", 0, 3600)
    away_probe_s: float = _f(20.0, "while released for absence, look again every this many "
                                   "seconds", 2, 600)


@dataclass(frozen=True)
class MonitorConfig:
    sample_hz: float = _f(1.0, "background sampling rate while posture is good", 0.1, 30)
    active_hz: float = _f(5.0, "sampling rate while slouched or during an exercise", 0.1, 30)
    model: str = _f("full", "pose model variant", choices=("lite", "full", "heavy"))


@dataclass(frozen=True)
class PostureConfig:
    onset_s: float = _f(10.0, "a deviation must last this long before posture is slouched",
                        0, 600)
    recover_s: float = _f(2.0, "and be gone this long before it is good again", 0, 600)
    away_after_s: float = _f(3.0, "nobody seen this long: away", 0.5, 600)
    calibration: str = _f("", "calibration profile (.json); empty = the saved default if any")


@dataclass(frozen=True)
class AlertsConfig:
    enabled: bool = _f(True, "send slouch alerts")
    after_slouched_s: float = _f(60.0, "alert once slouched for this long", 0, 3600)
    cooldown_min: float = _f(15.0, "at least this long between two slouch alerts", 0, 1440)
    snooze_min: float = _f(30.0, "how long a snooze lasts", 1, 1440)
    quiet_hours: str = _f("", "no alerts in this local time range, e.g. 22:00-07:00")
    sound: bool = _f(False, "also ring the terminal bell / play a sound")
    desktop: bool = _f(True, "show desktop notifications (else terminal and dashboard only)")


@dataclass(frozen=True)
class BreaksConfig:
    enabled: bool = _f(True, "remind to stand up after long sitting")
    sit_limit_min: float = _f(45.0, "continuous sitting before a reminder", 1, 480)
    repeat_min: float = _f(10.0, "remind again after this long if still sitting", 1, 480)
    break_min: float = _f(2.0, "away (or standing) this long counts as a break", 0.1, 60)


@dataclass(frozen=True)
class HistoryConfig:
    enabled: bool = _f(True, "keep a history in SQLite")
    sample_interval_s: float = _f(1.0, "store at most one sample this often", 0.2, 60)
    retention_days: int = _f(30, "delete raw samples older than this (rollups stay)", 1, 3650)
    path: str = _f("", "database file; empty = history.sqlite3 in the user data directory")


@dataclass(frozen=True)
class Config:
    camera: CameraConfig = field(default_factory=CameraConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    posture: PostureConfig = field(default_factory=PostureConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    breaks: BreaksConfig = field(default_factory=BreaksConfig)
    history: HistoryConfig = field(default_factory=HistoryConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {s.name: {f.name: getattr(getattr(self, s.name), f.name)
                         for f in fields(getattr(self, s.name))} for s in fields(self)}


SECTIONS = {s.name: s.default_factory for s in fields(Config)}


def config_path() -> Path:
    if env := os.environ.get("POSTURE_CONFIG"):
        return Path(env).expanduser()
    return user_config_dir() / "config.toml"


def _coerce(section: str, f: Any, raw: Any, from_text: bool) -> Any:
    name, meta = f"{section}.{f.name}", f.metadata
    kind = type(f.default)
    try:
        if kind is bool:
            if from_text:
                if str(raw).lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError
                value = str(raw).lower() in ("1", "true", "yes", "on")
            elif isinstance(raw, bool):
                value = raw
            else:
                raise ValueError
        elif kind in (int, float):
            if isinstance(raw, bool) or (not from_text and not isinstance(raw, int | float)):
                raise ValueError
            value = kind(float(raw)) if kind is float else int(str(raw))
        else:
            if not isinstance(raw, str):
                raise ValueError
            value = raw
    except ValueError:
        raise UsageError(f"config {name}: expected a {kind.__name__}, got {raw!r}") from None
    lo, hi, choices = meta["lo"], meta["hi"], meta["choices"]
    if lo is not None and not lo <= value <= hi:
        raise UsageError(f"config {name}: {value!r} is outside [{lo}, {hi}]")
    if choices and value not in choices:
        raise UsageError(f"config {name}: {value!r} is not one of {', '.join(choices)}")
    if name == "alerts.quiet_hours" and value:
        parse_quiet_hours(value)
    return value


def _apply(config: Config, values: dict[str, dict[str, Any]], where: str,
           from_text: bool) -> Config:
    for section, table in values.items():
        if section not in SECTIONS:
            raise UsageError(f"{where}: unknown section [{section}]; known: "
                             f"{', '.join(SECTIONS)}")
        if not isinstance(table, dict):
            raise UsageError(f"{where}: [{section}] must be a table")
        current = getattr(config, section)
        known = {f.name: f for f in fields(current)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise UsageError(f"{where}: unknown key(s) in [{section}]: {', '.join(unknown)}")
        changes = {k: _coerce(section, known[k], v, from_text) for k, v in table.items()}
        config = replace(config, **{section: replace(current, **changes)})
    return config


def _from_env(environ: dict[str, str]) -> dict[str, dict[str, str]]:
    """POSTURE_ALERTS_COOLDOWN_MIN=5 -> {"alerts": {"cooldown_min": "5"}}."""
    out: dict[str, dict[str, str]] = {}
    for key, value in environ.items():
        if not key.startswith("POSTURE_"):
            continue
        rest = key[len("POSTURE_"):].lower()
        for section in SECTIONS:
            if rest.startswith(section + "_"):
                out.setdefault(section, {})[rest[len(section) + 1:]] = value
    return out


def load_config(path: Path | None = None, environ: dict[str, str] | None = None,
                overrides: dict[str, dict[str, Any]] | None = None) -> Config:
    """File (if it exists), then environment, then overrides (from flags)."""
    path = path or config_path()
    config = Config()
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{path}: cannot read config ({exc})") from exc
        config = _apply(config, data, str(path), from_text=False)
    env = _from_env(dict(os.environ) if environ is None else environ)
    config = _apply(config, env, "environment", from_text=True)
    return _apply(config, overrides or {}, "command line", from_text=False)


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """'22:00-07:00' -> (1320, 420) minutes after midnight."""
    try:
        start, end = text.split("-")
        minutes = []
        for part in (start, end):
            hours, mins = part.strip().split(":")
            if not (0 <= int(hours) < 24 and 0 <= int(mins) < 60):
                raise ValueError
            minutes.append(int(hours) * 60 + int(mins))
        return minutes[0], minutes[1]
    except ValueError:
        raise UsageError(f"config alerts.quiet_hours: {text!r} is not like 22:00-07:00") from None


def documentation() -> list[tuple[str, str, Any, str]]:
    """(section, key, default, description) for every setting."""
    return [(s, f.name, f.default, f.metadata["help"])
            for s, factory in SECTIONS.items() for f in fields(factory())]

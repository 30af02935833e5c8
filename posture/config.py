"""One validated configuration: a TOML file, then POSTURE_<SECTION>_<KEY> environment
variables, then command-line flags. Declared as pydantic models: unknown keys and
out-of-range values are rejected with a message that names them; every field carries its
bounds and description, from which the dashboard's settings page and the README's settings
table are generated (`posture config docs --markdown`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from posture.errors import SettingError, UsageError
from posture.files import history_path_problem, read_small_text
from posture.paths import user_config_dir
from posture.schema import StrictModel, Text, explain

QUIET_HOURS = r"^((([01]?[0-9]|2[0-3]):[0-5][0-9])-(([01]?[0-9]|2[0-3]):[0-5][0-9]))?$"
MAX_TEXT = 1024  # longest text setting (a path, a device name), in characters


class Section(StrictModel):
    pass


class CameraConfig(Section):
    device: Text = Field("0", max_length=256,
                        description="camera index (0, 1, ...) or device path (/dev/video0)")
    width: int = Field(640, ge=160, le=3840, description="requested capture width in pixels")
    height: int = Field(480, ge=120, le=2160, description="requested capture height in pixels")
    open_timeout_s: float = Field(5.0, ge=0.5, le=60,
                                  description="give up opening the camera after this long")
    read_timeout_s: float = Field(3.0, ge=0.5, le=60,
                                  description="no frame for this long means the camera stalled")
    max_backoff_s: float = Field(30.0, ge=1, le=600,
                                 description="longest wait between attempts to reopen")
    release_when_away_s: float = Field(
        120.0, ge=0, le=3600,
        description="release the camera after nobody is seen this long (0 = never)")
    away_probe_s: float = Field(
        20.0, ge=2, le=600,
        description="while released for absence, look again every this many seconds")


class MonitorConfig(Section):
    sample_hz: float = Field(1.0, ge=0.1, le=30,
                             description="background sampling rate while posture is good")
    active_hz: float = Field(5.0, ge=0.1, le=30,
                             description="sampling rate while slouched or a slouch is building")
    exercise_hz: float = Field(30.0, ge=1, le=60,
                               description="sampling rate during an exercise (capped by the "
                                           "camera's frame rate)")
    model: Literal["lite", "full", "heavy"] = Field("full", description="pose model variant")
    skip_still: bool = Field(True, description="skip the pose model on camera frames that "
                                               "have not changed (analysed at least every 5 s)")


def calibration_problem(path: Path) -> str | None:
    """Why the next start could not take its baseline from this path, or None: it must be
    there, a file or folder. (A profile's content is checked by
    posture.analysis.calibration.check_calibration_setting, where profiles are known.)"""
    try:
        if not path.exists():
            return "no such file"
        if not (path.is_file() or path.is_dir()):
            return "not a regular file (a pipe, device or socket)"
    except OSError as exc:
        return f"cannot use it ({exc.strerror})"
    return None


def _path_setting(problem_of: Callable[[Path], str | None]) -> Callable[[str], str]:
    """A validator of a path setting: empty, or a path the next start can use."""
    def check(value: str) -> str:
        if value and (problem := problem_of(Path(value).expanduser())):
            raise ValueError(f"{value!r}: {problem}")
        return value
    return check


class PostureConfig(Section):
    _readable = field_validator("calibration")(_path_setting(calibration_problem))

    onset_s: float = Field(10.0, ge=0, le=600, description="a deviation must last this long "
                                                           "before posture is slouched")
    recover_s: float = Field(2.0, ge=0, le=600,
                             description="and be gone this long before it is good again")
    away_after_s: float = Field(3.0, ge=0.5, le=600, description="nobody seen this long: away")
    reclined_alerts: bool = Field(False, description="treat leaning back against the backrest "
                                                     "(head over the trunk) as a slouch")
    calibration: Text = Field("", max_length=MAX_TEXT,
                             description="calibration profile (.json); empty = the saved "
                                         "default if any")


class AlertsConfig(Section):
    enabled: bool = Field(True, description="send slouch alerts")
    after_slouched_s: float = Field(60.0, ge=0, le=3600,
                                    description="alert once slouched for this long")
    cooldown_min: float = Field(15.0, ge=0, le=1440,
                                description="at least this long between two slouch alerts")
    snooze_min: float = Field(30.0, ge=1, le=1440, description="how long a snooze lasts")
    quiet_hours: str = Field("", max_length=11,
                              description="no alerts in this local time range, e.g. "
                                          "22:00-07:00")
    sound: bool = Field(False, description="also ring the terminal bell / play a sound")
    desktop: bool = Field(True, description="show desktop notifications (else terminal and "
                                            "dashboard only)")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if not re.fullmatch(QUIET_HOURS, value):
            raise ValueError(f"{value!r} is not like 22:00-07:00")
        return value


class BreaksConfig(Section):
    enabled: bool = Field(True, description="remind to stand up after long sitting")
    sit_limit_min: float = Field(45.0, ge=1, le=480,
                                 description="continuous sitting before a reminder")
    repeat_min: float = Field(10.0, ge=1, le=480,
                              description="remind again after this long if still sitting")
    break_min: float = Field(2.0, ge=0.1, le=60,
                             description="away (or standing) this long counts as a break")


class HistoryConfig(Section):
    _usable = field_validator("path")(_path_setting(history_path_problem))

    enabled: bool = Field(True, description="keep a history in SQLite")
    sample_interval_s: float = Field(1.0, ge=0.2, le=60,
                                     description="store at most one sample this often")
    retention_days: int = Field(30, ge=1, le=3650,
                                description="delete raw samples older than this (rollups stay)")
    path: Text = Field("", max_length=MAX_TEXT, description="database file; empty = "
                                                           "history.sqlite3 in the user data "
                                                           "directory")


class Config(Section):
    camera: CameraConfig = Field(default_factory=CameraConfig)
    monitor: MonitorConfig = Field(default_factory=MonitorConfig)
    posture: PostureConfig = Field(default_factory=PostureConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    breaks: BreaksConfig = Field(default_factory=BreaksConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return self.model_dump()

    def with_changes(self, changes: dict[str, dict[str, Any]]) -> Config:
        """A copy with some values replaced (trusted values from code, not validated)."""
        return self.model_copy(update={
            s: getattr(self, s).model_copy(update=v) for s, v in changes.items()})


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation for name, field in Config.model_fields.items()  # type: ignore[misc]
}


def config_path() -> Path:
    if env := os.environ.get("POSTURE_CONFIG"):
        return Path(env).expanduser()
    return user_config_dir() / "config.toml"


def _message(error: Any, where: str) -> str:
    loc = error["loc"]
    if error["type"] == "extra_forbidden" and len(loc) == 1:
        return f"{where}: unknown section [{loc[0]}]; known: {', '.join(SECTIONS)}"
    if error["type"] == "extra_forbidden":
        return f"{where}: {explain(error)}"
    if tuple(loc) == ("alerts", "quiet_hours"):
        return f"config alerts.quiet_hours: {error.get('input')!r} is not like 22:00-07:00"
    return f"config {explain(error)}"


def validate(data: dict[str, Any], where: str, strict: bool = True) -> Config:
    """A Config from nested plain values; strict for typed sources (TOML, JSON), lax for
    text (environment variables)."""
    try:
        return Config.model_validate(data, strict=strict)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"][:2]) if len(
            error["loc"]) >= 2 else ""
        raise SettingError(_message(error, where), field) from None


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for section, table in changes.items():
        if isinstance(table, dict) and isinstance(merged.get(section), dict):
            merged[section].update(table)
        else:
            merged[section] = table
    return merged


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


def read_file(path: Path, missing_ok: bool = True) -> dict[str, Any]:
    """The values a config file sets (validated), as nested plain values; {} if there is no
    file and `missing_ok`."""
    if missing_ok and not path.exists() and not path.is_symlink():
        return {}
    text = read_small_text(path, "config file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: cannot read config ({exc})") from exc
    except RecursionError:
        raise UsageError(f"{path}: cannot read config (nested too deeply)") from None
    validate(data, str(path))
    return data


def load_config(path: Path | None = None, environ: dict[str, str] | None = None,
                overrides: dict[str, dict[str, Any]] | None = None,
                missing_ok: bool = False) -> Config:
    """File, then environment, then overrides (from flags).

    A file named on purpose (`path`, or $POSTURE_CONFIG) must exist unless `missing_ok`:
    silently running on defaults would hide a typing mistake. The default file is optional.
    """
    named = path is not None or bool(os.environ.get("POSTURE_CONFIG"))
    if path is None and named and not missing_ok and not config_path().exists():
        raise UsageError(f"POSTURE_CONFIG={config_path()}: no such config file")
    data = read_file(path or config_path(), missing_ok=missing_ok or not named)
    env = _from_env(dict(os.environ) if environ is None else environ)
    for section, table in env.items():
        # Each environment variable is checked on its own, so the message names it.
        validate({section: table}, "environment", strict=False)
    merged = validate(merge(data, env), "environment", strict=False).model_dump()
    return validate(merge(merged, overrides or {}), "command line")


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """'22:00-07:00' -> (1320, 450) minutes after midnight."""
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
        raise ValueError(f"{text!r} is not like 22:00-07:00") from None


@dataclass(frozen=True)
class SettingDoc:
    section: str
    key: str
    default: Any
    help: str
    type: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


def documentation() -> list[SettingDoc]:
    """Every setting with its default, meaning, type and bounds, from the models."""
    docs = []
    for section, model in SECTIONS.items():
        schema = model.model_json_schema()["properties"]
        for key, field in model.model_fields.items():
            prop = schema[key]
            docs.append(SettingDoc(
                section, key, field.default, field.description or "",
                "choice" if "enum" in prop else prop.get("type", "string"),
                prop.get("minimum"), prop.get("maximum"), tuple(prop.get("enum", ()))))
    return docs


def markdown_table() -> str:
    """The README's settings table."""
    rows = ["| setting | default | range | meaning |", "|---|---|---|---|"]
    for d in documentation():
        default = ("true" if d.default else "false") if isinstance(d.default, bool) else (
            f'"{d.default}"' if isinstance(d.default, str) else f"{d.default:g}")
        span = (" / ".join(d.choices) if d.choices else
                f"{d.minimum:g} to {d.maximum:g}" if d.minimum is not None
                and d.maximum is not None else "")
        rows.append(f"| `{d.section}.{d.key}` | {default} | {span} | {d.help} |")
    return "\n".join(rows)

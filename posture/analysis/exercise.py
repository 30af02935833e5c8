"""Exercises as data: a TOML schema, validated on load, and the built-in library.

Schema (every key below; unknown keys are rejected):

    [exercise]
    name = "squat"                 # identifier, [a-z0-9_]
    title = "Bodyweight squat"
    view = "any"                   # side | front | any: the camera view it needs
    kind = "reps"                  # reps (move and return) | hold (reach and stay)
    cue = "Sit back ..."           # one line shown when it starts

    [signal]
    metric = "knee_deg"            # a metric name (see README, "How posture is judged")
    direction = "decrease"         # the way the metric moves from rest toward the end position
    rest = 175.0                   # optional: value at rest; learned from the start if absent
    end = 90.0                     # optional: metric value at the end position; adapts to the
                                   # user's first full reps if absent
    min_range = 40.0               # smallest rest-to-end distance ever assumed
    enter = 0.5                    # fraction of the range that starts a rep
    exit = 0.25                    # fraction it must come back below to finish it (hysteresis)
    full = 0.8                     # fraction a valid rep must reach; less is a partial rep
    hold_s = 0.0                   # seconds to hold at the end position (form must hold too)
    min_rep_s = 0.6                # shorter movements are jitter, never a rep
    max_rep_s = 30.0               # longer ones end as partial reps

    [[rules]]                      # form rules, checked while a rep or hold is under way
    metric = "head_tilt_deg"
    relative = true                # measured as change from the value at the rep's start
    min = -10.0                    # optional lower bound
    max = 10.0                     # optional upper bound
    fault = "nodding"
    cue = "Keep your chin level: slide your head back, don't nod"

    [bounce]                       # holds only, optional: oscillation of the held signal
    amplitude = 0.08               # fraction of the range, peak to trough
    min_hz = 0.7
    max_hz = 3.0
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from posture.analysis.metrics import METRIC_NAMES
from posture.errors import UsageError

_SECTIONS = {"exercise", "signal", "rules", "bounce"}
_EXERCISE_KEYS = {"name", "title", "view", "kind", "cue"}
_SIGNAL_KEYS = {"metric", "direction", "rest", "end", "min_range", "enter", "exit", "full",
                "hold_s", "min_rep_s", "max_rep_s"}
_RULE_KEYS = {"metric", "relative", "min", "max", "fault", "cue"}
_BOUNCE_KEYS = {"amplitude", "min_hz", "max_hz"}


@dataclass(frozen=True)
class FormRule:
    metric: str
    fault: str
    cue: str
    min: float | None = None
    max: float | None = None
    relative: bool = False

    def broken(self, value: float | None, start: float | None) -> bool:
        if value is None or (self.relative and start is None):
            return False
        x = value - start if self.relative else value
        return (self.min is not None and x < self.min) or (self.max is not None and x > self.max)


@dataclass(frozen=True)
class Bounce:
    amplitude: float = 0.08
    min_hz: float = 0.7
    max_hz: float = 3.0


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    metric: str
    direction: float  # +1 increase, -1 decrease
    view: str = "any"
    kind: str = "reps"
    cue: str = ""
    rest: float | None = None
    end: float | None = None
    min_range: float = 1.0
    enter: float = 0.5
    exit: float = 0.25
    full: float = 0.8
    hold_s: float = 0.0
    min_rep_s: float = 0.6
    max_rep_s: float = 30.0
    rules: tuple[FormRule, ...] = ()
    bounce: Bounce | None = None


def _check_keys(table: object, allowed: set[str], where: str) -> dict:
    if not isinstance(table, dict):
        raise ValueError(f"[{where}] must be a table")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(f"unknown key(s) in [{where}]: {', '.join(unknown)}")
    return table


def _number(table: dict, key: str, default: float | None, lo: float, hi: float,
            where: str) -> float | None:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"[{where}] {key} must be a number within [{lo}, {hi}], got {value!r}")
    return float(value)


def _metric(table: dict, where: str) -> str:
    metric = table.get("metric")
    if metric not in METRIC_NAMES:
        raise ValueError(f"[{where}] metric {metric!r} is not one of: {', '.join(METRIC_NAMES)}")
    return metric


def parse_exercise(data: dict) -> Exercise:
    """Validate a parsed TOML document; raise ValueError naming the bad key."""
    _check_keys(data, _SECTIONS, "top level")
    ex = _check_keys(data.get("exercise"), _EXERCISE_KEYS, "exercise")
    sig = _check_keys(data.get("signal"), _SIGNAL_KEYS, "signal")
    name = ex.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,40}", name):
        raise ValueError(f"[exercise] name must be 1-40 of [a-z0-9_], got {name!r}")
    choices = {"view": ("side", "front", "any"), "kind": ("reps", "hold")}
    for key, allowed in choices.items():
        if ex.get(key, allowed[-1] if key == "view" else "reps") not in allowed:
            raise ValueError(f"[exercise] {key} must be one of {allowed}, got {ex.get(key)!r}")
    direction = sig.get("direction")
    if direction not in ("increase", "decrease"):
        raise ValueError(f"[signal] direction must be increase or decrease, got {direction!r}")
    big = 1e6
    fields = {k: _number(sig, k, d, lo, hi, "signal") for k, d, lo, hi in (
        ("rest", None, -big, big), ("end", None, -big, big), ("min_range", 1.0, 1e-6, big),
        ("enter", 0.5, 0.05, 0.95), ("exit", 0.25, 0.0, 0.9), ("full", 0.8, 0.05, 1.0),
        ("hold_s", 0.0, 0.0, 600.0), ("min_rep_s", 0.6, 0.0, 60.0),
        ("max_rep_s", 30.0, 0.5, 3600.0))}
    if fields["exit"] >= fields["enter"]:
        raise ValueError("[signal] exit must be below enter")
    rules = []
    for i, rule in enumerate(data.get("rules", [])):
        where = f"rules {i + 1}"
        rule = _check_keys(rule, _RULE_KEYS, where)
        if not isinstance(rule.get("fault"), str) or not isinstance(rule.get("cue", ""), str):
            raise ValueError(f"[{where}] needs a fault name and a cue text")
        rules.append(FormRule(_metric(rule, where), rule["fault"], rule.get("cue", ""),
                              _number(rule, "min", None, -big, big, where),
                              _number(rule, "max", None, -big, big, where),
                              bool(rule.get("relative", False))))
    bounce = None
    if "bounce" in data:
        b = _check_keys(data["bounce"], _BOUNCE_KEYS, "bounce")
        bounce = Bounce(*(_number(b, k, d, 1e-6, 100.0, "bounce") for k, d in
                          (("amplitude", 0.08), ("min_hz", 0.7), ("max_hz", 3.0))))
    return Exercise(name=name, title=str(ex.get("title", name)), metric=_metric(sig, "signal"),
                    direction=1.0 if direction == "increase" else -1.0,
                    view=ex.get("view", "any"), kind=ex.get("kind", "reps"),
                    cue=str(ex.get("cue", "")), rules=tuple(rules), bounce=bounce, **fields)


def load_exercise_file(path: str | Path) -> Exercise:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return parse_exercise(data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read exercise file ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from exc


def builtin_names() -> list[str]:
    folder = resources.files("posture.analysis") / "exercises"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_exercise(name: str) -> Exercise:
    if name not in builtin_names():
        raise UsageError(f"unknown exercise {name!r}; built in: {', '.join(builtin_names())}")
    text = (resources.files("posture.analysis") / "exercises" / f"{name}.toml").read_text("utf-8")
    return parse_exercise(tomllib.loads(text))

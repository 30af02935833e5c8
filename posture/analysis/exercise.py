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
    min_range = 40.0               # smallest rest-to-end distance ever assumed: the smallest
                                   # real response of a full movement
    enter = 0.5                    # fraction of min_range from rest that starts a movement
    exit = 0.25                    # fraction of min_range it must come back below to finish
                                   # (hysteresis); both stay put whatever the user's range
    full = 0.8                     # fraction of the range in use (end - rest, else the user's
                                   # own from their valid reps) a valid rep must reach
    hold_at = 0.8                  # optional: fraction of that range timed as holding (default:
                                   # full); above full, ramps in and out are not counted as held
    rest_spread = 0.02             # optional: how far the signal wanders at rest within a second,
                                   # peak to peak, as measured (default: 0.2 of min_range); the
                                   # rest is learned from a second that wanders no more than
                                   # 1.5 times this
    hold_s = 0.0                   # seconds to hold at the end position (form must hold too)
    min_rep_s = 0.6                # shorter movements are jitter, never a rep
    max_rep_s = 30.0               # longer ones end as partial reps

    [[rules]]                      # form rules, checked while a rep or hold is under way
    metric = "head_tilt_deg"
    relative = true                # measured as change from the value at the rep's start
    min = -10.0                    # optional lower bound
    max = 10.0                     # optional upper bound
    widen = 6.0                    # optional: the bounds widen by this much at the full range,
                                   # in proportion to how far the rep has got (0 at rest): a
                                   # tuck may carry some chin-down, a nod (no retraction) none
    fault = "nodding"
    cue = "Keep your chin level: slide your head back, don't nod"

    [template]                     # optional: the demonstrated movement, whole-body
    count = true                   # true: reps are counted by matching this sequence (the
                                   # signal above then only describes it); false: it only
                                   # scores each rep's similarity (0-100) to the demonstration
    threshold = 0.5                # the largest matching cost of a rep of this movement, in
                                   # units of the template's own movement (analysis/spring.py)
    form = 0.1                     # the largest cost of a rep done as shown: above it (up to
                                   # threshold) a rep is partial and names the body part that
                                   # differed most; a rep costing this has similarity 50
    frames = [[...], ...]          # motion features (analysis/motion.py) of one repetition,
                                   # one list of 33 numbers per frame at 30 frames a second

    [bounce]                       # holds only, optional: oscillation of the held signal
    amplitude = 0.08               # fraction of the range, peak to trough
    min_hz = 0.7
    max_hz = 3.0
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from posture.analysis.motion import SIZE as MOTION_SIZE
from posture.analysis.registry import METRIC_NAMES
from posture.errors import UsageError
from posture.files import read_small_text
from posture.paths import user_exercises_dir
from posture.schema import NAME_PATTERN, StrictModel, Text, first_error, unknown_name

NAME_RE = re.compile(NAME_PATTERN)

BIG = 1e6
TEMPLATE_MAX_FRAMES = 900  # 30 s at 30 frames a second


@dataclass(frozen=True)
class FormRule:
    metric: str
    fault: str
    cue: str
    min: float | None = None
    max: float | None = None
    relative: bool = False
    widen: float = 0.0

    def broken(self, value: float | None, start: float | None, progress: float = 0.0) -> bool:
        """Outside the bounds; they widen by `widen` times progress (clamped to 0-1), how far
        the rep has got toward its end position."""
        if value is None or (self.relative and start is None):
            return False
        x = value - start if self.relative and start is not None else value
        give = self.widen * min(max(progress, 0.0), 1.0)
        return ((self.min is not None and x < self.min - give)
                or (self.max is not None and x > self.max + give))


@dataclass(frozen=True)
class Bounce:
    amplitude: float = 0.08
    min_hz: float = 0.7
    max_hz: float = 3.0


@dataclass(frozen=True)
class Template:
    """One demonstrated repetition as motion features, and how far from it a rep may be."""

    frames: tuple[tuple[float, ...], ...]
    threshold: float  # the largest cost of a rep of this movement at all
    form: float  # the largest cost of a rep done as shown (valid)
    count: bool = True


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
    hold_at: float | None = None
    rest_spread: float | None = None
    hold_s: float = 0.0
    min_rep_s: float = 0.6
    max_rep_s: float = 30.0
    rules: tuple[FormRule, ...] = ()
    bounce: Bounce | None = None
    template: Template | None = None


def _known_metric(name: str) -> str:
    if name not in METRIC_NAMES:
        raise ValueError(f"metric {name!r} is not one of: {', '.join(METRIC_NAMES)}")
    return name


class ExerciseSection(StrictModel):
    name: str = Field(pattern=NAME_PATTERN, description="identifier, 1-40 of [a-z0-9_]")
    title: Text | None = Field(None, max_length=200)
    view: Literal["side", "front", "any"] = Field("any", description="the view it needs")
    kind: Literal["reps", "hold"] = "reps"
    cue: Text = Field("", max_length=500, description="one line shown when it starts")


class SignalSection(StrictModel):
    metric: str = Field(description="a metric name")
    direction: Literal["increase", "decrease"]
    rest: float | None = Field(None, ge=-BIG, le=BIG)
    end: float | None = Field(None, ge=-BIG, le=BIG)
    min_range: float = Field(1.0, gt=0, le=BIG)
    enter: float = Field(0.5, ge=0.05, le=0.95)
    exit: float = Field(0.25, ge=0.0, le=0.9)
    full: float = Field(0.8, ge=0.05, le=1.0)
    hold_at: float | None = Field(None, ge=0.05, le=1.0)
    rest_spread: float | None = Field(None, gt=0, le=BIG)
    hold_s: float = Field(0.0, ge=0.0, le=600.0)
    min_rep_s: float = Field(0.6, ge=0.0, le=60.0)
    max_rep_s: float = Field(30.0, ge=0.5, le=3600.0)

    _metric = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _order(self) -> SignalSection:
        if self.exit >= self.enter:
            raise ValueError("exit must be below enter")
        if self.min_rep_s >= self.max_rep_s:
            raise ValueError("min_rep_s must be below max_rep_s")
        if self.hold_at is not None and self.hold_at < self.full:
            raise ValueError("hold_at must not be below full")
        if self.rest is not None and self.end is not None:
            toward_end = self.end - self.rest
            if toward_end == 0:
                raise ValueError(f"rest and end are both {self.rest}: no movement to count")
            if (toward_end > 0) != (self.direction == "increase"):
                raise ValueError(f"end {self.end} is not in the direction "
                                 f"{self.direction!r} from rest {self.rest}")
        return self


class RuleSection(StrictModel):
    metric: str
    relative: bool = False
    min: float | None = Field(None, ge=-BIG, le=BIG)
    max: float | None = Field(None, ge=-BIG, le=BIG)
    widen: float = Field(0.0, ge=0.0, le=BIG)
    fault: str = Field(pattern=NAME_PATTERN)
    cue: Text = Field("", max_length=500)

    _metric = field_validator("metric")(_known_metric)

    @model_validator(mode="after")
    def _bounds(self) -> RuleSection:
        if self.min is None and self.max is None:
            raise ValueError("a rule needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class BounceSection(StrictModel):
    amplitude: float = Field(0.08, gt=0, le=100)
    min_hz: float = Field(0.7, gt=0, le=100)
    max_hz: float = Field(3.0, gt=0, le=100)

    @model_validator(mode="after")
    def _band(self) -> BounceSection:
        if self.min_hz >= self.max_hz:
            raise ValueError("min_hz must be below max_hz")
        return self


class TemplateSection(StrictModel):
    count: bool = True
    threshold: float = Field(gt=0, le=100)
    form: float = Field(gt=0, le=100)
    frames: list[list[float]] = Field(min_length=3, max_length=TEMPLATE_MAX_FRAMES)

    @field_validator("frames")
    @classmethod
    def _shape(cls, frames: list[list[float]]) -> list[list[float]]:
        for i, frame in enumerate(frames):
            if len(frame) != MOTION_SIZE:
                raise ValueError(f"frame {i} has {len(frame)} numbers, not {MOTION_SIZE}")
            if not all(math.isfinite(x) and abs(x) <= 10 for x in frame):
                raise ValueError(f"frame {i} holds a number that is not finite or beyond 10")
        return frames


class ExerciseFile(StrictModel):
    exercise: ExerciseSection
    signal: SignalSection
    rules: list[RuleSection] = Field(default_factory=list, max_length=50)
    bounce: BounceSection | None = None
    template: TemplateSection | None = None

    @model_validator(mode="after")
    def _template_counts_reps(self) -> ExerciseFile:
        if self.template is not None and self.template.form > self.template.threshold:
            raise ValueError("template.form must not be above template.threshold")
        if self.template is not None and self.template.count and (
                self.exercise.kind != "reps" or self.signal.hold_s):
            raise ValueError("an exercise counted by its template is a reps exercise with no "
                             "hold (set count = false to only score its reps)")
        return self

    def build(self) -> Exercise:
        ex, sig = self.exercise, self.signal
        return Exercise(
            name=ex.name, title=ex.title or ex.name, metric=sig.metric,
            direction=1.0 if sig.direction == "increase" else -1.0, view=ex.view,
            kind=ex.kind, cue=ex.cue, rest=sig.rest, end=sig.end, min_range=sig.min_range,
            enter=sig.enter, exit=sig.exit, full=sig.full, hold_at=sig.hold_at,
            rest_spread=sig.rest_spread, hold_s=sig.hold_s,
            min_rep_s=sig.min_rep_s, max_rep_s=sig.max_rep_s,
            rules=tuple(FormRule(r.metric, r.fault, r.cue, r.min, r.max, r.relative, r.widen)
                        for r in self.rules),
            bounce=None if self.bounce is None else Bounce(
                self.bounce.amplitude, self.bounce.min_hz, self.bounce.max_hz),
            template=None if self.template is None else Template(
                tuple(tuple(f) for f in self.template.frames), self.template.threshold,
                self.template.form, self.template.count))


def parse_exercise(data: dict) -> Exercise:
    """Validate a parsed TOML document; raise ValueError naming the bad key."""
    try:
        return ExerciseFile.model_validate(data, strict=True).build()
    except ValidationError as exc:
        raise ValueError(first_error(exc)) from None


def load_exercise_file(path: str | Path) -> Exercise:
    path = Path(path)
    data = read_toml(path, "exercise file")
    try:
        return parse_exercise(data)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from exc


def read_toml(path: Path, what: str) -> dict:
    """A small TOML file through the one file gate, with one-line errors."""
    text = read_small_text(path, what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: {exc}") from exc
    except RecursionError:
        raise UsageError(f"{path}: cannot read {what} (nested too deeply)") from None


def builtin_names() -> list[str]:
    folder = resources.files("posture.analysis") / "exercises"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def learned_names(folder: Path | None = None) -> list[str]:
    """The exercises taught by demonstration, in the user's exercise folder (or folder); a
    file named like a built-in is not one of them (the built-in is the one that runs)."""
    folder = user_exercises_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    builtins = set(builtin_names())
    return sorted(p.stem for p in folder.glob("*.toml")
                  if NAME_RE.fullmatch(p.stem) and p.stem not in builtins)


def find_exercise(name: str, folder: Path | None = None) -> Exercise:
    """A built-in exercise, else one taught by demonstration, by name."""
    if name in builtin_names():
        return builtin_exercise(name)
    folder = user_exercises_dir() if folder is None else folder
    if name in learned_names(folder):
        # The file's name is the exercise's, whatever its [exercise] name says (renamed).
        return replace(load_exercise_file(folder / f"{name}.toml"), name=name)
    raise UsageError(unknown_name("exercise", name, builtin_names() + learned_names(folder)))


def builtin_exercise(name: str) -> Exercise:
    if name not in builtin_names():
        raise UsageError(unknown_name("exercise", name, builtin_names()))
    text = (resources.files("posture.analysis") / "exercises" / f"{name}.toml").read_text("utf-8")
    return parse_exercise(tomllib.loads(text))

"""Programs: a therapist's prescription as a TOML file, and a runner that records adherence.

    [program]
    name = "desk_neck_basics"      # identifier, [a-z0-9_]
    title = "Neck basics for desk workers"
    prescribed_by = "optional: who prescribed it"

    [[steps]]                      # done in order
    exercise = "chin_tuck"         # a built-in or learned exercise, or instead:
    # file = "my_exercise.toml"    # an exercise file, relative to the program file
    sets = 2                       # 1-20
    reps = 10                      # reps per set (holds: how many holds), 1-200
    hold_s = 5.0                   # optional: overrides the exercise's hold
    rest_s = 30.0                  # rest after each set; movement then is not counted
    cue = "optional: what to do in this step, shown and spoken when it starts"

Built-in routines live in posture/analysis/programs/ (`posture exercises` lists them).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from posture.analysis.events import Event, ProgramCompleted, RepFinished, SetCompleted
from posture.analysis.exercise import Exercise, find_exercise, load_exercise_file, read_toml
from posture.analysis.metrics import Metrics
from posture.analysis.repcount import RepCounter
from posture.errors import UsageError
from posture.schema import NAME_PATTERN, StrictModel, Text, first_error, unknown_name


@dataclass(frozen=True)
class Step:
    exercise: Exercise
    sets: int
    reps: int
    rest_s: float
    cue: str = ""


@dataclass(frozen=True)
class Program:
    name: str
    title: str
    prescribed_by: str
    steps: tuple[Step, ...]


class ProgramSection(StrictModel):
    name: str = Field(pattern=NAME_PATTERN, description="identifier, 1-40 of [a-z0-9_]")
    title: Text | None = Field(None, max_length=200)
    prescribed_by: Text = Field("", max_length=200)


class StepSection(StrictModel):
    exercise: str | None = Field(None, max_length=40, description="a built-in or learned exercise")
    file: str | None = Field(None, max_length=1024,
                             description="an exercise file, relative to the program file")
    sets: int = Field(1, ge=1, le=20)
    reps: int = Field(1, ge=1, le=200, description="reps per set (holds: how many holds)")
    hold_s: float | None = Field(None, ge=0, le=600,
                                 description="overrides the exercise's hold")
    rest_s: float = Field(30.0, ge=0, le=600, description="rest after each set")
    cue: Text = Field("", max_length=500, description="what to do in this step")

    @model_validator(mode="after")
    def _one_source(self) -> StepSection:
        if (self.exercise is None) == (self.file is None):
            raise ValueError("needs exactly one of exercise or file")
        return self


class ProgramFile(StrictModel):
    program: ProgramSection
    steps: list[StepSection] = Field(min_length=1, max_length=50)


def _step(spec: StepSection, folder: Path) -> Step:
    exercise = (find_exercise(spec.exercise) if spec.exercise is not None
                else load_exercise_file(folder / str(spec.file)))
    if spec.hold_s is not None:
        exercise = replace(exercise, hold_s=spec.hold_s)
    return Step(exercise, spec.sets, spec.reps, spec.rest_s, spec.cue or exercise.cue)


def load_program(path: str | Path) -> Program:
    path = Path(path)
    return parse_program(read_toml(path, "program file"), path.parent, str(path))


def builtin_program_names() -> list[str]:
    folder = resources.files("posture.analysis") / "programs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_program(name: str) -> Program:
    if name not in builtin_program_names():
        raise UsageError(unknown_name("routine", name, builtin_program_names()))
    text = (resources.files("posture.analysis") / "programs" / f"{name}.toml").read_text("utf-8")
    return parse_program(tomllib.loads(text), Path("."), f"built-in program {name}")


def parse_program(data: object, folder: Path, where: str = "program") -> Program:
    """Validate a parsed program document; exercise files are relative to `folder`."""
    try:
        spec = ProgramFile.model_validate(data, strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["loc"] == ("steps",) and error["type"] in ("missing", "too_short"):
            raise UsageError(f"{where}: a program needs at least one [[steps]] entry") from None
        raise UsageError(f"{where}: {first_error(exc)}") from None
    head = spec.program
    return Program(head.name, head.title or head.name, head.prescribed_by,
                   tuple(_step(s, folder) for s in spec.steps))


class SessionRunner:
    """Walks through a program's steps and sets, counting reps with one RepCounter per step."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.step_index = 0
        self.set_number = 1
        self.finished = False
        self._counters = [RepCounter(step.exercise) for step in program.steps]
        self._sets_done = [0] * len(program.steps)
        self._set_start_reps = 0
        self._rest_until_ms: int | None = None
        self.last_set: tuple[int, int] | None = None  # (step index, set) last completed

    @property
    def step(self) -> Step | None:
        return None if self.finished else self.program.steps[self.step_index]

    @property
    def counters(self) -> tuple[RepCounter, ...]:
        return tuple(self._counters)

    @property
    def counter(self) -> RepCounter:
        """The current step's counter (the last step's once finished)."""
        return self._counters[self.step_index]

    @property
    def set_reps(self) -> int:
        """Valid reps in the set under way."""
        return self.counter.reps - self._set_start_reps

    def rest_left_s(self, t_ms: int) -> float | None:
        """Seconds of rest left between sets, or None while a set is under way."""
        if self._rest_until_ms is None or t_ms >= self._rest_until_ms:
            return None
        return (self._rest_until_ms - t_ms) / 1000

    def update(self, metrics: Metrics) -> list[Event]:
        t = metrics.timestamp_ms
        if self.finished:
            return []
        if self._rest_until_ms is not None:
            if t < self._rest_until_ms:
                return []
            self._rest_until_ms = None
            self._counters[self.step_index].rearm()
        counter = self._counters[self.step_index]
        events = counter.update(metrics)
        step = self.program.steps[self.step_index]
        if counter.reps - self._set_start_reps >= step.reps:
            events += self._end_set(t)
        return events

    def _end_set(self, t: int) -> list[Event]:
        step = self.program.steps[self.step_index]
        self._sets_done[self.step_index] += 1
        self.last_set = (self.step_index, self.set_number)
        events: list[Event] = [SetCompleted(t, step.exercise.name, self.set_number, step.sets)]
        self._rest_until_ms = t + int(step.rest_s * 1000)
        if self.set_number < step.sets:
            self.set_number += 1
        elif self.step_index + 1 < len(self.program.steps):
            self.step_index, self.set_number = self.step_index + 1, 1
        else:
            self.finished = True
            events.append(ProgramCompleted(t, self.program.name))
        self._set_start_reps = self._counters[self.step_index].reps
        return events

    def finished_reps(self) -> list[RepFinished]:
        return [r for counter in self._counters for r in counter.finished]

    def close(self, t_ms: int) -> list[Event]:
        return [] if self.finished else self._counters[self.step_index].close(t_ms)

    def adherence(self) -> dict[str, Any]:
        """Done against prescribed, per step and overall (a share of prescribed reps)."""
        steps, done_total, due_total = [], 0, 0
        for step, counter, sets_done in zip(self.program.steps, self._counters,
                                            self._sets_done):
            due = step.sets * step.reps
            done = min(counter.reps, due)
            faults = Counter(f for r in counter.finished for f in r.faults)
            steps.append({"exercise": step.exercise.name,
                          "prescribed": {"sets": step.sets, "reps": step.reps,
                                         "hold_s": step.exercise.hold_s},
                          "done": {"sets": sets_done, "reps": counter.reps,
                                   "partial_reps": counter.partial_reps,
                                   "hold_s": [r.hold_s for r in counter.finished
                                              if isinstance(r, RepFinished) and r.valid]},
                          "faults": dict(faults), "completion": round(done / due, 3)})
            done_total, due_total = done_total + done, due_total + due
        return {"name": self.program.name, "title": self.program.title,
                "prescribed_by": self.program.prescribed_by, "completed": self.finished,
                "completion": round(done_total / due_total, 3), "steps": steps}

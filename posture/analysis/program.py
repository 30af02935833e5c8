"""Programs: a therapist's prescription as a TOML file, and a runner that records adherence.

    [program]
    name = "desk_neck_basics"      # identifier, [a-z0-9_]
    title = "Neck basics for desk workers"
    prescribed_by = "optional: who prescribed it"

    [[steps]]                      # done in order
    exercise = "chin_tuck"         # a built-in exercise, or instead:
    # file = "my_exercise.toml"    # an exercise file, relative to the program file
    sets = 2                       # 1-20
    reps = 10                      # reps per set (holds: how many holds), 1-200
    hold_s = 5.0                   # optional: overrides the exercise's hold
    rest_s = 30.0                  # rest after each set; movement then is not counted
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from posture.analysis.events import Event, ProgramCompleted, RepFinished, SetCompleted
from posture.analysis.exercise import Exercise, builtin_exercise, load_exercise_file
from posture.analysis.metrics import Metrics
from posture.analysis.repcount import RepCounter
from posture.errors import UsageError

_PROGRAM_KEYS = {"name", "title", "prescribed_by"}
_STEP_KEYS = {"exercise", "file", "sets", "reps", "hold_s", "rest_s"}


@dataclass(frozen=True)
class Step:
    exercise: Exercise
    sets: int
    reps: int
    rest_s: float


@dataclass(frozen=True)
class Program:
    name: str
    title: str
    prescribed_by: str
    steps: tuple[Step, ...]


def _int(table: dict, key: str, default: int, lo: int, hi: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"[{where}] {key} must be a whole number within [{lo}, {hi}], "
                         f"got {value!r}")
    return value


def _seconds(table: dict, key: str, default: float | None, where: str) -> float | None:
    value = table.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 600:
        raise ValueError(f"[{where}] {key} must be seconds within [0, 600], got {value!r}")
    return float(value)


def _step(raw: object, number: int, folder: Path) -> Step:
    where = f"steps {number}"
    if not isinstance(raw, dict):
        raise ValueError(f"[{where}] must be a table")
    unknown = sorted(set(raw) - _STEP_KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) in [{where}]: {', '.join(unknown)}")
    if ("exercise" in raw) == ("file" in raw):
        raise ValueError(f"[{where}] needs exactly one of exercise or file")
    exercise = (builtin_exercise(str(raw["exercise"])) if "exercise" in raw
                else load_exercise_file(folder / str(raw["file"])))
    hold = _seconds(raw, "hold_s", None, where)
    if hold is not None:
        exercise = replace(exercise, hold_s=hold)
    return Step(exercise, _int(raw, "sets", 1, 1, 20, where), _int(raw, "reps", 1, 1, 200, where),
                _seconds(raw, "rest_s", 30.0, where))


def load_program(path: str | Path) -> Program:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        head = data.get("program")
        if not isinstance(head, dict):
            raise ValueError("missing [program] table")
        unknown = sorted(set(head) - _PROGRAM_KEYS) + sorted(set(data) - {"program", "steps"})
        if unknown:
            raise ValueError(f"unknown key(s): {', '.join(unknown)}")
        name = head.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,40}", name):
            raise ValueError(f"[program] name must be 1-40 of [a-z0-9_], got {name!r}")
        steps = data.get("steps")
        if not isinstance(steps, list) or not steps:
            raise ValueError("a program needs at least one [[steps]] entry")
        return Program(name, str(head.get("title", name)), str(head.get("prescribed_by", "")),
                       tuple(_step(s, i + 1, path.parent) for i, s in enumerate(steps)))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read program ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: {exc}") from exc


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

    @property
    def step(self) -> Step | None:
        return None if self.finished else self.program.steps[self.step_index]

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
        if counter.reps - self._set_start_reps >= self.step.reps:
            events += self._end_set(t)
        return events

    def _end_set(self, t: int) -> list[Event]:
        step = self.step
        self._sets_done[self.step_index] += 1
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

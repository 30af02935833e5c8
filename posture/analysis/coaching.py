"""Coaching: what an exercise or routine shows the person while it runs, and how it went.

One status model serves every path (the dashboard's /api/status, its live stream, the
terminal of `posture run`, the history): what runs (its title, step k of n, set s of S, reps
done of the target), the phase of the movement (rest, moving, hold with the time held
against the target, release), the last rep's result, and the one cue that fits the moment:
- a form fault's cue the moment it happens;
- a rejected rep's cue when it ends (its form rule's own cue, else the registry's);
- "Good rep" only after a valid rep;
- nothing once the next movement starts (an old cue never lingers over a good rep);
- a routine's step cue when the step starts, and the rest between sets.
When a session ends, summary() says how it went: duration, valid and partial reps by fault,
the hold times and one tip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from posture.analysis.events import (
    Event,
    FormFault,
    ProgramCompleted,
    RepFinished,
    RepStarted,
    SetCompleted,
)
from posture.analysis.exercise import Exercise, builtin_exercise, builtin_names
from posture.analysis.matchreps import PART_FAULT
from posture.analysis.program import Program, SessionRunner, builtin_program, builtin_program_names
from posture.analysis.registry import FAULTS, fault_label
from posture.analysis.repcount import RepCounter

# Depth is shown as a share of the person's usual range, capped: past this the model's
# overshoot, not the person, makes the number.
DEPTH_SHOWN_MAX = 1.5


@lru_cache(maxsize=256)
def title_of(name: str | None, program: bool = False) -> str:
    """A built-in exercise's or routine's title; any other name in words."""
    if not name:
        return ""
    if program and name in builtin_program_names():
        return builtin_program(name).title
    if not program and name in builtin_names():
        return builtin_exercise(name).title
    return name.replace("_", " ")


def exercise_cues(exercise: Exercise) -> dict[str, str]:
    """An exercise's form-rule cues by fault."""
    return {r.fault: r.cue for r in exercise.rules if r.cue}


@lru_cache(maxsize=256)
def rule_cues(name: str) -> dict[str, str]:
    """A built-in exercise's form-rule cues by fault (other exercises: none known)."""
    return exercise_cues(builtin_exercise(name)) if name in builtin_names() else {}


def fault_cue(fault: str, cues: Mapping[str, str], hold_s: float = 0.0) -> str:
    """What to do about a fault: the exercise's own cue for its form rules, else the
    registry's (a hold says how long)."""
    if fault in cues:
        return cues[fault]
    if fault == "hold_too_short" and hold_s:
        return f"Stay in the end position for the full {hold_s:g} s, then release"
    info = FAULTS.get(fault)
    if info is None and fault.endswith(PART_FAULT):  # against a demonstration's template
        return f"Move your {fault[:-len(PART_FAULT)].replace('_', ' ')} as in the demonstration"
    return info.cue if info else f"Watch out for {fault_label(fault)}"


def rep_cue(rep: RepFinished, cues: Mapping[str, str], hold_s: float = 0.0) -> str:
    """The cue of a finished rep: "Good rep", or what to fix first (form before depth and
    hold, in the order they happened)."""
    if rep.valid:
        return "Good rep"
    return fault_cue(rep.faults[0], cues, hold_s) if rep.faults else "Try again"


def rep_result(rep: RepFinished, cues: Mapping[str, str], hold_s: float = 0.0
               ) -> dict[str, Any]:
    """A finished rep in words: valid, faults with their labels, depth as a share of the
    usual range (percent, capped), hold time and its cue."""
    return {"valid": rep.valid, "faults": [{"fault": f, "label": fault_label(f)}
                                           for f in rep.faults],
            "depth_pct": round(100 * max(0.0, min(rep.depth, DEPTH_SHOWN_MAX))),
            "hold_s": round(rep.hold_s, 1), "cue": rep_cue(rep, cues, hold_s),
            "similarity": rep.similarity}


def summary(title: str, kind: str, started_ms: int, ended_ms: int,
            reps: Sequence[RepFinished], hold_targets: Mapping[str, float],
            cues: Mapping[str, Mapping[str, str]], completion: float | None = None,
            prescribed: int | None = None) -> dict[str, Any]:
    """How a session went: duration, valid and partial reps by fault, hold times, one tip.

    hold_targets and cues are keyed by exercise name; completion is a routine's share of
    its prescribed reps."""
    valid = [r for r in reps if r.valid]
    partial = [r for r in reps if not r.valid]
    faults = Counter(f for r in partial for f in r.faults)
    holds = [round(r.hold_s, 1) for r in valid if hold_targets.get(r.exercise)]
    if not reps:
        tip = ("No movement was counted: start from a still resting position, in the view "
               "the exercise needs, then move all the way and come back.")
    elif faults:
        fault, _ = faults.most_common(1)[0]
        example = next(r for r in partial if fault in r.faults)
        tip = fault_cue(fault, cues.get(example.exercise, {}),
                        hold_targets.get(example.exercise, 0.0)) + "."
    elif prescribed and len(valid) < prescribed:
        tip = (f"{_all(len(valid))} had good form; {prescribed - len(valid)} of the "
               f"{prescribed} prescribed are still to do.")
    else:
        tip = f"{_all(len(valid))} had good form: keep it that way."
    return {"title": title, "kind": kind, "started_ms": started_ms, "ended_ms": ended_ms,
            "duration_s": round(max(0, ended_ms - started_ms) / 1000),
            "reps": len(valid), "partial_reps": len(partial),
            "faults": [{"fault": f, "label": fault_label(f), "count": n}
                       for f, n in faults.most_common()],
            "holds_s": holds, "completion": completion, "prescribed": prescribed,
            "tip": tip}


def _all(n: int) -> str:
    return "The one rep" if n == 1 else f"All {n} reps"


def summary_lines(s: Mapping[str, Any]) -> list[str]:
    """A session summary for the terminal."""
    minutes, seconds = divmod(int(s["duration_s"]), 60)
    head = f"{s['title']}: {s['reps']} good reps"
    if s.get("prescribed"):
        head += f" of {s['prescribed']} prescribed"
    head += f", {s['partial_reps']} partial, in {minutes} min {seconds:02d} s"
    lines = [head]
    if s["faults"]:
        lines.append("  partial because: " + ", ".join(f"{f['label']} ({f['count']})"
                                                       for f in s["faults"]))
    if s["holds_s"]:
        lines.append("  holds: " + ", ".join(f"{h:g} s" for h in s["holds_s"]))
    lines.append(f"  tip: {s['tip']}")
    return lines


class Coach:
    """The exercise or routine under way, as a person sees it: fed the session's events,
    asked for status() after each frame."""

    def __init__(self, counter: RepCounter | None, runner: SessionRunner | None,
                 started_ms: int, wall_offset_ms: int) -> None:
        assert (counter is None) != (runner is None)
        self.counter, self.runner = counter, runner
        self.started_ms = started_ms
        self.wall_offset_ms = wall_offset_ms
        self.last_rep: dict[str, Any] | None = None
        self._step = -1
        self.cue: dict[str, str] = {"text": "", "kind": ""}
        self.step_cue = ""  # what to do in this exercise or step, shown while it lasts
        self._follow_step()

    @property
    def exercise(self) -> Exercise:
        return self.runner.counter.exercise if self.runner else self._counter().exercise

    def _counter(self) -> RepCounter:
        if self.runner is not None:
            return self.runner.counter
        assert self.counter is not None
        return self.counter

    def _follow_step(self) -> None:
        """A routine's new step: its cue is the one shown."""
        runner = self.runner
        if runner is None:
            if self._step < 0:
                self._step = 0
                self.step_cue = self.exercise.cue
                self.cue = {"text": self.step_cue, "kind": "step"}
            return
        if runner.step_index != self._step and not runner.finished:
            self._step = runner.step_index
            step = runner.program.steps[self._step]
            self.step_cue = step.cue or step.exercise.cue
            self.cue = {"text": self.step_cue, "kind": "step"}

    def handle(self, events: Iterable[Event]) -> None:
        ex, events = self.exercise, list(events)
        for event in events:
            if isinstance(event, RepStarted):
                self.cue = {"text": "", "kind": ""}
            elif isinstance(event, FormFault):
                self.cue = {"text": event.cue, "kind": "fault"}
            elif isinstance(event, RepFinished):
                self.last_rep = rep_result(event, exercise_cues(ex), ex.hold_s)
                self.cue = {"text": self.last_rep["cue"],
                            "kind": "good" if event.valid else "partial"}
            elif isinstance(event, SetCompleted) and self.runner is not None:
                left = self.runner.rest_left_s(event.t_ms)
                rest = f": rest {left:.0f} s" if left else ""
                self.cue = {"text": f"Set {event.set_number} of {event.sets} done{rest}",
                            "kind": "step"}
            elif isinstance(event, ProgramCompleted):
                self.cue = {"text": "Routine complete: well done", "kind": "good"}
        if not any(isinstance(e, SetCompleted) for e in events):
            self._follow_step()

    def status(self, t_ms: int) -> dict[str, Any]:
        counter, runner, ex = self._counter(), self.runner, self.exercise
        phase, held = counter.moment()
        out: dict[str, Any] = {
            "kind": "routine" if runner else "exercise",
            "name": runner.program.name if runner else ex.name,
            "title": runner.program.title if runner else ex.title,
            "started_ms": self.started_ms + self.wall_offset_ms,
            "exercise": {"name": ex.name, "title": ex.title, "kind": ex.kind,
                         "view": ex.view, "hold_s": ex.hold_s, "cue": ex.cue},
            "reps": counter.reps, "partial_reps": counter.partial_reps, "target": None,
            "step": 1, "steps": 1, "set": 1, "sets": 1,
            "total_reps": counter.reps, "total_target": None,
            "phase": phase, "rest_left_s": None,
            "hold": ({"held_s": round(held, 1), "target_s": ex.hold_s}
                     if ex.hold_s else None),
            "cue": dict(self.cue), "step_cue": self.step_cue, "last_rep": self.last_rep}
        if runner is not None:
            step = runner.program.steps[runner.step_index]
            rest = runner.rest_left_s(t_ms)
            out.update({
                "reps": runner.set_reps, "target": step.reps,
                "step": runner.step_index + 1, "steps": len(runner.program.steps),
                "set": runner.set_number, "sets": step.sets,
                "total_reps": sum(min(c.reps, s.sets * s.reps) for c, s in zip(
                    runner.counters, runner.program.steps)),
                "total_target": sum(s.sets * s.reps for s in runner.program.steps)})
            if runner.finished:
                out["phase"] = "done"
            elif rest is not None:
                out.update(phase="set_rest", rest_left_s=round(rest))
            if out["phase"] in ("done", "set_rest") and runner.last_set is not None:
                # The set just completed stays on show (k of k) until the next one starts.
                index, number = runner.last_set
                done = runner.program.steps[index]
                out.update(reps=done.reps, target=done.reps, step=index + 1, set=number,
                           sets=done.sets)
        return out


def session_summary(counter: RepCounter | None, runner: SessionRunner | None,
                    started_ms: int, ended_ms: int) -> dict[str, Any]:
    """The summary of the session under way (wall times in, as stored)."""
    if runner is not None:
        program: Program = runner.program
        exercises = [s.exercise for s in program.steps]
        adherence = runner.adherence()
        return summary(program.title, "routine", started_ms, ended_ms,
                       runner.finished_reps(), {e.name: e.hold_s for e in exercises},
                       {e.name: exercise_cues(e) for e in exercises},
                       adherence["completion"],
                       sum(s.sets * s.reps for s in program.steps))
    assert counter is not None
    ex = counter.exercise
    return summary(ex.title, "exercise", started_ms, ended_ms, counter.finished,
                   {ex.name: ex.hold_s}, {ex.name: exercise_cues(ex)})

"""Every built-in exercise counts a clean sequence of its own signal, and programs track
adherence across sets and steps."""

import json
from dataclasses import replace

import pytest
from conftest import REPO, run_cli
from synthetic import side_pose

from posture.analysis.events import FormFault, ProgramCompleted, SetCompleted
from posture.analysis.exercise import builtin_exercise, builtin_names
from posture.analysis.metrics import METRIC_NAMES, Metrics, View, compute_metrics
from posture.analysis.program import SessionRunner, load_program
from posture.analysis.repcount import RepCounter
from posture.errors import UsageError

FPS = 15


def signal_metrics(exercise, reps, t0_ms=0, extra_hold_s=1.0, rest_s=2.0, depth=1.0):
    """Clean metrics: the exercise's signal moving rest -> end -> rest `reps` times."""
    start = exercise.rest if exercise.rest is not None else 10.0
    span = abs(exercise.end - start) if exercise.end is not None else 2 * exercise.min_range
    end = start + exercise.direction * span * depth
    view = View.SIDE if exercise.view == "side" else View.FRONT
    moves = []
    for _ in range(reps):
        moves += [(rest_s, start, start), (1.0, start, end),
                  (exercise.hold_s + extra_hold_s, end, end), (1.0, end, start)]
    moves.append((rest_s, start, start))
    out, t = [], t0_ms
    for seconds, a, b in moves:
        n = int(seconds * FPS)
        for i in range(n):
            value = a + (b - a) * (i + 1) / n
            values = dict.fromkeys(METRIC_NAMES)
            values.update({rule.metric: 0.0 for rule in exercise.rules})
            values[exercise.metric] = value
            out.append(Metrics(t, True, view, (640, 480), values))
            t += 1000 // FPS
    return out


@pytest.mark.parametrize("name", builtin_names())
def test_each_builtin_counts_clean_reps(name):
    ex = builtin_exercise(name)
    reps = 3 if ex.kind == "reps" else 1
    counter, events = RepCounter(ex), []
    for m in signal_metrics(ex, reps):
        events += counter.update(m)
    assert (counter.reps, counter.partial_reps) == (reps, 0), counter.finished
    assert not [e for e in events if isinstance(e, FormFault)]


@pytest.mark.parametrize("name", ["squat", "upper_trap_stretch"])
def test_each_builtin_calls_a_shallow_rep_partial(name):
    ex = builtin_exercise(name)
    counter = RepCounter(ex)
    for m in signal_metrics(ex, 1, depth=0.6):
        counter.update(m)
    assert counter.reps == 0 and counter.partial_reps == 1
    assert "too_shallow" in counter.finished[0].faults


def test_press_up_from_landmarks_with_hips_lifting_fault():
    ex = builtin_exercise("mckenzie_press_up")
    counter, events = RepCounter(ex), []
    t = 0

    last = (90, 180)

    def feed(trunk, hip, seconds):
        """Move to (trunk, hip) over 0.5 s, as a body does, then stay."""
        nonlocal t, events, last
        ramp = int(0.5 * FPS)
        for i in range(int(seconds * FPS)):
            k = min(1.0, (i + 1) / ramp)
            tr, hp = last[0] + k * (trunk - last[0]), last[1] + k * (hip - last[1])
            pose = side_pose(neck_deg=min(tr + 10, 100), trunk_deg=tr, hip_deg=hp,
                             size=(800, 1000), t_ms=t)
            events += counter.update(compute_metrics(pose, View.SIDE))
            t += 1000 // FPS
        last = (trunk, hip)

    # side_pose points the thigh trunk_deg + hip_deg round from straight up: 270 is flat
    # behind the hip, so (50, 220) lifts the trunk 40 degrees with the thigh on the floor.
    for _ in range(2):
        feed(90, 180, 2)
        feed(50, 220, 3)
    feed(90, 180, 2)
    feed(50, 200, 3)  # the hips come 20 degrees off the floor too
    feed(90, 180, 2)
    assert counter.reps == 2
    # The hold never ran with the hips up, so the rep also misses its hold.
    assert counter.finished[-1].faults == ("hips_lifting", "hold_too_short")
    assert any(isinstance(e, FormFault) and "hips on the floor" in e.cue for e in events)


def test_wrong_view_is_told_once():
    ex = builtin_exercise("chin_tuck")
    counter, faults = RepCounter(ex), []
    for i in range(60):
        m = Metrics(i * 100, True, View.FRONT, (640, 480), dict.fromkeys(METRIC_NAMES))
        faults += [e for e in counter.update(m) if isinstance(e, FormFault)]
    assert [f.fault for f in faults] == ["wrong_view"]
    assert faults[0].t_ms == 2000 and "side-on" in faults[0].cue


PROGRAM = """
[program]
name = "neck_and_legs"
title = "Neck and legs"
prescribed_by = "A. Therapist"

[[steps]]
exercise = "chin_tuck"
sets = 2
reps = 2
hold_s = 3.0
rest_s = 5.0

[[steps]]
file = "my_squat.toml"
sets = 1
reps = 3
"""


@pytest.fixture()
def program_file(tmp_path):
    squat = (REPO / "posture" / "analysis" / "exercises" / "squat.toml").read_text()
    (tmp_path / "my_squat.toml").write_text(squat.replace('name = "squat"',
                                                          'name = "my_squat"'))
    path = tmp_path / "program.toml"
    path.write_text(PROGRAM)
    return path


def test_program_runs_sets_rests_and_steps(program_file):
    program = load_program(program_file)
    assert [s.exercise.name for s in program.steps] == ["chin_tuck", "my_squat"]
    assert program.steps[0].exercise.hold_s == 3.0
    runner, events, t = SessionRunner(program), [], 0
    tuck, squat = program.steps[0].exercise, program.steps[1].exercise
    # Set 1: two tucks; movement during the 5 s rest is ignored; set 2: two more tucks.
    for block in (signal_metrics(tuck, 2), signal_metrics(tuck, 1, rest_s=1.0),
                  signal_metrics(tuck, 2, rest_s=3.0), signal_metrics(squat, 2)):
        for m in block:
            m = replace(m, timestamp_ms=t)
            events += runner.update(m)
            t += 1000 // FPS
    sets = [(e.exercise, e.set_number) for e in events if isinstance(e, SetCompleted)]
    assert sets == [("chin_tuck", 1), ("chin_tuck", 2)]
    assert not runner.finished
    report = runner.adherence()
    assert report["steps"][0]["done"]["reps"] == 4 and report["steps"][0]["completion"] == 1.0
    assert report["steps"][1]["done"]["reps"] == 2
    assert report["completion"] == pytest.approx(6 / 7, abs=1e-3)
    for m in signal_metrics(squat, 1):
        events += runner.update(replace(m, timestamp_ms=t))
        t += 1000 // FPS
    assert runner.finished and isinstance(events[-1], ProgramCompleted)
    assert runner.adherence()["completion"] == 1.0


@pytest.mark.parametrize("text, message", [
    ("[program]\nname='x'\n", "at least one"),
    ("[program]\nname='x'\n[[steps]]\nexercise='chin_tuck'\nsets=0\n", "sets"),
    ("[program]\nname='x'\n[[steps]]\nexercise='nope'\n", "unknown exercise"),
    ("[program]\nname='x'\n[[steps]]\nexercise='squat'\nfile='a.toml'\n", "exactly one"),
    ("[program]\nname='x'\nrepeat=2\n[[steps]]\nexercise='squat'\n", "unknown key"),
])
def test_bad_programs_are_rejected(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_program(path)


def test_program_on_real_squat_clip(tmp_path, data_dir, model_path):
    path = tmp_path / "legs.toml"
    path.write_text("[program]\nname='legs'\n[[steps]]\nexercise='squat'\nsets=1\nreps=3\n")
    proc = run_cli("analyze", str(data_dir / "exercise" / "squats_2_plus_partial.mp4"),
                   "--program", str(path), "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    program = json.loads(proc.stdout)["program"]
    assert program["completion"] == pytest.approx(2 / 3, abs=1e-3)
    done = program["steps"][0]["done"]
    assert (done["sets"], done["reps"], done["partial_reps"]) == (0, 2, 1)
    assert len(done["hold_s"]) == 2 and program["completed"] is False

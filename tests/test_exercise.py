"""Exercise engine: schema, rep counting on real clips and on controlled landmark sequences."""

import sys

import numpy as np
import pytest
from conftest import REPO, run_cli
from synthetic import HEAD, real_jittered, rotate_about, with_landmarks

from posture.analysis.events import FormFault
from posture.analysis.exercise import builtin_exercise, builtin_names, load_exercise_file
from posture.analysis.metrics import View, compute_metrics
from posture.analysis.repcount import RepCounter
from posture.errors import UsageError
from posture.vision.estimator import PoseEstimator, RunningMode
from posture.vision.pose import Landmark as L
from posture.vision.pose import Pose
from posture.vision.sources import read_image_rgb

sys.path.insert(0, str(REPO / "benchmarks"))
from exercise_accuracy import retime  # noqa: E402

SQUAT_FILE = REPO / "posture" / "analysis" / "exercises" / "squat.toml"


@pytest.mark.parametrize("clip, reps, partial", [("squats_3.mp4", 3, 0),
                                                 ("squats_2_plus_partial.mp4", 2, 1)])
def test_squat_clips_counted_from_exercise_file(data_dir, model_path, clip, reps, partial):
    import json

    proc = run_cli("analyze", str(data_dir / "exercise" / clip), "--json", "--quiet",
                   "--exercise-file", str(SQUAT_FILE))
    assert proc.returncode == 0, proc.stderr
    ex = json.loads(proc.stdout)["exercise"]
    assert (ex["name"], ex["reps"], ex["partial_reps"]) == ("squat", reps, partial)
    assert len(ex["reps_detail"]) == reps + partial


@pytest.fixture(scope="module")
def squats_trace(tmp_path_factory, data_dir, model_path):
    """The real squats' landmark trace, through the model once."""
    from posture.live.offline import AnalyzeOptions, analyze_path

    trace = tmp_path_factory.mktemp("squats") / "squats_3.jsonl"
    analyze_path(data_dir / "exercise" / "squats_3.mp4",
                 AnalyzeOptions(landmarks_out=trace, show_progress=False))
    return trace


@pytest.mark.parametrize("speed, skip_ms, reps", [(1.0, 0, 3), (2.0, 0, 3), (2.0, 600, 3),
                                                   (2.0, 1200, 2)])
def test_brisk_set_with_a_learned_rest_counted_from_its_first_rep(
        tmp_path, squats_trace, speed, skip_ms, reps):
    """A user's squat file without rest or end: the rest is learned. The real squats replayed
    at twice the speed (about 0.8 s a squat) and cut to begin with no still second (0.6 s:
    0.15 s before the first squat; 1.2 s: as the first ends, two to go) count every squat,
    the first included: the rest comes from the turning points of the first swings, and
    the whole-body movement (feet still) is not taken for a camera cut."""
    import json

    text = SQUAT_FILE.read_text().replace("rest = 175.0", "").replace("end = 95.0", "")
    own = tmp_path / "my_squat.toml"
    own.write_text(text.replace('name = "squat"', 'name = "my_squat"'))
    trace = retime(squats_trace, tmp_path / "brisk.jsonl", speed, skip_ms)
    proc = run_cli("analyze", str(trace), "--json", "--quiet", "--exercise-file", str(own))
    assert proc.returncode == 0, proc.stderr
    ex = json.loads(proc.stdout)["exercise"]
    assert (ex["name"], ex["reps"], ex["partial_reps"]) == ("my_squat", reps, 0)


def test_builtins_load():
    assert {"chin_tuck", "squat", "upper_trap_stretch"} <= set(builtin_names())
    for name in builtin_names():
        assert builtin_exercise(name).name == name


@pytest.mark.parametrize("text, message", [
    ('[exercise]\nname="x"\n[signal]\nmetric="knee_deg"\ndirection="up"\n', "direction"),
    ('[exercise]\nname="x"\ncolour="red"\n[signal]\nmetric="knee_deg"\n'
     'direction="decrease"\n', "unknown key"),
    ('[exercise]\nname="x"\n[signal]\nmetric="elbow"\ndirection="decrease"\n', "metric"),
    ('[exercise]\nname="x"\n[signal]\nmetric="knee_deg"\ndirection="decrease"\nenter=0.2\n'
     'exit=0.3\n', "exit must be below enter"),
    ("not toml [", "Expected"),
    ('[exercise]\nname="x"\n[signal]\nmetric="knee_deg"\ndirection="decrease"\nrules=5\n',
     "unknown key"),
    ('[exercise]\nname="x"\n[signal]\nmetric="knee_deg"\ndirection="decrease"\n'
     '[[rules]]\nmetric="knee_deg"\nmin=5.0\nmax=1.0\nfault="f"\n', "min 5.0 is above max"),
    ('[exercise]\nname="x"\n[signal]\nmetric="knee_deg"\ndirection="decrease"\n'
     '[bounce]\nmin_hz=3.0\nmax_hz=1.0\n', "min_hz must be below max_hz"),
    ('[exercise]\nname="x"\n[signal]\nmetric="knee_deg"\ndirection="decrease"\nrest=nan\n',
     "rest"),
    ('rules = 5\n[exercise]\nname="x"\n[signal]\nmetric="knee_deg"\ndirection="decrease"\n',
     "rules"),
])
def test_bad_exercise_files_are_rejected(tmp_path, text, message):
    path = tmp_path / "ex.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_exercise_file(path)


def test_bad_exercise_cli_exits_2(tmp_path):
    path = tmp_path / "ex.toml"
    path.write_text("[exercise]\n")
    proc = run_cli("analyze", "x.mp4", "--exercise-file", str(path))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("analyze", "x.mp4", "--exercise", "cartwheel")
    assert proc.returncode == 2 and "unknown exercise" in proc.stderr


# --- chin tucks on controlled sequences built from a real person's landmarks ----------------

FPS = 15


def tuck(pose, amount, nod_deg=0.0):
    """Head glided back by `amount` head lengths (chin level), or nodded by nod_deg."""
    px = pose.pixels.copy()
    head_len = np.linalg.norm(px[L.LEFT_EAR] - px[L.NOSE])
    px[HEAD] -= (amount * head_len, 0.0)
    if nod_deg:
        px[HEAD] = rotate_about(px[HEAD], px[L.LEFT_EAR], nod_deg)
    return with_landmarks(pose, px)


def sequence(sitting, plan, seed=0):
    """plan: (seconds, kind, amount) steps; kinds: still, tuck, nod, gone.

    Every frame carries the jitter of a real still-sitting trace (the real model's own
    frame-to-frame noise), starting at a seed-dependent frame.
    """
    poses, t, frame = [], 0, seed * 37
    for seconds, kind, amount in plan:
        n = int(seconds * FPS)
        for i in range(n):
            # Ease in and out over the first and last 0.4 s of each tuck.
            ramp = min(1.0, (i + 1) / (0.4 * FPS), (n - i) / (0.4 * FPS))
            if kind == "gone":
                pose = Pose.empty(t, sitting.image_size)
            elif kind == "tuck":
                pose = real_jittered(tuck(sitting, amount * ramp), t, frame)
            elif kind == "nod":
                pose = real_jittered(tuck(sitting, 0.05 * ramp, nod_deg=amount * ramp), t,
                                     frame)
            else:
                pose = real_jittered(sitting, t, frame)
            poses.append(pose)
            t += 1000 // FPS
            frame += 1
    return poses


def count(poses, exercise="chin_tuck"):
    counter, events = RepCounter(builtin_exercise(exercise)), []
    for pose in poses:
        events += counter.update(compute_metrics(pose, View.SIDE))
    events += counter.close(poses[-1].timestamp_ms)
    return counter, events


def test_chin_tucks_varied_tempo_depth_and_hold(sitting):
    plan = [(2, "still", 0), (3.5, "tuck", 0.35), (2, "still", 0), (5, "tuck", 0.5),
            (1.5, "still", 0), (3, "tuck", 0.38), (4, "still", 0), (6, "tuck", 0.45),
            (2, "still", 0)]
    counter, _ = count(sequence(sitting, plan))
    assert (counter.reps, counter.partial_reps) == (4, 0), counter.finished


def test_shallow_short_and_nodding_reps_do_not_count(sitting):
    plan = [(2, "still", 0), (4, "tuck", 0.4),  # range learned here: valid
            (2, "still", 0), (4, "tuck", 0.22),  # too shallow
            (2, "still", 0), (1.6, "tuck", 0.4),  # too short a hold
            (2, "still", 0), (4, "nod", 25),  # a nod is not a rep
            (2, "still", 0), (4, "tuck", 0.4), (2, "still", 0)]
    counter, events = count(sequence(sitting, plan))
    faults = [r.faults for r in counter.finished if not r.valid]
    assert counter.reps == 2, counter.finished
    assert ("too_shallow",) in [tuple(f for f in fs if f == "too_shallow") for fs in faults]
    assert any("hold_too_short" in fs for fs in faults)
    nods = [e for e in events if isinstance(e, FormFault) and e.fault == "nodding"]
    assert nods and "Nodding instead of retracting" in nods[0].cue


def test_leaving_the_frame_mid_rep_is_partial(sitting):
    plan = [(2, "still", 0), (4, "tuck", 0.4), (2, "still", 0), (1.5, "tuck", 0.4),
            (3, "gone", 0), (2, "still", 0), (4, "tuck", 0.4), (2, "still", 0)]
    counter, _ = count(sequence(sitting, plan))
    assert (counter.reps, counter.partial_reps) == (2, 1)
    assert "left_frame" in [f for r in counter.finished for f in r.faults]


def test_still_sitting_counts_nothing(sitting):
    counter, events = count(sequence(sitting, [(30, "still", 0)]))
    assert counter.finished == [] and events == []


# --- stretch holds and bouncing -----------------------------------------------------------

def hold_metrics(bend_at, seconds=30, fps=15):
    from posture.analysis.metrics import Metrics

    out = []
    for i in range(int(seconds * fps)):
        t = i * 1000 // fps
        values = {"head_side_bend_deg": bend_at(t / 1000), "shoulder_tilt_deg": 1.0}
        out.append(Metrics(t, True, View.FRONT, (640, 480), values))
    return out


def run_hold(bend_at):
    counter, events = RepCounter(builtin_exercise("upper_trap_stretch")), []
    for m in hold_metrics(bend_at):
        events += counter.update(m)
    return counter, events


def ramp_then(level_at):
    return lambda s: 30 * min(1.0, s / 2) if s < 2 else level_at(s)


def test_steady_hold_is_timed_without_faults():
    counter, events = run_hold(ramp_then(lambda s: 28 + 0.4 * np.sin(2 * np.pi * 0.3 * s)))
    counter.close(30000)
    assert not [e for e in events if isinstance(e, FormFault)]
    assert counter.reps == 1 and counter.finished[0].hold_s >= 25


@pytest.mark.parametrize("hz", [1.0, 1.5, 2.0])
def test_bouncing_hold_raises_fault_and_pauses_timer(hz):
    counter, events = run_hold(ramp_then(lambda s: 28 + 4 * np.sin(2 * np.pi * hz * s)))
    counter.close(30000)
    bounces = [e for e in events if isinstance(e, FormFault) and e.fault == "bouncing"]
    assert bounces and "don't bounce" in bounces[0].cue
    assert counter.reps == 0


# --- end to end through the real pose model ------------------------------------------------

def test_front_chin_tucks_in_synthesized_video_counted_exactly(tmp_path, data_dir, model_path):
    """A video made from a real (MIT-licensed) webcam photo, the head moved back and forth."""
    import json

    import cv2
    from videos import tuck_plan_frames, write_video

    photo = read_image_rgb(data_dir / "front_webcam" / "upright" / "sample-1542640808958-4.jpg")
    photo = cv2.resize(photo, (448, 448), interpolation=cv2.INTER_CUBIC)
    with PoseEstimator(model_path, RunningMode.IMAGE) as est:
        pose = est.detect(photo, 0)
    # Five tucks of 8-10% apparent head size (3-4 cm back at laptop distance), held 3-5 s,
    # at varied tempo; then a half-hearted 3% one that must not count.
    plan = [(2, 0), (4, 0.08), (2, 0), (5, 0.1), (1.5, 0), (3.5, 0.09), (3, 0), (4, 0.08),
            (2, 0), (5, 0.1), (2, 0), (3, 0.03), (2, 0)]
    video = tmp_path / "tucks.mp4"
    write_video(video, tuck_plan_frames(photo, pose, plan, fps=15), fps=15)
    proc = run_cli("analyze", str(video), "--exercise", "chin_tuck_front", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["view"] == "front"
    assert result["exercise"]["reps"] == 5, result["exercise"]
    assert all(r["hold_s"] >= 2.0 for r in result["exercise"]["reps_detail"] if r["valid"])


# --- where the rest comes from and when it is dropped (logic, on plain metric values) -----

def tuck_metrics(plan, fps=30, view=View.SIDE, size=100.0):
    """plan: (seconds, head_forward, view or None, framing size[, head tilt]) steps;
    head_forward (and the tilt, 12 degrees unless given) moves to each step's value over its
    first 0.3 s, with small alternating jitter."""
    from posture.analysis.metrics import Framing, Metrics

    out, t, value, tilt = [], 0, None, 12.0
    for seconds, target, step_view, step_size, *rest in plan:
        start, tilt_from = (target if value is None else value), tilt
        tilt_to = rest[0] if rest else tilt_from
        n = int(seconds * fps)
        for i in range(n):
            k = min(1.0, (i + 1) / (0.3 * fps))
            value = start + (target - start) * k
            tilt = tilt_from + (tilt_to - tilt_from) * k
            values = {"head_forward": value + (0.004 if i % 2 else -0.004),
                      "head_tilt_deg": tilt, "ear_above_shoulder": 2.5, "yaw_deg": 80.0}
            out.append(Metrics(t, True, step_view or view, (640, 480), values,
                               framing=Framing(320.0, 240.0, step_size or size)))
            t += 1000 // fps
    return out


def run_counter(metrics, exercise="chin_tuck"):
    counter, events = RepCounter(builtin_exercise(exercise)), []
    for m in metrics:
        events += counter.update(m)
    events += counter.close(metrics[-1].timestamp_ms)
    return counter, events


REST, TUCK = 0.8, 0.62  # a real tuck's measured response: -0.1 to -0.2 head lengths


def test_first_tuck_after_a_still_second_counts():
    counter, _ = run_counter(tuck_metrics([(1.5, REST, None, None), (3.5, TUCK, None, None),
                                           (2, REST, None, None)]))
    assert (counter.reps, counter.partial_reps) == (1, 0), counter.finished


def test_no_rest_is_learned_while_the_signal_moves():
    """Moving from the first frame on (no still second), nothing is counted until the person
    has held still; the first frame is never taken as the rest."""
    plan = [(0.5, REST, None, None), (0.5, TUCK, None, None)] * 4 + [
        (1.5, REST, None, None), (3.5, TUCK, None, None), (2, REST, None, None)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (1, 0), counter.finished
    assert counter.finished[0].start_ms > 4000


def test_turning_to_the_front_mid_rep_counts_nothing():
    plan = [(1.5, REST, None, None), (1.0, TUCK, None, None),
            (3.0, 1.4, View.FRONT, None),  # turned to talk: a different signal
            (1.5, REST, None, None), (3.5, TUCK, None, None), (2, REST, None, None)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (1, 0), counter.finished


def test_zoom_cut_drops_the_rest_and_the_rep_under_way():
    """After a 1.4x zoom the signal reads differently (here 0.15 lower): a rep begun before
    the cut is not counted, and the new rest is learned before counting again."""
    plan = [(1.5, REST, None, None), (1.0, TUCK, None, None),
            (2.0, REST - 0.15, None, 140.0), (3.5, TUCK - 0.15, None, 140.0),
            (2.0, REST - 0.15, None, 140.0)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (1, 0), counter.finished
    assert counter.finished[0].start_ms > 4500


def test_range_follows_the_held_level_not_the_peak():
    """The model overshoots on the way into a tuck; a range set from that peak would fail the
    next honest tuck. The user's range is the level held."""
    plan = [(1.5, REST, None, None), (0.4, REST - 0.32, None, None), (3.0, TUCK, None, None),
            (2.0, REST, None, None), (3.0, TUCK, None, None), (2.0, REST, None, None)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (2, 0), counter.finished
    assert counter.span == pytest.approx(REST - TUCK, abs=0.02)


def test_hold_survives_a_short_dip_but_not_a_long_one():
    dip = [(1.5, REST, None, None), (1.2, TUCK, None, None), (0.2, REST - 0.05, None, None),
           (1.2, TUCK, None, None), (2.0, REST, None, None)]
    counter, _ = run_counter(tuck_metrics(dip))
    assert counter.reps == 1 and counter.finished[0].hold_s >= 2.0, counter.finished
    long_dip = [(1.5, REST, None, None), (1.2, TUCK, None, None),
                (0.8, REST - 0.07, None, None), (1.2, TUCK, None, None),
                (2.0, REST, None, None)]
    counter, _ = run_counter(tuck_metrics(long_dip))
    assert counter.reps == 0 and "hold_too_short" in counter.finished[0].faults


def test_a_rep_that_runs_too_long_resets_the_rest():
    """Whatever held the signal away for 30 s (a new sitting position, a bogus start), the
    rest is learned again and later tucks count."""
    plan = [(1.5, REST, None, None), (32.0, TUCK, None, None), (2.0, TUCK, None, None),
            (3.5, TUCK - 0.18, None, None), (2.0, TUCK, None, None)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert [r.valid for r in counter.finished] == [False, True], counter.finished
    assert "too_long" in counter.finished[0].faults


def test_starting_mid_hold_still_finds_the_rest():
    """The session began while the user held a tuck: that stillness is not their rest. The
    hold already under way was not seen to start, so it counts neither way."""
    plan = [(3.0, TUCK, None, None), (2.0, REST, None, None), (3.5, TUCK, None, None),
            (2.0, REST, None, None), (3.5, TUCK, None, None), (2.0, REST, None, None)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (2, 0), counter.finished
    assert counter.rest == pytest.approx(REST, abs=0.01)


def test_a_first_tuck_before_any_still_second_counts():
    """Talking up to the first tuck (never still for a second): the first still second is
    the tuck's hold, taken for the rest until the real one is found behind it; then the
    frames so far are counted again and the first tuck counts."""
    talk = [(0.4, REST + d, None, None) for d in (0.03, -0.02, 0.04, -0.01, 0.02)]
    plan = [*talk, (3.5, TUCK, None, None), (2.0, REST, None, None), (3.5, TUCK, None, None),
            (2.0, REST, None, None)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (2, 0), counter.finished
    assert counter.finished[0].start_ms < 2500


def test_form_is_judged_against_the_posture_just_before_the_tuck():
    """While talking between reps the head pitches 6 degrees down, slowly (one degree every
    0.6 s), and the tuck that follows adds 2 more: against the rest learned before the talk it
    reads as a nod; against the posture just before it, it is a tuck."""
    talk = [(0.6, REST, None, None, 12.0 + d) for d in range(1, 7)]
    plan = [(1.5, REST, None, None, 12.0), *talk, (3.5, TUCK, None, None, 20.0),
            (2.0, REST, None, None, 18.0)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (1, 0), counter.finished


@pytest.mark.parametrize("tilt, valid, fault", [(16.0, True, None), (19.0, True, None),
                                                (22.0, False, "nodding")])
def test_a_tuck_may_carry_some_chin_down_in_proportion_to_its_retraction(tilt, valid, fault):
    """From a 12-degree rest: +4 degrees is over the at-rest limit (3.5) but a full tuck
    widens it (by 4 at the full range: 7.5); +10 is a nod even with the retraction."""
    plan = [(1.5, REST, None, None, 12.0), (3.5, TUCK, None, None, tilt),
            (2.0, REST, None, None, 12.0)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert [r.valid for r in counter.finished] == [valid], counter.finished
    assert fault is None or fault in counter.finished[0].faults


def test_a_nod_without_retraction_is_a_nod():
    """The head pitches 6 degrees down and moves a little forward: no retraction, so the
    at-rest limit holds and the attempt is rejected as nodding."""
    plan = [(1.5, REST, None, None, 12.0), (2.5, REST + 0.05, None, None, 18.0),
            (2.0, REST, None, None, 12.0)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert len(counter.finished) == 1 and "nodding" in counter.finished[0].faults


def test_a_head_that_pitches_as_it_returns_does_not_merge_two_reps():
    """After the first tuck the head comes back with 5 degrees of pitch (talking) and stays
    so for a second, then tucks again: two reps, both valid, not one long one."""
    plan = [(1.5, REST, None, None, 12.0), (3.5, TUCK, None, None, 12.0),
            (1.5, REST, None, None, 17.0), (3.5, TUCK, None, None, 17.0),
            (2.0, REST, None, None, 17.0)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert [r.valid for r in counter.finished] == [True, True], counter.finished


def test_the_next_rep_starts_from_where_the_last_came_back_to():
    """The model reads the return of a tuck a little forward of the rest it left (measured:
    up to half of a small tuck): the head settles there, and the next tuck, from there,
    counts at once, not only once the rest is learned again 10 s later."""
    back = REST - 0.05
    plan = [(1.5, REST, None, None), (3.5, TUCK, None, None), (2.0, back, None, None),
            (3.5, TUCK, None, None), (2.0, back, None, None)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert [r.valid for r in counter.finished] == [True, True], counter.finished


def test_a_single_frame_outlier_of_a_form_metric_is_no_fault():
    """Form rules judge their metric through the counter's median: one frame of the head
    read pitched 20 degrees mid-hold (the model's outliers) does not fault a good tuck."""
    metrics = tuck_metrics([(1.5, REST, None, None), (3.5, TUCK, None, None),
                            (2, REST, None, None)])
    metrics[int(3.0 * 30)].values["head_tilt_deg"] += 20.0
    counter, _ = run_counter(metrics)
    assert (counter.reps, counter.partial_reps) == (1, 0), counter.finished


@pytest.mark.parametrize("seconds", [0.4, 2.0])
def test_a_nod_is_an_attempt_however_short(seconds):
    """A nod (the head pitched, not retracted) is rejected as nodding whether it lasts well
    under the chin tuck's min_rep_s or longer."""
    plan = [(1.5, REST, None, None, 12.0), (seconds, REST, None, None, 24.0),
            (2.0, REST, None, None, 12.0)]
    counter, _ = run_counter(tuck_metrics(plan))
    assert (counter.reps, counter.partial_reps) == (0, 1), counter.finished
    assert "nodding" in counter.finished[0].faults

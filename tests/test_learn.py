"""Teaching an exercise by showing it once: `posture exercises learn` on real clips, the
learned file counted by the same counter as the built-ins, and the learner's logic."""

import json
import math
import tomllib
from dataclasses import replace

import numpy as np
import pytest
from conftest import run_cli

from posture.analysis.exercise import parse_exercise
from posture.analysis.learn import WRONG_WAY, as_exercise, learn, parts_moving, to_toml
from posture.analysis.metrics import Metrics, View
from posture.analysis.motion import SIZE, feature_index, mirrored
from posture.errors import UsageError

# The first squat of squats_3 (rest, down, up, rest) and the first tuck of tucks_dev1
# (labelled 2.0-6.6 s) with still time either side.
SQUAT_DEMO = ("0.6", "2.45")
ARM_UP = feature_index("left arm", 1)  # the left upper arm's up component
ELBOW = feature_index("left elbow")
THIGH = feature_index("left leg", 2)
TUCK_DEMO = ("0.5", "7.5")


@pytest.fixture(scope="module")
def traces(tmp_path_factory, data_dir, model_path):
    """Landmark traces of the real clips, through the model once."""
    from posture.live.offline import AnalyzeOptions, analyze_path

    folder = tmp_path_factory.mktemp("learn-traces")
    out = {}
    for name, video in (("squats_3", "exercise/squats_3.mp4"),
                        ("squats_2_plus_partial", "exercise/squats_2_plus_partial.mp4"),
                        ("tucks_dev1", "chin_tuck/tucks_dev1.mp4")):
        out[name] = folder / f"{name}.jsonl"
        analyze_path(data_dir / video, AnalyzeOptions(landmarks_out=out[name],
                                                      show_progress=False))
    return out


def counted(trace, *how):
    proc = run_cli("analyze", str(trace), "--json", "--quiet", *how)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["exercise"]


def test_squat_learned_from_one_real_squat_counts_both_squat_clips(tmp_path, data_dir,
                                                                    traces):
    """Learned from the first squat of the video (the model run on its pixels), kept in the
    user's exercise folder and found by name: both real squat clips count exactly, the
    front-view one (2 squats and one still rising at the end) included."""
    env = {"POSTURE_DATA_DIR": str(tmp_path)}
    proc = run_cli("exercises", "learn", "my_squat", "--source",
                   str(data_dir / "exercise" / "squats_3.mp4"), "--start", SQUAT_DEMO[0],
                   "--end", SQUAT_DEMO[1], "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "1 repetition" in proc.stdout and "my_squat.toml" in proc.stdout
    learned = tomllib.loads((tmp_path / "exercises" / "my_squat.toml").read_text())
    assert learned["signal"]["metric"] in ("hip_deg", "knee_deg")
    assert learned["exercise"]["view"] == "any"  # shown at an angle: counts from the front
    listing = run_cli("exercises", env=env)
    assert "learned" in listing.stdout and "my_squat" in listing.stdout
    for clip, reps, partial in (("squats_3", 3, 0), ("squats_2_plus_partial", 2, 1)):
        ex = run_cli("analyze", str(traces[clip]), "--json", "--quiet", "--exercise",
                     "my_squat", env=env)
        assert ex.returncode == 0, ex.stderr
        result = json.loads(ex.stdout)["exercise"]
        assert (result["name"], result["reps"], result["partial_reps"]) == (
            "my_squat", reps, partial), result["reps_detail"]


def test_chin_tuck_learned_from_one_tuck_counts_the_clip_and_rejects_its_nod(
        tmp_path, data_dir, traces):
    """Learned from the first tuck of tucks_dev1 and given the built-in's 2 s hold (the
    labels' prescription): the four tucks count, each within 1 s of its label; the partial
    is too shallow; the nod, which moves the head forward, went the other way."""
    out = tmp_path / "tuck.toml"
    proc = run_cli("exercises", "learn", "my_tuck", "--source", str(traces["tucks_dev1"]),
                   "--start", TUCK_DEMO[0], "--end", TUCK_DEMO[1], "--hold", "2", "--out",
                   str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert (shown["metric"], shown["direction"], len(shown["reps"])) == (
        "head_forward", "decrease", 1)
    assert 2.0 <= shown["reps"][0]["start_s"] <= 3.0 and 6.0 <= shown["reps"][0]["end_s"] <= 7.0
    text = out.read_text()
    assert text.count("#") > 10  # every number says where it came from
    ex = counted(traces["tucks_dev1"], "--exercise-file", str(out))
    labels = json.loads((data_dir / "chin_tuck" / "labels.json").read_text())
    windows = labels["clips"]["tucks_dev1.mp4"]["reps"]
    valid = [r for r in ex["reps_detail"] if r["valid"]]
    assert len(valid) == sum(w["valid"] for w in windows) == 4
    for w in (w for w in windows if w["valid"]):
        assert any(abs(r["start_s"] - w["start_s"]) <= 1 and abs(r["end_s"] - w["end_s"]) <= 1
                   for r in valid), (w, valid)
    rejected = [r for r in ex["reps_detail"] if not r["valid"]]
    for w in (w for w in windows if not w["valid"]):
        fault = {"nod": WRONG_WAY, "partial": "too_shallow"}[w["kind"]]
        assert any(r["start_s"] < w["end_s"] + 1 and r["end_s"] > w["start_s"] - 1
                   and fault in r["faults"] for r in rejected), (w, rejected)
    assert len(rejected) == 2, rejected


def test_learn_refuses_what_it_cannot_learn_from(tmp_path, data_dir, traces):
    """One line and exit 2 for each: nothing moving (the tuck clip's still first 1.8 s), a
    photo, a built-in's name, a bad name, an empty window, a window backwards, the output
    over the input, and an exercise learned before (kept unless --force)."""
    env = {"POSTURE_DATA_DIR": str(tmp_path)}
    tuck = str(traces["tucks_dev1"])
    photo = str(data_dir / "side_sitting" / "straight_hf.jpg")
    cases = [
        (["still", "--source", tuck, "--end", "1.8"], "nothing moved clearly"),
        (["photo", "--source", photo], "not from still images"),
        (["squat", "--source", tuck], "built-in"),
        (["Bad-Name", "--source", tuck], "exercise name"),
        (["late", "--source", tuck, "--start", "500"], "no frames"),
        (["backwards", "--source", tuck, "--start", "5", "--end", "2"], "not after"),
        (["same", "--source", tuck, "--out", tuck], "--out"),
        (["nan", "--source", tuck, "--start", "nan"], "seconds"),
    ]
    for args, words in cases:
        proc = run_cli("exercises", "learn", *args, "--quiet", env=env)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, (
            args, proc.stderr)
        assert "Traceback" not in proc.stderr
    first = run_cli("exercises", "learn", "again", "--source", tuck, "--start", TUCK_DEMO[0],
                    "--end", TUCK_DEMO[1], "--quiet", env=env)
    assert first.returncode == 0, first.stderr
    saved = (tmp_path / "exercises" / "again.toml").read_text()
    second = run_cli("exercises", "learn", "again", "--source", tuck, "--quiet", env=env)
    assert second.returncode == 2 and "--force" in second.stderr
    assert (tmp_path / "exercises" / "again.toml").read_text() == saved


def _frames(values, other=None, step_ms=33):
    """Metrics frames with `lift` following values and `still` around 0 (logic tests)."""
    frames = []
    for i, v in enumerate(values):
        jitter = 0.2 * math.sin(i * 1.7)
        frames.append(Metrics(i * step_ms, True, View.SIDE, (640, 480), {
            "hip_lift_deg": v + jitter,
            "thoracic_deg": (other[i] if other else 0.0) + 0.1 * math.cos(i * 2.3)}))
    return frames


def _shape(reps, hold_frames=0, rest_frames=45):
    """Rest, then reps of a 20-degree rise (15 frames each way, held hold_frames)."""
    out = [10.0] * rest_frames
    for _ in range(reps):
        out += [10 + 20 * k / 15 for k in range(15)] + [30.0] * hold_frames
        out += [30 - 20 * k / 15 for k in range(15)] + [10.0] * rest_frames
    return out


def test_learner_finds_the_moving_metric_its_reps_and_its_hold():
    learned = learn(_frames(_shape(2, hold_frames=90)), "lift")
    assert (learned.metric, learned.direction, len(learned.reps)) == ("hip_lift_deg", 1.0, 2)
    assert 19 <= learned.range <= 21 and 9.5 <= learned.rest <= 10.5
    # held 3 s: the model reads holds up to 1.4 times long, so 2 s is prescribed
    assert learned.hold_s == 2.0
    ex = as_exercise(to_toml(learned, "demo \"clip\" ñ.mp4"))
    assert (ex.metric, ex.direction, ex.hold_s, ex.view) == ("hip_lift_deg", 1.0, 2.0, "side")
    assert ex.min_range == pytest.approx(learned.range / 2, rel=0.01)
    # The trunk stayed still: a rule keeps it so, within 3 times its worst noise.
    trunk = [r for r in ex.rules if r.metric == "thoracic_deg"]
    assert trunk and trunk[0].fault == "trunk_not_as_shown" and trunk[0].max < 3
    assert any(r.metric == "hip_lift_deg" and r.fault == WRONG_WAY for r in ex.rules)


def test_learner_without_a_hold_and_with_a_prescribed_one():
    quick = learn(_frames(_shape(3)), "quick")
    assert len(quick.reps) == 3 and quick.hold_s == 0
    assert learn(_frames(_shape(1)), "held", hold_s=5).hold_s == 5


def test_a_metric_that_moves_in_step_is_checked_only_before_the_movement():
    """The trunk leans 4 degrees in step with the lift: once the lift has begun it may lean
    more than that, either way; with no lift at all it may not (a nod is a pitch with no
    retraction)."""
    values = _shape(1, hold_frames=30)
    trunk = [(v - 10) / 5 for v in values]
    learned = learn(_frames(values, trunk), "lean")
    assert learned.metric == "hip_lift_deg"
    ex = as_exercise(to_toml(learned, "demo"))
    rule = next(r for r in ex.rules if r.metric == "thoracic_deg")
    assert rule.widen > 4
    assert rule.broken(5.0, 0.0, progress=0.0)
    assert not rule.broken(1.5, 0.0, progress=0.0)
    assert not rule.broken(6.0, 0.0, progress=1.0) and not rule.broken(-6.0, 0.0, progress=1.0)


@pytest.mark.parametrize("lead", [8, -8])
def test_a_metric_out_of_step_with_the_movement_gets_no_rule(lead):
    """The trunk leans 4 degrees, a quarter of a second before the lift or after it (a
    squat's trunk leads its hips): how it moves with a follower's movement is not known."""
    values = _shape(1, hold_frames=30)
    trunk = [(v - 10) / 5 for v in values]
    trunk = trunk[lead:] + trunk[-1:] * lead if lead > 0 else trunk[:1] * -lead + trunk[:lead]
    learned = learn(_frames(values, trunk), "lean")
    assert not [r for r in learned.rules if r["metric"] == "thoracic_deg"]


@pytest.mark.parametrize("values, words", [([10.0] * 200, "nothing moved clearly"),
                                           ([10.0] * 5, "frames with a person")])
def test_learner_refuses_a_demonstration_without_movement(values, words):
    with pytest.raises(UsageError, match=words):
        learn(_frames(values), "none")


def test_teach_countdown_waits_for_stillness_records_and_learns():
    from posture.analysis.teach import TeachRecorder

    # Moving at first (not yet still), then still, two lifts, still again.
    restless = [10 + 8 * math.sin(i / 3) for i in range(40)]
    values = restless + _shape(2, hold_frames=30, rest_frames=60) + [10.0] * 60
    recorder = TeachRecorder(seconds=6)
    phases = []
    for frame in _frames(values):
        recorder.add(frame)
        if not phases or phases[-1] != recorder.phase:
            phases.append(recorder.phase)
    assert phases == ["still_before", "move", "still_after", "done"], phases
    status = recorder.status()
    assert status["learned"]["metric"] == "hip_lift_deg" and len(status["learned"]["reps"]) == 2
    # learned from the still second before the movement on, not the restless start
    assert recorder.learned is not None and recorder.learned.reps[0].start_s > 1.3


def test_teach_countdown_gives_up_on_someone_who_never_keeps_still():
    from posture.analysis.teach import WAIT_MS, TeachRecorder

    recorder = TeachRecorder(seconds=5)
    for frame in _frames([10 + 8 * math.sin(i / 3) for i in range(WAIT_MS // 33 + 40)]):
        recorder.add(frame)
    assert recorder.phase == "failed" and "keeping still" in recorder.status()["cue"]
    with pytest.raises(UsageError, match="teach seconds"):
        TeachRecorder(seconds=1000)


def test_learn_from_the_camera_follows_the_countdown(tmp_path, data_dir, model_path):
    """A video given as the camera plays at its own rate, as a camera would: the countdown
    waits for the still start of tucks_dev1, records 6 s (its first tuck), waits for the
    still end, and the exercise is learned and saved."""
    env = {"POSTURE_DATA_DIR": str(tmp_path)}
    proc = run_cli("exercises", "learn", "cam_tuck", "--camera",
                   str(data_dir / "chin_tuck" / "tucks_dev1.mp4"), "--seconds", "6", env=env,
                   timeout=120)
    assert proc.returncode == 0, proc.stderr
    cues = [line for line in proc.stderr.splitlines() if line.startswith("posture: ")]
    assert cues[1:] == ["posture: Stand still where the movement starts",
                        "posture: Now do 2 slow repetitions",
                        "posture: Back to rest and keep still", "posture: done"], cues
    assert "  3 s" in proc.stderr
    learned = tomllib.loads((tmp_path / "exercises" / "cam_tuck.toml").read_text())
    assert learned["signal"]["metric"] == "head_forward"
    assert learned["signal"]["direction"] == "decrease"


def test_learn_from_a_camera_that_is_not_there_says_so(tmp_path):
    config = tmp_path / "quick.toml"
    config.write_text("[camera]\nopen_timeout_s = 0.5\n")
    proc = run_cli("exercises", "learn", "nocam", "--camera", str(tmp_path / "no-camera"),
                   "--seconds", "5", "--config", str(config),
                   env={"POSTURE_DATA_DIR": str(tmp_path)}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("posture: error: the demonstration was not recorded: camera"), last
    assert "Traceback" not in proc.stderr and not (tmp_path / "exercises").exists()


# --- the whole-body template ---------------------------------------------------------------
def _motion_frames(moves, step_ms=33, seed=0):
    """Metrics frames whose motion features follow `moves` (frames, features) and whose
    measurements stay still: a movement no single measurement carries."""
    rng = np.random.default_rng(seed)
    frames = []
    for i, x in enumerate(moves):
        frames.append(Metrics(i * step_ms, True, View.FRONT, (640, 480), {
            "hip_lift_deg": 10 + 0.2 * math.sin(i * 1.7),
            "thoracic_deg": 0.1 * math.cos(i * 2.3)},
            motion=x + rng.normal(0, 0.004, SIZE)))
    return frames


def _arm_raises(reps, part=ARM_UP, length=40, still=40, mirror=False):
    out = [np.zeros((still, SIZE))]
    for _ in range(reps):
        one = np.zeros((length, SIZE))
        one[:, part] = 0.9 * np.sin(np.linspace(0, np.pi, length)) ** 2
        one[:, ELBOW] = 0.5 * np.sin(np.linspace(0, np.pi, length)) ** 2
        out += [mirrored(one) if mirror else one, np.zeros((still, SIZE))]
    return np.concatenate(out)


def _count(ex, frames):
    from posture.analysis.repcount import RepCounter

    counter = RepCounter(ex)
    events = [e for m in frames for e in counter.update(m)]
    events += counter.close(frames[-1].timestamp_ms)
    return [e for e in events if e.kind == "rep_finished"]


def test_a_movement_no_measurement_carries_is_learned_and_counted_as_a_template():
    learned = learn(_motion_frames(_arm_raises(1)), "arm_raise")
    assert learned.count_by == "template" and len(learned.reps) == 1
    assert [p for p, _ in parts_moving(learned.template)][:2] == ["left arm", "left elbow"]
    text = to_toml(learned, "arm.mp4")
    assert "[template]" in text and "count = true" in text
    ex = as_exercise(text)
    assert ex.template is not None and ex.template.count and ex.view == "any"
    reps = _count(ex, _motion_frames(_arm_raises(3, length=50), seed=1))
    assert [r.valid for r in reps] == [True] * 3
    assert all(r.similarity > 50 and r.start_ms < r.t_ms for r in reps)
    # The other arm (a mirrored picture) counts; another movement and stillness do not.
    assert sum(r.valid for r in _count(ex, _motion_frames(_arm_raises(2, mirror=True)))) == 2
    knee = _count(ex, _motion_frames(_arm_raises(2, part=feature_index("left knee"))))
    assert not [r for r in knee if r.valid]
    assert _count(ex, _motion_frames(np.zeros((300, SIZE)))) == []


def test_a_rep_unlike_the_demonstration_names_the_part_that_differed():
    ex = as_exercise(to_toml(learn(_motion_frames(_arm_raises(1)), "arm_raise"), "arm.mp4"))
    bent = _arm_raises(1)
    bent[:, ELBOW] *= 1.8  # the elbow bends far more than shown, yet it is the movement
    reps = _count(ex, _motion_frames(bent))
    assert reps and not reps[0].valid and reps[0].faults == ("left_elbow_not_as_shown",)
    assert reps[0].similarity < 50
    bent[:, ELBOW] *= 1.5  # so far from the demonstration that it is another movement
    assert _count(ex, _motion_frames(bent)) == []


def test_a_measured_exercise_scores_each_rep_against_its_template():
    values = _shape(2, hold_frames=30)
    moves = np.zeros((len(values), SIZE))
    moves[:, THIGH] = [(v - 10) / 40 for v in values]
    frames = [replace(m, motion=x) for m, x in zip(_frames(values), moves, strict=True)]
    learned = learn(frames, "lift")
    assert learned.count_by == "metric" and learned.template
    ex = as_exercise(to_toml(learned, "lift.mp4"))
    assert ex.template is not None and not ex.template.count
    reps = _count(ex, frames)
    assert len(reps) == 2 and all(r.valid and r.similarity > 50 for r in reps)
    forced = learn(frames, "lift", count_by="template")
    assert forced.count_by == "template" and forced.hold_s == 0


@pytest.mark.parametrize("change, words", [
    ({"frames": [[0.0] * 32] * 3}, "has 32 numbers"),
    ({"frames": [[0.0] * 33] * 2}, "at least 3"),
    ({"frames": [[float("nan")] * 33] * 3}, "finite number"),
    ({"frames": [[20.0] * 33] * 3}, "beyond 10"),
    ({"threshold": 0.0}, "greater than 0"),
    ({"form": 1.5}, "must not be above"),
    ({"hold": True}, "no hold")])
def test_a_template_that_cannot_be_used_is_refused(change, words):
    data = tomllib.loads(to_toml(learn(_motion_frames(_arm_raises(1)), "arm"), "arm.mp4"))
    if change.pop("hold", False):
        data["signal"]["hold_s"] = 2.0
    data["template"].update(change)
    with pytest.raises(ValueError, match=words):
        parse_exercise(data)

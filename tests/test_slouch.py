"""Slouch verdicts: per-frame rules, the state machine over time, and real front-webcam images."""

import glob
import json

import numpy as np
import pytest
from synthetic import blend, jittered, profile_from_world, rotate_about, side_pose, with_landmarks

from posture.analysis.calibration import baseline_from_metrics, load_profile, save_profile
from posture.analysis.metrics import View, compute_metrics
from posture.analysis.slouch import (
    PostureState,
    SlouchConfig,
    SlouchDetector,
    judge,
    posture_kind,
    verdict,
)
from posture.errors import UsageError
from posture.live.offline import AnalyzeOptions, analyze_path, load_baseline
from posture.vision.estimator import PoseEstimator, RunningMode
from posture.vision.pose import Landmark as L
from posture.vision.sources import read_image_rgb
from posture.vision.trace import TraceHeader, TraceWriter

BASELINE_NAMES = ("sample-1542640808958-0.jpg", "sample-1542640808958-1.jpg",
                  "sample-1542640808958-2.jpg")


@pytest.fixture(scope="module")
def front_poses(data_dir, model_path):
    """Real poses of the front-webcam set: {"upright": {name: Pose}, "slouching": {...}}."""
    out = {}
    with PoseEstimator(model_path, RunningMode.IMAGE) as est:
        for label in ("upright", "slouching"):
            files = sorted(glob.glob(str(data_dir / "front_webcam" / label / "*.jpg")))
            out[label] = {f.rsplit("/", 1)[-1]: est.detect(read_image_rgb(f), 0) for f in files}
    return out


@pytest.fixture(scope="module")
def front_baseline(front_poses):
    metrics = [compute_metrics(front_poses["upright"][n]) for n in BASELINE_NAMES]
    return baseline_from_metrics(metrics, "three upright images")


# --- per-frame rules on synthetic side views (no baseline) ---------------------------------

@pytest.mark.parametrize("neck, trunk, expected", [
    (12, 3, ()), (29, 3, ()), (31, 3, ("forward_head",)), (15, 22, ("trunk_flexion",)),
    (40, 25, ("forward_head", "trunk_flexion")), (45, -18, ("forward_head",)),
    (14, -16, ()), (0, -30, ("reclined",)), (-8, -35, ("reclined",)),
    (18, -28, ("reclined", "slumped_back")),
    (40, -25, ("forward_head", "reclined", "slumped_back")),
])
def test_side_rules_without_baseline(neck, trunk, expected):
    reasons = judge(compute_metrics(side_pose(neck, trunk), View.SIDE), None, SlouchConfig())
    assert set(reasons) == set(expected)


@pytest.mark.parametrize("neck, trunk, state, reasons, kind", [
    (14, -10, "good", (), "upright"),
    (40, 5, "slouched", ("forward_head",), "forward_slouch"),
    (0, -30, "reclined", ("reclined",), "reclined"),
    (18, -28, "slouched", ("slumped_back",), "slumped"),
])
def test_verdict_tells_the_four_postures_apart(neck, trunk, state, reasons, kind):
    m = compute_metrics(side_pose(neck, trunk), View.SIDE)
    assert verdict(m, None) == (state, reasons)
    assert posture_kind(state, reasons) == kind


def test_reclined_alerts_setting_makes_leaning_back_a_slouch():
    m = compute_metrics(side_pose(0, -30), View.SIDE)
    assert verdict(m, None, SlouchConfig(reclined_alerts=True)) == ("slouched", ("reclined",))


def test_relative_rules_follow_the_persons_own_upright():
    # Someone whose upright already leans 20 deg back against the backrest, head over the
    # shoulders: absolute rules call that reclined at 22; against their own baseline it is
    # upright, and only leaning further back is reclined.
    base = baseline_from_metrics([compute_metrics(side_pose(5, -20), View.SIDE)], "upright")
    cfg = SlouchConfig()
    assert judge(compute_metrics(side_pose(6, -23), View.SIDE), base, cfg) == ()
    assert judge(compute_metrics(side_pose(-10, -35), View.SIDE), base, cfg) == ("reclined",)
    # Trunk back, head kept where it was: slumped.
    assert set(judge(compute_metrics(side_pose(4, -35), View.SIDE), base, cfg)) == {
        "reclined", "slumped_back"}
    assert judge(compute_metrics(side_pose(17, -20), View.SIDE), base, cfg) == (
        "forward_head",)


def test_leaning_back_for_minutes_never_turns_slouched():
    det = SlouchDetector(config=SlouchConfig(onset_s=5))
    events = []
    for i in range(3000):  # 5 min at 10 Hz
        t = i * 100
        trunk = -10 if t < 2000 else -30
        events += det.update(compute_metrics(side_pose(0, trunk, t_ms=t), View.SIDE))
    assert [(e.state, e.t_ms) for e in events] == [("good", 0), ("reclined", 2000)]


def test_hysteresis_keeps_a_reason_until_past_exit():
    m = compute_metrics(side_pose(27, 0), View.SIDE)  # between exit 25 and enter 30
    assert judge(m, None, SlouchConfig()) == ()
    assert judge(m, None, SlouchConfig(), frozenset({"forward_head"})) == ("forward_head",)


def test_front_without_baseline_is_unknown(front_poses):
    m = compute_metrics(front_poses["upright"][BASELINE_NAMES[0]])
    assert m.view is View.FRONT
    assert verdict(m, None) == ("unknown", ())


def test_config_rejects_inverted_thresholds():
    with pytest.raises(ValueError, match="neck_deg"):
        SlouchConfig(neck_deg=(20.0, 25.0))
    with pytest.raises(ValueError, match="onset_s"):
        SlouchConfig(onset_s=-1)


# --- real front-webcam images, judged against three upright images ------------------------

def confusion(front_poses, baseline):
    table = {("upright", "good"): 0, ("upright", "slouched"): 0,
             ("slouching", "good"): 0, ("slouching", "slouched"): 0}
    for label, poses in front_poses.items():
        for name, pose in poses.items():
            if label == "upright" and name in BASELINE_NAMES:
                continue
            state, _ = verdict(compute_metrics(pose), baseline)
            table[(label, state)] = table.get((label, state), 0) + 1
    return table


def test_front_webcam_balanced_accuracy(front_poses, front_baseline):
    t = confusion(front_poses, front_baseline)
    tpr = t[("slouching", "slouched")] / (t[("slouching", "slouched")] + t[("slouching", "good")])
    tnr = t[("upright", "good")] / (t[("upright", "good")] + t[("upright", "slouched")])
    print(f"confusion (label, verdict): {t}; balanced accuracy {(tpr + tnr) / 2:.3f}")
    assert sum(t.values()) == 12 + 14
    assert (tpr + tnr) / 2 >= 0.95


def test_front_baseline_profile_round_trip(tmp_path, front_baseline):
    path = tmp_path / "profile.json"
    save_profile(front_baseline, path)
    loaded = load_profile(path)
    assert loaded == front_baseline
    path.write_text(json.dumps({"format": "nope"}))
    with pytest.raises(UsageError, match="not a calibration profile"):
        load_profile(path)


def test_baseline_from_folder_matches_cli_calibrate(tmp_path, data_dir, model_path):
    folder = tmp_path / "baseline"
    folder.mkdir()
    for name in BASELINE_NAMES:
        (folder / name).write_bytes((data_dir / "front_webcam" / "upright" / name).read_bytes())
    baseline = load_baseline(folder, AnalyzeOptions(show_progress=False))
    assert baseline.view is View.FRONT and baseline.frames == 3
    result = analyze_path(data_dir / "front_webcam" / "slouching",
                          AnalyzeOptions(show_progress=False, baseline=baseline))
    verdicts = [r["verdict"] for r in result["images"]]
    assert verdicts.count("slouched") >= 13
    assert all(r["reasons"] for r in result["images"] if r["verdict"] == "slouched")


# --- side views built from real world landmarks --------------------------------------------

# Good: as seated, head swayed 5 deg either way, trunk 5 deg back. Slouched: 25 deg of neck or
# trunk flexion, or 15 of each. (The seated trunks here already lean 12-18 deg forward, as the
# model places the hidden hips; 5 more would cross the 20 deg RULA band, so is not "good".)
SIDE_VARIANTS = [((0, 0), "good"), ((5, 0), "good"), ((-5, 0), "good"), ((0, -5), "good"),
                 ((25, 0), "slouched"), ((0, 25), "slouched"), ((15, 15), "slouched")]


def side_view_set(poses):
    """Real 3-D poses turned to profile, facing both ways; slouched ones flexed at neck/trunk."""
    for name, pose in poses.items():
        for facing in (1.0, -1.0):
            for (neck, trunk), label in SIDE_VARIANTS:
                yield name, label, profile_from_world(pose, facing, neck_flex_deg=neck,
                                                      trunk_flex_deg=trunk)


def test_side_views_judged_without_baseline(front_poses):
    wrong, total = [], 0
    for name, label, pose in side_view_set(front_poses["upright"]):
        m = compute_metrics(pose)
        assert m.view is View.SIDE
        state, _ = verdict(m, None)
        total += 1
        if state != label:
            wrong.append((name, label, state, m.to_json()))
    print(f"side-view set: {total - len(wrong)}/{total} right")
    assert (total - len(wrong)) / total >= 0.95, wrong[:3]


# --- the state machine over a sitting trace -------------------------------------------------

FPS = 10


def write_trace(path, poses, size):
    with TraceWriter(path, TraceHeader("synthetic sitting", float(FPS), *size)) as w:
        for pose in poses:
            w.write(pose)


def sitting_day(upright, slouched, seed=3):
    """60 s of real upright sitting with brief moves, then a sustained slouch of 40 s."""
    rng = np.random.default_rng(seed)
    face = np.linalg.norm(upright.pixels[L.LEFT_EYE_OUTER] - upright.pixels[L.RIGHT_EYE_OUTER])
    head = [L.NOSE, L.LEFT_EYE_INNER, L.LEFT_EYE, L.LEFT_EYE_OUTER, L.RIGHT_EYE_INNER,
            L.RIGHT_EYE, L.RIGHT_EYE_OUTER, L.MOUTH_LEFT, L.MOUTH_RIGHT]
    glance = upright.pixels.copy()
    glance[head] += (0, 0.45 * face)  # nose and eyes drop below the ears: looking down
    reach = upright.pixels.copy()
    hips = (reach[L.LEFT_HIP] + reach[L.RIGHT_HIP]) / 2
    reach = rotate_about(reach, hips, 10.0)  # leaning sideways toward a cup
    turned_world = upright.world.copy()
    turned_world[:, [0, 2]] = turned_world[:, [2, 0]]  # shoulders square to the side
    moves = {(10, 12): with_landmarks(upright, glance),
             (20, 23): with_landmarks(upright, reach),
             (30, 34): with_landmarks(upright, upright.pixels, world=turned_world),
             (40, 41): None}  # out of view for a second
    poses = []
    for i in range(100 * FPS):
        t_s, t_ms = i / FPS, i * 1000 // FPS
        pose = upright
        for (start, end), moved in moves.items():
            if start <= t_s < end:
                pose = moved
        if t_s >= 60:
            pose = blend(upright, slouched, min(1.0, (t_s - 60) / 2))
        if pose is None:
            from posture.vision.pose import Pose

            poses.append(Pose.empty(t_ms, upright.image_size))
        else:
            poses.append(jittered(pose, t_ms, rng))
    return poses


def test_brief_moves_stay_good_and_sustained_slouch_turns_slouched(tmp_path, front_poses,
                                                                   front_baseline):
    upright = front_poses["upright"]["sample-1542640808958-5.jpg"]
    slouched = front_poses["slouching"]["sample-1542640808958-5.jpg"]
    trace = tmp_path / "day.jsonl"
    write_trace(trace, sitting_day(upright, slouched), upright.image_size)
    config = SlouchConfig()
    result = analyze_path(trace, AnalyzeOptions(show_progress=False, baseline=front_baseline))
    timeline = result["posture"]["timeline"]
    assert timeline[0]["state"] == "good" and timeline[0]["t_s"] == 0.0
    assert all(step["state"] == "good" for step in timeline if step["t_s"] < 60), timeline
    onset = [s["t_s"] for s in timeline if s["state"] == "slouched"]
    assert onset and 60 + config.onset_s <= onset[0] <= 60 + config.onset_s + 3, timeline
    assert result["posture"]["slouched_fraction"] == pytest.approx(0.28, abs=0.05)


def test_away_after_no_person_and_back():
    det = SlouchDetector(config=SlouchConfig(away_after_s=3))
    from posture.vision.pose import Pose

    good = [compute_metrics(side_pose(t_ms=t), View.SIDE) for t in range(0, 1000, 100)]
    gone = [compute_metrics(Pose.empty(t, (640, 360))) for t in range(1000, 5000, 100)]
    back = [compute_metrics(side_pose(t_ms=t), View.SIDE) for t in range(5000, 5500, 100)]
    states = []
    for m in good + gone + back:
        det.update(m)
        states.append(det.state)
    assert states[5] is PostureState.GOOD
    assert states[len(good) + 29] is PostureState.GOOD  # 2.9 s away: not yet
    assert states[len(good) + 31] is PostureState.AWAY
    assert states[-1] is PostureState.GOOD


def test_side_sustained_forward_head_without_baseline():
    det = SlouchDetector(config=SlouchConfig(onset_s=5))
    events = []
    for i in range(100):
        t = i * 100
        neck = 12 if t < 2000 else 40
        events += det.update(compute_metrics(side_pose(neck, 0, t_ms=t), View.SIDE))
    assert [(e.state, e.t_ms) for e in events] == [("good", 0), ("slouched", 7000)]
    assert events[-1].reasons == ("forward_head",)

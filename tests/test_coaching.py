"""What an exercise or routine shows while it runs and when it ends (one status model for
the dashboard, the live stream, the terminal and the history), a calibration that checks
itself on real photos, settings applied while running, and an honest "not monitoring"."""

import io
import sqlite3

import pytest
from test_exercise import sequence

from posture.analysis.calibration import baseline_from_metrics
from posture.analysis.coaching import Coach, summary, summary_lines
from posture.analysis.events import ExerciseSessionEnded, RepFinished
from posture.analysis.exercise import builtin_exercise
from posture.analysis.metrics import View, compute_metrics
from posture.analysis.program import Program, SessionRunner, Step
from posture.analysis.repcount import RepCounter
from posture.analysis.slouch import SlouchConfig, calibration_check
from posture.cli.terminal import TerminalSink
from posture.config import Config
from posture.history.queries import history
from posture.history.sink import StoreSink
from posture.history.store import Store
from posture.live.session import PostureSession


def drive(coach, counter, poses, view=View.SIDE):
    """Feed poses; return the status after each frame."""
    out = []
    for pose in poses:
        coach.handle(counter.update(compute_metrics(pose, view)))
        out.append(coach.status(pose.timestamp_ms))
    return out


def test_a_partial_reps_cue_shows_at_once_and_clears_when_the_next_movement_starts(sitting):
    counter = RepCounter(builtin_exercise("chin_tuck"))
    coach = Coach(counter, None, 0, 0)
    first = coach.status(0)
    assert first["cue"] == {"text": builtin_exercise("chin_tuck").cue, "kind": "step"}
    # A still rest, a tuck released too soon (a 2 s hold asked), rest, then a held tuck.
    plan = [(3, "still", 0), (1.2, "tuck", 0.4), (3, "still", 0), (4.5, "tuck", 0.4),
            (3, "still", 0)]
    statuses = drive(coach, counter, sequence(sitting, plan, seed=3))
    cues = [s["cue"] for s in statuses]
    partial = next(i for i, c in enumerate(cues) if c["kind"] == "partial")
    hold = builtin_exercise("chin_tuck").hold_s
    assert f"full {hold:g} s" in cues[partial]["text"]  # in words, not a fault code
    assert statuses[partial]["last_rep"]["valid"] is False
    assert statuses[partial]["last_rep"]["faults"][0]["label"] == "hold too short"
    # The next movement clears it; "Good rep" comes only with the valid rep.
    later = cues[partial + 1:]
    cleared = next(i for i, c in enumerate(later) if c["text"] == "")
    assert all(c["kind"] != "good" for c in later[:cleared])
    good = next(i for i, c in enumerate(later) if c["kind"] == "good")
    assert later[good]["text"] == "Good rep" and good > cleared
    assert statuses[partial + 1 + good]["last_rep"]["valid"] is True
    assert 60 <= statuses[partial + 1 + good]["last_rep"]["depth_pct"] <= 150
    phases = [s["phase"] for s in statuses]
    assert phases[0] == "settling" and {"rest", "moving", "hold"} <= set(phases)
    holds = [s["hold"]["held_s"] for s in statuses if s["phase"] == "hold"]
    assert max(holds) >= hold and statuses[-1]["reps"] == 1 and statuses[-1]["partial_reps"] == 1


def test_a_routine_shows_step_set_and_reps_of_the_target(sitting):
    tuck = builtin_exercise("chin_tuck")
    program = Program("two", "Two tucks twice", "", (Step(tuck, 2, 1, 2.0, "Tuck now"),))
    runner = SessionRunner(program)
    coach = Coach(None, runner, 0, 1_000)
    plan = [(3, "still", 0), (4.5, "tuck", 0.4), (3.5, "still", 0), (4.5, "tuck", 0.4),
            (3, "still", 0)]
    statuses = []
    for pose in sequence(sitting, plan, seed=5):
        coach.handle(runner.update(compute_metrics(pose, View.SIDE)))
        statuses.append(coach.status(pose.timestamp_ms))
    assert statuses[0]["started_ms"] == 1_000 and statuses[0]["step_cue"] == "Tuck now"
    assert (statuses[0]["set"], statuses[0]["sets"], statuses[0]["target"]) == (1, 2, 1)
    rest = [s for s in statuses if s["phase"] == "set_rest"]
    assert rest and rest[0]["cue"]["text"].startswith("Set 1 of 2 done: rest")
    # The set just done stays on show, 1 of 1, while resting.
    assert (rest[0]["set"], rest[0]["reps"], rest[0]["total_reps"]) == (1, 1, 1)
    assert statuses[-1]["phase"] == "done" and statuses[-1]["total_reps"] == 2
    assert statuses[-1]["total_target"] == 2


def test_summary_counts_faults_holds_and_gives_one_tip():
    def rep(valid, faults=(), hold=3.2):
        return RepFinished(1000, "chin_tuck", 0, hold, 1.0, tuple(faults), valid)

    reps = [rep(True), rep(False, ("nodding", "too_shallow")), rep(False, ("nodding",)),
            rep(True, hold=3.5)]
    cues = {"chin_tuck": {"nodding": "Keep your chin level"}}
    s = summary("Chin tuck", "exercise", 0, 95_000, reps, {"chin_tuck": 3.0}, cues)
    assert (s["reps"], s["partial_reps"], s["duration_s"]) == (2, 2, 95)
    assert s["faults"][0] == {"fault": "nodding", "label": "nodding", "count": 2}
    assert s["holds_s"] == [3.2, 3.5] and s["tip"] == "Keep your chin level."
    lines = summary_lines(s)
    assert lines[0] == "Chin tuck: 2 good reps, 2 partial, in 1 min 35 s"
    assert "nodding (2)" in lines[1] and "not far enough (1)" in lines[1]
    assert summary("X", "exercise", 0, 0, [], {}, {})["tip"].startswith("No movement")
    assert summary("X", "exercise", 0, 0, [rep(True)] * 2, {}, {})["tip"].startswith("All 2")
    assert summary("X", "routine", 0, 0, [rep(True)], {}, {}, 0.1, 10)["tip"] == (
        "The one rep had good form; 9 of the 10 prescribed are still to do.")


def test_a_session_ends_with_its_summary_on_the_terminal_and_in_history(sitting, tmp_path):
    stream = io.StringIO()
    store = Store(tmp_path / "h.sqlite3", 30)
    session = PostureSession(Config(), sinks=[TerminalSink(stream), StoreSink(store, 1.0)],
                             exercise=builtin_exercise("chin_tuck"), view=View.SIDE,
                             wall_start_ms=1_700_000_000_000)
    ended = []
    session.sinks.append(type("S", (), {"handle": lambda self, e, w: ended.append(e)
                                        if isinstance(e, ExerciseSessionEnded) else None})())
    plan = [(3, "still", 0), (4.5, "tuck", 0.4), (3, "still", 0), (1.2, "tuck", 0.4),
            (3, "still", 0)]
    for pose in sequence(sitting, plan, seed=7):
        session.process(pose)
    session.close()
    store.close()
    assert ended and ended[0].summary["reps"] == 1 and ended[0].summary["partial_reps"] == 1
    idle = session.status()["activity"]
    assert idle["kind"] == "idle" and idle["summary"] == ended[0].summary
    text = stream.getvalue()
    assert "Chin tuck (cervical retraction): good rep" in text
    assert "partial rep (hold too short)" in text and "hold_too_short" not in text
    assert "session summary:" in text and "1 good reps, 1 partial" in text
    conn = sqlite3.connect(tmp_path / "h.sqlite3")
    stored = history(conn)["sessions"][0]
    assert stored["title"] == "Chin tuck (cervical retraction)"
    assert (stored["summary"]["reps"], stored["summary"]["partial_reps"]) == (1, 1)
    assert stored["summary"]["tip"] == ended[0].summary["tip"]


def test_a_finished_routine_ends_the_session_by_itself(sitting):
    tuck = builtin_exercise("chin_tuck")
    program = Program("one", "One tuck", "", (Step(tuck, 1, 1, 0.0),))
    session = PostureSession(Config(), program=program, view=View.SIDE)
    for pose in sequence(sitting, [(3, "still", 0), (4.5, "tuck", 0.4), (3, "still", 0)],
                         seed=2):
        session.process(pose)
    activity = session.status()["activity"]
    assert session.runner is None and activity["kind"] == "idle"
    assert activity["summary"]["kind"] == "routine" and activity["summary"]["completion"] == 1.0


@pytest.fixture(scope="module")
def photo_baselines(data_dir, model_path):
    from posture.vision.estimator import PoseEstimator, RunningMode
    from posture.vision.sources import read_image_rgb

    out = {}
    with PoseEstimator(model_path, RunningMode.IMAGE) as est:
        for name in ("hunchback", "hunchback_flip", "straight_hf", "straight_hf_flip"):
            pose = est.detect(read_image_rgb(data_dir / "side_sitting" / f"{name}.jpg"), 0)
            out[name] = baseline_from_metrics([compute_metrics(pose)], name)
        upright = sorted((data_dir / "front_webcam" / "upright").glob("*.jpg"))
        for path in upright:
            pose = est.detect(read_image_rgb(path), 0)
            out[f"front/{path.stem}"] = baseline_from_metrics([compute_metrics(pose)],
                                                              path.name)
    return out


def test_calibration_on_a_hunched_photo_is_warned_and_upright_ones_are_not(photo_baselines):
    config = SlouchConfig()
    for name in ("hunchback", "hunchback_flip"):
        check = calibration_check(photo_baselines[name], config)
        assert check["looks_slouched"], (name, check)
        assert "looks slouched: neck" in check["warning"] and "°" in check["warning"]
    for name, baseline in photo_baselines.items():
        if name.startswith("hunchback"):
            continue
        check = calibration_check(baseline, config)
        assert not check["looks_slouched"], (name, check)
    words = calibration_check(photo_baselines["straight_hf"], config)["words"]
    assert words.startswith("Your upright: neck 14°, trunk -10°. A slouch builds above neck 24°")


def test_a_hunched_live_calibration_waits_until_kept(photo_baselines):
    hunched = photo_baselines["hunchback"]
    session = PostureSession(Config())
    session.request("calibrate", seconds=0.5)
    session.apply_requests()
    session.calibration.add = lambda metrics: hunched  # what the camera would have given
    from synthetic import side_pose

    events = session.process(side_pose(38, 40, t_ms=0))
    finished = [e for e in events if e.kind == "calibration_finished"][0]
    assert not finished.ok and finished.check["looks_slouched"]
    assert session.baseline is None and session.status()["calibration"]["pending"]
    session.request("keep_calibration")
    session.apply_requests()
    assert session.baseline is hunched and not session.status()["calibration"]["pending"]


def test_settings_apply_to_a_running_monitor():
    session = PostureSession(Config())
    changed = Config().with_changes({"alerts": {"after_slouched_s": 5.0},
                                     "posture": {"onset_s": 1.0},
                                     "monitor": {"sample_hz": 2.0}})
    session.request("settings", config=changed)
    session.apply_requests()
    assert session.slouch_alerts.config.after_slouched_s == 5.0
    assert session.detector.config.onset_s == 1.0 and session.interval_s() == 0.5


def test_an_ended_recording_is_not_monitoring_and_refuses_exercises():
    session = PostureSession(Config())
    assert session.status()["monitoring"] == {"active": True, "reason": ""}
    session.camera_changed("ended", "the recording ended", 0)
    assert session.status()["monitoring"] == {"active": False,
                                              "reason": "the recording ended"}
    assert session.monitoring_problem() == "not monitoring: the recording ended"


def test_front_view_reasons_say_what_the_front_can_see():
    from posture.analysis.registry import reason_text
    from posture.live.alerts import SlouchAlerts

    assert reason_text("slumped_back", "side") == "you are slumped down in the chair"
    front = reason_text("slumped_back", "front")
    assert "compared with your calibration" in front and "slumped" not in front
    alerts = SlouchAlerts(Config().alerts.model_copy(update={"after_slouched_s": 0.0}))
    alert = alerts.update("slouched", ("slumped_back",), 0, 600, view="front")[0]
    assert "compared with your calibration" in alert.message

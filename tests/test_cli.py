"""The command line as a user runs it: exit codes, one-line errors, JSON, trace round trip."""

import json
import re

import numpy as np
import pytest
from conftest import run_cli

from posture.vision.sources import open_source


def assert_one_line_error(proc, code=2):
    assert proc.returncode == code, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("make", [
    lambda d: d / "missing.mp4",
    lambda d: (d / "text.mp4").write_text("just text") and d / "text.mp4",
    lambda d: (d / "empty").mkdir() or d / "empty",
])
def test_bad_paths_exit_2_with_one_line(tmp_path, make):
    assert_one_line_error(run_cli("analyze", str(make(tmp_path)), "--json"))


def test_truncated_video_exits_2(tmp_path, data_dir, model_path):
    original = data_dir / "exercise" / "squats_3.mp4"
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(original.read_bytes()[: original.stat().st_size // 2])
    proc = run_cli("analyze", str(cut), "--json", "--quiet")
    assert_one_line_error(proc)
    assert "truncated" in proc.stderr


@pytest.mark.parametrize("args", [
    ("models", "fetch", "--variant", "huge"),
    ("analyze", "x.jpg", "--variant", "tiny"),
    ("analyze",),
    ("frobnicate",),
])
def test_usage_errors_exit_2_with_one_line(args):
    assert_one_line_error(run_cli(*args))


def test_unusable_model_directory_exits_3(tmp_path, data_dir):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run_cli("analyze", str(data_dir / "pose_reference" / "pose.jpg"),
                   env={"POSTURE_MODEL_DIR": str(blocker / "models")})
    assert_one_line_error(proc, code=3)


def test_models_list_shows_verified_full(model_path):
    proc = run_cli("models", "list")
    assert proc.returncode == 0
    assert any(line.split()[0] == "full" and line.endswith("verified")
               for line in proc.stdout.splitlines()[1:])


def test_image_json(data_dir, model_path):
    proc = run_cli("analyze", str(data_dir / "pose_reference" / "pose.jpg"), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["kind"] == "image" and result["person"] is True
    assert set(result) >= {"source", "view", "metrics", "verdict", "reasons"}


def test_image_annotate_writes_picture(tmp_path, data_dir, model_path):
    out = tmp_path / "drawn.png"
    proc = run_cli("analyze", str(data_dir / "pose_reference" / "pose.jpg"), "--annotate",
                   str(out))
    assert proc.returncode == 0, proc.stderr
    with open_source(out) as source:
        assert (source.width, source.height) == (1000, 667)


def test_video_trace_round_trip(tmp_path, data_dir, model_path):
    video = data_dir / "exercise" / "squats_2_plus_partial.mp4"
    trace, drawn = tmp_path / "squats.jsonl", tmp_path / "squats.mp4"
    first = run_cli("analyze", str(video), "--json", "--landmarks", str(trace),
                    "--annotate", str(drawn))
    assert first.returncode == 0, first.stderr
    live = json.loads(first.stdout)
    assert live["kind"] == "video" and live["frames"] == 65 and live["person_frames"] > 60
    assert "Traceback" not in first.stderr

    second = run_cli("analyze", str(trace), "--json")
    assert second.returncode == 0, second.stderr
    replay = json.loads(second.stdout)
    assert replay["source"] == str(trace)
    live.pop("source"), replay.pop("source")
    assert replay == live

    with open_source(video) as source:
        n_video = sum(1 for _ in source)
    with open_source(trace) as source:
        poses = [f.pose for f in source]
    assert len(poses) == n_video
    assert all(p.landmarks.dtype == np.float32 for p in poses if p.person)
    with open_source(drawn) as source:
        assert source.frame_count == 65 and (source.width, source.height) == (720, 1280)


def test_trace_holds_exactly_the_live_landmarks(tmp_path, data_dir, model_path):
    from posture.live.offline import AnalyzeOptions, analyze_path
    from posture.vision.estimator import PoseEstimator, RunningMode

    video = data_dir / "exercise" / "squats_3.mp4"
    trace = tmp_path / "squats.jsonl"
    analyze_path(video, AnalyzeOptions(landmarks_out=trace, show_progress=False))
    with open_source(video) as source, PoseEstimator(model_path, RunningMode.VIDEO) as est:
        live = [est.detect(f.image, f.timestamp_ms) for f in source]
    with open_source(trace) as source:
        replay = [f.pose for f in source]
    assert [p.timestamp_ms for p in replay] == [p.timestamp_ms for p in live]
    for a, b in zip(live, replay):
        assert a.person == b.person
        assert np.array_equal(a.landmarks, b.landmarks)
        assert np.array_equal(a.world, b.world)
        assert np.array_equal(a.visibility, b.visibility)


def test_calibrating_on_a_hunched_photo_is_refused_unless_kept(tmp_path, data_dir, model_path):
    profile = tmp_path / "me.json"
    photo = str(data_dir / "side_sitting" / "hunchback.jpg")
    proc = run_cli("calibrate", "--source", photo, "--out", str(profile))
    assert proc.returncode == 2 and not profile.exists()
    said = re.search(r"not saved: This upright looks slouched: neck (\d+)°, trunk (\d+)°",
                     proc.stderr)
    assert said and int(said[1]) > 30 and int(said[2]) > 20, proc.stderr  # past both limits
    assert "add --keep" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("calibrate", "--source", photo, "--out", str(profile), "--keep")
    assert proc.returncode == 0 and profile.exists()
    assert f"Your upright: neck {said[1]}°, trunk {said[2]}°" in proc.stdout
    assert "kept although it looks slouched" in proc.stdout


def test_analyze_folder_with_baseline_and_saved_profile(tmp_path, data_dir, model_path):
    upright = data_dir / "front_webcam" / "upright"
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    for name in ("sample-1542640808958-0.jpg", "sample-1542640808958-1.jpg"):
        (baseline / name).write_bytes((upright / name).read_bytes())
    profile = tmp_path / "me.json"
    made = run_cli("calibrate", "--source", str(baseline), "--out", str(profile))
    assert made.returncode == 0, made.stderr
    assert json.loads(profile.read_text())["view"] == "front"
    # Placement advice: a front webcam judges sinking and lean, not the trunk angle.
    assert "camera view: front" in made.stdout
    assert "can judge: leaning to one side" in made.stdout
    assert "cannot judge: trunk angle" in made.stdout
    assert "tip: For measured neck and trunk angles, put a camera to your side" in made.stdout
    proc = run_cli("analyze", str(data_dir / "front_webcam" / "slouching"), "--json",
                   "--baseline", str(profile), "--quiet")
    assert proc.returncode == 0, proc.stderr
    images = json.loads(proc.stdout)["images"]
    assert len(images) == 14
    assert sum(i["verdict"] == "slouched" for i in images) >= 13
    # From the front the neck angle is estimated from the world landmarks and says so; the
    # trunk angle needs the hips, hidden below the frame.
    assert all(i["view"] == "front" and i["quality"]["neck_deg"] == "estimated"
               and i["metrics"]["thoracic_deg"] is None and "hips" in i["missing"]["thoracic_deg"]
               and i["judged_from"] == {"view": "front", "against": "baseline"}
               for i in images)


def test_bad_baselines_exit_2(tmp_path, data_dir, model_path):
    image = str(data_dir / "pose_reference" / "pose.jpg")
    bad_profile = tmp_path / "bad.json"
    bad_profile.write_text("{not json")
    assert_one_line_error(run_cli("analyze", image, "--baseline", str(tmp_path / "none.json")))
    assert_one_line_error(run_cli("analyze", image, "--baseline", str(bad_profile)))
    empty = tmp_path / "nobody.png"
    import cv2

    cv2.imwrite(str(empty), np.full((240, 320, 3), 200, np.uint8))
    proc = run_cli("analyze", image, "--baseline", str(empty))
    assert_one_line_error(proc)
    assert "no person" in proc.stderr


def test_calibrate_without_camera_exits_4(tmp_path):
    proc = run_cli("calibrate", "--camera", str(tmp_path / "no-such-camera"),
                   "--out", str(tmp_path / "p.json"))
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr and "camera" in proc.stderr
    assert not (tmp_path / "p.json").exists()


def test_video_json_has_posture_block(data_dir, model_path):
    proc = run_cli("analyze", str(data_dir / "exercise" / "squats_3.mp4"), "--json", "--quiet")
    result = json.loads(proc.stdout)
    assert set(result["posture"]) >= {"slouched_fraction", "timeline"}
    assert result["posture"]["timeline"][0]["t_s"] == 0.0

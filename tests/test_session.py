"""One session for every path: `posture analyze` and `posture run --source` give the same
state changes, alerts and reps on the same trace, and both honour the configuration."""

import json
import sqlite3
from importlib import resources

import pytest
from conftest import run_cli
from synthetic import real_jittered, side_pose

from posture.vision.pose import Pose
from posture.vision.trace import TraceHeader, TraceWriter

pytestmark = pytest.mark.slow

DEMO = str(resources.files("posture") / "data" / "demo.jsonl.gz")
DEMO_BASELINE = str(resources.files("posture") / "data" / "demo_baseline.json")


def tuck_trace(path, fps=15):
    """Side-view sitting with five head retractions held 3 s, a nod-free slouch, and a gap;
    every frame carries the real model's still-sitting jitter."""
    plan = [(3, 25)] + [(3, 5), (3, 25)] * 5 + [(2, None), (25, 40), (3, 25)]
    with TraceWriter(path, TraceHeader("tucks", fps, 640, 360)) as writer:
        t = frame = 0
        for seconds, neck in plan:
            for _ in range(int(seconds * fps)):
                pose = (Pose.empty(t, (640, 360)) if neck is None
                        else real_jittered(side_pose(neck, 3, 95, t_ms=t), t, frame))
                writer.write(pose)
                t += 1000 // fps
                frame += 1


def history_of(db):
    conn = sqlite3.connect(db)
    start = conn.execute("SELECT min(t_ms) FROM camera_events").fetchone()[0]
    states = [(round((t - start) / 1000, 3), s) for t, s in
              conn.execute("SELECT t_ms, state FROM state_changes ORDER BY t_ms")]
    alerts = [(round((t - start) / 1000, 3), k) for t, k in
              conn.execute("SELECT t_ms, kind FROM alerts ORDER BY t_ms")]
    reps = [(round((s - start) / 1000, 3), round((e - start) / 1000, 3), bool(v)) for s, e, v in
            conn.execute("SELECT start_ms, end_ms, valid FROM reps ORDER BY start_ms")]
    return states, alerts, reps


def analyzed(result):
    timeline = result["posture"]["timeline"]
    # The first entry stands for the start when no change happened on the first frame.
    states = [(s["t_s"], s["state"]) for s in timeline if s["state"] != "unknown"
              or s is not timeline[0]]
    alerts = [(a["t_s"], a["alert"]) for a in result["posture"]["alerts"]]
    reps = [(r["start_s"], r["end_s"], r["valid"]) for r in
            result.get("exercise", {}).get("reps_detail", [])]
    return states, alerts, reps


@pytest.mark.parametrize("case", ["demo", "tucks"])
def test_analyze_and_run_agree(tmp_path, case):
    env = {"POSTURE_POSTURE_ONSET_S": "30", "POSTURE_ALERTS_AFTER_SLOUCHED_S": "5",
           "POSTURE_HISTORY_PATH": str(tmp_path / "h.sqlite3")}
    extra = ["--baseline", DEMO_BASELINE]
    source = DEMO
    if case == "tucks":
        source = str(tmp_path / "tucks.jsonl")
        tuck_trace(source)
        extra = ["--exercise", "chin_tuck"]
        env["POSTURE_POSTURE_ONSET_S"] = "10"
    proc = run_cli("analyze", source, "--json", "--quiet", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    offline = analyzed(json.loads(proc.stdout))
    proc = run_cli("run", "--source", source, "--speed", "0", "--no-dashboard", *extra,
                   env=env)
    assert proc.returncode == 0, proc.stderr
    live = history_of(tmp_path / "h.sqlite3")
    assert offline == live
    states, alerts, reps = live
    assert "slouched" in [s for _, s in states] and alerts
    if case == "tucks":
        assert sum(valid for *_, valid in reps) == 5, reps


def test_analyze_honours_config_file_and_environment(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[posture]\nonset_s = 30.0\n")
    first = {}
    for label, args, env in (("file", ["--config", str(config)], {}),
                             ("env", [], {"POSTURE_POSTURE_ONSET_S": "30"}),
                             ("default", [], {})):
        proc = run_cli("analyze", DEMO, "--json", "--quiet", "--baseline", DEMO_BASELINE,
                       *args, env=env)
        assert proc.returncode == 0, proc.stderr
        timeline = json.loads(proc.stdout)["posture"]["timeline"]
        first[label] = next(s["t_s"] for s in timeline if s["state"] == "slouched")
    assert first["file"] == first["env"] == pytest.approx(first["default"] + 20, abs=1.5)

"""Rep counting on real footage through the real model: the talk-through clip (front-view
talking, side-view chin tucks, a zoom cut), the real glute bridge, and live == offline."""

import json
import sys

import pytest
from conftest import REPO, run_cli
from videos import TALK_FRONT_S, TALK_SPLIT_S, TALK_THROUGH_WINDOWS, write_talk_through

from posture.analysis.events import Event, Sample
from posture.analysis.smoothing import ShotWatch
from posture.config import Config
from posture.live.session import PostureSession
from posture.vision.sources import open_source

sys.path.insert(0, str(REPO / "benchmarks"))
from exercise_accuracy import Clip, as_terminal, score, terminal_reps  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def talk_through(tmp_path_factory, data_dir, model_path):
    """The clip, its trace, and what `posture analyze --exercise chin_tuck` says of it.

    Made at 15 fps (every other frame of the real clip: a slower webcam) to halve the model's
    time here; benchmarks/exercise_accuracy.py counts the 30 fps clip."""
    folder = tmp_path_factory.mktemp("talk")
    video, trace = folder / "talk_through.mp4", folder / "talk_through.jsonl"
    write_talk_through(video, data_dir, fps=15)
    proc = run_cli("analyze", str(video), "--exercise", "chin_tuck", "--json", "--quiet",
                   "--landmarks", str(trace))
    assert proc.returncode == 0, proc.stderr
    return video, trace, json.loads(proc.stdout)["exercise"]


def test_talk_through_counted_exactly(talk_through):
    """Talking and gesturing from the front and a zoom cut count nothing; every tuck
    counts from the first; the partial tuck and the nod are rejected with their fault."""
    _, _, exercise = talk_through
    clip = Clip("talk_through", "chin_tuck", 4, windows=TALK_THROUGH_WINDOWS)
    row = score(clip, exercise["reps_detail"])
    assert row["exact"], (row, exercise["reps_detail"])
    first = min(w["start_s"] for w in TALK_THROUGH_WINDOWS if w["valid"])
    assert any(r["valid"] and abs(r["start_s"] - first) <= 1.0
               for r in exercise["reps_detail"])
    for rep in exercise["reps_detail"]:
        assert rep["start_s"] <= (rep["hold_from_s"] or rep["start_s"]) <= rep["end_s"]
        if rep["valid"]:
            assert rep["hold_s"] >= 2.0


class _Keep:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def handle(self, event: Event, wall_ms: int) -> None:
        if isinstance(event, Sample):
            self.samples.append(event)


def test_zoom_cut_is_seen_and_tucks_are_not(talk_through):
    """The model glides through a cut over about 0.2 s; the watch still sees the zoom, and
    no movement of the person in the side view reads as one."""
    _, trace, _ = talk_through
    keep = _Keep()
    session = PostureSession(Config(), sinks=[keep])
    with open_source(trace) as source:
        for frame in source:
            session.process(frame.pose)
    watch = ShotWatch()
    cuts = [s.t_ms / 1000 for s in keep.samples if watch.update(s.raw)]
    zoom = TALK_FRONT_S + TALK_SPLIT_S
    side = [c for c in cuts if TALK_FRONT_S + 0.5 < c < 45.0]
    assert len(side) == 1 and zoom <= side[0] <= zoom + 0.4, cuts


def test_live_replay_reports_the_same_reps_as_analyze(talk_through):
    _, trace, exercise = talk_through
    proc = run_cli("run", "--source", str(trace), "--speed", "0", "--exercise", "chin_tuck",
                   "--no-dashboard", "--no-history")
    assert proc.returncode == 0, proc.stderr
    assert terminal_reps(proc.stderr) == as_terminal(exercise["reps_detail"])


def test_real_glute_bridge_counted_live_at_real_speed_as_offline(data_dir, model_path):
    video = str(data_dir / "exercise" / "bridging_1.mp4")
    proc = run_cli("analyze", video, "--exercise", "glute_bridge", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    exercise = json.loads(proc.stdout)["exercise"]
    assert (exercise["reps"], exercise["partial_reps"]) == (1, 0), exercise
    live = run_cli("run", "--source", video, "--speed", "1", "--exercise", "glute_bridge",
                   "--no-dashboard", "--no-history")
    assert live.returncode == 0, live.stderr
    assert terminal_reps(live.stderr) == as_terminal(exercise["reps_detail"])

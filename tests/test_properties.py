"""Property tests (Hypothesis) of every parser and of the analysis on arbitrary poses. The
invariant: a result, or a clean error (UsageError / ValueError with a message); never another
exception, never output that is not JSON."""

import json
import math
import tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posture.analysis.calibration import Baseline
from posture.analysis.exercise import parse_exercise
from posture.analysis.metrics import compute_metrics
from posture.config import SECTIONS, Config, documentation, validate
from posture.errors import UsageError
from posture.live.session import PostureSession
from posture.server.settings_file import to_toml
from posture.vision.pose import NUM_LANDMARKS, Pose
from posture.vision.sources import open_source

FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(min_value=-2**70, max_value=2**70))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20)),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=5),
    max_leaves=20)


def pose_arrays(finite=True):
    coordinate = st.floats(-2.0, 3.0, allow_nan=False) if finite else numbers
    return st.lists(st.lists(coordinate, min_size=5, max_size=5), min_size=NUM_LANDMARKS,
                    max_size=NUM_LANDMARKS)


@st.composite
def poses(draw):
    rows = np.array(draw(pose_arrays()), np.float32)
    collapse = draw(st.sampled_from(["none", "all", "shoulders"]))
    if collapse == "all":
        rows[:, :2] = rows[0, :2]
    elif collapse == "shoulders":
        rows[12, :2] = rows[11, :2]
    world = np.array(draw(st.lists(st.lists(st.floats(-1, 1), min_size=3, max_size=3),
                                   min_size=NUM_LANDMARKS, max_size=NUM_LANDMARKS)), np.float32)
    size = draw(st.sampled_from([(640, 480), (1, 1), (1280, 720), (360, 640)]))
    return Pose(draw(st.integers(0, 2**40)), size, rows[:, :3], world,
                np.clip(rows[:, 3], 0, 1), np.clip(rows[:, 4], 0, 1))


@FAST
@given(st.lists(poses(), min_size=1, max_size=6))
def test_analysis_of_any_pose_gives_metrics_or_nulls(sequence):
    session = PostureSession(Config())
    t = 0
    for pose in sequence:
        t += 1 + pose.timestamp_ms % 5000
        pose = Pose(t, pose.image_size, pose.landmarks, pose.world, pose.visibility,
                    pose.presence)
        metrics = compute_metrics(pose)
        for value in metrics.values.values():
            assert value is None or math.isfinite(value)
        json.dumps(metrics.to_json(), allow_nan=False)
        session.process(pose)
        session.judge_still(pose)
    json.dumps(session.status(), allow_nan=False)


HEADER = {"format": "posture-landmarks", "version": 1, "source": "x", "fps": 30.0,
          "width": 640, "height": 480}


@FAST
@given(header=st.one_of(st.just(HEADER), st.dictionaries(st.sampled_from(list(HEADER)),
                                                         json_values, max_size=6)
                        .map(lambda d: {**HEADER, **d}), json_values),
       rows=st.lists(st.one_of(
           st.fixed_dictionaries({"t_ms": st.one_of(st.integers(-5, 2**80), numbers,
                                                    st.text(max_size=3)),
                                  "landmarks": st.one_of(st.none(), pose_arrays(False)),
                                  "world": st.none()}),
           json_values), max_size=4),
       raw=st.binary(max_size=40))
def test_any_trace_reads_or_fails_cleanly(tmp_path_factory, header, rows, raw):
    path = tmp_path_factory.mktemp("trace") / "t.jsonl"
    lines = [json.dumps(header)] + [json.dumps(r) for r in rows]
    path.write_bytes("\n".join(lines).encode() + b"\n" + raw)
    try:
        with open_source(path) as source:
            for frame in source:
                assert frame.pose is not None
                assert np.isfinite(frame.pose.landmarks).all()
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)


def field_values(doc):
    """Values for one setting: mostly within its declared type and bounds, some not."""
    if doc.choices:
        typed = st.sampled_from(doc.choices)
    elif doc.type == "boolean":
        typed = st.booleans()
    elif doc.type == "integer":
        typed = st.integers(int(doc.minimum), int(doc.maximum))
    elif doc.type == "number":
        typed = st.floats(doc.minimum, doc.maximum)
    else:
        typed = st.text(max_size=40)
    return st.one_of(typed, typed, typed, numbers, st.text(max_size=5))


DOCS = {(d.section, d.key): d for d in documentation()}


def section_values(section):
    keys = [k for s, k in DOCS if s == section]
    return st.lists(st.sampled_from(keys), max_size=4, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({k: field_values(DOCS[section, k])
                                              for k in chosen}))


@FAST
@given(st.lists(st.sampled_from(list(SECTIONS)), max_size=3, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({n: section_values(n) for n in names})))
def test_any_accepted_setting_is_written_as_toml_that_reads_back_equal(values):
    try:
        config = validate(values, "test")
    except UsageError:
        return
    ACCEPTED.append(values)
    typed = config.to_dict()
    written = {s: {k: typed[s][k] for k in table} for s, table in values.items()}
    text = to_toml(written)
    assert tomllib.loads(text) == written
    assert validate(tomllib.loads(text), "again") == config


ACCEPTED: list[dict] = []


def test_the_settings_property_saw_accepted_values():
    # Runs after the property above (file order): it must have exercised real round trips.
    assert len(ACCEPTED) >= 30, len(ACCEPTED)


@FAST
@given(st.one_of(json_values, st.fixed_dictionaries({
    "exercise": st.one_of(st.just({"name": "x"}), json_values),
    "signal": st.one_of(st.just({"metric": "knee_deg", "direction": "decrease"}),
                        st.dictionaries(st.sampled_from(
                            ["metric", "direction", "enter", "exit", "min_range", "hold_s"]),
                            json_values)),
    "rules": json_values})))
def test_any_exercise_document_parses_or_names_the_problem(data):
    try:
        exercise = parse_exercise(data)
    except ValueError as exc:
        assert str(exc)
        return
    assert exercise.exit < exercise.enter


@FAST
@given(st.one_of(json_values, st.fixed_dictionaries({
    "format": st.just("posture-calibration"), "version": st.just(1),
    "view": st.sampled_from(["front", "side", "up"]),
    "image_size": st.lists(st.integers(-5, 10**6), max_size=3),
    "frames": st.integers(-1, 10**8), "source": st.text(max_size=5),
    "metrics": st.dictionaries(st.sampled_from(["nose_y_px", "neck_deg", "elbow"]), numbers)})))
def test_any_profile_loads_or_fails_cleanly(data):
    try:
        baseline = Baseline.from_json(data, "p.json")
    except UsageError:
        return
    assert min(baseline.image_size) >= 1
    assert all(math.isfinite(v) for v in baseline.values.values())
    for name in baseline.values:
        baseline.value(name, (640, 480))


@FAST
@given(st.one_of(json_values, st.fixed_dictionaries({
    "program": st.one_of(st.just({"name": "p"}), json_values),
    "steps": st.lists(st.one_of(st.dictionaries(st.sampled_from(
        ["exercise", "file", "sets", "reps", "hold_s", "rest_s"]), st.one_of(
            st.sampled_from(["squat", "chin_tuck", "nope", "../x.toml"]), numbers,
            json_values)), json_values), max_size=3)})))
def test_any_program_document_parses_or_names_the_problem(tmp_path_factory, data):
    from posture.analysis.program import parse_program

    try:
        program = parse_program(data, tmp_path_factory.getbasetemp())
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert program.steps and all(1 <= s.sets <= 20 for s in program.steps)


@pytest.mark.parametrize("text", ["", "[program]\n", "x = 1\n", "[[steps]]\nsets = 'a'\n"])
def test_program_files_fail_cleanly(tmp_path, text):
    from posture.analysis.program import load_program

    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(UsageError):
        load_program(path)


def _nested(kind: str, depth: int) -> bytes:
    opening, inner, closing = {"toml array": ("x = " + "[", "", "]"),
                               "toml table": ("x = " + "{a = ", "1", "}"),
                               "json array": ("[", "", "]"),
                               "json object": ('{"a": ', "1", "}")}[kind]
    first, repeated = (opening[:4], opening[4:]) if kind.startswith("toml") else ("", opening)
    return (first + repeated * depth + inner + closing * depth).encode()


FILE_READERS = ("config", "exercise", "program", "profile")
file_contents = st.one_of(
    st.binary(max_size=3000),
    st.builds(_nested, st.sampled_from(["toml array", "toml table", "json array",
                                        "json object"]), st.integers(1, 30_000)),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(st.just("sparse"), st.integers(1 << 20, 1 << 34)),  # up to 16 GiB, no disk
    st.sampled_from(["fifo", "folder", "device"]))


@FAST
@given(st.sampled_from(FILE_READERS), file_contents)
def test_any_config_exercise_program_or_profile_file_reads_or_fails_in_one_line(
        tmp_path_factory, reader, content):
    """Arbitrary bytes, deep nesting, huge sizes, FIFOs, folders and devices: every file the
    product reads whole gives a value or one UsageError line, quickly, in bounded memory."""
    import os

    from posture.analysis.calibration import load_profile
    from posture.analysis.exercise import load_exercise_file
    from posture.analysis.program import load_program
    from posture.config import read_file

    folder = tmp_path_factory.mktemp("file")
    path = folder / ("f.json" if reader == "profile" else "f.toml")
    if content == "fifo":
        os.mkfifo(path)
    elif content == "folder":
        path.mkdir()
    elif content == "device":
        path.symlink_to("/dev/zero")
    elif isinstance(content, tuple):
        with open(path, "wb") as fh:
            fh.truncate(content[1])
    else:
        path.write_bytes(content)
    read = {"config": lambda p: read_file(p, missing_ok=False), "exercise": load_exercise_file,
            "program": load_program, "profile": load_profile}[reader]
    try:
        read(path)
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)

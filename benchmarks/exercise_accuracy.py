"""Rep counting on every labelled real clip the project has, through the real pose model.

    python benchmarks/exercise_accuracy.py [--live] [--responses] [--framing] [--only NAME]

Clips (read from `../shared/data` when it is there, else the copies in `tests/data`):
- chin_tuck/tucks_dev1.mp4, tucks_dev2.mp4 with chin_tuck/labels.json;
- chin-tuck clips made from the other MIT side-view photos, and one from a front-webcam
  photo (for chin_tuck_front), by `../shared/tools/make_chin_tuck_video.py` with the specs in
  benchmarks/chin_tuck_clips/ (made once, cached in benchmarks/.cache/; their labels follow
  from the spec); the six talk_* specs are people who talk between reps (the tool's wander
  0.15: the head drifts and pitches over each 3 s rest) and tuck with their own habit of
  chin-down (flex_deg 0-4 on every tuck), with a nod and a chin-level partial tuck each;
- exercise/bridging_1.mp4 (1 glute bridge), squats_3.mp4 (3 squats), the same squats
  replayed at twice the speed (about 1 s per squat), squats_2_plus_partial.mp4 (2 squats and
  one unfinished);
- talk_through: front-view talking (real webcam photos), then side-view tucks, then a
  camera cut that zooms in, and more tucks (see tests/videos.py talk_through_frames).

Each clip runs through the model once (its landmark trace is cached), then through the
same PostureSession `posture analyze` uses. Per clip it prints the true count, the count,
the rejected reps, for chin tucks how many counted reps matched a labelled window (start and
end within 1 s), and whether every nod, partial tuck and short hold was rejected with its
fault (nodding, too_shallow, hold_too_short). Anything else rejected is listed as extra.

--live   also replays each video through `posture run --source` at real speed (as the live
         loop does) and checks that it reports the same reps as `analyze`.
--responses  prints the measured response behind the built-in thresholds: per chin-tuck
         movement kind, the change of head_forward, head_tilt_deg and ear_above_shoulder from
         rest, and of the ear and the shoulder on their own (against the image); the rest
         noise, and how far each signal strays at rest through the counter's median; for the
         bridge and squats, the rest and end angles.
--hz HZ  counts each clip's trace as a camera sampled at HZ would give it (a slower CPU).
--flex   prints how a tuck's measured retraction and tilt change with its chin-down (0-10
         degrees, clips from five photos in benchmarks/chin_tuck_flex/), next to a nod's.
--learned  counts the chin-tuck and squat clips with exercises learned from one repetition
         (`posture exercises learn`): the chin tuck from tucks_dev1's first tuck (0.5-7.5 s),
         the squat from squats_3's first squat (0.6-2.45 s), each given the built-in's hold
         (the clips' labels count a tuck held 2 s as valid). A nod is then rejected as
         moved_the_other_way (the head went forward) or head_ or neck_not_as_shown (it
         pitched with no retraction).
--learned-from-each  learns a chin tuck from the first tuck of every side-view clip in
         turn and counts all the other clips with it: how much what is learned depends on
         the demonstration (people, photos, chin-down habits).
--framing  prints how much the head-and-shoulders framing moves between samples on every
         clip (what the camera-cut thresholds were set from).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from posture.analysis.exercise import Exercise, builtin_exercise  # noqa: E402
from posture.analysis.learn import WRONG_WAY, as_exercise, learn, to_toml  # noqa: E402
from posture.analysis.matchreps import part_fault  # noqa: E402
from posture.analysis.registry import fault_label  # noqa: E402
from posture.cli.main import quiet_native_logs  # noqa: E402
from posture.live.offline import AnalyzeOptions, analyze_path, demonstration  # noqa: E402
from posture.vision.modelstore import ensure_model  # noqa: E402
from posture.vision.trace import TraceHeader, TraceWriter, open_text, read_header, read_poses  # noqa: E402

SHARED = REPO.parent / "shared"
DATA = SHARED / "data" if (SHARED / "data" / "chin_tuck").is_dir() else REPO / "tests" / "data"
TOOL = SHARED / "tools" / "make_chin_tuck_video.py"
SPECS = REPO / "benchmarks" / "chin_tuck_clips"
FLEX_SPECS = REPO / "benchmarks" / "chin_tuck_flex"
CACHE = REPO / "benchmarks" / ".cache"
MATCH_S = 1.0
# The faults (any one of them) each kind of rejected movement must carry.
Expected = dict[str, tuple[str, ...]]
EXPECTED_FAULT: Expected = {"nod": ("nodding",), "partial": ("too_shallow",),
                            "short": ("hold_too_short",)}


@dataclass
class Clip:
    name: str
    exercise: str
    valid: int
    video: Path | None = None
    trace: Path | None = None
    windows: list[dict[str, Any]] = field(default_factory=list)  # chin tucks: labelled
    partial: int | None = None  # other clips: rejected reps expected
    spec: Path | None = None  # made by the generator from this spec


def spec_windows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Labelled windows of a make_chin_tuck_video.py spec, timed as the tool times frames."""
    fps = spec.get("fps", 30)
    frames = int(round(spec.get("lead_s", 2.0) * fps))
    out = []
    for rep in spec["reps"]:
        go, hold = rep.get("go_s", 0.8), rep.get("hold_s", 3.0)
        back, rest = rep.get("back_s", 0.8), rep.get("rest_s", 1.5)
        start = frames / fps
        n = [max(1, int(round(d * fps))) for d in (go, hold, back, rest)]
        kind = rep.get("kind", "tuck")
        valid = kind == "tuck" and hold >= builtin_exercise("chin_tuck").hold_s
        out.append({"kind": kind, "start_s": start, "hold_from_s": (frames + n[0]) / fps,
                    "end_s": (frames + n[0] + n[1] + n[2]) / fps, "hold_s": hold,
                    "valid": valid})
        frames += sum(n)
    return out


def label_kind(window: dict[str, Any]) -> str:
    if window["kind"] == "tuck" and not window["valid"]:
        return "short"
    return window["kind"]


def clips(only: str | None) -> list[Clip]:
    found: list[Clip] = []
    labels = DATA / "chin_tuck" / "labels.json"
    if labels.is_file():
        for name, item in json.loads(labels.read_text())["clips"].items():
            video = DATA / "chin_tuck" / name
            if video.is_file():
                found.append(Clip(Path(name).stem, "chin_tuck", item["valid_reps"], video,
                                  windows=item["reps"]))
    if TOOL.is_file():
        for spec_path in sorted(SPECS.glob("*.json")):
            spec = json.loads(spec_path.read_text())
            windows = spec_windows(spec)
            exercise = "chin_tuck_front" if spec.get("view") == "front" else "chin_tuck"
            found.append(Clip(f"gen_{spec_path.stem}", exercise,
                              sum(w["valid"] for w in windows), CACHE / f"{spec_path.stem}.mp4",
                              windows=windows, spec=spec_path))
    ex = DATA / "exercise"
    for name, exercise, valid, partial in (("bridging_1", "glute_bridge", 1, 0),
                                           ("squats_3", "squat", 3, 0),
                                           ("squats_2_plus_partial", "squat", 2, 1)):
        if (ex / f"{name}.mp4").is_file():
            found.append(Clip(name, exercise, valid, ex / f"{name}.mp4", partial=partial))
    if (ex / "squats_3.mp4").is_file():
        found.append(Clip("squats_3_at_2x", "squat", 3, partial=0,
                          trace=CACHE / "squats_3_at_2x.jsonl"))
    tuck_clip = DATA / "chin_tuck" / "tucks_dev1.mp4"
    if tuck_clip.is_file():
        from videos import TALK_THROUGH_WINDOWS

        found.append(Clip("talk_through", "chin_tuck",
                          sum(w["valid"] for w in TALK_THROUGH_WINDOWS),
                          CACHE / "talk_through.mp4", windows=TALK_THROUGH_WINDOWS))
    return [c for c in found if only is None or c.name == only]


def flex_clips() -> list[Clip]:
    """Clips of tucks with 0-10 degrees of chin-down (and a nod) from several photos: what the
    model reads of a tuck as its chin-down grows (--flex)."""
    if not TOOL.is_file():
        return []
    found = []
    for spec_path in sorted(FLEX_SPECS.glob("*.json")):
        spec = json.loads(spec_path.read_text())
        found.append(Clip(f"flex_{spec_path.stem}", "chin_tuck", 0,
                          CACHE / f"flex_{spec_path.stem}.mp4", windows=spec_windows(spec),
                          spec=spec_path))
    return found


def make_video(clip: Clip, model: Path) -> None:
    """Generated clips are made once and cached."""
    assert clip.video is not None
    if clip.video.is_file():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    if clip.name == "talk_through":
        from videos import write_talk_through

        part = clip.video.with_suffix(".part.mp4")
        write_talk_through(part, DATA)
        part.replace(clip.video)
        return
    spec_path = clip.spec
    assert spec_path is not None
    spec = json.loads(spec_path.read_text())
    photo = DATA / spec["photo"]
    print(f"making {clip.video.name} from {photo.name} ...", file=sys.stderr)
    part = clip.video.with_suffix(".part.mp4")  # an interrupted run leaves no bad cache
    subprocess.run([sys.executable, str(TOOL), str(photo), str(part), str(spec_path)],
                   check=True, env={**os.environ, "POSE_TASK": str(model)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    part.replace(clip.video)


def trace_of(clip: Clip, model: Path) -> Path:
    """The clip's landmark trace, through the model once and cached."""
    if clip.trace is not None:
        if not clip.trace.is_file():  # squats at twice the speed: the real trace, retimed
            source = trace_of(Clip("squats_3", "squat", 3, DATA / "exercise" / "squats_3.mp4"),
                              model)
            retime(source, clip.trace, 2.0)
        return clip.trace
    make_video(clip, model)
    trace = CACHE / f"{clip.name}.jsonl"
    if not trace.is_file():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"pose model on {clip.name} ...", file=sys.stderr)
        part = trace.with_suffix(".part.jsonl")
        analyze_path(clip.video, AnalyzeOptions(landmarks_out=part, show_progress=False))
        part.replace(trace)
    return trace


def retime(source: Path, target: Path, speed: float, skip_ms: int = 0) -> Path:
    """The trace replayed `speed` times faster, starting skip_ms into the fast replay."""
    with open_text(source, "r") as fh:
        header = read_header(fh, source)
        poses = list(read_poses(fh, source, header))
    out = TraceHeader(header.source, header.fps * speed, header.width, header.height)
    with TraceWriter(target, out) as writer:
        for pose in poses:
            t = int(pose.timestamp_ms / speed) - skip_ms
            if t >= 0:
                writer.write(replace(pose, timestamp_ms=t))
    return target


def subsample(source: Path, hz: float) -> Path:
    """The trace as a camera sampled at hz would have given it (every frame at or after each
    1/hz tick): what a slower CPU sees live."""
    target = CACHE / f"{source.stem}_at_{hz:g}hz.jsonl"
    if target.is_file():
        return target
    with open_text(source, "r") as fh:
        header = read_header(fh, source)
        poses = list(read_poses(fh, source, header))
    with TraceWriter(target, TraceHeader(header.source, hz, header.width, header.height)) as w:
        next_ms = 0.0
        for pose in poses:
            if pose.timestamp_ms >= next_ms:
                w.write(pose)
                next_ms += 1000 / hz
    return target


def analyze(trace: Path, exercise: str | Exercise) -> list[dict[str, Any]]:
    if isinstance(exercise, str):
        exercise = builtin_exercise(exercise)
    result = analyze_path(trace, AnalyzeOptions(exercise=exercise, show_progress=False))
    return result["exercise"]["reps_detail"]


# What --learned learns from: (clip, start s, end s) per built-in it stands in for.
DEMOS = {"chin_tuck": ("tucks_dev1", 0.5, 7.5), "squat": ("squats_3", 0.6, 2.45)}


def learned_exercises(model: Path) -> dict[str, Exercise]:
    """Each exercise of DEMOS learned from its one repetition, with the built-in's hold."""
    found = {c.name: c for c in clips(None)}
    return {name: learned_from(trace_of(found[clip_name], model), start, end, name,
                               f"{clip_name} {start:g}-{end:g} s")
            for name, (clip_name, start, end) in DEMOS.items()}


def learned_from(trace: Path, start: float, end: float, like: str, source: str) -> Exercise:
    """The exercise `posture exercises learn` makes of trace from start to end s, given the
    hold of the built-in `like`."""
    frames = demonstration(trace, AnalyzeOptions(show_progress=False), start, end)
    learned = learn(frames, f"learned_{like}", hold_s=builtin_exercise(like).hold_s)
    return as_exercise(to_toml(learned, source))


REP_LINE = re.compile(r"^\s+([\d.]+) s  (.+): (good|partial) rep(?: \((.*)\))?$")


def terminal_reps(stderr: str) -> list[tuple[str, bool, str]]:
    """The reps a `posture run` terminal reports, as (end time, valid, faults in words)."""
    return [(m[1], m[3] == "good", m[4] or "") for line in stderr.splitlines()
            if (m := REP_LINE.match(line))]


def as_terminal(reps: list[dict[str, Any]]) -> list[tuple[str, bool, str]]:
    """What the terminal says of each rep: its end, valid, and its faults in words."""
    return [(f"{r['end_s']:.1f}", r["valid"], ", ".join(fault_label(f) for f in r["faults"]))
            for r in reps]


def live_reps(video: Path, exercise: str) -> list[tuple[str, bool, str]]:
    """The reps `posture run --source VIDEO --speed 1` reports on the terminal."""
    with open(os.devnull) as null:
        proc = subprocess.run(
            [sys.executable, "-m", "posture", "run", "--source", str(video), "--speed", "1",
             "--exercise", exercise, "--no-dashboard", "--no-history"],
            capture_output=True, text=True, stdin=null, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"posture run failed on {video}: {proc.stderr.strip()[-300:]}")
    return terminal_reps(proc.stderr)


def score(clip: Clip, reps: list[dict[str, Any]],
          expected: Expected = EXPECTED_FAULT) -> dict[str, Any]:
    """The clip's row; `rejected_right` counts, per kind, the labelled movements rejected
    with one of their expected faults."""
    valid = [r for r in reps if r["valid"]]
    rejected = [r for r in reps if not r["valid"]]
    row: dict[str, Any] = {"clip": clip.name, "exercise": clip.exercise, "true": clip.valid,
                           "counted": len(valid), "rejected": len(rejected)}
    if not clip.windows:
        row["exact"] = len(valid) == clip.valid and len(rejected) == clip.partial
        return row
    used: set[int] = set()

    def overlapping(w: dict[str, Any], pool: list[dict[str, Any]]) -> dict[str, Any] | None:
        for r in pool:
            if id(r) not in used and r["start_s"] < w["end_s"] + MATCH_S and (
                    r["end_s"] > w["start_s"] - MATCH_S):
                return r
        return None

    matched = 0
    for w in (w for w in clip.windows if w["valid"]):
        for r in valid:
            if id(r) not in used and abs(r["start_s"] - w["start_s"]) <= MATCH_S and abs(
                    r["end_s"] - w["end_s"]) <= MATCH_S:
                used.add(id(r))
                matched += 1
                break
    right: Counter[str] = Counter()
    wanted = [w for w in clip.windows if not w["valid"]]
    for w in wanted:
        r = overlapping(w, rejected)
        if r is not None:
            used.add(id(r))
            kind = label_kind(w)
            right[kind] += any(f in r["faults"] for f in expected[kind])
    faults_ok = sum(right.values())
    extra = [r for r in reps if id(r) not in used]
    row.update(matched=f"{matched}/{clip.valid}", rejected_ok=f"{faults_ok}/{len(wanted)}",
               rejected_right=right,
               extra=[f"{r['start_s']:.1f}-{r['end_s']:.1f}s {','.join(r['faults']) or 'valid'}"
                      for r in extra])
    row["exact"] = (len(valid) == clip.valid and matched == clip.valid
                    and faults_ok == len(wanted) and not extra)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--responses", action="store_true")
    parser.add_argument("--framing", action="store_true")
    parser.add_argument("--flex", action="store_true")
    parser.add_argument("--learned", action="store_true")
    parser.add_argument("--learned-from-each", action="store_true",
                        help="learn a chin tuck from each clip's first tuck; count the others")
    parser.add_argument("--only")
    parser.add_argument("--hz", type=float, help="count on every clip as sampled at this rate")
    parser.add_argument("--verbose", action="store_true", help="list every rep")
    args = parser.parse_args()
    quiet_native_logs()
    model = ensure_model()
    if args.flex:
        from exercise_responses import print_flex

        print_flex([(clip, trace_of(clip, model)) for clip in flex_clips()])
        return 0
    todo = clips(args.only)
    if not todo:
        sys.exit(f"no labelled clips under {DATA}")
    learned: dict[str, Exercise] = {}
    expected = dict(EXPECTED_FAULT)
    if args.learned or args.learned_from_each:
        # A nod moves the head forward (the other way from a tuck) or pitches it with no
        # retraction.
        expected["nod"] = (WRONG_WAY, part_fault("head"), part_fault("neck"))
    if args.learned_from_each:
        return learned_from_each(model, expected)
    if args.learned:
        learned = learned_exercises(model)
        todo = [clip for clip in todo if clip.exercise in learned]
    rows = []
    for clip in todo:
        trace = trace_of(clip, model)
        if args.hz:
            trace = subsample(trace, args.hz)
        reps = analyze(trace, learned.get(clip.exercise, clip.exercise))
        row = score(clip, reps, expected)
        if args.verbose:
            for r in reps:
                print(f"  {clip.name}: {r['start_s']:6.2f}-{r['end_s']:6.2f}s hold {r['hold_s']}"
                      f" depth {r['depth']} {','.join(r['faults']) or 'valid'}"
                      + (f" similarity {r['similarity']}" if "similarity" in r else ""))
            for w in clip.windows:
                print(f"  label {w['kind']:8s} {w['start_s']:6.2f}-{w['end_s']:6.2f}s "
                      f"hold {w['hold_s']} {'valid' if w['valid'] else ''}")
        if args.live and clip.video is not None:
            started = time.monotonic()
            live = live_reps(clip.video, clip.exercise)
            row["live_same"] = live == as_terminal(reps)
            row["live_s"] = round(time.monotonic() - started, 1)
        rows.append(row)
        if args.responses:
            from exercise_responses import print_responses

            print_responses(clip, trace)
        if args.framing:
            from exercise_responses import print_framing

            print_framing(clip, trace)
    print_table(rows)
    return 0 if all(r["exact"] and r.get("live_same", True) for r in rows) else 1


def learned_from_each(model: Path, expected: Expected) -> int:
    """A chin tuck learned from the first tuck of each side-view clip (a second either
    side, the built-in's hold), counting every other clip: how much what is learned depends
    on the demonstration."""
    tucks = [c for c in clips(None) if c.exercise == "chin_tuck" and c.windows]
    total = {"pairs": 0, "exact": 0, "counted": 0, "nods": 0, "nods_ok": 0, "extra": 0}
    print("demonstration              exact  counted right  nods rejected  extra rejections")
    for demo in tucks:
        first = next(w for w in demo.windows if w["kind"] == "tuck")
        exercise = learned_from(trace_of(demo, model), first["start_s"] - 1.0,
                                first["end_s"] + 1.0, "chin_tuck",
                                f"{demo.name} {first['start_s']:g} s")
        row = dict.fromkeys(total, 0)
        for clip in (c for c in tucks if c is not demo):
            reps = analyze(trace_of(clip, model), exercise)
            scored = score(clip, reps, expected)
            nods = [w for w in clip.windows if w["kind"] == "nod"]
            row["pairs"] += 1
            row["exact"] += scored["exact"]
            row["counted"] += scored["counted"] == clip.valid
            row["nods"] += len(nods)
            row["nods_ok"] += scored["rejected_right"]["nod"]
            row["extra"] += len(scored["extra"])
        print(f"{demo.name:26s} {row['exact']:2d}/{row['pairs']:<2d}  {row['counted']:6d}/"
              f"{row['pairs']:<6d}  {row['nods_ok']:6d}/{row['nods']:<6d}  {row['extra']:8d}",
              flush=True)
        for k in total:
            total[k] += row[k]
    print(f"\nlearned from each: exact {total['exact']}/{total['pairs']}, counted right "
          f"{total['counted']}/{total['pairs']}, nods rejected {total['nods_ok']}/"
          f"{total['nods']}, extra rejections {total['extra']}")
    return 0


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ["clip", "exercise", "true", "counted", "rejected", "matched", "rejected_ok",
            "live_same", "exact"]
    head = [h for h in head if any(h in r for r in rows)]
    width = {h: max(len(h), *(len(str(r.get(h, ""))) for r in rows)) for h in head}
    print("  ".join(h.ljust(width[h]) for h in head))
    for r in rows:
        print("  ".join(str(r.get(h, "")).ljust(width[h]) for h in head))
        for extra in r.get("extra", []):
            print(f"    extra: {extra}")
    exact = sum(r["exact"] for r in rows)
    print(f"\n{exact}/{len(rows)} clips counted exactly")


if __name__ == "__main__":
    raise SystemExit(main())

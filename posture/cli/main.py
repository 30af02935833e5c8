"""posture: webcam posture and exercise-form monitor.

Exit codes: 0 ok, 2 bad input or usage, 3 model missing or corrupt, 4 camera unavailable.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from posture import __version__
from posture.cli.args import add_config_argument, add_exercise_arguments, add_run_arguments
from posture.cli.args import seconds as _seconds
from posture.errors import PostureError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="posture", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"posture {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    models = commands.add_parser("models", help="fetch and list pose model bundles")
    model_commands = models.add_subparsers(dest="models_command", required=True,
                                           parser_class=_Parser)
    fetch = model_commands.add_parser("fetch", help="download and verify a model bundle")
    fetch.add_argument("--variant", default="full", choices=("lite", "full", "heavy"))
    fetch.add_argument("--force", action="store_true", help="download even if verified")
    model_commands.add_parser("list", help="show which bundles are present and verified")

    analyze = commands.add_parser("analyze", help="analyze an image, folder, video or trace")
    analyze.add_argument("path", help="image, folder of images, video, or .jsonl trace")
    analyze.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    analyze.add_argument("--landmarks", type=Path, metavar="OUT.jsonl",
                         help="write the landmark trace of a video or trace")
    analyze.add_argument("--annotate", type=Path, metavar="OUT",
                         help="draw the skeleton: a video for videos and traces, an image for "
                              "an image, a folder for a folder")
    analyze.add_argument("--baseline", metavar="PATH",
                         help="upright baseline of the same person: image, folder, video, "
                              "trace, or a saved calibration profile (.json)")
    add_exercise_arguments(analyze)
    add_config_argument(analyze)
    analyze.add_argument("--view", default="auto", choices=("auto", "side", "front"),
                         help="camera view (default: detected per frame)")
    analyze.add_argument("--variant", default="full", choices=("lite", "full", "heavy"),
                         help="pose model variant (default: full)")
    analyze.add_argument("--quiet", action="store_true", help="no progress on stderr")

    exercises = commands.add_parser("exercises", help="list the exercises, or teach a new one "
                                                      "by showing it")
    exercise_commands = exercises.add_subparsers(dest="exercises_command", parser_class=_Parser)
    exercise_commands.add_parser("list", help="list the built-in and learned exercises "
                                              "(the default)")
    learn = exercise_commands.add_parser(
        "learn", help="learn an exercise from a video or trace of one to three repetitions")
    learn.add_argument("name", help="the new exercise's name: 1-40 of a-z, 0-9 and _")
    shown = learn.add_mutually_exclusive_group(required=True)
    shown.add_argument("--source", type=Path, metavar="PATH",
                       help="a video or .jsonl landmark trace of the demonstration, starting "
                            "and ending at rest")
    shown.add_argument("--camera", nargs="?", const="", metavar="ID",
                       help="show it to the camera (index or device path; default: "
                            "camera.device from the config), following a printed countdown")
    learn.add_argument("--seconds", type=_seconds, default=10.0, metavar="N",
                       help="with --camera: how long to move, after keeping still (default "
                            "10)")
    learn.add_argument("--start", type=_seconds, metavar="S",
                       help="learn from S seconds into the source (default: its start)")
    learn.add_argument("--end", type=_seconds, metavar="S",
                       help="learn up to S seconds into the source (default: its end)")
    learn.add_argument("--out", type=Path, metavar="FILE.toml",
                       help="write the exercise here (default: your exercise folder, where "
                            "--exercise NAME finds it)")
    learn.add_argument("--title", help="its title (default: from the name)")
    learn.add_argument("--hold", type=_seconds, metavar="S",
                       help="prescribe this hold instead of the one shown")
    learn.add_argument("--count-by", choices=("auto", "metric", "template"), default="auto",
                       help="count it on the one measurement that carries it (metric), by "
                       "matching the whole body's movement (template), or the first when a "
                       "measurement carries it clearly (auto, the default)")
    learn.add_argument("--force", action="store_true",
                       help="replace an exercise of that name learned before")
    learn.add_argument("--json", action="store_true", help="print what was learned as JSON")
    learn.add_argument("--variant", default="full", choices=("lite", "full", "heavy"),
                       help="pose model variant (default: full)")
    learn.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_config_argument(learn)

    run = commands.add_parser("run", help="the live monitor, on a camera or a file")
    add_run_arguments(run)
    demo = commands.add_parser("demo", help="the monitor on a bundled recording (no camera "
                                            "needed)")
    add_run_arguments(demo, demo=True)

    report = commands.add_parser("report", help="adherence and posture report from the history")
    report.add_argument("--days", type=int, default=30, help="period in days (default 30)")
    shape = report.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="the report as JSON")
    shape.add_argument("--csv", action="store_true", help="the daily table as CSV")
    add_config_argument(report)

    autostart = commands.add_parser("autostart", help="start the monitor at login, or not")
    autostart.add_argument("action", choices=("enable", "disable", "status"),
                           help="enable: start `posture run` at every login (no browser "
                                "window); disable: stop doing so; status: say which")

    config = commands.add_parser("config", help="show or check the configuration")
    config.add_argument("action", choices=("show", "check", "path", "docs"),
                        help="show: effective settings; check: validate; path: the file; "
                             "docs: every setting with its meaning")
    add_config_argument(config)
    config.add_argument("--markdown", action="store_true",
                        help="docs: as the README's settings table")

    calibrate = commands.add_parser(
        "calibrate", help="save an upright baseline profile from a camera, file or folder")
    where = calibrate.add_mutually_exclusive_group()
    where.add_argument("--source", metavar="PATH",
                       help="image, folder, video or trace of upright sitting")
    where.add_argument("--camera", default="0", metavar="ID",
                       help="camera index or device path (default: 0)")
    calibrate.add_argument("--seconds", type=float, default=5.0,
                           help="how long to sample the camera (default: 5)")
    calibrate.add_argument("--view", default="auto", choices=("auto", "side", "front"))
    calibrate.add_argument("--out", type=Path, metavar="FILE.json",
                           help="where to save (default: default.json in the user data "
                                "directory's calibration folder)")
    calibrate.add_argument("--variant", default="full", choices=("lite", "full", "heavy"))
    calibrate.add_argument("--keep", action="store_true",
                           help="save it even when it looks slouched (it is how you sit "
                                "upright)")
    add_config_argument(calibrate)
    return parser


def _cmd_models(args: argparse.Namespace) -> int:
    from posture.vision import modelstore

    if args.models_command == "fetch":
        from posture.files import secure_user_data

        secure_user_data()  # setup runs this first: the data folder is made private
        variant = modelstore.get_variant(args.variant)
        path = modelstore.model_path(variant)
        if not args.force and modelstore.verify(path, variant) is None:
            print(f"model {variant.name}: already verified at {path}", file=sys.stderr)
            return 0
        modelstore.fetch(variant)
        return 0
    rows = modelstore.list_models()
    print(f"model directory: {modelstore.model_dir()}")
    for row in rows:
        print(f"  {row['variant']:<6} {row['bytes']:>11,} bytes  {row['status']}")
    return 0


def _view(name: str):  # noqa: ANN202
    from posture.analysis.metrics import View

    return None if name == "auto" else View(name)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from posture.cli.calibrate import calibrate
    from posture.config import load_config
    from posture.live.offline import AnalyzeOptions

    options = AnalyzeOptions(variant=args.variant, view=_view(args.view),
                             config=load_config(args.config))
    if not 0.5 <= args.seconds <= 120:
        raise UsageError(f"--seconds must be within [0.5, 120], got {args.seconds}")
    baseline, path, check = calibrate(args.source, args.camera, args.seconds, args.out,
                                      options, keep=args.keep)
    print(f"saved {baseline.view.value}-view baseline from {baseline.frames} frames to {path}")
    print(f"  {check['words']}")
    if check["warning"]:
        print(f"  kept although it looks slouched (--keep): {check['warning']}")
    from posture.analysis.placement import placement_advice

    print("\n".join(placement_advice(baseline).lines()))
    return 0


def _cmd_exercises(args: argparse.Namespace) -> int:
    from posture.analysis.exercise import (
        builtin_exercise,
        builtin_names,
        find_exercise,
        learned_names,
    )
    from posture.analysis.program import builtin_program, builtin_program_names
    from posture.paths import user_exercises_dir

    if args.exercises_command == "learn":
        return _cmd_learn(args)
    for name in builtin_names():
        ex = builtin_exercise(name)
        print(f"{name:<26} {ex.kind:<5} {ex.view:<5} {ex.title}")
    learned = learned_names()
    if learned:
        print(f"\nlearned (in {user_exercises_dir()}):")
    for name in learned:
        try:
            ex = find_exercise(name)
        except PostureError as exc:
            print(f"{name:<26} cannot be used: {exc}")
            continue
        print(f"{name:<26} {ex.kind:<5} {ex.view:<5} {ex.title}")
    print("\nroutines (--program NAME):")
    for name in builtin_program_names():
        program = builtin_program(name)
        steps = ", ".join(f"{s.exercise.name} {s.sets}x{s.reps}" for s in program.steps)
        print(f"{name:<26} {program.title}: {steps}")
    return 0


def _cmd_learn(args: argparse.Namespace) -> int:
    from posture.analysis.exercise import builtin_names
    from posture.analysis.learn import as_exercise, learn, to_toml
    from posture.files import check_output_file, refuse_overwriting_inputs, write_text_atomic
    from posture.live.offline import AnalyzeOptions, demonstration
    from posture.paths import user_exercises_dir
    from posture.schema import NAME_PATTERN

    if not re.fullmatch(NAME_PATTERN, args.name):
        raise UsageError(f"exercise name {args.name!r}: use 1-40 of a-z, 0-9 and _")
    if args.name in builtin_names():
        raise UsageError(f"{args.name!r} is a built-in exercise; give the new one another name")
    if args.start is not None and args.end is not None and args.end <= args.start:
        raise UsageError(f"--end {args.end:g} is not after --start {args.start:g}")
    out = args.out or user_exercises_dir() / f"{args.name}.toml"
    refuse_overwriting_inputs([args.source], [("--out", out)])
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists (an exercise learned before?); add --force to "
                         "replace it, or choose another name")
    if args.out is not None:
        check_output_file(out)
    if args.source is None:
        from posture.cli.teach import learn_from_camera

        learned = learn_from_camera(args)
        shown_in = "a demonstration to the camera"
    else:
        frames = demonstration(args.source, AnalyzeOptions(variant=args.variant,
                                                           show_progress=not args.quiet),
                               args.start, args.end)
        learned = learn(frames, args.name, args.title, args.hold, args.count_by)
        shown_in = args.source.name
    text = to_toml(learned, shown_in)
    as_exercise(text)  # what is written always loads
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, text)
    if args.json:
        print(json.dumps(learned.to_json() | {"file": str(out)}))
        return 0
    shown = learned.to_json()
    reps = ", ".join(f"{r.start_s:.1f}-{r.end_s:.1f} s" for r in learned.reps)
    print(f"learned {args.name!r} from {shown_in}: {len(learned.reps)} "
          f"repetition{'s' if len(learned.reps) != 1 else ''} at {reps}")
    parts = ", ".join(f"{p['part']}" for p in shown["parts_moving"])  # type: ignore
    if learned.count_by == "template":
        print(f"  counts by: matching the whole body's movement ({len(learned.template)} "
              f"frames; moving: {parts or 'little'})")
    else:
        print(f"  counts by: {shown['label']} ({learned.metric}), {shown['direction']} from "
              f"{shown['rest']} by {shown['range']} {shown['unit']} (a rep needs "
              f"{learned.min_range} or more)")
        if parts:
            print(f"  whole body: {parts} move; each rep is scored against the demonstration")
    moving = [m for m in shown["moving"] if m["metric"] != learned.metric]  # type: ignore
    if moving:
        print("  also moved: " + ", ".join(f"{m['part']} ({m['metric']} {m['change']:+g})"
                                           for m in moving))
    print(f"  tempo: {shown['tempo_s']} s a repetition; hold: "
          + (f"{learned.hold_s:g} s" if learned.hold_s else "none"))
    print(f"  form checks: {len(learned.rules)}; written to {out}")
    if args.out is None:
        print(f"  count it with: posture run --exercise {args.name}")
    return 0


def _program_lines(prog: dict[str, Any]) -> list[str]:
    from posture.analysis.coaching import title_of
    from posture.analysis.registry import fault_label

    lines = [f"  routine {prog['title']}: {prog['completion'] * 100:.0f}% of prescribed reps"]
    for step in prog["steps"]:
        due, done = step["prescribed"], step["done"]
        line = (f"    {title_of(step['exercise'])}: {done['reps']}/{due['sets'] * due['reps']} "
                f"reps, {done['sets']}/{due['sets']} sets")
        if step["faults"]:
            line += ", faults " + ", ".join(f"{fault_label(k)} x{v}"
                                            for k, v in step["faults"].items())
        lines.append(line)
    return lines


def _cmd_run(args: argparse.Namespace) -> int:
    demo = args.command == "demo"
    if demo or args.source is not None:
        from posture.cli.run import run_command

        return run_command(args, demo=demo)
    # One monitor per user on a camera: a second start (by hand or at login) points at the
    # first and leaves, before anything heavy is loaded.
    from posture.instance import InstanceLock, describe

    lock = InstanceLock()
    running = lock.acquire()
    if running is not None:
        print(f"posture: {describe(running)}", file=sys.stderr)
        return 0
    try:
        if lock.previous.get("pid"):
            print(f"posture: the last monitor (pid {lock.previous['pid']}) ended without "
                  "closing; taking over", file=sys.stderr)
        from posture.cli.run import run_command

        return run_command(args, lock=lock)
    finally:
        lock.release()


def _cmd_report(args: argparse.Namespace) -> int:
    from posture.config import load_config
    from posture.history import queries
    from posture.history.store import read_only
    from posture.paths import user_data_dir

    if not 1 <= args.days <= 3660:
        raise UsageError(f"--days must be within [1, 3660], got {args.days}")
    config = load_config(args.config)
    path = Path(config.history.path).expanduser() if config.history.path else (
        user_data_dir() / "history.sqlite3")
    if not path.exists():
        raise UsageError(f"no history yet at {path}: run `posture run` first")
    conn = read_only(path)
    try:
        data = queries.report(conn, args.days, break_min=config.breaks.break_min)
    finally:
        conn.close()
    if args.json:
        print(json.dumps(data))
    elif args.csv:
        sys.stdout.write(queries.report_csv(data))
    else:
        print("\n".join(_report_lines(data)))
    return 0


def _report_lines(data: dict[str, Any]) -> list[str]:
    p, ex = data["posture"], data["exercise"]
    share = "n/a" if p["slouched_share"] is None else f"{p['slouched_share'] * 100:.1f}%"
    lines = [f"Posture and exercise report, last {data['days']} days",
             f"  monitored {p['judged_h']} h, slouched {share} of it; "
             f"{p['slouch_alerts']} slouch alerts, {p['break_reminders']} break reminders",
             f"  exercise sessions: {ex['sessions']}"]
    lines += [f"    {e['title']}: {e['reps']} reps, {e['partial_reps']} partial, "
              f"{e['hold_s']} s held" for e in ex["by_exercise"]]
    if ex["faults"]:
        from posture.analysis.registry import fault_label

        lines.append("  form faults: " + ", ".join(f"{fault_label(k)} x{v}"
                                                   for k, v in ex["faults"].items()))
    from posture.care import care_lines

    lines += ["", "What the last week shows" + ("" if data["insights"] else
              ": nothing to advise yet (insights need 3 days with 30 min of monitoring)")]
    for item in data["insights"]:
        lines += [f"  {item['title']}: {item['evidence']['summary']}",
                  "    on " + ", ".join(d["date"] for d in item["evidence"]["days"]),
                  f"    advice: {item['advice']}"]
    return [*lines, "", *care_lines()]


def _cmd_autostart(args: argparse.Namespace) -> int:
    from posture import autostart

    if args.action == "enable":
        entry = autostart.enable()
        print(f"posture will start at login: {entry.path}")
    elif args.action == "disable":
        removed = autostart.disable()
        print("posture will no longer start at login" if removed
              else "posture was not set to start at login")
    else:
        state = autostart.status()
        if not state["enabled"]:
            print(f"disabled (no entry at {state['path']})")
        else:
            print(f"enabled: {state['path']}"
                  + ("" if state["current"] else "; it was written by another posture "
                     "installation: run `posture autostart enable` to update it"))
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from posture.config import config_path, documentation, load_config, markdown_table

    path = args.config or config_path()
    if args.action == "path":
        print(path)
        return 0
    if args.action == "docs":
        if args.markdown:
            print(markdown_table())
            return 0
        for d in documentation():
            print(f"{d.section}.{d.key} = {d.default!r}\n    {d.help}")
        return 0
    if args.config is not None and not args.config.is_file():
        raise UsageError(f"{args.config}: no such config file")
    config = load_config(args.config)
    if args.action == "check":
        from posture.analysis.calibration import check_calibration_setting

        check_calibration_setting(config)
        where = path if path.exists() else f"defaults (no file at {path})"
        print(f"config OK: {where}")
        return 0
    for section, values in config.to_dict().items():
        print(f"[{section}]")
        for key, value in values.items():
            print(f"{key} = {json.dumps(value)}")
        print()
    return 0


def _summary_lines(result: dict[str, Any]) -> list[str]:
    if "images" in result:
        return [line for item in result["images"] for line in _summary_lines(item)]
    if result["kind"] == "image":
        if not result["person"]:
            return [f"{result['source']}: no person"]
        posture = result.get("posture")
        verdict = result["verdict"] + (f" ({posture.replace('_', ' ')})" if posture and
                                       result["verdict"] == "slouched" else "")
        reasons = (f": {', '.join(result['reasons'])}"
                   if result["reasons"] and result["reasons"] != [result["verdict"]] else "")
        if result["verdict"] == "unknown" and result["view"] != "side":
            reasons = " (from the front, posture is judged against a --baseline)"
        quality = result.get("quality", {})
        shown = ", ".join(f"{k} {v}" + (" (est.)" if quality.get(k, "measured") != "measured"
                                        else "")
                          for k, v in result["metrics"].items()
                          if v is not None and k in ("neck_deg", "thoracic_deg", "hip_deg"))
        return [f"{result['source']}: {result['view']} view, {verdict}{reasons}"
                + (f"; {shown}" if shown else "")]
    posture = result["posture"]

    def percent(fraction: float | None) -> str:
        return "n/a" if fraction is None else f"{fraction * 100:.0f}%"

    lines = [f"{result['source']}: {result['frames']} frames at {result['fps']} fps "
             f"({result['duration_s']} s), person in {result['person_frames']}, "
             f"view {result['view']}",
             f"  slouched {percent(posture['slouched_fraction'])}, reclined "
             f"{percent(posture.get('reclined_fraction'))} of judged time"]
    moments = [(step["t_s"], step["state"] + (f" ({', '.join(step['reasons'])})"
                                             if step["reasons"] else ""))
               for step in posture["timeline"]]
    moments += [(alert["t_s"], f"alert: {alert['title']}") for alert in posture["alerts"]]
    lines += [f"  {t:8.2f} s  {text}" for t, text in sorted(moments, key=lambda m: m[0])]
    if "exercise" in result:
        from posture.analysis.coaching import title_of
        from posture.analysis.registry import fault_label

        ex = result["exercise"]
        lines.append(f"  {title_of(ex['name'])}: {ex['reps']} good reps, "
                     f"{ex['partial_reps']} partial")
        lines += [f"    {r['start_s']:7.2f}-{r['end_s']:.2f} s  "
                  f"{round(100 * min(r['depth'], 1.5))}% of the usual range"
                  + (f"  held {r['hold_s']} s" if r["hold_s"] else "")
                  + ("" if r["valid"] else
                     f"  partial: {', '.join(fault_label(f) for f in r['faults'])}")
                  for r in ex["reps_detail"]]
    if "program" in result:
        lines += _program_lines(result["program"])
    return lines


def _cmd_analyze(args: argparse.Namespace) -> int:
    from posture.cli.args import exercise_options
    from posture.config import load_config
    from posture.files import refuse_overwriting_inputs
    from posture.live.offline import AnalyzeOptions, analyze_path, load_baseline

    refuse_overwriting_inputs([args.path, args.baseline], [("--landmarks", args.landmarks),
                                                           ("--annotate", args.annotate)])
    options = AnalyzeOptions(variant=args.variant, landmarks_out=args.landmarks,
                             annotate_out=args.annotate, show_progress=not args.quiet,
                             view=_view(args.view), config=load_config(args.config),
                             **exercise_options(args))
    if args.baseline:
        options = replace(options, baseline=load_baseline(args.baseline, options))
    result = analyze_path(args.path, options)
    warnings = [w for item in result.get("images", [result]) for w in item.get("warnings", [])]
    for warning in dict.fromkeys(warnings):
        print(f"posture: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(_summary_lines(result)))
    return 0


def quiet_native_logs() -> None:
    """Point file descriptor 2 at /dev/null and keep Python's stderr on the real one.

    The pose runtime's C++ code logs warnings straight to descriptor 2 on every run; our own
    messages, progress and tracebacks go through sys.stderr and still reach the user.
    Set POSTURE_NATIVE_LOGS=1 to see the native logs when debugging.
    """
    if os.environ.get("POSTURE_NATIVE_LOGS") == "1":
        return
    try:
        sys.stderr.flush()
        real = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        return
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = io.TextIOWrapper(os.fdopen(real, "wb", buffering=0), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True,
                                  write_through=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet_native_logs()
    handlers = {"models": _cmd_models, "analyze": _cmd_analyze, "calibrate": _cmd_calibrate,
                "exercises": _cmd_exercises, "run": _cmd_run, "demo": _cmd_run,
                "config": _cmd_config, "report": _cmd_report, "autostart": _cmd_autostart}
    try:
        return handlers[args.command](args)
    except PostureError as exc:
        print(f"posture: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("posture: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


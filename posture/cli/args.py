"""Arguments shared by commands, defined without importing anything heavy (`posture --help`
must stay fast)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_run_arguments(parser: argparse.ArgumentParser, demo: bool = False) -> None:
    if not demo:
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--camera", metavar="ID", help="camera index or device path "
                           "(default: camera.device from the config, 0)")
        where.add_argument("--source", metavar="PATH",
                           help="run on a video or landmark trace instead of a camera")
        parser.add_argument("--baseline", metavar="PATH",
                            help="upright baseline (default: posture.calibration from the "
                                 "config, else the profile saved by `posture calibrate`)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="file sources: 1 plays in real time, 2 twice as fast, 0 as fast "
                             "as possible (default: 1)")
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--exercise", metavar="NAME", help="an exercise session: count reps")
    chosen.add_argument("--exercise-file", type=Path, metavar="FILE.toml")
    chosen.add_argument("--program", type=Path, metavar="FILE.toml|NAME",
                        help="a program file or a built-in routine (see `posture exercises`)")
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="config file (default: the user config directory's)")
    parser.add_argument("--no-history", action="store_true", help="do not write history")
    parser.add_argument("--host", default="127.0.0.1",
                        help="dashboard address (default 127.0.0.1; others need "
                             "--allow-remote)")
    parser.add_argument("--port", type=port_number, default=8765,
                        help="dashboard port (default 8765; 0 picks a free one)")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (the access token is still needed)")
    parser.add_argument("--allow-host", action="append", metavar="NAME",
                        help="with --allow-remote: another Host name the dashboard answers "
                             "to (repeatable); this machine's names and addresses always are")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open the dashboard in a browser")
    parser.add_argument("--no-dashboard", action="store_true", help="run without the dashboard")
    parser.add_argument("--no-tray", action="store_true",
                        help="no tray icon (shown by default in a desktop session)")
    parser.add_argument("--keep-open", action="store_true",
                        help="file sources: keep the dashboard up after the file ends")


def port_number(text: str) -> int:
    """A TCP port for argparse: 0 (pick a free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be within [0, 65535], got {value}")
    return value


def seconds(text: str) -> float:
    """A time in seconds: finite, 0 to a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value <= 86400:  # NaN fails too
        raise argparse.ArgumentTypeError(f"seconds must be within [0, 86400], got {text}")
    return value


def add_exercise_arguments(parser: argparse.ArgumentParser) -> None:
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--exercise", metavar="NAME",
                        help="count repetitions of a built-in exercise or one you taught it "
                             "(see `posture exercises`)")
    chosen.add_argument("--exercise-file", type=Path, metavar="FILE.toml",
                        help="count repetitions of an exercise defined in a TOML file")
    chosen.add_argument("--program", type=Path, metavar="FILE.toml|NAME",
                        help="follow a prescribed program (a file, or a built-in routine: see "
                             "`posture exercises`) and report adherence")


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="config file (default: the user config directory's, or "
                             "$POSTURE_CONFIG)")


def exercise_options(args: argparse.Namespace) -> dict[str, Any]:
    """The exercise or program asked for with --exercise, --exercise-file or --program."""
    from posture.analysis.exercise import find_exercise, load_exercise_file
    from posture.analysis.program import builtin_program, builtin_program_names, load_program

    if args.exercise is not None:
        return {"exercise": find_exercise(args.exercise)}
    if args.exercise_file is not None:
        return {"exercise": load_exercise_file(args.exercise_file)}
    if args.program is not None:
        name = str(args.program)
        if not args.program.exists() and (name in builtin_program_names() or (
                args.program.suffix == "" and "/" not in name and "\\" not in name)):
            return {"program": builtin_program(name)}  # a routine's name, or a misspelt one
        return {"program": load_program(args.program)}
    return {}

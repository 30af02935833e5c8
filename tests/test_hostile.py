"""Hostile and broken input: every case gets one clean line and a non-zero exit (or the right
result), never a traceback, and no output ever destroys an input."""

import json
import os
import stat
import struct
import zlib

import pytest
from conftest import REPO, run_cli

from posture.config import load_config
from posture.errors import UsageError

pytestmark = pytest.mark.slow

HEADER = ('{"format": "posture-landmarks", "version": 1, "source": "x", "fps": 30.0, '
          '"width": 640, "height": 480}\n')


def one_clean_line(proc, code=2):
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("posture")]
    assert len(lines) == 1 and "error" in lines[0], proc.stderr
    return lines[0]


def png_header(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def point_trace(path, frames=5):
    """Every landmark at one point: a degenerate pose."""
    rows = [[0.5, 0.5, 0.0, 1.0, 1.0]] * 33
    path.write_text(HEADER + "".join(
        json.dumps({"t_ms": i * 33, "landmarks": rows, "world": [[0, 0, 0]] * 33}) + "\n"
        for i in range(frames)))
    return path


def test_an_output_never_replaces_an_input(tmp_path):
    trace = point_trace(tmp_path / "same.jsonl")
    before = trace.read_bytes()
    one_clean_line(run_cli("analyze", str(trace), "--landmarks", str(trace), "--quiet"))
    one_clean_line(run_cli("analyze", str(trace), "--annotate", str(trace), "--quiet"))
    profile = tmp_path / "p.json"
    profile.write_text("{}")
    one_clean_line(run_cli("analyze", str(trace), "--baseline", str(profile), "--landmarks",
                           str(profile), "--quiet"))
    assert trace.read_bytes() == before and profile.read_text() == "{}"


def test_a_failed_write_leaves_the_old_file(tmp_path):
    trace = point_trace(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    out.write_text("keep me")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(trace.read_text() + "not json\n")
    one_clean_line(run_cli("analyze", str(bad), "--landmarks", str(out), "--quiet"))
    assert out.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] and not [
        p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")]


@pytest.mark.parametrize("name, content, message", [
    ("big.png", png_header(60000, 60000), "megapixel limit"),
    ("big.jpg", b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", 20000, 20000)
     + b"\x03" + b"\x00" * 9 + b"\xff\xd9", "megapixel limit"),
    ("plain.jsonl.gz", b"hello", "not a posture landmark trace"),
    ("bytes.jsonl", HEADER.encode()[:-2] + b', "x": "\xff"}\n', "not a posture landmark trace"),
    ("deep.jsonl", HEADER.encode() + b"[" * 30000 + b"]" * 30000 + b"\n", "bad trace line"),
    ("long.jsonl", HEADER.encode() + b"[" * 200000 + b"]" * 200000 + b"\n", "bad trace line"),
    ("huge_t.jsonl", HEADER.encode() + b'{"t_ms": %d, "landmarks": null}\n' % 2**80, "t_ms"),
    ("inf.jsonl", HEADER.replace("30.0", "Infinity").encode(), "fps"),
])
def test_broken_files_give_one_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert message in one_clean_line(run_cli("analyze", str(path), "--json"))


def test_fifo_input_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    assert "not a regular file" in one_clean_line(run_cli("analyze", str(fifo), timeout=20))


def test_degenerate_pose_gives_missing_metrics_not_a_crash(tmp_path):
    trace = point_trace(tmp_path / "point.jsonl")
    proc = run_cli("analyze", str(trace), "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["frames"] == 5 and result["posture"]["timeline"]
    proc = run_cli("run", "--source", str(trace), "--speed", "0", "--no-dashboard",
                   "--no-history")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("profile, message", [
    ({"image_size": [0, 0]}, "image_size"),
    ({"metrics": {"nose_y_px": "Infinity"}}, "metrics"),
    ({"metrics": {"elbow": 1.0}}, "unknown metric"),
])
def test_bad_profiles_are_refused(tmp_path, profile, message):
    data = {"format": "posture-calibration", "version": 1, "view": "front",
            "image_size": [640, 480], "frames": 3, "source": "x",
            "metrics": {"nose_y_px": 100.0}} | profile
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data).replace('"Infinity"', "Infinity"))
    trace = point_trace(tmp_path / "t.jsonl")
    assert message in one_clean_line(run_cli("analyze", str(trace), "--baseline", str(path)))


def test_bad_outputs_give_one_line(tmp_path):
    trace = point_trace(tmp_path / "t.jsonl")
    image = tmp_path / "x.png"
    image.write_bytes(png_header(10, 10))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_header(10, 10))
    existing = tmp_path / "existing.mp4"
    existing.write_text("x")
    for args in (["analyze", str(trace), "--landmarks", "/dev/full"],
                 ["analyze", str(trace), "--landmarks", str(tmp_path / "no" / "t.jsonl")],
                 ["analyze", str(image), "--annotate", str(tmp_path / "out.txt")],
                 ["analyze", str(folder), "--annotate", str(existing)],
                 ["calibrate", "--source", str(trace), "--out", str(tmp_path)],
                 ["calibrate", "--source", str(trace), "--out", str(tmp_path / "no" / "p.json")]):
        one_clean_line(run_cli(*args, "--quiet") if args[0] == "analyze" else run_cli(*args))


def test_run_flags_are_checked(tmp_path):
    trace = point_trace(tmp_path / "t.jsonl")
    assert "port" in run_cli("run", "--port", "70000", "--source", str(trace)).stderr
    one_clean_line(run_cli("run", "--source", str(trace), "--speed", "nan", "--no-dashboard"))


@pytest.mark.parametrize("via", ["flag", "environment"])
def test_missing_camera_exits_4(via):
    args = ["run", "--no-dashboard"] + (["--camera", "99"] if via == "flag" else [])
    env = {"POSTURE_CAMERA_DEVICE": "99"} if via == "environment" else {}
    line = one_clean_line(run_cli(*args, env=env, timeout=60), code=4)
    assert "camera 99" in line and "posture demo" in line  # and what to try instead


@pytest.mark.parametrize("where", ["/etc/hostname", "folder", "missing parent"])
def test_bad_history_path(tmp_path, where):
    path = {"folder": str(tmp_path), "missing parent": str(tmp_path / "a" / "h.sqlite3"),
            "/etc/hostname": "/etc/hostname"}[where]
    trace = point_trace(tmp_path / "t.jsonl")
    proc = run_cli("run", "--source", str(trace), "--speed", "0", "--no-dashboard",
                   env={"POSTURE_HISTORY_PATH": path})
    if where == "missing parent":  # created, private
        assert proc.returncode == 0, proc.stderr
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    else:
        assert "history.path" in one_clean_line(proc)


@pytest.mark.parametrize("text", [b"[alerts]\ncooldown_min = 1" + b"0" * 400 + b"\n",
                                  b'[alerts]\nquiet_hours = "\xff"\n',
                                  b'[camera]\ndevice = "a\\u0001b"\n'])
def test_bad_config_files(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_bytes(text)
    with pytest.raises(UsageError):
        load_config(path, environ={})
    one_clean_line(run_cli("config", "check", "--config", str(path)))


def test_config_check_of_a_missing_file_is_an_error():
    assert "no such config file" in one_clean_line(
        run_cli("config", "check", "--config", "/nonexistent.toml"))


def test_personal_files_are_private(tmp_path, monkeypatch):
    from posture.analysis.calibration import Baseline, default_profile_path, save_profile
    from posture.analysis.metrics import View
    from posture.server.security import load_or_create_token

    monkeypatch.setenv("POSTURE_DATA_DIR", str(tmp_path / "data"))
    save_profile(Baseline(View.FRONT, (640, 480), {"nose_y_px": 1.0}, 3, "x"),
                 default_profile_path())
    load_or_create_token(tmp_path / "data" / "dashboard-token")
    for path, mode in ((default_profile_path(), 0o600), (default_profile_path().parent, 0o700),
                       (tmp_path / "data", 0o700), (tmp_path / "data" / "dashboard-token", 0o600)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


# --- Round two: devices, huge lines, full disks and settings that stop the app ------------

def exercise_toml(**signal):
    lines = ["[exercise]", 'name = "x"', "[signal]", 'metric = "knee_deg"',
             'direction = "decrease"'] + [f"{k} = {v!r}" for k, v in signal.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("flag", ["--exercise-file", "--program", "--config", "POSTURE_CONFIG",
                                  "program step", "--baseline"])
@pytest.mark.parametrize("device", ["/dev/zero", "fifo"])
def test_devices_and_fifos_are_refused_everywhere(tmp_path, flag, device):
    """Item 1: every file read whole goes through one gate: no device read into memory, no
    FIFO waited on."""
    if device == "fifo":
        device = str(tmp_path / ("pipe.json" if flag == "--baseline" else "pipe.toml"))
        os.mkfifo(device)
    trace = point_trace(tmp_path / "t.jsonl")
    args, env = ["analyze", str(trace), "--quiet"], {}
    if flag == "POSTURE_CONFIG":
        env["POSTURE_CONFIG"] = device
    elif flag == "program step":
        program = tmp_path / "p.toml"
        program.write_text(f'[program]\nname = "p"\n[[steps]]\nfile = "{device}"\n')
        args += ["--program", str(program)]
    else:
        args += [flag, device]
    line = one_clean_line(run_cli(*args, env=env, timeout=30))
    assert "not a regular file" in line


def test_oversized_files_are_refused_before_they_are_read(tmp_path):
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(2 << 30)  # 2 GiB, sparse: reading it whole would take 2 GiB of memory
    trace = point_trace(tmp_path / "t.jsonl")
    for flag in ("--exercise-file", "--config", "--program"):
        assert "over the 1 MiB limit" in one_clean_line(
            run_cli("analyze", str(trace), flag, str(big), "--quiet"))


# Runs the CLI and prints the process's peak memory in KiB: VmHWM belongs to this program
# alone (getrusage's maxrss would carry over the parent's peak across fork and exec).
MEASURED = ("import re, sys\nfrom posture.cli.main import main\ncode = main(sys.argv[1:])\n"
            "status = open('/proc/self/status').read()\n"
            "print(re.search(r'VmHWM:\\s+(\\d+)', status).group(1))\nsys.exit(code)\n")


def test_a_huge_trace_line_is_refused_without_reading_it(tmp_path):
    """Item 2: a small .jsonl.gz holding a 512 MiB line, and a 64 MiB blank line."""
    import gzip
    import subprocess
    import sys

    packed = tmp_path / "one-line.jsonl.gz"
    with gzip.open(packed, "wb", compresslevel=1) as fh:
        fh.write(HEADER.encode())
        for _ in range(32):
            fh.write(b"[" * (16 << 20))
        fh.write(b"\n")
    blank = tmp_path / "blank.jsonl"
    with open(blank, "wb") as fh:
        fh.write(HEADER.encode() + b" " * (64 << 20) + b"\n")
    for path in (packed, blank):
        proc = subprocess.run([sys.executable, "-c", MEASURED, "analyze", str(path), "--quiet"],
                              capture_output=True, text=True, timeout=120)
        assert "longer than 65536 characters" in one_clean_line(proc)
        assert int(proc.stdout) < 400_000, f"{proc.stdout} KiB peak memory"


def test_calibrate_never_replaces_its_source(tmp_path):
    """Item 3."""
    trace = point_trace(tmp_path / "in.jsonl")
    before = trace.read_bytes()
    assert "is an input" in one_clean_line(
        run_cli("calibrate", "--source", str(trace), "--out", str(trace)))
    assert trace.read_bytes() == before


def test_annotate_onto_a_full_disk_keeps_the_old_video(tmp_path, data_dir):
    """Item 4: OpenCV's writer fails silently when the disk fills up; a file size limit of
    200 KiB (RLIMIT_FSIZE, a full disk for this process) stands in for a tiny tmpfs."""
    import resource
    import subprocess
    import sys

    out = tmp_path / "out.mp4"
    out.write_bytes(b"the old video")

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200 * 1024, 200 * 1024))

    trace = tmp_path / "squats.jsonl"
    assert run_cli("analyze", str(data_dir / "exercise" / "squats_3.mp4"), "--landmarks",
                   str(trace), "--quiet").returncode == 0
    proc = subprocess.run([sys.executable, "-m", "posture", "analyze", str(trace), "--annotate",
                           str(out), "--quiet"], capture_output=True, text=True, timeout=120,
                          preexec_fn=small_disk, stdin=subprocess.DEVNULL)
    assert "cannot write video" in one_clean_line(proc)
    assert out.read_bytes() == b"the old video"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.mp4")]
    # With room, the same trace gives a video with every frame (drawn on black).
    good = tmp_path / "good.mp4"
    assert run_cli("analyze", str(trace), "--annotate", str(good), "--quiet").returncode == 0
    import cv2

    assert int(cv2.VideoCapture(str(good)).get(cv2.CAP_PROP_FRAME_COUNT)) == 149


def test_a_history_from_a_newer_posture_is_one_line(tmp_path):
    """Item 6."""
    import sqlite3

    db = tmp_path / "h.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    env = {"POSTURE_HISTORY_PATH": str(db)}
    trace = point_trace(tmp_path / "t.jsonl")
    for args in (["report"], ["run", "--source", str(trace), "--speed", "0",
                              "--no-dashboard"]):
        assert "newer posture" in one_clean_line(run_cli(*args, env=env))
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == 999


@pytest.mark.parametrize("flag, name, text", [
    ("--exercise-file", "deep.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n"),
    ("--config", "deep.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n"),
    ("--baseline", "deep.json", "[" * 100_000 + "]" * 100_000),
])
def test_deep_nesting_is_one_line(tmp_path, flag, name, text):
    """Item 7."""
    path = tmp_path / name
    path.write_text(text)
    trace = point_trace(tmp_path / "t.jsonl")
    assert "nested too deeply" in one_clean_line(
        run_cli("analyze", str(trace), flag, str(path), "--quiet"))


def test_a_corrupt_gzip_trace_is_one_line(tmp_path):
    """Item 8."""
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    assert "not a posture landmark trace" in one_clean_line(run_cli("analyze", str(path)))


@pytest.mark.parametrize("command", ["analyze", "run", "calibrate", "report"])
def test_a_missing_config_file_is_refused_everywhere(tmp_path, command):
    """Item 9."""
    trace = point_trace(tmp_path / "t.jsonl")
    args = {"analyze": ["analyze", str(trace)], "calibrate": ["calibrate", "--source", str(trace)],
            "run": ["run", "--source", str(trace), "--speed", "0", "--no-dashboard"],
            "report": ["report"]}[command]
    assert "no such config file" in one_clean_line(run_cli(*args, "--config", "/nope.toml"))
    assert "POSTURE_CONFIG" in one_clean_line(run_cli(*args, env={"POSTURE_CONFIG":
                                                                  "/nope.toml"}))


@pytest.mark.parametrize("setting, value, message", [
    ("history.path", "/proc/x/h.sqlite3", "cannot create anything in /proc"),
    ("posture.calibration", "/dev/zero", "not a regular file"),
    ("posture.calibration", "/nonexistent/me.json", "no such file"),
    ("posture.calibration", "BAD_PROFILE", "not a calibration profile"),
])
def test_config_check_refuses_what_would_stop_the_next_start(tmp_path, setting, value,
                                                             message):
    """Item 10 (the Settings API side is in test_api.py)."""
    if value == "BAD_PROFILE":
        value = str(tmp_path / "bad.json")
        (tmp_path / "bad.json").write_text("{}")
    section, key = setting.split(".")
    path = tmp_path / "c.toml"
    path.write_text(f'[{section}]\n{key} = "{value}"\n')
    assert message in one_clean_line(run_cli("config", "check", "--config", str(path)))


def test_setup_makes_the_data_folder_private_and_tightens_what_is_there(tmp_path):
    """Item 11: `posture models fetch` (which setup runs) on a folder made 0755 by hand or
    by an older posture, holding a 0644 history and token."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    for name in ("history.sqlite3", "dashboard-token"):
        (data / name).write_text("x")
        os.chmod(data / name, 0o644)
    proc = run_cli("models", "fetch", env={"POSTURE_DATA_DIR": str(data)})
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for name in ("history.sqlite3", "dashboard-token"):
        assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
    fresh = tmp_path / "new" / "data"
    assert run_cli("models", "fetch", env={"POSTURE_DATA_DIR": str(fresh)}).returncode == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_a_baseline_that_cannot_judge_is_refused(tmp_path):
    """Item 12: a degenerate pose measures only a head height; an empty profile nothing."""
    point = point_trace(tmp_path / "point.jsonl")
    out = tmp_path / "p.json"
    assert "cannot judge posture" in one_clean_line(
        run_cli("calibrate", "--source", str(point), "--out", str(out)))
    assert not out.exists()
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"format": "posture-calibration", "version": 1,
                                 "view": "front", "image_size": [640, 480], "frames": 3,
                                 "source": "x", "metrics": {}}))
    assert "cannot judge posture" in one_clean_line(
        run_cli("analyze", str(point), "--baseline", str(empty)))


def test_a_baseline_of_another_view_is_warned_about(tmp_path, data_dir, model_path):
    """Item 12: a front-view baseline on a side-view photo is not used, and it says so."""
    baseline = REPO / "posture" / "data" / "demo_baseline.json"
    proc = run_cli("analyze", str(data_dir / "side_sitting" / "hunchback.jpg"), "--baseline",
                   str(baseline), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "warning: the baseline was taken from a front view" in proc.stderr
    assert "absolute angles" in json.loads(proc.stdout)["warnings"][0]


def test_two_outputs_on_one_path_are_refused(tmp_path):
    """Item 15."""
    trace = point_trace(tmp_path / "t.jsonl")
    out = tmp_path / "x.mp4"
    assert "both name" in one_clean_line(run_cli("analyze", str(trace), "--landmarks", str(out),
                                                 "--annotate", str(out), "--quiet"))
    assert not out.exists()


def test_a_huge_camera_index_is_one_line():
    """Item 16."""
    line = one_clean_line(run_cli("run", "--camera", "99999999999999999999", "--no-dashboard"),
                          code=4)
    assert "no such camera" in line


@pytest.mark.parametrize("content, message", [
    (exercise_toml(rest=100.0, end=100.0), "no movement to count"),
    (exercise_toml(rest=100.0, end=150.0), "not in the direction"),
])
def test_an_exercise_that_cannot_count_is_refused(tmp_path, content, message):
    path = tmp_path / "x.toml"
    path.write_text(content)
    trace = point_trace(tmp_path / "t.jsonl")
    assert message in one_clean_line(run_cli("analyze", str(trace), "--exercise-file",
                                             str(path)))


def test_an_empty_exercise_name_is_refused(tmp_path):
    trace = point_trace(tmp_path / "t.jsonl")
    assert "unknown exercise ''" in one_clean_line(run_cli("analyze", str(trace),
                                                           "--exercise", ""))


@pytest.mark.parametrize("column, value", [(3, 5.0), (4, -3.0)])
def test_visibility_and_presence_out_of_range_are_refused(tmp_path, column, value):
    rows = [[0.5, 0.5, 0.0, 1.0, 1.0] for _ in range(33)]
    rows[0][column] = value
    path = tmp_path / "t.jsonl"
    path.write_text(HEADER + json.dumps({"t_ms": 0, "landmarks": rows}) + "\n")
    assert "within [0, 1]" in one_clean_line(run_cli("analyze", str(path)))


@pytest.mark.parametrize("flag, name, hint", [("--exercise", "chin_tuk", "chin_tuck"),
                                              ("--program", "desk", "desk_break")])
def test_a_misspelt_name_gets_a_suggestion_and_the_known_names(tmp_path, flag, name, hint):
    trace = point_trace(tmp_path / "t.jsonl")
    line = one_clean_line(run_cli("analyze", str(trace), flag, name))
    assert f"did you mean {hint}?" in line and "known:" in line


def test_a_wrong_source_is_said_before_anything_else(tmp_path):
    proc = run_cli("run", "--source", str(tmp_path / "nope.mp4"), "--no-browser", "--port",
                   "0", "--no-history")
    assert proc.stderr.splitlines()[0].startswith("posture: error:"), proc.stderr
    one_clean_line(proc)

"""Hostile and broken input: every case gets one clean line and a non-zero exit (or the right
result), never a traceback, and no output ever destroys an input."""

import json
import os
import stat
import struct
import zlib

import pytest
from conftest import run_cli

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
    assert "camera 99" in line


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

"""Start at login: the XDG entry for real (written by the CLI, validated, and run by an XDG
autostart implementation), the macOS and Windows entries by the files they would write."""

import os
import plistlib
import shutil
import subprocess
import time

import pytest
from conftest import run_cli

from posture import autostart

XDG_TOOLS = pytest.mark.skipif(
    not (shutil.which("gio") and shutil.which("desktop-file-validate")),
    reason="needs GLib's gio and desktop-file-utils (scripts/install_test_tools.sh)")


@pytest.mark.slow
def test_enable_status_disable_round_trip(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    entry = tmp_path / "autostart" / "posture.desktop"
    status = run_cli("autostart", "status", env=env)
    assert status.returncode == 0 and status.stdout.startswith("disabled"), status.stderr
    enabled = run_cli("autostart", "enable", env=env)
    assert enabled.returncode == 0 and str(entry) in enabled.stdout
    assert "Exec=" in entry.read_text() and "run --no-browser" in entry.read_text()
    assert run_cli("autostart", "status", env=env).stdout.startswith(f"enabled: {entry}")
    assert run_cli("autostart", "enable", env=env).returncode == 0  # again: still one entry
    assert [p.name for p in entry.parent.iterdir()] == ["posture.desktop"]
    disabled = run_cli("autostart", "disable", env=env)
    assert disabled.returncode == 0 and not entry.exists()
    assert run_cli("autostart", "status", env=env).stdout.startswith("disabled")
    assert "was not set" in run_cli("autostart", "disable", env=env).stdout


def test_an_entry_of_another_installation_is_named(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    old = autostart.entry_for("linux", "/old/venv/bin/python", env, tmp_path)
    autostart.enable(old)
    state = autostart.status(autostart.entry_for("linux", "/new/venv/bin/python", env,
                                                 tmp_path))
    assert state["enabled"] and not state["current"]


@XDG_TOOLS
def test_the_xdg_entry_is_valid_and_runs_the_monitor_as_written(tmp_path):
    """A Python at a path with spaces, quotes, $, a backslash and backticks (a real program
    that records its arguments): desktop-file-validate accepts the entry, and GLib, which
    GNOME's session uses to read and start autostart entries, runs exactly that program
    with `-m posture run --no-browser`."""
    folder = tmp_path / "my tools $HOME 'x' \"y\" b\\c `t`"
    folder.mkdir()
    python = folder / "python"
    record = tmp_path / "argv.txt"
    python.write_text(f'#!/bin/sh\nprintf "%s\\n" "$0" "$@" > "{record}.part"\n'
                      f'mv "{record}.part" "{record}"\n')
    python.chmod(0o755)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    entry = autostart.enable(autostart.entry_for("linux", str(python), env, tmp_path))
    check = subprocess.run(["desktop-file-validate", str(entry.path)], capture_output=True,
                           text=True)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    subprocess.run(["gio", "launch", str(entry.path)], check=True, capture_output=True,
                   timeout=30, env={**os.environ, **env})
    deadline = time.monotonic() + 20
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert record.read_text().splitlines() == [str(python), "-m", "posture", "run",
                                               "--no-browser"]


@pytest.mark.parametrize("arg, written", [
    ("/usr/bin/python3", "/usr/bin/python3"),
    ("/opt/my env/python", '"/opt/my env/python"'),
    ("/a/$b/python", '"/a/\\\\$b/python"'),
    ("/a/100%/python", "/a/100%%/python"),
])
def test_desktop_exec_quoting(arg, written):
    assert autostart.desktop_quote(arg) == written


def test_the_macos_launch_agent(tmp_path):
    entry = autostart.entry_for("darwin", "/Users/me/venv/bin/python", {}, tmp_path)
    assert entry.path == tmp_path / "Library" / "LaunchAgents" / "org.posture.monitor.plist"
    plist = plistlib.loads(entry.content)
    assert plist["ProgramArguments"] == ["/Users/me/venv/bin/python", "-m", "posture", "run",
                                         "--no-browser"]
    assert plist["RunAtLoad"] is True and plist["Label"] == "org.posture.monitor"
    autostart.enable(entry)
    assert plistlib.loads(entry.path.read_bytes()) == plist
    assert autostart.disable(entry) and not entry.path.exists()


def test_the_windows_startup_entry(tmp_path):
    appdata = tmp_path / "Roaming"
    entry = autostart.entry_for("win32", r"C:\Program Files\posture\python.exe",
                                {"APPDATA": str(appdata)}, tmp_path)
    assert entry.path == (appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs"
                          / "Startup" / "posture.cmd")
    text = entry.content.decode()
    # pythonw: no console window at every login; the path with a space is quoted.
    assert 'start "" "C:\\Program Files\\posture\\pythonw.exe" -m posture run --no-browser' \
        in text
    assert text.endswith("\r\n") and entry.command[0].endswith("pythonw.exe")


def test_autostart_is_in_the_cli_help():
    proc = run_cli("autostart", "--help")
    assert proc.returncode == 0 and "enable" in proc.stdout

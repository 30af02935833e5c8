"""Start at login: the entry each platform's session manager reads to start `posture run`.

- Linux and other XDG desktops: `$XDG_CONFIG_HOME/autostart/posture.desktop` (the XDG
  Autostart specification), a Desktop Entry whose Exec runs the monitor.
- macOS: a LaunchAgent, `~/Library/LaunchAgents/org.posture.monitor.plist`, RunAtLoad.
- Windows: `posture.cmd` in the Startup folder of the Start menu, which starts the monitor
  with pythonw (no console window).

Each runs `posture run --no-browser` with this installation's Python: the monitor starts in
the background and its dashboard is there when the user opens it (tray, or the address
`posture run` prints), without a browser window popping up at every login.
"""

from __future__ import annotations

import os
import plistlib
import sys
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from posture.errors import UsageError
from posture.files import read_small_file, write_bytes_atomic

LABEL = "org.posture.monitor"
RUN_ARGS = ("-m", "posture", "run", "--no-browser")


@dataclass(frozen=True)
class Entry:
    """An autostart entry: where it lives and what it holds."""

    path: Path
    content: bytes
    command: tuple[str, ...]


def entry_for(platform: str = sys.platform, python: str = sys.executable,
              environ: dict[str, str] | None = None, home: Path | None = None) -> Entry:
    """The entry this platform reads, for this Python; pure, so every platform's file can be
    checked on any machine."""
    env = dict(os.environ) if environ is None else environ
    home = Path.home() if home is None else home
    if platform == "win32":
        return _windows(python, env, home)
    if platform == "darwin":
        return _macos(python, home)
    return _xdg(python, env, home)


def _xdg(python: str, env: dict[str, str], home: Path) -> Entry:
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    command = (python, *RUN_ARGS)
    text = "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=posture",
        "Comment=Posture monitor: slouch alerts and break reminders",
        f"Exec={' '.join(desktop_quote(part) for part in command)}",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "", ""])
    return Entry(config / "autostart" / "posture.desktop", text.encode("utf-8"), command)


def desktop_quote(arg: str) -> str:
    """One Exec argument as the Desktop Entry specification reads it: quoted when it holds
    a reserved character, with ", `, $ and \\ escaped inside the quotes, % doubled, and the
    backslashes doubled again for the string-level unescaping that comes first."""
    reserved = set(" \t\n\"'\\><~|&;$*?#()`=")
    arg = arg.replace("%", "%%")
    if not any(c in reserved for c in arg):
        return arg
    inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return '"' + inner.replace("\\", "\\\\") + '"'


def _macos(python: str, home: Path) -> Entry:
    command = (python, *RUN_ARGS)
    plist = {"Label": LABEL, "ProgramArguments": list(command), "RunAtLoad": True,
             "KeepAlive": False, "ProcessType": "Interactive"}
    return Entry(home / "Library" / "LaunchAgents" / f"{LABEL}.plist",
                 plistlib.dumps(plist), command)


def _windows(python: str, env: dict[str, str], home: Path) -> Entry:
    appdata = Path(env.get("APPDATA") or home / "AppData" / "Roaming")
    folder = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Startup"
    exe = PureWindowsPath(python)
    runner = str(exe.with_name("pythonw.exe")) if exe.name.lower() == "python.exe" else python
    command = (runner, *RUN_ARGS)
    quoted = " ".join(f'"{part}"' if " " in part else part for part in command)
    text = ("@echo off\r\n"
            "rem posture: start the posture monitor at login "
            "(`posture autostart disable` removes this file)\r\n"
            f'start "" {quoted}\r\n')
    return Entry(folder / "posture.cmd", text.encode("utf-8"), command)


def enable(entry: Entry | None = None) -> Entry:
    """Write the entry (atomically; its folder is created), replacing an older one."""
    entry = entry or entry_for()
    try:
        entry.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {entry.path.parent}: {exc.strerror}") from exc
    write_bytes_atomic(entry.path, entry.content)
    return entry


def disable(entry: Entry | None = None) -> bool:
    """Remove the entry; False if there was none."""
    entry = entry or entry_for()
    try:
        entry.path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UsageError(f"cannot remove {entry.path}: {exc.strerror}") from exc
    return True


def status(entry: Entry | None = None) -> dict[str, object]:
    """Whether the entry is there, and whether it is the one this installation writes (a
    moved or reinstalled posture leaves an entry that runs another Python)."""
    entry = entry or entry_for()
    try:
        current = read_small_file(entry.path, "autostart entry")
    except UsageError:
        current = None
    return {"enabled": current is not None, "path": str(entry.path),
            "current": current == entry.content, "command": list(entry.command)}

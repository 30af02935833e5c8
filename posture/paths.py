"""Per-user directories of posture, following each platform's convention."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _platform_dir(windows_var: str, windows_default: str, xdg_var: str, xdg_default: str) -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get(windows_var, Path.home() / "AppData" / windows_default))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get(xdg_var) or Path.home() / xdg_default)


def user_data_dir() -> Path:
    """Models, history and calibration profiles; $POSTURE_DATA_DIR overrides it."""
    if env := os.environ.get("POSTURE_DATA_DIR"):
        return Path(env).expanduser()
    return _platform_dir("LOCALAPPDATA", "Local", "XDG_DATA_HOME", ".local/share") / "posture"


def user_exercises_dir() -> Path:
    """Exercises the user taught by demonstration (`posture exercises learn`)."""
    return user_data_dir() / "exercises"


def user_config_dir() -> Path:
    return _platform_dir("APPDATA", "Roaming", "XDG_CONFIG_HOME", ".config") / "posture"

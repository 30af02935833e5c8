"""Saving settings from the dashboard: only what the user set, written as TOML atomically."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from posture.analysis.calibration import check_calibration_setting
from posture.config import merge, read_file, validate
from posture.errors import UsageError
from posture.files import private_dir, write_text_atomic


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # A TOML basic string: quotes, backslashes and control characters escaped; the rest is
    # written as it is (the file is UTF-8).
    out = []
    for c in str(value):
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def to_toml(values: dict[str, dict[str, Any]]) -> str:
    lines = ["# posture settings; `posture config docs` explains each one", ""]
    for section, table in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def save_settings(path: Path, changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge changes into the file's own values (never environment overrides), validate the
    result and write it; return what the file now holds."""
    values = merge(read_file(path), changes)
    config = validate(values, "settings")
    check_calibration_setting(config)
    # Store each value as the model holds it (5 -> 5.0 for a float setting).
    typed = config.to_dict()
    values = {s: {k: typed[s][k] for k in table} for s, table in values.items()}
    text = to_toml(values)
    if tomllib.loads(text) != values:  # never write a file that would read back otherwise
        raise UsageError("settings: these values cannot be written as TOML")
    private_dir(path.parent)
    write_text_atomic(path, text, private=True)
    return values

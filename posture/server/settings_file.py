"""Saving settings from the dashboard: only what the user set, written as TOML atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from posture.config import merge, read_file, validate


def to_toml(values: dict[str, dict[str, Any]]) -> str:
    lines = ["# posture settings; `posture config docs` explains each one", ""]
    for section, table in values.items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            text = ("true" if value else "false") if isinstance(value, bool) else (
                json.dumps(value) if isinstance(value, str) else repr(value))
            lines.append(f"{key} = {text}")
        lines.append("")
    return "\n".join(lines)


def save_settings(path: Path, changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge changes into the file's own values (never environment overrides), validate the
    result and write it; return what the file now holds."""
    values = merge(read_file(path), changes)
    config = validate(values, "settings")
    # Store each value as the model holds it (5 -> 5.0 for a float setting).
    typed = config.to_dict()
    values = {s: {k: typed[s][k] for k in table} for s, table in values.items()}
    write_text_atomic(path, to_toml(values))
    return values


def write_text_atomic(path: Path, text: str) -> None:
    """A crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)

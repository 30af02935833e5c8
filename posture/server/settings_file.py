"""Writing the validated config back as TOML (flat sections of scalars), atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from posture.config import Config


def to_toml(config: Config) -> str:
    lines = ["# posture settings; `posture config docs` explains each one", ""]
    for section, values in config.to_dict().items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            text = ("true" if value else "false") if isinstance(value, bool) else (
                json.dumps(value) if isinstance(value, str) else repr(value))
            lines.append(f"{key} = {text}")
        lines.append("")
    return "\n".join(lines)


def write_config(path: Path, config: Config) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(to_toml(config))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"


def run_cli(*args: str, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m posture ARGS` the way a user would, capturing both streams."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "posture", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"test data folder missing: {DATA}")
    return DATA


@pytest.fixture(scope="session")
def model_path() -> Path:
    from posture.modelstore import ensure_model

    return ensure_model("full", show_progress=False)

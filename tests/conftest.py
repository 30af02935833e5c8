import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from posture.vision.modelstore import model_dir

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"

# Tests never read the user's config nor write the user's history or calibration; they do
# share the verified model cache (a bundle there is only ever replaced atomically).
_SANDBOX = Path(tempfile.mkdtemp(prefix="posture-tests-"))
os.environ["POSTURE_MODEL_DIR"] = str(model_dir())
os.environ["POSTURE_DATA_DIR"] = str(_SANDBOX)
os.environ["POSTURE_CONFIG"] = str(_SANDBOX / "config.toml")
(_SANDBOX / "config.toml").write_text("")  # a config named on purpose must exist
os.environ["XDG_CONFIG_HOME"] = str(_SANDBOX / "xdg-config")  # autostart entries land here
atexit.register(shutil.rmtree, _SANDBOX, ignore_errors=True)


def empty_config(folder: Path) -> str:
    """An empty config file (defaults) to name in POSTURE_CONFIG."""
    path = folder / "empty-config.toml"
    path.write_text("")
    return str(path)


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
    from posture.vision.modelstore import ensure_model

    return ensure_model("full", show_progress=False)


@pytest.fixture(scope="session")
def sitting(data_dir, model_path):
    """A real seated person (front-webcam photo, 3-D landmarks) turned to a side view."""
    from synthetic import profile_from_world

    from posture.vision.estimator import PoseEstimator, RunningMode
    from posture.vision.sources import read_image_rgb

    image = read_image_rgb(data_dir / "front_webcam" / "upright" / "sample-1542640808958-4.jpg")
    with PoseEstimator(model_path, RunningMode.IMAGE) as est:
        return profile_from_world(est.detect(image, 0), facing=1.0)


def pytest_collection_modifyitems(config, items):
    """Every test that needs the real pose model (directly or through a fixture) is `model`."""
    for item in items:
        if "model_path" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)

#!/usr/bin/env bash
# Set up posture on a fresh machine: a virtual environment in .venv with posture and its test
# tools installed, and the verified pose model in the model cache. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
.venv/bin/python -c "import posture, mediapipe, cv2" \
  || { echo "setup: the installation is broken" >&2; exit 1; }
.venv/bin/posture models fetch --variant full

#!/usr/bin/env bash
# Set up (scripts/setup.sh, and Chromium and desktop tools for the tests), then lint and run
# all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_test_tools.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"

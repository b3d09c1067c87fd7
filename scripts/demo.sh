#!/usr/bin/env bash
# Install TrialMatch into .venv, run the main job on the bundled demo data, then start the web app.
# Set TRIALMATCH_PORT to use another port than 8000; Ctrl+C stops the app.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
export TRIALMATCH_DB="${TRIALMATCH_DB:-$PWD/.trialmatch/demo.db}"
.venv/bin/trialmatch demo
exec .venv/bin/trialmatch serve --port "${TRIALMATCH_PORT:-8000}"

#!/usr/bin/env bash
# Install TrialMatch into .venv and run the main job on the bundled demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
export TRIALMATCH_DB="${TRIALMATCH_DB:-$PWD/.trialmatch/demo.db}"
.venv/bin/trialmatch demo

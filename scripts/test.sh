#!/usr/bin/env bash
# Install TrialMatch with its test tools into .venv, lint, and run the whole test suite.
# Extra arguments go to pytest. Exits non-zero if any test fails or if no test ran.
set -uo pipefail
cd "$(dirname "$0")/.."
set -e
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
.venv/bin/ruff check src tests benchmarks scripts
set +e
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests; the suite must not be empty" >&2
  exit 1
fi
exit "$status"

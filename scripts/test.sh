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
# The browser tests (tests/browser) drive Debian's Chromium, never a browser build Playwright downloads,
# and check pages with axe-core from npm (pinned in package-lock.json).
install_debian() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: the browser tests need $1, which is missing; install it with: sudo apt-get install -y $2" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null \
    || { echo "error: could not install $2 with apt-get; install it by hand, then run this again" >&2; exit 1; }
}
[ -x /usr/bin/chromium ] || install_debian /usr/bin/chromium chromium
command -v npm >/dev/null || install_debian npm npm
npm ci --no-audit --no-fund --loglevel=error
set +e
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests; the suite must not be empty" >&2
  exit 1
fi
exit "$status"

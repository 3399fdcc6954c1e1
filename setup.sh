#!/usr/bin/env bash
# Sets up the project in a virtual environment at .venv (idempotent: a second run only checks).
#   bash setup.sh         runtime packages
#   bash setup.sh --dev   also the test tools: pytest, and Xvfb + xdotool for the real-window tests
set -euo pipefail
cd "$(dirname "$0")"

dev=0
[ "${1:-}" = "--dev" ] && dev=1

python=""
for candidate in python3.12 python3.11 python3.10 python3.9 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 12)))' 2>/dev/null; then
    python=$candidate; break
  fi
done
if [ -z "$python" ]; then
  echo "setup: needs Python 3.9-3.12 (mediapipe 0.10.21 has no wheels for others)" >&2; exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
if [ $dev = 1 ]; then req=requirements-dev.txt; else req=requirements.txt; fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"

if [ $dev = 1 ] && ! { command -v Xvfb && command -v xdotool; } >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" != 0 ] && sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Xvfb and xdotool for the window tests"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq xvfb xdotool >/dev/null
  else
    echo "setup: no apt-get; install Xvfb and xdotool yourself or the window tests will skip" >&2
  fi
fi
echo "setup: ready (.venv)"

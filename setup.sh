#!/usr/bin/env bash
# Sets up the project in a virtual environment at .venv (idempotent: a second run only checks).
#   bash setup.sh         runtime packages (requirements.txt's tested pins) and the `asl` command
#   bash setup.sh --dev   also the tools: pytest, ruff, mypy, and Xvfb + xdotool for the real-window test
set -euo pipefail
cd "$(dirname "$0")"

dev=0
[ "${1:-}" = "--dev" ] && dev=1

# The supported Pythons are stated once, in pyproject.toml's requires-python (">=3.9,<3.13").
range=$(sed -n 's/^requires-python *= *"\([^"]*\)".*/\1/p' pyproject.toml)
lo=$(echo "$range" | sed -n 's/.*>=\([0-9.]*\).*/\1/p')
hi=$(echo "$range" | sed -n 's/.*<\([0-9.]*\).*/\1/p')
python=""
for candidate in python3.12 python3.11 python3.10 python3.9 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c "import sys; v = sys.version_info[:2]; sys.exit(not (tuple(map(int, '$lo'.split('.'))) <= v < tuple(map(int, '$hi'.split('.')))))" 2>/dev/null; then
    python=$candidate; break
  fi
done
if [ -z "$python" ]; then
  echo "setup: needs a Python $range (pyproject.toml; mediapipe 0.10.21 has wheels for no other)" >&2; exit 2
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${pip[@]}" --upgrade pip
if [ $dev = 1 ]; then req=requirements-dev.txt; else req=requirements.txt; fi
"${pip[@]}" -r "$req"
"${pip[@]}" --no-deps -e .  # the `asl` command; the pins above are the dependencies

if [ $dev = 1 ] && ! { command -v Xvfb && command -v xdotool; } >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" != 0 ] && sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Xvfb and xdotool for the window tests"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq xvfb xdotool >/dev/null
  else
    echo "setup: no apt-get; install Xvfb and xdotool yourself or the window tests will skip" >&2
  fi
fi
echo "setup: ready (.venv; .venv/bin/asl --help)"

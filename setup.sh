#!/usr/bin/env bash
# Sets up the project in a virtual environment at .venv (idempotent: a second run only checks).
#   bash setup.sh         runtime packages (requirements.txt's tested pins), the `asl` command, espeak-ng (--speak)
#   bash setup.sh --dev   also the tools: pytest, ruff, mypy, Xvfb + xdotool (window test), chromium (page test)
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

# System packages through apt where there is one: espeak-ng for --speak; for --dev also Xvfb and xdotool (the
# real-window test), chromium with its driver (the page's real-browser test) and nginx (the several-servers
# check; installed, not started). Without apt, or without the rights, setup says what is missing and goes on:
# --speak then says how to get espeak-ng, and the tests that need the others skip.
missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if [ $dev = 1 ]; then
  command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
  command -v xdotool >/dev/null 2>&1 || missing+=(xdotool)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" != 0 ] && sudo="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${missing[*]} with apt-get"
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
      echo "setup: could not install ${missing[*]}; --speak needs espeak-ng, the window and page tests the others" >&2
  else
    echo "setup: no apt-get; install ${missing[*]} yourself for --speak (espeak-ng) and the window and page tests" >&2
  fi
fi
echo "setup: ready (.venv; .venv/bin/asl --help)"

"""Shared fixtures. Tests that need ../shared data (or $ASL_SHARED) skip with a reason when it is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import shared_dir  # noqa: E402


def shared_path(relative: str) -> Path:
    path = shared_dir() / relative
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder; set ASL_SHARED to point elsewhere)")
    return path


@pytest.fixture
def aps360() -> Path:
    return shared_path("data/aps360_gestures")


@pytest.fixture
def signademy() -> Path:
    return shared_path("data/video_signademy")


@pytest.fixture
def massey() -> Path:
    return shared_path("data/massey")

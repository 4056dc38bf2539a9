"""The conformance group (tests that read ../shared/samples): skipped with the reason without the samples,
a failure instead when CI is set, and selectable by its marker. Checked on one such test, run by a pytest
of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ONE_CONFORMANCE_TEST = "tests/test_bench_reader.py::test_unit_metadata_lines"
REPO = Path(__file__).resolve().parent.parent


def pytest_run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "MAPSCOPE_SHARED")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_missing_samples_skip_with_the_reason_and_fail_under_ci(tmp_path: Path) -> None:
    skipped = pytest_run(ONE_CONFORMANCE_TEST, MAPSCOPE_SHARED=str(tmp_path))
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout and f"no shared samples at {tmp_path / 'samples'}" in skipped.stdout
    failed = pytest_run(ONE_CONFORMANCE_TEST, MAPSCOPE_SHARED=str(tmp_path), CI="true")
    assert failed.returncode == 1, failed.stdout
    assert "1 error" in failed.stdout and "CI is set" in failed.stdout


def test_the_marker_selects_the_group() -> None:
    done = pytest_run("--collect-only", "-m", "conformance", "tests/test_bench_reader.py")
    assert done.returncode == 0, done.stdout
    assert ONE_CONFORMANCE_TEST in done.stdout
    assert "test_split_result_line_counts_from_its_first_event" not in done.stdout

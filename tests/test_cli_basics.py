from __future__ import annotations

import subprocess
import sys

from mapscope import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", *args], capture_output=True, text=True, check=False
    )


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"mapscope {__version__}"


def test_help_lists_commands() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "go" in done.stdout


def test_bad_release_is_one_line_exit_2() -> None:
    done = run("go", "install", "1.2")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "1.2" in done.stderr
    assert "Traceback" not in done.stderr

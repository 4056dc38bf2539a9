"""Every usage error is one line on stderr, `mapscope: error: <command>: <what>`, with exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mapscope.cli import main


def usage_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """The stderr of `mapscope ARGS`, which must fail with status 2 and print nothing on stdout."""
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    out, err = capsys.readouterr()
    assert stopped.value.code == 2, err
    assert out == ""
    return err


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("size", "map[int]int", "-n", "1", "--nope"), "mapscope: error: size: no such option '--nope'"),
        (("gc", "--nope", "x"), "mapscope: error: gc: no such option '--nope'"),
        (("profile", "--bogus", "x"), "mapscope: error: profile: no such option '--bogus'"),
        (("bench", "compare", "--nope", "a", "b"), "mapscope: error: bench compare: no such option '--nope'"),
        (("go", "list", "--nope"), "mapscope: error: go list: no such option '--nope'"),
        (("--nope",), "mapscope: error: no such option '--nope'"),
        (("size",), "mapscope: error: size: missing argument 'TYPE'"),
        (("size", "map[int]int"), "mapscope: error: size: missing option '-n'"),
        (("report",), "mapscope: error: report: missing argument 'RUNDIR'"),
        (("go", "install"), "mapscope: error: go install: missing argument 'RELEASES...'"),
        (("compare", "-n", "5"), "mapscope: error: compare: missing argument 'TYPE...'"),
        (("size", "map[int]int", "-n"), "mapscope: error: size: option '-n' requires an argument"),
        (("nope",), "mapscope: error: no such command 'nope'"),
        (("go", "fetch"), "mapscope: error: go: no such command 'fetch'"),
        (("bench", "nope"), "mapscope: error: bench: no such command 'nope'"),
        (
            ("size", "map[int]int", "-n", "1.5"),
            "mapscope: error: size: invalid value for '-n': 1.5 is not a count (a whole number)",
        ),
        (
            ("measure", "map[int]int", "--reps", "0"),
            "mapscope: error: measure: invalid value for '--reps': 0 is too small (at least 1)",
        ),
        (
            ("bench", "compare", "--alpha", "2", "a", "b"),
            "mapscope: error: bench compare: invalid value for '--alpha'",
        ),
        (
            ("gc", "x", "--json", "--csv"),
            "mapscope: error: gc: --json and --csv both print to stdout; pick one",
        ),
    ],
)
def test_usage_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], line: str
) -> None:
    err = usage_error(capsys, *args)
    assert err.startswith(line), err
    assert err.count("\n") == 1, err
    assert "Usage:" not in err and "Try " not in err


def test_a_subprocess_sees_the_same_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "simulate", "map[int]int", "--nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("mapscope: error: simulate: no such option '--nope'")
    assert done.stderr.count("\n") == 1


def test_a_group_alone_still_shows_its_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "go"], capture_output=True, text=True, check=False
    )
    assert "Usage: mapscope go" in done.stdout + done.stderr
    assert "install" in done.stdout + done.stderr

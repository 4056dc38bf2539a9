"""Counts read as people write them (1e6, 1_000_000, 10k, 2M, 1G) in every count option and in --ops;
anything else (a fraction, a negative, nothing, more than 10^12) is a one-line error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapscope.cli import main
from mapscope.counts import MAX_COUNT, CountError, parse_count


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("1000000", 10**6),
        ("1_000_000", 10**6),
        ("1e6", 10**6),
        ("1E6", 10**6),
        ("1.5e3", 1500),
        ("100e-2", 1),
        ("10k", 10_000),
        ("10K", 10_000),
        ("2M", 2 * 10**6),
        ("1G", 10**9),
        ("1T", 10**12),
        ("1.5M", 1_500_000),
        (" 7 ", 7),
        ("-0", 0),
    ],
)
def test_accepted(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("1.5", "1.5 is not a count (a whole number)"),
        ("2.5e0", "2.5e0 is not a count (a whole number)"),
        ("1e-99999", "is not a count (a whole number)"),
        ("-5", "-5 is negative"),
        ("", "no count given"),
        ("_", "'_' is not a count"),
        ("1__0", "is not a count"),
        ("0x10", "is not a count"),
        ("inf", "is not a count"),
        ("1,000", "is not a count"),
        ("2T", "too large (at most 1,000,000,000,000)"),
        ("1e13", "too large"),
        ("1e999999", "too large"),
    ],
)
def test_rejected(text: str, problem: str) -> None:
    with pytest.raises(CountError) as raised:
        parse_count(text)
    assert problem in str(raised.value)


def test_bounds_are_the_callers() -> None:
    assert parse_count("1k", 1, 1000) == 1000
    with pytest.raises(CountError, match="at least 1"):
        parse_count("0", 1, 1000)


@given(st.integers(min_value=0, max_value=MAX_COUNT))
def test_every_spelling_of_a_count_reads_back(value: int) -> None:
    assert parse_count(str(value)) == value
    assert parse_count(f"{value:_}") == value
    assert parse_count(f"{value}e0") == value
    if value % 1000 == 0:
        assert parse_count(f"{value // 1000}k") == value
        assert parse_count(f"{value // 1000}e3") == value
    if value % 10**6 == 0:
        assert parse_count(f"{value // 10**6}M") == value
        assert parse_count(f"{value / 10**9}G") == value


def mapscope_json(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", *args, "--json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    payload: dict[str, object] = json.loads(done.stdout)
    return payload


def test_size_and_compare_take_written_counts() -> None:
    size = mapscope_json("size", "map[int]int", "-n", "1e6", "--hint", "2M")
    assert (size["n"], size["hint"]) == (10**6, 2 * 10**6)
    assert mapscope_json("compare", "map[int]int", "-n", "10k")["n"] == 10_000


def test_ops_take_written_counts() -> None:
    timeline = mapscope_json("simulate", "map[int]int", "--ops", "insert 1_000; delete 5e2; insert 2k; clear")
    points = timeline["points"]
    assert isinstance(points, list)
    assert [p["op"] for p in points][1:] == ["insert 1000", "delete 500", "insert 2000", "clear"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("size", "map[int]int", "-n", "1.5"), "invalid value for '-n': 1.5 is not a count"),
        (("size", "map[int]int", "-n", "-5"), "invalid value for '-n': -5 is negative"),
        (("size", "map[int]int", "-n", ""), "invalid value for '-n': no count given"),
        (("size", "map[int]int", "-n", "2T"), "invalid value for '-n': 2T is too large"),
        (("compare", "map[int]int", "-n", "1", "--hint", "x"), "invalid value for '--hint'"),
        (
            ("measure", "map[int]int", "--reps", "2k"),
            "invalid value for '--reps': 2k is too large (at most 1,000)",
        ),
        (("profile", "x", "--top", "1.5"), "invalid value for '--top'"),
        (("simulate", "map[int]int", "--ops", "insert _"), "operation 1 ('insert _'): '_' is not a count"),
        (("simulate", "map[int]int", "--ops", "insert 1.5"), "1.5 is not a count"),
        (("simulate", "map[int]int", "--ops", "insert 1; delete -1"), "-1 is negative"),
        (("measure", "map[int]int", "--ops", "insert 1e999999"), "too large"),
    ],
)
def test_bad_counts_are_one_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], needle: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.startswith("mapscope: error: ") and err.count("\n") == 1, err
    assert needle in err, err

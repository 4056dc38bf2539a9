"""Fuzz targets: each feeds bytes to one mapscope command, in process, and checks the user contract.

The contract (README, "Bad input"): a command either succeeds (exit 0) or prints one line on stderr and
exits 2. Anything else (a traceback, another exit code, a multi-line error) is a failure. Hangs and memory
are bounded by the fuzzer's own limits (`fuzz/run.py` passes -timeout and -rss_limit_mb to libFuzzer).
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mapscope.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "samples"
RUN_SEED = ROOT / "fuzz" / "seeds" / "report"


class ContractError(AssertionError):
    """The command broke the contract; the message says how, `signature` groups breaks of one kind."""

    def __init__(self, message: str, signature: str) -> None:
        super().__init__(message)
        self.signature = signature


@dataclass(frozen=True)
class Target:
    """A command fed with one input: `argv(path)` builds its arguments from the file holding the input."""

    name: str
    argv: Callable[[Path], list[str]]
    suffix: str
    seeds: tuple[str, ...]  # globs under the repo root and under ../shared/samples


def _text_arg(builder: Callable[[str], list[str]]) -> Callable[[Path], list[str]]:
    """Targets whose input is a command-line text (a type, an --ops string) rather than a file."""

    def argv(path: Path) -> list[str]:
        return builder(path.read_bytes().decode("utf-8", "replace").replace("\0", ""))

    return argv


def _run_dir(path: Path) -> list[str]:
    """A copy of the seed run directory whose manifest is the input."""
    run = path.parent / "run"
    shutil.copytree(RUN_SEED, run)
    (run / "manifest.json").write_bytes(path.read_bytes())
    return ["report", str(run), "--html", str(path.parent / "report.html")]


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "profile",
            lambda p: ["profile", str(p), "--top", "5"],
            ".prof",
            (
                "tests/fixtures/pprof/*/*",
                "tests/fixtures/profile_sites/*/*/*",
                "pprof/*",
                "external/google-pprof/*",
            ),
        ),
        Target(
            "profile-json", lambda p: ["profile", str(p), "--json"], ".prof", ("tests/fixtures/pprof/*/*",)
        ),
        Target(
            "gc",
            lambda p: ["gc", str(p), "--json"],
            ".log",
            ("tests/fixtures/gc/*", "fuzz/seeds/report/stderr.txt", "gctrace/*"),
        ),
        Target(
            "bench",
            lambda p: ["bench", "compare", str(p), str(p)],
            ".txt",
            ("fuzz/seeds/report/stdout.txt", "bench/*", "external/golang-perf/*.txt"),
        ),
        Target("report", _run_dir, ".json", ("fuzz/seeds/report/manifest.json",)),
        Target(
            "size",
            _text_arg(lambda t: ["size", "-n", "1000", "--json", "--", t]),
            ".type",
            ("fuzz/seeds/types/*",),
        ),
        Target(
            "simulate",
            _text_arg(lambda t: ["simulate", "map[int]int", "--ops", t, "--json"]),
            ".ops",
            ("fuzz/seeds/ops/*",),
        ),
    )
}


def seed_files(target: Target) -> list[Path]:
    """The project's fixtures and, where present, the shared samples that seed a target's corpus."""
    found: list[Path] = []
    for pattern in target.seeds:
        for base in (ROOT, SHARED):
            found.extend(p for p in sorted(base.glob(pattern)) if p.is_file())
    return found


def check(target: Target, data: bytes) -> None:
    """Run the target's command on `data`; raise ContractError if it does not keep the contract."""
    with tempfile.TemporaryDirectory(prefix="mapscope-fuzz-") as folder:
        path = Path(folder) / f"input{target.suffix}"
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        code: object = 0
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                main(target.argv(path))
        except SystemExit as stop:
            code = stop.code if stop.code is not None else 0
        except Exception as error:  # every other escape is exactly what the fuzzer hunts
            raise ContractError(f"{target.name}: {type(error).__name__}: {error}", _where(error)) from error
    if code == 0:
        return
    lines = err.getvalue().strip().splitlines()
    if code != 2:
        raise ContractError(f"{target.name}: exit {code}: {err.getvalue()[-500:]}", f"exit {code}")
    if len(lines) != 1:
        first = lines[0] if lines else ""
        raise ContractError(
            f"{target.name}: exit 2 with {len(lines)} lines on stderr: {err.getvalue()[:500]}",
            f"lines {first[:20]}",
        )


def _where(error: BaseException) -> str:
    """The exception type and the innermost mapscope frame: one signature per bug, not per input."""
    frame = error.__traceback__
    place = ""
    while frame is not None:
        code = frame.tb_frame.f_code
        if "mapscope" in code.co_filename:
            place = f"{Path(code.co_filename).name}:{frame.tb_lineno}"
        frame = frame.tb_next
    return f"{type(error).__name__} {place}"

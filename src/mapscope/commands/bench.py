"""`mapscope bench compare`: benchstat's comparison of Go benchmark results (text or `go test -json`)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from mapscope.analyses.bench import DEFAULT_ALPHA, DEFAULT_CONFIDENCE, LabeledFile, compare, parse_key
from mapscope.pipelines.run import read_run_bench
from mapscope.readers.gobench import BenchFile, read_bench
from mapscope.renderers.bench_terminal import render_json, render_plain, render_rich
from mapscope.renderers.console import console


def _labeled(arguments: tuple[str, ...]) -> list[tuple[str, Path]]:
    """(label, path) per argument: `label=path` sets the column label unless the whole argument names a
    file; a path given twice is told apart as `path#0`, `path#1` (as benchstat does)."""
    pairs: list[tuple[str, str, bool]] = []
    for argument in arguments:
        label, eq, path = argument.partition("=")
        if eq and label and not Path(argument).exists():
            pairs.append((label, path, True))
        else:
            pairs.append((argument, argument, False))
    repeated = Counter(label for label, _, explicit in pairs if not explicit)
    seen: Counter[str] = Counter()
    labeled = []
    for label, path, explicit in pairs:
        if explicit or repeated[label] == 1:
            labeled.append((label, Path(path)))
        else:
            labeled.append((f"{label}#{seen[label]}", Path(path)))
            seen[label] += 1
    return labeled


def _read(path: Path) -> BenchFile:
    """A benchmark output file, or the benchmark output a `mapscope run` directory captured."""
    if path.is_dir():
        return read_run_bench(path)
    return read_bench(path, str(path))


def register(cli: click.Group) -> None:
    @cli.group("bench")
    def bench() -> None:
        """Go benchmark results: compare runs the way benchstat does."""

    @bench.command("compare")
    @click.argument("files", nargs=-1, required=True, metavar="OLD NEW [MORE]...")
    @click.option(
        "--col",
        "column_key",
        default=".file",
        show_default=True,
        help="Columns to compare: .file (each input), a configuration key (e.g. note) or /<sub-benchmark key>.",
    )
    @click.option(
        "--ignore",
        "ignore",
        multiple=True,
        help="Do not group by this configuration key or /<sub-benchmark key> (repeatable).",
    )
    @click.option(
        "--alpha",
        type=click.FloatRange(0, 1),
        default=DEFAULT_ALPHA,
        show_default=True,
        help="Significance level.",
    )
    @click.option(
        "--confidence",
        type=click.FloatRange(0, 1),
        default=DEFAULT_CONFIDENCE,
        show_default=True,
        help="Confidence level of the ± intervals.",
    )
    @click.option("--json", "json_output", is_flag=True, help="Print JSON.")
    def compare_command(
        files: tuple[str, ...],
        column_key: str,
        ignore: tuple[str, ...],
        alpha: float,
        confidence: float,
        json_output: bool,
    ) -> None:
        """Median with confidence interval, Mann-Whitney p-value and change per benchmark and unit, as
        benchstat prints them.

        Each input is `go test -bench` output, `go test -json` output or a `mapscope run` directory (its
        captured benchmark output); `label=PATH` names its column.
        The first column is the baseline; `~` marks changes that are not significant (p > alpha).
        """
        parse_key(column_key, "col")
        for key in ignore:
            parse_key(key, "ignore")
        inputs = [LabeledFile(label, _read(path)) for label, path in _labeled(files)]
        report = compare(inputs, column_key, ignore, alpha, confidence)
        if json_output:
            click.echo(render_json(report))
        elif sys.stdout.isatty():
            console(soft_wrap=True).print(render_rich(report), end="")
        else:
            click.echo(render_plain(report), nl=False)

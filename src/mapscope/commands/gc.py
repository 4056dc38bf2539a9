"""`mapscope gc FILE|-`: pauses, mark CPU, heap against goal and MMU from GODEBUG=gctrace=1 output."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import click
from rich.progress import wrap_file

from mapscope.analyses.gc_summary import GcReport
from mapscope.atomicfile import write_atomic
from mapscope.errors import MapscopeError
from mapscope.pipelines.gc import gc_report
from mapscope.renderers import gc_csv, gc_html, gc_json, gc_terminal
from mapscope.renderers.console import console


@contextlib.contextmanager
def _opened(source: str) -> Iterator[BinaryIO]:
    """The input as bytes: stdin for `-`, else the file (with a progress bar on an interactive terminal)."""
    if source == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = open(source, "rb")  # noqa: SIM115 - closed by the ExitStack below
    except OSError as error:
        raise MapscopeError(source, f"cannot read: {error.strerror or error}") from None
    with contextlib.ExitStack() as stack:
        stack.enter_context(handle)
        if sys.stdout.isatty() and sys.stderr.isatty():
            size = os.fstat(handle.fileno()).st_size
            progress = wrap_file(handle, total=size, description="reading", console=console(stderr=True))
            yield stack.enter_context(progress)
        else:
            yield handle


def _analyze(source: str) -> GcReport:
    with _opened(source) as stream:
        try:
            return gc_report(stream, "stdin" if source == "-" else source)
        except OSError as error:
            raise MapscopeError(source, f"read failed: {error.strerror or error}") from None


def register(cli: click.Group) -> None:
    @cli.command("gc")
    @click.argument("source", metavar="FILE|-")
    @click.option("--json", "json_output", is_flag=True, help="Print the report as JSON.")
    @click.option("--csv", "csv_output", is_flag=True, help="Print one CSV row per GC cycle.")
    @click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, writable=False, path_type=Path),
        help="Also write a self-contained HTML report with charts to this file.",
    )
    def gc(source: str, json_output: bool, csv_output: bool, html_path: Path | None) -> None:
        """Summarize a Go program's stderr run with GODEBUG=gctrace=1 (gcpacertrace=1, scavtrace=1 and
        gctrace=2 lines are used too; other output is skipped). FILE `-` reads stdin.

        Shows both stop-the-world phases, concurrent mark, GC CPU split into assist/background/idle,
        heap before/after/live against the goal, pause percentiles, the minimum mutator utilization curve
        and findings such as dominating assists or an overshot heap goal.
        """
        if json_output and csv_output:
            raise click.UsageError("--json and --csv both print to stdout; pick one")
        report = _analyze(source)
        if html_path is not None:
            write_atomic(html_path, gc_html.render(report))
            click.echo(f"mapscope: wrote {html_path}", err=True)
        try:
            _print(report, json_output, csv_output)
        except OSError as error:
            if error.errno == errno.EPIPE:
                raise  # click ends quietly when the reader of a pipe (`| head`) has gone
            raise MapscopeError("stdout", f"write failed: {error.strerror or error}") from None


def _print(report: GcReport, json_output: bool, csv_output: bool) -> None:
    if json_output:
        gc_json.write(report, sys.stdout)
    elif csv_output:
        gc_csv.write(report.joined.figures(), sys.stdout)
    else:
        # Piped output is not cut to 80 columns; tables fold what does not fit.
        gc_terminal.render(report, console(pipe_width=gc_terminal.PIPE_WIDTH, markup=True))
    sys.stdout.flush()

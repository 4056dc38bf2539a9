"""`mapscope report RUNDIR`: the summary of a run directory again, as text, JSON or one HTML page."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from mapscope.atomicfile import write_atomic
from mapscope.pipelines.run import analyze_run
from mapscope.renderers import run_html, run_terminal
from mapscope.renderers.run_json import dumps_run
from mapscope.runner.manifest import read_manifest


def register(cli: click.Group) -> None:
    @cli.command("report")
    @click.argument("run_dir", metavar="RUNDIR", type=click.Path(file_okay=False, path_type=Path))
    @click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a self-contained offline HTML page (charts inline) to this file.",
    )
    @click.option("--json", "json_output", is_flag=True, help="Print the manifest and summaries as JSON.")
    def report(run_dir: Path, html_path: Path | None, json_output: bool) -> None:
        """Summarise a run directory written by `mapscope run`: the run's manifest, benchmarks, the model's
        bytes per entry beside the measured ones, and the GC log."""
        manifest = read_manifest(run_dir)
        analysis = analyze_run(run_dir, manifest)
        if html_path is not None:
            write_atomic(html_path, run_html.render(run_dir, manifest, analysis))
            click.echo(f"mapscope: wrote {html_path}", err=True)
        if json_output:
            click.echo(dumps_run(run_dir, manifest, analysis))
        elif html_path is None:
            width = None if sys.stdout.isatty() else 132
            run_terminal.render(run_dir, manifest, analysis, Console(highlight=False, width=width))

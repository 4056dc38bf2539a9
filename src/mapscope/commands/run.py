"""`mapscope run [OPTIONS] -- COMMAND`: run a Go benchmark, test or program with GC tracing and profiles on,
into one run directory, then summarise what was collected."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from mapscope import gotoolchain
from mapscope.commands.count_option import Count
from mapscope.pipelines.run import analyze_run
from mapscope.renderers import run_terminal
from mapscope.renderers.run_json import dumps_run
from mapscope.runner.gocommand import is_go
from mapscope.runner.session import DEFAULT_GRACE_SECONDS, DEFAULT_MEMPROFILERATE, RunOptions, execute

EPILOG = (
    "Examples: mapscope run -- go test -bench . -benchmem -count 10 ./pkg;  mapscope run --go 1.27.3 -- "
    "go run . -flag;  mapscope run -- ./server -port 8080. `go test` and `go run` are built first and the "
    "binary is run directly, so the program's stdout and stderr stay apart and only the program is "
    "traced. The exit status is the program's (a failed build or test, a crash: non-zero; Ctrl-C: 130)."
)


def _release(go: str | None, go_bin: str | None, command: tuple[str, ...]) -> str | None:
    """--go as the exact installed release a go command builds with (`1.27`: the newest installed 1.27.x);
    with --go-bin, or for a program already built, it is passed on to be checked."""
    if go is not None and go_bin is None and command and is_go(command[0]):
        return gotoolchain.resolve(go).release
    return go


def register(cli: click.Group) -> None:
    @cli.command(
        "run",
        epilog=EPILOG,
        context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    )
    @click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
    @click.option(
        "--go",
        "go",
        metavar="VERSION",
        help="Go release for go test / go run: 1.27.3, or 1.27 for the newest installed 1.27.x.",
    )
    @click.option("--go-bin", metavar="PATH", help="The go binary to build with.")
    @click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        help="Run directory to create (default: mapscope-runs/<time>).",
    )
    @click.option(
        "--profiles/--no-profiles",
        default=True,
        show_default=True,
        help="Add -cpuprofile, -memprofile, -trace and -memprofilerate to go test.",
    )
    @click.option(
        "--memprofilerate",
        type=Count(),
        default=DEFAULT_MEMPROFILERATE,
        show_default=True,
        help="Bytes per heap profile sample given to go test (0: Go's default).",
    )
    @click.option("--show-trace", is_flag=True, help="Also echo the runtime's trace lines to the terminal.")
    @click.option(
        "--grace",
        type=click.FloatRange(0),
        default=DEFAULT_GRACE_SECONDS,
        show_default=True,
        help="Seconds a stopped program gets to exit before it is killed.",
    )
    @click.option("--json", "json_output", is_flag=True, help="Print the manifest and summaries as JSON.")
    @click.pass_context
    def run(
        ctx: click.Context,
        command: tuple[str, ...],
        go: str | None,
        go_bin: str | None,
        out: Path | None,
        profiles: bool,
        memprofilerate: int,
        show_trace: bool,
        grace: float,
        json_output: bool,
    ) -> None:
        """Run COMMAND (`go test …`, `go run …` or a program) with GODEBUG=gctrace=1,gcpacertrace=1 added to
        your GODEBUG, profiles for go test, and its output captured while it streams to the terminal;
        then print the GC, benchmark and model summary. Everything goes into one run directory with a
        manifest.json; `mapscope report DIR --html FILE` turns it into a page."""
        options = RunOptions(
            command=command,
            out=out,
            go=_release(go, go_bin, command),
            go_bin=go_bin,
            profiles=profiles,
            memprofilerate=memprofilerate,
            show_trace=show_trace,
            grace_seconds=grace,
            echo_stdout_to_stderr=json_output,
            progress=sys.stderr.isatty(),
        )
        run_dir, manifest = execute(options)
        analysis = analyze_run(run_dir, manifest)
        if json_output:
            click.echo(dumps_run(run_dir, manifest, analysis))
        else:
            width = None if sys.stdout.isatty() else 132
            run_terminal.render(run_dir, manifest, analysis, Console(highlight=False, width=width))
        ctx.exit(manifest.exit_code or 0)

"""The `mapscope` command line: a click group built from one module per command."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

from mapscope import __version__
from mapscope.commands import bench, compare, gc, go_toolchain, measure, profile, report, run, simulate, size
from mapscope.errors import MapscopeError


def build_cli() -> click.Group:
    @click.group(
        name="mapscope",
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    )
    @click.version_option(__version__, "--version", prog_name="mapscope", message="%(prog)s %(version)s")
    def cli() -> None:
        """Where a Go program's map memory and GC time go, and what to change."""

    # One line per command module; each module's register() adds its command(s).
    go_toolchain.register(cli)
    size.register(cli)
    simulate.register(cli)
    compare.register(cli)
    bench.register(cli)
    gc.register(cli)
    measure.register(cli)
    profile.register(cli)
    run.register(cli)
    report.register(cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    cli = build_cli()
    try:
        outcome = cli.main(args=argv, prog_name="mapscope", standalone_mode=False)
    except MapscopeError as error:
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"mapscope: error: {error}", markup=False)
        sys.exit(2)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, click.Abort):
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except OSError as error:
        source = error.filename or "output"
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"mapscope: error: {source}: {error.strerror or error}", markup=False
        )
        sys.exit(2)
    # Without standalone mode, click hands back the code of a ctx.exit(code) instead of exiting.
    if isinstance(outcome, int) and outcome:
        sys.exit(outcome)

"""The `mapscope` command line: a click group that imports a command's module only when that command runs.

Start-up stays as cheap as importing click: `mapscope --help` and `--version` read the table below and
never touch numpy, rich, jinja2 or protobuf, which only the commands themselves need.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NamedTuple

import click

from mapscope import __version__
from mapscope.errors import MapscopeError


class Entry(NamedTuple):
    module: str
    short_help: str


# name -> the module whose register() adds the command, and the line `mapscope --help` shows for it.
COMMANDS: dict[str, Entry] = {
    "bench": Entry("mapscope.commands.bench", "Go benchmark results: compare runs the way benchstat does."),
    "compare": Entry(
        "mapscope.commands.compare",
        "Map types and Go releases side by side: bytes, GC work, growth.",
    ),
    "gc": Entry("mapscope.commands.gc", "Pauses, GC CPU and heap vs goal from GODEBUG=gctrace=1 output."),
    "go": Entry("mapscope.commands.go_toolchain", "Install and list the Go toolchains mapscope uses."),
    "measure": Entry("mapscope.commands.measure", "Measure TYPE on a real Go runtime."),
    "profile": Entry(
        "mapscope.commands.profile", "Map sites of Go profiles: bytes, objects or CPU per site, cause."
    ),
    "report": Entry(
        "mapscope.commands.report", "Summarise a `mapscope run` directory as text, JSON or HTML."
    ),
    "run": Entry(
        "mapscope.commands.run", "Run go test, go run or a program with GC tracing and profiles on."
    ),
    "simulate": Entry(
        "mapscope.commands.simulate", "Timeline of retained bytes, allocations and events over --ops."
    ),
    "size": Entry(
        "mapscope.commands.size", "Bytes, allocations, GC-scanned bytes and growth events of TYPE."
    ),
}

COUNTS = (
    "Counts (-n, --hint, --ops 'insert N', ...) take 1000, 1_000_000, 1e6, 10k, 2M or 1G: k, M, G, T are "
    "10^3, 10^6, 10^9, 10^12; at most 1T."
)


class NamingGroup(click.Group):
    """A group that ties the usage errors click raises without a context (an option missing its value)
    to the subcommand they concern, so the error line can name it; groups made by its commands are too."""

    group_class = type

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            name = ctx.invoked_subcommand
            command = self.get_command(ctx, name) if error.ctx is None and name else None
            if command is not None:
                error.ctx = click.Context(command, info_name=name, parent=ctx)
            raise


class LazyGroup(NamingGroup):
    """A group whose commands are named in COMMANDS and loaded on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        holder = NamingGroup()
        importlib.import_module(entry.module).register(holder)
        return holder.commands[cmd_name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.short_help) for name, entry in sorted(COMMANDS.items())])


def build_cli() -> click.Group:
    @click.group(
        name="mapscope",
        cls=LazyGroup,
        epilog=COUNTS,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    )
    @click.version_option(__version__, "--version", prog_name="mapscope", message="%(prog)s %(version)s")
    def cli() -> None:
        """Where a Go program's map memory and GC time go, and what to change."""

    return cli


def _error_line(text: str) -> None:
    """Print the one error line of mapscope's contract on stderr (rich only here, where it is needed)."""
    from mapscope.renderers.console import console  # noqa: PLC0415 - rich costs start-up time

    console(stderr=True, pipe_width=None, soft_wrap=True).print(f"mapscope: error: {text}")


def _usage_line(error: click.ClickException) -> str:
    """A click error as one line: the subcommand it concerns, then click's message in lower case."""
    message = " ".join(error.format_message().split())
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    message = message.removesuffix(".")
    ctx = getattr(error, "ctx", None)
    path = ctx.command_path.removeprefix("mapscope").strip() if ctx is not None else ""
    return f"{path}: {message}" if path else message


def main(argv: list[str] | None = None) -> None:
    cli = build_cli()
    try:
        outcome = cli.main(args=argv, prog_name="mapscope", standalone_mode=False)
    except MapscopeError as error:
        _error_line(str(error))
        sys.exit(2)
    except click.exceptions.NoArgsIsHelpError as error:
        # `mapscope` or `mapscope go` alone: the help is the answer, not an error line.
        error.show()
        sys.exit(error.exit_code)
    except click.ClickException as error:
        _error_line(_usage_line(error))
        sys.exit(2)
    except (KeyboardInterrupt, click.Abort):
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except OSError as error:
        _error_line(f"{error.filename or 'output'}: {error.strerror or error}")
        sys.exit(2)
    # Without standalone mode, click hands back the code of a ctx.exit(code) instead of exiting.
    if isinstance(outcome, int) and outcome:
        sys.exit(outcome)

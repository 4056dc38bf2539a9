"""`mapscope measure TYPE`: what a real Go runtime allocates for a map, measured with runtime.MemStats."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from mapscope.commands.count_option import Count
from mapscope.commands.model_options import declarations, installed_target, target_options, type_options
from mapscope.errors import MapscopeError
from mapscope.model.ops import Op, OpKind, parse_ops
from mapscope.oracle import runner
from mapscope.oracle.cases import Case
from mapscope.readers.gotype_source import parse_map_type, parse_type
from mapscope.renderers.console import console
from mapscope.renderers.jsonout import dumps
from mapscope.renderers.oracle_terminal import measurement_view

DEFAULT_N = 1000
MAX_MEMORY = 4 << 30
PROTOCOL = (
    "Each repetition builds a fresh map (a fresh hash seed) in its own baseline: the figures are what make "
    "and the operations added since, read after a forced GC (retained = live heap, gc-scan = scannable "
    "heap) or counted since make (total alloc, mallocs). Peak: the largest heap seen right after an insert "
    "that allocated more than its entry (e.g. a growth), before collecting."
)


@contextmanager
def _status(message: str) -> Iterator[None]:
    """A spinner on stderr, only when stdout is a terminal."""
    if sys.stdout.isatty():
        with console(stderr=True).status(message):
            yield
    else:
        yield


def _ops(n: int | None, ops: str | None) -> tuple[Op, ...]:
    if n is not None and ops is not None:
        raise MapscopeError("-n", "give either -n or --ops, not both")
    if ops is not None:
        return parse_ops(ops)
    return (Op(OpKind.INSERT, DEFAULT_N if n is None else n),)


def _check_memory(case: Case, key_size: int, elem_size: int) -> None:
    """Refuse runs that would need more memory than a measurement is worth (keys built up front, map, growth)."""
    entries = max(case.inserts, case.hint or 0)
    estimate = case.inserts * key_size + 3 * entries * (key_size + elem_size + 1)
    if estimate > MAX_MEMORY:
        raise MapscopeError(
            "-n" if case.inserts >= (case.hint or 0) else "--hint",
            f"measuring {entries:,} entries of {key_size + elem_size} bytes would need about "
            f"{estimate / (1 << 30):.1f} GiB (limit {MAX_MEMORY >> 30} GiB)",
        )


def register(cli: click.Group) -> None:
    @cli.command("measure", epilog=PROTOCOL)
    @click.argument("map_type", metavar="TYPE")
    @click.option("-n", "n", type=Count(), help=f"Insert N keys, e.g. 1e6 or 10k (default {DEFAULT_N}).")
    @click.option("--ops", help="Operations instead of -n, e.g. 'insert 1000; delete 500; clear'.")
    @click.option("--hint", type=Count(), help="Size hint given to make.")
    @click.option("--reps", type=Count(1, 1000), default=runner.DEFAULT_REPS, show_default=True)
    @click.option("--peak/--no-peak", default=True, help="Track the transient peak (slower for large N).")
    @type_options
    @target_options
    def measure_command(
        map_type: str,
        n: int | None,
        ops: str | None,
        hint: int | None,
        reps: int,
        peak: bool,
        types: str | None,
        boxed: str | None,
        go: str | None,
        goexperiment: str | None,
        json_output: bool,
    ) -> None:
        """Measure TYPE on a real Go runtime (a toolchain installed with `mapscope go install`)."""
        source = declarations(types)
        layout = parse_map_type(map_type, source)
        if boxed:
            parse_type(boxed, source)
        case = Case("measure", map_type, source, hint, _ops(n, ops), boxed, peak)
        _check_memory(case, layout.key.size, layout.elem.size)
        target, toolchain = installed_target(go, goexperiment)
        with _status(f"building the measuring program with {target.label}"):
            binary = runner.build([case], target, toolchain)
        with _status(f"measuring {reps} repetitions"):
            measurement = runner.run_case(binary, case, target, reps)
        if json_output:
            click.echo(dumps(measurement))
        else:
            console(pipe_width=None, markup=True).print(measurement_view(measurement))

"""`mapscope simulate TYPE --ops '...'`: the map's bytes and events over an operation sequence."""

from __future__ import annotations

import click

from mapscope.commands.count_option import Count
from mapscope.commands.model_options import WORKLOAD, load_boxed, load_map_type, target_options, type_options
from mapscope.model.ops import parse_ops
from mapscope.model.simulate import simulate
from mapscope.model.versions import Target
from mapscope.renderers.console import console
from mapscope.renderers.jsonout import dumps
from mapscope.renderers.model_json import timeline_json
from mapscope.renderers.model_terminal import timeline_view


def register(cli: click.Group) -> None:
    @cli.command("simulate", epilog=WORKLOAD)
    @click.argument("map_type", metavar="TYPE")
    @click.option("--ops", required=True, help="e.g. 'insert 100k; delete 90000; insert 5e4; clear'.")
    @click.option("--hint", type=Count(), help="Size hint given to make.")
    @type_options
    @target_options
    def simulate_command(
        map_type: str,
        ops: str,
        hint: int | None,
        types: str | None,
        boxed: str | None,
        go: str | None,
        goexperiment: str | None,
        json_output: bool,
    ) -> None:
        """Timeline of retained bytes, allocations and events over --ops."""
        timeline = simulate(
            load_map_type(map_type, types),
            parse_ops(ops),
            Target.parse(go, goexperiment),
            hint,
            load_boxed(boxed, types),
        )
        if json_output:
            click.echo(dumps(timeline_json(timeline)))
        else:
            console().print(timeline_view(timeline))

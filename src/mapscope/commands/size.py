"""`mapscope size TYPE -n N`: the modelled heap cost of one map after N inserts (and, with --measure,
the same figures from the real runtime)."""

from __future__ import annotations

import click

from mapscope.analyses.map_size import size_report
from mapscope.analyses.model_vs_runtime import FigureCheck, SizeMeasurements, compare_size, size_cases
from mapscope.commands.count_option import Count
from mapscope.commands.model_options import (
    WORKLOAD,
    declarations,
    installed_target,
    load_boxed,
    load_map_type,
    target_options,
    type_options,
)
from mapscope.model.versions import Target
from mapscope.oracle import runner
from mapscope.renderers.console import console
from mapscope.renderers.jsonout import dumps
from mapscope.renderers.model_json import checks_json, size_json
from mapscope.renderers.model_terminal import checks_view, size_view


def register(cli: click.Group) -> None:
    @cli.command("size", epilog=WORKLOAD)
    @click.argument("map_type", metavar="TYPE")
    @click.option("-n", "n", type=Count(), required=True, help="Entries inserted, e.g. 1000, 1e6 or 10k.")
    @click.option("--hint", type=Count(), help="Size hint given to make.")
    @click.option("--measure", is_flag=True, help="Also run the workload on the real Go runtime and compare.")
    @click.option("--no-events", is_flag=True, help="Leave the event list out of the terminal view.")
    @type_options
    @target_options
    def size(
        map_type: str,
        n: int,
        hint: int | None,
        measure: bool,
        no_events: bool,
        types: str | None,
        boxed: str | None,
        go: str | None,
        goexperiment: str | None,
        json_output: bool,
    ) -> None:
        """Bytes, allocations, GC-scanned bytes and growth events of TYPE (e.g. 'map[int][1024]byte')."""
        toolchain = None
        if measure:
            # The model answers for the very release that runs, so the two columns compare like for like.
            target, toolchain = installed_target(go, goexperiment)
        else:
            target = Target.parse(go, goexperiment)
        report = size_report(load_map_type(map_type, types), n, target, hint, load_boxed(boxed, types))
        checks: tuple[FigureCheck, ...] = ()
        if toolchain is not None:
            cases = size_cases(map_type, declarations(types), n, hint, boxed)
            binary = runner.build(cases, target, toolchain)
            inserted, deleted, cleared, churned = (runner.run_case(binary, case, target) for case in cases)
            checks = compare_size(report, SizeMeasurements(inserted, deleted, cleared, churned))
        if json_output:
            payload = size_json(report)
            if measure:
                payload["measured"] = checks_json(checks)
            click.echo(dumps(payload))
            return
        console().print(size_view(report, events=not no_events))
        if measure:
            console().print()
            console().print(checks_view(f"Model vs the real Go {target.version.release} runtime", checks))

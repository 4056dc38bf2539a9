"""`mapscope compare TYPE TYPE ... -n N`: map types side by side across Go releases, with advice."""

from __future__ import annotations

from typing import Any

import click

from mapscope.analyses.compare import compare
from mapscope.commands.count_option import Count
from mapscope.commands.model_options import WORKLOAD, declarations, load_boxed, type_options
from mapscope.model.versions import SUPPORTED_RELEASES, Target
from mapscope.readers.gotype_source import parse_map_type
from mapscope.renderers.console import console
from mapscope.renderers.jsonout import dumps
from mapscope.renderers.model_json import size_json
from mapscope.renderers.model_terminal import comparison_view

DEFAULT_RELEASES = (SUPPORTED_RELEASES[0], SUPPORTED_RELEASES[-1])


def register(cli: click.Group) -> None:
    @cli.command("compare", epilog=WORKLOAD)
    @click.argument("map_types", metavar="TYPE...", nargs=-1, required=True)
    @click.option("-n", "n", type=Count(), required=True, help="Entries inserted, e.g. 1000, 1e6 or 10k.")
    @click.option("--hint", type=Count(), help="Size hint given to make.")
    @click.option(
        "--go", "releases", multiple=True, metavar="VERSION",
        help="Go releases to compare (repeatable; default 1.22 and the newest). Add +noswissmap for bucket maps.",
    )  # fmt: skip
    @type_options
    @click.option("--json", "json_output", is_flag=True, help="Print JSON.")
    def compare_command(
        map_types: tuple[str, ...],
        n: int,
        hint: int | None,
        releases: tuple[str, ...],
        types: str | None,
        boxed: str | None,
        json_output: bool,
    ) -> None:
        """Compare map types (and Go releases) by bytes, allocations, GC work and growth."""
        decls = declarations(types)
        targets = [
            Target.parse(
                release.removesuffix("+noswissmap"), "noswissmap" if release.endswith("+noswissmap") else None
            )
            for release in (releases or DEFAULT_RELEASES)
        ]
        comparison = compare(
            [parse_map_type(text, decls) for text in map_types], targets, n, hint, load_boxed(boxed, types)
        )
        if json_output:
            payload: dict[str, Any] = {
                "n": comparison.n,
                "results": [
                    {**size_json(cell.report), "with_hint": size_json(cell.hinted)}
                    for cell in comparison.cells
                ],
                "advice": list(comparison.advice),
            }
            click.echo(dumps(payload))
        else:
            console().print(comparison_view(comparison))

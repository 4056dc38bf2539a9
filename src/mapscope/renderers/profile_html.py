"""`mapscope profile --html FILE`: one self-contained offline page with a flame graph and the map sites.

The markup is templates/profile_report.html (autoescaped); the flame graph is drawn by
templates/profile_flame.js from the tree analyses/flame.py built, embedded as JSON in a
`<script type="application/json">` block. That JSON has every `<`, `>` and `&` written as a \\u escape,
so no name can close the block, and the script sets names with textContent only. The page's
Content-Security-Policy lets nothing load and runs only the page's own script (by its hash): even markup
that slipped through could not run.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from markupsafe import Markup

from mapscope import __version__
from mapscope.analyses.flame import FlameTree
from mapscope.analyses.map_sites import LEGEND, SiteReport
from mapscope.analyses.profile_diff import ProfileDiff
from mapscope.readers.pprof import ValueType
from mapscope.renderers.html import environment as _environment
from mapscope.renderers.profile_terminal import quantity
from mapscope.renderers.site_rows import site_rows

TOP_ROWS = 40
SITES = 200
DIFF_ROWS = 200
# One colour per cause, the same on every page; memory classes and CPU causes never share a page.
CAUSE_COLOURS = {
    "initial": "#4e79a7",
    "growth": "#e15759",
    "overflow": "#f28e2b",
    "out-of-line": "#b07aa1",
    "boxing": "#59a14f",
    "unexplained": "#9d9d9d",
    "make": "#4e79a7",
    "lookup": "#76b7b2",
    "insert": "#edc948",
    "delete": "#ff9da7",
    "iterate": "#59a14f",
    "clear": "#9c755f",
    "clone": "#b07aa1",
    "hash": "#f28e2b",
}
_FALLBACK_COLOUR = "#bab0ac"


@dataclass(frozen=True)
class SiteRow:
    """One cause of one site: the site's cells only on its first row."""

    function: str
    place: str
    map_type: str
    cause: str
    colour: str
    value: str
    count: str
    share: str
    confidence: str
    first: bool


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]


def script_json(value: Any) -> Markup:
    """JSON that is safe inside a <script> element: no `<`, `>` or `&` (so no `</script>` or `<!--`),
    and ASCII only (so no U+2028/U+2029)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        text = text.replace(raw, escaped)
    return Markup(text)


def _percent(part: int, total: int) -> str:
    return f"{100 * part / total:.1f}%" if total else "-"


def _tree_data(tree: FlameTree) -> dict[str, Any]:
    return {
        "sources": list(tree.sources),
        "types": [{"type": vt.type, "unit": vt.unit} for vt in tree.sample_types],
        "defaultType": tree.default_type,
        "names": list(tree.names),
        "parent": tree.parent.tolist(),
        "name": tree.name.tolist(),
        "cause": tree.cause.tolist(),
        "values": tree.values.tolist(),
        "totals": tree.totals.tolist(),
        "causes": [str(cause) for cause in tree.causes],
        "causeColours": [CAUSE_COLOURS.get(str(cause), _FALLBACK_COLOUR) for cause in tree.causes],
        "causeTotals": tree.cause_totals.tolist(),
    }


def _cut_note(tree: FlameTree) -> str:
    notes = []
    if tree.cut_nodes:
        notes.append(
            f"{tree.cut_nodes:,} frames smaller than {100 * tree.min_fraction:g}% of the total in every "
            "sample type are left out with everything they called"
        )
    if tree.capped_fraction is not None:
        notes.append(
            f"only the {tree.parent.size:,} largest frames are kept (the largest left out had "
            f"{100 * tree.capped_fraction:.2g}% of a total)"
        )
    if not notes:
        return "Every frame of the profile is drawn."
    return "To keep this page small, " + "; ".join(notes) + ": their values stay in their callers' widths."


def _site_rows(report: SiteReport, sites: int) -> tuple[SiteRow, ...]:
    unit = report.sample_type
    return tuple(
        SiteRow(
            function=row.function,
            place=row.place,
            map_type=row.map_type,
            cause=row.cause,
            colour=CAUSE_COLOURS.get(row.cause, _FALLBACK_COLOUR),
            value=quantity(row.value, unit),
            count=f"{row.count:,}",
            share=_percent(row.value, report.total),
            confidence=row.confidence,
            first=row.first,
        )
        for row in site_rows(report, sites)
    )


def _top_rows(report: SiteReport) -> tuple[Row, ...]:
    top, rows, running = report.top, [], 0
    for row in top.rows[:TOP_ROWS]:
        running += row.flat
        rows.append(
            Row(
                (
                    quantity(row.flat, top.sample_type),
                    _percent(row.flat, top.total),
                    _percent(running, top.total),
                    quantity(row.cum, top.sample_type),
                    _percent(row.cum, top.total),
                    f"{row.name} ({row.inline})" if row.inline else row.name,
                )
            )
        )
    return tuple(rows)


def _diff_rows(found: ProfileDiff, limit: int) -> tuple[Row, ...]:
    unit = found.sample_type

    def share(value: float | None) -> str:
        return f"{100 * value:.1f}%" if value is not None else "-"

    return tuple(
        Row(
            (
                row.function,
                f"{row.file}:{row.line}",
                row.map_type or "",
                row.cause,
                quantity(row.base, unit),
                quantity(row.new, unit),
                ("+" if row.delta > 0 else "") + quantity(row.delta, unit),
                share(row.base_share),
                share(row.new_share),
            )
        )
        for row in found.rows[:limit]
    )


def _page(tree: FlameTree, title: str, **parts: Any) -> str:
    script = (resources.files("mapscope.renderers") / "templates" / "profile_flame.js").read_text("utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    causes = [(str(c), CAUSE_COLOURS.get(str(c), _FALLBACK_COLOUR)) for c in tree.causes]
    return (
        _environment()
        .get_template("profile_report.html")
        .render(
            version=__version__,
            title=title,
            tree=tree,
            types=tree.sample_types,
            causes=causes,
            cut_note=_cut_note(tree),
            data=script_json(_tree_data(tree)),
            script=Markup(script),
            script_hash=f"sha256-{digest}",
            **parts,
        )
    )


def render_report(report: SiteReport, tree: FlameTree, sites: int = SITES) -> str:
    """The page of one profile: flame graph, map sites (the largest `sites`), the top of the profile."""
    unit: ValueType = report.sample_type
    return _page(
        tree,
        report.source,
        report=report,
        total_text=quantity(report.total, unit),
        map_text=quantity(report.map_value, unit),
        map_share=_percent(report.map_value, report.total),
        site_rows=_site_rows(report, sites),
        sites_shown=min(sites, len(report.sites)),
        legend=[(label.value, meaning) for label, meaning in LEGEND.items()],
        counted=report.count_type is not None and report.count_type.type != unit.type,
        top_rows=_top_rows(report),
        top_shown=quantity(report.top.shown, report.top.sample_type),
        found=None,
    )


def render_diff(found: ProfileDiff, tree: FlameTree, rows: int = DIFF_ROWS) -> str:
    """The page of BASE -> NEW: flame graph of NEW coloured by change, and what grew per site (the
    largest `rows` changes)."""
    unit = found.sample_type
    return _page(
        tree,
        f"{found.base_source} → {found.new_source}",
        report=None,
        found=found,
        base_text=quantity(found.base_total, unit),
        new_text=quantity(found.new_total, unit),
        diff_rows=_diff_rows(found, rows),
    )

"""The rows of a map-sites table, built once for every renderer that draws one (the terminal views of
`mapscope profile` and `mapscope run`, and the run report's HTML); each renderer only formats the cells."""

from __future__ import annotations

from dataclasses import dataclass

from mapscope.analyses.map_sites import SiteReport

__all__ = ["SiteRow", "site_rows"]


@dataclass(frozen=True)
class SiteRow:
    """One cause of one map site; a renderer shows the site's own cells (function, place, map type) on
    its first row only."""

    function: str
    place: str
    map_type: str
    cause: str
    value: int
    count: int
    confidence: str
    first: bool
    last: bool


def site_rows(report: SiteReport, limit: int) -> tuple[SiteRow, ...]:
    """The rows of the `limit` largest sites, each site's causes largest first."""
    rows = []
    for site in report.sites[:limit]:
        for position, share in enumerate(site.shares):
            rows.append(
                SiteRow(
                    function=site.function,
                    place=f"{site.file.rsplit('/', 1)[-1]}:{site.line}",
                    map_type=site.map_type or f"({site.found_by.value})",
                    cause=str(share.cause),
                    value=share.value,
                    count=share.count,
                    confidence=share.confidence.value,
                    first=position == 0,
                    last=position == len(site.shares) - 1,
                )
            )
    return tuple(rows)

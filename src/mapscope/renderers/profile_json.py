"""JSON of `mapscope profile`: the same records as the terminal view, with each share of the total."""

from __future__ import annotations

from typing import Any

from mapscope.analyses.map_sites import SiteReport
from mapscope.renderers.jsonout import to_jsonable


def _fraction(part: int, total: int) -> float | None:
    return round(part / total, 6) if total else None


def report_json(report: SiteReport) -> dict[str, Any]:
    payload: dict[str, Any] = to_jsonable(report)
    for site, record in zip(report.sites, payload["sites"], strict=True):
        record["share"] = _fraction(site.value, report.total)
        for share, part in zip(site.shares, record["shares"], strict=True):
            part["share"] = _fraction(share.value, report.total)
    payload["map_share"] = _fraction(report.map_value, report.total)
    payload["top"]["shown"] = report.top.shown
    return payload

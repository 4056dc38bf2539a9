"""What grew between two profiles of the same program, per map site and cause.

Sites are paired by function and map type, not by file:line: lines move between checkouts, and the same
code built by two Go releases inlines differently, so one store can show at another line (or through
another caller's inlined copy). A function's sites of one map type add up on each side; the row shows the
newer profile's line. The causes are the same vocabulary on bucket maps and Swiss tables, so a Go 1.23
profile and a Go 1.24 one compare cause by cause. Each row
has both values and both shares of their profile's total: the shares are what compares across runs of
different length or load.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapscope.analyses.map_sites import Site, SiteReport
from mapscope.errors import MapscopeError
from mapscope.readers.pprof import ValueType


@dataclass(frozen=True)
class DiffRow:
    function: str
    file: str
    line: int
    map_type: str | None
    cause: str
    base: int
    new: int
    base_share: float | None
    new_share: float | None

    @property
    def delta(self) -> int:
        return self.new - self.base


@dataclass(frozen=True)
class ProfileDiff:
    base_source: str
    new_source: str
    sample_type: ValueType
    base_total: int
    new_total: int
    base_target: str
    new_target: str
    rows: tuple[DiffRow, ...]


def _key(site: Site) -> tuple[str, str]:
    return site.function, site.map_type or ""


@dataclass
class _Paired:
    """One side's sites of one (function, map type): values per cause, and where the largest is."""

    causes: dict[str, int]
    file: str
    line: int


def _by_key(report: SiteReport) -> dict[tuple[str, str], _Paired]:
    found: dict[tuple[str, str], _Paired] = {}
    for site in report.sites:  # largest first, so a key's place is its largest site's
        paired = found.setdefault(
            _key(site), _Paired({}, site.file.replace("\\", "/").rsplit("/", 1)[-1], site.line)
        )
        for share in site.shares:
            paired.causes[share.cause] = paired.causes.get(share.cause, 0) + share.value
    return found


def _share(value: int, total: int) -> float | None:
    return value / total if total else None


def diff(base: SiteReport, new: SiteReport) -> ProfileDiff:
    """Rows for every (site, cause) in either report, largest change first."""
    if base.sample_type.type != new.sample_type.type:
        raise MapscopeError(
            new.source,
            f"sample type {new.sample_type.type} cannot be compared with {base.sample_type.type} of {base.source}",
        )
    before, after = _by_key(base), _by_key(new)
    rows = []
    for key in sorted(before.keys() | after.keys()):
        old_site, new_site = before.get(key), after.get(key)
        old_causes = old_site.causes if old_site else {}
        new_causes = new_site.causes if new_site else {}
        shown = new_site or old_site
        assert shown is not None
        for cause in sorted(old_causes.keys() | new_causes.keys()):
            old_value, new_value = old_causes.get(cause, 0), new_causes.get(cause, 0)
            rows.append(
                DiffRow(
                    function=key[0],
                    file=shown.file,
                    line=shown.line,
                    map_type=key[1] or None,
                    cause=cause,
                    base=old_value,
                    new=new_value,
                    base_share=_share(old_value, base.total),
                    new_share=_share(new_value, new.total),
                )
            )
    rows.sort(key=lambda r: (-abs(r.delta), r.function, r.line, r.cause))
    return ProfileDiff(
        base_source=base.source,
        new_source=new.source,
        sample_type=new.sample_type,
        base_total=base.total,
        new_total=new.total,
        base_target=base.target,
        new_target=new.target,
        rows=tuple(rows),
    )

"""What grew between two profiles of the same program, per map site and cause.

Sites are matched by function, file name and line: the same code built by two Go releases (or from two
checkouts) keeps them even when the build directory differs, and the causes are the same vocabulary on
bucket maps and Swiss tables, so a Go 1.23 profile and a Go 1.24 one compare cause by cause. Each row
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


def _key(site: Site) -> tuple[str, str, int]:
    return site.function, site.file.replace("\\", "/").rsplit("/", 1)[-1], site.line


def _share(value: int, total: int) -> float | None:
    return value / total if total else None


def diff(base: SiteReport, new: SiteReport) -> ProfileDiff:
    """Rows for every (site, cause) in either report, largest change first."""
    if base.sample_type.type != new.sample_type.type:
        raise MapscopeError(
            new.source,
            f"sample type {new.sample_type.type} cannot be compared with {base.sample_type.type} of {base.source}",
        )
    before = {_key(site): site for site in base.sites}
    after = {_key(site): site for site in new.sites}
    rows = []
    for key in sorted(before.keys() | after.keys()):
        old_site, new_site = before.get(key), after.get(key)
        old_causes = {s.cause: s.value for s in old_site.shares} if old_site else {}
        new_causes = {s.cause: s.value for s in new_site.shares} if new_site else {}
        shown = new_site or old_site
        assert shown is not None
        for cause in sorted(old_causes.keys() | new_causes.keys()):
            old_value, new_value = old_causes.get(cause, 0), new_causes.get(cause, 0)
            rows.append(
                DiffRow(
                    function=key[0],
                    file=key[1],
                    line=key[2],
                    map_type=(new_site.map_type if new_site else None)
                    or (old_site.map_type if old_site else None),
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

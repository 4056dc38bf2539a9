"""A profile with each sample's map cause as a virtual leaf frame, optionally only its map samples.

This is what `mapscope profile --proto` writes back as profile.proto, so that `go tool pprof` (or any
pprof viewer) shows the causes as functions: `-top` lists `[map: growth]` with the bytes or CPU growth
cost, `-peek` or `-focus` on it shows who pays. The cause frame is a function of its own in a location
of its own (no mapping, address 0), one per cause.

The profile's drop_frames pattern (legacy heap profiles drop the allocator's frames) is applied here
as pprof applies it, and then cleared: pprof cuts every frame below a dropped one, so a leaf frame added
under `runtime.mallocgc` would otherwise vanish. The stacks that remain are the ones pprof would have
shown; values, labels and every other field are kept as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from mapscope import ranges
from mapscope.analyses import profile_totals
from mapscope.analyses.flame import CAUSE_ORDER, cause_frame
from mapscope.readers.pprof import Function, Locations, Profile, make_locations, make_samples


def _cause_order(cause: str) -> tuple[int, str]:
    return (CAUSE_ORDER.index(cause) if cause in CAUSE_ORDER else len(CAUSE_ORDER)), cause


def _with_virtual(profile: Profile, kept: np.ndarray, named: list[str]) -> Locations:
    """The profile's locations with their kept lines, then one location per cause, calling the cause's
    function (appended after the profile's functions)."""
    locations = profile.locations
    lines = profile_totals.kept_lines(profile, kept)
    extra = len(named)
    first_id = int(locations.ids.max()) + 1 if len(locations) else 1
    return make_locations(
        ids=np.r_[locations.ids, np.arange(first_id, first_id + extra, dtype=np.uint64)],
        mapping=np.r_[locations.mapping, np.full(extra, -1, dtype=np.int64)],
        address=np.r_[locations.address, np.zeros(extra, dtype=np.uint64)],
        is_folded=np.r_[locations.is_folded, np.zeros(extra, dtype=bool)],
        line_counts=np.r_[kept, np.ones(extra, dtype=np.int64)],
        line_function=np.r_[
            locations.line_function[lines], len(profile.functions) + np.arange(extra, dtype=np.int64)
        ],
        line_number=np.r_[locations.line_number[lines], np.zeros(extra, dtype=np.int64)],
        line_column=np.r_[locations.line_column[lines], np.zeros(extra, dtype=np.int64)],
    )


def with_cause_frames(profile: Profile, causes: Sequence[str | None], map_only: bool = False) -> Profile:
    """`profile` with a `[map: cause]` leaf frame on every sample that has a cause (causes[i] for
    sample i), and without the other samples when `map_only`."""
    stacks = profile_totals.pruned_stacks(profile)
    named = sorted({c for c in causes if c is not None}, key=_cause_order)
    first_function = max((f.id for f in profile.functions), default=0) + 1
    functions = (
        *profile.functions,
        *(Function(first_function + k, cause_frame(c), cause_frame(c), "", 0) for k, c in enumerate(named)),
    )
    locations = _with_virtual(profile, stacks.kept_lines, named)
    cause_location: dict[str | None, int] = {None: -1}
    cause_location.update({c: len(profile.locations) + k for k, c in enumerate(named)})
    leaf = np.fromiter((cause_location[c] for c in causes), dtype=np.int64, count=len(causes))

    samples = profile.samples
    kept = np.flatnonzero(leaf >= 0) if map_only else np.arange(len(samples))
    begin, end = stacks.begin[kept], samples.stack_offsets[1:][kept]
    extra = (leaf[kept] >= 0).astype(np.int64)
    offsets = ranges.offsets(end - begin + extra)
    stack = np.empty(int(offsets[-1]), dtype=np.int64)
    stack[offsets[:-1][extra == 1]] = leaf[kept][extra == 1]
    body = ranges.expand(offsets[:-1] + extra, offsets[1:])
    stack[body] = samples.stack_locations[ranges.expand(begin, end)]

    label_begin, label_end = samples.label_offsets[kept], samples.label_offsets[1:][kept]
    picked = ranges.expand(label_begin, label_end)
    labels = (
        ranges.offsets(label_end - label_begin),
        samples.label_key[picked],
        samples.label_str[picked],
        samples.label_num[picked],
        samples.label_unit[picked],
        samples.label_kind[picked],
    )
    comment = "mapscope: map causes as leaf frames" + (", map samples only" if map_only else "")
    if profile.drop_frames:
        comment += "; drop_frames applied"
    return replace(
        profile,
        functions=functions,
        locations=locations,
        samples=make_samples(samples.values[kept].copy(), offsets, stack, labels),
        drop_frames="",
        keep_frames="",
        comments=(*profile.comments, comment),
    )

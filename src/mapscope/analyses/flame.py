"""Flame graph trees: one profile, or two merged for a diff, with every sample type and the map causes.

Stacks are read as pprof shows them (drop_frames applied, every inlined call a frame of its own), root
first, and a sample with a map cause gets it as a virtual leaf frame, `[map: growth]`, as in the
folded and speedscope exports. Paths from the root that agree merge into one node whose value is the
sum of its samples' absolute values, one column per sample type (and per profile, for a diff), so
recursion needs no special case.

The tree is built one depth at a time over all samples at once. A node below `min_fraction` of its
column's total in every column is cut with everything beneath it (its value stays in its parent's);
that keeps the tree to about depth / min_fraction nodes per column however large the profile, and a
hard cap on the node count then keeps only the largest. Both cuts are reported, so a page can say
what it leaves out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mapscope import ranges
from mapscope.analyses import profile_totals
from mapscope.analyses.map_causes import MapCause
from mapscope.analyses.map_shapes import MemoryClass
from mapscope.errors import MapscopeError
from mapscope.readers.pprof import Profile, ValueType

DEFAULT_MIN_FRACTION = 0.001
DEFAULT_MAX_NODES = 20_000
# The order causes are listed (and coloured) in: memory classes, then CPU causes.
CAUSE_ORDER: tuple[str, ...] = tuple(dict.fromkeys([*MemoryClass, *MapCause]))


def cause_frame(cause: str) -> str:
    """The virtual leaf frame that carries a sample's map cause."""
    return f"[map: {cause}]"


@dataclass(frozen=True)
class FlameInput:
    """One profile, the sample type chosen for it, and each sample's map cause (None: no map work)."""

    profile: Profile
    index: int
    causes: Sequence[str | None]


@dataclass(frozen=True, eq=False)
class FlameTree:
    """Nodes in breadth-first order, siblings by name; node 0 is the root (name -1, parent -1).

    `values[p, t, i]` is node i's value in profile p (0 = base, 1 = new for a diff; one profile
    otherwise) and sample type t; `totals[p, t]` and `cause_totals[p, t, c]` are exact sums over every
    sample, cut ones included. `cause[i]` indexes `causes` for a cause frame, else -1.
    """

    sources: tuple[str, ...]
    sample_types: tuple[ValueType, ...]
    default_type: int
    names: tuple[str, ...]
    causes: tuple[str, ...]
    parent: np.ndarray
    name: np.ndarray
    cause: np.ndarray
    values: np.ndarray
    totals: np.ndarray
    cause_totals: np.ndarray
    min_fraction: float
    cut_nodes: int
    capped_fraction: float | None


@dataclass(frozen=True, eq=False)
class _Paths:
    """Root-first frame sequences of all samples: sample s has names[offsets[s]:offsets[s + 1]]."""

    offsets: np.ndarray
    names: np.ndarray


class _NameTable:
    """Frame names to ids; cause frames get ids of their own, so no function can pass for one."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.cause_ids: dict[str, int] = {}

    def id(self, name: str) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = len(self.ids)
        return found

    def cause_id(self, cause: str) -> int:
        """Provisional (negative) ids, made final by `ordered` once every function name is known."""
        found = self.cause_ids.get(cause)
        if found is None:
            found = self.cause_ids[cause] = -1 - len(self.cause_ids)
        return found

    def ordered(self) -> tuple[list[str], np.ndarray, np.ndarray, list[str]]:
        """(names sorted, new id of each function id, new id of each provisional cause id -1, -2, ...,
        causes in CAUSE_ORDER). Functions sort by name; cause frames come after every function, in
        CAUSE_ORDER, so a node's cause children are its last ones."""
        functions = sorted(self.ids)
        remap = np.zeros(len(self.ids), dtype=np.int64)
        for position, name in enumerate(functions):
            remap[self.ids[name]] = position
        rank = {cause: i for i, cause in enumerate(CAUSE_ORDER)}
        causes = sorted(self.cause_ids, key=lambda c: (rank.get(c, len(rank)), c))
        cause_remap = np.zeros(len(self.cause_ids), dtype=np.int64)
        for position, cause in enumerate(causes):
            cause_remap[-1 - self.cause_ids[cause]] = len(functions) + position
        return [*functions, *(cause_frame(c) for c in causes)], remap, cause_remap, causes


def _location_names(profile: Profile, kept: np.ndarray, table: _NameTable) -> _Paths:
    """Each location's frame name ids, outermost (caller) first: its kept lines, or its address."""
    locations = profile.locations
    by_function = np.array([table.id(function.name) for function in profile.functions], dtype=np.int64)
    lines = profile_totals.kept_lines(profile, kept)
    has_lines = kept > 0
    offsets = ranges.offsets(np.where(has_lines, kept, 1))
    names = np.empty(int(offsets[-1]), dtype=np.int64)
    if lines.size:
        # Lines run innermost first within each location: read each location's run backwards.
        runs = ranges.offsets(kept[has_lines])
        backwards = np.repeat(runs[:-1] + runs[1:] - 1, kept[has_lines]) - np.arange(lines.size)
        slots = ranges.expand(offsets[:-1][has_lines], offsets[1:][has_lines])
        names[slots] = by_function[locations.line_function[lines[backwards]]]
    bare = np.flatnonzero(~has_lines)
    names[offsets[:-1][bare]] = [table.id(f"{address:#x}") for address in locations.address[bare].tolist()]
    return _Paths(offsets, names)


def _cause_codes(causes: Sequence[str | None], table: _NameTable) -> np.ndarray:
    """Each sample's provisional cause frame id (see _NameTable.cause_id), 0 for none."""
    lookup: dict[str | None, int] = {
        c: table.cause_id(c) for c in sorted(c for c in set(causes) if c is not None)
    }
    lookup[None] = 0
    return np.fromiter((lookup[c] for c in causes), dtype=np.int64, count=len(causes))


def _paths(profile: Profile, live: np.ndarray, codes: np.ndarray, table: _NameTable) -> _Paths:
    """Root-first name ids of the `live` samples (indices), their cause frame (`codes`) last."""
    samples = profile.samples
    stacks = profile_totals.pruned_stacks(profile)
    locations = _location_names(profile, stacks.kept_lines, table)
    begin, end = stacks.begin[live], samples.stack_offsets[1:][live]
    lengths = end - begin
    # Each stack read backwards: position p of [begin, end) becomes begin + end - 1 - p, root first.
    backwards = np.repeat(begin + end - 1, lengths) - ranges.expand(begin, end)
    stack = samples.stack_locations[backwards].astype(np.int64)
    names = locations.names[ranges.expand(locations.offsets[stack], locations.offsets[stack + 1])]
    per_location = ranges.offsets(locations.offsets[stack + 1] - locations.offsets[stack])
    stack_offsets = ranges.offsets(lengths)
    name_counts = per_location[stack_offsets[1:]] - per_location[stack_offsets[:-1]]
    cause = codes[live]
    has_cause = cause != 0
    if not has_cause.any():
        return _Paths(ranges.offsets(name_counts), names)
    offsets = ranges.offsets(name_counts + has_cause)
    merged = np.empty(int(offsets[-1]), dtype=np.int64)
    shift = np.repeat(offsets[:-1] - ranges.offsets(name_counts)[:-1], name_counts)
    merged[np.arange(names.size) + shift] = names
    merged[offsets[1:][has_cause] - 1] = cause[has_cause]
    return _Paths(offsets, merged)


def _common_types(inputs: Sequence[FlameInput]) -> tuple[list[list[int]], tuple[ValueType, ...], int]:
    """Column indices per input of the sample types every input has (by name, in the last input's
    order), those types, and the position of the last input's chosen type among them."""
    last = inputs[-1].profile
    wanted = [
        vt
        for vt in last.sample_types
        if all(vt.type in {t.type for t in i.profile.sample_types} for i in inputs)
    ]
    chosen = last.sample_types[inputs[-1].index].type
    if not any(vt.type == chosen for vt in wanted):
        raise MapscopeError(inputs[0].profile.source, f"has no sample type {chosen} to compare with")
    columns = [
        [next(k for k, vt in enumerate(i.profile.sample_types) if vt.type == w.type) for w in wanted]
        for i in inputs
    ]
    return columns, tuple(wanted), next(k for k, vt in enumerate(wanted) if vt.type == chosen)


def flame_tree(
    inputs: Sequence[FlameInput],
    min_fraction: float = DEFAULT_MIN_FRACTION,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> FlameTree:
    """The flame tree of one profile (every sample type), or of BASE and NEW (their common sample
    types) for a diff."""
    columns, types, default_type = _common_types(inputs)
    n_types = len(types)
    table = _NameTable()
    parts: list[tuple[_Paths, np.ndarray]] = []
    n_columns = n_types * len(inputs)
    totals = np.zeros((len(inputs), n_types), dtype=np.int64)
    absolutes = [
        np.abs(i.profile.samples.values[:, chosen]) for i, chosen in zip(inputs, columns, strict=True)
    ]
    codes = [_cause_codes(i.causes, table) for i in inputs]
    for p, (flame_input, absolute) in enumerate(zip(inputs, absolutes, strict=True)):
        totals[p] = [profile_totals.exact_sum(absolute[:, t]) for t in range(n_types)]
        live = np.flatnonzero((absolute != 0).any(axis=1))
        wide = np.zeros((live.size, n_columns), dtype=np.int64)
        wide[:, p * n_types : (p + 1) * n_types] = absolute[live]
        parts.append((_paths(flame_input.profile, live, codes[p], table), wide))
    names, remap, cause_remap, causes = table.ordered()
    cause_totals = np.zeros((len(inputs), n_types, len(causes)), dtype=np.int64)
    for p, absolute in enumerate(absolutes):
        for c, cause in enumerate(causes):
            mine = codes[p] == table.cause_ids[cause]
            cause_totals[p, :, c] = [profile_totals.exact_sum(absolute[mine, t]) for t in range(n_types)]

    def final(ids: np.ndarray) -> np.ndarray:
        out = np.empty_like(ids)
        function = ids >= 0
        out[function] = remap[ids[function]]
        out[~function] = cause_remap[-1 - ids[~function]]
        return out

    counts = np.concatenate([np.diff(paths.offsets) for paths, _ in parts])
    sequence = final(np.concatenate([paths.names for paths, _ in parts]))
    weights = np.concatenate([wide for _, wide in parts])
    offsets = ranges.offsets(counts)
    flat_totals = totals.reshape(-1)
    thresholds = np.maximum(1, np.ceil(min_fraction * flat_totals)).astype(np.int64)
    parent, name, node_values, cut = _build(offsets, sequence, weights, thresholds, len(names))
    node_values[0] = flat_totals
    cause_of_name = np.full(len(names), -1, dtype=np.int64)
    cause_of_name[len(names) - len(causes) :] = np.arange(len(causes))
    capped: float | None = None
    if parent.size > max_nodes:
        parent, name, node_values, capped = _cap(parent, name, node_values, flat_totals, max_nodes)
    node_cause = np.full(name.size, -1, dtype=np.int64)
    node_cause[name >= 0] = cause_of_name[name[name >= 0]]
    # Only the names the kept nodes use (in the same order, so siblings stay sorted by name).
    used = np.unique(name[name >= 0])
    name = np.where(name >= 0, np.searchsorted(used, name), -1)
    return FlameTree(
        sources=tuple(i.profile.source for i in inputs),
        sample_types=types,
        default_type=default_type,
        names=tuple(names[k] for k in used.tolist()),
        causes=tuple(str(c) for c in causes),
        parent=parent,
        name=name,
        cause=node_cause,
        values=node_values.T.reshape(len(inputs), n_types, -1),
        totals=totals,
        cause_totals=cause_totals,
        min_fraction=min_fraction,
        cut_nodes=cut,
        capped_fraction=capped,
    )


def _build(
    offsets: np.ndarray, sequence: np.ndarray, weights: np.ndarray, thresholds: np.ndarray, n_names: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The trie of all sequences, one depth per step: (parent, name, values, nodes cut)."""
    lengths = np.diff(offsets)
    node = np.zeros(lengths.size, dtype=np.int64)
    alive = np.flatnonzero(lengths > 0)
    parents, names, values = [np.array([-1])], [np.array([-1])], [np.zeros((1, weights.shape[1]), np.int64)]
    created, cut, depth = 1, 0, 0
    while alive.size:
        keys = node[alive] * n_names + sequence[offsets[alive] + depth]
        order = np.argsort(keys)
        ordered = keys[order]
        boundary = np.r_[True, ordered[1:] != ordered[:-1]]
        starts = np.flatnonzero(boundary)
        distinct = ordered[starts]
        sums = np.add.reduceat(weights[alive[order]], starts, axis=0)
        inverse = np.empty(keys.size, dtype=np.int64)
        inverse[order] = np.cumsum(boundary) - 1
        keep = (sums >= thresholds).any(axis=1)
        cut += int(distinct.size - keep.sum())
        ids = np.full(distinct.size, -1, dtype=np.int64)
        ids[keep] = created + np.arange(int(keep.sum()))
        created += int(keep.sum())
        parents.append(distinct[keep] // n_names)
        names.append(distinct[keep] % n_names)
        values.append(sums[keep])
        node[alive] = ids[inverse]
        depth += 1
        alive = alive[(ids[inverse] >= 0) & (lengths[alive] > depth)]
    return np.concatenate(parents), np.concatenate(names), np.concatenate(values), cut


def _cap(
    parent: np.ndarray, name: np.ndarray, values: np.ndarray, totals: np.ndarray, max_nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The `max_nodes` largest nodes (by their largest share of any column), and the share of the
    largest node left out. A child is never larger than its parent and sorts after it on a tie (ids
    are breadth-first), so what is kept is a tree."""
    share = (values / np.maximum(totals, 1)).max(axis=1)
    share[0] = np.inf
    order = np.lexsort((np.arange(share.size), -share))
    keep = np.sort(order[:max_nodes])
    new_id = np.full(share.size, -1, dtype=np.int64)
    new_id[keep] = np.arange(keep.size)
    kept_parent = np.where(parent[keep] >= 0, new_id[np.maximum(parent[keep], 0)], -1)
    return kept_parent, name[keep], values[keep], float(share[order[max_nodes]])

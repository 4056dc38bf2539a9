"""Totals per sample type and a flat/cum table by function, computed exactly as `go tool pprof -top` does.

What pprof does, and this module repeats:
  * The total of a sample type is the sum of absolute sample values (it matters only for delta profiles,
    whose values can be negative); the signed sum is kept beside it.
  * Frames named by the profile's drop_frames (legacy heap profiles: malloc and runtime.* frames) are
    pruned below the first user frame first, pprof's RemoveUninteresting.
  * Rows are functions: every line of a location (inlined calls included) is a node named by its
    function; locations without lines fold into one node per binary, `[binary]`, or `<unknown>`.
  * flat goes to the innermost frame of the leaf location; cum counts a node once per sample however
    often it recurs in the stack; samples whose chosen value is 0 are skipped altogether.
  * `(inline)` marks a node only ever reached through inlined calls, `(partial-inline)` one reached both
    ways; an edge counts as inlined only if every sample that passes it (first pass per sample) does.
  * Order: |flat| descending, then name, then |cum| descending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from mapscope import ranges
from mapscope.errors import MapscopeError
from mapscope.readers.pprof import Profile, ValueType

# Edge tables up to this many cells are counted in place rather than sorted.
_DENSE_EDGES = 1 << 22
# go tool pprof's defaults for -nodefraction and -edgefraction.
DEFAULT_NODE_FRACTION = 0.005
DEFAULT_EDGE_FRACTION = 0.001


@dataclass(frozen=True)
class SampleTypeTotal:
    sample_type: ValueType
    total: int
    signed_sum: int


@dataclass(frozen=True)
class TopRow:
    name: str
    flat: int
    cum: int
    inline: str


@dataclass(frozen=True)
class Top:
    """Rows in pprof's order; nodes whose |cum| is below node_cutoff are left out and counted."""

    sample_type: ValueType
    total: int
    rows: tuple[TopRow, ...]
    dropped_nodes: int
    node_cutoff: int

    @property
    def shown(self) -> int:
        """pprof's "Showing nodes accounting for": the sum of flat over the rows."""
        return sum(row.flat for row in self.rows)


def exact_sum(column: np.ndarray) -> int:
    if column.size == 0:
        return 0
    biggest = int(np.abs(column).max())
    if biggest * column.size < 2**63:
        return int(column.sum())
    return sum(int(v) for v in column)


def totals(profile: Profile) -> tuple[SampleTypeTotal, ...]:
    values = profile.samples.values
    return tuple(
        SampleTypeTotal(vt, exact_sum(np.abs(values[:, i])), exact_sum(values[:, i]))
        for i, vt in enumerate(profile.sample_types)
    )


_RESERVED = ("(anonymous namespace)", "operator()")
_BRACKET = re.compile("|".join(re.escape(name) for name in (*_RESERVED, "(")))


def _simplified(name: str) -> str:
    """pprof's simplifyFunc: drop a leading '.' and everything from the first '(' that starts no reserved
    name (so `main.(*cache).put` becomes `main.`, which is what the drop patterns are matched against)."""
    name = name.removeprefix(".")
    for match in _BRACKET.finditer(name):
        if match.group(0) not in _RESERVED:
            return name[: match.start()]
    return name


def _go_base(path: str) -> str:
    """Go's filepath.Base on a slash path."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return stripped.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class _Nodes:
    """Function-granularity nodes: for each location its node ids, innermost line first."""

    names: tuple[str, ...]
    sort_keys: tuple[tuple[str, str, int], ...]
    offsets: np.ndarray
    nodes: np.ndarray


def _pruned_lines(profile: Profile) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kept line count per location, prune, prune_beneath) as pprof's Prune leaves them."""
    locations = profile.locations
    counts = locations.line_counts()
    kept = counts.copy()
    prune = np.zeros(len(locations), dtype=bool)
    beneath = np.zeros(len(locations), dtype=bool)
    if not profile.drop_frames:
        return kept, prune, beneath
    try:
        drop = re.compile(f"^(?:{profile.drop_frames})$")
        keep = re.compile(f"^(?:{profile.keep_frames})$") if profile.keep_frames else None
    except re.error as error:
        raise MapscopeError(
            profile.source, f"drop_frames/keep_frames is not a usable pattern ({error})"
        ) from None
    verdicts: dict[str, bool] = {}

    def dropped(name: str) -> bool:
        if name not in verdicts:
            simple = _simplified(name)
            verdicts[name] = bool(drop.match(simple)) and not (keep is not None and keep.match(simple))
        return verdicts[name]

    by_function = np.array([bool(f.name) and dropped(f.name) for f in profile.functions], dtype=bool)
    line_dropped = (
        np.flatnonzero(by_function[locations.line_function]) if by_function.size else np.zeros(0, int)
    )
    # The outermost dropped line of each location (lines run innermost first).
    owner = np.repeat(np.arange(len(locations)), counts)[line_dropped]
    outermost = np.full(len(locations), -1, dtype=np.int64)
    np.maximum.at(outermost, owner, line_dropped - locations.line_offsets[owner])
    beneath = outermost >= 0
    prune = beneath & (outermost == counts - 1)
    # Where a frame inlined into a caller matched, it and those inlined into it go; its callers stay.
    partial = beneath & ~prune
    kept[partial] = counts[partial] - 1 - outermost[partial]
    return kept, prune, beneath


@dataclass(frozen=True, eq=False)
class PrunedStacks:
    """Stacks as pprof's RemoveUninteresting leaves them: location i keeps the outermost kept_lines[i]
    of its lines, and sample j's stack starts at begin[j] (its end does not move)."""

    kept_lines: np.ndarray
    begin: np.ndarray


def pruned_stacks(profile: Profile) -> PrunedStacks:
    """Apply the profile's drop_frames/keep_frames as pprof does before it shows anything."""
    samples = profile.samples
    kept, pruned, beneath = _pruned_lines(profile)
    begin = samples.stack_offsets[:-1].copy()
    if pruned.any() or beneath.any():
        begin = _prune_stacks(samples.stack_locations, begin, samples.stack_offsets[1:], pruned, beneath)
    return PrunedStacks(kept, begin)


def kept_lines(profile: Profile, kept: np.ndarray) -> np.ndarray:
    """Positions (in Profile.locations' line columns) of the outermost kept[i] lines of each location i,
    location by location, innermost first."""
    ends = profile.locations.line_offsets[1:]
    return ranges.expand(ends - kept, ends)


def _nodes(profile: Profile, kept: np.ndarray) -> _Nodes:
    """pprof's nodes: a function by name; a nameless function by binary and start line; a location
    without lines by binary."""
    locations = profile.locations
    index: dict[tuple[str, str, int], int] = {}

    def node(key: tuple[str, str, int]) -> int:
        found = index.get(key)
        if found is None:
            found = index[key] = len(index)
        return found

    def objfile(location: int) -> str:
        mapping = int(locations.mapping[location])
        return profile.mappings[mapping].filename if mapping >= 0 else ""

    by_function = np.array(
        [node((f.name, "", 0)) if f.name else -1 for f in profile.functions], dtype=np.int64
    )
    lines = kept_lines(profile, kept)
    functions = locations.line_function[lines]
    line_nodes = by_function[functions] if by_function.size else np.zeros(0, dtype=np.int64)
    nameless = np.flatnonzero(line_nodes < 0)
    if nameless.size:
        owner = np.repeat(np.arange(len(locations)), kept)
        for position in nameless.tolist():
            start_line = profile.functions[int(functions[position])].start_line
            line_nodes[position] = node(("", objfile(int(owner[position])), start_line))
    has_lines = kept > 0
    counts = np.where(has_lines, kept, 1)
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = np.empty(int(offsets[-1]), dtype=np.int64)
    flat[ranges.expand(offsets[:-1][has_lines], offsets[1:][has_lines])] = line_nodes
    for location in np.flatnonzero(~has_lines).tolist():
        flat[offsets[location]] = node(("", objfile(location), 0))
    names = tuple(name or (f"[{_go_base(obj)}]" if obj else "<unknown>") for name, obj, _ in index)
    return _Nodes(names, tuple(index), offsets, flat)


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, minus its hash-table path that is slow on millions of keys)."""
    ordered = np.sort(keys)
    distinct: np.ndarray = ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if ordered.size else ordered
    return distinct


def top(
    profile: Profile,
    index: int,
    node_fraction: float = DEFAULT_NODE_FRACTION,
    edge_fraction: float = DEFAULT_EDGE_FRACTION,
    prune: bool = True,
) -> Top:
    """The `go tool pprof -top -sample_index=<index>` table (pprof's -nodefraction/-edgefraction defaults;
    pass 0 for every node and every edge)."""
    samples = profile.samples
    weights = samples.values[:, index]
    if prune:
        stacks = pruned_stacks(profile)
    else:
        stacks = PrunedStacks(profile.locations.line_counts(), samples.stack_offsets[:-1].copy())
    nodes = _nodes(profile, stacks.kept_lines)
    n_nodes = len(nodes.names)
    begin, end = stacks.begin, samples.stack_offsets[1:]
    active = np.flatnonzero(weights != 0)
    begin, end, weights = begin[active], end[active], weights[active]
    sample_of_frame = np.repeat(np.arange(active.size), end - begin)
    frames = samples.stack_locations[ranges.expand(begin, end)].astype(np.int64)

    # Every node of every frame, leaf first: a location's nodes run innermost line first.
    node_counts = nodes.offsets[frames + 1] - nodes.offsets[frames]
    node_seq = nodes.nodes[ranges.expand(nodes.offsets[frames], nodes.offsets[frames + 1])]
    sample_of_node = np.repeat(sample_of_frame, node_counts)
    seq_start = np.repeat(np.cumsum(node_counts) - node_counts, node_counts)
    outermost = np.arange(node_seq.size) - seq_start == np.repeat(node_counts - 1, node_counts)

    flat = np.zeros(n_nodes, dtype=np.int64)
    has_stack = end > begin
    leaf_frames = samples.stack_locations[begin[has_stack]].astype(np.int64)
    np.add.at(flat, nodes.nodes[nodes.offsets[leaf_frames]], weights[has_stack])

    cum = np.zeros(n_nodes, dtype=np.int64)
    pairs = _distinct(sample_of_node * n_nodes + node_seq)
    np.add.at(cum, pairs % n_nodes, weights[pairs // n_nodes])
    recursive = np.bincount(pairs // n_nodes, minlength=active.size) < np.bincount(
        sample_of_node, minlength=active.size
    )

    present = (flat != 0) | (cum != 0)
    flat_total = exact_sum(flat)
    node_cutoff = abs(int(float(flat_total) * node_fraction))
    edge_cutoff = abs(int(float(flat_total) * edge_fraction))
    kept = present.copy()
    if node_cutoff > 0:
        kept &= np.abs(cum) >= node_cutoff
    on_kept = kept[node_seq]
    inline_in, plain_in = _inline_edges(
        node_seq[on_kept],
        sample_of_node[on_kept],
        outermost[on_kept],
        weights,
        recursive,
        n_nodes,
        edge_cutoff,
    )
    rows = []
    for node in np.flatnonzero(kept):
        label = ""
        if inline_in[node]:
            label = "partial-inline" if plain_in[node] else "inline"
        rows.append((node, TopRow(nodes.names[node], int(flat[node]), int(cum[node]), label)))
    rows.sort(
        key=lambda item: (-abs(item[1].flat), item[1].name, -abs(item[1].cum), nodes.sort_keys[item[0]])
    )
    return Top(
        sample_type=profile.sample_types[index],
        total=totals(profile)[index].total,
        rows=tuple(row for _, row in rows),
        dropped_nodes=int(present.sum() - kept.sum()),
        node_cutoff=node_cutoff,
    )


def _prune_stacks(
    stacks: np.ndarray, begin: np.ndarray, end: np.ndarray, pruned: np.ndarray, beneath: np.ndarray
) -> np.ndarray:
    """New stack starts after pprof's Prune: below the rootmost flagged frame that has a user frame above
    it, everything goes (and that frame too when its whole location matched)."""
    n = begin.size
    positions = ranges.expand(begin, end)
    owner = np.repeat(np.arange(n), end - begin)
    locs = stacks[positions]
    flagged = pruned[locs] | beneath[locs]
    # Users strictly rootward of each frame: user frames after it, up to its stack's end (the root).
    sizes = end - begin
    users_to_end = np.zeros(positions.size + 1, dtype=np.int64)
    users_to_end[:-1] = np.cumsum((~flagged)[::-1])[::-1]
    stack_end = np.repeat(np.cumsum(sizes), sizes)
    users_rootward = users_to_end[np.arange(positions.size) + 1] - users_to_end[stack_end]
    candidates = np.flatnonzero(flagged & (users_rootward > 0))
    cut = np.full(n, -1, dtype=np.int64)
    np.maximum.at(cut, owner[candidates], positions[candidates])
    new_begin = begin.copy()
    hit = cut >= 0
    new_begin[hit] = cut[hit] + pruned[stacks[cut[hit]]].astype(np.int64)
    return new_begin


def _inline_edges(
    node_seq: np.ndarray,
    sample_of_node: np.ndarray,
    outermost: np.ndarray,
    weights: np.ndarray,
    recursive: np.ndarray,
    n_nodes: int,
    edge_cutoff: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per node: has an in-edge that is always inlined / has one that is not, among edges whose weight
    reaches the cutoff (pprof's TrimLowFrequencyEdges). `recursive` marks the samples in which a node
    occurs more than once: only there can an edge occur twice."""
    inline_in = np.zeros(n_nodes, dtype=bool)
    plain_in = np.zeros(n_nodes, dtype=bool)
    if node_seq.size < 2:
        return inline_in, plain_in
    # The caller of node_seq[e] is node_seq[e + 1] (leaf-first order) within the same sample.
    child = node_seq[:-1]
    parent = node_seq[1:]
    where = np.flatnonzero((sample_of_node[:-1] == sample_of_node[1:]) & (child != parent))
    if where.size == 0:
        return inline_in, plain_in
    # Edges numbered over the nodes present here (few, once the node cutoff has dropped the rest).
    present = np.flatnonzero(np.bincount(node_seq, minlength=n_nodes))
    local = np.zeros(n_nodes, dtype=np.int64)
    local[present] = np.arange(present.size)
    width = present.size
    edge = local[parent[where]] * width + local[child[where]]
    sample = sample_of_node[where]
    inline = ~outermost[:-1][where]
    again = np.flatnonzero(recursive[sample])
    if again.size:
        # Only an edge's first pass in a sample, walking from the root (the highest position), counts.
        order = again[np.lexsort((-where[again], edge[again], sample[again]))]
        first = np.r_[True, (edge[order][1:] != edge[order][:-1]) | (sample[order][1:] != sample[order][:-1])]
        keep = np.ones(edge.size, dtype=bool)
        keep[again] = False
        keep[order[first]] = True
        edge, sample, inline = edge[keep], sample[keep], inline[keep]
    if width * width <= _DENSE_EDGES:
        edges = np.flatnonzero(np.bincount(edge, minlength=width * width))
        number = np.zeros(width * width, dtype=np.int64)
        number[edges] = np.arange(edges.size)
        group = number[edge]
    else:
        edges, group = np.unique(edge, return_inverse=True)
    passes = np.zeros(edges.size, dtype=np.int64)
    np.add.at(passes, group, weights[sample])
    plain = np.bincount(group, weights=~inline, minlength=edges.size)
    always_inline = plain == 0
    strong = np.abs(passes) >= edge_cutoff
    dest = present[edges % width]
    inline_in[dest[strong & always_inline]] = True
    plain_in[dest[strong & ~always_inline]] = True
    return inline_in, plain_in

"""How a Swiss-table map's tables fill, split and collect tombstones: the part the hash seed decides.

The map's tables are kept as classes of alike tables (same directory depth and capacity) with the mean and
variance of their live entries, their mean tombstones and the mean occupancy of their groups. Counts drive
everything, so a billion inserts take a few dozen steps:

- A key lands in a table of depth d with probability 2^-d, so a table's new keys are binomial; whether it
  runs out of room is a normal tail and how many of a class's tables do is a binomial quantile at the
  class's `luck`.
- A table of capacity c takes 7c/8 entries counting tombstones (c-1 for a single group). A new key that
  passes no tombstone on its probe uses up that room; the next one rebuilds the table: twice the capacity
  up to 1024 slots, then a split into two 1024-slot tables by the next hash bit. Rebuilt tables have no
  tombstones, and their keys are placed in slot order, not in insertion order.
- A map filled from empty needs none of the below: its tables follow from the hash-prefix counts alone
  (`split_profile`, at the end of this module).
- Group occupancy is a mean-field model of one table (`Shape`): groups by state, open (with an empty slot)
  or closed (none left; the slots that are not entries are tombstones), by entries; and, per state, the keys
  of each cohort (a range of key numbers, oldest first). A probe visits groups in effectively random order
  and stops at the first open group; the first tombstone on the way is reused. Deleting a key of an open
  group empties its slot, of a closed group leaves a tombstone. Cohorts matter because the workload
  deletes the oldest keys: keys placed early sit in groups that filled up later, and keys that reused a
  tombstone sit in closed groups, so deleting them leaves more tombstones than deleting random keys.
- Go 1.25+ prunes, before growing, the tombstones no live key's probe passes (when at least a tenth of
  the capacity is tombstones and a tenth can go). A key's probe passes only full groups on its way in, so
  the model counts the full groups that live keys' probes have passed; such a group that later gets a
  tombstone keeps it while one of those keys lives.

The mean field still misses some of the tombstones deletes make (about 6%, `TOMBSTONE_SHORTFALL`, made up
for; what is left is within a few percent either way): deletes can also scale the tombstones they make by
`MODEL_ERROR` times a normal quantile, in every table together, so that error widens the range of rebuilds
after deletes without moving its median (the machine does so where more tombstones always mean more
rebuilds, i.e. where nothing prunes them).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from statistics import NormalDist

SLOTS = 8
MAX_TABLE_CAPACITY = 1024
MODEL_ERROR = 0.08
# The mean field makes about 6% too few tombstones when the oldest keys are deleted (against an exact
# simulation of the probe sequence, which matches the runtime): deletes make that many more.
TOMBSTONE_SHORTFALL = 0.06
STATES = 2 * SLOTS + 1  # open with 0..7 entries, then closed with 0..8 entries
MAX_COHORTS = 24
_EXACT_BINOMIAL = 4096
_ENTRIES = tuple(s if s < SLOTS else s - SLOTS for s in range(STATES))

Label = tuple[int, int]
"""A cohort: the live keys numbered lo..hi-1 (keys are numbered in insertion order, map-wide)."""


def growth_limit(capacity: int) -> int:
    """Entries plus tombstones a table of `capacity` slots holds before the next new key rebuilds it."""
    return capacity - 1 if capacity <= SLOTS else capacity * 7 // SLOTS


# -- normal and binomial tails --------------------------------------------------------------------------


def _pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _mills(beta: float) -> float:
    """phi(beta) / (1 - Phi(beta)), stable far into the upper tail."""
    tail = _cdf(-beta)
    if tail > 1e-300:
        return _pdf(beta) / tail
    return beta + 1.0 / beta


@dataclass(frozen=True)
class Tail:
    """A normal D = R - A (new keys minus room) cut at 1/2: P(D > 1/2) and D's moments on each side."""

    above: float
    mean_above: float
    var_above: float
    mean_below: float
    var_below: float

    @classmethod
    def of(cls, mean: float, var: float) -> Tail:
        if var <= 1e-12:
            return cls(1.0 if mean > 0.5 else 0.0, mean, 0.0, mean, 0.0)
        sd = math.sqrt(var)
        beta = (0.5 - mean) / sd
        lam_up = _mills(beta)
        lam_down = _mills(-beta)
        return cls(
            above=_cdf(-beta),
            mean_above=max(mean + sd * lam_up, 1.0),
            var_above=var * max(0.0, 1.0 + beta * lam_up - lam_up * lam_up),
            mean_below=mean - sd * lam_down,
            var_below=var * max(0.0, 1.0 - beta * lam_down - lam_down * lam_down),
        )


_NORMAL = NormalDist()


def _probit(luck: float) -> float:
    return _NORMAL.inv_cdf(min(1.0 - 1e-12, max(1e-12, luck)))


@lru_cache(maxsize=16384)
def binomial_quantile(trials: int, p: float, luck: float) -> tuple[int, float]:
    """The smallest k with P(Binomial(trials, p) <= k) >= luck, and where `luck` falls within k's share
    of the distribution (0..1): the luck left for what happens next, given that k happened."""
    if trials <= 0 or p <= 0.0:
        return 0, luck
    if p >= 1.0:
        return trials, luck
    if p > 0.5:
        # Counted from the other side, where the first term does not underflow.
        failed, rest = binomial_quantile(trials, 1.0 - p, 1.0 - luck)
        return trials - failed, 1.0 - rest
    if trials <= _EXACT_BINOMIAL and trials * math.log1p(-p) > -700.0:
        term = math.exp(trials * math.log1p(-p))
        below, total, k, ratio = 0.0, term, 0, p / (1.0 - p)
        while total < luck and k < trials:
            term *= (trials - k) / (k + 1) * ratio
            k += 1
            below, total = total, total + term
    else:
        mean = trials * p
        sd = math.sqrt(trials * p * (1.0 - p))
        k = max(0, min(trials, math.ceil(mean + _probit(luck) * sd - 0.5)))
        below = _cdf((k - 0.5 - mean) / sd) if k > 0 else 0.0
        total = _cdf((k + 0.5 - mean) / sd) if k < trials else 1.0
    if total - below <= 1e-12:
        return k, 0.5
    return k, min(1.0 - 1e-9, max(1e-9, (luck - below) / (total - below)))


# -- mean-field occupancy of one table ------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """Mean occupancy of one table: `groups[s]` groups in state s, `keys[s][c]` of their entries from
    cohort `labels[c]`; `covered[s]` of the groups in state s lie on some live key's probe path (a key
    passes only full groups on its way in, and a passed group that later gets a tombstone must keep it);
    `path` sums the groups the live keys' probes passed."""

    groups: tuple[float, ...]
    keys: tuple[tuple[float, ...], ...]
    labels: tuple[Label, ...]
    covered: tuple[float, ...]
    path: float

    @classmethod
    def empty(cls, groups: int) -> Shape:
        return cls((float(groups),) + (0.0,) * (STATES - 1), ((),) * STATES, (), (0.0,) * STATES, 0.0)

    @property
    def live(self) -> float:
        return sum(_ENTRIES[s] * n for s, n in enumerate(self.groups))

    @property
    def tombs(self) -> float:
        return sum((SLOTS - _ENTRIES[s]) * self.groups[s] for s in range(SLOTS, STATES))

    def unneeded(self) -> float:
        """Tombstones in groups no live key's probe passes: what Go 1.25+ may prune."""
        return sum(
            (SLOTS - _ENTRIES[s]) * (self.groups[s] - self.covered[s]) for s in range(SLOTS, STATES - 1)
        )

    def _with(self, label: Label) -> tuple[Shape, int]:
        if label in self.labels:
            return self, self.labels.index(label)
        keys = tuple((*row, 0.0) for row in self.keys)
        return replace(self, keys=keys, labels=(*self.labels, label)), len(self.labels)

    @classmethod
    def rebuilt(cls, groups: int, mix: tuple[tuple[Label, float], ...]) -> Shape:
        """A table filled from scratch with keys taken in no particular order (a grow or split)."""
        total = sum(count for _, count in mix)
        base = _pristine(groups, max(0, round(total)))
        shares = tuple(count / total for _, count in mix) if total > 0 else ()
        keys = tuple(tuple(_ENTRIES[s] * n * share for share in shares) for s, n in enumerate(base.groups))
        return replace(base, keys=keys, labels=tuple(label for label, _ in mix))

    def delete_below(self, cut: int) -> Shape:
        """Delete the live keys numbered below `cut`: each group is thinned binomially (a deleted entry of
        a closed group becomes a tombstone, of an open group an empty slot). A passed group stays passed
        while one of the keys that passed it lives."""
        gone = []
        for lo, hi in self.labels:
            gone.append(0.0 if cut <= lo else 1.0 if cut >= hi else (cut - lo) / (hi - lo))
        if not any(gone):
            return self
        groups = [0.0] * STATES
        covered = [0.0] * STATES
        keys = [[0.0] * len(self.labels) for _ in range(STATES)]
        for s, count in enumerate(self.groups):
            entries = _ENTRIES[s]
            if count <= 0:
                continue
            row = self.keys[s]
            if entries == 0 or sum(row) <= 0:
                groups[s] += count
                covered[s] += self.covered[s]
                continue
            dropped = sum(k * g for k, g in zip(row, gone, strict=True))
            p = min(1.0, dropped / (entries * count))
            survivors = [k * (1.0 - g) for k, g in zip(row, gone, strict=True)]
            kept_total = sum(survivors)
            base = 0 if s < SLOTS else SLOTS
            for left in range(entries + 1):
                weight = math.comb(entries, left) * (1.0 - p) ** left * p ** (entries - left)
                moved = count * weight
                if moved <= 0:
                    continue
                groups[base + left] += moved
                covered[base + left] += self.covered[s] * weight
                if left and kept_total > 0:
                    for c, k in enumerate(survivors):
                        keys[base + left][c] += moved * left * k / kept_total
        live_before = self.live
        shape = Shape(
            tuple(groups),
            tuple(tuple(r) for r in keys),
            tuple((max(lo, min(cut, hi)), hi) for lo, hi in self.labels),
            self.covered,
            0.0,
        )
        kept = shape.live / live_before if live_before > 0 else 0.0
        passers = self.path / max(1.0, sum(self.covered))
        still = 1.0 - (1.0 - kept) ** max(1.0, passers)
        return _drop_empty(replace(shape, covered=tuple(c * still for c in covered), path=self.path * kept))

    def with_tombstones(self, extra: float) -> Shape:
        """The same table with `extra` more tombstones (fewer if negative): some open groups taken as
        closed, or closed groups with tombstones as open."""
        source, target = (0, SLOTS) if extra > 0 else (SLOTS, 0)
        total = sum(self.groups[source + j] * (SLOTS - j) for j in range(SLOTS))
        if extra == 0 or total <= 0:
            return self
        share = min(1.0, abs(extra) / total)
        groups = list(self.groups)
        covered = list(self.covered)
        keys = [list(row) for row in self.keys]
        for j in range(SLOTS):
            moved = self.groups[source + j] * share
            groups[source + j] -= moved
            groups[target + j] += moved
            covered[source + j] *= 1.0 - share
            for c in range(len(self.labels)):
                part = self.keys[source + j][c] * share
                keys[source + j][c] -= part
                keys[target + j][c] += part
        return replace(self, groups=tuple(groups), keys=tuple(tuple(r) for r in keys), covered=tuple(covered))

    def pruned(self, gone: float) -> Shape:
        """The shape after pruning `gone` tombstones of unpassed groups: those groups become open."""
        unneeded = self.unneeded()
        if gone <= 0 or unneeded <= 0:
            return self
        share = min(1.0, gone / unneeded)
        groups = list(self.groups)
        keys = [list(row) for row in self.keys]
        for j in range(SLOTS):
            closed = SLOTS + j
            if self.groups[closed] <= 0:
                continue
            moved = (self.groups[closed] - self.covered[closed]) * share
            groups[j] += moved
            groups[closed] -= moved
            for c in range(len(self.labels)):
                part = self.keys[closed][c] * moved / self.groups[closed]
                keys[j][c] += part
                keys[closed][c] -= part
        return replace(self, groups=tuple(groups), keys=tuple(tuple(r) for r in keys))

    def _step(self, dt: float, reuse: bool, cohort: int | None) -> tuple[Shape, float]:
        """`dt` new keys at the current rates; returns the new shape and the tombstones reused."""
        g = self.groups
        opened = sum(g[:SLOTS])
        tombed = sum(g[SLOTS : STATES - 1]) if reuse else 0.0
        stops = opened + tombed
        if stops <= 0:
            return self, 0.0
        full = sum(g[SLOTS:]) - tombed
        reused = dt * tombed / stops
        fresh = dt - reused
        moves = [0.0] * STATES
        for s in range(SLOTS):
            if opened > 0:
                moves[s] = fresh * g[s] / opened
            if tombed > 0:
                moves[SLOTS + s] = reused * g[SLOTS + s] / tombed
        groups = list(g)
        covered = list(self.covered)
        keys = [list(row) for row in self.keys] if cohort is not None else []
        for s, moved in enumerate(moves):
            if moved <= 0:
                continue
            target = STATES - 1 if s == SLOTS - 1 else s + 1
            share = moved / g[s]
            groups[s] -= moved
            groups[target] += moved
            covered[s] -= self.covered[s] * share
            covered[target] += self.covered[s] * share
            if cohort is not None:
                for c, k in enumerate(self.keys[s]):
                    keys[s][c] -= k * share
                    keys[target][c] += k * share
                keys[target][cohort] += moved
        passes = dt * full / (stops + 1.0)
        last = STATES - 1
        if groups[last] > 0:
            open_share = math.exp(-passes / groups[last])
            covered[last] = groups[last] - (groups[last] - covered[last]) * open_share
        rows = tuple(tuple(r) for r in keys) if cohort is not None else self.keys
        return Shape(tuple(groups), rows, self.labels, tuple(covered), self.path + passes), reused

    def _dt(self, remaining: float, total: float) -> float:
        return min(remaining, max(0.5, 0.2 * sum(self.groups[:SLOTS])), max(1.0, total / 24.0))

    def fill(self, count: float, label: Label, reuse: bool = True) -> tuple[Shape, float]:
        """Insert `count` new keys of cohort `label`; returns the shape and the tombstones they reused."""
        shape, cohort = self._with(label)
        reused, done = 0.0, 0.0
        while done < count - 1e-9:
            dt = shape._dt(count - done, count)
            shape, used = shape._step(dt, reuse, cohort)
            reused += used
            done += dt
        return _bounded(_drop_empty(shape)), reused

    def absorb(self, room: float, capacity: int) -> tuple[float, Shape]:
        """Insert keys until the room (growthLeft) is used up: the keys absorbed and the group states then
        (the new keys are in no cohort: only counts are asked of that shape)."""
        return _absorb(self, room, capacity)


def _drop_empty(shape: Shape) -> Shape:
    """Forget cohorts with no live keys left."""
    alive = [
        c for c, (lo, hi) in enumerate(shape.labels) if hi > lo and any(row[c] > 1e-9 for row in shape.keys)
    ]
    if len(alive) == len(shape.labels):
        return shape
    keys = tuple(tuple(row[c] for c in alive) for row in shape.keys)
    return replace(shape, keys=keys, labels=tuple(shape.labels[c] for c in alive))


def _bounded(shape: Shape) -> Shape:
    """Merge neighbouring cohorts (the pair with the fewest keys) until at most MAX_COHORTS remain."""
    while len(shape.labels) > MAX_COHORTS:
        order = sorted(range(len(shape.labels)), key=lambda c: shape.labels[c])
        sizes = [sum(row[c] for row in shape.keys) for c in order]
        pick = min(range(len(order) - 1), key=lambda i: sizes[i] + sizes[i + 1])
        a, b = order[pick], order[pick + 1]
        label = (shape.labels[a][0], shape.labels[b][1])
        keep = [c for c in range(len(shape.labels)) if c not in (a, b)]
        keys = tuple((*(row[c] for c in keep), row[a] + row[b]) for row in shape.keys)
        labels = (*(shape.labels[c] for c in keep), label)
        shape = replace(shape, keys=keys, labels=labels)
    return shape


@lru_cache(maxsize=4096)
def _absorb(shape: Shape, room: float, capacity: int) -> tuple[float, Shape]:
    absorbed = 0.0
    budget = float(capacity * 64)
    while absorbed < budget and room > 1e-9:
        dt = shape._dt(budget, float(capacity))
        trial, used = shape._step(dt, True, None)
        if dt - used > room:
            dt *= room / (dt - used)
            trial, used = shape._step(dt, True, None)
        shape = trial
        absorbed += dt
        room = max(0.0, room - (dt - used))
    return absorbed, shape


@lru_cache(maxsize=4096)
def _pristine(groups: int, entries: int) -> Shape:
    """Group states of a table with no tombstones holding `entries` keys (no cohorts)."""
    shape = Shape.empty(groups)
    done = 0.0
    while done < entries - 1e-9:
        dt = shape._dt(entries - done, float(entries))
        shape, _ = shape._step(dt, False, None)
        done += dt
    return shape


# -- classes of alike tables ----------------------------------------------------------------------------

Mix = tuple[tuple[Label, float], ...]
"""Keys per table by cohort."""


def _scaled(mix: Mix, factor: float) -> Mix:
    return tuple((label, count * factor) for label, count in mix)


@dataclass(frozen=True)
class TableClass:
    """`tables` tables of one directory depth and capacity, alike in distribution.

    Occupancy is kept lazily: `shape` (None: an empty table), then the keys `placed` at a rebuild in no
    order, then the keys `added` one cohort after another. `spread` is the variance of live entries
    across the tables; `tomb_cv2` the squared coefficient of variation of their tombstones (a table that
    held more keys when keys were deleted had more full groups, so it kept far more tombstones, and the keys
    that reuse a tombstone leave one again when they are deleted). `luck` is the quantile that picks how many of
    them rebuild next; it starts at the run's luck and, after each such choice, becomes the position of
    the run within the outcome chosen, so that a run at luck L follows the L-quantile of the whole
    history rather than of each step alone.
    """

    depth: int
    capacity: int
    tables: int
    live: float
    spread: float
    shape: Shape | None = None
    placed: Mix = ()
    added: Mix = ()
    luck: float = 0.5
    tomb_cv2: float = 0.0

    def occupancy(self) -> Shape:
        return _occupancy(self.capacity // SLOTS, self.shape, self.placed, self.added)

    @property
    def tomb_spread(self) -> float:
        return self.tomb_cv2 * self.tombs**2

    @property
    def tombs(self) -> float:
        """Mean tombstones per table (only tables that saw deletes have a shape to hold them)."""
        return 0.0 if self.shape is None else max(0.0, self.occupancy().tombs)


@lru_cache(maxsize=4096)
def _occupancy(groups: int, shape: Shape | None, placed: Mix, added: Mix) -> Shape:
    if shape is None:
        shape = Shape.rebuilt(groups, placed) if placed else Shape.empty(groups)
        reuse = False
    else:
        reuse = True
    for label, count in added:
        shape, _ = shape.fill(count, label, reuse)
    return shape


Step = tuple[str, int]
"""A kind of growth and its size: ("grow", capacity) is a table of that capacity doubling, ("split", depth)
a full table of that depth splitting (the machine adds the small map's and the directory's steps)."""


@dataclass(frozen=True)
class Growth:
    """The tables after an insert, and how many growth steps of each kind happened on the way."""

    classes: tuple[TableClass, ...]
    events: Counter[Step]


def _average_mix(parts: list[tuple[int, Mix]], total: int) -> Mix:
    sums: dict[Label, float] = {}
    for weight, mix in parts:
        for label, count in mix:
            sums[label] = sums.get(label, 0.0) + weight * count
    return tuple((label, count / total) for label, count in sorted(sums.items()))


def _average_shape(parts: list[tuple[float, Shape]], total: float) -> Shape:
    labels = tuple(sorted({label for _, s in parts for label in s.labels}))
    groups = tuple(sum(w * s.groups[i] for w, s in parts) / total for i in range(STATES))
    keys = tuple(
        tuple(
            sum(w * s.keys[i][s.labels.index(label)] for w, s in parts if label in s.labels) / total
            for label in labels
        )
        for i in range(STATES)
    )
    covered = tuple(sum(w * s.covered[i] for w, s in parts) / total for i in range(STATES))
    return _bounded(Shape(groups, keys, labels, covered, sum(w * s.path for w, s in parts) / total))


def _merge(classes: list[TableClass]) -> tuple[TableClass, ...]:
    """One class per (depth, capacity): means weighted by tables, variance within plus between."""
    by_kind: dict[tuple[int, int], list[TableClass]] = {}
    for cls in classes:
        if cls.tables > 0:
            by_kind.setdefault((cls.depth, cls.capacity), []).append(cls)
    merged: list[TableClass] = []
    for (depth, capacity), group in sorted(by_kind.items()):
        if len(group) == 1:
            merged.append(group[0])
            continue
        total = sum(c.tables for c in group)
        live = sum(c.tables * c.live for c in group) / total
        spread = sum(c.tables * (c.spread + (c.live - live) ** 2) for c in group) / total
        tombs = [c.tombs for c in group]
        mean_tombs = sum(c.tables * t for c, t in zip(group, tombs, strict=True)) / total
        tomb_spread = (
            sum(c.tables * (c.tomb_spread + (t - mean_tombs) ** 2) for c, t in zip(group, tombs, strict=True))
            / total
        )
        tomb_cv2 = tomb_spread / mean_tombs**2 if mean_tombs > 0 else 0.0
        luck = sum(c.tables * c.luck for c in group) / total
        if all(c.shape is None for c in group):
            placed = _average_mix([(c.tables, c.placed) for c in group], total)
            added = _average_mix([(c.tables, c.added) for c in group], total)
            merged.append(TableClass(depth, capacity, total, live, spread, None, placed, added, luck))
            continue
        shape = _average_shape([(float(c.tables), c.occupancy()) for c in group], float(total))
        merged.append(TableClass(depth, capacity, total, live, spread, shape, luck=luck, tomb_cv2=tomb_cv2))
    return tuple(merged)


def _pieces(label: Label, count: float, capacity: int) -> Mix:
    """Split one insert's keys for a table into cohorts of about an eighth of its capacity each."""
    lo, hi = label
    parts = max(1, min(8, math.ceil(count / max(1.0, capacity / SLOTS))))
    if hi - lo < parts:
        parts = 1
    edges = [lo + (hi - lo) * i // parts for i in range(parts + 1)]
    return tuple(((edges[i], edges[i + 1]), count / parts) for i in range(parts))


class Filler:
    """Inserts keys into classes of tables; `prune` is Go 1.25+'s tombstone pruning."""

    def __init__(self, prune: bool) -> None:
        self.prune = prune
        self._oldest = 0
        self._events_only = False

    def insert(
        self, classes: tuple[TableClass, ...], keys: int, first: int, oldest: int, events_only: bool = False
    ) -> Growth:
        """Spread keys `first`..`first+keys-1` over the tables (binomially by depth), rebuilding what
        overflows; the live keys before them are those numbered from `oldest`.

        With `events_only` the tables' occupancy after the insert is left out (only the rebuilds and the
        depths count): the machine asks that way when it searches for the moment of the last rebuild.
        """
        out: list[TableClass] = []
        events: Counter[Step] = Counter()
        self._oldest = oldest
        self._events_only = events_only
        for cls in classes:
            share = 2.0**-cls.depth
            self._into(cls, keys * share, keys * share * (1.0 - share), (first, first + keys), out, events)
        return Growth(tuple(out) if events_only else _merge(out), events)

    def _into(
        self,
        cls: TableClass,
        mean: float,
        var: float,
        label: Label,
        out: list[TableClass],
        events: Counter[Step],
    ) -> None:
        """Each table of `cls` gets a normal(mean, var) number of the keys of `label`.

        A rebuilt table's keys are re-placed in slot order, so their ages are well mixed and one cohort
        (all live keys up to the rebuild) describes them.
        """
        if mean <= 0:
            out.append(cls)
            return
        room = self._room(cls, mean, var, label)
        first = Tail.of(mean - room.absorbed, var + room.var)
        second = Tail.of(mean - room.absorbed - room.more, var + room.var) if room.chance > 0 else first
        plain = first.above * (1.0 - room.chance)
        pruned = second.above * room.chance
        rebuilt, luck = binomial_quantile(cls.tables, plain + pruned, cls.luck)
        if rebuilt < cls.tables:
            kept = self._kept(cls, mean, var, room, first, second, label, cls.tables - rebuilt)
            out.append(replace(kept, luck=luck))
        if not rebuilt:
            return
        weight = pruned / (plain + pruned) if plain + pruned > 0 else 0.0
        rest = (1.0 - weight) * first.mean_above + weight * second.mean_above
        rest_var = (1.0 - weight) * first.var_above + weight * second.var_above
        tombs_at = (1.0 - weight) * room.tombs_at + weight * room.tombs_after
        absorbed = room.absorbed + weight * room.more
        limit = growth_limit(cls.capacity)
        live_at = limit - tombs_at
        lo, hi = label
        cut = lo + round((hi - lo) * min(1.0, max(0.0, absorbed / (absorbed + rest))))
        moved = (((self._oldest, cut), live_at),)
        if cls.capacity < MAX_TABLE_CAPACITY:
            events["grow", cls.capacity] += rebuilt
            bigger = TableClass(
                cls.depth, cls.capacity * 2, rebuilt, live_at, tombs_at, placed=moved, luck=luck
            )
            self._into(bigger, rest, rest_var, (cut, hi), out, events)
            return
        events["split", cls.depth] += rebuilt
        halves = TableClass(
            cls.depth + 1,
            MAX_TABLE_CAPACITY,
            2 * rebuilt,
            live_at / 2,
            (live_at + tombs_at) / 4,
            placed=_scaled(moved, 0.5),
            luck=luck,
        )
        self._into(halves, rest / 2, rest_var / 4 + rest / 4, (cut, hi), out, events)

    def _room(self, cls: TableClass, mean: float, var: float, label: Label) -> _Room:
        """How many new keys a table of `cls` takes before it must rebuild."""
        limit = growth_limit(cls.capacity)
        room = limit - cls.live - cls.tombs
        if cls.tombs <= 0:
            return _Room(room, cls.spread, 0.0)
        occupancy = cls.occupancy()
        absorbed, at_room = occupancy.absorb(room, cls.capacity)
        # How the keys a table takes vary with its live keys and with its tombstones: one more live key
        # is one less room; one more tombstone is one less room too, but also more tombstones to reuse.
        step = max(1.0, 0.05 * cls.tombs)
        per_room = (absorbed - occupancy.absorb(room - step, cls.capacity)[0]) / step
        per_tomb = (absorbed - occupancy.with_tombstones(step).absorb(room - step, cls.capacity)[0]) / step
        tombs_var = cls.tombs + cls.tomb_spread
        room_var = per_room**2 * cls.spread + per_tomb**2 * tombs_var
        tombs_at = max(0.0, at_room.tombs)
        base = _Room(absorbed, room_var, tombs_at)
        threshold = cls.capacity / 10
        if not self.prune or tombs_at <= 0:
            return base
        # The tables that run out of room are those with more tombstones than the mean.
        first = Tail.of(mean - absorbed, var + room_var)
        if first.above <= 0:
            return base
        # Of a table's extra tombstones, the share it has not reused when its room runs out is per_tomb.
        total_var = var + room_var
        shift = (
            per_tomb**2 * tombs_var * (first.mean_above - (mean - absorbed)) / total_var if total_var else 0.0
        )
        unneeded = (tombs_at + shift) * at_room.unneeded() / max(1e-9, at_room.tombs)
        spread = math.sqrt(unneeded)
        if spread <= 0:
            return base
        chance = _cdf((unneeded - threshold) / spread)
        if chance <= 1e-6:
            return base
        gone = max(threshold, unneeded + spread * _mills((threshold - unneeded) / spread))
        more, at_second = at_room.pruned(gone).absorb(gone, cls.capacity)
        return replace(base, chance=chance, gone=gone, more=more, tombs_after=max(0.0, at_second.tombs))

    def _kept(
        self,
        cls: TableClass,
        mean: float,
        var: float,
        room: _Room,
        first: Tail,
        second: Tail,
        label: Label,
        kept: int,
    ) -> TableClass:
        """The tables that did not rebuild: each took E[R | no rebuild] keys (R regressed on R - room).

        With pruning, some of them ran out of room, pruned, and went on.
        """
        total_var = var + room.var
        if first.above <= 0.0 or total_var <= 0:
            took, spread = mean, cls.spread + var
        else:
            took = max(0.0, mean + var / total_var * (first.mean_below - (mean - room.absorbed)))
            spread = (cls.spread + var) * first.var_below / total_var
        added = _compact(cls.added + _pieces(label, took, cls.capacity))
        tomb_cv2 = cls.tomb_cv2
        tombs = cls.tombs
        if tombs > 0 and room.absorbed > 0:
            # Tables that got more of the new keys reused more tombstones. A table's surplus of tombstones
            # does not shrink as they are reused: the keys that reuse them sit in full groups, and leave
            # tombstones again when deleted.
            fresh_room = growth_limit(cls.capacity) - cls.live - tombs
            rate = max(0.0, room.absorbed - fresh_room) / room.absorbed
            left = max(1.0, tombs - rate * took)
            tomb_cv2 = (cls.tomb_spread + rate**2 * var + took * rate * (1.0 - rate)) / left**2
        plain = 1.0 - first.above
        survived = first.above * room.chance * (1.0 - second.above)
        if room.gone <= 0 or survived <= 1e-3 * plain or self._events_only:
            return replace(
                cls, tables=kept, live=cls.live + took, spread=spread, added=added, tomb_cv2=tomb_cv2
            )
        window = _window_mean(mean, total_var, room.absorbed, room.absorbed + room.more)
        pieces = _pieces(label, window, cls.capacity)
        after = cls.occupancy()
        for index, (piece, count) in enumerate(pieces):
            if index == round(len(pieces) * room.absorbed / window):
                after = after.pruned(room.gone)
            after, _ = after.fill(count, piece)
        total = plain + survived
        shape = _average_shape(
            [(plain / total, replace(cls, added=added).occupancy()), (survived / total, after)], 1.0
        )
        live = cls.live + (plain * took + survived * window) / total
        return TableClass(
            cls.depth, cls.capacity, kept, live, spread, shape, luck=cls.luck, tomb_cv2=tomb_cv2
        )


@dataclass(frozen=True)
class _Room:
    """Where a table runs out of room: after `absorbed` new keys (variance `var` across tables) with
    `tombs_at` tombstones left; on Go 1.25+ pruning then succeeds with `chance`, making room for `more`
    keys (it prunes `gone` tombstones), after which `tombs_after` tombstones are left."""

    absorbed: float
    var: float
    tombs_at: float
    chance: float = 0.0
    gone: float = 0.0
    more: float = 0.0
    tombs_after: float = 0.0


def _window_mean(mean: float, var: float, low: float, high: float) -> float:
    """E[X | low < X <= high] for X normal(mean, var)."""
    if var <= 0:
        return min(max(mean, low), high)
    sd = math.sqrt(var)
    a, b = (low - mean) / sd, (high - mean) / sd
    mass = _cdf(b) - _cdf(a)
    if mass <= 1e-12:
        return (low + high) / 2
    return min(max(mean + sd * (_pdf(a) - _pdf(b)) / mass, low), high)


def _compact(mix: Mix) -> Mix:
    """Merge neighbouring cohorts of a sequence until at most MAX_COHORTS remain."""
    items = list(mix)
    while len(items) > MAX_COHORTS:
        pick = min(range(len(items) - 1), key=lambda i: items[i][1] + items[i + 1][1])
        (a_lo, _), a_count = items[pick]
        (_, b_hi), b_count = items[pick + 1]
        items[pick : pick + 2] = [((a_lo, b_hi), a_count + b_count)]
    return tuple(items)


def delete_below(
    classes: tuple[TableClass, ...], cut: int, fraction: float, luck: float
) -> tuple[TableClass, ...]:
    """Delete the keys numbered below `cut` (`fraction` of the live ones) from every table; `luck` picks
    where within the model's own error the tombstones made fall."""
    if fraction <= 0:
        return classes
    out = []
    bias = TOMBSTONE_SHORTFALL + MODEL_ERROR * _probit(luck)
    for cls in classes:
        shape = cls.occupancy().delete_below(cut)
        shape = shape.with_tombstones(bias * max(0.0, shape.tombs - cls.tombs))
        # Tables holding one standard deviation more keys have this many more keys in full groups.
        slope = _closed_keys_slope(cls.capacity // SLOTS, cls.live, math.sqrt(cls.spread))
        extra = fraction * slope * math.sqrt(cls.spread)
        tombs = shape.tombs
        # Which deleted keys sat in full groups is itself binomial.
        deleted = cls.live * fraction
        made = max(0.0, tombs - cls.tombs)
        chance = min(1.0, made / deleted) if deleted > 0 else 0.0
        tomb_spread = (math.sqrt(cls.tomb_spread) + extra) ** 2 + deleted * chance * (1.0 - chance)
        tomb_cv2 = tomb_spread / tombs**2 if tombs > 0 else 0.0
        if fraction >= 1.0:
            live, spread = 0.0, 0.0
        else:
            live = cls.live * (1.0 - fraction)
            others = 1.0 - 2.0**-cls.depth  # a lone table loses exactly the deleted keys
            spread = cls.spread * (1.0 - fraction) ** 2 + cls.live * fraction * (1.0 - fraction) * others
        out.append(
            TableClass(
                cls.depth,
                cls.capacity,
                cls.tables,
                live,
                spread,
                shape,
                luck=cls.luck,
                tomb_cv2=tomb_cv2,
            )
        )
    return tuple(out)


def _closed_keys_slope(groups: int, live: float, sd: float) -> float:
    """How many more of a table's keys sit in full groups per extra key, around `live` +- `sd` keys."""
    if sd < 0.5:
        return 0.0
    low = _pristine(groups, max(0, round(live - sd)))
    high = _pristine(groups, min(groups * SLOTS, round(live + sd)))
    return (_closed_keys(high) - _closed_keys(low)) / (2.0 * sd)


def _closed_keys(shape: Shape) -> float:
    return sum(_ENTRIES[s] * n for s, n in enumerate(shape.groups) if s >= SLOTS)


def cleared(classes: tuple[TableClass, ...]) -> tuple[TableClass, ...]:
    """Every table emptied, tombstones and all; capacities and depths stay."""
    return tuple(TableClass(c.depth, c.capacity, c.tables, 0.0, 0.0, luck=c.luck) for c in classes)


# -- a map filled from empty: the split rule in closed form ---------------------------------------------

SPLIT_AT = growth_limit(MAX_TABLE_CAPACITY) + 1
"""A 1024-slot table splits on the key that would be its 897th."""
_SURE = 9.0
"""Prefix counts this many standard deviations from SPLIT_AT split always or never (at 2^30 prefixes a
9-sigma tail still leaves under one seed in a million)."""
_EXACT_SPREAD = 50.0


def _split_z(keys: int, depth: int) -> tuple[float, float]:
    """How many standard deviations SPLIT_AT lies above the mean count of a depth-bit hash prefix (the
    count is Binomial(keys, 2^-depth)), with its continuity correction; and the count's skewness."""
    p = 2.0**-depth
    mean = keys * p
    var = mean * (1.0 - p)
    if var <= 0.0:
        return (-math.inf if mean >= SPLIT_AT else math.inf), 0.0
    sd = math.sqrt(var)
    return (SPLIT_AT - 0.5 - mean) / sd, (1.0 - 2.0 * p) / sd


def split_chance(keys: int, depth: int) -> float:
    """P(at least SPLIT_AT of `keys` keys share a given depth-bit hash prefix): a normal tail with
    continuity and skew (Cornish-Fisher) corrections."""
    z, skew = _split_z(keys, depth)
    if math.isinf(z):
        return 0.0 if z > 0 else 1.0
    return _cdf(-(z - skew * (z * z - 1.0) / 6.0))


def _split_count(trials: int, chance: float, luck: float) -> int:
    """The `luck` quantile of Binomial(trials, chance): exact while narrow, else normal."""
    spread = trials * chance * (1.0 - chance)
    if spread <= _EXACT_SPREAD:
        return binomial_quantile(trials, chance, luck)[0]
    mean = trials * chance
    return max(0, min(trials, math.ceil(mean + _probit(luck) * math.sqrt(spread) - 0.5)))


def split_profile(keys: int, luck: float) -> tuple[int, ...]:
    """How many tables split at each depth 0, 1, ... (to the deepest that had any) after `keys` inserts
    into a map from empty (no hint, no deletes), at quantile `luck`.

    The table of hash prefix P (d bits) splits once SPLIT_AT keys have prefix P, so the splits at depth d
    are those of the 2^d prefixes that hold SPLIT_AT keys. Their counts are Binomial(keys, 2^-d) and
    negatively correlated, so the number of splits is at most as spread as Binomial(2^d, split_chance).
    Every depth takes the same quantile: that spreads the total of splits as widely as any dependence
    between depths can, and keeps each depth's splits monotone in `keys`.
    """
    profile: list[int] = []
    parents = 1
    for level in range(64):
        z, _ = _split_z(keys, level)
        if z > _SURE:
            break
        most = 2 * parents if level else 1
        splits = most if z < -_SURE else min(most, _split_count(1 << level, split_chance(keys, level), luck))
        if splits <= 0:
            break
        profile.append(splits)
        parents = splits
    return tuple(profile)


def _growth_steps(keys: int) -> int:
    """How many of the first table's deterministic steps `keys` inserts have taken: its group, the table
    it becomes at the 9th key, and each doubling up to 1024 slots."""
    if keys <= SLOTS:
        return min(keys, 1)
    steps, capacity = 2, 2 * SLOTS
    while capacity < MAX_TABLE_CAPACITY and keys > growth_limit(capacity):
        steps, capacity = steps + 1, capacity * 2
    return steps


Signature = tuple[int, tuple[int, ...]]
"""What a map filled from empty has been through: its first table's steps and its splits by depth."""


def filled_signature(keys: int, luck: float) -> Signature:
    return _growth_steps(keys), split_profile(keys, luck)


def filled_events(signature: Signature) -> Counter[Step]:
    """The growth steps behind a signature, as the machine allocates them."""
    steps, profile = signature
    events: Counter[Step] = Counter()
    kinds: list[Step] = [("group", 0), ("table", 0)]
    kinds += [("grow", SLOTS << k) for k in range(1, MAX_TABLE_CAPACITY.bit_length() - SLOTS.bit_length())]
    for step in kinds[:steps]:
        events[step] = 1
    for level, splits in enumerate(profile):
        events["split", level] = splits
        events["dir", 2 << level] = 1
    return events

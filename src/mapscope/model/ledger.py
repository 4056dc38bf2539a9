"""Bookkeeping of a map's heap objects: what is live, what was allocated in total, and the peak.

Map machines call `allocate` and `release` at the moment the runtime allocates an object or drops its
last reference. `peak` is the largest live size seen right after a structural allocation (e.g. old and
new arrays together), which is where the oracle reads the heap during an operation.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapscope.model.records import Action, Cause, Event


@dataclass
class _Account:
    """Live objects of one kind; all objects of an account have the same size, so parts can be freed."""

    cause: Cause
    objects: int = 0
    bytes_each: int = 0
    scan_each: int = 0


class Ledger:
    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}
        self.retained = 0
        self.gc_scan = 0
        self.total_alloc = 0
        self.mallocs = 0
        self.peak = 0
        self.events: list[Event] = []
        self.op_index = 0
        self.entries = 0

    def _event(self, action: Action, cause: Cause, reason: str, objects: int, nbytes: int) -> None:
        last = self.events[-1] if self.events else None
        if (
            last is not None
            and last.op_index == self.op_index
            and (last.action, last.cause, last.reason) == (action, cause, reason)
        ):
            self.events[-1] = Event(
                last.op_index,
                last.entries,
                action,
                cause,
                reason,
                last.objects + objects,
                last.bytes + nbytes,
            )
            return
        self.events.append(Event(self.op_index, self.entries, action, cause, reason, objects, nbytes))

    def allocate(
        self,
        account: str,
        cause: Cause,
        reason: str,
        *,
        objects: int,
        bytes_each: int,
        scan_each: int = 0,
        mallocs: int | None = None,
        structural: bool = True,
    ) -> None:
        """Record `objects` allocations of `bytes_each` heap bytes (size-class rounded).

        Structural allocations (arrays, tables, overflow buckets) are the moments a peak is read at;
        per-entry objects only add to what is live.
        """
        if objects <= 0:
            # A tiny box that fits the current block is an allocation without a new block.
            self.mallocs += max(0, mallocs or 0)
            return
        held = self._accounts.setdefault(account, _Account(cause, 0, bytes_each, scan_each))
        if held.objects and (held.bytes_each, held.scan_each) != (bytes_each, scan_each):
            raise ValueError(f"account {account!r} mixes object sizes")
        held.objects += objects
        held.bytes_each, held.scan_each = bytes_each, scan_each
        self.retained += objects * bytes_each
        self.gc_scan += objects * scan_each
        self.total_alloc += objects * bytes_each
        self.mallocs += objects if mallocs is None else mallocs
        if structural:
            self.peak = max(self.peak, self.retained)
        self._event(Action.ALLOC, cause, reason, objects, objects * bytes_each)

    def transient(self, cause: Cause, reason: str, *, objects: int, total_bytes: int) -> None:
        """Objects allocated and dropped again within one step (e.g. the intermediate backing arrays of
        a slice grown by many appends): they count in totals but are never live at a reading."""
        if objects <= 0:
            return
        self.total_alloc += total_bytes
        self.mallocs += objects
        self._event(Action.ALLOC, cause, reason, objects, total_bytes)
        self._event(Action.FREE, cause, reason, objects, total_bytes)

    def release(self, account: str, reason: str, objects: int | None = None) -> None:
        """Drop the last reference to `objects` objects of an account (all of them by default)."""
        held = self._accounts.get(account)
        if held is None or held.objects == 0:
            return
        count = held.objects if objects is None else min(objects, held.objects)
        if count <= 0:
            return
        held.objects -= count
        self.retained -= count * held.bytes_each
        self.gc_scan -= count * held.scan_each
        self._event(Action.FREE, held.cause, reason, count, count * held.bytes_each)

    def live_objects(self, account: str) -> int:
        held = self._accounts.get(account)
        return held.objects if held else 0

    def rename(self, old: str, new: str) -> None:
        """Move an account to a new name (e.g. the current bucket array becoming the old one)."""
        held = self._accounts.pop(old, None)
        if held is not None:
            if self.live_objects(new):
                raise ValueError(f"account {new!r} is still live")
            self._accounts[new] = held

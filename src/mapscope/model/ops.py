"""Operation sequences on one map, shared by the model and the oracle so both run the same workload.

The workload: keys are numbered in the order they are first inserted (0, 1, 2, ...); `insert K` adds the
next K never-seen keys, `delete K` removes the K oldest keys still in the map, `clear` is Go's `clear(m)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from mapscope import limits
from mapscope.counts import CountError, parse_count
from mapscope.errors import MapscopeError


class OpKind(StrEnum):
    INSERT = "insert"
    DELETE = "delete"
    CLEAR = "clear"


@dataclass(frozen=True)
class Op:
    kind: OpKind
    count: int = 0

    def __str__(self) -> str:
        return self.kind.value if self.kind is OpKind.CLEAR else f"{self.kind.value} {self.count}"


_OP_RE = re.compile(r"^\s*(insert|delete|clear)(?:\s+(\S+))?\s*$", re.IGNORECASE)


def parse_ops(text: str) -> tuple[Op, ...]:
    """Parse `insert 100000; delete 90000; insert 50000; clear`; counts as mapscope.counts reads them."""
    ops: list[Op] = []
    for index, part in enumerate(p for p in text.split(";") if p.strip()):
        if index == limits.OPS_MAX:
            raise MapscopeError("--ops", f"more than {limits.OPS_MAX} operations")
        match = _OP_RE.match(part)
        where = f"operation {index + 1} ({part.strip()!r})"
        if not match:
            raise MapscopeError("--ops", f"{where}: expected 'insert N', 'delete N' or 'clear'")
        kind = OpKind(match.group(1).lower())
        if kind is OpKind.CLEAR:
            if match.group(2):
                raise MapscopeError("--ops", f"{where}: clear takes no count")
            ops.append(Op(kind))
            continue
        if not match.group(2):
            raise MapscopeError("--ops", f"{where}: {kind.value} needs a count")
        try:
            ops.append(Op(kind, parse_count(match.group(2))))
        except CountError as error:
            raise MapscopeError("--ops", f"{where}: {error}") from None
    if not ops:
        raise MapscopeError("--ops", "no operations given")
    return tuple(ops)


def validate(ops: tuple[Op, ...]) -> None:
    """Reject deleting more keys than the map holds at that point."""
    live = 0
    for index, op in enumerate(ops):
        if op.kind is OpKind.INSERT:
            live += op.count
        elif op.kind is OpKind.DELETE:
            if op.count > live:
                raise MapscopeError("--ops", f"operation {index + 1} ({op}): the map holds only {live} keys")
            live -= op.count
        else:
            live = 0

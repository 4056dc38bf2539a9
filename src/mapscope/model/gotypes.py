"""Go types as the compiler lays them out on 64-bit targets (amd64, arm64).

Only what the heap model needs: size, alignment and ptrdata (the length of the prefix that may hold
pointers, i.e. what the garbage collector scans). Built by `mapscope.readers.gotype_source`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PTR_SIZE = 8
# Map keys and values larger than this are stored out of line, one allocation each (both implementations).
MAX_INLINE = 128


class Kind(StrEnum):
    BOOL = "bool"
    INT = "int"
    UINT = "uint"
    FLOAT = "float"
    COMPLEX = "complex"
    STRING = "string"
    UNSAFE_POINTER = "unsafe.Pointer"
    POINTER = "pointer"
    SLICE = "slice"
    ARRAY = "array"
    STRUCT = "struct"
    MAP = "map"
    CHAN = "chan"
    FUNC = "func"
    INTERFACE = "interface"


# Kinds whose values are a single pointer: an interface holds them directly, with no box.
POINTER_SHAPED = frozenset({Kind.POINTER, Kind.UNSAFE_POINTER, Kind.MAP, Kind.CHAN, Kind.FUNC})


@dataclass(frozen=True)
class Field:
    name: str
    type: GoType
    offset: int


@dataclass(frozen=True)
class GoType:
    """One Go type. `name` is how Go would spell it (named types keep their name)."""

    kind: Kind
    name: str
    size: int
    align: int
    ptrdata: int
    elem: GoType | None = None
    key: GoType | None = None
    length: int = 0
    fields: tuple[Field, ...] = ()
    empty_interface: bool = False

    @property
    def pointer_free(self) -> bool:
        return self.ptrdata == 0

    @property
    def is_interface(self) -> bool:
        return self.kind is Kind.INTERFACE


@dataclass(frozen=True)
class MapType:
    """A `map[K]V` type: the only kind of type the map model accepts."""

    key: GoType
    elem: GoType

    @property
    def name(self) -> str:
        return f"map[{self.key.name}]{self.elem.name}"

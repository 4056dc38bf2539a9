"""Using the profiled binary: which one (given, or the one the profile names), whether it is the right
build, and what it adds: full frames for legacy text, call targets for every profile.

A profile names its binary in its main mapping (the proto's first mapping, the legacy text's memory
map) and, from Go 1.24 on, the binary's GNU build ID. A binary is trusted when that build ID (GNU or Go)
matches, or, when the profile carries none (Go 1.22 writes an empty one), when the binary's innermost
frame (function and line) agrees with the profile's own names (`#` lines or proto functions) at every
one of its first 500 named addresses. A position-independent binary is looked up at the addresses it
was linked at, which the main mapping's start and file offset give.

An explicit --binary that is not a Go ELF binary, or is another build, is an error: google/pprof
only warns and goes on without it, but a report whose frames silently lack what --binary was given
for would mislead. The binary a profile names is used only when it is here and checks out; otherwise
`Profile.symbolization` says why not and what --binary would add.

Legacy Go text stacks list one PC per logical frame (runtime.Callers expands inlined calls, giving each
inlined caller the pc of its call site). Symbolizing follows the runtime's profile.proto writer: a PC
becomes one location with all its inlined frames, and the call-site PCs of those callers that follow it
on the stack are folded into it, so a text profile gets the locations its proto twin would have.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from mapscope.errors import MapscopeError
from mapscope.readers.gobinary import GoBinary
from mapscope.readers.pprof import Function, Line, Location, Locations, Mapping, Profile, make_samples

_SO_FILE = re.compile(r"([.]so$|[.]so[._][0-9]+)")
_U64 = 1 << 64
# How many located addresses are compared with the profile's names when it has no build ID.
_NAME_CHECKS = 500


@dataclasses.dataclass(frozen=True)
class _Check:
    """The outcome of comparing a binary with a profile: `fits` is None when nothing could be compared."""

    fits: bool | None
    why: str


def apply(profile: Profile, binary: Path | None) -> Profile:
    """The profile symbolized with `binary`, or with the binary it names when that is here and fits;
    otherwise the profile with a `symbolization` sentence saying what a binary would add."""
    named = _named_binary(profile)
    if binary is not None:
        opened = GoBinary.open(binary)
        check = _check(profile, opened)
        if check.fits is False:
            raise MapscopeError(str(binary), f"not the binary {profile.source} was written by: {check.why}")
        return _use(profile, opened, check.why, "")
    adds = (
        "call targets"
        if profile.format == "proto"
        else "the runtime's frames, inlined calls and call targets"
    )
    if named is None:
        if not _has_names(profile):
            return _said(profile, f"raw addresses only: --binary BIN would name them ({adds})")
        return _said(profile, f"names from the profile, which names no binary: --binary BIN would add {adds}")
    path = Path(named.filename)
    if not path.is_file():
        return _said(profile, f"names from the profile; the binary it names, {path}, is not here: "
                              f"--binary BIN would add {adds}")  # fmt: skip
    try:
        opened = GoBinary.open(path)
    except MapscopeError as error:
        return _said(profile, f"names from the profile; {path}, which it names, is unusable: {error.problem}")
    check = _check(profile, opened)
    if not check.fits:
        reason = check.why if check.fits is False else check.why + ", so it may be another build"
        return _said(profile, f"names from the profile; {path}, which it names, was not used: {reason}")
    return _use(profile, opened, check.why, ", the binary the profile names")


def _said(profile: Profile, sentence: str) -> Profile:
    return dataclasses.replace(profile, symbolization=sentence)


def _use(profile: Profile, binary: GoBinary, why: str, whose: str) -> Profile:
    linked = _in_binary(profile, binary)
    if profile.format != "proto":
        profile, kept = _resymbolize(profile, binary, linked)
        linked = [linked[row] for row in kept]
        said = f"symbolized with {binary.path}{whose} ({why}), runtime frames and inlined calls included"
    else:
        said = f"names from the profile; call targets from {binary.path}{whose} ({why})"
    rows = [i for i, address in enumerate(profile.locations.address.tolist()) if address]
    targets = binary.callees([linked[i] for i in rows])
    callees = {row: name for row, name in zip(rows, targets, strict=True) if name is not None}
    return dataclasses.replace(profile, callees=callees, symbolization=said)


def _named_binary(profile: Profile) -> Mapping | None:
    """The main binary's mapping: the first one with a file that is no shared library or [pseudo] file."""
    for mapping in profile.mappings:
        file = mapping.filename.replace("(deleted)", "").strip()
        if file and not file.startswith("[") and not _SO_FILE.search(file):
            return mapping
    return None


def _in_binary(profile: Profile, binary: GoBinary) -> list[int]:
    """Each location's address as the binary's own (virtual) address: a position-independent binary is
    loaded elsewhere than it was linked, which the main mapping's start and file offset tell."""
    addresses: list[int] = profile.locations.address.tolist()
    named = _named_binary(profile)
    if named is None:
        return addresses
    delta = binary.link_delta(named.memory_start, named.file_offset)
    index = profile.mappings.index(named)
    if not delta:
        return addresses
    mappings = profile.locations.mapping.tolist()
    return [(a + delta) % _U64 if m == index else a for a, m in zip(addresses, mappings, strict=True)]


def _has_names(profile: Profile) -> bool:
    return bool(profile.locations.line_function.size)


def _check(profile: Profile, binary: GoBinary) -> _Check:
    named = _named_binary(profile)
    if named is not None and named.build_id:
        if binary.matches_build_id(named.build_id):
            kind = "GNU" if named.build_id == binary.gnu_build_id else "Go"
            return _Check(True, f"its {kind} build ID matches the profile's")
        ours = binary.gnu_build_id or binary.go_build_id or "none"
        return _Check(
            False, f"its build ID {_short_id(ours)} differs from the profile's {_short_id(named.build_id)}"
        )
    return _check_names(profile, binary)


def _short_id(build_id: str) -> str:
    return build_id if len(build_id) <= 20 else build_id[:20] + "…"


def _check_names(profile: Profile, binary: GoBinary) -> _Check:
    """Compare the innermost frame (function and line) at located addresses, generic type arguments
    aside: the `#` lines print them as `[...]`."""
    locations = profile.locations
    counts = locations.line_counts()
    rows = np.flatnonzero((counts > 0) & (locations.address > 0))[:_NAME_CHECKS]
    if not rows.size:
        return _Check(None, "the profile has no build ID or names to check it against")
    linked = _in_binary(profile, binary)
    addresses = [linked[row] for row in rows.tolist()]
    first = locations.line_offsets[rows]
    functions = locations.line_function[first].tolist()
    lines = locations.line_number[first].tolist()
    for address, function, line, found in zip(
        addresses, functions, lines, binary.frames(addresses), strict=True
    ):
        theirs = f"{profile.functions[function].name}:{line}"
        ours = f"{found.frames[0].function}:{found.frames[0].line}" if found.frames else "nothing"
        if _generic_shape(ours) != _generic_shape(theirs):
            return _Check(False, f"{address:#x} is {ours} there but {theirs} in the profile")
    return _Check(True, "its functions and lines agree with the profile's")


def _generic_shape(name: str) -> str:
    """A function name with any type arguments shown as `[...]`, as the runtime prints them."""
    start, end = name.find("["), name.rfind("]")
    return name if start < 0 or end <= start else name[:start] + "[...]" + name[end + 1 :]


def _resymbolize(profile: Profile, binary: GoBinary, linked: list[int]) -> tuple[Profile, list[int]]:
    """Legacy text locations named by the binary (`linked`: their addresses in it), with inlined
    callers' call-site PCs folded in; also, for each new location, the row it had."""
    old = profile.locations
    addresses = old.address.tolist()
    symbols = binary.frames(linked)
    row_of = {address: row for row, address in enumerate(linked)}
    parents = [tuple(row_of.get(pc, -1) for pc in found.parents) for found in symbols]
    samples = profile.samples
    offsets = samples.stack_offsets.tolist()
    flat = samples.stack_locations.tolist()
    folded: dict[tuple[int, ...], list[int]] = {}
    new_stacks: list[list[int]] = []
    for i in range(len(samples)):
        key = tuple(flat[offsets[i] : offsets[i + 1]])
        kept = folded.get(key)
        if kept is None:
            kept = folded[key] = _fold(key, parents)
        new_stacks.append(kept)
    # Locations that survive, in order of first use (as the text reader numbers them).
    used: dict[int, int] = {}
    for stack in new_stacks:
        for row in stack:
            used.setdefault(row, len(used))
    functions: list[Function] = []
    function_index: dict[tuple[str, str], int] = {}
    records = []
    for new_row, row in enumerate(used):
        lines = []
        for frame in symbols[row].frames:
            identity = (frame.function, frame.file)
            if identity not in function_index:
                function_index[identity] = len(functions)
                functions.append(Function(len(functions) + 1, frame.function, frame.function, frame.file, 0))
            lines.append(Line(function_index[identity], frame.line, 0))
        mapping = int(old.mapping[row])
        records.append(
            Location(new_row + 1, mapping if mapping >= 0 else None, addresses[row], tuple(lines), False)
        )
    counts = np.array([len(s) for s in new_stacks], dtype=np.int64)
    stack_offsets = np.zeros(len(new_stacks) + 1, dtype=np.int64)
    np.cumsum(counts, out=stack_offsets[1:])
    stack_locations = np.fromiter(
        (used[r] for s in new_stacks for r in s), dtype=np.int32, count=int(counts.sum())
    )
    new_samples = make_samples(
        samples.values,
        stack_offsets,
        stack_locations,
        (samples.label_offsets, samples.label_key, samples.label_str, samples.label_num,
         samples.label_unit, samples.label_kind),
    )  # fmt: skip
    mappings = tuple(
        dataclasses.replace(m, filename=m.filename or str(binary.path), has_functions=True, has_filenames=True,
                            has_line_numbers=True, has_inline_frames=True) if i == 0 else m
        for i, m in enumerate(profile.mappings)
    )  # fmt: skip
    symbolized = dataclasses.replace(
        profile,
        locations=Locations.of(records),
        functions=tuple(functions),
        samples=new_samples,
        mappings=mappings,
    )
    return symbolized, list(used)


def _fold(stack: tuple[int, ...], parents: list[tuple[int, ...]]) -> list[int]:
    """The stack without the call-site PCs of inlined callers that directly follow their callee's PC."""
    kept: list[int] = []
    i = 0
    while i < len(stack):
        row = stack[i]
        kept.append(row)
        i += 1
        for parent in parents[row]:
            if i < len(stack) and stack[i] == parent:
                i += 1
            else:
                break
    return kept

"""A Go binary (ELF, amd64) read in Python: build IDs, Go release, PC -> frames with inlining, call targets.

Why not `go tool addr2line`/`go tool pprof`: those give one frame per PC (the physical function, with the
innermost inlined call's file:line), need a Go toolchain installed, and one at least as new as the binary.
Here the runtime's own symbol table (.gopclntab, the layout every Go since 1.20 writes: magic 0xfffffff1)
is decoded directly, inline tree included, so one PC expands into the frames runtime.CallersFrames would
give it: innermost inlined call first, the physical function last, with the symbol names the runtime
writes into profile.proto (a generic function keeps its shape arguments, `maps.Clone[go.shape...]`).

Layout facts (runtime/symtab.go, runtime/symtabinl.go, internal/abi/symtab.go):
- pcHeader: magic, 2 pad bytes, minLC, ptrSize, nfunc, nfiles, an unused word (textStart up to 1.25),
  then the offsets (from the header) of funcnametab, cutab, filetab, pctab and the func table.
- The func table: nfunc+1 pairs (entry offset from the text start, offset of a _func record); the last
  entry marks the end of the text.
- _func: entryOff, nameOff, args, deferreturn, pcsp, pcfile, pcln, npcdata, cuOffset, startLine (u32/i32
  each), funcID, flag, a pad byte, nfuncdata; then npcdata u32 offsets into pctab and nfuncdata u32
  offsets from moduledata.gofunc.
- A pc-value table is a list of (zig-zag value delta, pc delta * minLC) uvarint pairs, starting from
  value -1 at the function's entry; a value holds for pcs below the running pc.
- PCDATA 2 (InlTreeIndex) gives, per pc, the index of the innermost inlined call (-1: none), in the
  16-byte inlinedCall records FUNCDATA 3 (InlTree) points to: funcID, 3 pad bytes, nameOff, parentPc
  (offset from the entry of an instruction at the call site), startLine. The caller's frame is found by
  looking parentPc up again, until the index is -1 (the physical function).
- The text start and moduledata.gofunc live in runtime.firstmoduledata, which begins with a pointer to
  the pcHeader followed by the funcnametab slice; it is found by that pattern, gofunc as the word after
  `rodata` (the .rodata start), which holds for every release's moduledata layout.

Addresses given to `frames` and `callees` are location addresses as pprof keeps them: a return address
minus one (so the lookup lands on the call instruction, as Frames.Next does).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from capstone import CS_ARCH_X86, CS_MODE_64, Cs
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from mapscope.errors import MapscopeError
from mapscope.readers import go_buildinfo

_GO120_MAGIC = 0xFFFFFFF1
_PCDATA_INL_TREE_INDEX = 2
_FUNCDATA_INL_TREE = 3
_INLINED_CALL = struct.Struct("<B3xiii")
_FUNC_HEAD = struct.Struct("<IiiIIIIIIiBBxB")
_NO_FUNCDATA = 0xFFFFFFFF
# The most of a file read into memory: larger "binaries" are refused rather than loaded.
MAX_BINARY_BYTES = 2 << 30


@dataclass(frozen=True)
class Frame:
    """One source frame: the function's symbol name, its file and line."""

    function: str
    file: str
    line: int


@dataclass(frozen=True)
class Symbolized:
    """What one location address is: its frames innermost first (the physical function last), and for
    each inlined caller the pc of its call site, which runtime.Callers lists as a frame of its own."""

    frames: tuple[Frame, ...]
    parents: tuple[int, ...]


_UNKNOWN = Symbolized((), ())


@dataclass
class _Func:
    """One function's record and its lazily decoded pc-value tables (pcs are offsets from the entry)."""

    entry: int
    end: int
    name_off: int
    pcfile: int
    pcln: int
    cu_offset: int
    inl_index_table: int
    inl_tree: int | None
    tables: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    call_targets: dict[int, int] | None = None


class GoBinary:
    """An opened Go ELF binary. Construct with `open`; everything it reads is decoded on demand."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self._data = data
        try:
            elf = ELFFile(io.BytesIO(data))
            if elf["e_machine"] != "EM_X86_64" or elf.elfclass != 64 or not elf.little_endian:
                raise MapscopeError(str(path), f"not an amd64 ELF binary ({elf['e_machine']})")
            self._segments = [
                (seg["p_vaddr"], seg["p_offset"], seg["p_filesz"], bool(seg["p_flags"] & 1))
                for seg in elf.iter_segments()
                if seg["p_type"] == "PT_LOAD"
            ]
            sections = {s.name: (s["sh_addr"], s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()}
            self.go_build_id = self._note(elf, ".note.go.buildid", "Go", text=True)
            self.gnu_build_id = self._note(elf, ".note.gnu.build-id", "GNU", text=False)
            symbols = self._symbols(elf, ("runtime.text", "go:func.*", "go.func.*"))
        except ELFError as error:
            raise MapscopeError(str(path), f"not a readable ELF file ({error})") from None
        if ".gopclntab" not in sections:
            raise MapscopeError(str(path), "no .gopclntab section: not a Go binary")
        self._pcln_addr, offset, size = sections[".gopclntab"]
        try:
            self._read_header(offset, size)
            self._find_module(sections, symbols)
        except (struct.error, IndexError, ValueError):
            raise MapscopeError(str(path), "corrupt .gopclntab or runtime module data") from None
        self.go_version = go_buildinfo.go_version(path) or ""
        self._funcs: dict[int, _Func] = {}
        self._inline_frames: dict[tuple[int, int], tuple[tuple[Frame, ...], tuple[int, ...]]] = {}
        self._names: dict[int, str] = {}
        self._files: dict[int, str] = {}
        self._disassembler = Cs(CS_ARCH_X86, CS_MODE_64)

    @classmethod
    def open(cls, path: Path) -> GoBinary:
        """Read `path`; MapscopeError (one line) when it is missing, not ELF or not a Go amd64 binary."""
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BINARY_BYTES + 1)
        except FileNotFoundError:
            raise MapscopeError(str(path), "no such binary") from None
        except OSError as error:
            raise MapscopeError(str(path), f"cannot read: {error.strerror or error}") from None
        if len(data) > MAX_BINARY_BYTES:
            raise MapscopeError(str(path), f"larger than {MAX_BINARY_BYTES} bytes")
        if not data.startswith(b"\x7fELF"):
            raise MapscopeError(str(path), "not an ELF binary")
        return cls(path, data)

    # --- identity -------------------------------------------------------------------------------------

    @staticmethod
    def _note(elf: ELFFile, section_name: str, owner: str, text: bool) -> str:
        """The first note of `owner` in the section (pyelftools names the Go note's type after a GNU
        one, so the owner and section are what identify it)."""
        section = elf.get_section_by_name(section_name)
        if section is None or not hasattr(section, "iter_notes"):
            return ""
        for note in section.iter_notes():
            if note["n_name"] == owner:
                desc = note["n_desc"]
                if isinstance(desc, str):
                    return desc
                raw = bytes(desc)
                return raw.decode("utf-8", "replace") if text else raw.hex()
        return ""

    def build_ids(self) -> tuple[str, ...]:
        return tuple(b for b in (self.gnu_build_id, self.go_build_id) if b)

    def matches_build_id(self, build_id: str) -> bool:
        """Whether a profile's mapping build ID names this binary (pprof's mappings carry either kind)."""
        return build_id in self.build_ids()

    @staticmethod
    def _symbols(elf: ELFFile, wanted: Iterable[str]) -> dict[str, int]:
        table = elf.get_section_by_name(".symtab")
        if table is None or not hasattr(table, "get_symbol_by_name"):
            return {}
        found = {}
        for name in wanted:
            symbols = table.get_symbol_by_name(name)
            if symbols:
                found[name] = int(symbols[0]["st_value"])
        return found

    # --- raw reading ----------------------------------------------------------------------------------

    def _file_offset(self, address: int, size: int) -> int:
        for vaddr, offset, filesz, _ in self._segments:
            if vaddr <= address and address + size <= vaddr + filesz:
                return offset + address - vaddr
        raise ValueError(f"address {address:#x} is not in the file")

    def _u32_at(self, address: int) -> int:
        value: int = struct.unpack_from("<I", self._data, self._file_offset(address, 4))[0]
        return value

    def _cstring(self, offset: int) -> str:
        end = self._data.find(b"\0", offset)
        if end < 0:
            raise ValueError("unterminated string")
        return self._data[offset:end].decode("utf-8", "replace")

    def _read_header(self, offset: int, size: int) -> None:
        magic, pad1, pad2, min_lc, ptr_size = struct.unpack_from("<IBBBB", self._data, offset)
        if magic != _GO120_MAGIC or pad1 or pad2 or ptr_size != 8:
            raise MapscopeError(
                str(self.path), f"pclntab magic {magic:#x}: only Go 1.20 and newer binaries are read"
            )
        words = struct.unpack_from("<8Q", self._data, offset + 8)
        self._nfunc = words[0]
        self._min_lc = min_lc
        header_text_start = words[2]
        funcname, cu, filetab, pctab, pcln = words[3:8]
        if max(funcname, cu, filetab, pctab, pcln) >= size or self._nfunc * 8 > size:
            raise ValueError("offsets outside the table")
        self._pcln_offset = offset
        self._pcln_size = size
        self._funcname = offset + funcname
        self._cutab = offset + cu
        self._filetab = offset + filetab
        self._pctab = offset + pctab
        self._functab = offset + pcln
        table = np.frombuffer(self._data, dtype="<u4", count=2 * (self._nfunc + 1), offset=self._functab)
        self._entry_offsets = table[0::2].astype(np.int64)
        self._func_offsets = table[1::2].astype(np.int64)
        if np.any(np.diff(self._entry_offsets) < 0):
            raise ValueError("function entries out of order")
        self._text_start = header_text_start

    def _find_module(self, sections: dict[str, tuple[int, int, int]], symbols: dict[str, int]) -> None:
        """The text start and gofunc, from runtime.firstmoduledata (or the symbol table, if any)."""
        needle = struct.pack("<QQ", self._pcln_addr, self._pcln_addr + self._funcname - self._pcln_offset)
        rodata, _, rodata_size = sections.get(".rodata", (0, 0, 0))
        text, gofunc = None, None
        for name in (".noptrdata", ".data", ".data.rel.ro"):
            if name not in sections:
                continue
            _, start, size = sections[name]
            at = self._data.find(needle, start, start + size)
            if at < 0:
                continue
            words = struct.unpack_from("<64Q", self._data, at)
            text = words[22]
            # `types` may equal the .rodata start too (1.22); `rodata` is the last such word before gofunc.
            for i in range(30, 48):
                if rodata and words[i] == rodata and rodata <= words[i + 1] < rodata + rodata_size:
                    gofunc = words[i + 1]
            break
        text = symbols.get("runtime.text", text)
        gofunc = symbols.get("go:func.*", symbols.get("go.func.*", gofunc))
        if not text or gofunc is None:
            raise MapscopeError(
                str(self.path), "cannot find the runtime's module data (a PIE or stripped binary?)"
            )
        self._text_start = text
        self._gofunc = gofunc

    # --- functions ------------------------------------------------------------------------------------

    def _func_index(self, addresses: np.ndarray) -> np.ndarray:
        """Index into the func table of the function holding each address, -1 outside the text."""
        rel = addresses.astype(np.int64) - self._text_start
        index = np.searchsorted(self._entry_offsets, rel, side="right") - 1
        outside = (rel < 0) | (index >= self._nfunc) | (index < 0)
        result: np.ndarray = np.where(outside, -1, index)
        return result

    def _func(self, index: int) -> _Func:
        cached = self._funcs.get(index)
        if cached is not None:
            return cached
        at = self._functab + int(self._func_offsets[index])
        (entry_off, name_off, _args, _defer, _pcsp, pcfile, pcln, npcdata, cu_offset, _start_line,
         _func_id, _flag, nfuncdata) = _FUNC_HEAD.unpack_from(self._data, at)  # fmt: skip
        after = at + _FUNC_HEAD.size
        inl_index = (
            struct.unpack_from("<I", self._data, after + 4 * _PCDATA_INL_TREE_INDEX)[0]
            if npcdata > _PCDATA_INL_TREE_INDEX
            else 0
        )
        inl_tree = None
        if nfuncdata > _FUNCDATA_INL_TREE:
            off = struct.unpack_from("<I", self._data, after + 4 * npcdata + 4 * _FUNCDATA_INL_TREE)[0]
            if off != _NO_FUNCDATA:
                inl_tree = self._file_offset(self._gofunc + off, _INLINED_CALL.size)
        func = _Func(
            entry=self._text_start + entry_off,
            end=self._text_start + int(self._entry_offsets[index + 1]),
            name_off=name_off,
            pcfile=pcfile,
            pcln=pcln,
            cu_offset=cu_offset,
            inl_index_table=inl_index,
            inl_tree=inl_tree,
        )
        self._funcs[index] = func
        return func

    def _name(self, name_off: int) -> str:
        name = self._names.get(name_off)
        if name is None:
            name = self._names[name_off] = self._cstring(self._funcname + name_off)
        return name

    def _file(self, func: _Func, fileno: int) -> str:
        if fileno < 0:
            return "?"
        slot = self._cutab + 4 * (func.cu_offset + fileno)
        offset: int = struct.unpack_from("<I", self._data, slot)[0]
        if offset == _NO_FUNCDATA:
            return "?"
        name = self._files.get(offset)
        if name is None:
            name = self._files[offset] = self._cstring(self._filetab + offset)
        return name

    def _table(self, func: _Func, table: int) -> tuple[np.ndarray, np.ndarray]:
        """A pc-value table as (end offsets from the entry, values); empty when the function has none."""
        cached = func.tables.get(table)
        if cached is not None:
            return cached
        ends: list[int] = []
        values: list[int] = []
        if table:
            data = self._data
            at = self._pctab + table
            limit = self._pcln_offset + self._pcln_size
            value, pc = -1, 0
            span = func.end - func.entry
            while at < limit:
                delta, at = _uvarint(data, at)
                if delta == 0 and ends:
                    break
                value += -(delta >> 1) - 1 if delta & 1 else delta >> 1
                step, at = _uvarint(data, at)
                pc += step * self._min_lc
                ends.append(pc)
                values.append(value)
                if pc >= span:
                    break
        result = (np.array(ends, dtype=np.int64), np.array(values, dtype=np.int64))
        func.tables[table] = result
        return result

    def _values(self, func: _Func, table: int, offsets: np.ndarray) -> np.ndarray:
        """The table's value at each pc offset (-1 where the table says nothing)."""
        ends, values = self._table(func, table)
        if not ends.size:
            return np.full(offsets.shape, -1, dtype=np.int64)
        slot = np.searchsorted(ends, offsets, side="right")
        found: np.ndarray = np.where(slot < ends.size, values[np.minimum(slot, ends.size - 1)], -1)
        return found

    # --- symbolization --------------------------------------------------------------------------------

    def frames(self, addresses: Sequence[int]) -> list[Symbolized]:
        """For each location address, its frames innermost first (empty when the binary does not know it)."""
        pcs = np.array(addresses, dtype=np.uint64).astype(np.int64)
        result: list[Symbolized] = [_UNKNOWN] * pcs.size
        index = self._func_index(pcs)
        order = np.argsort(index, kind="stable")
        sorted_index = index[order]
        bounds = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1], True])
        try:
            for first, last in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                fi = int(sorted_index[first])
                if fi >= 0:
                    rows = order[first:last]
                    self._frames_of(self._func(fi), pcs[rows], rows.tolist(), result)
        except (struct.error, IndexError, ValueError):
            raise MapscopeError(str(self.path), "corrupt .gopclntab") from None
        return result

    def _frames_of(self, func: _Func, pcs: np.ndarray, rows: list[int], result: list[Symbolized]) -> None:
        offsets = pcs - func.entry
        files = self._values(func, func.pcfile, offsets).tolist()
        lines = self._values(func, func.pcln, offsets).tolist()
        if func.inl_tree is not None and func.inl_index_table:
            inline = self._values(func, func.inl_index_table, offsets).tolist()
        else:
            inline = [-1] * len(rows)
        outer = self._name(func.name_off)
        for row, fileno, line, inl in zip(rows, files, lines, inline, strict=True):
            name = self._name(self._inlined(func, inl)[1]) if inl >= 0 else outer
            leaf = Frame(name, self._file(func, fileno), line)
            if inl < 0:
                result[row] = Symbolized((leaf,), ())
            else:
                callers, parents = self._callers(func, inl)
                result[row] = Symbolized((leaf, *callers), parents)

    def _inlined(self, func: _Func, index: int) -> tuple[int, int, int, int]:
        """(funcID, nameOff, parentPc, startLine) of inlined call `index`."""
        assert func.inl_tree is not None
        record: tuple[int, int, int, int] = _INLINED_CALL.unpack_from(
            self._data, func.inl_tree + _INLINED_CALL.size * index
        )
        return record

    def _callers(self, func: _Func, index: int) -> tuple[tuple[Frame, ...], tuple[int, ...]]:
        """The frames around inlined call `index`, from its caller out to the physical function, and the
        call-site pc of each (what runtime.Callers puts on a stack for them, minus one)."""
        key = (func.entry, index)
        cached = self._inline_frames.get(key)
        if cached is not None:
            return cached
        frames: list[Frame] = []
        parents: list[int] = []
        seen = {index}
        while index >= 0:
            parent_pc = self._inlined(func, index)[2]
            at = np.array([parent_pc], dtype=np.int64)
            caller = int(self._values(func, func.inl_index_table, at)[0])
            fileno = int(self._values(func, func.pcfile, at)[0])
            line = int(self._values(func, func.pcln, at)[0])
            name = self._name(self._inlined(func, caller)[1] if caller >= 0 else func.name_off)
            frames.append(Frame(name, self._file(func, fileno), line))
            parents.append(func.entry + parent_pc)
            if caller in seen:
                raise ValueError("a cycle in the inline tree")
            seen.add(caller)
            index = caller
        result = (tuple(frames), tuple(parents))
        self._inline_frames[key] = result
        return result

    def function_at(self, address: int) -> str | None:
        """The physical function holding `address`."""
        index = int(self._func_index(np.array([address], dtype=np.int64))[0])
        return self._name(self._func(index).name_off) if index >= 0 else None

    # --- call targets ---------------------------------------------------------------------------------

    def callees(self, addresses: Sequence[int]) -> list[str | None]:
        """For each location address (return address - 1): the function a direct CALL ending at the
        return address calls, or None (an indirect call, no call, or an address outside the text)."""
        result: list[str | None] = []
        try:
            for address in addresses:
                ret = address + 1
                index = int(self._func_index(np.array([address], dtype=np.int64))[0])
                if index < 0:
                    result.append(None)
                    continue
                target = self._call_targets(self._func(index)).get(ret)
                result.append(self.function_at(target) if target is not None else None)
        except (struct.error, IndexError, ValueError):
            raise MapscopeError(str(self.path), "corrupt text or .gopclntab") from None
        return result

    def _call_targets(self, func: _Func) -> dict[int, int]:
        """End address -> target of every direct CALL in the function (a linear sweep: Go puts no data
        inside functions, only int3 padding after them)."""
        if func.call_targets is None:
            start = self._file_offset(func.entry, 1)
            code = self._data[start : start + (func.end - func.entry)]
            targets = {}
            for addr, size, mnemonic, operand in self._disassembler.disasm_lite(code, func.entry):
                if mnemonic == "call" and operand.startswith("0x"):
                    targets[addr + size] = int(operand, 16)
            func.call_targets = targets
        return func.call_targets


def _uvarint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
        if shift > 35:
            raise ValueError("varint too long")

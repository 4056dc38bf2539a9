"""A Go binary (ELF, amd64) read in Python: build IDs, Go release, PC -> frames with inlining, call targets.

Why not `go tool addr2line`/`go tool pprof`: those give one frame per PC (the physical function, with the
innermost inlined call's file:line), need a Go toolchain installed, and one at least as new as the binary.
Here the runtime's own symbol table (.gopclntab, the layout every Go since 1.20 writes: magic 0xfffffff1)
is decoded directly, inline tree included, so one PC expands into the frames the runtime's profile.proto
writer gives it: innermost inlined call first, the physical function last, with the symbol names the
runtime writes (a generic function keeps its shape arguments, `maps.Clone[go.shape...]`).

Layout facts (runtime/symtab.go, runtime/symtabinl.go, internal/abi/symtab.go):
- pcHeader: magic, 2 pad bytes, minLC, ptrSize, nfunc, nfiles, an unused word (textStart up to 1.25),
  then the offsets (from the header) of funcnametab, cutab, filetab, pctab and the func table.
- The func table: nfunc+1 pairs of u32 (entry offset from the text start, offset of a _func record);
  the last entry marks the end of the text.
- _func: entryOff, nameOff, args, deferreturn, pcsp, pcfile, pcln, npcdata, cuOffset, startLine (4 bytes
  each), funcID, flag, a pad byte, nfuncdata; then npcdata u32 offsets into pctab and nfuncdata u32
  offsets from moduledata.gofunc.
- A pc-value table is a list of (zig-zag value delta, pc delta / minLC) uvarint pairs, starting from
  value -1 at the function's entry and ending at a zero value delta; a value holds for pcs below the
  running pc. pctab is nothing but such tables, so all its varints are decoded at once.
- PCDATA 2 (InlTreeIndex) gives, per pc, the index of the innermost inlined call (-1: none) in the
  16-byte inlinedCall records FUNCDATA 3 (InlTree) points to: funcID, 3 pad bytes, nameOff, parentPc
  (offset from the entry of an instruction at the call site), startLine. The caller's frame is found by
  looking parentPc up again, until the index is -1 (the physical function).
- The text start and moduledata.gofunc live in runtime.firstmoduledata (.noptrdata, or .go.module from
  1.27 on), which begins with a pointer to the pcHeader followed by the funcnametab slice; it is found by
  that pattern, gofunc as the word after `rodata` (the .rodata start), which holds for every release's
  moduledata layout. The symbol table (runtime.text, go:func.*) is the fallback.

Addresses given to `frames` and `callees` are location addresses as pprof keeps them: a return address
minus one (so the lookup lands on the call instruction, as runtime.Frames.Next does). Everything is
looked up column-wise with numpy, one pass per inlining depth, and decoded tables are cached.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from capstone import CS_ARCH_X86, CS_MODE_64, Cs
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from mapscope import ranges
from mapscope.errors import MapscopeError
from mapscope.readers import go_buildinfo

_GO120_MAGIC = 0xFFFFFFF1
_PCDATA_INL_TREE_INDEX = 2
_FUNCDATA_INL_TREE = 3
_FUNC_HEAD_SIZE = 44
_INLINED_CALL_SIZE = 16
_NONE_U32 = 0xFFFFFFFF
_CALL_REL32 = 0xE8
_CALL_SIZE = 5
# Deeper inlining than this is taken as a corrupt inline tree (the compiler's budget keeps it far lower).
_MAX_INLINE_DEPTH = 100
# The most of a file read into memory: larger "binaries" are refused rather than loaded.
MAX_BINARY_BYTES = 2 << 30


class Frame(NamedTuple):
    """One source frame: the function's symbol name, its file and line (a tuple: made by the 100k)."""

    function: str
    file: str
    line: int


class Symbolized(NamedTuple):
    """What one location address is: its frames innermost first (the physical function last), and for
    each inlined caller the pc of its call site, which runtime.Callers lists as a frame of its own."""

    frames: tuple[Frame, ...]
    parents: tuple[int, ...]


_UNKNOWN = Symbolized((), ())


@dataclass(frozen=True)
class _Funcs:
    """_func fields of some functions, column-wise (file offsets for the inline trees; -1: none)."""

    entry: np.ndarray
    name_off: np.ndarray
    pcfile: np.ndarray
    pcln: np.ndarray
    cu_offset: np.ndarray
    inl_index: np.ndarray
    inl_tree: np.ndarray


class GoBinary:
    """An opened Go ELF binary. Construct with `open`; tables are decoded on first use and kept."""

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = path
        self._data = data
        self._bytes = np.frombuffer(data, dtype=np.uint8)
        try:
            elf = ELFFile(io.BytesIO(data))
            if elf["e_machine"] != "EM_X86_64" or elf.elfclass != 64 or not elf.little_endian:
                raise MapscopeError(str(path), f"not an amd64 ELF binary ({elf['e_machine']})")
            self._segments = [
                (int(seg["p_vaddr"]), int(seg["p_offset"]), int(seg["p_filesz"]))
                for seg in elf.iter_segments()
                if seg["p_type"] == "PT_LOAD"
            ]
            sections = {s.name: (s["sh_addr"], s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()}
            self.go_build_id = _note(elf, ".note.go.buildid", "Go", text=True)
            self.gnu_build_id = _note(elf, ".note.gnu.build-id", "GNU", text=False)
            # Older releases put the table of a position-independent binary in a relocatable section.
            name = next((n for n in (".gopclntab", ".data.rel.ro.gopclntab") if n in sections), None)
            if name is None:
                raise MapscopeError(str(path), "no .gopclntab section: not a Go binary")
            self._pcln_addr, offset, size = sections[name]
            self._read_header(offset, size)
            text, gofunc = self._module(sections)
            if text is None or gofunc is None:
                text, gofunc = _symbols(elf, text, gofunc)
        except ELFError as error:
            raise MapscopeError(str(path), f"not a readable ELF file ({error})") from None
        except (struct.error, IndexError, ValueError):
            raise MapscopeError(str(path), "corrupt .gopclntab or runtime module data") from None
        if text is None or gofunc is None:
            raise MapscopeError(str(path), "cannot find the runtime's module data (a PIE binary?)")
        self._text_start = text
        self._gofunc = gofunc
        self.go_version = go_buildinfo.go_version(path) or ""
        self._varint_start: np.ndarray | None = None
        self._varint_value = np.zeros(0, dtype=np.int64)
        self._zeros = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        # Decoded pc-value tables, concatenated: keys (table number << 32 | end pc offset), values,
        # and per table number where its entries stop; table_offsets (sorted pctab offsets) and
        # table_numbers say which number each decoded table has.
        self._table_offsets = np.zeros(0, dtype=np.int64)
        self._table_numbers = np.zeros(0, dtype=np.int64)
        self._table_keys = np.zeros(0, dtype=np.int64)
        self._table_values = np.zeros(0, dtype=np.int64)
        self._table_stop = np.zeros(0, dtype=np.int64)
        self._strings: dict[int, str] = {}
        self._frame_cache: dict[tuple[int, int, int], Frame] = {}
        self._alone: dict[Frame, Symbolized] = {}
        self._disassembler = Cs(CS_ARCH_X86, CS_MODE_64)

    @classmethod
    def open(cls, path: Path) -> GoBinary:
        """Read `path`; MapscopeError (one line) when it is missing, not ELF or not a Go amd64 binary."""
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BINARY_BYTES + 1)
        except FileNotFoundError:
            raise MapscopeError(str(path), "no such binary") from None
        except IsADirectoryError:
            raise MapscopeError(str(path), "a directory, not a binary") from None
        except OSError as error:
            raise MapscopeError(str(path), f"cannot read: {error.strerror or error}") from None
        if len(data) > MAX_BINARY_BYTES:
            raise MapscopeError(str(path), f"larger than {MAX_BINARY_BYTES} bytes")
        if not data.startswith(b"\x7fELF"):
            raise MapscopeError(str(path), "not an ELF binary")
        return cls(path, data)

    def text_range(self) -> tuple[int, int]:
        """[start, end) of the code the symbol table covers."""
        return self._text_start, self._text_start + int(self._entry_offsets[-1])

    def link_delta(self, memory_start: int, file_offset: int) -> int:
        """What to add to a runtime address in a mapping of this file (loaded at memory_start from
        file_offset) to get the address the binary was linked at: 0 unless it is position-independent."""
        for vaddr, offset, filesz in self._segments:
            if offset <= file_offset < offset + max(filesz, 1):
                return vaddr - offset + file_offset - memory_start
        return 0

    def build_ids(self) -> tuple[str, ...]:
        return tuple(b for b in (self.gnu_build_id, self.go_build_id) if b)

    def matches_build_id(self, build_id: str) -> bool:
        """Whether a profile's mapping build ID names this binary (pprof's mappings carry either kind)."""
        return build_id in self.build_ids()

    # --- layout ---------------------------------------------------------------------------------------

    def _read_header(self, offset: int, size: int) -> None:
        magic, pad1, pad2, min_lc, ptr_size = struct.unpack_from("<IBBBB", self._data, offset)
        if magic != _GO120_MAGIC or pad1 or pad2 or ptr_size != 8:
            raise MapscopeError(
                str(self.path), f"pclntab magic {magic:#x}: only Go 1.20 and newer binaries are read"
            )
        words = struct.unpack_from("<8Q", self._data, offset + 8)
        nfunc = words[0]
        funcname, cu, filetab, pctab, pcln = words[3:8]
        if not pctab < pcln < size or max(funcname, cu, filetab) >= size or 8 * (nfunc + 1) > size - pcln:
            raise ValueError("offsets outside the table")
        self._nfunc = nfunc
        self._min_lc = min_lc
        self._pcln_offset = offset
        self._funcname = offset + funcname
        self._cutab = offset + cu
        self._filetab = offset + filetab
        self._pctab = offset + pctab
        self._functab = offset + pcln
        table = np.frombuffer(self._data, dtype="<u4", count=2 * (nfunc + 1), offset=self._functab)
        self._entry_offsets = table[0::2].astype(np.int64)
        self._func_offsets = table[1::2].astype(np.int64)
        if np.any(np.diff(self._entry_offsets) < 0):
            raise ValueError("function entries out of order")

    def _module(self, sections: dict[str, tuple[int, int, int]]) -> tuple[int | None, int | None]:
        """The text start and gofunc, from runtime.firstmoduledata."""
        needle = struct.pack("<QQ", self._pcln_addr, self._pcln_addr + self._funcname - self._pcln_offset)
        rodata = sections.get(".rodata", (0, 0, 0))[0]
        for name in (".go.module", ".noptrdata", ".data", ".data.rel.ro"):
            if name not in sections:
                continue
            _, start, size = sections[name]
            at = self._data.find(needle, start, start + size)
            if at < 0:
                continue
            words = struct.unpack_from("<64Q", self._data, at)
            gofunc = None
            # `types` may equal the .rodata start too (up to 1.26); `rodata` is the last such word, and
            # gofunc (in .rodata, or from 1.27 on in .gopclntab) follows it.
            for i in range(30, 48):
                if rodata and words[i] == rodata and self._in_file(words[i + 1]):
                    gofunc = words[i + 1]
            return words[22], gofunc
        return None, None

    def _in_file(self, address: int) -> bool:
        return any(vaddr <= address < vaddr + filesz for vaddr, _, filesz in self._segments)

    def _file_offsets(self, addresses: np.ndarray, size: int) -> np.ndarray:
        """File offset of each virtual address whose `size` bytes the file holds; -1 elsewhere."""
        result = np.full(addresses.shape, -1, dtype=np.int64)
        for vaddr, offset, filesz in self._segments:
            inside = (addresses >= vaddr) & (addresses + size <= vaddr + filesz)
            result[inside] = addresses[inside] - vaddr + offset
        return result

    def _u32(self, offsets: np.ndarray) -> np.ndarray:
        """Little-endian u32 at each file offset (bounds checked: ValueError when outside the file)."""
        if offsets.size and (int(offsets.min()) < 0 or int(offsets.max()) + 4 > self._bytes.size):
            raise ValueError("a table points outside the file")
        b = self._bytes
        value: np.ndarray = (
            b[offsets].astype(np.int64)
            | b[offsets + 1].astype(np.int64) << 8
            | b[offsets + 2].astype(np.int64) << 16
            | b[offsets + 3].astype(np.int64) << 24
        )
        return value

    def _i32(self, offsets: np.ndarray) -> np.ndarray:
        value = self._u32(offsets)
        signed: np.ndarray = np.where(value >= 1 << 31, value - (1 << 32), value)
        return signed

    def _string(self, offset: int) -> str:
        text = self._strings.get(offset)
        if text is None:
            end = self._data.find(b"\0", offset)
            if offset < 0 or end < 0:
                raise ValueError("unterminated string")
            text = self._strings[offset] = self._data[offset:end].decode("utf-8", "replace")
        return text

    def _func_index(self, addresses: np.ndarray) -> np.ndarray:
        """Index into the func table of the function holding each address, -1 outside the text."""
        rel = addresses - self._text_start
        index = np.searchsorted(self._entry_offsets, rel, side="right") - 1
        outside = (rel < 0) | (index >= self._nfunc) | (index < 0)
        result: np.ndarray = np.where(outside, -1, index)
        return result

    def _funcs(self, index: np.ndarray) -> _Funcs:
        at = self._functab + self._func_offsets[index]
        npcdata = self._u32(at + 28)
        nfuncdata = self._bytes[at + 43].astype(np.int64)
        has_inl_index = npcdata > _PCDATA_INL_TREE_INDEX
        inl_index = np.where(has_inl_index, self._u32(np.where(has_inl_index, at + 44 + 8, at)), 0)
        has_tree = nfuncdata > _FUNCDATA_INL_TREE
        slot = at + _FUNC_HEAD_SIZE + 4 * npcdata + 4 * _FUNCDATA_INL_TREE
        tree_off = np.where(has_tree, self._u32(np.where(has_tree, slot, at)), _NONE_U32)
        tree = np.where(tree_off != _NONE_U32, self._file_offsets(self._gofunc + tree_off, 1), -1)
        return _Funcs(
            entry=self._text_start + self._u32(at),
            name_off=self._i32(at + 4),
            pcfile=self._u32(at + 20),
            pcln=self._u32(at + 24),
            cu_offset=self._u32(at + 32),
            inl_index=np.where(tree >= 0, inl_index, 0),
            inl_tree=tree,
        )

    # --- pc-value tables ------------------------------------------------------------------------------

    def _decode_varints(self) -> None:
        """Every uvarint of pctab (which holds nothing else): start byte offsets and values."""
        buf = self._bytes[self._pctab : self._functab]
        ends = np.flatnonzero(buf < 0x80) + 1
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1]
        values = (buf[starts] & 0x7F).astype(np.int64)
        longer = np.flatnonzero(ends - starts > 1)
        for k in range(1, 5):
            if not longer.size:
                break
            values[longer] |= (buf[starts[longer] + k] & 0x7F).astype(np.int64) << (7 * k)
            longer = longer[ends[longer] - starts[longer] > k + 1]
        self._varint_start = starts + self._pctab
        self._varint_value = values
        zeros = np.flatnonzero(values == 0)
        odd = (zeros & 1).astype(bool)
        self._zeros = (zeros[~odd], zeros[odd])

    def _decode_tables(self, offsets: np.ndarray) -> None:
        """Decode and keep the tables at these pctab offsets (not yet decoded, non-zero)."""
        if self._varint_start is None:
            self._decode_varints()
        assert self._varint_start is not None
        starts, values = self._varint_start, self._varint_value
        n = values.size
        first = np.searchsorted(starts, self._pctab + offsets)
        valid = first < n
        valid[valid] = starts[first[valid]] == self._pctab + offsets[valid]
        first = np.where(valid, first, n)
        stop = np.full(first.shape, n, dtype=np.int64)
        for parity, zeros in enumerate(self._zeros):
            mine = first % 2 == parity
            found = np.searchsorted(zeros, first[mine], side="right")
            stop[mine] = np.where(found < zeros.size, zeros[np.minimum(found, zeros.size - 1)], n)
        pairs = np.where(valid, (np.minimum(stop, n - 1) - first + 1) // 2, 0)
        owner = np.repeat(np.arange(offsets.size), pairs)
        at = ranges.expand(np.zeros_like(pairs), pairs) * 2 + np.repeat(first, pairs)
        delta = values[at]
        step = values[at + 1] * self._min_lc
        change = np.where(delta & 1, -(delta >> 1) - 1, delta >> 1)
        bounds = ranges.offsets(pairs)
        value_sum, pc_sum = np.cumsum(change), np.cumsum(step)
        before = np.r_[0, value_sum][bounds[:-1]]
        pc_before = np.r_[0, pc_sum][bounds[:-1]]
        known = self._table_stop.size
        keys = (known + owner) << 32 | (pc_sum - np.repeat(pc_before, pairs))
        base = self._table_keys.size
        every = np.r_[self._table_offsets, offsets]
        numbers = np.r_[self._table_numbers, np.arange(known, known + offsets.size)]
        order = np.argsort(every, kind="stable")
        self._table_offsets, self._table_numbers = every[order], numbers[order]
        self._table_keys = np.r_[self._table_keys, keys]
        self._table_values = np.r_[self._table_values, value_sum - np.repeat(before, pairs) - 1]
        self._table_stop = np.r_[self._table_stop, base + bounds[1:]]

    def _lookup(self, tables: np.ndarray, pc_offsets: np.ndarray) -> np.ndarray:
        """The value of table `tables[i]` (a pctab offset, 0: none) at `pc_offsets[i]`; -1 if none."""
        has = tables > 0
        slot = np.searchsorted(self._table_offsets, tables)
        inside = slot < self._table_offsets.size
        decoded = np.zeros(tables.shape, dtype=bool)
        decoded[inside] = self._table_offsets[slot[inside]] == tables[inside]
        new = np.unique(tables[has & ~decoded])
        if new.size:
            self._decode_tables(new)
            slot = np.searchsorted(self._table_offsets, tables)
        numbers = np.full(tables.shape, -1, dtype=np.int64)
        numbers[has] = self._table_numbers[slot[has]]
        result = np.full(tables.shape, -1, dtype=np.int64)
        ok = (numbers >= 0) & (pc_offsets >= 0) & (pc_offsets < 1 << 32)
        if ok.any():
            keys = numbers[ok] << 32 | pc_offsets[ok]
            slot = np.searchsorted(self._table_keys, keys, side="right")
            inside = slot < self._table_stop[numbers[ok]]
            values = self._table_values[np.minimum(slot, max(self._table_values.size - 1, 0))]
            result[ok] = np.where(inside, values, -1)
        return result

    # --- symbolization --------------------------------------------------------------------------------

    def frames(self, addresses: Sequence[int]) -> list[Symbolized]:
        """For each location address, its frames innermost first (empty when the binary does not know it)."""
        try:
            return self._frames(np.array(addresses, dtype=np.uint64).astype(np.int64))
        except (IndexError, ValueError):
            raise MapscopeError(str(self.path), "corrupt .gopclntab") from None

    def _frames(self, pcs: np.ndarray) -> list[Symbolized]:
        index = self._func_index(pcs)
        known = np.flatnonzero(index >= 0)
        result = [_UNKNOWN] * pcs.size
        if not known.size:
            return result
        unique, row_func = np.unique(index[known], return_inverse=True)
        funcs = self._funcs(unique)
        entry = funcs.entry[row_func]
        tree = funcs.inl_tree[row_func]
        inl_table = funcs.inl_index[row_func]
        # Level 0 is the pc itself; level d+1 the call site of level d's inlined call.
        at = pcs[known] - entry
        levels: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        rows = np.arange(known.size)
        for _ in range(_MAX_INLINE_DEPTH):
            func = row_func[rows]
            inl = self._lookup(inl_table[rows], at)
            fileno = self._lookup(funcs.pcfile[func], at)
            line = self._lookup(funcs.pcln[func], at)
            inlined = inl >= 0
            record = tree[rows] + _INLINED_CALL_SIZE * np.where(inlined, inl, 0)
            name = np.where(inlined, self._i32(np.where(inlined, record + 4, 0)), funcs.name_off[func])
            levels.append((rows, name, self._file_offsets_of(funcs.cu_offset[func], fileno), line, at))
            rows, at = rows[inlined], self._i32(record[inlined] + 8)
            if not rows.size:
                break
        else:
            raise ValueError("inlining deeper than any compiler makes it")
        _, name, file, line, _ = levels[0]
        leaves = self._frame_objects(name.tolist(), file.tolist(), line.tolist())
        outer: dict[int, tuple[list[Frame], list[int]]] = {}
        for level_rows, name, file, line, offset in levels[1:]:
            frames = self._frame_objects(name.tolist(), file.tolist(), line.tolist())
            sites = (entry[level_rows] + offset).tolist()
            for row, frame, site in zip(level_rows.tolist(), frames, sites, strict=True):
                chain = outer.setdefault(row, ([], []))
                chain[0].append(frame)
                chain[1].append(site)
        alone = self._alone
        found = [alone.get(leaf) or alone.setdefault(leaf, Symbolized((leaf,), ())) for leaf in leaves]
        for row, (callers, sites) in outer.items():
            found[row] = Symbolized((leaves[row], *callers), tuple(sites))
        if known.size == pcs.size:
            return found
        for at_row, symbolized in zip(known.tolist(), found, strict=True):
            result[at_row] = symbolized
        return result

    def _file_offsets_of(self, cu_offset: np.ndarray, fileno: np.ndarray) -> np.ndarray:
        """filetab offsets of file numbers (through the compilation unit's cutab); -1 for unknown."""
        known = (fileno >= 0) & (cu_offset != _NONE_U32)
        slot = np.where(known, self._cutab + 4 * (cu_offset + fileno), self._cutab)
        offset = self._u32(slot)
        result: np.ndarray = np.where(known & (offset != _NONE_U32), offset, -1)
        return result

    def _frame_objects(self, names: list[int], files: list[int], lines: list[int]) -> list[Frame]:
        frames = []
        cache = self._frame_cache
        for key in zip(names, files, lines, strict=True):
            frame = cache.get(key)
            if frame is None:
                name, file, line = key
                text = self._string(self._filetab + file) if file >= 0 else ""
                frame = cache[key] = Frame(self._string(self._funcname + name), text, line)
            frames.append(frame)
        return frames

    # --- call targets ---------------------------------------------------------------------------------

    def callees(self, addresses: Sequence[int]) -> list[str | None]:
        """For each location address (a return address minus one): the function that the direct CALL
        ending at the return address calls, or None (an indirect call, or no call there).

        A direct call on amd64 is E8 and a 32-bit displacement, always to a function's entry; a candidate
        whose displacement lands anywhere else is bytes of another instruction. Capstone confirms each
        one decodes as that call."""
        ret = np.array(addresses, dtype=np.uint64).astype(np.int64) + 1
        result: list[str | None] = [None] * ret.size
        try:
            at = self._file_offsets(ret - _CALL_SIZE, _CALL_SIZE)
            candidate = np.flatnonzero(at >= 0)
            candidate = candidate[self._bytes[at[candidate]] == _CALL_REL32]
            target = ret[candidate] + self._i32(at[candidate] + 1)
            index = self._func_index(target)
            hit = index >= 0
            hit[hit] = self._text_start + self._entry_offsets[index[hit]] == target[hit]
            candidate, target, index = candidate[hit], target[hit], index[hit]
            names = self._i32(self._functab + self._func_offsets[index] + 4).tolist() if index.size else []
            for row, goal, name in zip(candidate.tolist(), target.tolist(), names, strict=True):
                start, site = int(at[row]), int(ret[row]) - _CALL_SIZE
                code = self._data[start : start + _CALL_SIZE]
                decoded = next(self._disassembler.disasm_lite(code, site), None)
                if decoded is not None and decoded[1:] == (_CALL_SIZE, "call", f"{goal:#x}"):
                    result[row] = self._string(self._funcname + name)
        except (IndexError, ValueError):
            raise MapscopeError(str(self.path), "corrupt text or .gopclntab") from None
        return result


def _note(elf: ELFFile, section_name: str, owner: str, text: bool) -> str:
    """The first note of `owner` in the section (pyelftools names the Go note's type after a GNU one,
    so the owner and section are what identify it)."""
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


def _symbols(elf: ELFFile, text: int | None, gofunc: int | None) -> tuple[int | None, int | None]:
    """runtime.text and go:func.* from the symbol table, for what the module data did not give."""
    table = elf.get_section_by_name(".symtab")
    if table is None or not hasattr(table, "iter_symbols"):
        return text, gofunc
    for symbol in table.iter_symbols():
        if symbol.name == "runtime.text" and text is None:
            text = int(symbol["st_value"])
        elif symbol.name in ("go:func.*", "go.func.*") and gofunc is None:
            gofunc = int(symbol["st_value"])
    return text, gofunc

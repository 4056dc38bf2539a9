"""Parsing a batch of text lines of one known layout at once, with numpy instead of a loop per line.

A `LineCursor` walks every line of a batch through the same layout, literal text and numbers in turn. Each
step is a handful of numpy operations over the whole batch: eight bytes of every line are read as one
unaligned little-endian 64-bit word, tested byte-wise with SWAR arithmetic (SIMD within a register), and
a number's digits are folded into its value with three multiplications. A regular expression engine
spends about ten interpreted steps per character; this spends a few machine operations per field.

Lines that do not fit the layout end with `ok` False and meaningless values: callers hand those to an
exact per-line parser. So the cursor may refuse what is valid (numbers longer than it reads, below) but
must never accept what a line-by-line regular expression would refuse.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from mapscope.arrays import Bools, Floats, Ints, Small, Words

# A cursor moves on past the end of a line that does not fit (by at most its layout's literals and
# longest numbers, a few hundred bytes), so reads need no bounds checks with this much padding.
PAD: Final = 1024
PADDING: Final = bytes(PAD)
_HIGH: Final = np.uint64(0x8080808080808080)
_LOW7: Final = np.uint64(0x7F7F7F7F7F7F7F7F)
_ZEROS: Final = np.uint64(0x3030303030303030)
_TENS: Final = np.uint64(0x0A0A0A0A0A0A0A0A)
# Bytes 0..k-1 of a word (the first k characters), for k = 0..8.
_FIRST: Final = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_SHIFT: Final = np.array([8 * (8 - max(k, 1)) for k in range(9)], dtype=np.uint64)
_POW10: Final = np.array([10**k for k in range(19)], dtype=np.uint64)


def _ms_shapes() -> tuple[Bools, Small, Ints, Words]:
    """By length * 9 + dot index (8: no dot) of a duration's text: whether `\\d+(\\.\\d{1,3})?` of
    at most 7 characters has that shape, its digit count, its decimals and microseconds per unit."""
    valid, digits, decimals, scale = [], [], [], []
    for length in range(9):
        for at in range(9):
            places = length - 1 - at if at < length else 0
            valid.append(0 < length < 8 and (at >= length or (at >= 1 and 1 <= places <= 3)))
            digits.append(length - 1 if at < length else length)
            decimals.append(min(places, 3))
            scale.append(10 ** (3 - min(places, 3)))
    return (
        np.array(valid, dtype=np.bool_),
        np.array(digits, dtype=np.uint8),
        np.array(decimals, dtype=np.int64),
        np.array(scale, dtype=np.uint64),
    )


_MS_VALID, _MS_DIGITS, _MS_DECIMALS, _MS_SCALE = _ms_shapes()
# Runtime floats, as the per-line parser accepts them: `+8.734396e-001`, `0.25`, `2.3e-05`, NaN, ±Inf.
FLOAT_TEXT: Final = r"[+-]?+(?:\d{1,40}+(?:\.\d{0,40}+)?+(?:e[+-]?+\d{1,4}+)?+|NaN|Inf)"
_FLOAT_CHARS: Final = np.zeros(256, dtype=np.bool_)
_FLOAT_CHARS[list(b"0123456789.e+-NaInf")] = True
# Go's shortest float64 form is at most 24 characters (`-1.2345678901234567e-308`); a longer one is left
# to the per-line parser.
_FLOAT_WIDTH: Final = 26


class Buffer:
    """Text with padding around the lines of interest (bytes `first` to `last` of `data`), so that every
    word read near them stays inside, viewed as the 64-bit little-endian word starting at every byte.
    Positions are offsets into `data`."""

    def __init__(self, data: bytes, first: int, last: int) -> None:
        if first < PAD or last > len(data) - PAD:
            raise ValueError("a Buffer needs PAD bytes on both sides of its lines")
        self.data = data
        self.bytes = np.frombuffer(data, dtype=np.uint8)
        self.words: Words = np.ndarray((len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
        self.first = first
        self.last = last

    @classmethod
    def of(cls, block: bytes) -> Buffer:
        """A buffer of one block, padded."""
        return cls(PADDING + block + PADDING, PAD, PAD + len(block))

    def word(self, positions: Ints) -> Words:
        """The eight bytes from each position (positions past the block read padding)."""
        return self.words[positions]


def _nondigits(word: Words) -> Words:
    """0x80 in each byte of the word that is not an ASCII digit."""
    value = word ^ _ZEROS  # digits become 0 to 9
    return (((value | _HIGH) - _TENS) | value) & _HIGH


def _equal(word: Words, byte: int) -> Words:
    """0x80 in each byte of the word equal to `byte` (exact: no false hits next to a match)."""
    diff = word ^ np.uint64(byte * 0x0101010101010101)
    return ~(((diff & _LOW7) + _LOW7) | diff | _LOW7)


def _lead(stops: Words) -> Small:
    """How many characters of each word come before the first with 0x80 set in `stops`, 0 to 8."""
    below_first_stop = ~stops & (stops - np.uint64(1))
    count: Small = np.bitwise_count(below_first_stop) >> np.uint8(3)
    return count


def _fold(word: Words, length: Small) -> Words:
    """The value of the decimal digits in the first `length` characters (1 to 8) of each word (0 for a
    word of zero bytes and length 0): right-aligned, then digit pairs, quads and the eight folded by one
    multiplication each (the multiplier holds both place values)."""
    value = (word << _SHIFT[length]) & np.uint64(0x0F0F0F0F0F0F0F0F)
    value = ((value * np.uint64(10 * 256 + 1)) >> np.uint64(8)) & np.uint64(0x00FF00FF00FF00FF)
    value = ((value * np.uint64(100 * 65536 + 1)) >> np.uint64(16)) & np.uint64(0x0000FFFF0000FFFF)
    return (value * np.uint64(10000 * 2**32 + 1)) >> np.uint64(32)


def _float_automaton() -> tuple[Small, Small, Bools]:
    """A DFA for FLOAT_TEXT, matched whole: the class of each byte (NUL ends a text), the transitions
    (state * classes + class) and the accepting states. NUL keeps every state, so texts of any length
    can share one width."""
    classes = np.full(256, 11, dtype=np.uint8)  # anything else
    for code, chars in enumerate(("0123456789", ".", "e", "+", "-", "N", "a", "I", "n", "f")):
        classes[list(chars.encode())] = code
    classes[0] = 10
    digit, dot, e, plus, minus, big_n, small_a, big_i, small_n, small_f, end = range(11)
    start, sign, whole, fraction, after_e, exponent_sign, n, na, nan, i, in_, inf, dead = range(13)
    exponent = (13, 14, 15, 16)  # one to four exponent digits
    states = 17
    table = np.full((states, 12), dead, dtype=np.uint8)
    table[:, end] = np.arange(states)
    moves = {
        start: {plus: sign, minus: sign, digit: whole, big_n: n, big_i: i},
        sign: {digit: whole, big_n: n, big_i: i},
        whole: {digit: whole, dot: fraction, e: after_e},
        fraction: {digit: fraction, e: after_e},
        after_e: {plus: exponent_sign, minus: exponent_sign, digit: exponent[0]},
        exponent_sign: {digit: exponent[0]},
        exponent[0]: {digit: exponent[1]},
        exponent[1]: {digit: exponent[2]},
        exponent[2]: {digit: exponent[3]},
        n: {small_a: na},
        na: {big_n: nan},
        i: {small_n: in_},
        in_: {small_f: inf},
    }
    for state, targets in moves.items():
        for code, target in targets.items():
            table[state, code] = target
    accepting = np.zeros(states, dtype=np.bool_)
    accepting[[whole, fraction, nan, inf, *exponent]] = True
    return classes, table.ravel(), accepting


_FLOAT_CLASSES, _FLOAT_MOVES, _FLOAT_ACCEPTS = _float_automaton()


def _valid_floats(texts: Small) -> Bools:
    """Which rows (texts padded with NUL) are whole runtime floats: the DFA run over all rows at once,
    a column at a time."""
    classes = _FLOAT_CLASSES[texts]
    state = np.zeros(len(texts), dtype=np.uint8)
    for column in range(texts.shape[1]):
        state = _FLOAT_MOVES[state.astype(np.intp) * 12 + classes[:, column]]
    valid: Bools = _FLOAT_ACCEPTS[state]
    return valid


class LineCursor:
    """A position in each line of a batch and whether the line still fits the layout so far.

    Every method takes an optional `where` mask: lines outside it neither move nor change `ok`. Numbers are
    read up to 15 digits (ints) or 8 characters (durations); longer ones make the line not `ok`, which
    sends it to the exact parser.
    """

    def __init__(self, buffer: Buffer, starts: Ints, ends: Ints) -> None:
        self.buffer = buffer
        self.pos = starts.copy()
        self.ends = ends
        self.ok = np.ones(len(starts), dtype=np.bool_)
        # The word a number was read from and where it starts: the literal after a short number is
        # usually inside it, which saves reading memory again.
        self._word: Words | None = None
        self._word_at = starts

    def _advance(self, length: Ints | Small | int, where: Bools | None) -> None:
        self.pos += length if where is None else np.where(where, length, 0)

    def _require(self, condition: Bools, where: Bools | None) -> None:
        self.ok &= condition if where is None else (condition | ~where)

    def _read(self, at: Ints) -> Words:
        """The word at `at`, remembered for the literals that follow."""
        # A copy: the cursor moves its positions in place.
        self._word, self._word_at = self.buffer.word(at), at.copy()
        return self._word

    def _matches(self, text: bytes) -> Bools:
        if self._word is not None and len(text) <= 8:
            offset = self.pos - self._word_at
            inside = offset <= 8 - len(text)
            word = self._word >> (offset.astype(np.uint64) << np.uint64(3))
            if not inside.all():
                outside = np.flatnonzero(~inside)
                word[outside] = self.buffer.word(self.pos[outside])
            found: Bools = (word & _FIRST[len(text)]) == np.uint64(int.from_bytes(text, "little"))
            return found
        if len(text) == 1:
            found = self.buffer.bytes[self.pos] == text[0]
            return found
        found = np.ones(len(self.pos), dtype=np.bool_)
        for at in range(0, len(text), 8):
            piece = text[at : at + 8]
            word = self.buffer.word(self.pos + at) & _FIRST[len(piece)]
            found &= word == np.uint64(int.from_bytes(piece, "little"))
        return found

    def literal(self, text: bytes, where: Bools | None = None) -> None:
        self._require(self._matches(text), where)
        self._advance(len(text), where)

    def optional(self, text: bytes, where: Bools | None = None) -> Bools:
        """Steps over `text` in the lines where it comes next; returns those lines."""
        found: Bools = self.buffer.bytes[self.pos] == text[0]
        if where is not None:
            found &= where
        if len(text) > 1:
            # Most lines lack an optional part: their first byte already says so.
            maybe = np.flatnonzero(found)
            if len(maybe):
                cursor = LineCursor(self.buffer, self.pos[maybe], self.ends[maybe])
                found[maybe] = cursor._matches(text)
        self._advance(len(text), found)
        return found

    def integer(self, where: Bools | None = None, digits: int | None = None) -> Ints:
        """An unsigned decimal of 1 to 15 digits (exactly `digits` when given)."""
        word = self._read(self.pos)
        length = _lead(_nondigits(word))
        value = _fold(word, length)
        full = length == 8
        if full.any():
            rest = self.buffer.word(self.pos[full] + 8)
            more = _lead(_nondigits(rest))
            value[full] = value[full] * _POW10[more] + _fold(rest & _FIRST[more], more)
            length[full] += more
        fits = (length > 0) & (length <= 15) if digits is None else length == digits
        self._require(fits, where)
        self._advance(length, where)
        return value.view(np.int64)

    def signed(self, where: Bools | None = None) -> Ints:
        """An integer with an optional leading minus."""
        negative = self.optional(b"-", where)
        value = self.integer(where)
        return np.where(negative, -value, value)

    def milliseconds(self) -> tuple[Ints, Ints]:
        """A duration as Go's fmtNSAsMS prints it (`133`, `2.7`, `0.058`): exact microseconds and the
        number of decimals printed (0 to 3)."""
        word = self._read(self.pos)
        dots = _equal(word, 0x2E)
        length = _lead(_nondigits(word) & ~dots)
        dot = dots & _FIRST[length]
        at = _lead(dot)  # where the first dot is; 8 without one
        shape = length * np.uint8(9) + at
        self._require(_MS_VALID[shape] & (np.bitwise_count(dot) <= 1), None)
        # The digits without the dot: the bytes after it move down one place.
        before = _FIRST[at]
        value = _fold((word & before) | ((word >> np.uint64(8)) & ~before), _MS_DIGITS[shape])
        self._advance(length, None)
        return (value * _MS_SCALE[shape]).view(np.int64), _MS_DECIMALS[shape]

    def floating(self) -> Floats:
        """A runtime float in either of Go's styles, converted exactly as Python's float() would."""
        self._word = None
        window = self.pos[:, None] + np.arange(_FLOAT_WIDTH)
        chars = self.buffer.bytes[window]
        inside = _FLOAT_CHARS[chars]
        length = np.where(inside.all(axis=1), _FLOAT_WIDTH, inside.argmin(axis=1))
        self._require((length > 0) & (length < _FLOAT_WIDTH), None)
        values = np.zeros(len(length), dtype=np.float64)
        candidates = np.flatnonzero(self.ok)
        if len(candidates):
            width = int(length[candidates].max())
            kept = np.arange(width) < length[candidates, None]
            texts = np.ascontiguousarray(np.where(kept, chars[candidates, :width], 0).astype(np.uint8))
            valid = _valid_floats(texts)
            self.ok[candidates[~valid]] = False
            values[candidates[valid]] = texts[valid].view(f"S{width}").ravel().astype(np.float64)
        self._advance(length, None)
        return values

    def finish(self) -> Bools:
        """The lines that matched the layout from start to end."""
        matched: Bools = self.ok & (self.pos == self.ends)
        return matched

"""The binary reader on files that are not (usable) Go binaries: one-line errors, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mapscope.errors import MapscopeError
from mapscope.readers import profile_source, symbolize
from mapscope.readers.gobinary import GoBinary

HEAP_TEXT = b"""heap profile: 1: 16 [1: 16] @ heap/1024
1: 16 [1: 16] @ 0x401001
"""


def problem(path: Path) -> str:
    with pytest.raises(MapscopeError) as caught:
        GoBinary.open(path)
    assert caught.value.source == str(path)
    assert "\n" not in caught.value.problem
    return caught.value.problem


def test_missing_directory_and_not_elf(tmp_path: Path) -> None:
    assert problem(tmp_path / "gone") == "no such binary"
    assert problem(tmp_path) == "a directory, not a binary"
    text = tmp_path / "heap.txt"
    text.write_bytes(HEAP_TEXT)
    assert problem(text) == "not an ELF binary"


@pytest.mark.parametrize("size", [4, 16, 63, 64, 200])
def test_truncated_elf(tmp_path: Path, size: int) -> None:
    header = Path(sys.executable).resolve().read_bytes()[:size]
    path = tmp_path / "cut"
    path.write_bytes(header)
    assert problem(path)


def test_an_elf_binary_that_is_not_go(tmp_path: Path) -> None:
    """The Python interpreter itself: ELF, but no Go symbol table."""
    assert problem(Path(sys.executable).resolve()) == "no .gopclntab section: not a Go binary"


def test_binary_given_for_a_profile_that_is_not_go(tmp_path: Path) -> None:
    profile = tmp_path / "heap.txt"
    profile.write_bytes(HEAP_TEXT)
    with pytest.raises(MapscopeError, match="not a Go binary"):
        profile_source.load(str(profile), binary=Path(sys.executable).resolve())


def test_without_a_binary_the_sentence_says_what_one_adds(tmp_path: Path) -> None:
    profile = profile_source.parse(HEAP_TEXT, "heap.txt")
    assert profile.callees == {}
    assert profile.symbolization == (
        "raw addresses only: --binary BIN would name them (the runtime's frames, inlined calls and call targets)"
    )
    assert symbolize.apply(profile, None).symbolization == profile.symbolization

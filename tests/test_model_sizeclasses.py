"""The size-class table, checked against each runtime's own source (the model's other rounding rules are
checked end to end by the oracle tests)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from mapscope.gotoolchain import Toolchain
from mapscope.model import sizeclasses
from mapscope.model.versions import SUPPORTED_RELEASES


@pytest.mark.live
@pytest.mark.parametrize("release", [SUPPORTED_RELEASES[0], SUPPORTED_RELEASES[-1]])
def test_class_table_matches_runtime_source(release: str, go_release: Callable[[str], Toolchain]) -> None:
    goroot = go_release(release).go.parent.parent
    candidates = [goroot / "src/runtime/sizeclasses.go", goroot / "src/internal/runtime/gc/sizeclasses.go"]
    source = next(p for p in candidates if p.exists()).read_text()
    table = re.search(r"(?:class_to_size|SizeClassToSize) = \[[^\]]+\]uint16\{([^}]*)\}", source)
    assert table is not None
    sizes = tuple(int(x) for x in table.group(1).split(",") if x.strip())
    assert sizes[1:] == sizeclasses.CLASS_SIZES

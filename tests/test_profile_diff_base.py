"""A profile with negative values is a difference of two profiles (what `go tool pprof -diff_base` writes),
and mapscope shows it as one: never as a heap size."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from mapscope.analyses.map_sites import attribute
from mapscope.gotoolchain import Toolchain
from mapscope.readers import profile_source
from mapscope.readers.pprof import sample_index
from mapscope.renderers.profile_terminal import report_view

FIXTURES = Path(__file__).parent / "fixtures" / "pprof"


@pytest.mark.live
def test_diff_base_profile_is_shown_as_a_difference(
    tmp_path: Path, go_release: Callable[[str], Toolchain]
) -> None:
    toolchain = go_release("1.27.3")
    diff = tmp_path / "diff.pb.gz"
    with diff.open("wb") as written:
        subprocess.run(
            [str(toolchain.go), "tool", "pprof", "-proto", f"-diff_base={FIXTURES / 'rate1' / 'heap.pb.gz'}",
             str(FIXTURES / "default" / "heap.pb.gz")],
            stdout=written, check=True, env=toolchain.env(), timeout=120,
        )  # fmt: skip
    (profile,) = profile_source.load(str(diff)).profiles
    assert profile.is_diff
    report = attribute(profile, sample_index(profile, None))
    assert report.diff
    out = Console(record=True, width=200, file=open(os.devnull, "w"))  # noqa: SIM115
    out.print(report_view(report))
    text = out.export_text()
    assert "diff of two memory profiles" in text and "NEW minus BASE" in text


def test_a_profile_go_wrote_is_no_difference() -> None:
    (profile,) = profile_source.load(str(FIXTURES / "default" / "heap.pb.gz")).profiles
    assert not profile.is_diff
    assert not attribute(profile, sample_index(profile, None)).diff

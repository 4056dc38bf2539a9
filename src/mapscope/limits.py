"""The most mapscope's readers accept from one input, in one place.

Each limit keeps a hostile or broken file from costing time or memory out of proportion to its size;
past a limit the reader refuses the input with one line naming the limit. Values a format itself bounds
(64-bit integers, for instance) are checked where they are read and are not limits of mapscope's.
"""

from __future__ import annotations

MAP_VARIABLES_MAX = 100
"""`NAME=value` definitions in the memory map of a legacy text profile. google/pprof replaces every
`$NAME` in later map lines; each new definition rebuilds the replacer, so their number must stay small.
Real C++ profiles define a handful."""

MAP_SUBSTITUTION_WORK_MAX = 100_000_000
"""Byte comparisons spent finding `$NAME`s in memory map lines: each `$` of a line is compared with every
defined name, so a map full of `$` and long names would take hours without a bound. Real maps spend a
few thousand."""

MAP_EXPANSION_SLACK_BYTES = 1 << 20
"""The `$NAME` substitutions of a memory map may produce at most the input's own size plus this many
bytes in total. Each substitution can multiply a line's length, so without a bound a few lines of
definitions expand past any memory."""

MAPPINGS_MAX = 100_000
"""Executable mappings in a legacy text profile's memory map, after merging neighbours: every location is
matched against them. A /proc/self/maps has a few thousand lines at most."""

TYPE_DEPTH_MAX = 100
"""Nesting of a Go type expression (`[1][1]...int`, structs in structs): real types stay in the tens, and
the model walks a type recursively."""

BENCH_CONFIG_CELLS_MAX = 1 << 22
"""Configuration pairs held by all results of one benchmark file: a file whose `key: value` lines change
before every result would otherwise need memory quadratic in its size."""

INFLATE_RATIO_MAX = 10
INFLATE_MIN_BYTES = 8 << 20
"""A gzip stream may inflate to at most INFLATE_RATIO_MAX times its size (but always to INFLATE_MIN_BYTES):
Go writes profiles that compress 2-3x, a bomb asks for 1000x. An uncompressed file is bounded by its size."""

OPS_MAX = 1000
"""Operations in one `simulate --ops` sequence: each replays the map's structure, and a workload worth
modelling is a handful of phases."""

ERROR_CHARS_MAX = 600
"""An error line quotes at most this much of the input (file name and problem together)."""

STACK_FRAMES_MAX = 4096
"""Frames in one sample's stack. Go records at most 1024 (GODEBUG=profstackdepth's ceiling, 128 by
default); other profilers stay in the hundreds. Walking a stack costs a step per level."""

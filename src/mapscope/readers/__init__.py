"""Readers turn bytes (files, Go source, tool output) into typed records; they never print.

The public modules: one per input format. `bytecursor` is the batch line parser the text readers share.
"""

__all__ = [
    "arrivals",
    "bytecursor",
    "gctrace",
    "go_buildinfo",
    "go_source",
    "go_types",
    "gobench",
    "gobinary",
    "gotype_source",
    "pprof",
    "pprof_text",
    "profile_source",
    "symbolize",
]

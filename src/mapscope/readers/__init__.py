"""Readers turn bytes (files, Go source, tool output) into typed records; they never print.

The public modules: one per input format. `bytecursor` is the batch line parser the text readers share,
`jsontext` the strict JSON reading every JSON input goes through.
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
    "jsontext",
    "pprof",
    "pprof_text",
    "profile_source",
    "symbolize",
]

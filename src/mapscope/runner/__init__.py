"""`mapscope run`: running a Go program or benchmark with every collection on, into one run directory.

`session` runs it, `gocommand` builds the go command line, `child` supervises the process, `manifest` is the
run directory's record of what ran and what it wrote (pipelines/run.py reads it back).
"""

__all__ = [
    "child",
    "gocommand",
    "manifest",
    "session",
]

"""mapscope: where a Go program's map memory and GC time go, and what to change."""

__version__ = "0.1.0"

"""Pipelines: the layer between commands and analyses. A pipeline reads its inputs with the readers, runs the
analyses and returns one report object that every renderer of a command (terminal, JSON, HTML) shows.

`gc`: a gctrace log to a `GcReport`; `profile`: SOURCE arguments to a `ProfileRun` (site reports, causes,
flame tree, diff); `run`: a run directory to a `RunAnalysis`.
"""

__all__ = ["gc", "profile", "run"]

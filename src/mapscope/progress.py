"""A transient status line on stderr for long steps that print nothing (a build, a pip install): a
spinner, what is happening and the time so far. Shown only when stderr is a terminal; piped or redirected,
nothing is printed. It is cleared when the step ends, or as soon as the step prints something itself.
"""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class Spinner:
    """Use as a context manager; also a sink of the runner (runner/child.py), cleared by the first write."""

    def __init__(self, text: str, enabled: bool | None = None) -> None:
        show = sys.stderr.isatty() if enabled is None else enabled
        self._progress: Progress | None = None
        if show:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True, highlight=False),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.add_task(text, total=None)
            self._progress.start()

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def write(self, data: bytes) -> None:
        if data:
            self.stop()

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Spinner:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

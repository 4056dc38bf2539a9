"""benchstat's text tables for a `BenchReport`, plain or coloured with rich, and its JSON form (the texts
themselves come from renderers/bench_text.py).

The plain text is laid out the way benchstat's texttab does it, character for character: each input column
becomes a group of narrow "shrink" columns (center, `±` range, footnotes, and for compared columns delta,
`(p=… n=…)`, footnotes) whose widths come from their own cells, while spanning headers only widen the
first column of a group. Warnings become superscript footnotes, numbered per table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from rich.text import Text

from mapscope.analyses.bench import BenchReport, Table
from mapscope.renderers.bench_text import TableText, document, table_text
from mapscope.renderers.jsonout import dumps

_LABEL_COLUMNS = 1
_CENTER_COLUMNS = 3  # center, ± range, footnotes
_DELTA_COLUMNS = 3  # delta, (p=… n=…), footnotes
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"

# Styles used only when colouring; the plain text ignores them.
_HEADER = "bold"
_CONFIG = "cyan"
_NOTE = "yellow"
_SAME = "dim"
_BETTER = "green"
_WORSE = "red"


class _Align(Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class _Cell:
    row: int
    col: int
    span: int
    text: str
    margin: str
    align: _Align
    style: str


Line = list[tuple[str, str]]  # (text, style) segments


class _Grid:
    """A table of cells addressed by row and column, some spanning columns, laid out in monospace."""

    def __init__(self) -> None:
        self.cells: list[_Cell] = []
        self.row = 0
        self.col = 0
        self.width = 0
        self.shrink: set[int] = set()

    def next_row(self) -> None:
        if self.cells:
            self.row += 1
        self.col = 0

    def at(self, col: int) -> None:
        if col < self.col:
            raise ValueError(f"cannot move back from column {self.col} to {col}")
        self.col = col

    def put(
        self,
        text: str,
        span: int = 1,
        align: _Align = _Align.LEFT,
        margin: str | None = None,
        style: str = "",
    ) -> None:
        if margin is None:
            margin = "" if self.col == 0 or not text else " "
        self.cells.append(_Cell(self.row, self.col, span, text, margin, align, style))
        self.col += span
        self.width = max(self.width, self.col)

    def _widths(self) -> tuple[list[int], list[int]]:
        margins = [0] * self.width
        for cell in self.cells:
            margins[cell.col] = max(margins[cell.col], len(cell.margin))
        widths = [0] * self.width
        for cell in sorted(self.cells, key=lambda c: c.span):
            need = len(cell.text) + margins[cell.col]
            columns = range(cell.col, cell.col + cell.span)
            if cell.span == 1:
                widths[cell.col] = max(widths[cell.col], need)
                continue
            if sum(widths[c] for c in columns) >= need:
                continue
            # Widen only the stretchable columns, widest first, each to the average still needed.
            need -= sum(widths[c] for c in columns if c in self.shrink)
            growable = sorted((c for c in columns if c not in self.shrink), key=lambda c: -widths[c])
            for left, c in zip(range(len(growable), 0, -1), growable, strict=True):
                widths[c] = max(widths[c], -(-need // left))
                need -= widths[c]
        return margins, widths

    def lines(self) -> list[Line]:
        margins, widths = self._widths()
        offsets = [0]
        for width in widths:
            offsets.append(offsets[-1] + width)
        lines: list[Line] = [[]]
        row = position = 0
        for cell in sorted(self.cells, key=lambda c: (c.row, c.col)):
            if not cell.text.strip() and not cell.margin.strip():
                continue
            while cell.row > row:
                lines.append([])
                row += 1
                position = 0
            gap = offsets[cell.col] - position
            lines[-1].append((" " * abs(gap) + cell.margin.rjust(margins[cell.col]), ""))
            position += gap + margins[cell.col]
            room = offsets[cell.col + cell.span] - offsets[cell.col] - margins[cell.col]
            if cell.align is _Align.RIGHT:
                shown = cell.text.rjust(room)
            elif cell.align is _Align.CENTER:
                shown = " " * max(0, (room - len(cell.text)) // 2) + cell.text
            else:
                shown = cell.text
            lines[-1].append((shown, cell.style))
            position += len(shown)
        return lines if self.cells else []


def _superscript(number: int) -> str:
    return "".join(_SUPERSCRIPTS[int(digit)] for digit in str(number))


def _start(column: int) -> int:
    if column == 0:
        return _LABEL_COLUMNS
    return _LABEL_COLUMNS + _CENTER_COLUMNS + (column - 1) * (_CENTER_COLUMNS + _DELTA_COLUMNS)


def _delta_style(table: Table, delta: str | None, pct: float | None) -> str:
    if delta in (None, "~", "?") or pct is None or table.better == 0:
        return _SAME if delta == "~" else ""
    change = (pct > 0) - (pct < 0)
    if change == 0:
        return _SAME
    return _BETTER if change == table.better else _WORSE


def _table_lines(text: TableText) -> list[Line]:
    table = text.table
    grid = _Grid()
    notes: dict[str, int] = {}

    def warn(messages: tuple[str, ...]) -> None:
        marks = [_superscript(notes.setdefault(message, len(notes) + 1)) for message in messages]
        grid.put(" ".join(marks), style=_NOTE)

    edge = _start(len(table.columns) + 1)
    grid.next_row()
    for i, column in enumerate(table.columns):
        grid.at(_start(i))
        grid.put(column, _start(i + 1) - _start(i), _Align.CENTER, " │ ", _HEADER)
    grid.at(edge)
    grid.put("", margin=" │")

    grid.next_row()
    for i in range(len(table.columns)):
        first = _start(i)
        grid.at(first)
        grid.put(table.unit, _CENTER_COLUMNS, _Align.CENTER, " │ ", _HEADER)
        if i > 0:
            grid.put("vs base", _DELTA_COLUMNS, _Align.LEFT, "  ", _HEADER)
        grid.shrink.update(range(first + 1, grid.col))
    grid.at(edge)
    grid.put("", margin=" │")

    for row in text.rows:
        grid.next_row()
        grid.put(row.label)
        for i, shown in enumerate(row.cells):
            if shown is None:
                continue
            cell = shown.cell
            grid.at(_start(i))
            grid.put(shown.center, align=_Align.RIGHT)
            grid.put(shown.spread, align=_Align.RIGHT, margin=" ± ")
            warn(cell.summary.warnings)
            if i > 0 and cell.test is not None and shown.delta is not None:
                grid.put(
                    shown.delta,
                    align=_Align.RIGHT,
                    style=_delta_style(table, shown.delta, cell.delta_pct),
                )
                grid.put(f"({shown.test})")
                warn(cell.test.warnings)

    if table.geomean is not None and text.geomean is not None:
        grid.next_row()
        grid.put("geomean")
        for i, (mean, shown_mean) in enumerate(zip(table.geomean, text.geomean, strict=True)):
            if shown_mean.value is not None:
                grid.at(_start(i))
                grid.put(shown_mean.value, align=_Align.RIGHT)
            if i > 0:
                grid.at(_start(i) + _CENTER_COLUMNS)
                if mean.ratio is not None and shown_mean.delta is not None:
                    pct = (mean.ratio - 1) * 100
                    grid.put(
                        shown_mean.delta, align=_Align.RIGHT, style=_delta_style(table, shown_mean.delta, pct)
                    )
                else:
                    grid.put("?")
            grid.at(_start(i + 1) - 1)
            warn(mean.warnings)

    lines = grid.lines()
    lines.extend([(f"{_superscript(number)} {message}", _NOTE)] for message, number in notes.items())
    return lines


def report_lines(report: BenchReport) -> list[Line]:
    """The whole report: configuration lines where they change, then each table, blank lines between."""
    lines: list[Line] = []
    previous: dict[str, str] | None = None
    for table in report.tables:
        if previous is not None:
            lines.append([])
        for key, value in table.config:
            if previous is None or previous[key] != value:
                lines.append([(f"{key}: {value}", _CONFIG)])
        previous = dict(table.config)
        lines.extend(_table_lines(table_text(table)))
    return lines


def render_plain(report: BenchReport) -> str:
    """benchstat's text output."""
    return "".join("".join(text for text, _ in line) + "\n" for line in report_lines(report))


def render_rich(report: BenchReport) -> Text:
    """The same text with colour: changes for the better green, for the worse red, `~` dim."""
    out = Text()
    for line in report_lines(report):
        for text, style in line:
            out.append(text, style=style or None)
        out.append("\n")
    return out


def render_json(report: BenchReport) -> str:
    """The report as JSON (renderers/bench_text.py's document); ±inf interval ends are null."""
    return dumps(document(report))

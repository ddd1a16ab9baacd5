"""Go's text/tabwriter (elastic tabstops), as the docker CLI uses it for every table.

Cells end with a tab; tab-terminated cells in consecutive lines form a column whose width is
the widest cell plus `padding`, at least `minwidth`. The text after a line's last tab is not
part of a column and is never padded. A line with a single cell ends the column blocks
above it. docker/cli builds its tables with `NewWriter(out, 10, 1, 3, ' ', 0)`.

docker/cli: cli/command/formatter/tabwriter/tabwriter.go (a copy of Go's text/tabwriter),
cli/command/formatter/formatter.go (the parameters)
"""

from __future__ import annotations


class _Cell:
    __slots__ = ("text", "htab")

    def __init__(self, text: str, htab: bool) -> None:
        self.text = text
        self.htab = htab  # terminated by '\t' (a "hard" tab)

    @property
    def width(self) -> int:
        return len(self.text)  # runes, as docker 20.10's copy counts them


class TabWriter:
    """Collect text with `write`, get the aligned text from `flush`."""

    def __init__(
        self, minwidth: int = 10, tabwidth: int = 1, padding: int = 3, padchar: str = " "
    ) -> None:
        self.minwidth = minwidth
        self.tabwidth = tabwidth
        self.padding = padding
        self.padchar = padchar
        self._out: list[str] = []
        self._reset()

    def _reset(self) -> None:
        self._lines: list[list[_Cell]] = [[]]
        self._cell: list[str] = []
        self._widths: list[int] = []

    def write(self, text: str) -> None:
        for ch in text:
            if ch in "\t\v\n\f":
                ncells = self._terminate_cell(ch == "\t")
                if ch in "\n\f":
                    self._lines.append([])
                    if ch == "\f" or ncells == 1:
                        # a one-cell line does not affect the columns: flush what is above it
                        self._flush_buffer()
            else:
                self._cell.append(ch)

    def flush(self) -> str:
        """Format everything written so far and return the output produced overall."""
        self._flush_buffer(final=True)
        out = "".join(self._out)
        self._out = []
        return out

    def _terminate_cell(self, htab: bool) -> int:
        line = self._lines[-1]
        line.append(_Cell("".join(self._cell), htab))
        self._cell = []
        return len(line)

    def _flush_buffer(self, final: bool = False) -> None:
        pending = "".join(self._cell)
        if final and pending:
            self._terminate_cell(False)
            pending = ""
        # the last (incomplete) line is written by _write_lines as it stands
        self._pending = pending
        self._format(0, len(self._lines))
        self._lines = [[]]
        self._widths = []
        if not final:
            self._cell = list(pending)

    def _write_padding(self, textw: int, cellw: int) -> None:
        self._out.append(self.padchar * (cellw - textw))

    def _write_lines(self, line0: int, line1: int) -> None:
        for i in range(line0, line1):
            line = self._lines[i]
            for j, c in enumerate(line):
                if c.text:
                    self._out.append(c.text)
                if j < len(self._widths):
                    self._write_padding(c.width, self._widths[j])
            if i + 1 == len(self._lines):
                self._out.append(self._pending)  # last buffered line: no newline yet
                self._pending = ""
            else:
                self._out.append("\n")

    def _format(self, line0: int, line1: int) -> None:
        column = len(self._widths)
        this = line0
        while this < line1:
            line = self._lines[this]
            if column >= len(line) - 1:
                this += 1
                continue
            # a cell exists in this column: print the lines above, then size the block
            self._write_lines(line0, this)
            line0 = this
            width = self.minwidth
            while this < line1:
                line = self._lines[this]
                if column >= len(line) - 1:
                    break
                width = max(width, line[column].width + self.padding)
                this += 1
            self._widths.append(width)
            self._format(line0, this)
            self._widths.pop()
            line0 = this
        self._write_lines(line0, line1)


def tabwrite(
    text: str, minwidth: int = 10, tabwidth: int = 1, padding: int = 3, padchar: str = " "
) -> str:
    """Align `text` as docker's tables are aligned."""
    w = TabWriter(minwidth, tabwidth, padding, padchar)
    w.write(text)
    return w.flush()

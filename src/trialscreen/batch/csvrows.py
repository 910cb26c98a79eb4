"""The records of a CSV file after its header, each with the file line it starts on.

A quote that is not closed where its row ends makes ``csv.reader`` read on, line after line, until
a quote closes it or the file ends, and then fail for all those lines at once. No row is lost or
merged for it: the row that opened the quote is an error row naming its own line, and each line
the reader swallowed after it is read again on its own (a row, or an error row naming its line).
A line read again on its own cannot open a quoted cell that runs on: a valid multi-line cell
among the swallowed lines is error rows, never a row made of lines that are not one.
"""

from __future__ import annotations

import csv


class _Kept:
    """The lines of a text stream, the current record's kept to be read again."""

    def __init__(self, stream):
        self._lines = iter(stream)
        self.kept: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.kept.append(line)
        return line


def csv_rows(stream, delimiter: str, first_line: int):
    """(file line, cells, None) for each record of ``stream``, or (file line, None, message) for
    one that cannot be read; ``first_line`` is the file line of the stream's first line. A
    record's line is the line it starts on."""
    lines = _Kept(stream)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    line = first_line
    while True:
        lines.kept = []
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            kept = lines.kept
            if len(kept) <= 1:
                yield line, None, f"unreadable CSV ({exc})"
            else:
                yield line, None, (f"unreadable CSV: a quote opened in this row is not closed where the row "
                                   f"ends, so the next {len(kept) - 1:,} line(s) would be part of its cell; they "
                                   "are read as rows of their own")
                yield from _one_by_one(kept[1:], delimiter, line + 1)
            line += len(kept)
            continue
        yield line, cells, None
        line += len(lines.kept)


def _one_by_one(lines: list[str], delimiter: str, first_line: int):
    """Each line as a record of its own (a quote it does not close is an error for it alone)."""
    for number, text in enumerate(lines, first_line):
        try:
            cells = next(csv.reader([text], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:
            yield number, None, f"unreadable CSV ({exc})"
            continue
        yield number, cells, None

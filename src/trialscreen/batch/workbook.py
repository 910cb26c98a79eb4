"""Excel workbooks read as the CSV saved from them (issue 14).

A workbook's cells become the text the CSV Excel saves would hold (a whole number without
``.0``, a date as YYYY-MM-DD, a date and time in ISO form, TRUE / FALSE), one tab-delimited line
per sheet row, so its rows go through the CSV reader and give the same output as that CSV.
python-calamine reads the values; it is imported only when a workbook is read. It gives an error
cell (#N/A, #REF!) as an empty string and says nothing of number formats, so the sheet's XML is
read too (batch/sheetxml.py) when it holds error cells or percent-formatted cells: an error cell
is its text (``#N/A``, as in the CSV: never an empty cell), a percent cell its percentage
(``45%`` for 0.45). A date cell is written in the date_format the mapping gives its column (the
format describes text cells; a date cell is a date whatever it is).
"""

from __future__ import annotations

import csv
import functools
import io
from datetime import date, datetime, time, timedelta

from trialscreen.errors import FileReadError, InputError, Location, UsageError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
WORKBOOK_DELIMITER = "\t"       # the delimiter of the lines a workbook is read as


def is_workbook(path: str) -> bool:
    return path.lower().endswith(WORKBOOK_SUFFIXES)


def workbook_lines(path: str, sheet: str | None = None, decimal_comma: bool = False) -> WorkbookLines:
    """The rows of ``sheet`` (else the first) of the workbook at ``path`` as tab-delimited text
    lines; numbers are written with a decimal comma when the batch reads one."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:     # pragma: no cover - a dependency of the package
        raise UsageError("reading an Excel workbook needs python-calamine",
                         hint="pip install python-calamine, or save the sheet as CSV") from None
    try:
        book = CalamineWorkbook.from_path(path)
    except FileNotFoundError:
        raise FileReadError(f"no such file: {path}", Location(path), hint="check the path") from None
    except Exception as exc:  # noqa: BLE001 - calamine's errors (zip, XML, password) have no common base
        raise InputError(f"{path} cannot be read as an Excel workbook ({exc})", Location(path),
                         hint="open it in Excel and save it again as .xlsx, or save the sheet as CSV") from None
    names = list(book.sheet_names)
    if sheet is not None and sheet not in names:
        raise UsageError(f"the workbook {path} has no sheet '{sheet}'",
                         hint="its sheets: " + ", ".join(f"'{n}'" for n in names))
    if not names:
        raise InputError(f"the workbook {path} has no sheet", Location(path), hint="save the patients' sheet as CSV")
    from trialscreen.batch.sheetxml import sheet_marks

    name = sheet or names[0]
    data = book.get_sheet_by_name(name)
    first_column = data.start[1] if data.start else 0
    return WorkbookLines(iter(data.iter_rows()), decimal_comma, sheet_marks(path, name, first_column))


class WorkbookLines:
    """A sheet's rows as the lines a CSV reader reads: ``readline()`` for the header, then
    iteration; one line per row, so the reader's line numbers are the sheet's row numbers.
    ``marks``: (sheet row, {column: mark}) of the rows holding error or percent cells, in order."""

    def __init__(self, rows, decimal_comma: bool, marks=None):
        self._rows = rows
        self._comma = decimal_comma
        self._marks = marks if marks is not None else iter(())
        self._marked: tuple = (0, {})
        self._number = 0            # the sheet row of the last row read
        self.date_formats: dict[int, str] = {}    # column -> the mapping's date_format for it
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=WORKBOOK_DELIMITER, lineterminator="\n")

    def planned(self, plan) -> None:
        """Write date cells as the mapping's date_format for their column says (batch/dates.py)."""
        self.date_formats = {c.index: c.dates[0] for c in plan.columns if c.dates[0] and c.constant is None}

    def _marks_of(self, number: int) -> dict:
        while self._marked[0] < number:
            self._marked = next(self._marks, (float("inf"), {}))
        return self._marked[1] if self._marked[0] == number else {}

    def _line(self, row) -> str:
        self._number += 1
        marks, formats = self._marks_of(self._number), self.date_formats
        self._buffer.seek(0)
        self._buffer.truncate()
        if marks or formats:
            cells = [cell_text(cell, self._comma, marks.get(i), formats.get(i)) for i, cell in enumerate(row)]
        else:
            cells = [cell_text(cell, self._comma) for cell in row]
        self._writer.writerow(cells)
        return self._buffer.getvalue()

    def readline(self) -> str:
        row = next(self._rows, None)
        return "" if row is None else self._line(row)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        return self._line(next(self._rows))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._rows = iter(())


PERCENT = "%"       # the mark of a percent-formatted cell; an error cell's mark is its text (#N/A)


def cell_text(value, decimal_comma: bool = False, mark: str | None = None, date_format: str | None = None) -> str:
    """A workbook cell as the text of the CSV cell Excel would save. ``mark``: the cell's error
    text (#N/A) or PERCENT for a percent-formatted cell; ``date_format``: its column's."""
    if mark is not None and mark != PERCENT:
        return mark             # an error cell: calamine gives it as ''
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        percent = mark == PERCENT and value == value and value not in (float("inf"), float("-inf"))
        text = _number(_times_100(value) if percent else value) + ("%" if percent else "")
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, (datetime, date)) and date_format is not None:
        return _formatted(value, date_format)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return "" if value is None else str(value)


@functools.lru_cache(maxsize=4096)
def _formatted(value: date, fmt: str) -> str:
    """A date cell in ``fmt``, if the batch reads that text back as the same date; else in ISO
    form (which the column's date_format then refuses: never a date changed, as 1948 by 'yy')."""
    from trialscreen.batch.dates import iso_date

    day = value.date() if isinstance(value, datetime) else value
    try:
        text = value.strftime(fmt)
        if iso_date(text, fmt, None) == day.isoformat():
            return text
    except ValueError:
        pass
    return value.isoformat()


def _number(value: int | float) -> str:
    """A number as Excel writes it: at most 15 significant digits, no exponent, no trailing .0."""
    if isinstance(value, int):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    from decimal import Decimal

    return format(Decimal(repr(float(f"{value:.15g}"))), "f")


def _times_100(value: int | float) -> float:
    """A percent cell's percentage, exactly (0.07 is 7, not 7.000000000000001)."""
    from decimal import Decimal

    return float(Decimal(repr(value)) * 100)

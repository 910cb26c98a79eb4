"""One cell's text as the record reader reads it: its coded values and missing tokens
applied, and its numbers read as the file (or the column) writes them."""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation

from trialscreen.batch.columns import ColumnPlan
from trialscreen.batch.dates import iso_date
from trialscreen.errors import InputError, Location
from trialscreen.units.normalize import SPACES, number_pattern, plain_number

_NUMBERISH = re.compile(r"^\s*(?:<=|>=|<|>|≤|≥)?\s*[+-]?\d+,\d+")
# Cells the record reader reads as numbers (a value with or without its unit, a bound, a
# limit, a share, a grade): their numbers are read here, as the file writes them.
_NUMERIC = {("scalar", "age"), ("scalar", "ecog"), ("scalar", "weight"), ("scalar", "height"),
            ("lab", ""), ("lab_attr", "uln"), ("lab_attr", "lln"), ("finding_percent", ""),
            ("condition_attr", "grade")}
# Dates are read as the mapping says the file writes them (batch/dates.py), to ISO dates.
_DATES = {("scalar", "birth_date"), ("scalar", "as_of"), ("scalar", "lab_date"), ("lab_attr", "date"),
          ("condition_attr", "date"), ("condition_attr", "end"), ("diagnosis", "date"), ("finding_date", ""),
          ("treatment", "date"), ("treatment", "start"), ("treatment", "end")}
# Ids and JSON are never numbers: their cells are left as written.
_AS_WRITTEN = {("id", ""), ("json_list", "")}
# a reference range in one cell: '59-104', '59 - 104', '3,5-5,1', '<5' (an upper limit), '>40'
_RANGE = re.compile(r"^\s*(?:(?P<low>[\d.,\s]*\d)\s*(?:-|–|—|to|bis|\.\.)\s*(?P<high>\d[\d.,\s]*)"
                    r"|(?P<bound><=|<|≤|>=|>|≥)\s*(?P<limit>\d[\d.,\s]*))\s*(?P<unit>[^\d\s].*)?$")
_MARKS = re.compile("[.," + SPACES + "]")
_POWER_OF_TEN = re.compile(r"^[" + SPACES + r"]*(?:[x*]\s*)?10\s*(?:\^|\*|[eE])")
_FORMATS = {
    (True, None): "a decimal comma and no thousands separator, as in 1500,5",
    (True, "."): "a decimal comma and dots between thousands, as in 1.500,5",
    (True, " "): "a decimal comma and spaces between thousands, as in 1 500,5",
    (False, ","): "a decimal point and commas between thousands, as in 1,500.5",
    (False, " "): "a decimal point and spaces between thousands, as in 1 500.5",
}


class RowError(InputError):
    """A row that cannot become a patient: the message names the column."""

    def __init__(self, message: str, column: str | None = None, value=None):
        super().__init__(message, Location(field=column), value=value)
        self.column = column
        self.others: list[RowError] = []     # the row's other bad cells, when this is the first


def as_number(text: str):
    try:
        value = float(text)
    except ValueError:
        return text  # the record reader says what is wrong with it
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _role(col) -> str:
    """How the cells of a column are read: 'number', 'as written' or 'text'."""
    if col.kind in ("scalar", "diagnosis"):
        part = col.kind, col.key
    elif col.kind in ("lab_attr", "condition_attr", "treatment"):
        part = col.kind, col.attr
    else:
        part = col.kind, ""
    if col.kind == "lab_range":
        return "range"
    if part in _DATES:
        return "date"
    return "number" if part in _NUMERIC else "as written" if part in _AS_WRITTEN else "text"


@functools.lru_cache(maxsize=8)
def _numbers_in(thousands: str | None) -> re.Pattern:
    """A number at the start of a cell or after a bound sign (<1.500, 'not detected (<20 IU/mL)');
    numbers inside a unit (x10^9/L, mL/min/1.73m2) are the unit's."""
    return re.compile(r"(^\s*|<=|>=|<|>|≤|≥)(\s*)(" + number_pattern(thousands) + ")")


def _read_numbers(text: str, notation: tuple, column: str) -> str:
    """The cell with each of its numbers in plain notation (1.500,5 -> 1500.5), read as the
    file writes numbers (``decimal_comma``, ``thousands``). A number the file's notation does
    not allow is a RowError: a dot in a decimal-comma file is never taken for a decimal
    point, nor for a thousands separator unless the mapping says ``thousands: "."``."""
    decimal_comma, thousands = notation
    plain = not decimal_comma and thousands is None

    def read(m: re.Match) -> str:
        written = m.group(3)
        rest = text[m.end():]
        if plain:
            if "," in written:
                raise RowError("not a number: a comma in a number, in a file read with a decimal point: is "
                               "it a decimal comma (say `decimal_comma: true` in the mapping, or "
                               "--decimal-comma) or a thousands separator (say `thousands: \",\"`)? Or "
                               "correct the cell", column, text)
            return m.group(0)  # the plain notation: the record reader reads it as written
        if decimal_comma and thousands is None and "." in written:
            raise RowError("a number with a dot in a decimal-comma file: is the dot a thousands "
                           "separator? Say `thousands: \".\"` in the mapping, or correct the cell",
                           column, text)
        spaced = thousands == " " and re.match("[" + SPACES + r"]+\d", rest) and not _POWER_OF_TEN.match(rest)
        try:
            if spaced:
                raise ValueError(written)
            number = plain_number(written, decimal_comma, thousands)
        except ValueError:
            grouping = (" (a thousands separator stands only between groups of three digits: "
                        "not in 1.50, 1.5000 or .5)" if thousands else "")
            notation = _FORMATS.get((decimal_comma, thousands), "its decimal mark and thousands separator")
            raise RowError(f"not a number as this file writes numbers, with {notation}{grouping}: correct the "
                           "cell, or the mapping's decimal_comma and thousands", column, text) from None
        return m.group(1) + m.group(2) + number

    return _numbers_in(thousands).sub(read, text)


def plan_roles(plan: ColumnPlan) -> None:
    """Fill the plan's column index -> role table, once per file."""
    roles = plan.roles
    if len(roles) != len(plan.columns):  # once per file
        roles.clear()
        roles.update((id(col), _role(col)) for col in plan.columns)


def cell_text(plan: ColumnPlan, col, raw: str, plain: bool) -> str | None:
    """A cell's text after its coded values, its missing tokens, the number notation and scale
    of its column (or the file's) and its date format, or None if missing. ``plain``: the file
    writes numbers with a decimal point and no thousands separator."""
    if col.constant is not None:
        return col.constant           # a value of the mapping: YAML's notation, not the file's
    missing = plan.missing if col.missing is None else col.missing
    text = raw.strip()
    if col.values is not None:
        key = text.lower()
        if key in col.values:
            if col.values[key] is None:
                return None
            return col.values[key]    # a value of the mapping: YAML's notation, not the file's
        if key not in missing:
            allowed = ", ".join(sorted(repr(k) for k in col.values))
            raise RowError(f"the cell is not one of the coded values ({allowed})", col.header, text)
    if text.lower() in missing:
        # an end written 'unknown' or 'NA' is an end nobody recorded, not a course still going on
        return "unknown" if text and getattr(col, "kind", "") == "treatment" and getattr(col, "attr", "") == "end" \
            else None
    role = plan.roles[id(col)]
    notation = (plan.decimal_comma, plan.thousands) if col.number is None else col.number
    if col.number is not None:
        plain = not notation[0] and notation[1] is None
    if role == "number":
        if ("," in text) if plain else _MARKS.search(text):  # else: nothing to read otherwise
            text = _read_numbers(text, notation, col.header)
        if col.scale is not None:
            text = _scaled(text, col.scale)
    elif role == "date":
        try:
            text = iso_date(text, *col.dates)
        except ValueError as exc:
            raise RowError(str(exc), col.header, text) from None
    elif role == "range":
        text = _range(text, notation, col)
    elif role == "text" and notation[0] and _NUMBERISH.match(text):
        text = text.replace(",", ".", 1)  # a coded attribute (not read as a number): as before
    return text


def _scaled(text: str, scale: str) -> str:
    """The cell with its value (and a bound's number) times ``scale``, exactly."""
    def times(m: re.Match) -> str:
        try:
            product = Decimal(m.group(3)) * Decimal(scale)
        except InvalidOperation:
            return m.group(0)
        return m.group(1) + m.group(2) + format(product.normalize(), "f")

    return _numbers_in(None).sub(times, text, count=1)


def _range(text: str, notation: tuple, col) -> str:
    """A reference range cell as 'low-high', '<high' or '>low' in plain numbers; a cell that is
    no range is left as written (the lab's limits then cannot be used, and say why)."""
    m = _RANGE.match(text)
    if m is None:
        return text
    def number(written: str) -> str:
        value = _read_numbers(written.strip(), notation, col.header)
        return _scaled(value, col.scale) if col.scale is not None else value

    unit = f" {m.group('unit').strip()}" if m.group("unit") else ""
    if unit and col.scale is not None:
        raise RowError("the range gives its unit, and the mapping a scale for bare numbers: a number with "
                       "its own unit is never scaled; correct the cell, or the mapping", col.header, text)
    if m.group("bound"):
        return f"{m.group('bound')}{number(m.group('limit'))}{unit}"
    return f"{number(m.group('low'))}-{number(m.group('high'))}{unit}"

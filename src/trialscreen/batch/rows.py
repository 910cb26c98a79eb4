"""CSV rows to patient records: the same record model as the JSON files.

Each row is turned into the dict a JSON patient file would hold and read by
the same :func:`patient_from_dict`, so a patient screens identically whether
it arrives as a JSON file or as a CSV row.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

from trialscreen import vocab
from trialscreen.batch.columns import ColumnPlan
from trialscreen.errors import InputError, Location, TrialscreenError
from trialscreen.patient.jsonpos import bounded_int
from trialscreen.units.normalize import SPACES, number_pattern, plain_number

_NUMBERISH = re.compile(r"^\s*(?:<=|>=|<|>|≤|≥)?\s*[+-]?\d+,\d+")
# Cells the record reader reads as numbers (a value with or without its unit, a bound, a
# limit, a share, a grade): their numbers are read here, as the file writes them.
_NUMERIC = {("scalar", "age"), ("scalar", "ecog"), ("scalar", "weight"), ("scalar", "height"),
            ("lab", ""), ("lab_attr", "uln"), ("lab_attr", "lln"), ("finding_percent", ""),
            ("condition_attr", "grade")}
# Dates, ids and JSON are never numbers: their cells are left as written.
_AS_WRITTEN = {("scalar", "birth_date"), ("scalar", "as_of"), ("scalar", "lab_date"), ("lab_attr", "date"),
               ("condition_attr", "date"), ("condition_attr", "end"), ("diagnosis", "date"),
               ("treatment", "date"), ("treatment", "start"), ("treatment", "end"), ("id", ""),
               ("json_list", "")}
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


def _number(text: str):
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
    return "number" if part in _NUMERIC else "as written" if part in _AS_WRITTEN else "text"


@functools.lru_cache(maxsize=8)
def _numbers_in(thousands: str | None) -> re.Pattern:
    """A number at the start of a cell or after a bound sign (<1.500, 'not detected (<20 IU/mL)');
    numbers inside a unit (x10^9/L, mL/min/1.73m2) are the unit's."""
    return re.compile(r"(^\s*|<=|>=|<|>|≤|≥)(\s*)(" + number_pattern(thousands) + ")")


def _read_numbers(text: str, plan: ColumnPlan, column: str) -> str:
    """The cell with each of its numbers in plain notation (1.500,5 -> 1500.5), read as the
    file writes numbers (``decimal_comma``, ``thousands``). A number the file's notation does
    not allow is a RowError: a dot in a decimal-comma file is never taken for a decimal
    point, nor for a thousands separator unless the mapping says ``thousands: "."``."""
    decimal_comma, thousands = plan.decimal_comma, plan.thousands
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
            raise RowError(f"not a number as this file writes numbers, with "
                           f"{_FORMATS[(decimal_comma, thousands)]}{grouping}: correct the cell, or the "
                           "mapping's decimal_comma and thousands", column, text) from None
        return m.group(1) + m.group(2) + number

    return _numbers_in(thousands).sub(read, text)


def _attr(text: str):
    """An attribute cell: the words yes / no become true / false, as in JSON records."""
    try:
        answer = vocab.yes_no(text, digits=False)
    except ValueError:
        answer = None
    return answer if answer is not None else text.strip()


@dataclass
class _RowParts:
    """The parts of one row's record, gathered column by column before they are assembled."""

    record: dict = field(default_factory=dict)
    where: dict = field(default_factory=dict)
    labs: dict = field(default_factory=dict)
    cyto: dict = field(default_factory=dict)
    conds: dict = field(default_factory=dict)
    atts: dict = field(default_factory=dict)
    diagnosis: dict = field(default_factory=dict)
    treatments: dict = field(default_factory=dict)
    lists: dict = field(default_factory=dict)
    spellings: dict = field(default_factory=dict)
    treatment_cols: dict = field(default_factory=dict)


def row_to_record(plan: ColumnPlan, cells: list[str]) -> tuple[dict, dict]:
    """Build (record, path -> column header) from one row's cells."""
    parts = _RowParts()
    _plan_roles(plan)
    plain = not plan.decimal_comma and plan.thousands is None   # 1.5, and no comma in a number
    for col in plan.columns:
        text = _cell_text(plan, col, cells[col.index], plain)
        if text is not None:
            _place(parts, col, text)
    return _assemble(parts)


def _plan_roles(plan: ColumnPlan) -> None:
    """Fill the plan's column index -> role table, once per file."""
    roles = plan.roles
    if len(roles) != len(plan.columns):  # once per file
        roles.clear()
        roles.update((col.index, _role(col)) for col in plan.columns)


def _cell_text(plan: ColumnPlan, col, raw: str, plain: bool) -> str | None:
    """A cell's text after its coded values and the file's number notation, or None if missing."""
    missing = plan.missing
    text = raw.strip()
    mapped = False
    if col.values is not None:
        key = text.lower()
        if key in col.values:
            if col.values[key] is None:
                return None
            text, mapped = col.values[key], True
        elif key not in missing:
            allowed = ", ".join(sorted(repr(k) for k in col.values))
            raise RowError(f"the cell is not one of the coded values ({allowed})", col.header, text)
    if text.lower() in missing:
        return None
    role = plan.roles[col.index]
    if mapped:
        pass  # a value of the mapping: YAML's notation, not the file's
    elif role == "number":
        if ("," in text) if plain else _MARKS.search(text):  # else: nothing to read otherwise
            text = _read_numbers(text, plan, col.header)
    elif role == "text" and plan.decimal_comma and _NUMBERISH.match(text):
        text = text.replace(",", ".", 1)  # a coded attribute (not read as a number): as before
    return text


def _place(parts: _RowParts, col, text: str) -> None:
    """Put one cell's text where its column's kind says, among the row's parts."""
    if col.kind in ("id", "scalar", "json_list", "allergies", "complete"):
        _place_patient_cell(parts, col, text)
    elif col.kind in ("lab", "lab_attr", "finding", "finding_percent"):
        _place_lab_cell(parts, col, text)
    else:
        _place_history_cell(parts, col, text)


def _place_patient_cell(parts: _RowParts, col, text: str) -> None:
    """Place an id, patient field, JSON list, allergies or complete cell."""
    record, where = parts.record, parts.where
    kind = col.kind
    if kind == "id":
        record["id"] = text
        where["id"] = col.header
    elif kind == "scalar":
        if col.key in ("age", "ecog"):
            value = _number(text)
        elif col.key in ("weight", "height") and col.unit:
            value = f"{text} {col.unit}"
        else:
            value = text
        record[col.key] = value
        where[col.key] = col.header
    elif kind == "json_list":
        parts.lists[col.key] = _json_list(text, col.header)
        where[col.key] = col.header
    elif kind == "allergies":
        record["allergies"] = [a.strip() for a in text.split(";") if a.strip()]
        where["allergies"] = col.header
    elif kind == "complete":
        record["complete"] = [s.strip() for s in text.split(";") if s.strip()]
        where["complete"] = col.header


def _json_list(text: str, header: str) -> list:
    """The JSON list a cell holds; a RowError naming the column if it holds none."""
    try:
        value = json.loads(text, parse_int=bounded_int)
    except ValueError as exc:
        raise RowError(f"not a JSON list: {getattr(exc, 'msg', 'a number too long')}",
                       header) from None
    except RecursionError:
        raise RowError("the JSON list nests too deeply", header) from None
    if not isinstance(value, list):
        raise RowError("must hold a JSON list", header)
    return value


def _place_lab_cell(parts: _RowParts, col, text: str) -> None:
    """Place a lab value, a lab's range or date, a cytogenetic finding or its share of cells."""
    where, labs, cyto = parts.where, parts.labs, parts.cyto
    kind = col.kind
    if kind == "lab":
        entry = labs.setdefault(col.key, {})
        entry["value"] = text
        if col.unit:
            entry["unit"] = col.unit
        where[f"labs.{col.key}"] = col.header
    elif kind == "lab_attr":
        entry = labs.setdefault(col.key, {})
        if col.attr == "date":
            entry["date"] = text
        else:
            entry[col.attr] = f"{text} {col.unit}" if col.unit else _number(text)
        where[f"labs.{col.key}.{col.attr}"] = col.header
    elif kind == "finding":
        spelling = col.attr or col.key
        parts.spellings[col.key] = spelling
        cyto.setdefault(spelling, {})["result"] = text
        where[f"cytogenetics.{spelling}"] = col.header
    elif kind == "finding_percent":
        spelling = parts.spellings.get(col.key, col.key)
        cyto.setdefault(spelling, {})["percent"] = _number(text)
        where[f"cytogenetics.{spelling}.percent"] = col.header


def _place_history_cell(parts: _RowParts, col, text: str) -> None:
    """Place a condition, attestation, diagnosis or treatment cell; other kinds are ignored."""
    where = parts.where
    kind = col.kind
    if kind == "condition":
        parts.conds.setdefault(col.key, {})["present"] = text
        where[f"conditions.{col.key}"] = col.header
    elif kind == "condition_attr":
        value = _number(text) if col.attr == "grade" else text
        parts.conds.setdefault(col.key, {})[col.attr] = value
        where[f"conditions.{col.key}.{col.attr}"] = col.header
    elif kind == "attestation":
        parts.atts[col.key] = text
        where[f"attestations.{col.key}"] = col.header
    elif kind == "diagnosis":
        parts.diagnosis[col.key] = text
        where[f"diagnoses[0].{col.key}"] = col.header
    elif kind == "diagnosis_attr":
        parts.diagnosis[col.attr] = _attr(text)
        where[f"diagnoses[0].{col.attr}"] = col.header
    elif kind == "treatment":
        event = parts.treatments.setdefault(col.key, {"type": col.key})
        event[col.attr] = text if col.attr in ("date", "start", "end") else _attr(text)
        parts.treatment_cols[(col.key, col.attr)] = col.header


def _assemble(parts: _RowParts) -> tuple[dict, dict]:
    """Join the row's parts into (record, path -> column header), as a JSON patient file holds it."""
    record, where, lists, diagnosis, treatments = (parts.record, parts.where, parts.lists,
                                                   parts.diagnosis, parts.treatments)
    # a reference range or date without a value is no lab value: the lab is missing
    labs = {k: v for k, v in parts.labs.items() if "value" in v}
    if labs:
        record["labs"] = {k: (v if set(v) != {"value"} else v["value"]) for k, v in labs.items()}
    if parts.cyto:
        record["cytogenetics"] = {k: (v if "percent" in v else v.get("result")) for k, v in parts.cyto.items()}
    if parts.conds:
        record["conditions"] = parts.conds
    if parts.atts:
        record["attestations"] = parts.atts
    if diagnosis:
        if "name" not in diagnosis:
            raise RowError("diagnosis attributes are given without a diagnosis name",
                           where.get(next(iter(where), ""), None))
        lists.setdefault("diagnoses", [])
        lists["diagnoses"] = [diagnosis, *lists["diagnoses"]]
    if treatments:
        first = len(lists.get("treatments", []))
        for i, kind in enumerate(treatments):
            for (k, attr), header in parts.treatment_cols.items():
                if k == kind:
                    where[f"treatments[{first + i}].{attr}"] = header
        lists["treatments"] = [*lists.get("treatments", []), *treatments.values()]
    record.update(lists)
    return record, where


def column_of(error: TrialscreenError, where: dict) -> str | None:
    """The column header an error of the record reader points to."""
    path = error.location.field or ""
    while path:
        if path in where:
            return where[path]
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            break
        path = path[:cut]
    return None

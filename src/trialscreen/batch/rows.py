"""CSV rows to patient records: the same record model as the JSON files.

Each row is turned into the dict a JSON patient file would hold and read by
the same :func:`patient_from_dict`, so a patient screens identically whether
it arrives as a JSON file or as a CSV row.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from trialscreen import vocab
from trialscreen.batch.cells import RowError, as_number, cell_text, plan_roles
from trialscreen.batch.columns import ColumnPlan
from trialscreen.errors import TrialscreenError
from trialscreen.patient.jsonpos import bounded_int


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
    """Build (record, path -> column header) from one row's cells. Every cell that cannot be
    read is a RowError; with several, the first carries the others (``RowError.others``)."""
    parts = _RowParts()
    plan_roles(plan)
    plain = not plan.decimal_comma and plan.thousands is None   # 1.5, and no comma in a number
    errors: list[RowError] = []
    for col in plan.columns:
        try:
            text = cell_text(plan, col, cells[col.index], plain)
            if text is not None:
                _place(parts, col, text)
        except RowError as exc:
            errors.append(exc)
    if errors:
        errors[0].others = errors[1:]
        raise errors[0]
    return _assemble(parts)


def _place(parts: _RowParts, col, text: str) -> None:
    """Put one cell's text where its column's kind says, among the row's parts."""
    if col.kind in ("id", "scalar", "json_list", "allergies", "complete"):
        _place_patient_cell(parts, col, text)
    elif col.kind in ("lab", "lab_attr", "lab_range", "lab_flag", "finding", "finding_percent", "finding_date"):
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
            value = as_number(text)
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
            entry[col.attr] = f"{text} {col.unit}" if col.unit else as_number(text)
        where[f"labs.{col.key}.{col.attr}"] = col.header
    elif kind == "lab_range":
        entry = labs.setdefault(col.key, {})
        entry.update(_limits(text, col.unit))
        where[f"labs.{col.key}.uln"] = where[f"labs.{col.key}.lln"] = col.header
    elif kind == "lab_flag":
        labs.setdefault(col.key, {})["flag"] = text
        where[f"labs.{col.key}.flag"] = col.header
    elif kind == "finding_date":
        spelling = parts.spellings.get(col.key, col.key)
        cyto.setdefault(spelling, {})["date"] = text
        where[f"cytogenetics.{spelling}.date"] = col.header
    elif kind == "finding":
        spelling = col.attr or col.key
        parts.spellings[col.key] = spelling
        cyto.setdefault(spelling, {})["result"] = text
        where[f"cytogenetics.{spelling}"] = col.header
    elif kind == "finding_percent":
        spelling = parts.spellings.get(col.key, col.key)
        cyto.setdefault(spelling, {})["percent"] = as_number(text)
        where[f"cytogenetics.{spelling}.percent"] = col.header


def _limits(text: str, unit: str | None) -> dict:
    """The lln and uln a reference range cell gives ('59-104', '<5', '>40', with a unit or in
    the lab's); a cell that is no range is the uln as written, which the reader cannot use."""
    m = re.match(r"^(<=|<|≤|>=|>|≥)?([\d.]+)(?:-([\d.]+))?(?:\s+(.+))?$", text)
    if m is None:
        return {"uln": text}
    bound, first, second, own = m.groups()
    unit = own or unit

    def limit(number: str):
        return f"{number} {unit}" if unit else as_number(number)

    if second is not None and bound is None:
        return {"lln": limit(first), "uln": limit(second)}
    if bound in ("<", "<=", "≤"):
        return {"uln": limit(first)}
    if bound in (">", ">=", "≥"):
        return {"lln": limit(first)}
    return {"uln": text}


def _place_history_cell(parts: _RowParts, col, text: str) -> None:
    """Place a condition, attestation, diagnosis or treatment cell; other kinds are ignored."""
    where = parts.where
    kind = col.kind
    if kind == "condition":
        parts.conds.setdefault(col.key, {})["present"] = text
        where[f"conditions.{col.key}"] = col.header
    elif kind == "condition_attr":
        value = as_number(text) if col.attr == "grade" else text
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
    if any("result" in v or "percent" in v for v in parts.cyto.values()):
        # a date without a result is no result: the finding is missing
        record["cytogenetics"] = {k: (v if set(v) - {"result"} else v.get("result")) for k, v in parts.cyto.items()
                                  if "result" in v or "percent" in v}
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

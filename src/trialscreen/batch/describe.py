"""What a batch would make of a file's columns, without screening it (`trialscreen columns`).

For each column of the header: what it maps to (the path in the patient record), the unit of
its bare numbers, whether the selected trials read it, and a few sample cells as the batch
reads them (coded values, missing tokens, number notation, scale, dates applied), or the error
a cell would be. The mapping's problems are listed, not raised, so one run shows them all.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from trialscreen.batch.cells import RowError, cell_text, plan_roles
from trialscreen.batch.columns import ColumnPlan
from trialscreen.batch.header import read_header
from trialscreen.batch.mapping import Mapping
from trialscreen.batch.plan import plan_columns

_SAMPLE_ROWS = 500     # rows looked at for samples
_SAMPLES = 3           # distinct cells shown per column


@dataclass
class ColumnReport:
    file: str
    delimiter: str
    encoding: str
    header_line: int
    columns: list = field(default_factory=list)     # one dict per column (and constant)
    problems: list = field(default_factory=list)    # the mapping's (Problem), as `batch` reports them
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    rows_sampled: int = 0
    mapped: bool = False                            # read with a --columns mapping

    def as_dict(self) -> dict:
        return {"file": self.file, "delimiter": self.delimiter, "encoding": self.encoding,
                "header_line": self.header_line, "rows_sampled": self.rows_sampled, "columns": self.columns,
                "problems": [p.as_dict() for p in self.problems], "notes": self.notes,
                "warnings": [str(w) for w in self.warnings]}


def target_of(col) -> str:
    """Where a column's cells go in the patient record, as `missing` names it."""
    kind, key, attr = col.kind, col.key, col.attr
    paths = {
        "id": "id", "scalar": key, "json_list": key, "allergies": "allergies", "complete": "complete",
        "lab": f"labs.{key}", "lab_attr": f"labs.{key}.{attr}", "lab_range": f"labs.{key}.lln and .uln",
        "lab_flag": f"labs.{key}.flag", "finding": f"cytogenetics.{key}",
        "finding_percent": f"cytogenetics.{key}.percent", "finding_date": f"cytogenetics.{key}.date",
        "condition": f"conditions.{key}", "condition_attr": f"conditions.{key}.{attr}",
        "attestation": f"attestations.{key}", "diagnosis": f"diagnoses[0].{key}",
        "diagnosis_attr": f"diagnoses[0].{attr}", "treatment": f"treatments[{key}].{attr}",
    }
    return paths.get(kind, kind)


def describe_columns(stream, source: str, mapping: Mapping | None, trials, *, delimiter: str | None = None,
                     decimal_comma: bool | None = None, encoding: str = "UTF-8") -> ColumnReport:
    """The report of ``stream``'s header (text, opened with newline='') and its first rows."""
    delim, header, offset = read_header(stream, source, mapping, delimiter)
    full = plan_columns(header, mapping, source, None, header_line=offset, check=False)
    used = plan_columns(header, mapping, source, trials, header_line=offset, check=False) if trials else full
    for plan in (full, used):
        if decimal_comma is not None:
            plan.decimal_comma = decimal_comma
    report = ColumnReport(source, {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(delim, delim),
                          encoding, offset, problems=list(full.problems), notes=list(used.notes),
                          warnings=list(full.warnings), mapped=mapping is not None)
    samples = _samples(stream, delim, full, report)
    by_header: dict = {}
    for col in full.columns:
        by_header.setdefault(col.header, []).append(col)
    for index, text in enumerate(h.strip().lstrip("\ufeff") for h in header):
        cols = [c for c in by_header.get(text, []) if c.index == index]
        report.columns.append(_entry(text, cols, samples, used, full))
    for col in full.columns:
        if col.constant is not None:
            report.columns.append(_entry(col.header, [col], samples, used, full))
    return report


def _entry(header: str, cols: list, samples: dict, used: ColumnPlan, full: ColumnPlan) -> dict:
    """One column's line of the report."""
    problem = next((p.message for p in full.problems if p.location.field == header), None)
    if not cols:
        status = ("problem" if problem else "not recognised" if header in full.unrecognised
                  else "not mapped" if header in full.unmapped else "ignored (mapped to null)")
        return {"column": header, "maps_to": None, "unit": None, "status": status, "samples": [],
                "problem": problem}
    first = cols[0]
    status = "problem" if problem else "used" if _is_kept(cols, used) else "not used"
    if first.constant is not None:
        status += " (constant)"
    return {"column": header, "maps_to": "; ".join(target_of(c) for c in cols), "unit": first.unit,
            "status": status, "samples": samples.get(id(first), []), "problem": problem}


def _is_kept(cols: list, used: ColumnPlan) -> bool:
    identities = {(c.index, c.kind, c.key, c.attr) for c in used.columns}
    return any((c.index, c.kind, c.key, c.attr) in identities for c in cols)


def _samples(stream, delim: str, plan: ColumnPlan, report: ColumnReport) -> dict:
    """id(column) -> [{"cell", "read"}]: the first distinct cells of each column, as read."""
    plan_roles(plan)
    plain = not plan.decimal_comma and plan.thousands is None
    out: dict = {id(c): [] for c in plan.columns}
    seen: dict = {id(c): set() for c in plan.columns}
    if hasattr(stream, "planned"):      # a workbook: its date cells in the mapping's date_format
        stream.planned(plan)
    reader = csv.reader(stream, delimiter=delim)
    for n, cells in enumerate(reader):
        if n >= _SAMPLE_ROWS:
            break
        if not any(c.strip() for c in cells):
            continue
        report.rows_sampled += 1
        cells = cells + plan.constants if len(cells) == plan.width else cells
        for col in plan.columns:
            key = id(col)
            if col.index >= len(cells) or len(out[key]) >= _SAMPLES or cells[col.index] in seen[key]:
                continue
            raw = cells[col.index]
            seen[key].add(raw)
            try:
                text = cell_text(plan, col, raw, plain)
                read = "missing" if text is None else text
            except RowError as exc:
                read = f"error: {exc.message}"
            out[key].append({"cell": raw, "read": read})
    return out

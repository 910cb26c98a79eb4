"""The extract description (``batch --extract EXTRACT.yaml``): which files hold the patients, the
results, the diagnoses and the treatments of a long EHR extract, and which of their columns hold
what. The keys of issue 16 are fixed (tests outside the project rely on them); per file, the
reading options of the ``--columns`` mapping (delimiter, encoding, date_format, timezone, missing)
may be given too. Read safely, every problem with the file's line and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from trialscreen.batch.mapping import known_keys
from trialscreen.batch.mapping import located_error as _error
from trialscreen.errors import FileReadError, InputError, Location

_TOP = ("layout", "as_of", "patients", "results", "diagnoses", "treatments")
_READING = ("delimiter", "encoding", "date_format", "timezone", "missing")
_KEYS = {
    "patients": ("file", "id", "columns") + _READING,
    "results": ("file", "id", "test", "tests", "loinc", "value", "unit", "date", "low", "high", "flag") + _READING,
    "diagnoses": ("file", "id", "code", "system", "date") + _READING,
    "treatments": ("file", "id", "drug", "rxnorm", "start", "end") + _READING,
    "tests": ("file", "key", "loinc", "name") + _READING,
}
_REQUIRED = {"patients": ("file", "id"), "results": ("file", "id", "value"), "diagnoses": ("file", "id", "code"),
             "treatments": ("file", "id"), "tests": ("file", "key")}
SYSTEMS = {"icd10cm": "ICD10CM", "icd10": "ICD10CM", "icd9cm": "ICD9CM", "icd9": "ICD9CM", "snomed": "SNOMED"}


@dataclass
class Source:
    """One file of the extract and the columns it names (``columns``: role -> column name)."""

    kind: str
    path: Path
    columns: dict
    options: dict = field(default_factory=dict)     # delimiter, encoding, date_format, timezone, missing
    extra: dict = field(default_factory=dict)       # patients: column -> {field, values}; diagnoses: system
    tests: Source | None = None                     # results: the dictionary of local test codes
    where: Location = field(default_factory=Location)


@dataclass
class Extract:
    path: str
    as_of: date | None                  # None: each patient's latest result date (latest_result)
    patients: Source
    results: list = field(default_factory=list)
    diagnoses: list = field(default_factory=list)
    treatments: list = field(default_factory=list)


def load_extract(path: str) -> Extract:
    from trialscreen.batch.mapping import read_mapping_yaml
    from trialscreen.criteria.yamlsrc import LMap

    data = read_mapping_yaml(path)
    if not isinstance(data, LMap):
        raise InputError("an extract description is a YAML mapping with 'patients:'", Location(path, 1, 1))
    known_keys(data, _TOP, path, "the extract")
    if data.get("layout", "long") != "long":
        raise _error(path, data.where("layout"), f"layout '{data.get('layout')}' is not one trialscreen reads",
                     "layout: long (one row per result, diagnosis or treatment)")
    if "patients" not in data:
        raise _error(path, (1, 1), "the extract names no patients file", "add patients: {file: ..., id: ...}")
    base = Path(path).resolve().parent
    out = Extract(path, _as_of(data, path), _source("patients", data["patients"], data.where("patients"), base, path))
    for kind in ("results", "diagnoses", "treatments"):
        items = data.get(kind) or []
        if isinstance(items, LMap):
            items = [items]
        if not isinstance(items, list):
            raise _error(path, data.where(kind), f"{kind} is a list of files", f"{kind}: [{{file: ..., id: ...}}]")
        for i, item in enumerate(items):
            where = items.where(i) if hasattr(items, "where") else data.where(kind)
            getattr(out, kind).append(_source(kind, item, where, base, path))
    return out


def _as_of(data, path: str) -> date | None:
    value = data.get("as_of", "latest_result")
    if value == "latest_result":
        return None
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise _error(path, data.where("as_of"), f"as_of '{value}' is not a date",
                     "write it as YYYY-MM-DD, or latest_result") from None


def _source(kind: str, spec, where, base: Path, path: str) -> Source:
    from trialscreen.criteria.yamlsrc import LMap

    if not isinstance(spec, LMap):
        raise _error(path, where, f"{kind} is a mapping with file: and id:", f"{kind}: {{file: X.csv, id: COLUMN}}")
    known_keys(spec, _KEYS[kind], path, kind)
    for key in _REQUIRED[kind]:
        if not spec.get(key):
            raise _error(path, spec.where(), f"{kind} needs '{key}:'", f"name the {key} of {kind}")
    if kind == "treatments" and not (spec.get("drug") or spec.get("rxnorm")):
        raise _error(path, spec.where(), "treatments needs 'drug:' or 'rxnorm:'", "name the column of the drug")
    if kind == "results" and not (spec.get("test") or spec.get("loinc")):
        raise _error(path, spec.where(), "results needs 'test:' or 'loinc:'", "name the column that names the test")
    file = base / str(spec["file"])
    if not file.is_file():
        raise FileReadError(f"no such file: {file} (named in {path})", Location(path, *spec.where("file")),
                            "paths are relative to the extract description")
    roles = {k: str(v) for k, v in spec.items() if k not in ("file", "columns", "tests", "system") + _READING}
    source = Source(kind, file, roles, {k: spec[k] for k in _READING if k in spec},
                    where=Location(path, *spec.where()))
    if kind == "patients":
        source.extra = _patient_columns(spec.get("columns") or LMap(), path)
    if kind == "diagnoses":
        system = str(spec.get("system", "icd10cm")).lower().replace("-", "").replace("_", "")
        if system not in SYSTEMS:
            raise _error(path, spec.where("system"), f"system '{spec.get('system')}' is not a code system trialscreen "
                         "reads", "icd10cm, icd9cm or snomed")
        source.extra = {"system": SYSTEMS[system]}
    if kind == "results" and spec.get("tests"):
        source.tests = _source("tests", spec["tests"], spec.where("tests"), base, path)
    return source


def _patient_columns(columns, path: str) -> dict:
    """column -> {'field': name, 'values': {written: meant}} of the patients file."""
    from trialscreen.criteria.yamlsrc import LMap

    out: dict = {}
    for column, spec in columns.items():
        if isinstance(spec, str):
            out[str(column)] = {"field": spec, "values": None}
        elif isinstance(spec, LMap) and spec.get("field"):
            known_keys(spec, ("field", "values"), path, f"the column {column}")
            values = spec.get("values")
            out[str(column)] = {"field": str(spec["field"]),
                                "values": {str(k).strip().lower(): v for k, v in values.items()} if values else None}
        else:
            raise _error(path, columns.where(column), f"column {column}: give a field, or {{field: ..., values: ...}}")
    return out

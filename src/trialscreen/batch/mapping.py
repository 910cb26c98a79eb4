"""The ``--columns`` mapping file: how an export's columns map onto the column convention
(batch/columns.py) and how the file writes its cells. Read safely, with the line of every entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trialscreen.errors import FileReadError, InputError, Location, UsageError
from trialscreen.units.normalize import SPACES, THOUSANDS


@dataclass(frozen=True)
class MappingEntry:
    target: str | None
    unit: str | None = None
    values: dict | None = None


@dataclass
class Mapping:
    columns: dict = field(default_factory=dict)      # export header -> MappingEntry
    delimiter: str | None = None
    decimal_comma: bool = False
    missing: tuple | None = None
    thousands: str | None = None                     # ".", "," or a space: see load_mapping


def load_mapping(path: str) -> Mapping:
    """Read a --columns YAML file (safely; see README)."""
    from trialscreen.criteria.yamlsrc import LMap

    data = _read_mapping_yaml(path)
    if not isinstance(data, LMap):
        raise InputError("a column mapping is a YAML mapping with 'columns:'", Location(path, 1, 1))
    for key in data:
        if key not in ("columns", "delimiter", "decimal_comma", "thousands", "missing"):
            raise _mapping_error(path, data.where_key(key), f"unknown key '{key}' in the column mapping",
                                 "use columns, delimiter, decimal_comma, thousands, missing")
    out = Mapping()
    _read_file_options(data, path, out)
    cols = data.get("columns") or LMap()
    if not isinstance(cols, LMap):
        raise _mapping_error(path, data.where("columns"), "columns must map export column names to fields")
    for header, spec in cols.items():
        out.columns[str(header)] = _mapping_entry(path, header, spec, cols.where(header))
    return out


def _read_mapping_yaml(path: str):
    """The parsed YAML of a mapping file; a FileReadError or InputError if it cannot be read."""
    from trialscreen.criteria.yamlsrc import load_yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileReadError(f"no such mapping file: {path}", Location(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileReadError(f"cannot read {path}: {exc}", Location(path)) from None
    data, problems = load_yaml(text, path)
    if problems:
        raise InputError(problems[0].message, problems[0].location, problems[0].hint)
    return data


def _mapping_error(path: str, pos, message: str, hint: str = "") -> InputError:
    """An InputError at a line and column of the mapping file."""
    return InputError(message, Location(path, pos[0], pos[1]), hint)


def _read_file_options(data, path: str, out: Mapping) -> None:
    """Read the mapping's delimiter, decimal_comma, thousands and missing into ``out``."""
    delim = data.get("delimiter")
    if delim is not None:
        out.delimiter = delimiter_of(delim, _mapping_error(path, data.where("delimiter"), "").location)
    dc = data.get("decimal_comma", False)
    if not isinstance(dc, bool):
        raise _mapping_error(path, data.where("decimal_comma"), "decimal_comma must be true or false")
    out.decimal_comma = dc
    if data.get("thousands") is not None:
        out.thousands = _thousands(data["thousands"], dc,
                                   _mapping_error(path, data.where("thousands"), "").location)
    if "missing" in data:
        miss = data["missing"]
        if not isinstance(miss, list) or not all(isinstance(m, (str, int, float)) for m in miss):
            raise _mapping_error(path, data.where("missing"),
                                 "missing must be a list of cell values meaning 'no value'")
        out.missing = tuple(str(m).strip().lower() for m in miss)


def _mapping_entry(path: str, header, spec, pos) -> MappingEntry:
    """One column's mapping: a field name, or {field, unit, values}."""
    from trialscreen.criteria.yamlsrc import LMap

    if spec is None or isinstance(spec, str):
        return MappingEntry(spec)
    if not isinstance(spec, LMap):
        raise _mapping_error(path, pos, f"the mapping of '{header}' must be a field name or {{field, unit, values}}")
    for key in spec:
        if key not in ("field", "unit", "values"):
            raise _mapping_error(path, spec.where_key(key), f"unknown key '{key}' in the mapping of '{header}'",
                                 "use field, unit, values")
    target = spec.get("field")
    if target is not None and not isinstance(target, str):
        raise _mapping_error(path, spec.where("field"), "field must be a column name of the convention")
    values = spec.get("values")
    if values is not None:
        if not isinstance(values, LMap):
            raise _mapping_error(path, spec.where("values"),
                                 "values maps a coded cell to a value, e.g. {1: detected, 0: not detected}")
        values = {_norm_cell(k): (None if v is None else str(v)) for k, v in values.items()}
    unit = spec.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise _mapping_error(path, spec.where("unit"), "unit must be text such as mg/dL")
    return MappingEntry(target, unit, values)


def _norm_cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def delimiter_of(value, location=None) -> str:
    names = {"comma": ",", ",": ",", "tab": "\t", "\\t": "\t", "\t": "\t", "semicolon": ";", ";": ";",
             "pipe": "|", "|": "|"}
    if value not in names:
        raise UsageError(f"delimiter '{value}' is not one of comma, tab, semicolon, pipe", location)
    return names[value]


def _thousands(value, decimal_comma: bool, location) -> str:
    """The mapping's thousands separator: a dot (with a decimal comma), a comma (with a
    decimal point) or a space; never guessed from the cells."""
    if not isinstance(value, str) or value not in THOUSANDS:
        raise InputError(f"thousands must be \".\", \",\" or a space (\" \"), not {value!r}", location,
                         "quote it: thousands: \".\" (1.500,5 with decimal_comma: true) or "
                         "thousands: \" \" (1 500,5)")
    if value == "." and not decimal_comma:
        raise InputError("thousands: \".\" needs decimal_comma: true: with a decimal point, a dot "
                         "cannot also separate thousands", location,
                         "add decimal_comma: true if the file writes 1.500,5; otherwise remove thousands")
    if value == "," and decimal_comma:
        raise InputError("thousands: \",\" cannot go with decimal_comma: true: the comma is the "
                         "decimal mark", location, "for 1.500,5 say thousands: \".\"")
    return " " if value in SPACES else value

"""The ``--columns`` mapping file: how an export's columns map onto the column convention
(batch/columns.py) and how the file writes its cells. Read safely, with the line of every entry."""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from trialscreen.errors import FileReadError, InputError, Location, UsageError
from trialscreen.units.normalize import SPACES, THOUSANDS

_FILE_KEYS = ("columns", "constants", "encoding", "delimiter", "decimal_comma", "thousands", "missing",
              "missing_only", "date_format", "timezone", "ignore_unmapped")
_COLUMN_KEYS = ("field", "unit", "values", "scale", "decimal_comma", "thousands", "missing", "missing_only",
                "date_format", "timezone", "date_from", "reference_range", "flag")
KEEP = object()    # a column option not given: the file's applies


@dataclass(frozen=True)
class CellFormat:
    """How cells are written: the file's, or one column's own (``None``: the file's)."""

    decimal_comma: bool | None = None
    thousands: object = KEEP                # ".", ",", " ", None (no separator), or KEEP
    missing: tuple | None = None             # tokens added to the defaults (or the file's)
    missing_only: bool = False               # ``missing_only``: the tokens replace them
    date_format: str | None = None           # strftime, see batch/dates.py
    timezone: str | None = None


@dataclass(frozen=True)
class MappingEntry:
    target: str | None
    unit: str | None = None
    values: dict | None = None
    line: int = 0                            # where the entry stands in the mapping file
    scale: str | None = None                 # each number of a cell times this (decimal text)
    format: CellFormat = CellFormat()
    date_from: str | None = None             # the export column dating this lab or finding
    reference_range: str | None = None       # the cells are 'low-high' of this lab
    flag: str | None = None                  # the cells are H / L / N of this lab
    positions: dict = field(default_factory=dict, compare=False)   # key -> (line, column)


@dataclass
class Mapping:
    columns: dict = field(default_factory=dict)      # export header -> MappingEntry
    delimiter: str | None = None
    decimal_comma: bool = False
    missing: tuple | None = None                     # tokens added to DEFAULT_MISSING
    missing_only: bool = False                       # ... or replacing them
    thousands: str | None = None                     # ".", "," or a space: see load_mapping
    date_format: str | None = None
    timezone: str | None = None
    encoding: str | None = None
    ignore_unmapped: bool = False
    constants: dict = field(default_factory=dict)    # convention column -> text for every row
    path: str = ""
    positions: dict = field(default_factory=dict, compare=False)   # key or 'constants.NAME' -> (line, column)

    def where(self, key: str) -> Location:
        line, column = self.positions.get(key, (None, None))
        return Location(self.path or None, line, column)


def load_mapping(path: str) -> Mapping:
    """Read a --columns YAML file (safely; see README)."""
    from trialscreen.criteria.yamlsrc import LMap

    data = read_mapping_yaml(path)
    if not isinstance(data, LMap):
        raise InputError("a column mapping is a YAML mapping with 'columns:'", Location(path, 1, 1))
    known_keys(data, _FILE_KEYS, path, "the column mapping")
    out = Mapping(path=path)
    out.positions = {k: data.where_key(k) for k in data}
    _read_file_options(data, path, out)
    cols = data.get("columns") or LMap()
    if not isinstance(cols, LMap):
        raise located_error(path, data.where("columns"), "columns must map export column names to fields")
    for header, spec in cols.items():
        out.columns[str(header).strip()] = _mapping_entry(path, header, spec, cols.where_key(header), out)
    consts = data.get("constants") or LMap()
    if not isinstance(consts, LMap) or not all(isinstance(v, (str, int, float, bool)) for v in consts.values()):
        raise located_error(path, data.where("constants"), "constants maps a column name of the convention to "
                             "the value every row has", "e.g. constants: {diagnosis: multiple myeloma}")
    for name, value in consts.items():
        out.constants[str(name).strip()] = _norm_value(value)
        out.positions[f"constants.{name}"] = consts.where_key(name)
    return out


def known_keys(data, allowed: tuple, path: str, what: str) -> None:
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.7)
            raise located_error(path, data.where_key(key), f"unknown key '{key}' in {what}",
                                 f"did you mean '{close[0]}'?" if close else "use " + ", ".join(allowed))


def read_mapping_yaml(path: str):
    """The parsed YAML of a mapping file; a FileReadError or InputError if it cannot be read."""
    from trialscreen.criteria.yamlsrc import load_yaml

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileReadError(f"no such mapping file: {path}", Location(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FileReadError(f"cannot read {path}: {exc}", Location(path)) from None
    data, problems = load_yaml(text, path)
    if problems:
        raise InputError(problems[0].message, problems[0].location, problems[0].hint)
    return data


def located_error(path: str, pos, message: str, hint: str = "") -> InputError:
    """An InputError at a line and column of a YAML file (the mapping, an extract description)."""
    return InputError(message, Location(path, pos[0], pos[1]), hint)


def _read_file_options(data, path: str, out: Mapping) -> None:
    """Read the mapping's file-wide options into ``out``."""
    delim = data.get("delimiter")
    if delim is not None:
        out.delimiter = delimiter_of(delim, located_error(path, data.where("delimiter"), "").location)
    fmt = _read_format(data, path, False)
    out.decimal_comma = bool(fmt.decimal_comma)
    out.thousands = None if fmt.thousands is KEEP else fmt.thousands  # type: ignore[assignment]
    out.missing, out.missing_only = fmt.missing, fmt.missing_only
    out.date_format, out.timezone = fmt.date_format, fmt.timezone
    if data.get("encoding") is not None:
        out.encoding = encoding_of(data["encoding"], located_error(path, data.where("encoding"), "").location)
    flag = data.get("ignore_unmapped", False)
    if not isinstance(flag, bool):
        raise located_error(path, data.where("ignore_unmapped"), "ignore_unmapped must be true or false")
    out.ignore_unmapped = flag


def _read_format(data, path: str, file_decimal_comma: bool | None) -> CellFormat:
    """decimal_comma, thousands, missing / missing_only, date_format and timezone of the file or a column."""
    from trialscreen.batch.dates import date_format_of, timezone_of

    dc = data.get("decimal_comma")
    if dc is not None and not isinstance(dc, bool):
        raise located_error(path, data.where("decimal_comma"), "decimal_comma must be true or false")
    thousands: object = KEEP
    if "thousands" in data:
        thousands = None if data["thousands"] is None else _thousands(
            data["thousands"], bool(dc if dc is not None else file_decimal_comma),
            located_error(path, data.where("thousands"), "").location)
    if "missing" in data and "missing_only" in data:
        raise located_error(path, data.where_key("missing_only"), "give missing (added to the default tokens) "
                             "or missing_only (instead of them), not both")
    key = "missing_only" if "missing_only" in data else "missing"
    missing = None
    if key in data:
        miss = data[key]
        if not isinstance(miss, list) or not all(isinstance(m, (str, int, float)) for m in miss):
            raise located_error(path, data.where(key), f"{key} must be a list of cell values meaning 'no value'",
                                 'e.g. missing: [NA, "-1"]')
        missing = tuple(_norm_cell(m) for m in miss)
    fmt_text, tz = data.get("date_format"), data.get("timezone")
    if fmt_text is not None:
        fmt_text = date_format_of(fmt_text, located_error(path, data.where("date_format"), "").location)
    if tz is not None:
        tz = timezone_of(tz, located_error(path, data.where("timezone"), "").location)
    return CellFormat(dc, thousands, missing, key == "missing_only" and missing is not None, fmt_text, tz)


def _mapping_entry(path: str, header, spec, pos, mapping: Mapping) -> MappingEntry:
    """One column's mapping: a field name (or null), or an object of _COLUMN_KEYS."""
    from trialscreen.criteria.yamlsrc import LMap

    if spec is None or isinstance(spec, str):
        return MappingEntry(spec, line=pos[0], positions={"field": pos})
    if not isinstance(spec, LMap):
        raise located_error(path, pos, f"the mapping of '{header}' must be a field name or an object "
                             "such as {field: creatinine, unit: mg/dL}")
    known_keys(spec, _COLUMN_KEYS, path, f"the mapping of '{header}'")
    text = {}
    for key in ("field", "unit", "date_from", "reference_range", "flag"):
        value = spec.get(key)
        if value is not None and not isinstance(value, str):
            raise located_error(path, spec.where(key), f"{key} must be text")
        text[key] = value.strip() if isinstance(value, str) else None
    values = spec.get("values")
    if values is not None:
        if not isinstance(values, LMap):
            raise located_error(path, spec.where("values"),
                                 "values maps a coded cell to a value, e.g. {1: detected, 0: not detected}")
        values = {_norm_cell(k): (None if v is None else _norm_value(v)) for k, v in values.items()}
    roles = [k for k in ("field", "reference_range", "flag") if text[k]]
    if len(roles) > 1:
        raise located_error(path, spec.where_key(roles[1]), f"'{header}' is given both {roles[0]} and {roles[1]}",
                             "a column holds one thing: a field, a lab's reference range, or a lab's flag")
    positions = {k: spec.where(k) for k in spec}
    fmt = _read_format(spec, path, mapping.decimal_comma)
    _own_decimal_mark(fmt, mapping, header, located_error(path, spec.where("decimal_comma"), "").location)
    return MappingEntry(text["field"], text["unit"], values, pos[0], _scale(spec, path), fmt, text["date_from"],
                        text["reference_range"], text["flag"], positions)


def _own_decimal_mark(fmt: CellFormat, mapping: Mapping, header, location) -> None:
    """A column's own decimal mark cannot be the file's thousands separator: which separator the
    column uses instead (none, or the other mark) is not guessed."""
    if fmt.decimal_comma is None or fmt.thousands is not KEEP or mapping.thousands is None:
        return
    if (fmt.decimal_comma, mapping.thousands) in ((False, "."), (True, ",")):
        mark = "comma" if fmt.decimal_comma else "point"
        raise InputError(f"'{header}' says decimal_comma: {str(fmt.decimal_comma).lower()}, but the file's "
                         f"thousands separator is \"{mapping.thousands}\": the column's decimal {mark} cannot "
                         "also separate its thousands", location,
                         "give the column its own thousands too: thousands: null (none)" +
                         ("" if fmt.decimal_comma else ", or thousands: \",\"") +
                         ("" if not fmt.decimal_comma else ", or thousands: \".\""))


def _scale(spec, path: str) -> str | None:
    """The entry's scale as exact decimal text, or None."""
    if "scale" not in spec:
        return None
    value = spec["scale"]
    try:
        number = Decimal(str(value)) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number <= 0:
        raise located_error(path, spec.where("scale"), "scale must be a positive number",
                             "each number of the column is multiplied by it: scale: 1000 reads 150 as 150000")
    return str(number)


def _norm_value(value) -> str:
    """A mapping's value as the text a cell would hold (YAML's true is 'true', 1.0 is '1.0')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def encoding_of(name, location=None) -> str:
    """A text encoding's name as Python knows it (cp1252, latin-1, utf-8), or a UsageError."""
    hint = "use utf-8, cp1252 (Windows, Western Europe), latin-1 or another codec name"
    if not isinstance(name, str):
        raise UsageError("encoding must be the name of a text encoding", location, hint)
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):
        raise UsageError(f"encoding '{name}' is not one Python knows", location, hint) from None
    if not getattr(codec, "_is_text_encoding", True):      # rot13, base64, zlib: bytes to bytes
        raise UsageError(f"encoding '{name}' is not a text encoding: it does not turn bytes into text",
                         location, hint)
    return codec.name


def _norm_cell(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def delimiter_of(value, location=None) -> str:
    names = {"comma": ",", ",": ",", "tab": "\t", "\\t": "\t", "\t": "\t", "semicolon": ";", ";": ";",
             "pipe": "|", "|": "|"}
    if not isinstance(value, str):
        raise UsageError("delimiter must be one of comma, tab, semicolon, pipe", location,
                         "e.g. delimiter: tab")
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

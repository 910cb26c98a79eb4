"""Which patient field each CSV column holds: resolved once per file, from the
header and an optional mapping file, never per row.

Column naming convention (documented in README, section "Batch"):

- ``id``; patient fields ``age``, ``birth_date``, ``sex``, ``ecog``, ``as_of``, ``weight``,
  ``height``, ``childbearing_potential``, ``pregnant``, ``lactating``, ``transplant_candidate``;
- a lab by its analyte name or synonym (``creatinine``, ``plt``); a bare-number column carries
  its unit in square brackets (``creatinine [mg/dL]``); ``<analyte>_uln``, ``<analyte>_lln``,
  ``<analyte>_date`` for its reference range and date;
- a cytogenetic finding by its name or a lab spelling (``del(17p)``, ``IGH/FGFR3``), and
  ``<finding>_percent`` for the share of cells;
- a condition by its name (``cns_involvement``: yes / no), ``<condition>_grade``,
  ``<condition>_active``, ``<condition>_date``;
- ``attestation.<name>`` (yes / no);
- ``diagnosis`` (name), ``diagnosis_date``, ``diagnosis.<attribute>`` (``diagnosis.status``);
- a treatment by type: ``<type>_date`` (one-day treatments such as ``asct_date``),
  ``<type>_start``, ``<type>_end`` (``induction_start``, ``induction_end``), ``<type>.<attribute>``;
- ``treatments``, ``diagnoses``, ``neoplasms``: a JSON list in the cell, as in the JSON record;
- ``allergies``: substances separated by ``;``; ``complete``: sections separated by ``;``.

A ``--columns`` mapping file renames export columns onto these names, gives a unit for
bare numbers, and maps coded values (``1`` / ``0`` / ``NA``) to results. It also says how the
file writes numbers: ``decimal_comma: true`` (``1,5``) and ``thousands`` (``"."`` with a decimal
comma, ``","`` with a decimal point, or a space); a separator is never guessed from the cells.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from trialscreen import vocab
from trialscreen.errors import UsageError
from trialscreen.patient.fields import FLAGS

SCALARS = {"age", "birth_date", "sex", "ecog", "as_of", "lab_date", "weight", "height", *FLAGS}
JSON_LISTS = {"treatments", "diagnoses", "neoplasms"}
DEFAULT_MISSING = ("", "na", "n/a", "nan", "null", "none", ".", "-", "--", "unknown", "not done", "nd", "?")
UNIT_IN_HEADER = re.compile(r"^(.*?)\s*\[([^\]]+)\]\s*$")


@dataclass(frozen=True)
class Column:
    """Where the cells of one column go in the record."""

    index: int
    header: str
    kind: str                      # id, scalar, lab, lab_attr, finding, finding_percent, condition,
    #                                condition_attr, attestation, diagnosis, diagnosis_attr, treatment,
    #                                json_list, allergies, complete
    key: str = ""                  # canonical name (analyte, finding, condition, field, ...)
    attr: str = ""                 # uln / lln / date / grade / start / ...
    unit: str | None = None        # unit for bare numbers
    values: dict | None = None     # coded value -> value (a mapped None is missing)
    missing: frozenset | None = None    # this column's missing tokens (None: the file's)
    number: tuple | None = None    # this column's (decimal_comma, thousands), None: the file's
    dates: tuple = (None, None)    # (strftime format, IANA zone) of date cells: see batch/dates.py
    scale: str | None = None       # each number of a cell times this
    constant: str | None = None    # the text of a constant of the mapping (every row's), not of the file


@dataclass
class ColumnPlan:
    columns: list
    ignored: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    delimiter: str | None = None
    decimal_comma: bool = False
    missing: frozenset = frozenset(DEFAULT_MISSING)
    thousands: str | None = None   # the thousands separator the mapping declares, if any
    encoding: str = "UTF-8"        # the file's, as the batch was told (for messages)
    width: int = 0                 # cells in the file's header (constants come after them)
    constants: list = field(default_factory=list)   # the text of each constant column, in index order
    unused: list = field(default_factory=list)      # columns read by no selected trial: not parsed
    notes: list = field(default_factory=list)       # what the plan leaves out, one grouped line each
    problems: list = field(default_factory=list)    # the mapping's, when planned without check
    unrecognised: list = field(default_factory=list)   # headers nothing recognises (also in ignored)
    unmapped: list = field(default_factory=list)    # headers left out by ignore_unmapped (also in ignored)
    roles: dict = field(default_factory=dict, repr=False, compare=False)  # rows.py: how each column reads

    def __setattr__(self, name, value):
        # --decimal-comma / --no-decimal-comma may override the mapping after planning:
        # a decimal mark that is also the declared thousands separator is refused here.
        object.__setattr__(self, name, value)
        if name in ("decimal_comma", "thousands"):
            _check_number_format(getattr(self, "decimal_comma", False), getattr(self, "thousands", None))


def _check_number_format(decimal_comma: bool, thousands: str | None) -> None:
    if thousands == "." and not decimal_comma:
        raise UsageError("the mapping says thousands: \".\", but the file is read with a decimal point: "
                         "a dot cannot be both", hint="a dot groups thousands only with decimal_comma: true; "
                         "drop --no-decimal-comma, or the mapping's thousands")
    if thousands == "," and decimal_comma:
        raise UsageError("the mapping says thousands: \",\", but the file is read with a decimal comma: "
                         "a comma cannot be both", hint="drop --decimal-comma, or the mapping's thousands")


def takes_unit(col: Column) -> bool:
    """Columns whose bare numbers a unit can qualify."""
    if col.kind == "lab" or (col.kind == "lab_attr" and col.attr in ("uln", "lln")):
        return True
    return col.kind == "scalar" and col.key in ("weight", "height")


def resolve(index, header, name, unit, values) -> Column | None:
    key = vocab.name_key(name)
    low = name.strip().lower()

    def col(kind, k="", attr=""):
        return Column(index, header, kind, k, attr, unit, values)

    if key == "id":
        return col("id")
    if key in SCALARS:
        return col("scalar", key)
    if key in JSON_LISTS:
        return col("json_list", key)
    if key == "allergies":
        return col("allergies")
    if key == "complete":
        return col("complete")
    for prefix, kind in (("attestation.", "attestation"), ("attestations.", "attestation")):
        if low.startswith(prefix):
            return col(kind, vocab.name_key(name[len(prefix):]))
    if key == "diagnosis":
        return col("diagnosis", "name")
    if key == "diagnosis_date":
        return col("diagnosis", "date")
    if low.startswith("diagnosis."):
        return col("diagnosis_attr", "", vocab.name_key(name[len("diagnosis."):]))
    analyte = vocab.analytes().canonical(name)
    if analyte:
        return col("lab", analyte)
    finding = vocab.findings().canonical(name)
    if finding:
        return col("finding", finding, name.strip())  # the lab's spelling, kept for explanations
    condition = vocab.conditions().canonical(name)
    if condition:
        return col("condition", condition, "present")
    for suffix in ("_uln", "_lln", "_date"):
        if key.endswith(suffix):
            a = vocab.analytes().canonical(key[: -len(suffix)])
            if a:
                return col("lab_attr", a, suffix[1:])
    if key.endswith("_percent") or key.endswith("_pct"):
        base = name.rsplit("_", 1)[0]
        f = vocab.findings().canonical(base)
        if f:
            return col("finding_percent", f)
    for suffix in ("_grade", "_active", "_date", "_end"):
        if key.endswith(suffix):
            c = vocab.conditions().canonical(key[: -len(suffix)])
            if c:
                return col("condition_attr", c, suffix[1:])
    if "." in name:
        kind, _, attr = name.partition(".")
        treatment = vocab.treatments().canonical(kind)
        if treatment:
            return col("treatment", treatment, vocab.name_key(attr))
    for suffix in ("_date", "_start", "_end"):
        treatment = vocab.treatments().canonical(key[: -len(suffix)]) if key.endswith(suffix) else None
        if treatment:
            return col("treatment", treatment, suffix[1:])
    return None


def ambiguous(name: str) -> str | None:
    """The refusal of an analyte name that means more than one thing ('K' is potassium or
    kappa), alone or with a column suffix ('K_uln'), or None."""
    key = vocab.name_key(name)
    for suffix in ("_uln", "_lln", "_date"):
        if key.endswith(suffix) and vocab.analytes().ambiguity(key[: -len(suffix)]):
            return vocab.analytes().ambiguity(key[: -len(suffix)])
    return vocab.analytes().ambiguity(name)


def suggest(name: str) -> str:
    key = vocab.name_key(name)
    for v in (vocab.analytes(), vocab.conditions()):
        close = difflib.get_close_matches(key, list(v.index), n=1, cutoff=0.75)
        if close:
            return f"did you mean '{v.index[close[0]]}'?"
    close = difflib.get_close_matches(vocab.finding_key(name), list(vocab.findings().index), n=1, cutoff=0.75)
    if close:
        return f"did you mean '{vocab.findings().index[close[0]]}'?"
    options = sorted(SCALARS | JSON_LISTS | {"id", "allergies", "complete", "diagnosis", "diagnosis_date"})
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.75)
    if close:
        return f"did you mean '{close[0]}'?"
    return "map it with --columns, or leave it: it is not used"

"""A file's header and its mapping to the column plan, checked before the first row.

Every problem of the mapping (an entry that matches no column, a field that names nothing, a
unit its lab cannot have, a date column or lab that does not exist) is found here and reported
together, each at its line of the mapping file. The plan keeps only the columns the selected
trials read: the others are never parsed, so a bad cell in them is no error, and they are
named once, grouped.
"""

from __future__ import annotations

import difflib

from trialscreen import vocab
from trialscreen.batch.checks import body_unit_problem, value_problem
from trialscreen.batch.columns import (
    DEFAULT_MISSING,
    UNIT_IN_HEADER,
    Column,
    ColumnPlan,
    ambiguous,
    resolve,
    suggest,
    takes_unit,
)
from trialscreen.batch.groups import group_name, group_of
from trialscreen.batch.mapping import KEEP, Mapping, MappingEntry
from trialscreen.errors import Location, MappingError, PatientError, Problem

_SHOWN = 12     # column names listed in one grouped line


class _Planner:
    """The state of planning one header: what is found, and the problems."""

    def __init__(self, headers: list[str], mapping: Mapping, source: str, line: int):
        self.headers, self.mapping, self.source, self.line = headers, mapping, source, line
        self.index: dict[str, int] = {}
        for i, h in enumerate(headers):
            self.index.setdefault(h, i)
        self.problems: list[Problem] = []
        self.seen: dict[tuple, str] = {}
        self.columns: list[Column] = []
        file_missing = (frozenset(mapping.missing or ()) | {""}) if mapping.missing_only \
            else frozenset(DEFAULT_MISSING) | frozenset(mapping.missing or ())
        self.missing = file_missing
        self.lab_dates: dict[str, dict] = {}     # date column -> date_format / timezone its date_from entries give

    def at(self, entry: MappingEntry | None, header: str, key: str = "field") -> Location:
        """The mapping entry's line (and the key's), else the header cell."""
        if entry is not None and self.mapping.path:
            pos = entry.positions.get(key) or (entry.line, None)
            return Location(self.mapping.path, pos[0], pos[1], field=header)
        return Location(self.source, self.line, field=header)

    def problem(self, where: Location, message: str, hint: str = "") -> None:
        self.problems.append(Problem(where, message, hint))

    def add(self, col: Column, where: Location) -> None:
        # a reference range cell gives the lab's uln and lln: it holds what their columns hold
        identities = [(col.kind, col.key, col.attr)] if col.kind != "lab_range" else \
            [("lab_range", col.key, ""), ("lab_attr", col.key, "uln"), ("lab_attr", col.key, "lln")]
        for kind, key, attr in identities:
            if (kind, key, attr) in self.seen:
                what = f"the reference range of {key}" if kind == "lab_range" else \
                    f"{key or kind}{'.' + attr if attr else ''}"
                self.problem(where, f"columns '{self.seen[(kind, key, attr)]}' and '{col.header}' both hold {what}",
                             "keep one, or map one to null")
                return
        for identity in identities:
            self.seen[identity] = col.header
        self.columns.append(col)

    def formats(self, entry: MappingEntry | None, header: str = "") -> dict:
        """The Column fields of an entry's own cell format (missing, number notation, dates); the
        dates of a column some lab's ``date_from`` names are that lab entry's, unless its own."""
        fmt = entry.format if entry is not None else None
        m = self.mapping
        missing = self.missing
        if fmt is not None and fmt.missing is not None:
            missing = (frozenset(fmt.missing) | {""}) if fmt.missing_only else missing | frozenset(fmt.missing)
        number = None
        if fmt is not None and (fmt.decimal_comma is not None or fmt.thousands is not KEEP):
            dc = m.decimal_comma if fmt.decimal_comma is None else fmt.decimal_comma
            number = (dc, m.thousands if fmt.thousands is KEEP else fmt.thousands)
        given = self.lab_dates.get(header, {})
        dates = ((fmt.date_format if fmt and fmt.date_format else given.get("date_format") or m.date_format),
                 (fmt.timezone if fmt and fmt.timezone else given.get("timezone") or m.timezone))
        return {"missing": missing if missing != self.missing else None, "number": number, "dates": dates,
                "scale": entry.scale if entry is not None else None}


def plan_columns(header: list[str], mapping: Mapping | None, source: str, trials=None,
                 header_line: int = 1, check: bool = True) -> ColumnPlan:
    """Resolve every header once, against the mapping; only the columns ``trials`` read are
    kept (all of them without trials). A MappingError carries every problem found; with
    ``check=False`` they are the plan's ``problems`` instead (the columns they concern left out)."""
    mapping = mapping or Mapping()
    headers = [raw.strip().lstrip("\ufeff") for raw in header]
    p = _Planner(headers, mapping, source, header_line)
    _unmatched_entries(p)
    _lab_dates(p)
    dated_from = {e.date_from for e in mapping.columns.values() if e.date_from}
    ignored, unrecognised, unmapped = [], [], []
    for index, header_text in enumerate(headers):
        entry = mapping.columns.get(header_text)
        if entry is None and mapping.ignore_unmapped:
            if header_text not in dated_from:
                unmapped.append(header_text)
            continue
        if entry is not None and entry.target is None and not (entry.unit or entry.values or entry.reference_range
                                                               or entry.flag):
            if "field" not in entry.positions and header_text not in dated_from:
                p.problem(p.at(entry, header_text, ""), f"the mapping of '{header_text}' says how its cells are "
                          "written but not what they hold: give field:", "the field the column holds, as in "
                          "{field: ecog, missing: [\"-1\"]}; or map the column to null to ignore it")
            ignored.append(header_text)
            continue
        if not _plan_column(p, index, header_text, entry) and header_text not in dated_from:
            unrecognised.append(header_text)
    _constants(p, len(headers))
    if not any(c.kind == "id" for c in p.columns):
        p.problem(Location(source, header_line), "the file has no 'id' column",
                  "name the patient id column 'id', or map it with --columns")
    problems = sorted(p.problems, key=lambda q: (q.location.file or "", q.location.line or 0))
    if problems and check:
        raise MappingError(problems)
    plan = ColumnPlan(p.columns, ignored + unrecognised + unmapped, _grouped_warnings(p, unrecognised))
    plan.problems = problems
    plan.unrecognised, plan.unmapped = unrecognised, unmapped
    plan.delimiter, plan.decimal_comma, plan.thousands = mapping.delimiter, mapping.decimal_comma, mapping.thousands
    plan.missing = p.missing
    plan.width = len(headers)
    plan.constants = [c.constant for c in p.columns if c.constant is not None]
    if unmapped:
        plan.notes.append(_listed(unmapped, "column is not in the mapping and is not used (ignore_unmapped)",
                                  "columns are not in the mapping and are not used (ignore_unmapped)"))
    if trials:
        _keep_used(plan, trials)
    return plan


def _plan_column(p: _Planner, index: int, header_text: str, entry: MappingEntry | None) -> bool:
    """Add the columns of one header cell to the plan; False if it names nothing."""
    fields = p.formats(entry, header_text)
    if entry is not None and (entry.reference_range or entry.flag):
        name = entry.reference_range or entry.flag or ""
        key = "reference_range" if entry.reference_range else "flag"
        analyte = vocab.analytes().canonical(name)
        if analyte is None:
            p.problem(p.at(entry, header_text, key), f"{key} of '{header_text}': '{name}' is not a lab",
                      suggest(name))
            return True
        if entry.unit:
            _check_unit(p, entry, header_text, analyte, entry.unit)
        _check_scale(p, entry, header_text, entry.unit, True)
        p.add(Column(index, header_text, "lab_range" if key == "reference_range" else "lab_flag", analyte, "",
                     entry.unit, entry.values, **fields), p.at(entry, header_text, key))
        return True
    name = entry.target if entry is not None and entry.target else header_text
    unit = entry.unit if entry else None
    m = UNIT_IN_HEADER.match(name)
    if m:
        name, bracket_unit = m.group(1), m.group(2).strip()
        if unit and unit != bracket_unit:
            p.problem(p.at(entry, header_text, "unit"),
                      f"column '{header_text}' has unit [{bracket_unit}] and the mapping says {unit}")
        unit = unit or bracket_unit
    col = resolve(index, header_text, name, unit, entry.values if entry else None)
    refusal = ambiguous(name) if col is None else None
    if refusal:  # 'K', 'CR': never guessed, never ignored
        p.problem(p.at(entry, header_text), f"column '{header_text}': {refusal}",
                  "rename the column to the full name of what was measured (or its LOINC code), "
                  "or map it with --columns")
        return True
    if col is None:
        if entry is not None and entry.target:
            p.problem(p.at(entry, header_text), f"'{entry.target}' (the field of '{header_text}') is not a "
                      "column name of the convention", suggest(entry.target))
            return True
        return False
    col = Column(col.index, col.header, col.kind, col.key, col.attr, col.unit, col.values, **fields)
    if unit and not takes_unit(col):
        p.problem(p.at(entry, header_text, "unit"), f"column '{header_text}' gives the unit {unit}, but "
                  f"{col.key or col.kind} has no unit", "remove the unit (ages are in years, ECOG and grades "
                  "are plain numbers)")
    elif unit and col.kind in ("lab", "lab_attr"):     # a value, or its uln / lln
        _check_unit(p, entry, header_text, col.key, unit)
    elif unit and (body := body_unit_problem(col, unit)) is not None:
        p.problem(p.at(entry, header_text, "unit"), f"the unit of '{header_text}' cannot be used: {body[0]}", body[1])
    if (wrong := value_problem(col)) is not None:
        p.problem(p.at(entry, header_text, "values"), f"values of '{header_text}': '{wrong[0]}' is not "
                  f"{wrong[1]}", wrong[2])
    _check_scale(p, entry, header_text, unit, takes_unit(col))
    p.add(col, p.at(entry, header_text))
    if entry is not None and entry.date_from:
        _dated_from(p, col, entry)
    return True


def _check_scale(p: _Planner, entry: MappingEntry | None, header_text: str, unit: str | None, numeric: bool) -> None:
    """A scale multiplies bare numbers in a unit the mapping names: a number that carries its
    own unit is never scaled, and a column of no such numbers has nothing to scale."""
    if entry is None or entry.scale is None:
        return
    if not numeric:
        p.problem(p.at(entry, header_text, "scale"), f"column '{header_text}' has a scale, but its cells are "
                  "not numbers with a unit", "scale is for a lab, its limits or range, weight or height")
    elif not unit:
        p.problem(p.at(entry, header_text, "scale"), f"column '{header_text}': scale multiplies bare numbers: "
                  "give their unit too", "e.g. {field: platelets, unit: x10^9/L, scale: 1000}")


def _check_unit(p: _Planner, entry, header_text: str, analyte_name: str, unit: str) -> None:
    """A problem if ``unit`` cannot be a unit of the analyte (checked once, before any row)."""
    from trialscreen.patient.labs import lab_unit
    from trialscreen.patient.reader import Reader

    analyte = vocab.analytes().get(analyte_name)
    if analyte is None or analyte.qualitative:
        return
    try:
        lab_unit(Reader(p.source, None), analyte, unit, ())
    except PatientError as exc:
        p.problem(p.at(entry, header_text, "unit"), f"the unit of '{header_text}' cannot be used: {exc.message}",
                  exc.hint or "give a unit of " + analyte_name + ": " + ", ".join(u.display for u in analyte.units))


def _dated_from(p: _Planner, col: Column, entry: MappingEntry) -> None:
    """The column that dates a lab or a finding (date_from), as one more column of its group."""
    source = entry.date_from or ""
    where = p.at(entry, col.header, "date_from")
    if source not in p.index:
        close = difflib.get_close_matches(source, p.headers, n=1, cutoff=0.6)
        p.problem(where, f"date_from of '{col.header}': the file has no column '{source}'",
                  f"did you mean '{close[0]}'?" if close else "name a column of the header")
        return
    kinds = {"lab": ("lab_attr", "date"), "finding": ("finding_date", "date")}
    if col.kind not in kinds:
        p.problem(where, f"date_from is for labs and cytogenetic findings; '{col.header}' holds "
                  f"{col.key or col.kind}", f"name its date column {col.key}_date instead")
        return
    kind, attr = kinds[col.kind]
    fields = p.formats(p.mapping.columns.get(source), source)
    p.add(Column(p.index[source], source, kind, col.key, attr, **{**fields, "scale": None}), where)


def _lab_dates(p: _Planner) -> None:
    """The date_format and timezone a lab entry gives are for the column its date_from names (the
    lab's own cells are numbers): that column's own entry, or another lab dated by it, saying
    otherwise is a problem, never one reading chosen."""
    for header, entry in p.mapping.columns.items():
        if not entry.date_from:
            continue
        own = p.mapping.columns.get(entry.date_from)
        given = p.lab_dates.setdefault(entry.date_from, {})
        for key in ("date_format", "timezone"):
            value = getattr(entry.format, key)
            if value is None:
                continue
            mine = getattr(own.format, key) if own is not None else None
            if mine is not None and mine != value:
                p.problem(p.at(entry, header, key), f"the {key} of '{header}' is for its date column "
                          f"'{entry.date_from}', whose own entry gives another", "give it in one place")
            elif key in given and given[key][0] != value:
                p.problem(p.at(entry, header, key), f"'{given[key][1]}' and '{header}' give their date column "
                          f"'{entry.date_from}' different {key}s", "give it once, in the entry of "
                          f"'{entry.date_from}'")
            else:
                given.setdefault(key, (value, header))
    for source, given in p.lab_dates.items():
        p.lab_dates[source] = {key: value for key, (value, _) in given.items()}


def _unmatched_entries(p: _Planner) -> None:
    """Entries of the mapping that name no column of the header."""
    for header, entry in p.mapping.columns.items():
        if header in p.index:
            continue
        close = difflib.get_close_matches(header, p.headers, n=1, cutoff=0.6)
        p.problem(Location(p.mapping.path or None, entry.line, field=header),
                  f"the mapping names a column '{header}' that the file does not have",
                  f"did you mean '{close[0]}'?" if close else "remove the entry, or correct its name")


def _constants(p: _Planner, width: int) -> None:
    """The mapping's constants, as columns after the file's cells."""
    for k, (name, text) in enumerate(p.mapping.constants.items()):
        where = p.mapping.where(f"constants.{name}")
        col = resolve(width + k, f"{name} (constant)", name, None, None)
        if col is None:
            p.problem(where, f"constant '{name}' is not a column name of the convention", suggest(name))
            continue
        p.add(Column(col.index, col.header, col.kind, col.key, col.attr, constant=text), where)


def _keep_used(plan: ColumnPlan, trials) -> None:
    """Keep the columns whose group a selected trial reads (and the id, the row's as-of date,
    the lab date when a lab is kept); name the others once."""
    needed = set()
    for trial in trials:
        for criterion in trial.criteria:
            for path in criterion.reads():
                name = group_of(path)
                if name is None:
                    return              # a path the group table does not know: every column is kept
                needed.add(name)
    kept: list[Column] = []
    dropped: list[Column] = []
    for col in plan.columns:
        name = group_name(col)
        always = col.kind == "id" or (col.kind == "scalar" and col.key in ("as_of", "lab_date"))
        (kept if always or name is None or name in needed else dropped).append(col)
    if not any(c.kind in ("lab", "lab_attr") for c in kept):
        kept = [c for c in kept if not (c.kind == "scalar" and c.key == "lab_date")]
    names = {c.header for c in kept}
    unused = list(dict.fromkeys(c.header for c in dropped if c.header not in names))
    plan.columns = kept
    plan.unused = unused
    if unused:
        ids = ", ".join(t.id for t in trials)
        plan.notes.append(_listed(unused, f"column is not used by {ids}", f"columns are not used by {ids}"))


def _listed(names: list, one: str, many: str) -> str:
    shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
    return f"1 {one}: {shown}" if len(names) == 1 else f"{len(names)} {many}: {shown}"


def _grouped_warnings(p: _Planner, unrecognised: list) -> list:
    """One warning for the columns nothing recognises, each with its 'did you mean'; one for the
    columns with no name (by position: a list of empty names says nothing)."""
    blank = [str(i + 1) for i, h in enumerate(p.headers) if not h] if "" in unrecognised else []
    unnamed = [Problem(Location(p.source, p.line), _listed(blank, "column has no name and is ignored (column",
                                                           "columns have no name and are ignored (columns")
                       + ")", "name them in the header row, or leave them: nothing reads them", severity="warning")
               ] if blank else []
    unrecognised = [h for h in unrecognised if h]
    if not unrecognised:
        return unnamed
    if len(unrecognised) == 1:
        h = unrecognised[0]
        return unnamed + [Problem(Location(p.source, p.line, field=h), f"column '{h}' is not recognised and is ignored",
                        suggest(h), severity="warning")]
    described = []
    for h in unrecognised:
        hint = suggest(h)
        described.append(f"{h} ({hint})" if hint.startswith("did you mean") else h)
    listed = _listed(described, "", "columns are not recognised and are ignored")
    return unnamed + [Problem(Location(p.source, p.line), listed,
                    "map them with --columns, or leave them: they are not used", severity="warning")]

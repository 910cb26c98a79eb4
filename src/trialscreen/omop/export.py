"""Patient records (the JSON a coordinator writes) as OMOP CDM v5.4 tables, following docs/omop.md.

What the standard vocabularies name is written with its code (an analyte's LOINC code, a
diagnosis's ICD-10-CM code, the Gender concepts, UCUM units the unit grammar reads back as the same
unit); everything else with site concepts of the vocabulary ``trialscreen`` (``finding:del(17p)``,
``treatment:asct``, ``attribute:line``), so that ``trialscreen omop`` reads back what the record
said. Names are written as the record spells them: the reader canonicalises them the way the JSON
reader does. The CONCEPT table holds every concept used, and nothing else.

What OMOP has no column for is written so that it reads back the same: an undated item gets the
as-of date and an ``attribute:undated`` observation linked to it; a treatment with a start and no
end an ``attribute:ongoing`` one. Attestations go to attestations.csv, the record ids to
person_ids.csv (person_id is a number in OMOP).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from trialscreen import vocab
from trialscreen.errors import FileWriteError, InputError, Location
from trialscreen.omop.tables import TABLES
from trialscreen.patient.load import condition_present
from trialscreen.vocab import codes

SITE_IDS = 2_000_000_001        # site concepts: OMOP leaves ids from 2,000,000,000 to sites
CODE_IDS = 1_900_000_001        # concepts of the standard vocabularies written by this export
_GENDER = {"female": (8532, "F", "FEMALE"), "f": (8532, "F", "FEMALE"),
           "male": (8507, "M", "MALE"), "m": (8507, "M", "MALE")}
_EVENTS = {"condition_occurrence": "condition_occurrence_id", "procedure_occurrence": "procedure_occurrence_id",
           "measurement": "measurement_id"}
_CENSORED = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([-+]?\d+(?:\.\d+)?)\s*$")
_OPERATOR_CODES = {"<": "276139006", "<=": "276137008", ">": "276140008", ">=": "276138003"}
_NUMBER_UNIT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(.*?)\s*$")


@dataclass
class Tables:
    """The rows of each table, and the concepts used: (vocabulary, code) -> concept id."""

    rows: dict = field(default_factory=lambda: {t: [] for t in TABLES})
    concepts: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    attestations: list = field(default_factory=list)
    ids: list = field(default_factory=list)

    def concept(self, vocabulary: str, code: str, name: str = "", domain: str = "Observation",
                klass: str = "", concept_id: int | None = None) -> int:
        key = (vocabulary, str(code))
        if key not in self.concepts:
            site = vocabulary == codes.SITE
            used = sum(1 for v, _ in self.concepts if (v == codes.SITE) == site)
            self.concepts[key] = concept_id or (SITE_IDS if site else CODE_IDS) + used
            self.names[key] = (name or str(code), domain, klass or ("Site" if site else "Code"))
        return self.concepts[key]

    def site(self, kind: str, name: str, domain: str = "Observation") -> int:
        return self.concept(codes.SITE, f"{kind}:{name}", f"{kind} {name}", domain)

    def add(self, table: str, **values) -> int:
        """A row; its id is the next in the table. Returns the id."""
        rows = self.rows[table]
        key = next(iter(TABLES[table]))
        rows.append({key: len(rows) + 1, **values})
        return len(rows)


def export_records(records: list, out: Path, as_of: date | None = None) -> str:
    """Write ``records`` as CDM tables into the folder ``out``; a one-line account of what was written."""
    tables = Tables()
    for pid, record in enumerate(records, 1):
        _Person(tables, pid, record, _as_of(record, as_of)).write()
    try:
        out.mkdir(parents=True, exist_ok=True)
        for table, columns in TABLES.items():
            _write_csv(out / f"{table.upper()}.csv", list(columns), tables.rows[table] if table != "concept"
                       else _concept_rows(tables))
        _write_csv(out / "person_ids.csv", ["person_id", "id"], tables.ids)
        _write_csv(out / "attestations.csv", ["person_id", "attestation", "value"], tables.attestations)
    except OSError as exc:
        raise FileWriteError(f"cannot write the OMOP tables into {out}: {exc.strerror}", Location(str(out)),
                             hint="give --out a folder that can be created and written") from None
    counts = ", ".join(f"{len(rows):,} {table}" for table, rows in tables.rows.items() if rows and table != "concept")
    return f"{counts}, {len(tables.concepts):,} concepts"


def _as_of(record: dict, as_of: date | None) -> date:
    if record.get("as_of"):
        try:
            return date.fromisoformat(str(record["as_of"])[:10])
        except ValueError:
            raise InputError(f"record {record.get('id', '')}: as_of '{record['as_of']}' is not a date",
                             Location(field="as_of"), hint="write it as YYYY-MM-DD") from None
    return as_of or date.today()


def _concept_rows(tables: Tables) -> list:
    return [{"concept_id": cid, "concept_name": tables.names[key][0], "domain_id": tables.names[key][1],
             "vocabulary_id": key[0], "concept_class_id": tables.names[key][2], "standard_concept": "",
             "concept_code": key[1], "valid_start_date": "1970-01-01", "valid_end_date": "2099-12-31"}
            for key, cid in sorted(tables.concepts.items(), key=lambda kv: kv[1])]


def _write_csv(path: Path, columns: list, rows: list) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})


def _cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _day(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:10] if text and text != "unknown" else None       # an end nobody recorded is no date


class _Person:
    """One record written as one person's rows."""

    def __init__(self, tables: Tables, pid: int, record: dict, as_of: date):
        self.t, self.pid, self.record, self.as_of = tables, pid, record, as_of
        self.today = as_of.isoformat()

    def write(self) -> None:
        r = self.record
        self.t.ids.append({"person_id": self.pid, "id": str(r.get("id", self.pid))})
        self._person()
        self._fields()
        for name, lab in (r.get("labs") or {}).items():
            self._lab(name, lab)
        for name, result in (r.get("cytogenetics") or {}).items():
            self._finding(name, result)
        for name, state in (r.get("conditions") or {}).items():
            self._condition(name, state)
        for item in r.get("diagnoses") or []:
            self._event("diagnosis", item.get("name"), item, "name")
        for item in r.get("neoplasms") or []:
            self._event("neoplasm", item.get("type"), item, "type")
        for item in r.get("treatments") or []:
            self._treatment(item)
        for text in r.get("allergies") or []:
            self._observe(self.t.site("allergy", "other"), self.today, value_as_string=str(text))
        for section in r.get("complete") or []:
            self._observe(self.t.site("complete", str(section)), self.today)
        for name, value in (r.get("attestations") or {}).items():
            if value is not None:
                self.t.attestations.append({"person_id": self.pid, "attestation": name, "value": value})
        self._period()

    # --- person, observation period, fields -------------------------------------------------

    def _person(self) -> None:
        r = self.record
        sex = str(r.get("sex") or "").strip()
        gender = _GENDER.get(sex.lower())
        row: dict = {"person_id": self.pid, "race_concept_id": 0, "ethnicity_concept_id": 0,
                     "gender_source_value": sex, "person_source_value": str(r.get("id", ""))}
        row["gender_concept_id"] = self.t.concept("Gender", gender[1], gender[2], "Gender", "Gender",
                                                  concept_id=gender[0]) if gender else 0
        birth = _day(r.get("birth_date"))
        if birth:
            row.update(year_of_birth=int(birth[:4]), month_of_birth=int(birth[5:7]), day_of_birth=int(birth[8:10]),
                       birth_datetime=birth + " 00:00:00")
        elif isinstance(r.get("age"), (int, float)) and not isinstance(r.get("age"), bool):
            # a year alone, which the reader never turns into a birth date: the age is the observation below
            row["year_of_birth"] = self.as_of.year - math.floor(r["age"])
        self.t.add("person", **row)

    def _period(self) -> None:
        days = [v for table in ("measurement", "observation", "condition_occurrence", "procedure_occurrence")
                for row in self.t.rows[table] if row.get("person_id") == self.pid
                for k, v in row.items() if k.endswith("_date") and v]
        first = min([self.today, *days])
        self.t.add("observation_period", person_id=self.pid, observation_period_start_date=first,
                   observation_period_end_date=max([self.today, *days]), period_type_concept_id=0)

    def _fields(self) -> None:
        r = self.record
        for name in ("weight", "height"):
            if r.get(name) is not None:
                number, unit = _number_unit(r[name])
                self._measure(self._field_concept(name), self.today, number, unit, "count", text=str(r[name]))
        if r.get("ecog") is not None:
            self._observe(self._field_concept("ecog"), self.today, **_value(r["ecog"]))
        if r.get("age") is not None:
            self._observe(self.t.site("field", "age"), self.today, **_value(r["age"]))
        for flag in ("pregnant", "lactating", "childbearing_potential", "transplant_candidate"):
            if r.get(flag) is not None:
                self._observe(self._field_concept(flag), self.today, value_as_concept_id=self._answer(r[flag]))

    def _field_concept(self, name: str) -> int:
        listed = codes.codes_of("field", name)
        if listed:
            system, code = listed[0]
            return self.t.concept(system, code, name, "Measurement" if name in ("weight", "height") else "Observation")
        return self.t.site("field", name)

    def _answer(self, value) -> int:
        word = ("true" if value else "false") if isinstance(value, bool) else str(value).strip()
        return self.t.site("result", word, "Meas Value")

    # --- rows ---------------------------------------------------------------------------------

    def _observe(self, concept: int, day: str, *, event: tuple | None = None, **values) -> int:
        row = {"person_id": self.pid, "observation_concept_id": concept, "observation_date": day,
               "observation_type_concept_id": 0, **values}
        if event is not None:
            table, item_id = event
            row.update(observation_event_id=item_id, obs_event_field_concept_id=self.t.site("table", table))
        return self.t.add("observation", **row)

    def _measure(self, concept: int, day: str, number, unit: str, klass: str, *, text: str = "",
                 operator: str = "", uln=None, lln=None, answer=None) -> int:
        row: dict = {"person_id": self.pid, "measurement_concept_id": concept, "measurement_date": day,
                     "measurement_type_concept_id": 0}
        if number is not None:
            row["value_as_number"] = number
        elif text and answer is None:
            row["value_source_value"] = text
        if operator:
            row["operator_concept_id"] = self.t.concept("SNOMED", _OPERATOR_CODES[operator], operator,
                                                        "Meas Value Operator", "Qualifier Value")
        if answer is not None:
            row["value_as_concept_id"] = self._answer(answer)
        if unit:
            ucum = _ucum(unit, klass)
            row["unit_concept_id"] = self.t.concept("UCUM", ucum, ucum, "Unit", "Unit") if ucum else 0
            row["unit_source_value"] = unit
        for column, limit in (("range_high", uln), ("range_low", lln)):
            if limit is not None:
                row[column] = _number_unit(limit)[0] if not isinstance(limit, (int, float)) else limit
        return self.t.add("measurement", **row)

    def _undated(self, table: str, item_id: int) -> None:
        self._observe(self.t.site("attribute", "undated"), self.today, event=(table, item_id),
                      value_as_concept_id=self._answer(True))

    def _attributes(self, table: str, item_id: int, item: dict, skip: tuple) -> None:
        for key, value in item.items():
            if key in skip or value is None:
                continue
            values = [value] if key != "drugs" else list(value)
            for v in values:
                self._observe(self.t.site("attribute", "drug" if key == "drugs" else key), self.today,
                              event=(table, item_id), **_value(v))

    # --- sections -----------------------------------------------------------------------------

    def _lab(self, name: str, lab) -> None:
        analyte = vocab.analytes().get(name)
        concept = (self.t.concept("LOINC", analyte.codes[0], analyte.label, "Measurement", "Lab Test")
                   if analyte is not None and analyte.codes else self.t.site("lab", name, "Measurement"))
        klass = analyte.klass if analyte is not None else "chemistry"
        lab = lab if isinstance(lab, dict) else {"value": lab}
        day = _day(lab.get("date")) or _day(self.record.get("lab_date"))
        value, unit = lab.get("value"), str(lab.get("unit") or "").strip()
        number = operator = answer = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = value
        elif value is not None and (m := _CENSORED.match(str(value))):
            operator, number = {"≤": "<=", "≥": ">="}.get(m.group(1), m.group(1)), float(m.group(2))
        elif value is not None and _is_word(value):
            answer = value
        if "result" in lab and value is None:
            answer = lab["result"]
        text = "" if value is None else str(value)
        item = self._measure(concept, day or self.today, number, unit, klass, text=text, operator=operator or "",
                             uln=lab.get("uln"), lln=lab.get("lln"), answer=answer)
        if not day:
            self._undated("measurement", item)
        self._attributes("measurement", item, lab, ("value", "unit", "uln", "lln", "date", "result"))

    def _finding(self, name: str, result) -> None:
        entry = result if isinstance(result, dict) else {"result": result}
        day = _day(entry.get("date"))
        item = self._measure(self.t.site("finding", name, "Measurement"), day or self.today, entry.get("percent"),
                             "%" if entry.get("percent") is not None else "", "chemistry",
                             answer=entry.get("result") if entry.get("result") is not None else "not done")
        if not day:
            self._undated("measurement", item)
        self._attributes("measurement", item, entry, ("result", "percent", "date"))

    def _condition(self, name: str, state) -> None:
        raw = state if isinstance(state, dict) else {"present": state}
        if condition_present(raw) is not True:      # absent or unknown, as the JSON reader reads it
            present = raw.get("present")
            self._observe(self.t.site("condition", name), _day(raw.get("date")) or self.today,
                          value_as_concept_id=self._answer(present if present is not None else "unknown"))
            return
        self._occurrence("condition", name, 0, _day(raw.get("date")), raw, ("present", "date", "end"))

    def _event(self, kind: str, name, item: dict, key: str) -> None:
        concept = self._coded(kind, str(name)) if kind == "diagnosis" else None
        self._occurrence(kind, str(name), concept or 0, _day(item.get("date")) or _day(item.get("start")), item,
                         (key, "date", "start", "end"))

    def _occurrence(self, kind: str, name: str, concept: int, day: str | None, item: dict, skip: tuple) -> None:
        """A CONDITION_OCCURRENCE row with the site concept ``kind:name`` as its source concept, marked
        undated when the record gave no date, and the item's other keys as linked attributes."""
        row_id = self.t.add("condition_occurrence", person_id=self.pid, condition_concept_id=concept,
                            condition_source_concept_id=self.t.site(kind, name, "Condition"),
                            condition_start_date=day or self.today, condition_end_date=_day(item.get("end")),
                            condition_type_concept_id=0, condition_source_value=name)
        if not day:
            self._undated("condition_occurrence", row_id)
        self._attributes("condition_occurrence", row_id, item, skip)

    def _coded(self, kind: str, name: str) -> int | None:
        canonical = vocab.diagnoses().canonical(name)
        listed = codes.codes_of(kind, canonical) if canonical else []
        return self.t.concept(*listed[0], name, "Condition") if listed else None

    def _treatment(self, item: dict) -> None:
        kind = str(item.get("type"))
        start = _day(item.get("start")) or _day(item.get("date"))
        row_id = self.t.add("procedure_occurrence", person_id=self.pid, procedure_concept_id=0,
                            procedure_source_concept_id=self.t.site("treatment", kind, "Procedure"),
                            procedure_date=start or self.today, procedure_end_date=_day(item.get("end")),
                            procedure_type_concept_id=0, procedure_source_value=kind)
        if not start:
            self._undated("procedure_occurrence", row_id)
        elif item.get("end") == "unknown":        # it ended on a day nobody recorded
            self._observe(self.t.site("attribute", "end_unknown"), self.today, event=("procedure_occurrence", row_id),
                          value_as_concept_id=self._answer(True))
        elif item.get("start") and not item.get("end"):
            self._observe(self.t.site("attribute", "ongoing"), self.today, event=("procedure_occurrence", row_id),
                          value_as_concept_id=self._answer(True))
        self._attributes("procedure_occurrence", row_id, item, ("type", "date", "start", "end"))


def _value(value) -> dict:
    """An observation's value columns for a value of a record."""
    if isinstance(value, bool):
        return {"value_as_string": "true" if value else "false"}
    if isinstance(value, (int, float)):
        return {"value_as_number": value}
    return {"value_as_string": str(value)}


def _is_word(value) -> bool:
    return isinstance(value, str) and not any(ch.isdigit() for ch in value)


def _number_unit(text) -> tuple:
    """'64 kg' -> (64.0, 'kg'); a text that does not start with a number -> (None, '')."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text, ""
    m = _NUMBER_UNIT.match(str(text))
    return (float(m.group(1)), m.group(2)) if m else (None, "")


def _ucum(unit: str, klass: str) -> str | None:
    """The UCUM code of a unit when one reads back as the same unit, else None (the unit then
    goes in unit_source_value only)."""
    from trialscreen.errors import TrialscreenError
    from trialscreen.units.normalize import normalize
    from trialscreen.units.ucum import from_ucum, to_ucum

    code = to_ucum(unit)
    try:
        return code if normalize(from_ucum(code), klass) == normalize(unit, klass) else None
    except TrialscreenError:
        return None

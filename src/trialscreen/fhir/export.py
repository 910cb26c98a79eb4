"""Patient records (the JSON a coordinator writes) as one FHIR R4 collection Bundle (docs/fhir.md,
"Writing a record as a Bundle"). Standard codes where the vocabularies list one (LOINC, ICD-10-CM,
SNOMED, RxNorm, UCUM units that read back as the same unit), else the site system
``urn:trialscreen`` with ``KIND:NAME`` codes, names as the record spells them; an attribute FHIR has
no element for is an extension ``urn:trialscreen:attribute:KEY``. Person fields are dated on the
as-of date; an undated item is written undated; notes are not exported. Deterministic: every
fullUrl is a uuid5 of the record id and the resource's index."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

from trialscreen import vocab
from trialscreen.errors import FileWriteError, InputError, Location, TrialscreenError
from trialscreen.patient.load import condition_present
from trialscreen.units.normalize import normalize, split_value
from trialscreen.units.ucum import from_ucum, to_ucum
from trialscreen.vocab import codes

SITE = "urn:trialscreen"
ATTRIBUTE = "urn:trialscreen:attribute:"
UCUM = "http://unitsofmeasure.org"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
SYSTEMS = {"LOINC": "http://loinc.org", "SNOMED": "http://snomed.info/sct",
           "ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm", "ICD9CM": "http://hl7.org/fhir/sid/icd-9-cm",
           "RxNorm": "http://www.nlm.nih.gov/research/umls/rxnorm", "ATC": "http://www.whocc.no/atc"}
GRADES = {1: "C41338", 2: "C41339", 3: "C41340", 4: "C41337", 5: "C48275"}   # CTCAE grade 1 .. 5
PREGNANCY = {True: "LA15173-0", False: "LA26683-5", None: "LA4489-6"}
_GENDER = {**dict.fromkeys(("female", "f", "woman", "w"), "female"), **dict.fromkeys(("male", "m", "man"), "male"),
           "unknown": "unknown"}
_COMPARATORS = {"≤": "<=", "≥": ">="}
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_NAMESPACE = uuid.UUID("6f1f7c1e-2b1a-5d8e-9f3c-7a1e0c4b9d21")   # trialscreen's: fixed, so URLs are stable
_FLAGS = ("lactating", "childbearing_potential", "transplant_candidate")


def bundle_of(records: list, as_of: date | None = None, sources: list | None = None) -> dict:
    """The records as one collection Bundle. ``as_of``: the date person fields are recorded on
    (default: each record's as_of, else today); ``sources``: each record's file, for errors."""
    seen: dict = {}
    entries: list = []
    for i, record in enumerate(records):
        pid, source = str(record.get("id", "")), sources[i] if sources else None
        if pid in seen:
            earlier = f" ({seen[pid]})" if seen[pid] else ""
            raise InputError(f"record '{pid}' has the id of an earlier record{earlier}", Location(source, field="id"),
                             hint="give every record its own id: one Bundle holds one Patient per id")
        seen[pid] = source
        entries.extend(_Record(record, _as_of(record, as_of, source)).entries())
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def export_records(records: list, out: Path, as_of: date | None = None, sources: list | None = None) -> str:
    """Write ``records`` as one Bundle into the file ``out``; a one-line account of what was written."""
    bundle = bundle_of(records, as_of, sources)
    text = json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FileWriteError(f"cannot write the FHIR Bundle to {out}: {exc.strerror}", Location(str(out)),
                             hint="give --out a file in a folder that exists and can be written") from None
    counts = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    return ", ".join(f"{n:,} {kind}" for kind, n in counts.items())


def _as_of(record: dict, as_of: date | None, source: str | None = None) -> date:
    """The export's as-of date, else the record's as_of, else today (as ``screen`` chooses)."""
    if as_of is not None:
        return as_of
    if record.get("as_of"):
        try:
            return date.fromisoformat(str(record["as_of"]).strip()[:10])
        except ValueError:
            raise InputError(f"record {record.get('id', '')}: as_of is not a date", Location(source, field="as_of"),
                             hint="write it as YYYY-MM-DD") from None
    return date.today()


# --- FHIR datatypes -------------------------------------------------------------------------

def _concept(system: str, code: str, display: str | None = None) -> dict:
    """A CodeableConcept of one coding."""
    return {"coding": [{"system": system, "code": str(code), **({"display": display} if display else {})}]}


def _site(kind: str, name) -> dict:
    return _concept(SITE, f"{kind}:{name}")


def _listed(kind: str, name: str, systems: tuple | None = None) -> dict | None:
    """The first code the vocabulary lists for an entry (of ``systems``, when given) as a concept."""
    for system, code in codes.codes_of(kind, name):
        if systems is None or system in systems:
            return _concept(SYSTEMS[system], code)
    return None


def _answer(value) -> dict:
    """A result word (or true/false) as a concept: the LOINC or SNOMED answer code that means it,
    else ``result:WORD``."""
    answers = vocab.load_file("observations.yaml")["answers"]
    for system in ("SNOMED",) if isinstance(value, bool) else ("LOINC", "SNOMED"):
        for code, meaning in (answers.get(system) or {}).items():
            if type(meaning) is type(value) and str(meaning).lower() == str(value).strip().lower():
                return _concept(SYSTEMS[system], code, str(value))
    word = ("true" if value else "false") if isinstance(value, bool) else str(value).strip()
    return _site("result", word)


def _extension(key: str, value) -> dict:
    kind = {bool: "valueBoolean", int: "valueInteger", float: "valueDecimal"}.get(type(value), "valueString")
    return {"url": ATTRIBUTE + key, kind: value if kind != "valueString" else str(value)}


def _attributes(item: dict, skip: tuple) -> dict:
    """The item's other keys as attribute extensions ({} when none); a list (drugs) as one extension
    per element. A note is not exported."""
    out = [_extension("drug" if key == "drugs" else key, v) for key, value in item.items()
           if key not in skip and key != "note" and value is not None
           for v in (value if isinstance(value, list) else [value])]
    return {"extension": out} if out else {}


def _number(value):
    """A JSON number as the record wrote it: 20.0 from '<20' is 20."""
    return int(value) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else value


def _ucum(unit: str, klass: str) -> str | None:
    """The UCUM code of a unit when it reads back (through units/ucum.py) as the same unit."""
    code = to_ucum(unit)
    try:
        return code if normalize(from_ucum(code), klass) == normalize(unit, klass) else None
    except TrialscreenError:
        return None


def _quantity(number, unit: str, klass: str, comparator: str | None = None) -> dict:
    quantity: dict = {"value": _number(number), **({"comparator": _COMPARATORS.get(comparator, comparator)}
                                                   if comparator else {})}
    code = _ucum(unit.strip(), klass) if unit.strip() else None
    if unit.strip():
        quantity.update(unit=unit.strip(), **({"system": UCUM, "code": code} if code else {}))
    return quantity


def _split(text) -> tuple | None:
    """'<5 mg/dL' -> ('<', 5.0, 'mg/dL'); None for a text that is not a number with a unit."""
    try:
        return split_value(str(text))
    except ValueError:
        return None


def _day(value) -> str | None:
    return str(value).strip()[:10] or None if value is not None else None


def _yes_no(value) -> bool | None:
    """A flag or attestation as the JSON reader reads it (true, 'yes', 'no', ...)."""
    try:
        return value if isinstance(value, bool) or value is None else vocab.yes_no(value)
    except (ValueError, TypeError):
        return None


# --- one record -------------------------------------------------------------------------------

class _Record:
    """One record written as its Patient and the resources that refer to it."""

    def __init__(self, record: dict, as_of: date):
        self.r, self.today = record, as_of.isoformat()
        self.rid = str(record.get("id", ""))
        self.out: list = []
        self.patient_url = self._url()

    def _url(self) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{self.rid}/{len(self.out)}')}"

    def _add(self, resource: dict, ref: str = "subject") -> dict:
        if resource["resourceType"] != "Patient":     # the reference right after the code
            items = list(resource.items())
            at = next((i + 1 for i, (k, _) in enumerate(items) if k == "code"), len(items))
            resource = dict([*items[:at], (ref, {"reference": self.patient_url}), *items[at:]])
        self.out.append({"fullUrl": self.patient_url if not self.out else self._url(), "resource": resource})
        return resource

    def entries(self) -> list:
        r = self.r
        self._patient()
        self._fields()
        for name, lab in (r.get("labs") or {}).items():
            self._lab(name, lab)
        for name, result in (r.get("cytogenetics") or {}).items():
            self._finding(name, result)
        for name, state in (r.get("conditions") or {}).items():
            self._condition(name, state)
        for item in r.get("diagnoses") or []:
            self._diagnosis(item)
        for item in r.get("neoplasms") or []:
            self._occurrence(_site("neoplasm", item.get("type")), item, ("type",))
        for item in r.get("treatments") or []:
            self._treatment(item)
        for text in r.get("allergies") or []:
            self._allergy(str(text))
        for section in r.get("complete") or []:
            self._observation(_site("complete", section), {"valueBoolean": True})
        for name, value in (r.get("attestations") or {}).items():
            if _yes_no(value) is not None:
                self._observation(_site("attestation", name), {"valueBoolean": _yes_no(value)})
        return self.out

    def _observation(self, code: dict, value: dict | None, day: str | None = None, **more) -> dict:
        resource: dict = {"resourceType": "Observation", "status": "final", **more.pop("head", {}), "code": code}
        if day:
            resource["effectiveDateTime"] = day
        return self._add({**resource, **(value or {}), **more})

    # --- person -----------------------------------------------------------------------------

    def _patient(self) -> None:
        r = self.r
        patient: dict = {"resourceType": "Patient"}
        if _FHIR_ID.match(self.rid):
            patient["id"] = self.rid
        patient["identifier"] = [{"system": SITE + ":id", "value": self.rid}]
        sex = str(r.get("sex") or "").strip().lower()
        if sex:
            patient["gender"] = _GENDER.get(sex, "other")
        if _day(r.get("birth_date")):
            patient["birthDate"] = _day(r["birth_date"])
        self._add(patient)

    def _fields(self) -> None:
        r = self.r
        if r.get("age") is not None and not _day(r.get("birth_date")):
            age = r["age"]      # Observation has no valueDecimal: a fractional age is a quantity in years
            self._observation(_site("field", "age"), {"valueInteger": age} if isinstance(age, int) else
                              {"valueQuantity": {"value": age, "unit": "a", "system": UCUM, "code": "a"}}, self.today)
        if r.get("ecog") is not None:
            self._observation(self._field_code("ecog"), {"valueInteger": int(r["ecog"])}, self.today)
        for name in ("weight", "height"):
            if r.get(name) is not None:
                self._observation(self._field_code(name), self._body(r[name]), self.today)
        if "pregnant" in r and _yes_no(r["pregnant"]) in PREGNANCY:
            answer = _concept(SYSTEMS["LOINC"], PREGNANCY[_yes_no(r["pregnant"])])
            self._observation(self._field_code("pregnant"), {"valueCodeableConcept": answer}, self.today)
        for flag in _FLAGS:
            if _yes_no(r.get(flag)) is not None:
                self._observation(_site("field", flag), {"valueBoolean": _yes_no(r[flag])}, self.today)

    @staticmethod
    def _field_code(name: str) -> dict:
        return _listed("field", name) or _site("field", name)

    @staticmethod
    def _body(value) -> dict:
        if isinstance(value, dict):
            return {"valueQuantity": _quantity(value.get("value"), str(value.get("unit") or ""), "body")}
        split = _split(value)
        if split is None or split[0]:
            return {"valueString": str(value)}
        return {"valueQuantity": _quantity(split[1], split[2], "body")}

    # --- labs and findings --------------------------------------------------------------------

    def _lab(self, name: str, lab) -> None:
        analyte = vocab.analytes().get(name)
        code = (_concept(SYSTEMS["LOINC"], analyte.codes[0], analyte.label) if analyte is not None and analyte.codes
                else _site("lab", name))
        klass = analyte.klass if analyte is not None else "chemistry"
        obj = lab if isinstance(lab, dict) else {"value": lab}
        day = _day(obj.get("date")) or _day(self.r.get("lab_date"))
        value = obj["result"] if obj.get("result") is not None else obj.get("value")
        unit = str(obj.get("unit") or "")
        typed = _lab_value(value, unit, klass, "result" in obj and obj["result"] is not None)
        ranges = {}
        for key, limit in (("high", obj.get("uln")), ("low", obj.get("lln"))):
            if limit is not None:
                ranges.update(_limit(key, limit, typed, unit, klass))
        self._observation(code, typed, day, head={"category": [_concept(CATEGORY, "laboratory")]},
                          **({"referenceRange": [ranges]} if ranges else {}))

    def _finding(self, name: str, result) -> None:
        entry = result if isinstance(result, dict) else {"result": result}
        value = entry.get("result")
        typed: dict | None = None
        if isinstance(value, str) and (any(ch.isdigit() for ch in value) or "nuc ish" in value.lower()):
            typed = {"valueString": value}      # an ISCN result, or a text that is no one word
        elif value is not None:
            typed = {"valueCodeableConcept": _answer(value)}
        more: dict = {}
        if entry.get("percent") is not None:
            more["component"] = [{"code": _site("attribute", "percent"),
                                  "valueQuantity": _quantity(entry["percent"], "%", "chemistry")}]
        head = _attributes(entry, ("result", "percent", "date"))
        self._observation(_site("finding", name), typed, _day(entry.get("date")), head=head, **more)

    # --- conditions, diagnoses, neoplasms, treatments -----------------------------------------

    def _condition(self, name: str, state) -> None:
        raw = state if isinstance(state, dict) else {"present": state}
        present = condition_present(raw)
        if present is not True:     # absent or unknown, as the JSON reader reads it
            word = raw.get("present")
            typed = ({"valueBoolean": False} if present is False else
                     {"valueCodeableConcept": _site("result", "unknown" if word is None else str(word).strip())})
            head = _attributes(raw, ("present", "date", "end", "active"))
            self._observation(_site("condition", name), typed, _day(raw.get("date")), head=head)
            return
        canonical = vocab.conditions().canonical(vocab.name_key(name))
        listed = _listed("condition", canonical, ("SNOMED",)) or _listed("condition", canonical) if canonical else None
        code = listed or _site("condition", name)
        condition = self._occurrence(code, raw, ("present", "grade", "active"), active=_yes_no(raw.get("active")))
        grade = raw.get("grade")
        if isinstance(grade, int) and grade in GRADES:
            condition["severity"] = _concept(NCIT, GRADES[grade], f"CTCAE grade {grade}")
        elif grade is not None:
            condition.setdefault("extension", []).append(_extension("grade", grade))

    def _diagnosis(self, item: dict) -> None:
        name = str(item.get("name"))
        canonical = vocab.diagnoses().canonical(vocab.name_key(name))
        code = (_listed("diagnosis", canonical, ("ICD10CM",)) if canonical else None) or _site("diagnosis", name)
        head = {"category": [_concept(CONDITION_CATEGORY, "encounter-diagnosis")]}
        self._occurrence(code, item, ("name",), head=head)

    def _occurrence(self, code: dict, item: dict, skip: tuple, active=None, head: dict | None = None) -> dict:
        """A Condition: its code, clinical status, onset and abatement, and the item's other keys
        as attribute extensions."""
        end = _day(item.get("end"))
        status = "resolved" if end else {True: "active", False: "inactive"}.get(active) if active is not None else None
        condition: dict = {"resourceType": "Condition", **_attributes(item, (*skip, "date", "start", "end")),
                           **({"clinicalStatus": _concept(CLINICAL, status)} if status else {}),
                           **(head or {}), "code": code}
        if active is not None:     # clinicalStatus is how it is when written; this, on the as-of date
            condition.setdefault("extension", []).append(_extension("active", active))
        onset = _day(item.get("date")) or _day(item.get("start"))
        if onset:
            condition["onsetDateTime"] = onset
        if end:
            condition["abatementDateTime"] = end
        return self._add(condition)

    def _treatment(self, item: dict) -> None:
        start, day, end = (_day(item.get(k)) for k in ("start", "date", "end"))
        ended = isinstance(end, str) and end.lower() == "unknown"   # done, until a day nobody recorded
        start, day, end = (start or day, None, None) if ended else (start, day, end)
        procedure: dict = {"resourceType": "Procedure", **_attributes(item, ("type", "date", "start", "end")),
                           "status": "in-progress" if start and not end and not ended else "completed",
                           "code": _site("treatment", item.get("type"))}
        if day and not start and not end:
            procedure["performedDateTime"] = day
        elif start or day or end:
            period = {"start": start or day} if start or day else {}
            procedure["performedPeriod"] = {**period, **({"end": end} if end else {})}
        self._add(procedure)

    def _allergy(self, text: str) -> None:
        drug = vocab.substance(text)
        listed = _listed("drug", drug, ("RxNorm",)) if drug else None
        code = {"coding": listed["coding"]} if listed else {}
        self._add({"resourceType": "AllergyIntolerance", "code": {**code, "text": text}}, ref="patient")


def _lab_value(value, unit: str, klass: str, is_result: bool) -> dict | None:
    """The value[x] of a lab: a quantity (with a comparator for a censored value), an answer for a
    result word, the text as written for anything else."""
    if value is None:
        return None
    if is_result or isinstance(value, bool):
        return {"valueCodeableConcept": _answer(value)}
    if isinstance(value, (int, float)):
        return {"valueQuantity": _quantity(value, unit, klass)}
    split = _split(value)
    text = str(value)
    if split is None or "log" in split[2].lower() or (unit and split[2]):
        return {"valueString": text}    # a word, a log value (its written digits matter), an odd text
    censor, number, written = split
    return {"valueQuantity": _quantity(number, unit or written, klass, censor)}


def _limit(key: str, limit, typed: dict | None, unit: str, klass: str) -> dict:
    """referenceRange's high (ULN) or low (LLN): a number in the value's unit, or its own 'value unit'."""
    if isinstance(limit, (int, float)) and not isinstance(limit, bool):
        own = (typed or {}).get("valueQuantity", {}).get("unit") or unit
        return {key: _quantity(limit, own, klass)}
    split = _split(limit)
    if split is None or split[0]:
        return {"text": str(limit)}
    return {key: _quantity(split[1], split[2] or unit, klass)}

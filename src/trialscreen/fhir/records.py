"""One patient's FHIR resources as a patient record: the dict ``patient_from_dict`` reads (docs/fhir.md).

Nothing is judged here. A value is passed on as the resource holds it (number, comparator, unit,
date) and the one record reader decides what it can use; a code no vocabulary can place is passed
on in a form the reader cannot place either, so the criteria that read it become unknown, and the
code goes to the warnings once (``Built.unplaced``).
"""

from __future__ import annotations

from datetime import date

from trialscreen import vocab
from trialscreen.errors import Location, PatientError
from trialscreen.fhir import values as v
from trialscreen.fhir.medications import MedicationReader
from trialscreen.fhir.observations import ObservationReader
from trialscreen.fhir.results import settle
from trialscreen.omop.records import SECTIONS, Built, absent_conditions, merged_occurrences
from trialscreen.patient.load import condition_present
from trialscreen.vocab import codes

_NOT_READ = ("entered-in-error", "cancelled")
_REFUTED = ("refuted", "entered-in-error")
_ACTIVE = ("active", "recurrence", "relapse")
_OVER = ("inactive", "remission", "resolved")
_SEX = {"male": "male", "female": "female"}
_BLOCKED_BY_UNPLACED_CONDITION = ("diagnoses", "neoplasms", "allergies", "conditions")


class Deceased(PatientError):
    """A Patient recorded deceased on or before the as-of date: nobody to screen. The runs leave
    the patient out and say so; it is not an error of the input."""


def build_record(patient: dict, resources: list, as_of: date, medications=None) -> Built:
    """The record of ``patient`` (a Patient resource) from its ``resources`` (in file order);
    ``medications``: Medication resources by reference, for medicationReference."""
    return _Patient(patient, as_of, medications or {}).build(resources)


def patient_id(patient: dict) -> str:
    """The record id of a Patient: its id, else its first identifier's value, else ''."""
    if isinstance(patient.get("id"), str) and patient["id"].strip():
        return patient["id"].strip()
    for ident in v.items(patient, "identifier"):
        if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"].strip():
            return ident["value"].strip()
    return ""


class _Patient:
    def __init__(self, patient: dict, as_of: date, medications: dict):
        self.patient, self.as_of = patient, as_of
        self.record: dict = {"id": patient_id(patient)}
        self.built = Built(self.record)
        self.observations = ObservationReader(as_of, self.built)
        self.medications = MedicationReader(as_of, self.built, medications)
        self.occurrences: dict = {}          # condition -> its entries, in file order

    def build(self, resources: list) -> Built:
        self._person()
        readers = {"Observation": self.observations.read, "Condition": self._condition,
                   "MedicationStatement": self.medications.read, "MedicationRequest": self.medications.read,
                   "MedicationAdministration": self.medications.read, "MedicationDispense": self.medications.read,
                   "Procedure": self.medications.procedure,
                   "AllergyIntolerance": self._allergy}
        for index, resource in enumerate(_with_contained(resources)):
            read = readers.get(resource.get("resourceType"))
            if read is not None:
                read(resource, index)
        attested = self.observations.finish(self.record)
        settle(self.record, self.built, self.as_of)      # reference ranges for this patient; what was not read
        self.medications.finish(self.record, listed="treatments" in attested)
        for name, entries in self.occurrences.items():
            merged = merged_occurrences(entries)
            said = self.record.setdefault("conditions", {}).get(name)
            self.record["conditions"][name] = merged if said is None else _newer(said, merged)
        sections = set(attested)
        if any(role == "condition" for role, _ in self.built.unplaced):
            sections -= set(_BLOCKED_BY_UNPLACED_CONDITION)    # the unplaced one might belong to any of them
        self.record["complete"] = sorted(s for s in sections if s in SECTIONS and s != "conditions")
        if "conditions" in sections:
            absent_conditions(self.record)
        return self.built

    def _person(self) -> None:
        p, record = self.patient, self.record
        sex = _SEX.get(v.status(p, "gender"))
        if sex:
            record["sex"] = sex
        birth = p.get("birthDate")
        born = v.day(birth)
        if born is not None:
            record["birth_date"] = born.isoformat()
        elif birth:
            self.built.notes.append("a birth date that is not a full date (a year or a month alone) is not "
                                    "read: age is unknown")
        died = v.day(p.get("deceasedDateTime"))
        if p.get("deceasedBoolean") is True or (died is not None and died <= self.as_of):
            raise Deceased(f"Patient {record['id']} is recorded deceased"
                           + (f" on {died.isoformat()}" if died else "") + ": not screened",
                           Location(field="deceased"))

    def _condition(self, res: dict, index: int) -> None:
        if v.status(res, "verificationStatus") in _REFUTED:
            return
        onset, _, _ = v.when(res, "onset")
        if self._not_yet(res):
            return                                   # not happened (or not recorded) yet on the as-of date
        placed = v.place(res.get("code"), ("condition", "diagnosis", "treatment", "neoplasm"))
        record = self.record
        if placed is None and v.place(res.get("code"), ("none",)) is not None:
            return                 # a code listed as no condition any rule reads (vocab/not_conditions.yaml)
        if placed is None:
            name = v.label(res.get("code"))
            self.built.unplaced.append(("condition", name))
            record.setdefault("conditions", {})[f"unplaced {name}"] = True
            return
        kind, name = placed
        unsure = v.status(res, "verificationStatus") in ("unconfirmed", "provisional", "differential")
        clinical = v.status(res, "clinicalStatus")
        end = self._end(res)
        if kind == "treatment":                      # a status code (history of chemotherapy): happened, not when
            record.setdefault("treatments", []).append({"type": name})
            return
        if kind == "condition":
            entry: dict = {"present": "unconfirmed" if unsure else True}
            if onset is not None:
                entry["date"] = onset.isoformat()
            if end is not None:
                entry["end"] = end
            active = self._active(res, clinical)
            if active is not None:
                entry["active"] = active
            grade = _grade(res)
            if grade is not None:
                entry["grade"] = grade
            self.occurrences.setdefault(name, []).append(entry)
            return
        key = "name" if kind == "diagnosis" else "type"
        item: dict = {key: f"{name} (unconfirmed)" if unsure else name}
        if onset is not None:
            item["date"] = onset.isoformat()
        if end is not None:
            item["end"] = end
        item.update({k: x for k, x in v.attributes(res).items() if k not in item})
        record.setdefault("diagnoses" if kind == "diagnosis" else "neoplasms", []).append(item)

    def _not_yet(self, res: dict) -> bool:
        """Whether a Condition had not begun, or not been recorded, on the as-of date: its onset is
        after it (a partial onset: its month or year begins after it), else, with no onset to
        read, its recordedDate is."""
        onset, text, _ = v.when(res, "onset")
        span = v.partial(text) if onset is None else None
        if onset is None and span is not None:
            return span[0] > self.as_of
        if onset is None:
            recorded = v.day(res.get("recordedDate"))
            return recorded is not None and recorded > self.as_of
        return onset > self.as_of

    def _active(self, res: dict, clinical: str) -> bool | None:
        """Whether a condition was active on the as-of date. clinicalStatus says how it is when the
        resource was written: active (recurrence, relapse) is active; over (inactive, remission,
        resolved) is over only with an abatement on or before the as-of date, or when the
        resource was last updated by then (meta.lastUpdated); an abatement after the as-of date
        has not happened, so it was active then. Otherwise unknown. The site attribute
        ``active`` (export fhir) says it directly."""
        said = v.attributes(res).get("active")
        if isinstance(said, bool):
            return said
        if clinical in _ACTIVE:
            return True
        period = v.obj(res, "abatementPeriod")
        abated = v.day(res.get("abatementDateTime") or period.get("end"))
        if abated is not None:
            return abated > self.as_of
        updated = v.day(v.obj(res, "meta").get("lastUpdated"))
        if clinical in _OVER and updated is not None and updated <= self.as_of:
            return False
        return None

    def _end(self, res: dict) -> str | None:
        """A Condition's end: its abatement date when on or before the as-of date (a later one has
        not happened), and only when its clinical status does not say it is still active."""
        if v.status(res, "clinicalStatus") in _ACTIVE:
            return None
        period = v.obj(res, "abatementPeriod")
        text = res.get("abatementDateTime") or period.get("end")
        end = v.day(text)
        return end.isoformat() if end is not None and end <= self.as_of else None

    def _allergy(self, res: dict, index: int) -> None:
        if v.status(res, "verificationStatus") in _REFUTED or v.status(res, "clinicalStatus") in _OVER:
            return
        noted = v.day(res.get("onsetDateTime")) or v.day(res.get("recordedDate"))
        if noted is not None and noted > self.as_of:
            return                                   # not recorded yet on the as-of date
        code = res.get("code")
        listed = vocab.load_file("observations.yaml").get("no_allergy") or {}
        if any(c in {str(x) for x in listed.get(codes.system_of(s) or "", ())} for s, c in v.codings(code)):
            return                                   # 'no known allergy' is no allergy
        placed = v.place(code, ("drug",))
        if placed is not None:
            text = placed[1]
        else:
            text = (code or {}).get("text") if isinstance(code, dict) else None
            text = text or next((c.get("display") for c in v.items((code or {}), "coding")
                                 if isinstance(c, dict) and c.get("display")), None) or v.label(code)
        self.record.setdefault("allergies", []).append(str(text))


def _with_contained(resources: list):
    """The resources, each followed by what it contains (a DiagnosticReport's Observations), which
    belong to its patient. A contained Medication is read through the reference to it instead."""
    for res in resources:
        yield res
        for inner in v.items(res, "contained"):
            if isinstance(inner, dict) and inner.get("resourceType") not in (None, "Medication"):
                yield inner


def _newer(said: dict, merged: dict) -> dict:
    """A condition both recorded as an Observation (``said``: present or absent on a day) and as a
    Condition: the later statement decides (the Condition's end or onset); with no dates to
    compare, and if they disagree, whether it is present is unknown."""
    recorded, observed = merged.get("end") or merged.get("date"), said.get("date")
    if recorded and observed and recorded != observed:
        return merged if recorded > observed else said
    if condition_present(said) == condition_present(merged):
        return merged
    return {"present": "unknown"}


def _grade(res: dict):
    """A CTCAE grade from ``severity`` (NCI Thesaurus codes); a severity that is not a grade is
    passed on as written, so a rule about the grade stays unknown."""
    severity = res.get("severity")
    if not v.codings(severity):
        return v.attributes(res).get("grade")
    grade = v.answer(severity)
    if isinstance(grade, int) and not isinstance(grade, bool):
        return grade
    return v.label(severity)

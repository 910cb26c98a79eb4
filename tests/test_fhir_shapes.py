"""Shapes EHRs send that the FHIR reader already reads as docs/fhir.md says, each a one-change
variant of the hand-written $everything bundle (tests/data/fhir/everything-eligible.json, eligible
for NCT05378971 on 2025-06-02), with the status the changed criterion must get. A review tried
them by hand; these tests keep them read that way."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from trialscreen.criteria.library import load_trial
from trialscreen.evaluate.screen import screen
from trialscreen.fhir.read import bundle_records
from trialscreen.patient.load import patient_from_dict

BASE = json.loads((Path(__file__).resolve().parent / "data" / "fhir" / "everything-eligible.json")
                  .read_text(encoding="utf-8"))
AS_OF = date(2025, 6, 2)
PATIENT = {"reference": "Patient/fhir-mm-001"}
LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"
RX, CPT = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://www.ama-assn.org/go/cpt"
NCI = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
LENALIDOMIDE = {"coding": [{"system": RX, "code": "342369", "display": "lenalidomide"}]}


def _res(b: dict, rid: str) -> dict:
    return next(e["resource"] for e in b["entry"] if e["resource"].get("id") == rid)


def _add(b: dict, r: dict) -> None:
    r.setdefault("patient" if r["resourceType"] == "AllergyIntolerance" else "subject", PATIENT)
    b["entry"].append({"fullUrl": f"https://fhir.example.org/r4/{r['resourceType']}/{r['id']}", "resource": r})


def _creatinine(when: str | None, quantity: dict, **more) -> dict:
    r = {"resourceType": "Observation", "id": "cr2", "status": "final",
         "code": {"coding": [{"system": LOINC, "code": "2160-0"}]}, "valueQuantity": quantity, **more}
    if when:
        r["effectiveDateTime"] = when
    return r


def _clinical(code: str) -> dict:
    return {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": code}]}


def _procedure(code: dict, **when) -> dict:
    return {"resourceType": "Procedure", "id": "p1", "status": "completed", "code": code, **when}


def _document(b):
    b.update(type="document", timestamp="2025-06-01T10:00:00Z")
    b.pop("total", None)
    b.pop("link", None)
    b["entry"].insert(0, {"fullUrl": "https://fhir.example.org/r4/Composition/c1", "resource": {
        "resourceType": "Composition", "id": "c1", "status": "final", "subject": PATIENT, "date": "2025-06-01",
        "type": {"coding": [{"system": LOINC, "code": "60591-5"}]}, "title": "Patient summary",
        "section": [{"title": "Results", "entry": [{"reference": "Observation/lab-creatinine"}]}]}})


def _junk_entries(b):
    b["entry"] += [{"fullUrl": "x", "resource": None}, "junk", {"resource": {"resourceType": "Observation"}},
                   {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning"}]},
                    "search": {"mode": "outcome"}}]


def _lab_quantity(rid: str, **quantity):
    def change(b):
        q = _res(b, rid)["valueQuantity"]
        q.clear()
        q.update(quantity)
    return change


def _creatinine_dated(**when):
    def change(b):
        r = _res(b, "lab-creatinine")
        del r["effectiveDateTime"]
        r.update(when)
        r["valueQuantity"]["value"] = 300
    return change


def _hbv_dna_as_text(b):
    r = _res(b, "lab-hbv-dna")
    del r["valueQuantity"]
    r["valueString"] = "3.5 log IU/mL"


def _neuropathy(clinical: str | None, severity: dict | None):
    def change(b):
        r = _res(b, "neuropathy")
        if clinical:
            r["clinicalStatus"] = _clinical(clinical)
        if severity is None:
            r.pop("severity", None)
        else:
            r["severity"] = severity
    return change


def _medication(resource: str, **more):
    return lambda b: _add(b, {"resourceType": resource, "id": "m1", "medicationCodeableConcept": LENALIDOMIDE,
                              **more})


GRADE_3 = {"coding": [{"system": NCI, "code": "C41340"}]}

# name -> (the change, the criterion it concerns, the status that criterion must get)
SHAPES = {
    "document bundle with a Composition": (_document, None, "eligible"),
    "null, junk and OperationOutcome entries": (_junk_entries, None, "eligible"),
    "creatinine with a micro sign, 250 µmol/L": (_lab_quantity("lab-creatinine", value=250, unit="µmol/L"),
                                                 "I5", "fail"),
    "platelets 50 x10E3/uL, unit only": (_lab_quantity("lab-platelets", value=50, unit="x10E3/uL"), "I5", "fail"),
    "platelets 50 thou/mcL": (_lab_quantity("lab-platelets", value=50, unit="thou/mcL"), "I5", "fail"),
    "comparator ad (not a bound)": (lambda b: _res(b, "lab-creatinine")["valueQuantity"].update(
        value=300, comparator="ad"), "I5", "unknown"),
    "effectivePeriod only": (_creatinine_dated(effectivePeriod={"start": "2025-05-29T08:00:00-04:00",
                                                                "end": "2025-05-30T08:00:00-04:00"}), "I5", "fail"),
    "issued only, recent": (lambda b: _add(b, _creatinine(None, {"value": 300, "unit": "umol/L"},
                                                          issued="2025-05-30T12:00:00-04:00")), "I5", "fail"),
    "issued only, too old": (lambda b: (_res(b, "lab-creatinine").pop("effectiveDateTime"),
                                        _res(b, "lab-creatinine").update(issued="2025-04-01T10:00:00Z")),
                             "I5", "unknown"),
    "HCV RNA detected as SNOMED 260373001": (lambda b: _res(b, "lab-hcv-rna").update(
        valueCodeableConcept={"coding": [{"system": SCT, "code": "260373001"}]}), "E6", "fail"),
    "HBV DNA as valueString 3.5 log IU/mL": (_hbv_dna_as_text, "E6", "fail"),
    "neuropathy grade 3, recurrence": (_neuropathy("recurrence", GRADE_3), "E5", "fail"),
    "neuropathy grade 3, remission without abatement": (_neuropathy("remission", GRADE_3), "E5", "unknown"),
    "neuropathy severity SNOMED severe (not a grade)": (
        _neuropathy(None, {"coding": [{"system": SCT, "code": "24484000"}]}), "E5", "unknown"),
    "neuropathy without severity": (_neuropathy(None, None), "E5", "unknown"),
    "MedicationAdministration 8 days ago": (_medication("MedicationAdministration", status="completed",
                                                        effectiveDateTime="2025-05-25T10:00:00-04:00"), "E7", "fail"),
    "MedicationAdministration, a period with a start only": (
        _medication("MedicationAdministration", status="completed",
                    effectivePeriod={"start": "2025-05-25T10:00:00-04:00"}), "E7", "fail"),
    "MedicationStatement not-taken": (_medication("MedicationStatement", status="not-taken",
                                                  effectiveDateTime="2025-05-20"), None, "eligible"),
    "MedicationStatement active, dateAsserted only": (_medication("MedicationStatement", status="active",
                                                                  dateAsserted="2025-05-20"), "E7", "unknown"),
    "MedicationDispense with daysSupply": (_medication("MedicationDispense", status="completed",
                                                       whenHandedOver="2025-05-10", daysSupply={"value": 21, "unit": "d"}),
                                           "E7", "fail"),
    "radiotherapy period ending 13 days ago": (lambda b: _add(b, _procedure(
        {"coding": [{"system": SCT, "code": "108290001"}]},
        performedPeriod={"start": "2025-04-01", "end": "2025-05-20"})), "E7", "fail"),
    "radiotherapy by a CPT code only (unplaced)": (lambda b: _add(b, _procedure(
        {"coding": [{"system": CPT, "code": "77385"}]}, performedDateTime="2025-05-20")), "E7", "unknown"),
    "allogeneic HSCT by SNOMED": (lambda b: _add(b, _procedure(
        {"coding": [{"system": SCT, "code": "234336002"}]}, performedDateTime="2025-05-15")), "E7", "fail"),
    "allergy to Revlimid: a code no vocabulary lists, and its text": (lambda b: _add(b, {
        "resourceType": "AllergyIntolerance", "id": "al1",
        "code": {"coding": [{"system": RX, "code": "476350"}], "text": "Revlimid"}}), "E2", "fail"),
    "allergy under a code no vocabulary lists, no text": (lambda b: _add(b, {
        "resourceType": "AllergyIntolerance", "id": "al1", "code": {"coding": [{"system": RX, "code": "476350"}]}}),
        "E2", "unknown"),
    "allergy to Thalomid as text only": (lambda b: _add(b, {
        "resourceType": "AllergyIntolerance", "id": "al1", "code": {"text": "Thalomid"}}), "E2", "fail"),
}


def _screened(change) -> tuple:
    bundle = copy.deepcopy(BASE)
    change(bundle)
    (built,) = bundle_records(bundle, "bundle.json", AS_OF)
    result = screen(load_trial("NCT05378971"), patient_from_dict(built.record, "bundle.json"), AS_OF)
    return (getattr(result.verdict, "value", result.verdict),
            {c.id: getattr(c.status, "value", c.status) for c in result.criteria})


def test_the_base_bundle_is_eligible():
    assert _screened(lambda b: None)[0] == "eligible"


@pytest.mark.parametrize("name", list(SHAPES))
def test_an_ehr_shape_is_read_as_docs_fhir_says(name):
    change, criterion, status = SHAPES[name]
    verdict, statuses = _screened(change)
    if criterion is None:
        assert verdict == status, statuses
    else:
        assert statuses[criterion] == status, statuses
        assert verdict != "eligible"

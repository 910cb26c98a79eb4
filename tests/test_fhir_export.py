"""`trialscreen export fhir`: records as one FHIR R4 collection Bundle, as docs/fhir.md writes them."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscreen.errors import FileWriteError, InputError
from trialscreen.fhir.export import bundle_of, export_records
from trialscreen_cli.main import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "patients" / "NCT05378971-eligible.json"
LOINC, UCUM, SITE = "http://loinc.org", "http://unitsofmeasure.org", "urn:trialscreen"


def _record(**changes) -> dict:
    record = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        record[key] = value(record[key]) if callable(value) else value
    return record


def _resources(record: dict, as_of: date | None = None) -> list:
    return [e["resource"] for e in bundle_of([record], as_of)["entry"]]


def _coded(resources: list, system: str, code: str) -> list:
    return [r for r in resources if any(c["system"] == system and c["code"] == code
                                        for c in r.get("code", {}).get("coding", []))]


def _one(resources: list, system: str, code: str) -> dict:
    (found,) = _coded(resources, system, code)
    return found


def test_the_example_is_one_collection_bundle_of_its_sections():
    bundle = bundle_of([_record()])
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    counts = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    # 6 person fields, 14 labs, 8 findings, 4 absent conditions, 4 complete, 5 attestations
    assert counts == {"Patient": 1, "Observation": 41, "Condition": 2, "Procedure": 2}
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert all(u.startswith("urn:uuid:") for u in urls) and len(set(urls)) == len(urls)
    patient = bundle["entry"][0]["resource"]
    assert patient == {"resourceType": "Patient", "id": "EX-001", "identifier": [patient["identifier"][0]],
                       "gender": "female", "birthDate": "1961-03-15"}
    for entry in bundle["entry"][1:]:
        ref = entry["resource"].get("subject") or entry["resource"].get("patient")
        assert ref == {"reference": urls[0]}


def test_the_bundle_is_deterministic_and_valid_json(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    export_records([_record()], first, as_of=date(2025, 6, 2))
    export_records([_record()], second, as_of=date(2025, 6, 2))
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text(encoding="utf-8")
    assert json.loads(text)["resourceType"] == "Bundle" and text.startswith('{\n "resourceType"')


def test_creatinine_has_its_loinc_code_and_a_ucum_quantity():
    creatinine = _one(_resources(_record()), LOINC, "2160-0")
    assert creatinine["category"][0]["coding"][0]["code"] == "laboratory"
    assert creatinine["valueQuantity"] == {"value": 88, "unit": "umol/L", "system": UCUM, "code": "umol/L"}
    assert creatinine["effectiveDateTime"] == "2025-05-28"
    anc = _one(_resources(_record()), LOINC, "751-8")
    assert anc["valueQuantity"]["unit"] == "x10^9/L" and anc["valueQuantity"]["code"] == "10*9/L"


def test_uln_and_lln_are_the_reference_range():
    record = _record(labs=lambda labs: {**labs, "hemoglobin": {"value": 118, "unit": "g/L", "lln": 120,
                                                               "date": "2025-05-28"},
                                        "creatinine": {"value": 1.0, "unit": "mg/dL", "uln": "1.2 mg/dL"}})
    resources = _resources(record)
    alt = _one(resources, LOINC, "1742-6")
    assert alt["referenceRange"] == [{"high": {"value": 40, "unit": "U/L", "system": UCUM, "code": "U/L"}}]
    assert _one(resources, LOINC, "718-7")["referenceRange"][0]["low"]["value"] == 120
    creatinine = _one(resources, LOINC, "2160-0")
    assert creatinine["referenceRange"][0]["high"] == {"value": 1.2, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}
    assert creatinine["effectiveDateTime"] == "2025-05-28"       # the record's lab_date


def test_a_censored_value_has_a_comparator_and_words_stay_words():
    record = _record(labs=lambda labs: {**labs, "m_protein": {"value": "<5", "unit": "g/L", "date": "2025-05-28"}})
    resources = _resources(record)
    m_protein = [r for r in resources if r.get("valueQuantity", {}).get("comparator")]
    assert [r["valueQuantity"] for r in m_protein] == [{"value": 5, "comparator": "<", "unit": "g/L",
                                                        "system": UCUM, "code": "g/L"}]
    assert _one(resources, SITE, "lab:hbv_dna")["valueString"] == "not detected"
    hbsag = _one(resources, LOINC, "5195-3")
    assert hbsag["valueCodeableConcept"]["coding"][0] == {"system": LOINC, "code": "LA6577-6", "display": "negative"}


def test_an_undated_lab_has_no_date():
    record = _record(lab_date=None, labs={"creatinine": {"value": 88, "unit": "umol/L"}})
    creatinine = _one(_resources(record), LOINC, "2160-0")
    assert "effectiveDateTime" not in creatinine


def test_person_fields_are_dated_on_the_as_of_date():
    resources = _resources(_record(pregnant=False), date(2025, 6, 1))
    ecog = _one(resources, LOINC, "89247-1")
    assert ecog["valueInteger"] == 1 and ecog["effectiveDateTime"] == "2025-06-01"
    assert _one(resources, LOINC, "29463-7")["valueQuantity"]["value"] == 64
    pregnant = _one(resources, LOINC, "82810-3")
    assert pregnant["valueCodeableConcept"]["coding"][0]["code"] == "LA26683-5"
    assert _one(resources, SITE, "field:transplant_candidate")["valueBoolean"] is True
    aged = _resources(_record(birth_date=None, age=64))
    assert _one(aged, SITE, "field:age")["valueInteger"] == 64
    assert "birthDate" not in aged[0]


def test_a_condition_with_a_grade_is_coded_with_its_severity():
    resources = _resources(_record())
    neuropathy = _one(resources, "http://snomed.info/sct", "302226006")
    assert neuropathy["resourceType"] == "Condition"
    assert neuropathy["severity"]["coding"][0]["code"] == "C41338"          # CTCAE grade 1
    assert "clinicalStatus" not in neuropathy       # the record does not say whether it is current
    absent = _one(resources, SITE, "condition:thrombosis")
    assert absent["resourceType"] == "Observation" and absent["valueBoolean"] is False
    ended = _resources(_record(conditions={"peripheral_neuropathy": {"present": True, "grade": 3,
                                                                     "date": "2024-10-01", "end": "2025-01-15"},
                                           "thrombosis": {"present": True, "active": False},
                                           "heart_failure": {"present": True, "active": True}}))
    neuropathy = _one(ended, "http://snomed.info/sct", "302226006")
    assert (neuropathy["onsetDateTime"], neuropathy["abatementDateTime"]) == ("2024-10-01", "2025-01-15")
    assert neuropathy["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert neuropathy["severity"]["coding"][0]["code"] == "C41340"
    thrombosis = _one(ended, "http://snomed.info/sct", "128053003")
    assert thrombosis["clinicalStatus"]["coding"][0]["code"] == "inactive"
    heart_failure = _one(ended, "http://snomed.info/sct", "84114007")
    assert heart_failure["clinicalStatus"]["coding"][0]["code"] == "active" and "abatementDateTime" not in heart_failure


def test_a_treatment_has_its_period_and_its_drugs():
    resources = _resources(_record())
    induction = _one(resources, SITE, "treatment:induction")
    assert induction["resourceType"] == "Procedure" and induction["status"] == "completed"
    assert induction["performedPeriod"] == {"start": "2024-07-20", "end": "2024-12-10"}
    attributes = [(e["url"].rsplit(":", 1)[1], next(v for k, v in e.items() if k != "url"))
                  for e in induction["extension"]]
    assert attributes == [("regimen", "VRd"), ("drug", "bortezomib"), ("drug", "lenalidomide"),
                          ("drug", "dexamethasone"), ("line", 1), ("response", "VGPR")]
    asct = _one(resources, SITE, "treatment:asct")
    assert asct["performedDateTime"] == "2025-02-20" and "performedPeriod" not in asct
    ongoing = _one(_resources(_record(treatments=[{"type": "maintenance", "start": "2025-03-01"}])),
                   SITE, "treatment:maintenance")
    assert ongoing["status"] == "in-progress" and ongoing["performedPeriod"] == {"start": "2025-03-01"}


def test_diagnoses_neoplasms_allergies_and_findings():
    record = _record(diagnoses=[{"name": "solitary plasmacytoma", "date": "2024-01-02"},
                                {"name": "multiple_myeloma", "subtype": "IgG kappa"}],
                     neoplasms=[{"type": "breast_cancer", "date": "2019-05-01", "active": False}],
                     allergies=["lenalidomide", "pomalidomide (rash)", "penicillin"],
                     cytogenetics={"del(17p)": {"result": "detected", "percent": 32, "method": "FISH"}})
    resources = _resources(record)
    plasmacytoma = _one(resources, "http://hl7.org/fhir/sid/icd-10-cm", "C90.3")
    assert plasmacytoma["category"][0]["coding"][0]["code"] == "encounter-diagnosis"
    myeloma = _one(resources, SITE, "diagnosis:multiple_myeloma")
    assert "onsetDateTime" not in myeloma and myeloma["extension"][0]["valueString"] == "IgG kappa"
    assert _one(resources, SITE, "neoplasm:breast_cancer")["onsetDateTime"] == "2019-05-01"
    allergies = [r["code"] for r in resources if r["resourceType"] == "AllergyIntolerance"]
    assert [a["text"] for a in allergies] == ["lenalidomide", "pomalidomide (rash)", "penicillin"]
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert allergies[0]["coding"] == [{"system": rxnorm, "code": "342369"}]
    assert "coding" not in allergies[1]                 # pomalidomide: no RxNorm code listed
    assert allergies[2]["coding"][0]["system"] == rxnorm
    finding = _one(resources, SITE, "finding:del(17p)")
    assert finding["valueCodeableConcept"]["coding"][0]["code"] == "LA11882-0"
    assert finding["component"][0]["valueQuantity"]["value"] == 32
    assert finding["extension"] == [{"url": "urn:trialscreen:attribute:method", "valueString": "FISH"}]


def test_two_records_with_one_id_are_refused(tmp_path):
    with pytest.raises(InputError, match="has the id of an earlier record"):
        bundle_of([_record(), _record()])
    copy = tmp_path / "copy.json"
    copy.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(app, ["export", "fhir", str(EXAMPLE), str(copy), "--out", str(tmp_path / "b.json")])
    assert result.exit_code == 65 and "copy.json" in result.output and EXAMPLE.name in result.output


def test_an_unwritable_file_is_a_write_error(tmp_path):
    with pytest.raises(FileWriteError) as exc:
        export_records([_record()], tmp_path / "missing" / "b.json")
    assert exc.value.hint and "b.json" in str(exc.value)


def test_export_fhir_writes_the_bundle(tmp_path):
    out = tmp_path / "bundle.json"
    others = sorted((ROOT / "examples" / "patients").glob("*.json"))
    result = CliRunner().invoke(app, ["export", "fhir", *map(str, others), "--out", str(out), "--as-of", "2025-06-02"])
    assert result.exit_code == 0, result.output
    assert f"{len(others)} record(s) written to {out}" in result.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert sum(e["resource"]["resourceType"] == "Patient" for e in bundle["entry"]) == len(others)


def test_export_fhir_refuses_a_record_the_screener_refuses(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**_record(), "ecog": 7}), encoding="utf-8")
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(app, ["export", "fhir", str(EXAMPLE), str(bad), "--out", str(out)])
    assert result.exit_code == 65, result.output
    assert "bad.json" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and not out.exists()


def test_export_fhir_cannot_write_its_output(tmp_path):
    result = CliRunner().invoke(app, ["export", "fhir", str(EXAMPLE), "--out", str(tmp_path / "no" / "b.json")])
    assert result.exit_code == 73, result.output
    assert len(result.output.strip().splitlines()) == 1 and "b.json" in result.output


def test_screen_reads_the_exported_bundle(tmp_path):
    out = tmp_path / "bundle.json"
    result = CliRunner().invoke(app, ["export", "fhir", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["screen", str(out), "--trial", "NCT05378971", "--as-of", "2025-06-02",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    (screened,) = json.loads(result.stdout)
    assert screened["patient"]["id"] == "EX-001" and screened["verdict"] == "eligible"

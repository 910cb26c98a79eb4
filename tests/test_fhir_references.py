"""Which Patient a FHIR resource belongs to (docs/fhir.md, "Inputs"), as a user meets it.

A resource is read for the Patient its ``subject`` or ``patient`` names, by reference or by
identifier; one that names somebody the bundle does not hold (another MRN, another
server's URL) is not read, and every result of the bundle says how many were left out. A Patient
given twice, differently, cannot be told apart from the other, so it is not screened. A searchset
that is one page of a larger result is screened with a warning, and what it attests complete is
not taken as complete. The Bulk reader assigns resources as the bundle reader does.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from conftest import ROOT
from trialscreen.fhir.bulk import group
from trialscreen.fhir.read import bundle_records
from trialscreen.fhir.records import build_record

BASE = ROOT / "tests" / "data" / "fhir" / "everything-eligible.json"
TRIAL, AS_OF = "NCT05378971", "2025-06-02"
PID, MRN_SYSTEM, MRN = "fhir-mm-001", "urn:oid:2.16.840.1.113883.3.0000.1", "MRN-SYN-001"
NO_PATIENT = "name no Patient in it"


def _bundle() -> dict:
    return json.loads(BASE.read_text(encoding="utf-8"))


def _creatinine(bundle: dict, rid: str, value, when: str, subject) -> dict:
    obs = copy.deepcopy(next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "lab-creatinine"))
    obs.update(id=rid, effectiveDateTime=when, valueQuantity={"value": value, "unit": "umol/L"})
    obs.pop("subject", None)
    if subject is not None:
        obs["subject"] = subject
    return obs


def _own_creatinine(bundle: dict, value) -> None:
    next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "lab-creatinine")["valueQuantity"] = {
        "value": value, "unit": "umol/L"}


def _screen(run, tmp_path: Path, bundle: dict):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = run("screen", path, "--trial", TRIAL, "--as-of", AS_OF, "--format", "json")
    try:
        results = json.loads(result.stdout)
    except ValueError:
        results = None
    return results, result.stderr, result.exit_code


def _i5(result: dict) -> str:
    return next(c["status"] for c in result["criteria"] if c["id"] == "I5")


# --- F8: a resource naming somebody else is not read -------------------------------------------

SOMEBODY_ELSE = {
    "another MRN": {"identifier": {"system": MRN_SYSTEM, "value": "MRN-OTHER-999"}},
    "this MRN in another system": {"identifier": {"system": "urn:oid:9.9.9", "value": MRN}},
    "another patient's id": {"reference": "Patient/someone-else"},
    "another server's patient": {"reference": f"https://other.example.org/fhir/Patient/{PID}"},
}


@pytest.mark.parametrize("subject", SOMEBODY_ELSE.values(), ids=SOMEBODY_ELSE.keys())
def test_a_resource_naming_somebody_else_is_not_read_and_every_result_says_so(run, tmp_path, subject):
    bundle = _bundle()
    _own_creatinine(bundle, 300)                      # this patient's creatinine fails I5
    bundle["entry"].append({"resource": _creatinine(bundle, "cr-other", 80, "2025-05-30", subject)})
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 0, stderr
    (result,) = results
    assert _i5(result) == "fail", "another person's normal creatinine decided"
    assert result["verdict"] == "ineligible"
    said = [w for w in result.get("warnings") or [] if NO_PATIENT in w]
    assert len(said) == 1 and "1 resource(s)" in said[0], result.get("warnings")
    assert stderr.count(NO_PATIENT) == 1


THIS_PATIENT = {
    "this MRN": {"identifier": {"system": MRN_SYSTEM, "value": MRN}},
    "this MRN, no system": {"identifier": {"value": MRN}},
    "this server's URL": {"reference": f"https://fhir.example.org/r4/Patient/{PID}"},
    "a version of it": {"reference": f"https://fhir.example.org/r4/Patient/{PID}/_history/2"},
    "no subject (one Patient)": None,
    "a display alone (one Patient)": {"display": "Myeloma Synthetic"},      # identifies nobody: as no subject
}


@pytest.mark.parametrize("subject", THIS_PATIENT.values(), ids=THIS_PATIENT.keys())
def test_a_resource_naming_this_patient_is_read(run, tmp_path, subject):
    bundle = _bundle()
    bundle["entry"].append({"resource": _creatinine(bundle, "cr-newer", 300, "2025-05-30", subject)})
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 0, stderr
    (result,) = results
    assert _i5(result) == "fail"
    assert not any(NO_PATIENT in w for w in result.get("warnings") or [])


def test_an_identifier_two_patients_carry_names_nobody(run, tmp_path):
    bundle = _bundle()
    twin = {"resourceType": "Patient", "id": "p2", "identifier": [{"value": MRN}], "gender": "male",
            "birthDate": "1950-01-01"}
    bundle["entry"].append({"resource": twin})
    _own_creatinine(bundle, 300)
    bundle["entry"].append({"resource": _creatinine(bundle, "cr-either", 80, "2025-05-30", {"identifier": {"value": MRN}})})
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 0, stderr
    mine = next(r for r in results if r["patient"]["id"] == PID)
    assert _i5(mine) == "fail"
    assert all(any(NO_PATIENT in w for w in r.get("warnings") or []) for r in results)


# --- C2: a bundle's warnings are in each of its results, once ------------------------------------

def test_the_bundle_warnings_are_in_every_result_of_it(run):
    result = run("screen", ROOT / "tests" / "data" / "fhir" / "two-patients.json", "--trial", TRIAL,
                 "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.stderr
    results = json.loads(result.stdout)
    assert len(results) == 2
    for r in results:
        assert [w for w in r.get("warnings") or [] if NO_PATIENT in w] != [], r["patient"]
        assert sum(NO_PATIENT in w for w in r["warnings"]) == 1
    assert result.stderr.count(NO_PATIENT) == 1


# --- the Bulk reader assigns resources as the bundle reader does --------------------------------

def _mixed(bundle: dict, extra_patient: bool) -> list:
    resources = [copy.deepcopy(e["resource"]) for e in bundle["entry"]]
    if extra_patient:
        resources.append({"resourceType": "Patient", "id": "p2", "identifier": [{"value": "MRN-P2"}],
                          "gender": "male", "birthDate": "1950-01-01"})
    subjects = [*SOMEBODY_ELSE.values(), *THIS_PATIENT.values(), {"identifier": {"value": "MRN-P2"}},
                {"reference": "Patient/p2"}]
    for i, subject in enumerate(subjects):
        resources.append(_creatinine(bundle, f"cr-{i}", 100 + i, f"2025-05-{10 + i:02d}", subject))
    return resources


@pytest.mark.parametrize("extra_patient", [False, True], ids=["one patient", "two patients"])
def test_the_bulk_reader_assigns_resources_as_the_bundle_reader(tmp_path, extra_patient):
    as_of = date(2025, 6, 2)
    resources = _mixed(_bundle(), extra_patient)
    export = tmp_path / "export.ndjson"
    export.write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    notes: list = []
    from_bundle = {b.record["id"]: b.record for b in bundle_records(
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]},
        "bundle.json", as_of, notes)}
    grouped = group(str(export))
    try:
        from_bulk = {str(p["id"]): build_record(p, rs, as_of, grouped.medications()).record for p, rs in grouped.each()}
        orphans = grouped.orphans
    finally:
        grouped.close()
    assert from_bulk == from_bundle
    lost = [n for n in notes if NO_PATIENT in n]
    assert lost and lost[0].startswith(f"{orphans} resource(s)")
    # the three naming somebody else (another server's URL matches by its Patient/ID when the
    # Patient's entry has no fullUrl, as in an export), then the two naming p2 when p2 is not there,
    # else the two naming nobody (no subject, a display alone) in an input of two patients
    assert orphans == 5


# --- F13: a Patient given twice, differently, is not screened ------------------------------------

OTHER_SERVER = {"fullUrl": f"https://other.example.org/fhir/Patient/{PID}",
                "resource": {"resourceType": "Patient", "id": PID, "gender": "male", "birthDate": "1950-01-01"}}


def test_a_patient_given_twice_differently_is_not_screened(run, tmp_path):
    bundle = _bundle()
    bundle["entry"].append(copy.deepcopy(OTHER_SERVER))
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 65, stderr
    assert f"Patient/{PID} is given twice in the bundle, differently" in stderr
    assert "not screened" in stderr and "Traceback" not in stderr


def test_the_other_patients_of_the_bundle_are_screened_all_the_same(run, tmp_path):
    bundle = _bundle()
    bundle["entry"].append(copy.deepcopy(OTHER_SERVER))
    bundle["entry"].append({"resource": {"resourceType": "Patient", "id": "p2", "gender": "male",
                                         "birthDate": "1950-01-01"}})
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 65
    assert [r["patient"]["id"] for r in results] == ["p2"]
    assert f"Patient/{PID} is given twice" in stderr


def test_versions_of_one_patient_are_read_from_the_latest(run, tmp_path):
    bundle = _bundle()
    first = bundle["entry"][0]
    first["resource"]["meta"] = {"versionId": "2"}
    older = copy.deepcopy(first)
    older["resource"]["meta"] = {"versionId": "1"}
    older["resource"]["birthDate"] = "1931-03-15"      # too old: would fail the age criterion
    bundle["entry"].append(older)
    bundle["entry"].append(copy.deepcopy(first))        # the same again: read once
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 0, stderr
    assert [r["verdict"] for r in results] == ["eligible"]
    assert "given twice" not in stderr


def test_a_bulk_patient_given_twice_differently_is_an_error_row(run, tmp_path):
    bundle = _bundle()
    lines = [e["resource"] for e in bundle["entry"]] + [OTHER_SERVER["resource"]]
    export = tmp_path / "export.ndjson"
    export.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run("batch", export, "--trial", TRIAL, "--as-of", AS_OF, "--out", out, "-q")
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("verdict") for r in rows] == ["error"], rows
    assert f"Patient/{PID} is given twice in the export, differently" in json.dumps(rows)
    assert "Traceback" not in result.stderr


# --- F9c: a malformed meta is no crash ------------------------------------------------------------

def test_a_condition_whose_meta_is_not_an_object_is_read(run, tmp_path):
    bundle = _bundle()
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "Condition":
            e["resource"]["meta"] = "x"
            e["resource"]["clinicalStatus"] = {"coding": [{"code": "resolved"}]}
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 0, stderr
    assert results and "Traceback" not in stderr


# --- one page of a paged searchset ---------------------------------------------------------------

def test_one_page_of_a_larger_result_is_warned_and_its_attestations_not_taken(run, tmp_path):
    bundle = _bundle()
    bundle["link"].append({"relation": "next", "url": "https://fhir.example.org/r4?page=2"})
    bundle["total"] = 140
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert code == 0, stderr
    (result,) = results
    said = [w for w in result.get("warnings") or [] if "one page of a larger result" in w]
    assert len(said) == 1, result.get("warnings")
    # what is absent on this page may be on the next one: the record is not complete
    assert result["verdict"] == "needs_review"
    assert next(c for c in result["criteria"] if c["id"] == "E7")["status"] == "unknown"


def test_a_later_page_is_one_page_too_and_a_lone_page_is_not(run, tmp_path):
    bundle = _bundle()
    bundle["link"].append({"relation": "previous", "url": "https://fhir.example.org/r4?page=1"})
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert any("one page of a larger result" in w for w in results[0].get("warnings") or [])
    bundle = _bundle()
    bundle["link"].append({"relation": "first", "url": bundle["link"][0]["url"]})
    results, stderr, code = _screen(run, tmp_path, bundle)
    assert [r["verdict"] for r in results] == ["eligible"]
    assert "one page" not in stderr

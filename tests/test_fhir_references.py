"""Which Patient a FHIR resource belongs to (docs/fhir.md, "Inputs"), as a user meets it.

A resource is read for the Patient its ``subject`` or ``patient`` names, by reference or by
identifier; one that names somebody the bundle does not hold (another MRN, a display alone, another
server's URL) is not read, and every result of the bundle says how many were left out. A Patient
given twice, differently, cannot be told apart from the other, so it is not screened. A searchset
that is one page of a larger result is screened with a warning, and what it attests complete is
not taken as complete. The Bulk reader assigns resources as the bundle reader does.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from conftest import ROOT

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

"""Which dated result decides (docs/fhir.md, "Dates and the as-of date"): a result's own local day
first, then its instant within the day; a result whose date cannot be read decides nothing beside
dated ones unless it agrees; a Condition recorded (or begun, by month) after the as-of date has
not happened yet. Each shape is added to the eligible example's bundle (tests/test_fhir_review.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from test_fhir_review import AS_OF, BASE, LOINC, _add, _creatinine, _find
from trialscreen.criteria.library import load_trial
from trialscreen.evaluate.screen import screen
from trialscreen.fhir.read import bundle_records
from trialscreen.patient.load import patient_from_dict

SCT = "http://snomed.info/sct"
UNDATED = "a result with no readable date differs from the latest dated one"


def _run(bundle: dict) -> tuple:
    """(verdict, {criterion: status}, {criterion: reason}, the patient's warnings)."""
    (built,) = bundle_records(bundle, "bundle.json", AS_OF)
    patient = patient_from_dict(built.record, "bundle.json")
    result = screen(load_trial("NCT05378971"), patient, AS_OF)
    return (getattr(result.verdict, "value", result.verdict),
            {c.id: getattr(c.status, "value", c.status) for c in result.criteria},
            {c.id: c.reason for c in result.criteria}, list(built.notes) + [w.message for w in patient.warnings])


def _base(creatinine_at: str | None = None, ecog_at: str | None = None) -> dict:
    b = copy.deepcopy(BASE)
    if creatinine_at is not None:
        _find(b, LOINC, "2160-0")["effectiveDateTime"] = creatinine_at
    if ecog_at is not None:
        _find(b, LOINC, "89247-1")["effectiveDateTime"] = ecog_at
    return b


def _ecog(grade: int, **when) -> dict:
    return {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": LOINC, "code": "89247-1"}]},
            "valueInteger": grade, **when}


def _creat(value, **when) -> dict:
    return _creatinine(valueQuantity={"value": value, "unit": "umol/L"}, **when)


def test_the_base_bundle_is_eligible():
    assert _run(_base())[0] == "eligible"


# --- F1: the local day first, then the instant ------------------------------------------------

def test_a_date_only_result_of_a_later_day_beats_a_timed_one_of_the_evening_before():
    b = _base(creatinine_at="2025-05-28T20:00:00-05:00")       # 01:00Z on the 29th
    _add(b, _creat(300, effectiveDateTime="2025-05-29"))
    verdict, status, reason, _ = _run(b)
    assert verdict == "ineligible" and status["I5"] == "fail"
    assert "creatinine 300 umol/L" in reason["I5"] and "dated 2025-05-29" in reason["I5"]


def test_a_date_only_ecog_of_a_later_day_beats_a_timed_one_of_the_evening_before():
    b = _base(ecog_at="2025-05-28T20:00:00-05:00")
    _add(b, _ecog(4, effectiveDateTime="2025-05-29"))
    verdict, status, reason, _ = _run(b)
    assert verdict == "ineligible" and status["I4"] == "fail" and "ECOG 4" in reason["I4"]


def test_the_later_instant_of_one_local_day_still_decides():
    b = _base(creatinine_at="2025-05-28T14:00:00Z")
    _add(b, _creat(300, effectiveDateTime="2025-05-28T11:30:00-04:00"))      # 15:30Z
    assert _run(b)[1]["I5"] == "fail"


def test_two_ecogs_of_one_day_one_without_its_time_that_differ_decide_nothing():
    b = _base(ecog_at="2025-05-29T10:00:00Z")
    _add(b, _ecog(4, effectiveDateTime="2025-05-29"))
    verdict, status, _, notes = _run(b)
    assert verdict == "needs_review" and status["I4"] == "unknown"
    assert any(n.startswith("ecog: results of one day that differ") for n in notes), notes


def test_timed_results_whose_zones_put_them_in_another_order_than_their_days_decide_nothing():
    # 28 May 23:30 in Chicago (04:30Z on the 29th) is later than 29 May 01:00 in Paris (23:00Z on the 28th)
    b = _base(creatinine_at="2025-05-29T01:00:00+02:00")
    _add(b, _creat(300, effectiveDateTime="2025-05-28T23:30:00-05:00"))
    verdict, status, _, notes = _run(b)
    assert verdict == "needs_review" and status["I5"] == "unknown"
    assert any(n.startswith("creatinine: results that differ and whose order cannot be told") for n in notes), notes


def _bulk(tmp_path: Path, bundle: dict) -> Path:
    export = tmp_path / "export"
    export.mkdir()
    by_type: dict = {}
    for entry in bundle["entry"]:
        res = copy.deepcopy(entry["resource"])
        if res["resourceType"] == "Patient":
            res["id"] = "p1"
        else:
            res["subject"] = {"reference": "Patient/p1"}
        by_type.setdefault(res["resourceType"], []).append(json.dumps(res))
    for kind, lines in by_type.items():
        (export / f"{kind}.000.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return export


def test_bulk_a_date_only_result_of_a_later_day_decides(run, tmp_path):
    b = _base(creatinine_at="2025-05-28T20:00:00-05:00")
    _add(b, _creat(300, effectiveDateTime="2025-05-29"))
    out = tmp_path / "out.jsonl"
    result = run("batch", _bulk(tmp_path, b), "--trial", "NCT05378971", "--as-of", "2025-06-02",
                 "--out", out, "-q")
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    i5 = next(c for c in row["criteria"] if c["id"] == "I5")
    assert row["verdict"] == "ineligible" and i5["status"] == "fail" and "creatinine 300" in i5["reason"]


# --- F2 and C4: a result whose date cannot be read beside dated ones ---------------------------

@pytest.mark.parametrize("when", [{"effectiveDateTime": "2025-5-30"}, {},
                                  {"effectiveDateTime": "2025-05-30T25:99:00Z"}],
                         ids=["unreadable-date", "no-date", "impossible-time"])
def test_a_differing_result_with_no_readable_date_makes_the_lab_unknown(when):
    b = _base()
    _add(b, _creat(300, **when))
    verdict, status, reason, notes = _run(b)
    assert verdict == "needs_review" and status["I5"] == "unknown"
    said = [n for n in notes if n.startswith(f"creatinine: {UNDATED}")]
    assert said and "2025-05-28" in said[0], notes
    assert f"creatinine: the recorded value cannot be used: {UNDATED}" in reason["I5"]   # the criterion says why
    assert "write it like" not in " ".join(notes)
    if when:
        assert repr(when["effectiveDateTime"]) in said[0]


def test_an_agreeing_result_with_no_readable_date_changes_nothing():
    b = _base()
    _add(b, _creat(88, effectiveDateTime="2025-5-30"))
    verdict, status, reason, notes = _run(b)
    assert verdict == "eligible" and "creatinine 88 umol/L" in reason["I5"]
    assert not [n for n in notes if UNDATED in n]


def test_a_differing_ecog_with_no_readable_date_makes_ecog_unknown():
    b = _base()
    _add(b, _ecog(4))
    verdict, status, _, notes = _run(b)
    assert verdict == "needs_review" and status["I4"] == "unknown"
    assert any(n.startswith(f"ecog: {UNDATED}") for n in notes), notes


def test_the_warning_reaches_the_json_result(run, tmp_path):
    b = _base()
    _add(b, _creat(300, effectiveDateTime="2025-5-30"))
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(b), encoding="utf-8")
    result = run("screen", path, "--trial", "NCT05378971", "--as-of", "2025-06-02", "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    out = out[0] if isinstance(out, list) else out
    assert out["verdict"] == "needs_review"
    assert UNDATED in json.dumps(out)


def test_one_undated_result_alone_is_still_read():
    b = _base()
    del _find(b, LOINC, "2160-0")["effectiveDateTime"]
    (built,) = bundle_records(b, "bundle.json", AS_OF)
    assert built.record["labs"]["creatinine"]["value"] == 88


def test_undated_results_alone_that_differ_decide_nothing():
    b = _base()
    del _find(b, LOINC, "2160-0")["effectiveDateTime"]
    _add(b, _creat(300))
    verdict, status, _, notes = _run(b)
    assert status["I5"] == "unknown"
    assert any(n.startswith("creatinine: results with no readable date that differ") for n in notes), notes


# --- F11: a Condition recorded, or begun by month, after the as-of date ------------------------

def _dvt(**when) -> dict:
    return {"resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": SCT, "code": "128053003"}]}, **when}


# The base bundle says 'thrombosis: absent' in an undated Observation: a DVT Condition not read leaves
# E10 met; one read contradicts it, and nothing says which is later, so E10 is unknown.
@pytest.mark.parametrize("when", [{"recordedDate": "2025-06-10"}, {"onsetDateTime": "2025-07"},
                                  {"onsetPeriod": {"start": "2025-07"}}, {"onsetDateTime": "2026"}],
                         ids=["recorded-after", "onset-month-after", "onset-period-month-after", "onset-year-after"])
def test_a_condition_after_the_as_of_date_is_not_read(when):
    b = _base()
    _add(b, _dvt(**when))
    verdict, status, _, _ = _run(b)
    assert verdict == "eligible" and status["E10"] == "pass"


@pytest.mark.parametrize("when", [{"recordedDate": "2025-05-10"}, {"onsetDateTime": "2025-05"},
                                  {"onsetDateTime": "2025-05-30", "recordedDate": "2025-06-10"}],
                         ids=["recorded-before", "onset-month-before", "onset-before-recorded-after"])
def test_a_condition_on_or_before_the_as_of_date_is_read(when):
    b = _base()
    _add(b, _dvt(**when))
    assert _run(b)[1]["E10"] == "unknown"

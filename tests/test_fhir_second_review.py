"""Shapes a second review of the FHIR reader found read too kindly (review 13b), each a one-change
variant of the hand-written $everything bundle (tests/data/fhir/everything-eligible.json, eligible
for NCT05378971 on 2025-06-02): the changed criterion's status and the warning a user sees."""

from __future__ import annotations

import copy

import pytest

from test_fhir_dates import _run as run_bundle
from test_fhir_shapes import BASE, _add, _res

UCUM, SCT = "http://unitsofmeasure.org", "http://snomed.info/sct"


def _q(value, unit: str, code: str | None = None) -> dict:
    return {"value": value, "unit": unit, **({"system": UCUM, "code": code} if code else {})}


def _run(change) -> tuple:
    """(verdict, {criterion: status}, {criterion: reason}, the warnings) of the changed bundle."""
    bundle = copy.deepcopy(BASE)
    change(bundle)
    return run_bundle(bundle)


def _alt_ranges(*ranges, value=150):
    def change(b):
        r = _res(b, "lab-alt")
        r["valueQuantity"]["value"] = value
        r["referenceRange"] = list(ranges)
    return change


PREGNANT = {"coding": [{"system": SCT, "code": "77386006", "display": "Pregnant"}]}
CANNOT_CHECK = "which trialscreen cannot check for this patient: no ULN or LLN is read"


@pytest.mark.parametrize("change", [
    _alt_ranges({"high": _q(80, "U/L", "U/L"), "appliesTo": [PREGNANT]}),
    _alt_ranges({"high": _q(80, "U/L", "U/L"), "age": {"low": {"value": 0, "unit": "yo"},
                                                       "high": {"value": 17, "unit": "yo"}}}),
    _alt_ranges({"high": _q(80, "U/L", "U/L"), "appliesTo": [{"text": "neonates"}]},
                {"high": _q(80, "U/L", "U/L"), "appliesTo": [{"text": "infants"}]}),
], ids=["appliesTo pregnant", "age in no unit of time", "two populations in words"])
def test_a_range_for_a_population_the_reader_cannot_check_gives_no_uln(change):
    verdict, status, reason, warnings = _run(change)
    assert status["I5"] == "unknown" and verdict == "needs_review"
    assert "ALT 150 U/L: no ULN given" in reason["I5"]
    assert any(CANNOT_CHECK in w for w in warnings), warnings


def test_a_range_that_can_be_checked_and_agrees_with_the_unchecked_one_gives_its_uln():
    verdict, status, _, warnings = _run(_alt_ranges({"high": _q(40, "U/L", "U/L")},
                                                    {"high": _q(40, "U/L", "U/L"), "appliesTo": [PREGNANT]}))
    assert status["I5"] == "fail"                   # 150 > 3 x 40
    assert not any(CANNOT_CHECK in w for w in warnings)


def test_ranges_for_m_and_f_written_as_letters_are_told_apart():
    verdict, status, reason, _ = _run(_alt_ranges({"high": _q(80, "U/L", "U/L"), "appliesTo": [{"text": "M"}]},
                                                  {"high": _q(40, "U/L", "U/L"), "appliesTo": [{"text": "F"}]}))
    assert status["I5"] == "fail" and "(ULN 40 U/L)" in reason["I5"]      # the patient is female


def test_a_limit_whose_units_clash_gives_no_uln_and_the_value_stays_usable():
    verdict, status, reason, warnings = _run(lambda b: _res(b, "lab-alt").update(
        referenceRange=[{"high": {"value": 40, "unit": "U/L", "system": UCUM, "code": "ukat/L"}}]))
    assert status["I5"] == "unknown"
    assert "ALT 32 U/L: no ULN given" in reason["I5"]                       # the value is read
    assert "is not a number with a unit" not in " ".join(warnings)
    assert sum("'U/L'" in w and "'ukat/L'" in w and "no ULN is read" in w for w in warnings) == 1, warnings


@pytest.mark.parametrize("display", ["Creatinine [Moles/volume] in Serum or Plasma", "Creatinine, serum",
                                     "Creatinine in Serum"])
def test_a_newer_result_under_a_local_code_named_by_a_loinc_long_name_makes_the_lab_unknown(display):
    def change(b):
        _add(b, {"resourceType": "Observation", "id": "cr2", "status": "final",
                 "code": {"coding": [{"system": "http://lab.local/codes", "code": "CREA", "display": display}]},
                 "effectiveDateTime": "2025-05-30T09:00:00-04:00", "valueQuantity": _q(300, "umol/L", "umol/L")})
    verdict, status, reason, _ = _run(change)
    assert status["I5"] == "unknown" and verdict == "needs_review", reason["I5"]


def test_a_written_unit_with_an_annotation_is_compared_with_its_ucum_code():
    verdict, status, reason, warnings = _run(lambda b: _res(b, "lab-bilirubin").update(
        valueQuantity=_q(3, "mg/dL (calc)", "umol/L")))
    assert status["I5"] == "unknown" and verdict == "needs_review"
    assert "the unit 'mg/dL (calc)' and the UCUM code 'umol/L', which are not the same unit" in reason["I5"]


def test_a_written_unit_with_an_annotation_that_agrees_is_read():
    verdict, status, reason, _ = _run(lambda b: _res(b, "lab-bilirubin").update(
        valueQuantity=_q(3, "mg/dL (calc)", "mg/dL")))
    assert status["I5"] == "fail"                     # 3 mg/dL = 51.3 umol/L > 35


def test_an_ecog_quantity_in_percent_is_not_a_grade():
    """ECOG 3 '%' is another scale sent under the ECOG code (a Karnofsky score?): not read as grade 3."""
    def change(b):
        r = _res(b, "ecog")
        r.pop("valueCodeableConcept", None)
        r["valueQuantity"] = _q(3, "%", "%")
    verdict, status, _, warnings = _run(change)
    assert status["I4"] == "unknown" and verdict == "needs_review"
    assert any("ECOG" in w or "ecog" in w for w in warnings), warnings


def test_an_ecog_quantity_as_a_score_is_read():
    def change(b):
        r = _res(b, "ecog")
        r.pop("valueCodeableConcept", None)
        r["valueQuantity"] = _q(1, "{score}", "{score}")
    assert _run(change)[0] == "eligible"


def test_a_next_link_given_as_one_object_is_a_page_too():
    verdict, status, _, warnings = _run(lambda b: b.update(link={"relation": "next", "url": "https://x/p2"}))
    assert verdict == "needs_review" and status["I5"] == "unknown"

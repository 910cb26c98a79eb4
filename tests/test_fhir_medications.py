"""How long a medication was taken, as the FHIR reader reads it (docs/fhir.md, "MedicationStatement,
MedicationRequest, MedicationAdministration"): a supply or a dosage bound in any unit of time, a
course whose end nobody gives (stopped, completed), elements of the wrong shape, and requests that
order nothing. Each is added to the eligible example's bundle (as-of 2025-06-02); E7 reads
antineoplastic therapy in the last 4 weeks (from 2025-05-05), so lenalidomide taken then fails it.
"""

from __future__ import annotations

import copy
import json

import pytest

from test_fhir_review import AS_OF, BASE, _add, _screen
from trialscreen.fhir.read import bundle_records

RXNORM, UCUM = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://unitsofmeasure.org"
LENALIDOMIDE = {"coding": [{"system": RXNORM, "code": "342369", "display": "lenalidomide"}]}


def _with(resource: dict) -> dict:
    bundle = copy.deepcopy(BASE)
    _add(bundle, {"medicationCodeableConcept": LENALIDOMIDE, **resource})
    return bundle


def _request(authored: str = "2025-04-01", status: str = "completed", **more) -> dict:
    return _with({"resourceType": "MedicationRequest", "id": "mr1", "status": status, "intent": "order",
                  "authoredOn": authored, **more})


def _supply(quantity: dict, authored: str = "2025-04-01", **dispense) -> dict:
    return _request(authored, dispenseRequest={"expectedSupplyDuration": quantity, **dispense})


def _bounds(repeat: dict, authored: str = "2025-04-01") -> dict:
    return _request(authored, dosageInstruction=[{"timing": {"repeat": repeat}}])


def _e7(bundle: dict) -> tuple:
    """(verdict, E7's status, the reader's warnings)."""
    verdict, statuses = _screen(bundle)
    (built,) = bundle_records(bundle, "bundle.json", AS_OF)
    return verdict, statuses["E7"], list(built.notes)


def test_the_base_bundle_is_eligible():
    assert _e7(copy.deepcopy(BASE)) == ("eligible", "pass", [])


# --- F7: a duration in any unit of time -------------------------------------------------------

# each is at least 35 days from 2025-04-01: it runs into the window
@pytest.mark.parametrize("quantity", [
    {"value": 1.2, "system": UCUM, "code": "mo"},
    {"value": 1.2, "unit": "months"},
    {"value": 5, "system": UCUM, "code": "wk", "unit": "weeks"},
    {"value": 35, "system": UCUM, "code": "d"},
    {"value": 840, "system": UCUM, "code": "h"},
    {"value": 50400, "system": UCUM, "code": "min"},
    {"value": 3024000, "system": UCUM, "code": "s"},
    {"value": 0.1, "system": UCUM, "code": "a"},
    {"value": 0.1, "unit": "year"},
    {"value": 5, "unit": "Weeks"},
])
def test_a_supply_in_any_unit_of_time_runs_into_the_window(quantity):
    assert _e7(_supply(quantity))[:2] == ("ineligible", "fail"), quantity


def test_a_months_supply_is_a_month_not_a_day():
    # the review's case: one month from 2025-04-10 runs to about 2025-05-11, inside the window
    bundle = _supply({"value": 1, "unit": "month", "system": UCUM, "code": "mo"}, authored="2025-04-10")
    assert _e7(bundle)[:2] == ("ineligible", "fail")


def test_a_supply_that_ended_before_the_window_passes():
    assert _e7(_supply({"value": 2, "system": UCUM, "code": "wk"}))[:2] == ("eligible", "pass")


def test_a_rounded_supply_ends_later_not_earlier():
    # 1 mo is 30.4375 days: from 2025-04-04 it ends during 2025-05-05, the window's first day
    assert _e7(_supply({"value": 1, "system": UCUM, "code": "mo"}, authored="2025-04-04"))[:2] == \
        ("ineligible", "fail")


def test_repeats_multiply_the_supply():
    bundle = _supply({"value": 14, "system": UCUM, "code": "d"}, numberOfRepeatsAllowed=2)   # 42 days
    assert _e7(bundle)[:2] == ("ineligible", "fail")


@pytest.mark.parametrize("quantity", [
    {"value": 1, "unit": "bottle"},
    {"value": 1, "system": UCUM, "code": "mg"},
    {"value": 30},
    {"value": "30", "unit": "d"},
    {"value": -3, "unit": "days"},
    {"value": 1, "system": UCUM, "code": "mo", "unit": "day"},       # the code and the unit disagree
])
def test_a_supply_whose_duration_cannot_be_read_makes_the_end_unknown(quantity):
    verdict, e7, notes = _e7(_supply(quantity))
    assert (verdict, e7) == ("needs_review", "unknown"), quantity
    assert any("expectedSupplyDuration" in n and "unknown" in n for n in notes), notes


def test_days_supply_of_a_dispense_in_weeks():
    bundle = _with({"resourceType": "MedicationDispense", "id": "md1", "status": "completed",
                    "whenHandedOver": "2025-04-01", "daysSupply": {"value": 5, "unit": "wk"}})
    assert _e7(bundle)[:2] == ("ineligible", "fail")


def test_days_supply_with_no_unit_is_days():
    for days, expected in ((20, ("eligible", "pass")), (40, ("ineligible", "fail"))):
        bundle = _with({"resourceType": "MedicationDispense", "id": "md1", "status": "completed",
                        "whenHandedOver": "2025-04-01", "daysSupply": {"value": days}})
        assert _e7(bundle)[:2] == expected, days


def test_a_dosage_bound_as_a_duration_ends_the_course():
    assert _e7(_bounds({"boundsDuration": {"value": 6, "system": UCUM, "code": "wk"}}))[:2] == \
        ("ineligible", "fail")
    assert _e7(_bounds({"boundsDuration": {"value": 2, "system": UCUM, "code": "wk"}}))[:2] == \
        ("eligible", "pass")


def test_a_dosage_bound_whose_unit_cannot_be_read_makes_the_end_unknown():
    verdict, e7, notes = _e7(_bounds({"boundsDuration": {"value": 2, "unit": "cycles"}}))
    assert (verdict, e7) == ("needs_review", "unknown")
    assert any("boundsDuration" in n for n in notes), notes


# --- F9: elements of the wrong shape ----------------------------------------------------------

@pytest.mark.parametrize("more", [
    {"dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "d"}, "numberOfRepeatsAllowed": "two"}},
    {"dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "d"}, "numberOfRepeatsAllowed": -1}},
    {"dosageInstruction": [{"timing": {"repeat": "x"}}]},
    {"dosageInstruction": [{"timing": "x"}]},
    {"dosageInstruction": ["x"]},
    {"dosageInstruction": "x"},
    {"dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": "x"}}}]},
    {"dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"end": "2025-13-40"}}}}]},
    {"dispenseRequest": "x"},
    {"dispenseRequest": {"validityPeriod": "x"}},
    {"dispenseRequest": {"expectedSupplyDuration": "x"}},
])
def test_an_element_of_the_wrong_shape_makes_the_end_unknown(more):
    # ordered before the window: whether it was still taken in it is what the element would say
    verdict, e7, notes = _e7(_request("2025-04-01", **more))
    assert (verdict, e7) == ("needs_review", "unknown"), more
    assert any("lenalidomide: a MedicationRequest" in n and "unknown" in n for n in notes), notes


def test_the_reviews_wrong_shapes_are_no_traceback(run, tmp_path):
    for more in ({"dispenseRequest": {"expectedSupplyDuration": {"value": 1e9}, "numberOfRepeatsAllowed": "two"}},
                 {"dosageInstruction": [{"timing": {"repeat": "x"}}], "dispenseRequest": "x"}):
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(_request("2025-05-01", status="active", **more)), encoding="utf-8")
        result = run("screen", path, "--trial", "NCT05378971", "--as-of", AS_OF.isoformat(), "--format", "json")
        assert result.exit_code == 0, result.stderr
        [out] = json.loads(result.stdout)
        assert next(c for c in out["criteria"] if c["id"] == "E7")["status"] == "fail"   # ordered in the window


# --- F12: a course that ended, nobody says when; a request that orders nothing -----------------

def test_a_statement_stopped_with_no_end_has_an_unknown_end():
    bundle = _with({"resourceType": "MedicationStatement", "id": "ms1", "status": "stopped",
                    "effectivePeriod": {"start": "2025-01-01"}})
    verdict, e7, notes = _e7(bundle)
    assert (verdict, e7) == ("needs_review", "unknown")
    assert any("lenalidomide: a MedicationStatement" in n and "stopped" in n and "unknown" in n for n in notes), notes


def test_a_request_stopped_with_no_end_has_an_unknown_end():
    verdict, e7, notes = _e7(_request("2024-08-01", status="stopped"))
    assert (verdict, e7) == ("needs_review", "unknown")
    assert any("lenalidomide: a MedicationRequest" in n and "stopped" in n for n in notes), notes


def test_a_completed_course_with_no_end_has_an_unknown_end():
    bundle = _with({"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
                    "effectivePeriod": {"start": "2025-01-01"}})
    assert _e7(bundle)[:2] == ("needs_review", "unknown")


def test_a_stopped_course_that_began_in_the_window_fails_by_its_start():
    bundle = _with({"resourceType": "MedicationStatement", "id": "ms1", "status": "stopped",
                    "effectivePeriod": {"start": "2025-05-20"}})
    assert _e7(bundle)[:2] == ("ineligible", "fail")


def test_a_stopped_course_with_an_end_is_read_to_its_end():
    for end, expected in (("2025-03-01", ("eligible", "pass")), ("2025-05-10", ("ineligible", "fail"))):
        bundle = _with({"resourceType": "MedicationStatement", "id": "ms1", "status": "stopped",
                        "effectivePeriod": {"start": "2025-01-01", "end": end}})
        assert _e7(bundle)[:2] == expected, end


def test_a_course_whose_end_is_not_a_date_has_an_unknown_end():
    bundle = _with({"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
                    "effectivePeriod": {"start": "2025-01-01", "end": "2025-13-40"}})
    verdict, e7, notes = _e7(bundle)
    assert (verdict, e7) == ("needs_review", "unknown")
    assert any("effectivePeriod.end is not a date" in n for n in notes), notes


def test_an_active_course_with_no_end_is_ongoing():
    bundle = _with({"resourceType": "MedicationStatement", "id": "ms1", "status": "active",
                    "effectivePeriod": {"start": "2025-01-01"}})
    assert _e7(bundle) == ("ineligible", "fail", [])


@pytest.mark.parametrize("intent", ["option", "proposal", "plan"])
def test_a_request_that_orders_nothing_is_not_read(intent):
    bundle = _with({"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": intent,
                    "authoredOn": "2025-05-20"})
    assert _e7(bundle)[:2] == ("eligible", "pass")


@pytest.mark.parametrize("intent", ["order", "original-order", "instance-order", "filler-order", "directive"])
def test_an_order_is_read(intent):
    bundle = _with({"resourceType": "MedicationRequest", "id": "mr1", "status": "active", "intent": intent,
                    "authoredOn": "2025-05-20"})
    assert _e7(bundle)[:2] == ("ineligible", "fail")

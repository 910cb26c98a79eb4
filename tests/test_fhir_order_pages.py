"""Which result of a lab decides, and what one page of a paged bundle may decide (review 13b: W4,
W5, C2, C3, U4). Each is screened from the command line, as a user would, against the eligible
example's bundle (tests/test_fhir_review.py)."""

from __future__ import annotations

import copy
import json

from test_fhir_review import AS_OF, BASE, LOINC, PATIENT, _add, _creatinine, _find

UCUM = "http://unitsofmeasure.org"
# NCT05378971 I4 and I5 alone: a trial that reads only an ECOG and labs
LABS_TRIAL = """\
id: PAGE-LABS
title: NCT05378971 I4 and I5 only
source: https://example.org/page-labs
version: "test"
screening_window: 28 days
complete: false
not_encoded: [everything but I4 and I5]
inclusion:
  - id: I4
    text: ECOG 0-3.
    rule: {field: ecog, in: 0..3}
  - id: I5
    text: Serum transaminases, bilirubin, creatinine, ANC and platelets.
    rule:
      all:
        - {lab: alt, lt: 3 x ULN}
        - {lab: ast, lt: 3 x ULN}
        - {lab: bilirubin, le: 35 umol/L}
        - {lab: creatinine, lt: 177 umol/L}
        - {lab: anc, gt: 1.0 x10^9/L}
        - {lab: platelets, gt: 75 x10^9/L}
"""


def _run(run, tmp_path, bundle: dict, trial: str = "NCT05378971") -> tuple:
    """(exit code, {criterion: status}, the result's warnings, the verdict, criteria by id)."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = run("screen", path, "--trial", trial, "--as-of", AS_OF.isoformat(), "--format", "json")
    assert "Traceback" not in result.stderr
    assert result.exit_code == 0, result.stderr
    (out,) = json.loads(result.stdout)
    criteria = {c["id"]: c for c in out["criteria"]}
    return ({k: c["status"] for k, c in criteria.items()}, out.get("warnings") or [], out["verdict"], criteria)


def _two_creatinines(when_88: str, when_300: str, **newer) -> dict:
    bundle = copy.deepcopy(BASE)
    _find(bundle, LOINC, "2160-0")["effectiveDateTime"] = when_88
    _add(bundle, _creatinine(effectiveDateTime=when_300, valueQuantity={"value": 300, "unit": "umol/L"}, **newer))
    return bundle


# W5: a time with no time zone
def test_a_time_without_a_zone_is_not_ordered_against_a_zoned_result_of_its_day(run, tmp_path):
    bundle = _two_creatinines("2025-05-28T08:40:00-04:00", "2025-05-28T09:00:00")
    statuses, warnings, verdict, criteria = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("unknown", "needs_review"), criteria["I5"]["reason"]
    reason = criteria["I5"]["reason"]
    assert "order cannot be told" in reason and "2025-05-28" in reason, reason
    assert "no time zone" in reason, reason


def test_two_times_without_a_zone_of_one_day_are_ordered(run, tmp_path):
    bundle = _two_creatinines("2025-05-28T08:40:00", "2025-05-28T09:00:00")
    statuses, _, verdict, criteria = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("fail", "ineligible"), criteria["I5"]["reason"]
    assert "300" in criteria["I5"]["reason"]


def test_a_time_without_a_zone_on_an_earlier_day_is_ordered_by_its_day(run, tmp_path):
    bundle = _two_creatinines("2025-05-29T08:40:00-04:00", "2025-05-28T23:00:00")
    statuses, _, verdict, criteria = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("pass", "eligible"), criteria["I5"]["reason"]


# C3: two results at the same time
def test_two_results_at_the_same_time_that_differ_say_so(run, tmp_path):
    bundle = _two_creatinines("2025-05-28T08:40:00-04:00", "2025-05-28T12:40:00Z")
    statuses, _, verdict, criteria = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("unknown", "needs_review")
    reason = criteria["I5"]["reason"]
    assert "two results at the same time that differ" in reason, reason
    assert "time zones put them in another order" not in reason, reason


# U4: what "agrees" compares
def _undated_creatinine(**quantity) -> dict:
    bundle = copy.deepcopy(BASE)
    _add(bundle, _creatinine(valueQuantity={"value": 88, **quantity}))
    return bundle


def test_an_undated_result_that_reads_the_same_agrees(run, tmp_path):
    for quantity in ({"unit": "umol/L"}, {"unit": "µmol/L"}, {"unit": "umol/L", "system": UCUM, "code": "umol/L"},
                     {"value": 0.088, "unit": "mmol/L"}, {"unit": "umol/l (calc)"}):     # an annotation set aside
        statuses, warnings, verdict, criteria = _run(run, tmp_path, _undated_creatinine(**quantity))
        assert (statuses["I5"], verdict) == ("pass", "eligible"), (quantity, criteria["I5"]["reason"], warnings)


def test_an_undated_result_that_reads_otherwise_differs(run, tmp_path):
    for quantity in ({"value": 300, "unit": "umol/L"}, {"unit": "mg/dL"}, {"unit": "umol/l calc"}):
        statuses, _, verdict, criteria = _run(run, tmp_path, _undated_creatinine(**quantity))
        assert (statuses["I5"], verdict) == ("unknown", "needs_review"), quantity
        assert "no readable date differs" in criteria["I5"]["reason"], (quantity, criteria["I5"]["reason"])


def _alt(bundle: dict, high) -> dict:
    alt = copy.deepcopy(_find(bundle, LOINC, "1742-6"))
    alt.pop("effectiveDateTime", None)
    alt.pop("referenceRange", None)
    if high is not None:
        alt["referenceRange"] = [{"high": {"value": high, "unit": "U/L"}}]
    return alt


def test_an_undated_result_without_a_uln_agrees_and_another_uln_differs(run, tmp_path):
    for high, expected in ((None, "pass"), (40, "pass"), (80, "unknown")):
        bundle = copy.deepcopy(BASE)
        _add(bundle, _alt(bundle, high))
        statuses, _, _, criteria = _run(run, tmp_path, bundle)
        assert statuses["I5"] == expected, (high, criteria["I5"]["reason"])


# W4: one page of a paged searchset
def _paged(bundle: dict) -> dict:
    bundle = copy.deepcopy(bundle)
    bundle["type"] = "searchset"
    bundle["link"] = [{"relation": "self", "url": "https://fhir.example.org/r4/Patient/p/$everything"},
                      {"relation": "next", "url": "https://fhir.example.org/r4/Patient/p/$everything?page=2"}]
    return bundle


def test_a_page_of_a_paged_bundle_lets_no_lab_or_field_decide(run, tmp_path):
    trial = tmp_path / "labs.yaml"
    trial.write_text(LABS_TRIAL, encoding="utf-8")
    statuses, warnings, verdict, criteria = _run(run, tmp_path, BASE, str(trial))
    assert (statuses, verdict) == ({"I4": "pass", "I5": "pass"}, "eligible")      # the whole bundle
    statuses, warnings, verdict, criteria = _run(run, tmp_path, _paged(BASE), str(trial))
    assert (statuses, verdict) == ({"I4": "unknown", "I5": "unknown"}, "needs_review"), criteria
    assert "another page" in criteria["I5"]["reason"], criteria["I5"]["reason"]
    page = [w for w in warnings if "one page of a larger result" in w]
    assert len(page) == 1 and "labs" in page[0] and "ecog" in page[0], warnings


def test_a_page_of_a_paged_bundle_keeps_no_recorded_absence(run, tmp_path):
    statuses, warnings, verdict, criteria = _run(run, tmp_path, _paged(BASE))
    assert verdict == "needs_review" and "fail" not in statuses.values()
    # an ECOG and labs; CNS involvement, infection, thrombosis recorded absent; FISH not detected;
    # the informed consent attested: a newer result of each may be on another page
    for criterion in ("I4", "I5", "E4", "E8", "E10", "E1", "I7"):
        assert statuses[criterion] == "unknown", (criterion, criteria[criterion]["reason"])
    assert statuses["I1"] == "pass"          # the diagnosis and the birth date are on the page


# C2: the resources left out
def test_the_resources_left_out_are_named(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    for n in range(4):
        other = _creatinine(id=f"cr-other-{n}", effectiveDateTime="2025-05-30", valueQuantity={"value": 300, "unit": "umol/L"},
                            subject={"reference": "Patient/somebody-else"})
        bundle["entry"].append({"resource": other})
    statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
    assert verdict == "eligible"
    (lost,) = [w for w in warnings if "name no Patient" in w]
    assert "a an" not in lost, lost
    assert "Observation/cr-other-0" in lost and "Observation/cr-other-2" in lost, lost
    assert "Observation/cr-other-3" not in lost and "1 more" in lost, lost
    assert PATIENT not in lost

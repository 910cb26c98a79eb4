"""How the FHIR reader reads the values of Observations (review 13: F3, F4, F5, F6, F10): the
reference range that applies, a unit and a UCUM code that disagree, FISH results under codes
nobody lists, labs under other LOINC codes or in a panel's components, person fields it cannot
read. Each is screened from the command line, as a user would, against the eligible example."""

from __future__ import annotations

import copy
import json

from test_fhir_review import AS_OF, BASE, LOINC, _add, _find

UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
GENDER = "http://hl7.org/fhir/administrative-gender"
MEANING = "http://terminology.hl7.org/CodeSystem/referencerange-meaning"
LAB = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]


def _run(run, tmp_path, bundle: dict) -> tuple:
    """(exit code, {criterion: status}, the result's warnings, the verdict, criteria by id)."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = run("screen", path, "--trial", "NCT05378971", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert "Traceback" not in result.stderr
    if result.exit_code != 0:
        return result.exit_code, {}, [result.stderr], None, {}
    (out,) = json.loads(result.stdout)
    criteria = {c["id"]: c for c in out["criteria"]}
    return (result.exit_code, {k: c["status"] for k, c in criteria.items()}, out.get("warnings") or [],
            out["verdict"], criteria)


def _lab(code: str, when: str, **value) -> dict:
    return {"resourceType": "Observation", "status": "final", "category": LAB,
            "code": {"coding": [{"system": LOINC, "code": code}]}, "effectiveDateTime": when, **value}


def _alt_with_ranges(*ranges) -> dict:
    bundle = copy.deepcopy(BASE)
    alt = _find(bundle, LOINC, "1742-6")
    alt["valueQuantity"]["value"] = 150           # 3 x 40 = 120 < 150 < 240 = 3 x 80
    alt["referenceRange"] = list(ranges)
    return bundle


def _high(value, **more) -> dict:
    return {"high": {"value": value, "unit": "U/L", "system": UCUM, "code": "U/L"}, **more}


# --- F3: the reference range that applies ------------------------------------------------------

def test_the_range_for_the_patients_sex_gives_the_uln(run, tmp_path):
    """A female patient, a male range first: the female ULN decides (ALT 150 >= 3 x 40)."""
    for male, female in (({"text": "male"}, {"text": "female"}),
                         ({"coding": [{"system": GENDER, "code": "male"}]},
                          {"coding": [{"system": GENDER, "code": "female"}]}),
                         ({"coding": [{"system": SNOMED, "code": "248153007"}]},
                          {"coding": [{"system": SNOMED, "code": "248152002"}]})):
        bundle = _alt_with_ranges(_high(80, appliesTo=[male]), _high(40, appliesTo=[female]))
        code, statuses, _, verdict, criteria = _run(run, tmp_path, bundle)
        assert (code, statuses["I5"], verdict) == (0, "fail", "ineligible"), criteria["I5"]
        assert "ULN 40 U/L" in criteria["I5"]["reason"]


def test_a_therapeutic_or_critical_range_is_not_the_uln(run, tmp_path):
    therapeutic = _high(500, type={"coding": [{"system": MEANING, "code": "therapeutic"}]})
    critical = _high(1000, type={"text": "critical"})
    normal = _high(40, type={"coding": [{"system": MEANING, "code": "normal"}]})
    code, statuses, _, _, criteria = _run(run, tmp_path, _alt_with_ranges(therapeutic, critical, normal))
    assert statuses["I5"] == "fail", criteria["I5"]


def test_the_range_for_the_patients_age_gives_the_uln(run, tmp_path):
    child = _high(80, age={"high": {"value": 18, "unit": "years", "system": UCUM, "code": "a"}})
    adult = _high(40, age={"low": {"value": 18, "unit": "years", "system": UCUM, "code": "a"}})
    _, statuses, _, _, criteria = _run(run, tmp_path, _alt_with_ranges(child, adult))
    assert statuses["I5"] == "fail", criteria["I5"]


def test_ranges_that_differ_and_all_may_apply_give_no_uln(run, tmp_path):
    """Two normal ranges, nothing to tell which applies: no ULN, the criterion is unknown."""
    bundle = _alt_with_ranges(_high(80), _high(40, appliesTo=[{"text": "postmenopausal"}]))
    code, statuses, warnings, verdict, criteria = _run(run, tmp_path, bundle)
    assert (code, statuses["I5"], verdict) == (0, "unknown", "needs_review"), criteria["I5"]
    assert sum("reference ranges" in w and "alt" in w for w in warnings) == 1, warnings


def test_ranges_that_agree_give_their_uln(run, tmp_path):
    bundle = _alt_with_ranges(_high(40, appliesTo=[{"text": "female"}]), _high(40))
    bundle_alt = _find(bundle, LOINC, "1742-6")
    bundle_alt["valueQuantity"]["value"] = 32
    code, statuses, _, verdict, _ = _run(run, tmp_path, bundle)
    assert (code, statuses["I5"], verdict) == (0, "pass", "eligible")


# --- F5: a UCUM code and a unit as written that disagree ---------------------------------------

def _quantity(loinc: str, **quantity) -> dict:
    bundle = copy.deepcopy(BASE)
    _find(bundle, LOINC, loinc)["valueQuantity"] = quantity
    return bundle


def test_a_ucum_code_and_a_unit_that_disagree_make_the_result_unknown(run, tmp_path):
    bundle = _quantity("1975-2", value=3, unit="mg/dL", system=UCUM, code="umol/L")
    code, statuses, warnings, verdict, criteria = _run(run, tmp_path, bundle)
    assert (code, statuses["I5"], verdict) == (0, "unknown", "needs_review"), criteria["I5"]
    assert sum("'mg/dL'" in w and "'umol/L'" in w and "bilirubin" in w for w in warnings) == 1, warnings


def test_a_ucum_code_and_a_unit_that_agree_are_read(run, tmp_path):
    for unit in ("K/uL", "x10E3/uL", "thou/mcL", "10^9/L"):
        bundle = _quantity("777-3", value=180, unit=unit, system=UCUM, code="10*3/uL")
        code, statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
        assert (code, statuses["I5"], verdict) == (0, "pass", "eligible"), (unit, warnings)
    bundle = _quantity("1975-2", value=12, unit="mcmol/L", system=UCUM, code="umol/L")
    assert _run(run, tmp_path, bundle)[1]["I5"] == "pass"


def test_a_unit_the_grammar_cannot_read_leaves_the_other_one(run, tmp_path):
    # the written unit cannot be read: the code decides (3 mg/dL = 51.3 umol/L > 35)
    bundle = _quantity("1975-2", value=3, unit="mg per dL (calc)", system=UCUM, code="mg/dL")
    assert _run(run, tmp_path, bundle)[1]["I5"] == "fail"
    # the code cannot be read: the unit as written decides
    bundle = _quantity("1975-2", value=3, unit="mg/dL", system=UCUM, code="mg/dL{calc}")
    assert _run(run, tmp_path, bundle)[1]["I5"] == "fail"


# --- F10: a person field the reader cannot read ------------------------------------------------

def _ecog(**value) -> dict:
    bundle = copy.deepcopy(BASE)
    ecog = _find(bundle, LOINC, "89247-1")
    del ecog["valueInteger"]
    ecog.update(id="ecog-1", **value)
    return bundle


def test_an_ecog_written_as_text_is_read(run, tmp_path):
    code, statuses, _, verdict, _ = _run(run, tmp_path, _ecog(valueString="1"))
    assert (code, statuses["I4"], verdict) == (0, "pass", "eligible")
    code, statuses, _, _, _ = _run(run, tmp_path, _ecog(valueString=" 4 "))
    assert (code, statuses["I4"]) == (0, "fail")
    code, statuses, _, _, _ = _run(run, tmp_path, _ecog(valueQuantity={"value": 2.0, "unit": "{score}"}))
    assert (code, statuses["I4"]) == (0, "pass")


def test_an_ecog_that_cannot_be_read_is_unknown_not_a_refused_patient(run, tmp_path):
    for value in ({"valueCodeableConcept": {"coding": [{"system": "http://acme.example/ecog", "code": "E1"}]}},
                  {"valueQuantity": {"value": 1.5}}, {"valueString": "one"}, {"valueInteger": 7}):
        code, statuses, warnings, verdict, criteria = _run(run, tmp_path, _ecog(**value))
        assert (code, statuses.get("I4"), verdict) == (0, "unknown", "needs_review"), (value, warnings)
        assert sum("Observation ecog-1" in w and "ECOG" in w for w in warnings) == 1, warnings


def test_an_older_ecog_does_not_decide_over_a_newer_unreadable_one(run, tmp_path):
    bundle = _ecog(valueString="about two", effectiveDateTime="2025-06-01")
    _add(bundle, {"resourceType": "Observation", "status": "final", "effectiveDateTime": "2025-05-20",
                  "code": {"coding": [{"system": LOINC, "code": "89247-1"}]}, "valueInteger": 1})
    assert _run(run, tmp_path, bundle)[1]["I4"] == "unknown"


def _pregnancy(system: str, answer: str) -> dict:
    bundle = copy.deepcopy(BASE)
    _find(bundle, "urn:trialscreen", "field:childbearing_potential")["valueBoolean"] = True
    _add(bundle, {"resourceType": "Observation", "id": "preg-1", "status": "final", "effectiveDateTime": "2025-05-28",
                  "code": {"coding": [{"system": LOINC, "code": "82810-3"}]},
                  "valueCodeableConcept": {"coding": [{"system": system, "code": answer}]}})
    return bundle


def test_pregnancy_answered_with_snomed_is_read(run, tmp_path):
    code, statuses, _, verdict, _ = _run(run, tmp_path, _pregnancy(SNOMED, "77386006"))
    assert (code, statuses["E9"], verdict) == (0, "fail", "ineligible")
    code, statuses, _, _, _ = _run(run, tmp_path, _pregnancy(SNOMED, "60001007"))
    assert (code, statuses["E9"]) == (0, "pass")          # not pregnant, and contraception is not refused


def test_pregnancy_under_an_answer_code_nobody_lists_is_unknown(run, tmp_path):
    code, statuses, warnings, _, _ = _run(run, tmp_path, _pregnancy("http://acme.example/preg", "P"))
    assert (code, statuses["E9"]) == (0, "unknown"), warnings
    assert sum("Observation preg-1" in w and "pregnan" in w for w in warnings) == 1, warnings


# --- F6: FISH results under codes nobody lists -------------------------------------------------

def _fish(when: str, **value) -> dict:
    bundle = copy.deepcopy(BASE)
    _add(bundle, {"resourceType": "Observation", "id": "fish-2", "status": "final", "effectiveDateTime": when,
                  "code": {"coding": [{"system": "https://lab.example.org/codes", "code": "MMFISH"}]}, **value})
    return bundle


def test_a_nuc_ish_result_held_as_coded_text_is_read(run, tmp_path):
    bundle = _fish("2025-05-01", valueCodeableConcept={"text": "nuc ish(TP53x1,D17Z1x2)[45/200]"})
    code, statuses, _, verdict, _ = _run(run, tmp_path, bundle)
    assert (code, statuses["E1"], verdict) == (0, "fail", "ineligible")


def test_a_newer_nuc_ish_result_decides_over_an_older_one(run, tmp_path):
    bundle = _fish("2025-05-01", valueString="nuc ish(TP53x1,D17Z1x2)[45/200]")
    _add(bundle, {"resourceType": "Observation", "status": "final", "effectiveDateTime": "2024-07-10",
                  "code": {"text": "FISH"}, "valueString": "nuc ish(TP53x2,D17Z1x2)[200]"})
    code, statuses, _, _, _ = _run(run, tmp_path, bundle)
    assert (code, statuses["E1"]) == (0, "fail")


def test_free_text_naming_a_finding_makes_it_unknown(run, tmp_path):
    bundle = _fish("2025-05-01", valueString="Deletion of 17p (TP53) detected in 22% of nuclei")
    code, statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
    assert (code, statuses["E1"], verdict) == (0, "unknown", "needs_review")
    assert sum("Observation fish-2" in w and "del(17p)" in w for w in warnings) == 1, warnings


def test_older_free_text_does_not_undo_a_newer_result(run, tmp_path):
    bundle = _fish("2023-01-01", valueString="Deletion of 17p (TP53) detected in 22% of nuclei")
    _find(bundle, "urn:trialscreen", "finding:del(17p)")["effectiveDateTime"] = "2024-07-10"
    assert _run(run, tmp_path, bundle)[1]["E1"] == "pass"


# --- F4: labs under other LOINC codes, in panels, or under codes nobody lists -------------------

def test_a_newer_alt_under_another_loinc_code_decides(run, tmp_path):
    for loinc in ("1743-4", "76625-3"):
        bundle = copy.deepcopy(BASE)
        _add(bundle, _lab(loinc, "2025-05-31", valueQuantity={"value": 200, "unit": "U/L", "system": UCUM, "code": "U/L"},
                          referenceRange=[_high(40)]))
        code, statuses, _, verdict, _ = _run(run, tmp_path, bundle)
        assert (code, statuses["I5"], verdict) == (0, "fail", "ineligible"), loinc


def test_a_lab_in_a_panels_components_is_read_dated_by_the_panel(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    _add(bundle, _lab("51990-0", "2025-05-30", component=[
        {"code": {"coding": [{"system": LOINC, "code": "2160-0"}]}, "valueQuantity": {"value": 300, "unit": "umol/L"}},
        {"code": {"coding": [{"system": LOINC, "code": "2345-7"}]}, "valueQuantity": {"value": 5, "unit": "mmol/L"}}]))
    code, statuses, _, verdict, criteria = _run(run, tmp_path, bundle)
    assert (code, statuses["I5"], verdict) == (0, "fail", "ineligible")
    assert "creatinine 300 umol/L" in criteria["I5"]["reason"] and "2025-05-30" in criteria["I5"]["reason"]


def test_a_laboratory_code_nobody_lists_is_said_once(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    for when in ("2025-05-30", "2025-05-31"):
        _add(bundle, _lab("9999-4", when, valueQuantity={"value": 5, "unit": "mg/L"}))
        _add(bundle, {**_lab("8867-4", when, valueQuantity={"value": 70, "unit": "/min"}),
                      "category": [{"coding": [{"code": "vital-signs"}]}]})
    code, statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
    assert (code, verdict) == (0, "eligible")
    assert sum("laboratory code LOINC 9999-4 is not placed: not read" in w for w in warnings) == 1, warnings
    assert not any("8867-4" in w for w in warnings), warnings


def test_a_newer_lab_under_an_unlisted_code_that_names_an_analyte_makes_it_unknown(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    lab = _lab("99999-9", "2025-05-31", valueQuantity={"value": 300, "unit": "umol/L"})
    lab["code"] = {"coding": [{"system": "http://acme.example/lab", "code": "CREA", "display": "Creatinine"}]}
    _add(bundle, lab)
    code, statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
    assert (code, statuses["I5"], verdict) == (0, "unknown", "needs_review")
    assert sum("CREA" in w and "creatinine" in w for w in warnings) == 1, warnings

"""Reference ranges, units and unplaced laboratory codes in a FHIR bundle (review 13b: W2, U3, W6,
W3, C5, C6): a range for a population the reader cannot check, a limit in another unit, a written
unit with an annotation, a LOINC long name under a local code, the words of the warnings. Each is
screened from the command line, as a user would, against the eligible example."""

from __future__ import annotations

import copy

from test_fhir_review import BASE, LOINC, _add, _find
from test_fhir_values import _run as values_run

UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
LAB = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]


def _run(run, tmp_path, bundle: dict) -> tuple:
    """({criterion: status}, the result's warnings, the verdict, criteria by id), screened with exit 0."""
    code, statuses, warnings, verdict, criteria = values_run(run, tmp_path, bundle)
    assert code == 0, warnings
    return statuses, warnings, verdict, criteria


def _high(value, unit="U/L", code="U/L", **more) -> dict:
    return {"high": {"value": value, "unit": unit, "system": UCUM, "code": code}, **more}


def _alt_with_ranges(*ranges, value=150) -> dict:
    bundle = copy.deepcopy(BASE)
    alt = _find(bundle, LOINC, "1742-6")
    alt.update(id="lab-alt")
    alt["valueQuantity"]["value"] = value         # 150: 3 x 40 = 120 < 150 < 240 = 3 x 80
    alt["referenceRange"] = list(ranges)
    return bundle


# --- W2: a range whose population the reader cannot check ------------------------------------

PREGNANT = {"coding": [{"system": SNOMED, "code": "77386006", "display": "Pregnant"}]}
YEARS_IN_YO = {"low": {"value": 0, "unit": "yo"}, "high": {"value": 17, "unit": "yo"}}


def test_a_range_for_a_population_trialscreen_cannot_check_gives_no_uln(run, tmp_path):
    """ALT 150 with a ULN of 80 only for pregnancy, or for ages in 'yo', or for neonates: the
    patient's ULN is not known, so I5 is unknown (not 'ALT 150 < 3 x ULN = 240')."""
    for ranges, said in (([_high(80, appliesTo=[PREGNANT])], "Pregnant"),
                         ([_high(80, age=YEARS_IN_YO)], "yo"),
                         ([_high(80, appliesTo=[{"text": "neonates"}]), _high(80, appliesTo=[{"text": "infants"}])],
                          "neonates")):
        statuses, warnings, verdict, criteria = _run(run, tmp_path, _alt_with_ranges(*ranges))
        assert (statuses["I5"], verdict) == ("unknown", "needs_review"), criteria["I5"]
        assert "240" not in criteria["I5"]["reason"]
        assert sum("alt" in w and "Observation lab-alt" in w and said in w and "cannot check" in w
                   for w in warnings) == 1, warnings


def test_a_range_for_one_sex_gives_no_uln_when_the_patients_sex_is_not_recorded(run, tmp_path):
    bundle = _alt_with_ranges(_high(80, appliesTo=[{"text": "female"}]))
    next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient").pop("gender")
    statuses, warnings, _, criteria = _run(run, tmp_path, bundle)
    assert statuses["I5"] == "unknown", criteria["I5"]
    assert sum("alt" in w and "female" in w and "cannot check" in w for w in warnings) == 1, warnings


def test_a_range_with_no_population_or_one_that_fits_still_gives_the_uln(run, tmp_path):
    for ranges in ([_high(80)], [_high(80, appliesTo=[{"text": "female"}])],
                   [_high(80, age={"low": {"value": 18, "unit": "years", "system": UCUM, "code": "a"}})]):
        statuses, warnings, verdict, criteria = _run(run, tmp_path, _alt_with_ranges(*ranges))
        assert (statuses["I5"], verdict) == ("pass", "eligible"), (ranges, criteria["I5"])
        assert "ULN 80 U/L" in criteria["I5"]["reason"]


def test_an_unchecked_range_beside_one_that_fits_decides_only_if_they_agree(run, tmp_path):
    agree = _alt_with_ranges(_high(80, appliesTo=[{"text": "female"}]), _high(80, appliesTo=[PREGNANT]))
    assert _run(run, tmp_path, agree)[0]["I5"] == "pass"
    differ = _alt_with_ranges(_high(80, appliesTo=[{"text": "female"}]), _high(40, appliesTo=[PREGNANT]))
    statuses, warnings, _, _ = _run(run, tmp_path, differ)
    assert statuses["I5"] == "unknown"
    assert sum("alt" in w and "Pregnant" in w for w in warnings) == 1, warnings


# --- U3: a limit whose unit clashes with itself ---------------------------------------------------

def test_a_limit_in_two_units_gives_no_uln_but_the_value_is_read(run, tmp_path):
    """The ULN's UCUM code says ukat/L, its unit U/L: no ULN from it, a warning naming both; the
    value is read (not 'is not a number with a unit')."""
    bundle = _alt_with_ranges(_high(40, code="ukat/L"), value=32)
    statuses, warnings, verdict, criteria = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("unknown", "needs_review"), criteria["I5"]
    assert "cannot be used" not in criteria["I5"]["reason"], criteria["I5"]
    assert not any("not a number with a unit" in w for w in warnings), warnings
    assert sum("alt" in w and "'U/L'" in w and "'ukat/L'" in w and "ULN" in w for w in warnings) == 1, warnings
    # a criterion that needs only the value is decided
    bundle = copy.deepcopy(BASE)
    creatinine = _find(bundle, LOINC, "2160-0")
    creatinine["referenceRange"] = [_high(110, unit="umol/L", code="mg/dL")]
    statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("pass", "eligible"), warnings
    assert sum("creatinine" in w and "'umol/L'" in w and "'mg/dL'" in w for w in warnings) == 1, warnings


# --- W6: a written unit with an annotation, or one nobody reads, beside a UCUM code ------------

def _bilirubin(**quantity) -> dict:
    bundle = copy.deepcopy(BASE)
    bilirubin = _find(bundle, LOINC, "1975-2")
    bilirubin.update(id="lab-bilirubin", valueQuantity={"system": UCUM, **quantity})
    return bundle


def test_a_written_unit_with_an_annotation_is_compared_without_it(run, tmp_path):
    statuses, warnings, verdict, criteria = _run(run, tmp_path, _bilirubin(value=3, unit="mg/dL (calc)",
                                                                           code="umol/L"))
    assert (statuses["I5"], verdict) == ("unknown", "needs_review"), criteria["I5"]
    assert sum("'mg/dL (calc)'" in w and "'umol/L'" in w and "bilirubin" in w for w in warnings) == 1, warnings
    statuses, warnings, verdict, _ = _run(run, tmp_path, _bilirubin(value=12, unit="umol/L (calc)", code="umol/L"))
    assert (statuses["I5"], verdict) == ("pass", "eligible"), warnings


def test_a_written_unit_nobody_reads_beside_a_ucum_code_is_said(run, tmp_path):
    statuses, warnings, verdict, criteria = _run(run, tmp_path, _bilirubin(value=12, unit="mikromol pro L",
                                                                           code="umol/L"))
    assert (statuses["I5"], verdict) == ("pass", "eligible"), criteria["I5"]
    assert sum("Observation lab-bilirubin" in w and "'mikromol pro L'" in w and "'umol/L'" in w
               for w in warnings) == 1, warnings


# --- W3: a LOINC long name under a local code -------------------------------------------------------

def _local(display: str, value: dict) -> dict:
    return {"resourceType": "Observation", "id": "local-1", "status": "final", "category": LAB,
            "code": {"coding": [{"system": "http://acme.example/lab", "code": "L1", "display": display}]},
            "effectiveDateTime": "2025-05-31", "valueQuantity": value}


def test_an_unplaced_code_named_by_a_loinc_long_name_makes_its_analyte_unknown(run, tmp_path):
    for display, value in (("Creatinine [Moles/volume] in Serum or Plasma", {"value": 300, "unit": "umol/L"}),
                           ("Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
                            {"value": 900, "unit": "U/L"}),
                           ("Platelets [#/volume] in Blood", {"value": 20, "unit": "10*9/L"}),
                           ("Creatinine in Serum or Plasma", {"value": 300, "unit": "umol/L"})):
        bundle = copy.deepcopy(BASE)
        _add(bundle, _local(display, value))
        statuses, warnings, verdict, criteria = _run(run, tmp_path, bundle)
        assert (statuses["I5"], verdict) == ("unknown", "needs_review"), (display, criteria["I5"])
        assert "L1" in criteria["I5"]["reason"], criteria["I5"]


def test_an_unplaced_code_for_another_specimen_is_not_taken_for_the_blood_test(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    _add(bundle, _local("Creatinine [Moles/volume] in Urine", {"value": 9000, "unit": "umol/L"}))
    statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("pass", "eligible")
    assert any("L1" in w and "not placed" in w for w in warnings), warnings


# --- C5: the words of an unreadable field and of a value that is no number -------------------------

def test_an_unreadable_ecog_is_said_without_a_wrong_article(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    ecog = _find(bundle, LOINC, "89247-1")
    ecog.pop("valueCodeableConcept", None)
    ecog.update(id="ecog-1", valueQuantity={"value": 1.5})
    statuses, warnings, _, _ = _run(run, tmp_path, bundle)
    assert statuses["I4"] == "unknown"
    (said,) = [w for w in warnings if "Observation ecog-1" in w]
    assert "a ECOG" not in said and "ECOG" in said, said


def test_a_lab_value_that_is_not_a_number_names_the_observation(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    creatinine = _find(bundle, LOINC, "2160-0")
    creatinine.update(id="lab-creatinine")
    creatinine["valueQuantity"]["value"] = True
    statuses, warnings, verdict, criteria = _run(run, tmp_path, bundle)
    assert (statuses["I5"], verdict) == ("unknown", "needs_review")
    assert not any("write it like" in w for w in warnings + [criteria["I5"]["reason"]]), warnings
    assert sum("Observation lab-creatinine" in w and "value true" in w and "number" in w for w in warnings) == 1, warnings


# --- C6: unplaced laboratory codes in one line ---------------------------------------------------

def test_the_unplaced_laboratory_codes_are_said_in_one_line(run, tmp_path):
    bundle = copy.deepcopy(BASE)
    for i, (code, name) in enumerate((("2093-3", "Cholesterol"), ("3016-3", "TSH"), ("2571-8", "Triglyceride"))):
        lab = {**_local(name, {"value": i + 1, "unit": "mg/L"}), "id": f"x{i}"}
        lab["code"] = {"coding": [{"system": LOINC, "code": code, "display": name}]}
        _add(bundle, lab)
        _add(bundle, {**lab, "id": f"y{i}", "effectiveDateTime": "2025-05-01"})
    statuses, warnings, verdict, _ = _run(run, tmp_path, bundle)
    assert verdict == "eligible"
    said = [w.split(": ", 1)[1] for w in warnings if "not placed" in w]
    assert said == ["3 laboratory codes are not placed, so not read: LOINC 2093-3 'Cholesterol', "
                    "LOINC 3016-3 'TSH', LOINC 2571-8 'Triglyceride'"], warnings

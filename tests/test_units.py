"""The units layer as a user sees it: lab spellings, conversion factors, and
the verdicts they lead to at the exact boundaries of a criterion.

Reference: shared/reference/units.md (spelling traps, SI factors, molar masses).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from trialscreen.criteria.compile import compile_text
from trialscreen.errors import UnitError
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import parse_patient
from trialscreen.patient.model import Patient
from trialscreen.units import factor, normalize
from trialscreen.vocab import analytes

AS_OF = date(2024, 6, 1)
CREATININE_MG_DL_TO_UMOL_L = 88.4016973


def conversion(spelling: str, analyte_name: str, target: str) -> float:
    """The factor that takes a value written in ``spelling`` to ``target`` for this analyte."""
    analyte = analytes().get(analyte_name)
    assert analyte is not None, analyte_name
    src = normalize(spelling, analyte.klass)
    dst = normalize(target, analyte.klass)
    return factor(src, dst, analyte)


def trial_with(lab: str, op: str, threshold: str):
    text = (
        "id: T-UNITS\n"
        "title: unit boundary test\n"
        "source: tests/test_units.py\n"
        "version: '1'\n"
        "inclusion:\n"
        "  - id: I1\n"
        "    text: a single lab threshold\n"
        f"    rule: {{lab: {lab}, {op}: {json.dumps(threshold)}}}\n"
    )
    return compile_text(text, "t.yaml")


def patient_with(lab: str, value) -> Patient:
    """A patient whose only lab is ``value``, collected on the as-of date."""
    record = {"id": "p1", "lab_date": AS_OF.isoformat(), "labs": {lab: value}}
    return parse_patient(json.dumps(record), "p1.json")


def criterion(lab: str, op: str, threshold: str, value):
    """The one criterion's result for a patient whose only lab is ``value``."""
    result = screen(trial_with(lab, op, threshold), patient_with(lab, value), AS_OF)
    assert len(result.criteria) == 1
    return result.criteria[0]


# --- 1. every spelling resolves to the right quantity ------------------------------------

EXACT = 1e-12

SPELLINGS = [
    # cell counts: the 10^9/L family, thousands per microlitre, and cells per microlitre
    pytest.param("platelets", "10*9/L", "10^9/L", 1.0, EXACT, id="plt-10*9/L-ucum"),
    pytest.param("platelets", "10^9/L", "10^9/L", 1.0, EXACT, id="plt-10^9/L"),
    pytest.param("platelets", "10**9/L", "10^9/L", 1.0, EXACT, id="plt-10**9/L"),
    pytest.param("platelets", "x10^9/L", "10^9/L", 1.0, EXACT, id="plt-x10^9/L"),
    pytest.param("platelets", "x10E9/L", "10^9/L", 1.0, EXACT, id="plt-x10E9/L"),
    pytest.param("platelets", "10E9/L", "10^9/L", 1.0, EXACT, id="plt-10E9/L"),
    pytest.param("platelets", "10⁹/L", "10^9/L", 1.0, EXACT, id="plt-10-superscript-9/L"),
    pytest.param("platelets", "G/L", "10^9/L", 1.0, EXACT, id="plt-G/L-not-gauss"),
    pytest.param("platelets", "K/uL", "10^9/L", 1.0, EXACT, id="plt-K/uL-not-kelvin"),
    pytest.param("platelets", "k/uL", "10^9/L", 1.0, EXACT, id="plt-k/uL-not-boltzmann"),
    pytest.param("platelets", "10E3/uL", "10^9/L", 1.0, EXACT, id="plt-10E3/uL-labcorp"),
    pytest.param("platelets", "x10E3/uL", "10^9/L", 1.0, EXACT, id="plt-x10E3/uL"),
    pytest.param("platelets", "10^3/uL", "10^9/L", 1.0, EXACT, id="plt-10^3/uL"),
    pytest.param("platelets", "thou/uL", "10^9/L", 1.0, EXACT, id="plt-thou/uL"),
    pytest.param("platelets", "/uL", "10^9/L", 0.001, EXACT, id="plt-/uL"),
    pytest.param("platelets", "cells/uL", "10^9/L", 0.001, EXACT, id="plt-cells/uL"),
    pytest.param("platelets", "cells/mm3", "10^9/L", 0.001, EXACT, id="plt-cells/mm3"),
    pytest.param("platelets", "/mm3", "10^9/L", 0.001, EXACT, id="plt-/mm3"),
    pytest.param("platelets", "/mm^3", "10^9/L", 0.001, EXACT, id="plt-/mm^3"),
    pytest.param("anc", "/uL", "10^9/L", 0.001, EXACT, id="anc-/uL"),
    pytest.param("wbc", "K/uL", "10^9/L", 1.0, EXACT, id="wbc-K/uL"),
    pytest.param("rbc", "M/uL", "10^12/L", 1.0, EXACT, id="rbc-M/uL-not-molar"),
    # enzymes
    pytest.param("alt", "U/L", "U/L", 1.0, EXACT, id="alt-U/L"),
    pytest.param("alt", "u/L", "U/L", 1.0, EXACT, id="alt-u/L-not-amu"),
    pytest.param("alt", "IU/L", "U/L", 1.0, EXACT, id="alt-IU/L"),
    pytest.param("alt", "ukat/L", "ukat/L", 1.0, EXACT, id="alt-ukat/L"),
    pytest.param("alt", "U/L", "ukat/L", 0.01667, 1e-3, id="alt-U/L-to-ukat/L"),
    pytest.param("ldh", "ukat/L", "U/L", 60.0, 1e-3, id="ldh-ukat/L-to-U/L"),
    # mass -> molar through the molar mass
    pytest.param("creatinine", "mg/dL", "umol/L", 88.4, 5e-4, id="creat-mg/dL"),
    pytest.param("creatinine", "MG/DL", "umol/L", 88.4, 5e-4, id="creat-MG/DL"),
    pytest.param("creatinine", "umol/L", "umol/L", 1.0, EXACT, id="creat-umol/L"),
    pytest.param("creatinine", "µmol/L", "umol/L", 1.0, EXACT, id="creat-micro-sign"),
    pytest.param("creatinine", "μmol/L", "umol/L", 1.0, EXACT, id="creat-greek-mu"),
    pytest.param("bilirubin", "mg/dL", "umol/L", 17.1, 1e-3, id="bili-mg/dL"),
    pytest.param("calcium", "mg/dL", "mmol/L", 0.2495, 1e-3, id="calcium-mg/dL"),
    pytest.param("glucose", "mg/dL", "mmol/L", 0.05551, 1e-3, id="glucose-mg/dL"),
    pytest.param("uric_acid", "mg/dL", "umol/L", 59.48, 1e-3, id="urate-mg/dL"),
    # mass concentrations
    pytest.param("hemoglobin", "g/dL", "g/L", 10.0, EXACT, id="hgb-g/dL"),
    pytest.param("albumin", "g/dL", "g/L", 10.0, EXACT, id="albumin-g/dL"),
    pytest.param("flc_kappa", "mg/dL", "mg/L", 10.0, EXACT, id="kappa-mg/dL"),
    # equivalents through the valence
    pytest.param("calcium", "mEq/L", "mmol/L", 0.5, EXACT, id="calcium-mEq/L-divalent"),
    pytest.param("potassium", "mEq/L", "mmol/L", 1.0, EXACT, id="potassium-mEq/L-monovalent"),
    # viral load, urine rates, clearance, percent, ratio
    pytest.param("hbv_dna", "cp/mL", "copies/mL", 1.0, EXACT, id="hbv-cp/mL-not-cup"),
    pytest.param("hbv_dna", "IU/mL", "IU/mL", 1.0, EXACT, id="hbv-IU/mL"),
    pytest.param("urine_m_protein", "g/24h", "mg/24h", 1000.0, EXACT, id="upep-g/24h"),
    pytest.param("urine_m_protein", "mg/24h", "g/24h", 0.001, EXACT, id="upep-mg/24h"),
    pytest.param("egfr", "mL/min/1.73m2", "mL/min/1.73m2", 1.0, EXACT, id="egfr-per-1.73m2"),
    pytest.param("crcl", "mL/min", "mL/min", 1.0, EXACT, id="crcl-mL/min"),
    pytest.param("bm_plasma_cells", "%", "%", 1.0, EXACT, id="bmpc-%"),
    pytest.param("inr", "", "1", 1.0, EXACT, id="inr-no-unit-is-a-ratio"),
]


@pytest.mark.parametrize(("analyte", "spelling", "target", "expected", "rel"), SPELLINGS)
def test_spelling_converts_with_the_right_factor(analyte, spelling, target, expected, rel):
    assert conversion(spelling, analyte, target) == pytest.approx(expected, rel=rel)


REFUSED = [
    pytest.param("creatinine", "u/L", "mg/dL", id="u/L-for-non-enzyme-is-not-amu"),
    pytest.param("creatinine", "U/L", "umol/L", id="U/L-for-non-enzyme"),
    pytest.param("hbv_dna", "u/mL", "IU/mL", id="u/mL-for-viral-load"),
    # hemoglobin mmol/L is read in the monomer convention (tests/test_vocab_spellings.py)
    pytest.param("creatinine", "mEq/L", "umol/L", id="creat-mEq/L-no-valence"),
    pytest.param("hbv_dna", "IU/mL", "copies/mL", id="hbv-IU-to-copies"),
    pytest.param("hbv_dna", "copies/mL", "IU/mL", id="hbv-copies-to-IU"),
    pytest.param("hbv_dna", "cup/mL", "copies/mL", id="cup/mL"),
    pytest.param("egfr", "mL/min/1.73m2", "mL/min", id="egfr-to-crcl-units"),
    pytest.param("crcl", "mL/min/1.73m2", "mL/min", id="crcl-given-as-egfr"),
    pytest.param("urine_m_protein", "mg/L", "mg/24h", id="upep-concentration-not-rate"),
    pytest.param("creatinine", "K", "umol/L", id="bare-K"),
    pytest.param("platelets", "K", "10^9/L", id="plt-bare-K"),
    pytest.param("creatinine", "kelvin", "umol/L", id="kelvin"),
    pytest.param("platelets", "gauss", "10^9/L", id="gauss"),
    pytest.param("rbc", "m/uL", "10^12/L", id="m/uL-milli-or-million"),
    pytest.param("platelets", "m/uL", "10^9/L", id="plt-m/uL"),
    pytest.param("platelets", "mg/dL", "10^9/L", id="plt-mg/dL-wrong-dimension"),
    pytest.param("anc", "%", "10^9/L", id="anc-differential-percent"),
    pytest.param("platelets", "10.9/L", "10^9/L", id="10.9/L-typo"),
    pytest.param("platelets", "", "10^9/L", id="plt-empty-unit"),
    pytest.param("creatinine", "", "umol/L", id="creat-empty-unit"),
    pytest.param("bm_plasma_cells", "", "%", id="bmpc-empty-unit"),
]


@pytest.mark.parametrize(("analyte", "spelling", "target"), REFUSED)
def test_unknown_ambiguous_or_wrong_unit_is_refused(analyte, spelling, target):
    with pytest.raises(UnitError):
        conversion(spelling, analyte, target)


PATIENT_UNIT_REFUSED = [
    pytest.param("platelets", "150 mg/dL", id="plt-mg/dL"),
    pytest.param("platelets", "150", id="plt-no-unit"),
    pytest.param("platelets", "150 K", id="plt-bare-K"),
    pytest.param("creatinine", "1.2 u/L", id="creat-u/L"),
    pytest.param("bm_plasma_cells", "50", id="bmpc-no-unit"),
    pytest.param("urine_m_protein", "200 mg/L", id="upep-concentration"),
]


@pytest.mark.parametrize(("lab", "value"), PATIENT_UNIT_REFUSED)
def test_a_bad_unit_is_never_a_guess_the_lab_is_unknown(lab, value):
    """The record is screened, but the lab decides nothing: its criteria are unknown,
    the reason says why, and the record carries a warning naming the field."""
    patient = patient_with(lab, value)
    assert patient.labs[lab].value is None and patient.labs[lab].problem
    assert any(w.location.field == f"labs.{lab}" for w in patient.warnings)
    got = screen(trial_with(lab, "gt", "0 " + {"platelets": "x10^9/L", "creatinine": "umol/L",
                                               "hemoglobin": "g/L", "bm_plasma_cells": "%",
                                               "urine_m_protein": "mg/24h"}[lab]), patient, AS_OF)
    assert got.verdict == "needs_review"
    assert "cannot be used" in got.criteria[0].reason and got.criteria[0].missing


# --- 2. exact boundaries through the patient path ----------------------------------------

BOUNDARIES = [
    pytest.param("platelets", "gt", "75 x10^9/L", "75000 /mm3", "fail", id="plt-75000/mm3-not-gt-75"),
    pytest.param("platelets", "gt", "75 x10^9/L", "75001 /mm3", "pass", id="plt-75001/mm3-gt-75"),
    pytest.param("platelets", "gt", "75 x10^9/L", "75 K/uL", "fail", id="plt-75K/uL-not-gt-75"),
    pytest.param("platelets", "ge", "75 x10^9/L", "75000 cells/mm3", "pass", id="plt-75000/mm3-ge-75"),
    pytest.param("creatinine", "lt", "177 umol/L", "177 umol/L", "fail", id="creat-177-not-lt-177"),
    pytest.param("creatinine", "lt", "177 umol/L", "2.002 mg/dL", "pass", id="creat-2.002mg/dL-lt-177"),
    pytest.param("creatinine", "lt", "177 umol/L", "2.003 mg/dL", "fail", id="creat-2.003mg/dL-not-lt-177"),
    pytest.param("bilirubin", "le", "35 umol/L", "35 umol/L", "pass", id="bili-35-le-35"),
    pytest.param("bilirubin", "le", "35 umol/L", "2.046 mg/dL", "pass", id="bili-2.046mg/dL-le-35"),
    pytest.param("bilirubin", "le", "35 umol/L", "2.05 mg/dL", "fail", id="bili-2.05mg/dL-not-le-35"),
    pytest.param("anc", "gt", "1.0 x10^9/L", "1000 /uL", "fail", id="anc-1000/uL-not-gt-1.0"),
    pytest.param("anc", "gt", "1.0 x10^9/L", "1001 /uL", "pass", id="anc-1001/uL-gt-1.0"),
    pytest.param("lymphocytes", "gt", "0.7 x10^9/L", "700 /uL", "fail", id="alc-700/uL-not-gt-0.7"),
    pytest.param("lymphocytes", "le", "0.7 x10^9/L", "700 cells/uL", "pass", id="alc-700/uL-le-0.7"),
    pytest.param("flc_kappa", "ge", "5.7 mg/L", "0.57 mg/dL", "pass", id="kappa-0.57mg/dL-ge-5.7mg/L"),
]


@pytest.mark.parametrize(("lab", "op", "threshold", "value", "status"), BOUNDARIES)
def test_boundary_verdict(lab, op, threshold, value, status):
    assert criterion(lab, op, threshold, value).status == status


EXPLAINED = [
    pytest.param("1.9 mg/dL", "= 168 umol/L", "pass", id="creat-1.9mg/dL"),
    pytest.param("2.1 mg/dL", "= 185.6 umol/L", "fail", id="creat-2.1mg/dL"),
]


@pytest.mark.parametrize(("value", "shown", "status"), EXPLAINED)
def test_reason_shows_the_converted_value(value, shown, status):
    result = criterion("creatinine", "lt", "177 umol/L", value)
    assert result.status == status
    assert shown in result.reason


# --- 3. a unit that cannot convert to the threshold's -------------------------------------

@pytest.mark.parametrize("value", [
    pytest.param("1000 copies/mL", id="copies-vs-IU-threshold"),
    pytest.param("10 copies/mL", id="small-copies-vs-IU-threshold"),
])
def test_inconvertible_patient_unit_is_unknown_never_pass(value):
    result = criterion("hbv_dna", "gt", "200 IU/mL", value)
    assert result.status == "unknown"
    assert "copies/mL" in result.reason
    assert "IU/mL" in result.reason


# --- 4. censored values ------------------------------------------------------------------

CENSORED = [
    pytest.param("bm_plasma_cells", "lt", "60 %", "<10 %", "pass", id="bmpc-lt10-lt-60"),
    pytest.param("bm_plasma_cells", "gt", "5 %", "<10 %", "unknown", id="bmpc-lt10-gt-5-undecided"),
    pytest.param("bm_plasma_cells", "gt", "10 %", "<10 %", "fail", id="bmpc-lt10-gt-10"),
    pytest.param("bm_plasma_cells", "lt", "10 %", "<10 %", "pass", id="bmpc-lt10-lt-10"),
    pytest.param("hbv_dna", "gt", "200 IU/mL", ">1000 IU/mL", "pass", id="hbv-gt1000-gt-200"),
    pytest.param("hbv_dna", "lt", "200 IU/mL", ">1000 IU/mL", "fail", id="hbv-gt1000-lt-200"),
    pytest.param("hbv_dna", "gt", "2000 IU/mL", ">1000 IU/mL", "unknown", id="hbv-gt1000-gt-2000-undecided"),
]


@pytest.mark.parametrize(("lab", "op", "threshold", "value", "status"), CENSORED)
def test_censored_value(lab, op, threshold, value, status):
    assert criterion(lab, op, threshold, value).status == status


# --- 5. a law: the unit a creatinine is given in does not change the verdict --------------

CREATININE_LT_177 = trial_with("creatinine", "lt", "177 umol/L")


def creatinine_status(value: float, unit: str) -> str:
    patient = patient_with("creatinine", {"value": value, "unit": unit})
    return screen(CREATININE_LT_177, patient, AS_OF).criteria[0].status


CREATININE_VALUES = st.one_of(
    # plausible creatinine values (below 5 umol/L is a wrong unit: see the test after)
    st.floats(min_value=5.0, max_value=5000.0, allow_nan=False, allow_infinity=False),
    st.floats(min_value=177.0 * (1 - 1e-3), max_value=177.0 * (1 + 1e-3)),
)


@settings(max_examples=300, deadline=None)
@given(CREATININE_VALUES)
@example(176.99)
@example(177.01)
@example(177.0 * (1 - 2e-6))
@example(177.0 * (1 + 2e-6))
@example(2.002 * CREATININE_MG_DL_TO_UMOL_L)
@example(2.003 * CREATININE_MG_DL_TO_UMOL_L)
def test_creatinine_verdict_does_not_depend_on_the_unit(umol_per_l):
    assume(abs(umol_per_l - 177.0) > 1e-6 * 177.0)
    in_si = creatinine_status(umol_per_l, "umol/L")
    in_conventional = creatinine_status(umol_per_l / CREATININE_MG_DL_TO_UMOL_L, "mg/dL")
    assert in_si == in_conventional
    assert in_si == ("pass" if umol_per_l < 177.0 else "fail")


@pytest.mark.parametrize(("lab", "value"), [
    ("creatinine", "2.1 umol/L"),          # 2.1 mg/dL written with the SI unit
    ("platelets", "150000 x10^9/L"),       # a count per microlitre given the SI unit
    ("alt", {"value": 3.0, "unit": "ukat/L", "uln": "40 ukat/L"}),   # U/L limit in ukat/L
])
def test_an_implausible_value_or_limit_is_unknown_check_the_unit(lab, value):
    patient = patient_with(lab, value)
    assert patient.labs[lab].value is None
    assert "check the unit" in patient.labs[lab].problem
    threshold = {"creatinine": "177 umol/L", "platelets": "75 x10^9/L", "alt": "3 x ULN"}[lab]
    got = screen(trial_with(lab, "lt", threshold), patient, AS_OF).criteria[0]
    assert got.status == "unknown" and "check the unit" in got.reason


def test_a_bare_reference_limit_needs_a_usual_reporting_unit():
    """ALT 3.0 ukat/L with uln 40 (meaning U/L) must not pass '< 3 x ULN'."""
    patient = patient_with("alt", {"value": 3.0, "unit": "ukat/L", "uln": 40})
    got = screen(trial_with("alt", "lt", "3 x ULN"), patient, AS_OF).criteria[0]
    assert got.status == "unknown"
    assert "without a unit" in got.reason
    ok = patient_with("alt", {"value": 30, "unit": "U/L", "uln": 40})
    assert screen(trial_with("alt", "lt", "3 x ULN"), ok, AS_OF).criteria[0].status == "pass"

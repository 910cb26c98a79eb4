"""Plausible ranges and reference-range units in the analyte vocabulary.

Every quantitative analyte says in which units a bare-number ULN/LLN may be
given (``reference_units``) and what a real value and a real reference limit
look like (``plausible``): a value or limit outside those ranges is a unit
mix-up. The tables below pin the traps that must be caught and the real
extremes that must not be.

Reference: shared/reference/units.md (factors), myeloma.md and the CTCAE v5
extract (grades), and each entry's plausible_source in vocab/analytes.yaml.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import trialscreen.vocab
from trialscreen.units import convertible, factor, normalize
from trialscreen.units.convert import family_of
from trialscreen.vocab import Plausible, analytes

RAW = yaml.safe_load(Path(trialscreen.vocab.__file__).with_name("analytes.yaml").read_text(encoding="utf-8"))["analytes"]
QUANTITATIVE = sorted(n for n, a in analytes().entries.items() if not a.qualitative)
QUALITATIVE = sorted(n for n, a in analytes().entries.items() if a.qualitative)

# A normal result is none / not detected: labs publish no reference interval.
NO_REFERENCE_INTERVAL = {"m_protein", "urine_m_protein", "hbv_dna"}


def to_canonical(name: str, number: float, spelling: str) -> tuple[float, Plausible]:
    """``number spelling`` in the analyte's canonical unit of its family, and that family's ranges."""
    analyte = analytes().entries[name]
    unit = normalize(spelling, analyte.klass)
    family, refusal = family_of(unit, analyte)
    assert family is not None, (name, spelling, refusal)
    [ranges] = [p for p in analyte.plausible if p.unit == family]
    return number * factor(unit, family, analyte), ranges


def inside(x: float, bounds: tuple[float, float]) -> bool:
    lo, hi = bounds
    return lo <= x <= hi or math.isclose(x, lo, rel_tol=1e-9) or math.isclose(x, hi, rel_tol=1e-9)


# --- shape --------------------------------------------------------------------------------


def test_the_vocabulary_has_both_kinds():
    assert len(QUANTITATIVE) >= 40 and QUALITATIVE


@pytest.mark.parametrize("name", QUANTITATIVE)
def test_every_quantitative_analyte_has_the_fields(name):
    raw = RAW[name]
    for key in ("reference_units", "plausible", "plausible_source"):
        assert key in raw, f"{name} lacks {key}"
    assert str(raw["plausible_source"]).strip()
    analyte = analytes().entries[name]
    assert analyte.plausible
    if name in NO_REFERENCE_INTERVAL:
        assert analyte.reference_units == ()
        assert all(p.limit is None for p in analyte.plausible)
    else:
        assert analyte.reference_units, f"{name} has no reference_units"
        assert all(p.limit is not None for p in analyte.plausible), f"{name} lacks a limit range"


@pytest.mark.parametrize("name", QUALITATIVE)
def test_qualitative_analytes_have_none(name):
    analyte = analytes().entries[name]
    assert analyte.reference_units == () and analyte.plausible == ()
    assert not {"reference_units", "plausible", "plausible_source"} & set(RAW[name])


@pytest.mark.parametrize("name", QUANTITATIVE)
def test_one_plausible_entry_per_unit_family_in_order(name):
    analyte = analytes().entries[name]
    assert [p.unit for p in analyte.plausible] == list(analyte.units)
    assert all(isinstance(p, Plausible) for p in analyte.plausible)


@pytest.mark.parametrize("name", QUANTITATIVE)
def test_reference_units_parse_and_convert_to_the_canonical_unit(name):
    analyte = analytes().entries[name]
    for spelling in RAW[name]["reference_units"]:
        unit = normalize(str(spelling), analyte.klass)           # the spelling parses for the class
        assert unit in analyte.reference_units
        assert convertible(unit, analyte.units[0], analyte), (name, spelling)
        factor(unit, analyte.units[0], analyte)                    # and gives a factor


def test_reference_units_leave_out_the_trap_units():
    """ukat/L is a real ALT unit but not one in which a bare ULN may be given."""
    v = analytes().entries
    for enzyme in ("alt", "ast", "alkaline_phosphatase", "ldh"):
        ukat = normalize("ukat/L", "enzyme")
        assert convertible(ukat, v[enzyme].units[0], v[enzyme])
        assert ukat not in v[enzyme].reference_units
    assert normalize("U/L", "enzyme") in v["alt"].reference_units
    assert normalize("IU/L", "enzyme") in v["alt"].reference_units
    assert normalize("mEq/L", "chemistry") not in v["magnesium"].reference_units
    assert normalize("mEq/L", "chemistry") in v["potassium"].reference_units
    # K/uL and 10^3/uL are one unit: listed both, kept once
    plt = v["platelets"].reference_units
    assert len(plt) == len(set(plt)) and normalize("K/uL", "count") in plt and normalize("10^9/L", "count") in plt
    # per nL (German labs' /nl) is 10^9/L by another name: its bare limits are the same numbers
    assert normalize("/nL", "count") in plt
    assert math.isclose(factor(normalize("/nL", "count"), v["platelets"].units[0]), 1.0, rel_tol=1e-12)


@pytest.mark.parametrize("name", QUANTITATIVE)
def test_ranges_are_ordered_and_limits_are_possible_values(name):
    for p in analytes().entries[name].plausible:
        lo, hi = p.value
        assert 0 <= lo <= hi, (name, p)
        if p.limit is not None:
            llo, lhi = p.limit
            assert 0 < llo <= lhi, (name, p)             # a 0 LLN means 'none' and is not checked
            assert lo <= llo and lhi <= hi, (name, p)    # a published limit is a value a sample can have


# --- usual reference limits: inside 'limit'; a bare one misread in another reference unit: outside

# analyte -> (ULN, LLN) pairs as labs print them, in one of the analyte's reference units
USUAL_LIMITS = {
    "creatinine": [(110, 62, "umol/L"), (90, 45, "umol/L"), (1.2, 0.6, "mg/dL"), (1.5, 0.7, "mg/dL")],
    "crcl": [(140, 90, "mL/min")],
    "egfr": [(120, 60, "mL/min/1.73m2"), (None, 90, "mL/min/1.73m2")],
    "bilirubin": [(21, 3, "umol/L"), (17, 5, "umol/L"), (1.2, 0.3, "mg/dL"), (1.0, 0.1, "mg/dL")],
    "direct_bilirubin": [(5, None, "umol/L"), (0.3, None, "mg/dL"), (0.4, None, "mg/dL")],
    "alt": [(40, 7, "U/L"), (56, 10, "IU/L"), (33, None, "U/L"), (19, None, "U/L")],
    "ast": [(40, 10, "U/L"), (48, 8, "IU/L")],
    "alkaline_phosphatase": [(130, 40, "U/L"), (147, 44, "IU/L"), (500, 100, "U/L")],
    "ldh": [(250, 120, "U/L"), (618, 313, "U/L"), (225, 140, "IU/L")],
    "anc": [(7.5, 1.5, "10^9/L"), (7.8, 1.5, "K/uL"), (7800, 1500, "cells/uL"), (6.5, 2.0, "10^3/uL")],
    "platelets": [(400, 150, "10^9/L"), (450, 150, "K/uL"), (379, 140, "10^3/uL"), (400, 150, "/nL")],
    "hemoglobin": [(175, 135, "g/L"), (155, 115, "g/L"), (17.5, 13.5, "g/dL"), (15.5, 12.0, "g/dL")],
    "wbc": [(11.0, 4.0, "10^9/L"), (10.8, 3.8, "K/uL")],
    "lymphocytes": [(4.0, 1.0, "10^9/L"), (3.9, 0.85, "K/uL"), (3900, 850, "cells/uL")],
    "rbc": [(5.9, 4.5, "10^12/L"), (5.1, 3.8, "M/uL")],
    "inr": [(1.2, 0.8, "1"), (1.1, 0.9, "1")],
    "calcium": [(2.6, 2.2, "mmol/L"), (2.62, 2.12, "mmol/L"), (10.5, 8.5, "mg/dL"), (10.4, 8.6, "mg/dL")],
    "corrected_calcium": [(2.6, 2.2, "mmol/L"), (10.2, 8.5, "mg/dL")],
    "ionized_calcium": [(1.32, 1.15, "mmol/L"), (5.3, 4.65, "mg/dL"), (5.2, 4.6, "mg/dL")],
    "potassium": [(5.1, 3.5, "mmol/L"), (5.3, 3.5, "mEq/L")],
    "sodium": [(145, 135, "mmol/L"), (146, 136, "mEq/L")],
    "chloride": [(107, 98, "mmol/L"), (110, 96, "mEq/L")],
    "bicarbonate": [(29, 22, "mmol/L"), (32, 21, "mEq/L")],
    "magnesium": [(1.05, 0.7, "mmol/L"), (1.0, 0.66, "mmol/L"), (2.6, 1.6, "mg/dL"), (2.3, 1.7, "mg/dL")],
    "glucose": [(5.6, 3.9, "mmol/L"), (6.1, 3.3, "mmol/L"), (99, 70, "mg/dL"), (110, 65, "mg/dL")],
    "uric_acid": [(420, 150, "umol/L"), (360, 140, "umol/L"), (7.0, 3.5, "mg/dL"), (8.0, 2.5, "mg/dL")],
    "albumin": [(50, 35, "g/L"), (52, 34, "g/L"), (5.0, 3.5, "g/dL"), (5.5, 3.2, "g/dL")],
    "total_protein": [(80, 60, "g/L"), (8.3, 6.4, "g/dL")],
    "beta2_microglobulin": [(2.4, 0.8, "mg/L"), (2.7, 1.21, "ug/mL")],
    "igg": [(16, 7, "g/L"), (1600, 700, "mg/dL"), (1500, 610, "mg/dL")],
    "iga": [(4.0, 0.7, "g/L"), (400, 70, "mg/dL"), (4.5, 0.9, "g/L")],
    "igm": [(2.3, 0.4, "g/L"), (230, 40, "mg/dL"), (3.0, 0.5, "g/L")],
    "flc_kappa": [(19.4, 3.3, "mg/L"), (1.94, 0.33, "mg/dL")],
    "flc_lambda": [(26.3, 5.71, "mg/L"), (2.63, 0.57, "mg/dL")],
    "flc_ratio": [(1.65, 0.26, "1"), (3.1, 0.37, "1")],
    "involved_flc_ratio": [(1.65, None, "1"), (3.85, None, "1")],
    "involved_flc": [(19.4, 3.3, "mg/L"), (26.3, 5.71, "mg/L"), (2.63, 0.57, "mg/dL")],
    "bm_plasma_cells": [(5, None, "%"), (2, None, "%")],
}


def test_the_usual_limits_table_covers_every_analyte_with_an_interval():
    assert set(USUAL_LIMITS) == set(QUANTITATIVE) - NO_REFERENCE_INTERVAL


@pytest.mark.parametrize("name", sorted(USUAL_LIMITS))
def test_usual_reference_limits_lie_inside_limit(name):
    for uln, lln, spelling in USUAL_LIMITS[name]:
        for number in (uln, lln):
            if number is None:
                continue
            x, ranges = to_canonical(name, number, spelling)
            assert inside(x, ranges.limit), f"{name}: {number} {spelling} = {x:.4g} is outside {ranges.limit}"
            assert inside(x, ranges.value), f"{name}: {number} {spelling} is no plausible value"


@pytest.mark.parametrize("name", sorted(USUAL_LIMITS))
def test_a_bare_uln_read_in_the_wrong_reference_unit_lands_outside_limit(name):
    """The bare-number rule lets a ULN go without its unit when the value's unit is a reference
    unit; a ULN printed in the analyte's other reference unit must then fail the limit range
    (for units that differ by more than a few percent)."""
    analyte = analytes().entries[name]
    for uln, _, spelling in USUAL_LIMITS[name]:
        if uln is None:
            continue
        written = normalize(spelling, analyte.klass)
        for other in analyte.reference_units:
            f = factor(written, other, analyte)
            if math.isclose(f, 1.0, rel_tol=0.05):
                continue                                # the same unit, or as good as
            x, ranges = to_canonical(name, uln, str(other))
            assert not inside(x, ranges.limit), (
                f"{name}: ULN {uln} {spelling} read as {uln} {other} = {x:.4g} passes {ranges.limit}")


# --- traps: a unit mix-up lands outside ----------------------------------------------------------

TRAPS = [
    # (analyte, number, unit as written, 'value' or 'limit', what was meant)
    ("creatinine", 2.1, "umol/L", "value", "2.1 mg/dL"),
    ("anc", 800, "10^9/L", "value", "800 /uL (grade 3 neutropenia) typed into the x10^9/L field"),
    ("creatinine", 0.9, "umol/L", "value", "0.9 mg/dL"),
    ("creatinine", 110, "mg/dL", "value", "110 umol/L (= 9724 umol/L)"),
    ("alt", 40, "ukat/L", "limit", "ULN 40 U/L beside an ALT in ukat/L (= 2400 U/L)"),
    ("alt", 0.6, "U/L", "value", "0.6 ukat/L written as U/L"),
    ("alt", 0.75, "U/L", "limit", "a ukat/L ULN (0.75) beside U/L"),
    ("ast", 40, "ukat/L", "limit", "ULN 40 U/L beside ukat/L"),
    ("ldh", 250, "ukat/L", "limit", "ULN 250 U/L beside ukat/L"),
    ("platelets", 150000, "10^9/L", "value", "150000/uL"),
    ("platelets", 8000, "10^9/L", "value", "8000/uL (an ITP patient)"),
    ("platelets", 150000, "10^9/L", "limit", "LLN 150000/uL"),
    ("anc", 1500, "10^9/L", "value", "1500/uL"),
    ("anc", 1.5, "cells/uL", "limit", "LLN 1.5 x10^9/L beside an ANC in cells/uL"),
    ("wbc", 6500, "10^9/L", "value", "6500/uL"),
    ("rbc", 4500000, "10^12/L", "value", "4.5 million/uL"),
    # Hemoglobin 12 g/L is 1.2 g/dL: reported once or twice as a record low in a patient
    # in resuscitation, never in a screened one; 12 'g/L' for 12 g/dL is a common slip.
    # Decided: below 20 g/L is a unit to check (see plausible_source in analytes.yaml).
    ("hemoglobin", 12, "g/L", "value", "12 g/dL"),
    ("hemoglobin", 17.5, "g/L", "value", "17.5 g/dL"),
    ("hemoglobin", 140, "g/dL", "value", "140 g/L (= 1400 g/L)"),
    ("hemoglobin", 12, "g/L", "limit", "LLN 12 g/dL beside g/L"),
    ("calcium", 9.5, "mmol/L", "value", "9.5 mg/dL"),
    ("calcium", 2.8, "mg/dL", "value", "2.8 mmol/L (hypercalcaemia read as 0.70 mmol/L)"),
    ("ionized_calcium", 5.0, "mmol/L", "value", "5.0 mg/dL"),
    ("albumin", 3.5, "g/L", "value", "3.5 g/dL"),
    ("albumin", 35, "g/dL", "value", "35 g/L"),
    ("total_protein", 7.0, "g/L", "value", "7.0 g/dL"),
    ("igg", 1200, "g/L", "value", "1200 mg/dL"),
    ("iga", 400, "g/L", "value", "400 mg/dL"),
    ("uric_acid", 350, "mg/dL", "value", "350 umol/L"),
    ("glucose", 250, "mmol/L", "value", "250 mg/dL"),
    ("glucose", 3.0, "mg/dL", "value", "3.0 mmol/L"),
    ("bilirubin", 0.3, "umol/L", "value", "0.3 mg/dL"),
    ("bilirubin", 1.2, "umol/L", "limit", "ULN 1.2 mg/dL beside umol/L"),
    ("bilirubin", 200, "mg/dL", "value", "200 umol/L"),
    ("direct_bilirubin", 0.3, "umol/L", "limit", "ULN 0.3 mg/dL beside umol/L"),
    ("m_protein", 30, "g/dL", "value", "30 g/L"),
    ("beta2_microglobulin", 2400, "mg/L", "value", "2400 ug/L"),
    ("flc_kappa", 1.94, "mg/L", "limit", "ULN 1.94 mg/dL beside mg/L"),
    ("magnesium", 2.2, "mmol/L", "limit", "ULN 2.2 mg/dL beside mmol/L"),
]


@pytest.mark.parametrize("name, number, spelling, kind, meant", TRAPS)
def test_unit_traps_land_outside(name, number, spelling, kind, meant):
    x, ranges = to_canonical(name, number, spelling)
    bounds = ranges.value if kind == "value" else ranges.limit
    assert not inside(x, bounds), f"{name} {number} {spelling} (meant {meant}) = {x:.4g} is inside {bounds}"


# --- real extremes: inside ---------------------------------------------------------------------

REAL = [
    # (analyte, number, unit, why it is real)
    ("creatinine", 1500, "umol/L", "end-stage renal failure"),
    ("creatinine", 73.8, "mg/dL", "highest published value (Case Rep Nephrol 2021)"),
    ("creatinine", 15, "umol/L", "muscle wasting"),
    ("alt", 5000, "U/L", "acute liver failure"),
    ("alt", 3, "U/L", "dialysis patient"),
    ("ast", 20000, "U/L", "ischaemic hepatitis"),
    ("ldh", 20000, "U/L", "haemolysis, lymphoma"),
    ("alkaline_phosphatase", 3000, "U/L", "cholestasis, bone disease"),
    ("anc", 0, "10^9/L", "agranulocytosis"),
    ("anc", 90, "10^9/L", "leukaemoid reaction (above 100 is outside on purpose: see analytes.yaml)"),
    ("platelets", 1500, "10^9/L", "essential thrombocythaemia"),
    ("platelets", 3700, "10^9/L", "published extreme thrombocytosis"),
    ("platelets", 0, "10^9/L", "severe ITP reading"),
    ("wbc", 500, "10^9/L", "hyperleukocytosis"),
    ("wbc", 0.1, "10^9/L", "aplasia"),
    ("lymphocytes", 400, "10^9/L", "CLL"),
    ("hemoglobin", 30, "g/L", "severe anaemia (3 g/dL)"),
    ("hemoglobin", 2.0, "g/dL", "extreme anaemia, survived"),
    ("hemoglobin", 24, "g/dL", "polycythaemia"),
    ("hbv_dna", 1e9, "IU/mL", "immunotolerant hepatitis B"),
    ("hbv_dna", 0, "IU/mL", "not detected"),
    ("hbv_dna", 5e9, "copies/mL", "high viral load in copies"),
    ("bilirubin", 600, "umol/L", "severe cholestasis"),
    ("bilirubin", 50, "mg/dL", "liver failure with haemolysis"),
    ("bilirubin", 0.1, "mg/dL", "lowest a lab prints"),
    ("direct_bilirubin", 0, "mg/dL", "labs print 0.0"),
    ("calcium", 4.5, "mmol/L", "hypercalcaemic crisis"),
    ("calcium", 20, "mg/dL", "hypercalcaemic crisis"),
    ("calcium", 1.2, "mmol/L", "severe hypocalcaemia (CTCAE grade 4)"),
    ("ionized_calcium", 0.4, "mmol/L", "citrate toxicity"),
    ("potassium", 9.0, "mmol/L", "hyperkalaemia"),
    ("potassium", 1.5, "mEq/L", "hypokalaemia"),
    ("sodium", 100, "mmol/L", "severe hyponatraemia"),
    ("sodium", 190, "mmol/L", "severe hypernatraemia"),
    ("chloride", 60, "mmol/L", "protracted vomiting"),
    ("bicarbonate", 3, "mmol/L", "severe metabolic acidosis"),
    ("bicarbonate", 55, "mEq/L", "severe metabolic alkalosis"),
    ("corrected_calcium", 3.6, "mmol/L", "CTCAE grade 4 hypercalcaemia"),
    ("magnesium", 0.2, "mmol/L", "severe hypomagnesaemia (CTCAE grade 4)"),
    ("magnesium", 12, "mg/dL", "magnesium overdose"),
    ("glucose", 2656, "mg/dL", "Guinness record"),
    ("glucose", 20, "mg/dL", "severe hypoglycaemia"),
    ("uric_acid", 0, "umol/L", "after rasburicase"),
    ("uric_acid", 30, "mg/dL", "tumour lysis"),
    ("albumin", 10, "g/L", "nephrotic syndrome"),
    ("total_protein", 160, "g/L", "IgG myeloma"),
    ("igg", 100, "g/L", "IgG myeloma"),
    ("igg", 0, "g/L", "agammaglobulinaemia, below the assay limit"),
    ("iga", 0, "mg/dL", "selective IgA deficiency"),
    ("igm", 60, "g/L", "Waldenstrom"),
    ("m_protein", 0, "g/L", "no M-spike"),
    ("m_protein", 10, "g/dL", "very large IgG spike"),
    ("urine_m_protein", 20, "g/24h", "light-chain myeloma"),
    ("flc_kappa", 20000, "mg/L", "light-chain myeloma with renal failure"),
    ("flc_lambda", 0, "mg/L", "suppressed below the assay limit"),
    ("involved_flc", 5000, "mg/L", "light-chain myeloma"),
    ("involved_flc", 10, "mg/dL", "IMWG SLiM threshold, 100 mg/L"),
    ("flc_ratio", 0.001, "1", "lambda clone"),
    ("flc_ratio", 5000, "1", "kappa clone"),
    ("involved_flc_ratio", 0.5, "1", "after therapy"),
    ("involved_flc_ratio", 1000, "1", "SLiM"),
    ("beta2_microglobulin", 40, "mg/L", "dialysis"),
    ("bm_plasma_cells", 0, "%", "none seen"),
    ("bm_plasma_cells", 95, "%", "packed marrow"),
    ("egfr", 5, "mL/min/1.73m2", "end-stage renal disease"),
    ("egfr", 150, "mL/min/1.73m2", "young adult, hyperfiltration"),
    ("crcl", 0, "mL/min", "anuria"),
    ("inr", 10, "1", "warfarin overdose"),
    ("inr", 0.8, "1", "low normal"),
    ("rbc", 0.6, "10^12/L", "extreme anaemia"),
    ("rbc", 8, "M/uL", "polycythaemia"),
]


@pytest.mark.parametrize("name, number, spelling, why", REAL)
def test_real_extreme_values_land_inside(name, number, spelling, why):
    x, ranges = to_canonical(name, number, spelling)
    assert inside(x, ranges.value), f"{name} {number} {spelling} ({why}) = {x:.4g} is outside {ranges.value}"


def test_every_quantitative_analyte_has_a_real_value_checked():
    assert {name for name, *_ in REAL} == set(QUANTITATIVE)


# --- cost ----------------------------------------------------------------------------------------


def test_loading_the_vocabulary_does_not_import_pint():
    code = ("import sys; from trialscreen.vocab import analytes; v = analytes(); "
            "assert v.entries['alt'].plausible and v.entries['alt'].reference_units; "
            "assert 'pint' not in sys.modules, 'pint imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

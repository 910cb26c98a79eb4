"""Vocabularies that read real lab reports (issue 9): the analyte spellings of lab systems and
EHR exports, LOINC codes as names, short names refused as ambiguous, and the older or regional
unit spellings, each through what a user sees: the vocabulary, a patient record screened
against a criterion, and a batch CSV.

Sources of every spelling, code and factor: the comments and *_source keys of
src/trialscreen/vocab/analytes.yaml, and shared/reference/units.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date

import pytest

from conftest import ROOT
from trialscreen.criteria.compile import compile_text
from trialscreen.errors import CriteriaError, PatientError, UnitError
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import parse_patient
from trialscreen.units import factor, normalize
from trialscreen.units.normalize import delog, split_value
from trialscreen.vocab import analytes, checked_loinc, diagnoses, name_key

AS_OF = date(2024, 6, 1)


def trial_text(lab: str, op: str, threshold: str) -> str:
    return ("id: T-SPELL\ntitle: spelling test\nsource: tests/test_vocab_spellings.py\nversion: '1'\n"
            "inclusion:\n  - id: I1\n    text: a single lab threshold\n"
            f"    rule: {{lab: {lab}, {op}: {json.dumps(threshold)}}}\n")


def record(labs: dict) -> str:
    return json.dumps({"id": "p1", "lab_date": AS_OF.isoformat(), "labs": labs})


def criterion(lab: str, op: str, threshold: str, value, key: str | None = None):
    """The one criterion's result for a patient whose only lab, under ``key`` (default: the
    analyte's name), is ``value``."""
    patient = parse_patient(record({key or lab: value}), "p1.json")
    result = screen(compile_text(trial_text(lab, op, threshold), "t.yaml"), patient, AS_OF)
    [one] = result.criteria
    return one


# --- 1. lab-system spellings -> the canonical analyte ------------------------------------------

SPELLINGS = [
    ("TBIL", "bilirubin"), ("T Bili", "bilirubin"), ("T. Bili", "bilirubin"), ("BIL-T", "bilirubin"),
    ("Bilirubin gesamt", "bilirubin"), ("bilirubine totaal", "bilirubin"), ("P-Bilirubin", "bilirubin"),
    ("DBIL", "direct_bilirubin"), ("D Bili", "direct_bilirubin"), ("Bilirubin direkt", "direct_bilirubin"),
    ("CREA", "creatinine"), ("Crea", "creatinine"), ("Kreatinin", "creatinine"), ("kreatinine", "creatinine"),
    ("Créatinine", "creatinine"), ("P-Kreatinin", "creatinine"), ("SCr", "creatinine"),
    ("Kreatinin-Clearance", "crcl"), ("CKD-EPI", "egfr"),
    ("ALTL", "alt"), ("ALT/GPT", "alt"), ("GPT (ALAT)", "alt"), ("ASTL", "ast"), ("AST/GOT", "ast"),
    ("Alkalische Phosphatase", "alkaline_phosphatase"), ("Laktatdehydrogenase", "ldh"),
    ("Neutrophils abs", "anc"), ("ABS NEUTROPHILS", "anc"), ("NEUT#", "anc"),
    ("Neutrophile absolut", "anc"), ("LYMPH#", "lymphocytes"), ("Lymphocytes abs", "lymphocytes"),
    ("WBC#", "wbc"), ("Leukozyten", "wbc"), ("Thrombozyten", "platelets"), ("trombocyten", "platelets"),
    ("PLT#", "platelets"), ("Erythrozyten", "rbc"),
    ("Hämoglobin", "hemoglobin"), ("B-Hb", "hemoglobin"), ("Hæmoglobin", "hemoglobin"),
    ("PK(INR)", "inr"),
    ("BMPC %", "bm_plasma_cells"), ("BMPC%", "bm_plasma_cells"), ("BMPC (%)", "bm_plasma_cells"),
    ("bone marrow plasma cells %", "bm_plasma_cells"),
    ("β2-microglobulin", "beta2_microglobulin"), ("β2-Microglobulin", "beta2_microglobulin"),
    ("β2M", "beta2_microglobulin"), ("B2-MG", "beta2_microglobulin"), ("β2-MG", "beta2_microglobulin"),
    ("Beta-2-Mikroglobulin", "beta2_microglobulin"), ("ß2-Mikroglobulin", "beta2_microglobulin"),
    ("kappa", "flc_kappa"), ("Kappa", "flc_kappa"), ("κ", "flc_kappa"), ("free κ", "flc_kappa"),
    ("lambda", "flc_lambda"), ("λ", "flc_lambda"), ("κ/λ", "flc_ratio"), ("Kappa/Lambda", "flc_ratio"),
    ("κ/λ ratio", "flc_ratio"),
    ("Mspike", "m_protein"), ("M-spike", "m_protein"), ("M-Gradient", "m_protein"), ("M-komponent", "m_protein"),
    ("M-proteïne", "m_protein"),
    ("Bence Jones", "urine_m_protein"), ("Bence-Jones protein", "urine_m_protein"),
    ("Corr Ca", "corrected_calcium"), ("Ca corr", "corrected_calcium"), ("Calcium korrigiert", "corrected_calcium"),
    ("Ionized Ca", "ionized_calcium"), ("Ionised Ca", "ionized_calcium"), ("iCa", "ionized_calcium"),
    ("ionisiertes Calcium", "ionized_calcium"),
    ("Kalzium", "calcium"), ("Ca", "calcium"), ("Kalium", "potassium"), ("K+", "potassium"), ("K⁺", "potassium"),
    ("Natrium", "sodium"), ("Klorid", "chloride"), ("GLUC", "glucose"), ("Glukose", "glucose"),
    ("Harnsäure", "uric_acid"), ("Albumine", "albumin"), ("Gesamteiweiß", "total_protein"),
]


@pytest.mark.parametrize("spelling,canonical", SPELLINGS)
def test_a_lab_system_spelling_names_its_analyte(spelling, canonical):
    assert analytes().canonical(spelling) == canonical


@pytest.mark.parametrize("spelling,canonical", [
    ("TBIL", "bilirubin"), ("Kreatinin", "creatinine"), ("β2-microglobulin", "beta2_microglobulin"),
    ("kappa", "flc_kappa"), ("Corr Ca", "corrected_calcium"), ("Ionized Ca", "ionized_calcium"),
])
def test_a_record_keyed_by_a_lab_spelling_gives_the_canonical_lab(spelling, canonical):
    unit = analytes().entries[canonical].units[0]
    value = {"bilirubin": 12, "creatinine": 80, "beta2_microglobulin": 2.5, "flc_kappa": 15,
             "corrected_calcium": 2.4, "ionized_calcium": 1.2}[canonical]
    patient = parse_patient(record({spelling: f"{value} {unit}"}), "p.json")
    assert list(patient.labs) == [canonical]
    assert patient.labs[canonical].value == value and not patient.labs[canonical].problem


NOT_THAT = [
    # spelling, an analyte it must never name
    ("Ionized Ca", "calcium"), ("iCa", "calcium"), ("Ionized calcium", "corrected_calcium"),
    ("Corr Ca", "calcium"), ("NEUT%", "anc"), ("Gran%", "anc"), ("LYMPH%", "lymphocytes"),
    ("Quick", "inr"), ("Mg", "magnesium"), ("cr", "creatinine"), ("k", "potassium"),
    # the granulocyte count (neutrophils, eosinophils, basophils) is higher than the ANC
    ("Gran#", "anc"), ("AGC", "anc"), ("absolute granulocyte count", "anc"),
]


@pytest.mark.parametrize("spelling,wrong", NOT_THAT)
def test_a_spelling_never_names_a_different_quantity(spelling, wrong):
    assert analytes().canonical(spelling) != wrong


def test_ionized_calcium_is_its_own_analyte():
    v = analytes().entries
    assert {"calcium", "ionized_calcium", "corrected_calcium"} <= set(v)
    assert not set(v["calcium"].codes) & set(v["ionized_calcium"].codes)


def test_greek_letters_and_accents_survive_the_name_key_without_moving_other_keys():
    assert name_key("β2-Microglobulin") == "beta2_microglobulin"
    assert name_key("κ FLC") == "kappa_flc" and name_key("λ FLC") == "lambda_flc"
    assert name_key("Créatinine") == "creatinine" and name_key("Ca²⁺") == "ca2+"
    # ASCII keys are as before
    for text, key in [("Total Bilirubin", "total_bilirubin"), ("del(17p)", "del_17p"), ("K+", "k+"),
                      ("BMPC %", "bmpc_%"), ("2160-0", "2160_0"), ("peripheral neuropathy", "peripheral_neuropathy")]:
        assert name_key(text) == key
    # an accented synonym and its plain spelling still name one diagnosis
    assert diagnoses().canonical("Waldenström macroglobulinemia") == diagnoses().canonical("waldenstrom macroglobulinemia")


# --- 2. LOINC codes as names -------------------------------------------------------------------

LOINC = [
    ("2160-0", "creatinine"), ("38483-4", "creatinine"), ("14682-9", "creatinine"),
    ("777-3", "platelets"), ("26515-7", "platelets"), ("751-8", "anc"), ("26499-4", "anc"),
    ("1975-2", "bilirubin"), ("14631-6", "bilirubin"), ("1742-6", "alt"), ("1920-8", "ast"),
    ("718-7", "hemoglobin"), ("59260-0", "hemoglobin"), ("1994-3", "ionized_calcium"),
    ("1995-0", "ionized_calcium"), ("17861-6", "calcium"), ("29265-6", "corrected_calcium"),
    ("2823-3", "potassium"), ("36916-5", "flc_kappa"), ("33944-0", "flc_lambda"), ("48378-4", "flc_ratio"),
    ("33358-3", "m_protein"), ("98979-8", "egfr"), ("33914-3", "egfr"),
]


@pytest.mark.parametrize("code,canonical", LOINC)
def test_a_loinc_code_names_its_analyte(code, canonical):
    assert analytes().canonical(code) == canonical


def test_every_code_the_vocabulary_lists_names_its_own_analyte_and_no_other():
    owner = {}
    for name, analyte in analytes().entries.items():
        assert analyte.codes[:1] == ((analyte.loinc,) if analyte.loinc else analyte.loinc_also[:1])
        for code in analyte.codes:
            assert owner.setdefault(code, name) == name, f"{code} names {owner[code]} and {name}"
            assert analytes().canonical(code) == name
    assert len(owner) >= 50


def test_a_record_and_a_criterion_may_name_a_lab_by_its_loinc_code():
    got = criterion("2160-0", "lt", "177 umol/L", "2.002 mg/dL", key="38483-4")
    assert got.status == "pass", got.reason


@pytest.mark.parametrize("code", ["2160-1", "777-4", "2160", "21600", "ABC-1"])
def test_a_mistyped_loinc_code_in_the_vocabulary_fails_at_load(code):
    with pytest.raises(ValueError):
        checked_loinc("creatinine", code)


def test_the_loinc_check_digit_matches_loinc_s_example():
    assert checked_loinc("x", "12345-5") == "12345-5"      # loinc.org's worked example of the mod-10 check


# --- 3. ambiguous short names are refused --------------------------------------------------------

AMBIGUOUS = [
    ("K", "'K' is ambiguous: potassium or kappa free light chain; write the full name"),
    ("k", "'k' is ambiguous: potassium or kappa free light chain; write the full name"),
    ("CR", "'CR' is ambiguous: creatinine or complete response; write the full name"),
    ("Cr", "'Cr' is ambiguous: creatinine or complete response; write the full name"),
    ("L", "'L' is ambiguous: lambda free light chain, lymphocytes or the unit litre; write the full name"),
    ("FLC", "'FLC' is ambiguous: kappa free light chain, lambda free light chain, involved free light chain "
            "or the kappa/lambda ratio; write the full name"),
    ("Ca++", "'Ca++' is ambiguous: total calcium or ionized calcium; write the full name"),
    ("Ca²⁺", "'Ca²⁺' is ambiguous: total calcium or ionized calcium; write the full name"),
    ("Mg", "'Mg' is ambiguous: magnesium or the unit milligram; write the full name"),
    ("UA", "'UA' is ambiguous: uric acid or urinalysis; write the full name"),
]


@pytest.mark.parametrize("name,sentence", AMBIGUOUS)
def test_an_ambiguous_name_names_no_analyte_and_says_why(name, sentence):
    assert analytes().canonical(name) is None
    assert analytes().ambiguity(name) == sentence
    assert analytes().suggest(name) == sentence      # what an unknown-name message offers instead


def test_every_ambiguous_name_is_listed_in_the_vocabulary_file():
    assert set(analytes().ambiguous) == {"k", "cr", "l", "flc", "ca++", "ca2+", "mg", "ua"}
    assert analytes().ambiguity("potassium") is None and analytes().ambiguity("K+") is None


@pytest.mark.parametrize("name,sentence", AMBIGUOUS)
def test_an_ambiguous_labs_key_refuses_the_patient_record(name, sentence):
    with pytest.raises(PatientError) as err:
        parse_patient(record({"creatinine": "80 umol/L", name: "4.1 mmol/L"}), "p.json")
    assert sentence in str(err.value)
    assert err.value.location.field == f"labs.{name}"
    assert str(err.value).startswith("p.json:1:")


def test_an_ambiguous_name_in_a_criterion_is_an_error_that_says_why():
    with pytest.raises(CriteriaError) as err:
        compile_text(trial_text("K", "lt", "5.5 mmol/L"), "t.yaml")
    assert "'K' is ambiguous: potassium or kappa free light chain" in str(err.value)


def _batch_csv(tmp_path, header: list[str], row: list[str]):
    path = tmp_path / "labs.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows([header, row])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _trial_file(tmp_path, lab: str, op: str, threshold: str):
    path = tmp_path / "t.yaml"
    path.write_text(trial_text(lab, op, threshold), encoding="utf-8")
    return path


@pytest.mark.parametrize("header", ["K", "CR", "cr", "L", "Ca++", "K_uln"])
def test_an_ambiguous_batch_column_is_an_error_not_an_ignored_column(run, tmp_path, header):
    path = _batch_csv(tmp_path, ["id", "lab_date", header], ["P1", "2024-06-01", "4.1"])
    result = run("batch", path, "--trial", _trial_file(tmp_path, "potassium", "lt", "5.5 mmol/L"),
                 "--as-of", "2024-06-01", "--quiet")
    assert result.exit_code == 65, (result.stdout, result.stderr)
    base = header.split("_")[0]
    assert f"column '{header}':" in " ".join(result.stderr.split())
    assert "is ambiguous:" in result.stderr and "write the full name" in " ".join(result.stderr.split())
    assert f"'{base}' is ambiguous" in result.stderr or f"'{base.lower()}' is ambiguous" in result.stderr


@pytest.mark.parametrize("header,value,status", [
    ("TBIL", "30 umol/L", "pass"), ("T Bili", "36 umol/L", "fail"), ("1975-2", "2.046 mg/dL", "pass"),
    ("14631-6", "35.1 umol/L", "fail"),
])
def test_a_batch_column_named_by_lab_spelling_or_loinc_code(run, tmp_path, header, value, status):
    path = _batch_csv(tmp_path, ["id", "lab_date", header], ["P1", "2024-06-01", value])
    result = run("batch", path, "--trial", _trial_file(tmp_path, "bilirubin", "le", "35 umol/L"),
                 "--as-of", "2024-06-01", "--quiet")
    assert result.exit_code in (0, 1), (result.stdout, result.stderr)
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["I1"] == status, row


# --- 4. unit spellings ----------------------------------------------------------------------------

HB_MMOL_TO_G_L = 64458 / 4 / 1000       # 16.1145: monomer convention (analytes.yaml molar_mass_source)

CONVERSIONS = [
    # analyte, spelling, target, factor
    ("creatinine", "mg%", "mg/dL", 1.0), ("creatinine", "mg %", "umol/L", 88.4016973),
    ("hemoglobin", "g%", "g/dL", 1.0), ("hemoglobin", "g%", "g/L", 10.0), ("albumin", "gm%", "g/L", 10.0),
    ("platelets", "K/mcL", "10^9/L", 1.0), ("platelets", "10^3/mcL", "10^9/L", 1.0),
    ("wbc", "k/mcL", "10^9/L", 1.0), ("anc", "cells/mcL", "10^9/L", 0.001),
    ("creatinine", "micromol/L", "umol/L", 1.0), ("creatinine", "mcmol/L", "umol/L", 1.0),
    ("creatinine", "mcmol/L", "mg/dL", 1 / 88.4016973), ("bilirubin", "micromol/L", "umol/L", 1.0),
    ("urine_m_protein", "g/24 hours", "mg/24h", 1000.0), ("urine_m_protein", "mg/24 hrs", "mg/24h", 1.0),
    ("urine_m_protein", "g/day", "mg/24h", 1000.0),
    ("egfr", "ml/min/1,73m2", "mL/min/1.73m2", 1.0), ("egfr", "mL/min/1,73 m²", "mL/min/1.73m2", 1.0),
    ("hemoglobin", "mmol/L", "g/L", HB_MMOL_TO_G_L), ("hemoglobin", "mmol/L", "g/dL", HB_MMOL_TO_G_L / 10),
]


@pytest.mark.parametrize("analyte,spelling,target,expected", CONVERSIONS)
def test_a_unit_spelling_converts_with_the_right_factor(analyte, spelling, target, expected):
    a = analytes().entries[analyte]
    got = factor(normalize(spelling, a.klass), normalize(target, a.klass), a)
    assert got == pytest.approx(expected, rel=1e-6)


def test_the_hemoglobin_factor_is_the_monomer_one_of_units_md_and_ctcae():
    a = analytes().entries["hemoglobin"]
    per_g_dl = factor(normalize("g/dL", a.klass), normalize("mmol/L", a.klass), a)
    assert per_g_dl == pytest.approx(0.6206, abs=5e-5)                 # reference/units.md, monomer
    assert 10 * per_g_dl == pytest.approx(6.2, abs=0.01)               # CTCAE v5: 10.0 g/dL = 6.2 mmol/L
    # CTCAE's 8.0 g/dL = '4.9 mmol/L' is 4.96 cut short, not rounded: criteria take their own unit's words
    assert 8 * per_g_dl == pytest.approx(4.9645, abs=1e-3) and math.floor(80 * per_g_dl) / 10 == 4.9


@pytest.mark.parametrize("analyte,spelling", [
    ("creatinine", "%"), ("bm_plasma_cells", "mg%"), ("hbv_dna", "log IU/mL"), ("creatinine", "log umol/L"),
    ("platelets", "m/mcL"), ("egfr", "mL/min/1,73"), ("egfr", "mL/min/1,7m2"),
])
def test_what_stays_refused(analyte, spelling):
    a = analytes().entries[analyte]
    with pytest.raises(UnitError):
        factor(normalize(spelling, a.klass), a.units[0], a)


def test_the_body_surface_comma_is_read_in_every_notation():
    assert split_value("45 ml/min/1,73m2") == (None, 45.0, "ml/min/1.73m2")
    assert split_value("45,5 ml/min/1,73m2", decimal_comma=True) == (None, 45.5, "ml/min/1.73m2")
    with pytest.raises(ValueError):
        split_value("45,5 ml/min/1.73m2")          # a decimal comma in the number is still refused


BOUNDARIES = [
    # analyte, op, threshold, value, status
    ("creatinine", "lt", "177 umol/L", "2.002 mg%", "pass"),
    ("creatinine", "lt", "177 umol/L", "2.003 mg%", "fail"),
    ("creatinine", "lt", "177 umol/L", "176.9 micromol/L", "pass"),
    ("creatinine", "lt", "177 umol/L", "177 mcmol/L", "fail"),
    ("hemoglobin", "ge", "100 g/L", "10 g%", "pass"),
    ("hemoglobin", "ge", "100 g/L", "9.99 g%", "fail"),
    ("platelets", "gt", "75 x10^9/L", "75 K/mcL", "fail"),
    ("platelets", "gt", "75 x10^9/L", "75.1 K/mcL", "pass"),
    ("platelets", "ge", "75 x10^9/L", "75 10^3/mcL", "pass"),
    ("urine_m_protein", "ge", "500 mg/24h", "0.5 g/24 hours", "pass"),
    ("urine_m_protein", "ge", "500 mg/24h", "0.499 g/24 hours", "fail"),
    ("egfr", "ge", "60 mL/min/1.73m2", "60 ml/min/1,73m2", "pass"),
    ("egfr", "ge", "60 mL/min/1.73m2", "59.9 mL/min/1,73 m²", "fail"),
    # hemoglobin in mmol/L, monomer: 100 g/L = 6.2056 mmol/L; 6.2 mmol/L = 99.91 g/L, 6.21 = 100.07 g/L
    ("hemoglobin", "ge", "100 g/L", "6.2 mmol/L", "fail"),
    ("hemoglobin", "lt", "100 g/L", "6.2 mmol/L", "pass"),
    ("hemoglobin", "ge", "100 g/L", "6.21 mmol/L", "pass"),
    ("hemoglobin", "ge", "10 g/dL", "6.21 mmol/L", "pass"),
    ("hemoglobin", "lt", "80 g/L", "4.96 mmol/L", "pass"),         # 79.93 g/L
    ("hemoglobin", "lt", "80 g/L", "4.97 mmol/L", "fail"),         # 80.09 g/L
    # a log10 viral load is its plain value: 3.0 log IU/mL = 1000 IU/mL, and as the laboratory
    # rounded it, it stands for 10^2.95 to 10^3.05 (891 to 1122 IU/mL)
    ("hbv_dna", "gt", "200 IU/mL", "3.0 log IU/mL", "pass"),
    ("hbv_dna", "gt", "200 IU/mL", "2.3 log IU/mL", "unknown"),    # 178 to 224 IU/mL: either side
    ("hbv_dna", "gt", "200 IU/mL", "2.30 log IU/mL", "unknown"),   # 197.2 to 201.8 IU/mL
    ("hbv_dna", "gt", "200 IU/mL", "2.2 log IU/mL", "fail"),       # at most 177.8 IU/mL
    ("hbv_dna", "gt", "200 IU/mL", "2.4 log IU/mL", "pass"),       # at least 223.9 IU/mL
    ("hbv_dna", "lt", "1000 IU/mL", "3.00 log10 IU/mL", "unknown"),  # 988.6 to 1012 IU/mL
    ("hbv_dna", "le", "2000 IU/mL", "3.0 log10 IU/mL", "pass"),
    ("hbv_dna", "lt", "10 IU/mL", ".5 log IU/mL", "pass"),          # 2.8 to 3.5 IU/mL, not 10^5
    ("hbv_dna", "lt", "20 IU/mL", "<1.3 log IU/mL", "pass"),       # < 19.95 IU/mL
    ("hbv_dna", "gt", "200 IU/mL", "<1.3 log IU/mL", "fail"),
    ("hbv_dna", "lt", "20 IU/mL", ">1.3 log IU/mL", "unknown"),    # > 19.95: may be under 20 or not
    ("hbv_dna", "gt", "200 IU/mL", "not detected (<1.3 log IU/mL)", "fail"),
    ("hbv_dna", "gt", "200 IU/mL", {"value": 3.0, "unit": "log IU/mL"}, "pass"),
    ("hbv_dna", "gt", "200 copies/mL", "2.4 log copies/mL", "pass"),   # 251 copies/mL
    ("hbv_dna", "gt", "200 IU/mL", "3.0 log copies/mL", "unknown"),    # copies never become IU
]


@pytest.mark.parametrize("analyte,op,threshold,value,status", BOUNDARIES)
def test_a_unit_spelling_decides_at_the_exact_boundary(analyte, op, threshold, value, status):
    got = criterion(analyte, op, threshold, value)
    assert got.status == status, got.reason


def test_the_explanation_shows_the_log_value_as_written_and_what_it_is():
    got = criterion("hbv_dna", "gt", "200 IU/mL", "3.0 log IU/mL")
    assert "3.0 log IU/mL (= 891.3 to 1122 IU/mL, as rounded)" in got.reason, got.reason
    got = criterion("hbv_dna", "lt", "20 IU/mL", "<1.3 log IU/mL")
    assert "<1.3 log IU/mL (= <19.95 IU/mL)" in got.reason, got.reason


def test_delog_is_exact_and_keeps_the_unit_inside():
    assert delog(3.0, "log IU/mL", "viral_load") == (1000.0, "IU/mL")
    assert delog(2, "log₁₀ copies/mL", "viral_load") == (100.0, "copies/mL")
    assert delog(1.3, "log10(IU/mL)", "viral_load") == (pytest.approx(10 ** 1.3), "IU/mL")
    assert delog(3.0, "IU/mL", "viral_load") is None
    with pytest.raises(UnitError):
        delog(3.0, "log IU/mL", "chemistry")
    with pytest.raises(UnitError):
        delog(400, "log IU/mL", "viral_load")        # not an overflow


@pytest.mark.parametrize("lab,value,words", [
    ("creatinine", "2 log umol/L", "log10 unit"),
    ("hbv_dna", "99 log IU/mL", "out of any laboratory's range"),
    ("hbv_dna", "15 log IU/mL", "outside what a sample can have"),    # 10^15 IU/mL
])
def test_a_log_value_that_cannot_be_used_is_unknown_with_the_reason(lab, value, words):
    patient = parse_patient(record({lab: value}), "p.json")
    assert patient.labs[lab].value is None and words in patient.labs[lab].problem
    assert any(w.location.field == f"labs.{lab}" for w in patient.warnings)


def test_a_criterion_in_a_log_unit_is_refused_clearly():
    with pytest.raises(CriteriaError) as err:
        compile_text(trial_text("hbv_dna", "gt", "2.3 log IU/mL"), "t.yaml")
    assert "log10 unit" in str(err.value) and "IU/mL" in str(err.value)


def test_hemoglobin_in_mmol_l_through_a_batch_column_unit(run, tmp_path):
    path = _batch_csv(tmp_path, ["id", "lab_date", "B-Hb [mmol/L]"], ["P1", "2024-06-01", "6.2"])
    result = run("batch", path, "--trial", _trial_file(tmp_path, "hemoglobin", "ge", "100 g/L"),
                 "--as-of", "2024-06-01", "--quiet")
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["I1"] == "fail", (row, result.stderr)


def test_egfr_with_a_decimal_comma_in_a_decimal_comma_batch_file(run, tmp_path):
    path = tmp_path / "egfr.csv"
    path.write_text("id;lab_date;egfr\nP1;2024-06-01;59,9 ml/min/1,73m2\nP2;2024-06-01;60,0 ml/min/1,73m2\n",
                    encoding="utf-8")
    result = run("batch", path, "--trial", _trial_file(tmp_path, "egfr", "ge", "60 mL/min/1.73m2"),
                 "--as-of", "2024-06-01", "--decimal-comma", "--delimiter", ";", "--quiet")
    rows = {r["id"]: r["I1"] for r in csv.DictReader(io.StringIO(result.stdout))}
    assert rows == {"P1": "fail", "P2": "pass"}, (result.stdout, result.stderr)


def test_the_vocabulary_file_names_a_source_for_every_code_and_molar_mass():
    import yaml

    raw = yaml.safe_load((ROOT / "src/trialscreen/vocab/analytes.yaml").read_text(encoding="utf-8"))["analytes"]
    for name, entry in raw.items():
        if entry.get("loinc_also"):
            assert str(entry.get("loinc_source", "")).strip(), f"{name} lists loinc_also without loinc_source"
            for code in entry["loinc_also"]:
                assert code in entry["loinc_source"], f"{name}: {code} has no source"
        if entry.get("molar_mass") is not None:
            assert str(entry.get("molar_mass_source", "")).strip(), name
    assert math.isclose(raw["hemoglobin"]["molar_mass"], 16114.5)

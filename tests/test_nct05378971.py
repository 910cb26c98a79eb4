"""NCT05378971 (pomalidomide maintenance, LanZhou University): every criterion, end to end.

Each test starts from the complete eligible example patient
(examples/patients/NCT05378971-eligible.json), changes one thing, screens it against the
bundled trial file and checks what a coordinator sees: the criterion's status, the overall
verdict, and for an unknown criterion the data item to fetch (``.missing``). Unless a case
says otherwise, every *other* criterion must keep the status it has for the eligible example,
so that an edit is shown to act on the criterion it is aimed at and on nothing else.

Trial text: shared/seeds/001_f4b9b1406bad74b5.txt. Encoding: criteria/NCT05378971.yaml.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.criteria.library import load_trial
from trialscreen.errors import PatientError
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import patient_from_dict

TRIAL_ID = "NCT05378971"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "patients" / f"{TRIAL_ID}-eligible.json"
AS_OF = date(2025, 6, 2)   # the example's own as_of

PASS, FAIL, UNKNOWN, NA = "pass", "fail", "unknown", "not_applicable"
ELIGIBLE, INELIGIBLE, REVIEW = "eligible", "ineligible", "needs_review"

INCLUSION = [f"I{i}" for i in range(1, 8)]
EXCLUSION = [f"E{i}" for i in range(1, 12)]
ALL_IDS = INCLUSION + EXCLUSION
WITH_APPLIES_IF = {"I2", "I3", "I6"}

# What the eligible example screens to (checked by test_eligible_example_baseline).
BASELINE = {cid: PASS for cid in ALL_IDS} | {"I3": NA, "I6": NA}


def _read_example() -> dict:
    with EXAMPLE.open(encoding="utf-8") as fh:
        return json.load(fh)


_EXAMPLE_DICT = _read_example()


# --- fixtures and helpers ----------------------------------------------------------------

@pytest.fixture(scope="module")
def example() -> dict:
    with EXAMPLE.open(encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture
def record(example) -> dict:
    """A fresh deep copy of the eligible example for each test."""
    return copy.deepcopy(example)


@pytest.fixture(scope="module")
def trial():
    return load_trial(TRIAL_ID)


def run(trial, rec: dict, as_of: date | None = None):
    patient = patient_from_dict(rec, "test-record")
    assert not patient.warnings, [str(w) for w in patient.warnings]   # every name in the edit is known
    return screen(trial, patient, as_of)


def status_of(result) -> dict:
    return {c.id: c.status for c in result.criteria}


def criterion(result, cid):
    found = [c for c in result.criteria if c.id == cid]
    assert len(found) == 1, f"{cid} not exactly once in the result"
    return found[0]


def show(result) -> str:
    return "\n".join(f"{c.id} {c.status} {c.missing} | {c.reason}" for c in result.criteria)


# Record edits. Each returns a function that changes a record in place.

def edits(*fs) -> Callable[[dict], None]:
    def apply(rec):
        for f in fs:
            f(rec)
    return apply


def put(*path_and_value) -> Callable[[dict], None]:
    *path, value = path_and_value

    def apply(rec):
        node = rec
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return apply


def drop(*path) -> Callable[[dict], None]:
    def apply(rec):
        node = rec
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return apply


def lab(name, value):
    return put("labs", name, value)


def lab_as(canonical, spelling, value):
    """The lab under another of its names (plt, total_bilirubin, ...)."""
    def apply(rec):
        del rec["labs"][canonical]
        rec["labs"][spelling] = value
    return apply


def att(name, value):
    return drop("attestations", name) if value is None else put("attestations", name, value)


def cond(name, value):
    return put("conditions", name, value)


def cyto(canonical, spelling, result):
    """Replace the example's canonical entry by the lab's own spelling."""
    def apply(rec):
        rec["cytogenetics"].pop(canonical, None)
        rec["cytogenetics"][spelling] = result
    return apply


def not_complete(section):
    def apply(rec):
        rec["complete"] = [s for s in rec["complete"] if s != section]
    return apply


def diagnosis(**changes):
    def apply(rec):
        rec["diagnoses"][0].update(changes)
        for key, value in list(changes.items()):
            if value is None:
                del rec["diagnoses"][0][key]
    return apply


def treatments(*items):
    return put("treatments", [copy.deepcopy(t) for t in items])


def add_treatment(item):
    def apply(rec):
        rec["treatments"].append(copy.deepcopy(item))
    return apply


def neoplasms(*items):
    return put("neoplasms", [copy.deepcopy(n) for n in items])


INDUCTION = {"type": "induction", "regimen": "VRd", "drugs": ["bortezomib", "lenalidomide", "dexamethasone"],
             "start": "2024-07-20", "end": "2024-12-10", "line": 1, "response": "VGPR"}
ASCT = {"type": "asct", "date": "2025-02-20", "conditioning": "melphalan 200 mg/m2"}
CONSOLIDATION = {"type": "consolidation", "regimen": "VRd x2", "start": "2025-01-05", "end": "2025-03-31"}


def non_asct_path(rec):
    """The I3 path: not a transplant candidate, induction + consolidation, maximum response."""
    rec["transplant_candidate"] = False
    rec["treatments"] = [copy.deepcopy(INDUCTION), copy.deepcopy(CONSOLIDATION)]
    rec["attestations"]["maximum_response_reached"] = True


NON_ASCT = non_asct_path
NON_ASCT_BASE = {"I2": NA, "I3": PASS}          # statuses of a complete non-ASCT patient


def CHILDBEARING(rec):
    """A woman of childbearing potential who accepts I6's contraception and test rules."""
    rec["childbearing_potential"] = True
    rec["pregnant"] = False
    rec["attestations"].update(contraception_requirements_accepted=True, monthly_pregnancy_tests_agreed=True)


def nonsecretory(flc):
    return edits(lab("m_protein", "0 g/L"), lab("urine_m_protein", "0 mg/24h"), lab("involved_flc", flc))


def isotype(value):
    """The diagnosis's isotype, written as the record's 'subtype'."""
    return diagnosis(subtype=value)


def hbv(dna=None, hbsag="positive", anti_hbc="negative"):
    fs = [lab("hbsag", hbsag), lab("anti_hbc", anti_hbc)]
    if dna is not None:
        fs.append(lab("hbv_dna", dna))
    return edits(*fs)


def cbp(**attestations):
    """Childbearing potential, with the given I6 attestations (None = not recorded)."""
    fs = [put("childbearing_potential", True), put("pregnant", False)]   # E9 asks pregnancy of her
    for name, value in attestations.items():
        fs.append(att(name, value))
    return edits(*fs)


# --- the case tables ---------------------------------------------------------------------

@dataclass
class Case:
    id: str
    crit: str
    edit: Callable[[dict], None]
    status: str
    missing: str | None = None        # for unknown: an item .missing must name
    reason: str | None = None         # a text the criterion's reason must contain
    verdict: str | None = None        # default: from status
    also: dict = field(default_factory=dict)   # other criteria whose status changes too
    as_of: date | None = None


DEFAULT_VERDICT = {PASS: ELIGIBLE, NA: ELIGIBLE, FAIL: INELIGIBLE, UNKNOWN: REVIEW}


def ids(case: Case) -> str:
    return case.id


INCLUSION_CASES = [
    # I1: newly diagnosed symptomatic MM (IMWG), age >= 18
    Case("I1-age-64-pass", "I1", lambda r: None, PASS),
    Case("I1-18th-birthday-today-pass", "I1", put("birth_date", "2007-06-02"), PASS),
    Case("I1-age-17-fail", "I1", put("birth_date", "2007-06-03"), FAIL, reason="17"),
    Case("I1-recorded-age-17-fail", "I1", edits(drop("birth_date"), put("age", 17)), FAIL),
    Case("I1-recorded-age-40-pass", "I1", edits(drop("birth_date"), put("age", 40)), PASS),
    Case("I1-no-age-unknown", "I1", drop("birth_date"), UNKNOWN, missing="age or birth_date"),
    Case("I1-relapsed-fail", "I1", diagnosis(status="relapsed"), FAIL),
    Case("I1-status-in-words-pass", "I1", diagnosis(status="Newly Diagnosed"), PASS),
    Case("I1-symptomatic-yes-pass", "I1", diagnosis(symptomatic="yes"), PASS),
    Case("I1-smoldering-not-symptomatic-fail", "I1", diagnosis(symptomatic=False), FAIL),
    Case("I1-status-not-recorded-unknown", "I1", diagnosis(status=None), UNKNOWN,
         missing="diagnoses[0].status"),
    Case("I1-no-myeloma-diagnosis-list-complete-fail", "I1", put("diagnoses", []), FAIL),
    Case("I1-diagnoses-not-complete-unknown", "I1", edits(put("diagnoses", []), not_complete("diagnoses")),
         UNKNOWN, missing="diagnoses (the complete list, or mark it complete)", also={"E3": UNKNOWN}),

    # I2: ASCT path: induction <= 12 months, no progression within 3 months of ASCT
    Case("I2-asct-pass", "I2", lambda r: None, PASS),
    Case("I2-induction-exactly-12-months-pass", "I2",
         put("treatments", [INDUCTION | {"start": "2024-01-10", "end": "2025-01-10"}, ASCT]), PASS),
    Case("I2-induction-13-months-fail", "I2",
         put("treatments", [INDUCTION | {"start": "2024-01-10", "end": "2025-02-10"}, ASCT]), FAIL),
    Case("I2-induction-12-months-and-a-day-fail", "I2",
         put("treatments", [INDUCTION | {"start": "2024-01-10", "end": "2025-01-11"}, ASCT]), FAIL),
    Case("I2-progression-1-month-after-asct-fail", "I2",
         cond("progression", {"present": True, "date": "2025-03-20"}), FAIL),
    Case("I2-progression-on-3-month-day-fail", "I2",
         cond("progression", {"present": True, "date": "2025-05-20"}), FAIL),
    Case("I2-progression-undated-unknown", "I2", cond("progression", {"present": True}), UNKNOWN,
         missing="conditions.progression.date"),
    Case("I2-progression-not-recorded-unknown", "I2", drop("conditions", "progression"), UNKNOWN,
         missing="conditions.progression"),
    # the trial is maintenance: a disease progressing at screening fails, whenever it began
    Case("I2-progressing-at-screening-fail", "I2",
         cond("progression", {"present": True, "date": "2025-05-25", "active": True}), FAIL),
    Case("I2-progression-after-window-over-pass", "I2",
         cond("progression", {"present": True, "date": "2025-05-25", "end": "2025-05-30"}), PASS),
    Case("I2-no-induction-recorded-fail", "I2", put("treatments", [ASCT]), FAIL),
    Case("I2-induction-without-dates-unknown", "I2",
         put("treatments", [{"type": "induction", "regimen": "VRd"}, ASCT]), UNKNOWN,
         missing="treatments[0].start and end", also={"E7": UNKNOWN}),
    Case("I2-no-asct-not-applicable", "I2", NON_ASCT, NA, also={"I3": PASS}),
    # Whether I2 applies is unknown (no ASCT listed, list not complete), and so is the
    # length of the induction phase: an unlisted induction could lengthen it.
    Case("I2-no-asct-treatments-not-complete-unknown", "I2",
         edits(NON_ASCT, not_complete("treatments")), UNKNOWN,
         missing="treatments (the complete list, or mark it complete)",
         also={"I3": PASS, "E7": UNKNOWN}),

    # I3: not an ASCT candidate, maximum response after induction + consolidation
    Case("I3-asct-patient-not-applicable", "I3", lambda r: None, NA),
    Case("I3-non-asct-max-response-pass", "I3", NON_ASCT, PASS, also={"I2": NA}),
    Case("I3-transplant-candidate-without-asct-fail", "I3",
         edits(NON_ASCT, put("transplant_candidate", True)), FAIL, also={"I2": NA}),
    Case("I3-transplant-candidate-not-recorded-unknown", "I3",
         edits(NON_ASCT, drop("transplant_candidate")), UNKNOWN, missing="transplant_candidate",
         also={"I2": NA}),
    Case("I3-no-consolidation-fail", "I3", edits(NON_ASCT, put("treatments", [INDUCTION])), FAIL,
         also={"I2": NA}),
    Case("I3-max-response-not-reached-fail", "I3",
         edits(NON_ASCT, att("maximum_response_reached", False)), FAIL, also={"I2": NA}),
    Case("I3-progressing-at-screening-fail", "I3",
         edits(NON_ASCT, cond("progression", {"present": True, "date": "2025-05-25", "active": True})), FAIL,
         also={"I2": NA}),
    Case("I3-max-response-not-attested-unknown", "I3",
         edits(NON_ASCT, att("maximum_response_reached", None)), UNKNOWN,
         missing="attestations.maximum_response_reached", also={"I2": NA}),

    # I4: ECOG 0-3
    Case("I4-ecog-0-pass", "I4", put("ecog", 0), PASS),
    Case("I4-ecog-3-pass", "I4", put("ecog", 3), PASS),
    Case("I4-ecog-4-fail", "I4", put("ecog", 4), FAIL),
    Case("I4-ecog-5-fail", "I4", put("ecog", 5), FAIL),
    Case("I4-ecog-missing-unknown", "I4", drop("ecog"), UNKNOWN, missing="ecog"),

    # I6: childbearing potential -> contraception (+ monthly pregnancy tests for women)
    Case("I6-no-childbearing-potential-not-applicable", "I6", lambda r: None, NA),
    # without it, whether a pregnancy question applies (E9) is unknown too
    Case("I6-childbearing-potential-not-recorded-unknown", "I6", drop("childbearing_potential"),
         UNKNOWN, missing="childbearing_potential", also={"E9": UNKNOWN}),
    Case("I6-cbp-no-attestations-unknown", "I6", cbp(), UNKNOWN,
         missing="attestations.contraception_requirements_accepted"),
    Case("I6-cbp-female-no-pregnancy-test-attestation-unknown", "I6",
         cbp(contraception_requirements_accepted=True), UNKNOWN,
         missing="attestations.monthly_pregnancy_tests_agreed"),
    Case("I6-cbp-female-both-attested-pass", "I6",
         cbp(contraception_requirements_accepted=True, monthly_pregnancy_tests_agreed=True), PASS),
    Case("I6-cbp-female-refuses-pregnancy-tests-fail", "I6",
         cbp(contraception_requirements_accepted=True, monthly_pregnancy_tests_agreed=False), FAIL),
    Case("I6-cbp-contraception-refused-fail", "I6",
         cbp(contraception_requirements_accepted=False, monthly_pregnancy_tests_agreed=True), FAIL),
    Case("I6-cbp-male-contraception-attested-pass", "I6",
         edits(put("sex", "male"), cbp(contraception_requirements_accepted=True)), PASS),
    Case("I6-cbp-male-contraception-not-attested-unknown", "I6",
         edits(put("sex", "male"), cbp()), UNKNOWN,
         missing="attestations.contraception_requirements_accepted"),

    # I7: informed consent
    Case("I7-consent-pass", "I7", att("informed_consent_signed", True), PASS),
    Case("I7-no-consent-fail", "I7", att("informed_consent_signed", False), FAIL),
    Case("I7-consent-not-recorded-unknown", "I7", att("informed_consent_signed", None), UNKNOWN,
         missing="attestations.informed_consent_signed"),
]


# I5: six labs, each just inside and just outside its threshold, SI and US units.
LAB_CASES = [
    # ALT / AST < 3 x ULN (ULN 40 U/L in the example -> limit 120 U/L)
    Case("I5-alt-119-pass", "I5", lab("alt", {"value": 119, "unit": "U/L", "uln": 40}), PASS),
    Case("I5-alt-exactly-3xULN-fail", "I5", lab("alt", {"value": 120, "unit": "U/L", "uln": 40}), FAIL,
         reason="120 U/L"),
    Case("I5-alt-ukat-fail", "I5", lab("alt", {"value": 2.0, "unit": "ukat/L", "uln": "0.6 ukat/L"}), FAIL),
    Case("I5-alt-no-uln-unknown", "I5", lab("alt", {"value": 32, "unit": "U/L"}), UNKNOWN,
         missing="labs.alt.uln"),
    Case("I5-alt-missing-unknown", "I5", drop("labs", "alt"), UNKNOWN, missing="labs.alt"),
    Case("I5-ast-119.9-pass", "I5", lab("ast", {"value": 119.9, "unit": "U/L", "uln": 40}), PASS),
    Case("I5-ast-exactly-3xULN-fail", "I5", lab("ast", {"value": 120, "unit": "U/L", "uln": 40}), FAIL),
    Case("I5-ast-no-uln-unknown", "I5", lab("ast", "28 U/L"), UNKNOWN, missing="labs.ast.uln"),
    Case("I5-ast-missing-unknown", "I5", drop("labs", "ast"), UNKNOWN, missing="labs.ast"),
    # bilirubin <= 35 umol/L ("not exceeding")
    Case("I5-bilirubin-35-umol-pass", "I5", lab("bilirubin", "35 umol/L"), PASS),
    Case("I5-bilirubin-35.1-umol-fail", "I5", lab("bilirubin", "35.1 umol/L"), FAIL),
    Case("I5-bilirubin-2.046-mgdl-pass", "I5", lab("bilirubin", "2.046 mg/dL"), PASS, reason="34.99 umol/L"),
    Case("I5-bilirubin-2.05-mgdl-fail", "I5", lab("bilirubin", "2.05 mg/dL"), FAIL, reason="35.06 umol/L"),
    Case("I5-bilirubin-missing-unknown", "I5", drop("labs", "bilirubin"), UNKNOWN, missing="labs.bilirubin"),
    # creatinine < 177 umol/L
    Case("I5-creatinine-176-umol-pass", "I5", lab("creatinine", "176 umol/L"), PASS),
    Case("I5-creatinine-177-umol-fail", "I5", lab("creatinine", "177 umol/L"), FAIL),
    Case("I5-creatinine-2.0-mgdl-pass", "I5", lab("creatinine", "2.0 mg/dL"), PASS, reason="176.8 umol/L"),
    Case("I5-creatinine-2.1-mgdl-fail", "I5", lab("creatinine", "2.1 mg/dL"), FAIL, reason="185.6 umol/L"),
    Case("I5-creatinine-missing-unknown", "I5", drop("labs", "creatinine"), UNKNOWN, missing="labs.creatinine"),
    # ANC > 1.0 x 10^9/L
    Case("I5-anc-1.0-fail", "I5", lab("anc", "1.0 x10^9/L"), FAIL),
    Case("I5-anc-1.01-pass", "I5", lab("anc", "1.01 x10^9/L"), PASS),
    Case("I5-anc-1000-cells-mm3-fail", "I5", lab("anc", "1000 cells/mm3"), FAIL),
    Case("I5-anc-1010-cells-mm3-pass", "I5", lab("anc", "1010 cells/mm3"), PASS),
    Case("I5-anc-1.0-K-uL-fail", "I5", lab("anc", "1.0 K/uL"), FAIL),
    Case("I5-anc-1100-per-uL-pass", "I5", lab("anc", "1100 /uL"), PASS),
    Case("I5-anc-missing-unknown", "I5", drop("labs", "anc"), UNKNOWN, missing="labs.anc"),
    # platelets > 75 x 10^9/L
    Case("I5-platelets-75-fail", "I5", lab("platelets", "75 x10^9/L"), FAIL),
    Case("I5-platelets-76-pass", "I5", lab("platelets", "76 x10^9/L"), PASS),
    Case("I5-platelets-75-K-uL-fail", "I5", lab("platelets", "75 K/uL"), FAIL),
    Case("I5-platelets-76-K-uL-pass", "I5", lab("platelets", "76 K/uL"), PASS),
    Case("I5-platelets-75000-mm3-fail", "I5", lab("platelets", "75000 /mm3"), FAIL),
    Case("I5-platelets-76000-uL-pass", "I5", lab("platelets", "76000 /uL"), PASS),
    Case("I5-platelets-missing-unknown", "I5", drop("labs", "platelets"), UNKNOWN, missing="labs.platelets"),
    # the labs under the names sites use
    Case("I5-plt-75-K-uL-fail", "I5", lab_as("platelets", "plt", "75 K/uL"), FAIL),
    Case("I5-neutrophils-1000-per-uL-fail", "I5", lab_as("anc", "neutrophils", "1000 /uL"), FAIL),
    Case("I5-total-bilirubin-2.05-mgdl-fail", "I5", lab_as("bilirubin", "total_bilirubin", "2.05 mg/dL"), FAIL),
    Case("I5-serum-creatinine-2.0-mgdl-pass", "I5", lab_as("creatinine", "serum_creatinine", "2.0 mg/dL"), PASS),
    Case("I5-sgpt-exactly-3xULN-fail", "I5", lab_as("alt", "sgpt", {"value": 135, "unit": "U/L", "uln": 45}), FAIL),
    Case("I5-alt-uln-in-other-unit-pass", "I5", lab("alt", {"value": 1.0, "unit": "ukat/L", "uln": "40 U/L"}), PASS),
    # censored results ('<', '>'): decided when the bound settles it, otherwise unknown and
    # the exact value is what to fetch
    Case("I5-platelets-over-100-pass", "I5", lab("platelets", ">100 x10^9/L"), PASS),
    Case("I5-anc-under-0.5-fail", "I5", lab("anc", "<0.5 x10^9/L"), FAIL),
    Case("I5-bilirubin-under-17-umol-pass", "I5", lab("bilirubin", "<17 umol/L"), PASS),
    Case("I5-anc-under-1.5-unknown", "I5", lab("anc", "<1.5 x10^9/L"), UNKNOWN, missing="labs.anc"),
    Case("I5-platelets-under-100-K-uL-unknown", "I5", lab("platelets", "<100 K/uL"), UNKNOWN,
         missing="labs.platelets"),
    Case("I5-creatinine-over-150-unknown", "I5", lab("creatinine", ">150 umol/L"), UNKNOWN,
         missing="labs.creatinine"),
    Case("I5-alt-over-100-unknown", "I5", lab("alt", {"value": ">100", "unit": "U/L", "uln": 40}), UNKNOWN,
         missing="labs.alt"),
    # a failing lab decides I5 even when another lab is missing
    Case("I5-one-fails-one-missing-fail", "I5",
         edits(lab("platelets", "50 x10^9/L"), drop("labs", "anc")), FAIL),
]


# E1: cytogenetics, in the spellings labs use
E1_SPELLINGS = [
    ("del(17p)", "17p-"),
    ("del(17p)", "TP53 deletion"),
    ("amp(1q)", "1q21 amplification"),
    ("t(4;14)", "IGH/FGFR3"),
    ("t(4;14)", "t(4;14)(p16;q32)"),
    ("t(14;16)", "IGH/MAF"),
    ("t(14;20)", "IGH/MAFB"),
    ("t(11;14)", "IGH/CCND1"),
    ("TP53 mutation", "p53 mutation"),
]

CYTO_CASES = [
    Case(f"E1-{spelling}-detected-fail", "E1", cyto(canonical, spelling, "detected"), FAIL)
    for canonical, spelling in E1_SPELLINGS
] + [
    Case(f"E1-{spelling}-not-detected-pass", "E1", cyto(canonical, spelling, "not detected"), PASS)
    for canonical, spelling in E1_SPELLINGS
] + [
    Case("E1-all-not-detected-pass", "E1", lambda r: None, PASS),
    # "1q21 amplification" is read as amp(1q); a gain (3 copies) needs the investigator's reading
    Case("E1-gain-1q-alone-unknown", "E1", put("cytogenetics", "gain(1q)", "detected"), UNKNOWN,
         missing="attestations.gain_1q21_counts_as_amplification"),
    Case("E1-3-copies-1q21-unknown", "E1",
         edits(drop("cytogenetics", "gain(1q)"), put("cytogenetics", "3 copies of 1q21", "detected")), UNKNOWN,
         missing="attestations.gain_1q21_counts_as_amplification"),
    Case("E1-gain-counted-as-amplification-fail", "E1",
         edits(put("cytogenetics", "gain(1q)", "detected"), att("gain_1q21_counts_as_amplification", True)), FAIL),
    Case("E1-gain-not-counted-as-amplification-pass", "E1",
         edits(put("cytogenetics", "gain(1q)", "detected"), att("gain_1q21_counts_as_amplification", False)), PASS),
    Case("E1-1q+-without-copy-number-unknown", "E1",
         edits(drop("cytogenetics", "amp(1q)"), put("cytogenetics", "1q+", "detected")), UNKNOWN,
         missing="cytogenetics.amp(1q)"),
    Case("E1-detected-with-percent-fail", "E1",
         cyto("t(4;14)", "t(4;14)", {"result": "detected", "percent": 30}), FAIL),
    Case("E1-positive-word-fail", "E1", cyto("TP53 mutation", "TP53 mutation", "positive"), FAIL),
    Case("E1-failed-test-unknown", "E1", cyto("t(11;14)", "t(11;14)", "failed"), UNKNOWN,
         missing="cytogenetics.t(11;14)"),
    Case("E1-del17p-detected-others-missing-fail", "E1",
         put("cytogenetics", {"del(17p)": "detected"}), FAIL),
] + [
    Case(f"E1-{name}-not-reported-unknown", "E1", drop("cytogenetics", name), UNKNOWN,
         missing=f"cytogenetics.{name}")
    for name in ["del(17p)", "amp(1q)", "gain(1q)", "t(4;14)", "t(14;16)", "t(14;20)", "t(11;14)", "TP53 mutation"]
]


EXCLUSION_CASES = [
    # E2: pomalidomide intolerable in the investigator's judgment, or lenalidomide/thalidomide allergy
    Case("E2-tolerable-no-allergy-pass", "E2", lambda r: None, PASS),
    Case("E2-not-tolerable-fail", "E2", att("pomalidomide_tolerable", False), FAIL),
    Case("E2-tolerability-not-recorded-unknown", "E2", att("pomalidomide_tolerable", None), UNKNOWN,
         missing="attestations.pomalidomide_tolerable"),
    Case("E2-lenalidomide-allergy-fail", "E2", put("allergies", ["lenalidomide"]), FAIL),
    # an allergy to the study drug itself excludes, whatever the tolerability attestation says
    Case("E2-pomalidomide-allergy-fail", "E2", put("allergies", ["pomalidomide"]), FAIL),
    Case("E2-imnovid-intolerance-fail", "E2", put("allergies", ["Imnovid (intolerance)"]), FAIL),
    Case("E2-thalidomide-allergy-fail", "E2", put("allergies", ["Thalidomide"]), FAIL),
    Case("E2-penicillin-allergy-only-pass", "E2", put("allergies", ["penicillin"]), PASS),
    Case("E2-allergies-not-complete-unknown", "E2", not_complete("allergies"), UNKNOWN,
         missing="allergies (the complete list, or mark it complete)"),

    # E3: nonsecretory MM, a property of the disease at diagnosis (the diagnosis's isotype)
    Case("E3-igg-kappa-pass", "E3", lambda r: None, PASS),
    Case("E3-iga-lambda-pass", "E3", isotype("IgA lambda"), PASS),
    Case("E3-complete-response-today-pass", "E3", nonsecretory("5 mg/L"), PASS),
    Case("E3-nonsecretory-fail", "E3", isotype("nonsecretory"), FAIL),
    Case("E3-non-secretory-spelling-fail", "E3", isotype("Non-secretory"), FAIL),
    Case("E3-light-chain-flc-below-100-at-diagnosis-fail", "E3",
         edits(isotype("kappa light chain"), att("involved_flc_below_100_at_diagnosis", True)), FAIL),
    Case("E3-oligosecretory-flc-below-100-at-diagnosis-fail", "E3",
         edits(isotype("oligosecretory"), att("involved_flc_below_100_at_diagnosis", True)), FAIL),
    Case("E3-light-chain-flc-100-or-more-at-diagnosis-pass", "E3",
         edits(isotype("lambda light chain"), att("involved_flc_below_100_at_diagnosis", False)), PASS),
    Case("E3-light-chain-flc-at-diagnosis-not-confirmed-unknown", "E3", isotype("light chain"), UNKNOWN,
         missing="attestations.involved_flc_below_100_at_diagnosis"),
    Case("E3-isotype-unreadable-unknown", "E3", isotype("see report"), UNKNOWN, missing="diagnoses[0].subtype"),
    Case("E3-isotype-not-recorded-unknown", "E3", isotype(None), UNKNOWN, missing="diagnoses[0].isotype"),

    # E4: CNS involvement
    Case("E4-no-cns-pass", "E4", cond("cns_involvement", False), PASS),
    Case("E4-cns-involvement-fail", "E4", cond("cns_involvement", True), FAIL),
    Case("E4-cns-not-recorded-unknown", "E4", drop("conditions", "cns_involvement"), UNKNOWN,
         missing="conditions.cns_involvement"),

    # E5: peripheral neuropathy >= grade 3
    Case("E5-grade-2-pass", "E5", cond("peripheral_neuropathy", {"present": True, "grade": 2}), PASS),
    Case("E5-current-grade-3-fail", "E5",
         cond("peripheral_neuropathy", {"present": True, "grade": 3, "active": True}), FAIL),
    Case("E5-current-grade-4-fail", "E5", cond("peripheral_neuropathy", {"grade": 4, "active": "yes"}), FAIL),
    Case("E5-grade-3-resolved-pass", "E5",
         cond("peripheral_neuropathy", {"present": True, "grade": 3, "date": "2024-10-01", "end": "2025-01-15"}), PASS),
    Case("E5-grade-3-not-active-pass", "E5",
         cond("peripheral_neuropathy", {"present": True, "grade": 3, "active": False}), PASS),
    Case("E5-grade-3-activity-not-recorded-unknown", "E5",
         cond("peripheral_neuropathy", {"present": True, "grade": 3}), UNKNOWN,
         missing="conditions.peripheral_neuropathy.active"),
    Case("E5-absent-pass", "E5", cond("peripheral_neuropathy", False), PASS),
    Case("E5-present-no-grade-unknown", "E5", cond("peripheral_neuropathy", {"present": True}), UNKNOWN,
         missing="conditions.peripheral_neuropathy.grade"),
    Case("E5-not-recorded-unknown", "E5", drop("conditions", "peripheral_neuropathy"), UNKNOWN,
         missing="conditions.peripheral_neuropathy"),
    Case("E5-sensory-1-motor-3-worse-grade-fail", "E5",
         edits(drop("conditions", "peripheral_neuropathy"),
               cond("peripheral_sensory_neuropathy", {"present": True, "grade": 1}),
               cond("peripheral_motor_neuropathy", {"present": True, "grade": 3, "active": True})), FAIL),

    # E6: active HBV (HBV-DNA >= 1e3 copies/mL or > 200 IU/mL), HCV, HIV
    Case("E6-all-negative-pass", "E6", lambda r: None, PASS),
    Case("E6-hbsag-pos-dna-500-IU-fail", "E6", hbv("500 IU/mL"), FAIL),
    Case("E6-hbsag-pos-dna-200-IU-pass", "E6", hbv("200 IU/mL"), PASS),
    Case("E6-hbsag-pos-dna-150-IU-pass", "E6", hbv("150 IU/mL"), PASS),
    Case("E6-hbsag-pos-dna-1500-copies-fail", "E6", hbv("1500 copies/mL"), FAIL),
    Case("E6-hbsag-pos-dna-1000-copies-fail", "E6", hbv("1000 copies/mL"), FAIL),
    Case("E6-hbsag-pos-dna-800-copies-pass", "E6", hbv("800 copies/mL"), PASS),
    Case("E6-hbsag-pos-dna-below-detection-pass", "E6", hbv("<20 IU/mL"), PASS),
    Case("E6-hbsag-pos-dna-under-500-IU-unknown", "E6", hbv("<500 IU/mL"), UNKNOWN, missing="labs.hbv_dna"),
    Case("E6-anti-hbc-pos-dna-500-IU-fail", "E6", hbv("500 IU/mL", hbsag="negative", anti_hbc="positive"), FAIL),
    # viraemia alone excludes; serology alone decides nothing
    Case("E6-dna-500-IU-negative-serology-fail", "E6", hbv("500 IU/mL", hbsag="negative"), FAIL),
    Case("E6-hbsag-pos-no-dna-unknown", "E6", edits(hbv(), drop("labs", "hbv_dna")), UNKNOWN,
         missing="labs.hbv_dna"),
    Case("E6-negative-serology-no-dna-unknown", "E6", drop("labs", "hbv_dna"), UNKNOWN, missing="labs.hbv_dna"),
    Case("E6-no-serology-dna-and-rna-negative-pass", "E6",
         edits(drop("labs", "hbsag"), drop("labs", "anti_hbc"), drop("labs", "hcv_antibody")), PASS),
    Case("E6-hcv-ab-pos-rna-pos-fail", "E6",
         edits(lab("hcv_antibody", "positive"), lab("hcv_rna", "detected")), FAIL),
    Case("E6-hcv-ab-pos-rna-neg-pass", "E6",
         edits(lab("hcv_antibody", "positive"), lab("hcv_rna", "not detected")), PASS),
    Case("E6-hcv-ab-pos-no-rna-unknown", "E6", edits(lab("hcv_antibody", "positive"), drop("labs", "hcv_rna")),
         UNKNOWN, missing="labs.hcv_rna"),
    Case("E6-hcv-rna-detected-antibody-negative-fail", "E6", lab("hcv_rna", "detected"), FAIL),
    Case("E6-hcv-rna-not-recorded-unknown", "E6", drop("labs", "hcv_rna"), UNKNOWN, missing="labs.hcv_rna"),
    Case("E6-hiv-positive-fail", "E6", lab("hiv_antibody", "positive"), FAIL),
    Case("E6-hiv-reactive-under-another-name-fail", "E6", lab_as("hiv_antibody", "hiv", "reactive"), FAIL),
    Case("E6-hiv-not-recorded-unknown", "E6", drop("labs", "hiv_antibody"), UNKNOWN,
         missing="labs.hiv_antibody"),

    # E7: other neoplasms (3-year tumour-free rule, exempt list); therapy/major surgery within 4 weeks
    Case("E7-no-neoplasm-pass", "E7", lambda r: None, PASS),
    Case("E7-breast-cancer-free-since-2020-pass", "E7",
         neoplasms({"type": "breast_cancer", "tumor_free_since": "2020-01-01", "treated": True}), PASS),
    Case("E7-breast-cancer-free-exactly-3-years-pass", "E7",
         neoplasms({"type": "breast_cancer", "tumor_free_since": "2022-06-02"}), PASS),
    Case("E7-breast-cancer-free-3-years-less-a-day-fail", "E7",
         neoplasms({"type": "breast_cancer", "tumor_free_since": "2022-06-03"}), FAIL),
    Case("E7-breast-cancer-free-since-2023-fail", "E7",
         neoplasms({"type": "breast_cancer", "tumor_free_since": "2023-01-01"}), FAIL),
    Case("E7-breast-cancer-active-fail", "E7", neoplasms({"type": "breast_cancer", "active": True}), FAIL),
    Case("E7-breast-cancer-no-dates-unknown", "E7", neoplasms({"type": "breast_cancer"}), UNKNOWN,
         missing="neoplasms[0].tumor_free_since"),
    Case("E7-basal-cell-carcinoma-active-pass", "E7",
         neoplasms({"type": "basal_cell_carcinoma_skin", "active": True}), PASS),
    Case("E7-squamous-cell-carcinoma-skin-active-pass", "E7",
         neoplasms({"type": "squamous_cell_carcinoma_skin", "active": True}), PASS),
    Case("E7-cervical-cis-active-pass", "E7",
         neoplasms({"type": "cervical_carcinoma_in_situ", "active": True}), PASS),
    Case("E7-breast-cis-active-pass", "E7",
         neoplasms({"type": "breast_carcinoma_in_situ", "active": True}), PASS),
    Case("E7-prostate-T1a-pass", "E7",
         neoplasms({"type": "prostate_cancer", "stage": "T1a", "treated": False, "active": True}), PASS),
    Case("E7-prostate-treated-pass", "E7",
         neoplasms({"type": "prostate_cancer", "stage": "T2", "treated": True, "active": True}), PASS),
    Case("E7-prostate-treated-yes-pass", "E7",
         neoplasms({"type": "prostate_cancer", "treated": "yes", "active": True}), PASS),
    Case("E7-prostate-T2-untreated-fail", "E7",
         neoplasms({"type": "prostate_cancer", "stage": "T2", "treated": False, "active": True}), FAIL),
    Case("E7-prostate-stage-and-treatment-unknown", "E7",
         neoplasms({"type": "prostate_cancer", "active": True}), UNKNOWN, missing="neoplasms[0].stage"),
    Case("E7-neoplasms-not-complete-unknown", "E7", not_complete("neoplasms"), UNKNOWN,
         missing="neoplasms (the complete list, or mark it complete)"),
    Case("E7-induction-ended-2-weeks-ago-fail", "E7",
         edits(put("transplant_candidate", False),
               treatments(INDUCTION | {"start": "2025-01-10", "end": "2025-05-19"})), FAIL,
         also={"I2": NA, "I3": FAIL}),
    Case("E7-consolidation-ended-2-weeks-ago-fail", "E7",
         edits(NON_ASCT, treatments(INDUCTION, CONSOLIDATION | {"start": "2025-03-01", "end": "2025-05-19"})),
         FAIL, also=NON_ASCT_BASE),
    Case("E7-consolidation-ended-5-weeks-ago-pass", "E7",
         edits(NON_ASCT, treatments(INDUCTION, CONSOLIDATION | {"start": "2025-03-01", "end": "2025-04-28"})),
         PASS, also=NON_ASCT_BASE),
    Case("E7-radiotherapy-ended-exactly-4-weeks-ago-fail", "E7",
         add_treatment({"type": "radiotherapy", "start": "2025-04-20", "end": "2025-05-05"}), FAIL),
    Case("E7-radiotherapy-ended-4-weeks-and-a-day-ago-pass", "E7",
         add_treatment({"type": "radiotherapy", "start": "2025-04-20", "end": "2025-05-04"}), PASS),
    Case("E7-ongoing-radiotherapy-fail", "E7", add_treatment({"type": "radiotherapy", "start": "2025-05-26"}),
         FAIL),
    Case("E7-maintenance-started-already-fail", "E7",
         add_treatment({"type": "maintenance", "drugs": ["lenalidomide"], "start": "2025-05-01"}), FAIL),
    # antineoplastic therapy of every kind (the treatment hierarchy)
    Case("E7-hormone-therapy-ended-2-weeks-ago-fail", "E7",
         add_treatment({"type": "hormone therapy", "start": "2025-01-10", "end": "2025-05-19"}), FAIL),
    Case("E7-allo-sct-3-weeks-ago-fail", "E7", add_treatment({"type": "allo-HSCT", "date": "2025-05-12"}), FAIL),
    Case("E7-sbrt-ended-2-weeks-ago-fail", "E7",
         add_treatment({"type": "SBRT", "start": "2025-05-12", "end": "2025-05-19"}), FAIL),
    Case("E7-car-t-2-weeks-ago-fail", "E7", add_treatment({"type": "CAR-T", "date": "2025-05-19"}), FAIL),
    Case("E7-supportive-care-2-weeks-ago-pass", "E7",
         add_treatment({"type": "supportive care", "date": "2025-05-19"}), PASS),
    Case("E7-major-surgery-2-weeks-ago-fail", "E7",
         add_treatment({"type": "surgery", "date": "2025-05-19", "major": True}), FAIL),
    Case("E7-major-surgery-exactly-4-weeks-ago-fail", "E7",
         add_treatment({"type": "surgery", "date": "2025-05-05", "major": True}), FAIL),
    Case("E7-major-surgery-4-weeks-and-a-day-ago-pass", "E7",
         add_treatment({"type": "surgery", "date": "2025-05-04", "major": True}), PASS),
    Case("E7-major-surgery-yes-2-weeks-ago-fail", "E7",
         add_treatment({"type": "surgery", "date": "2025-05-19", "major": "yes"}), FAIL),
    Case("E7-minor-surgery-2-weeks-ago-pass", "E7",
         add_treatment({"type": "surgery", "date": "2025-05-19", "major": False}), PASS),
    Case("E7-surgery-major-not-recorded-unknown", "E7",
         add_treatment({"type": "surgery", "date": "2025-05-19"}), UNKNOWN, missing="treatments[2].major"),
    Case("E7-asct-3-weeks-before-as-of-fail", "E7", lambda r: None, FAIL, as_of=date(2025, 3, 13),
         # 3 weeks after ASCT, "no progression within 3 months" is not yet known, and the
         # labs of 2025-05-28 did not exist on the screening date
         also={"I2": UNKNOWN, "I5": UNKNOWN, "E6": UNKNOWN}),

    # E8: serious infection
    Case("E8-no-infection-pass", "E8", cond("serious_infection", False), PASS),
    Case("E8-active-serious-infection-fail", "E8",
         cond("serious_infection", {"present": True, "active": True}), FAIL),
    Case("E8-resolved-infection-pass", "E8",
         cond("serious_infection", {"present": True, "date": "2025-01-03", "end": "2025-01-20"}), PASS),
    Case("E8-infection-activity-unknown", "E8", cond("serious_infection", {"present": True}), UNKNOWN,
         missing="conditions.serious_infection.active"),
    Case("E8-not-recorded-unknown", "E8", drop("conditions", "serious_infection"), UNKNOWN,
         missing="conditions.serious_infection"),

    # E9: pregnant or breast-feeding; of childbearing potential and refuses contraception
    Case("E9-accepts-contraception-pass", "E9", edits(CHILDBEARING, att("refuses_contraception", False)), PASS,
         also={"I6": PASS}),
    Case("E9-refuses-contraception-fail", "E9", edits(CHILDBEARING, att("refuses_contraception", True)), FAIL,
         also={"I6": PASS}),
    Case("E9-not-recorded-unknown", "E9", edits(CHILDBEARING, att("refuses_contraception", None)), UNKNOWN,
         missing="attestations.refuses_contraception", also={"I6": PASS}),
    Case("E9-no-childbearing-potential-not-asked-pass", "E9", att("refuses_contraception", None), PASS),
    Case("E9-pregnant-fail", "E9", edits(CHILDBEARING, put("pregnant", True)), FAIL, also={"I6": PASS}),
    Case("E9-pregnancy-not-recorded-unknown", "E9", edits(CHILDBEARING, drop("pregnant")), UNKNOWN,
         missing="pregnant",
         also={"I6": PASS}),
    Case("E9-breast-feeding-fail", "E9", put("lactating", True), FAIL),
    Case("E9-breast-feeding-not-recorded-unknown", "E9", drop("lactating"), UNKNOWN, missing="lactating"),
    Case("E9-man-not-asked-about-breast-feeding-pass", "E9", edits(put("sex", "male"), drop("lactating")), PASS),

    # E10: active new thrombosis, or unwilling to take antithrombotic therapy
    Case("E10-no-thrombosis-willing-pass", "E10", lambda r: None, PASS),
    Case("E10-active-thrombosis-fail", "E10", cond("thrombosis", {"present": True, "active": True,
                                                                  "date": "2025-05-20"}), FAIL),
    Case("E10-old-resolved-thrombosis-pass", "E10",
         cond("thrombosis", {"present": True, "active": False, "date": "2019-03-01"}), PASS),
    Case("E10-unwilling-antithrombotic-fail", "E10", att("antithrombotic_therapy_accepted", False), FAIL),
    Case("E10-thrombosis-not-recorded-unknown", "E10", drop("conditions", "thrombosis"), UNKNOWN,
         missing="conditions.thrombosis"),
    Case("E10-antithrombotic-not-recorded-unknown", "E10", att("antithrombotic_therapy_accepted", None),
         UNKNOWN, missing="attestations.antithrombotic_therapy_accepted"),

    # E11: investigator considers unsuitable
    Case("E11-suitable-pass", "E11", att("investigator_considers_suitable", True), PASS),
    Case("E11-unsuitable-fail", "E11", att("investigator_considers_suitable", False), FAIL),
    Case("E11-not-recorded-unknown", "E11", att("investigator_considers_suitable", None), UNKNOWN,
         missing="attestations.investigator_considers_suitable"),
]

ALL_CASES = INCLUSION_CASES + LAB_CASES + CYTO_CASES + EXCLUSION_CASES


def names(missing, item: str) -> bool:
    """``missing`` names ``item``: exactly, or with a qualifier ('labs.anc (an exact value)')."""
    return any(m == item or m.startswith(item + " ") for m in missing)


def check_case(trial, record, case: Case):
    case.edit(record)
    result = run(trial, record, case.as_of)
    got = criterion(result, case.crit)
    assert got.status == case.status, f"{case.crit}: {got.status} ({got.reason})"
    verdict = case.verdict or DEFAULT_VERDICT[case.status]
    if any(s == FAIL for s in case.also.values()):
        verdict = INELIGIBLE
    elif verdict == ELIGIBLE and any(s == UNKNOWN for s in case.also.values()):
        verdict = REVIEW
    assert result.verdict == verdict, show(result)
    # nothing else moved
    expected = BASELINE | case.also | {case.crit: case.status}
    assert status_of(result) == expected, show(result)
    # every unknown criterion (this one or any other) names the data to fetch
    for c in result.criteria:
        if c.status == UNKNOWN:
            assert c.missing, f"{c.id} is unknown but names no data to fetch ({c.reason})"
    if case.status == UNKNOWN:
        assert names(got.missing, case.missing), f"{case.crit} missing {got.missing}, wanted {case.missing!r}"
        assert names(result.missing, case.missing)
    else:
        assert got.missing == []
    if case.reason is not None:
        assert case.reason in got.reason, got.reason
    # a decided criterion explains itself; an undecided one says so
    assert got.reason, f"{case.crit} has no reason"
    if case.status == UNKNOWN:
        assert got.reason.startswith(("undecided", "cannot tell")), got.reason
    return result


@pytest.mark.parametrize("case", INCLUSION_CASES, ids=ids)
def test_inclusion(trial, record, case):
    check_case(trial, record, case)


@pytest.mark.parametrize("case", LAB_CASES, ids=ids)
def test_i5_labs(trial, record, case):
    check_case(trial, record, case)


@pytest.mark.parametrize("case", CYTO_CASES, ids=ids)
def test_e1_cytogenetics(trial, record, case):
    check_case(trial, record, case)


@pytest.mark.parametrize("case", EXCLUSION_CASES, ids=ids)
def test_exclusion(trial, record, case):
    check_case(trial, record, case)


# --- whole-record checks -----------------------------------------------------------------

def test_trial_has_the_registry_criteria(trial):
    assert [c.id for c in trial.criteria] == ALL_IDS
    assert trial.complete is True
    kinds = {c.id: c.kind for c in trial.criteria}
    assert all(kinds[i] == "inclusion" for i in INCLUSION)
    assert all(kinds[e] == "exclusion" for e in EXCLUSION)
    assert {c.id for c in trial.criteria if c.applies_if is not None} == WITH_APPLIES_IF


def test_eligible_example_baseline(trial, record):
    result = run(trial, record)
    assert result.as_of == AS_OF
    assert status_of(result) == BASELINE, show(result)
    assert result.verdict == ELIGIBLE
    assert result.missing == []


def test_non_asct_path_is_eligible(trial, record):
    non_asct_path(record)
    result = run(trial, record)
    assert status_of(result) == dict(BASELINE, **NON_ASCT_BASE), show(result)
    assert result.verdict == ELIGIBLE


def test_case_tables_drive_every_criterion_to_every_status():
    """The tables themselves: each criterion reaches pass, fail and unknown, and
    not_applicable where it has applies_if."""
    reached: dict = {cid: set() for cid in ALL_IDS}
    for case in ALL_CASES:
        reached[case.crit].add(case.status)
    for cid in ALL_IDS:
        wanted = {PASS, FAIL, UNKNOWN} | ({NA} if cid in WITH_APPLIES_IF else set())
        assert wanted <= reached[cid], f"{cid} reaches only {sorted(reached[cid])}"
    names = [c.id for c in ALL_CASES]
    assert len(names) == len(set(names)), "case ids repeat"


def test_contradictory_cytogenetics_is_refused(record):
    """Two spellings of one finding with opposite results: the record is refused, not screened."""
    record["cytogenetics"]["17p-"] = "detected"          # del(17p) is 'not detected' already
    with pytest.raises(PatientError) as err:
        patient_from_dict(record, "test-record")
    assert "del(17p)" in str(err.value)


def test_one_failure_outweighs_unknowns(trial, record):
    lab("platelets", "50 K/uL")(record)
    att("informed_consent_signed", None)(record)
    drop("ecog")(record)
    result = run(trial, record)
    assert result.verdict == INELIGIBLE
    assert set(result.ids(UNKNOWN)) == {"I4", "I7"}
    assert result.ids(FAIL) == ["I5"]
    assert {"ecog", "attestations.informed_consent_signed"} <= set(result.missing)


# --- removing decisive data never yields "eligible" -------------------------------------

# (path in the record, the item .missing must name, the criterion it decides)
DECISIVE = [
    (("labs", "alt"), "labs.alt", "I5"),
    (("labs", "ast"), "labs.ast", "I5"),
    (("labs", "bilirubin"), "labs.bilirubin", "I5"),
    (("labs", "creatinine"), "labs.creatinine", "I5"),
    (("labs", "anc"), "labs.anc", "I5"),
    (("labs", "platelets"), "labs.platelets", "I5"),
    (("diagnoses", 0, "subtype"), "diagnoses[0].isotype", "E3"),
    (("labs", "hbv_dna"), "labs.hbv_dna", "E6"),
    (("labs", "hcv_rna"), "labs.hcv_rna", "E6"),
    (("labs", "hiv_antibody"), "labs.hiv_antibody", "E6"),
    (("cytogenetics", "del(17p)"), "cytogenetics.del(17p)", "E1"),
    (("cytogenetics", "amp(1q)"), "cytogenetics.amp(1q)", "E1"),
    (("cytogenetics", "gain(1q)"), "cytogenetics.gain(1q)", "E1"),
    (("cytogenetics", "t(4;14)"), "cytogenetics.t(4;14)", "E1"),
    (("cytogenetics", "t(14;16)"), "cytogenetics.t(14;16)", "E1"),
    (("cytogenetics", "t(14;20)"), "cytogenetics.t(14;20)", "E1"),
    (("cytogenetics", "t(11;14)"), "cytogenetics.t(11;14)", "E1"),
    (("cytogenetics", "TP53 mutation"), "cytogenetics.TP53 mutation", "E1"),
    (("conditions", "cns_involvement"), "conditions.cns_involvement", "E4"),
    (("conditions", "peripheral_neuropathy"), "conditions.peripheral_neuropathy", "E5"),
    (("conditions", "serious_infection"), "conditions.serious_infection", "E8"),
    (("conditions", "thrombosis"), "conditions.thrombosis", "E10"),
    (("conditions", "progression"), "conditions.progression", "I2"),
    (("attestations", "informed_consent_signed"), "attestations.informed_consent_signed", "I7"),
    (("attestations", "pomalidomide_tolerable"), "attestations.pomalidomide_tolerable", "E2"),
    (("lactating",), "lactating", "E9"),
    (("attestations", "antithrombotic_therapy_accepted"), "attestations.antithrombotic_therapy_accepted", "E10"),
    (("attestations", "investigator_considers_suitable"), "attestations.investigator_considers_suitable", "E11"),
    (("ecog",), "ecog", "I4"),
    (("birth_date",), "age or birth_date", "I1"),
    (("childbearing_potential",), "childbearing_potential", ("I6", "E9")),   # E9: may she be pregnant?
]

# Present in the example but used by no criterion for this patient: removing them changes nothing.
INERT = [("labs", "hemoglobin"), ("weight",), ("height",), ("transplant_candidate",), ("sex",),
         # E3 reads the diagnosis, E6 the DNA and RNA, E9's contraception question only the
         # patients of childbearing potential
         ("labs", "m_protein"), ("labs", "hbsag"), ("labs", "anti_hbc"), ("labs", "hcv_antibody"),
         ("attestations", "refuses_contraception")]


def _cids(cid) -> tuple:
    """The criteria a DECISIVE item decides: one id, or a tuple of them."""
    return cid if isinstance(cid, tuple) else (cid,)


def _remove(rec: dict, path: tuple):
    node = rec
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]


@pytest.mark.parametrize("path, item, cid", DECISIVE, ids=[d[1] for d in DECISIVE])
def test_removing_one_decisive_item_needs_review(trial, record, path, item, cid):
    _remove(record, path)
    result = run(trial, record)
    assert result.verdict == REVIEW, show(result)
    assert set(result.ids(UNKNOWN)) == set(_cids(cid)), show(result)
    for c in _cids(cid):
        assert item in criterion(result, c).missing
    assert item in result.missing


@pytest.mark.parametrize("path", INERT, ids=[".".join(p) for p in INERT])
def test_removing_unused_item_stays_eligible(trial, record, path):
    _remove(record, path)
    result = run(trial, record)
    assert result.verdict == ELIGIBLE, show(result)


@settings(max_examples=150, deadline=None)
@given(
    decisive=st.sets(st.integers(0, len(DECISIVE) - 1)),
    inert=st.sets(st.integers(0, len(INERT) - 1)),
)
def test_removing_data_never_makes_eligible(decisive, inert):
    trial = load_trial(TRIAL_ID)
    rec = copy.deepcopy(_EXAMPLE_DICT)
    for i in decisive:
        _remove(rec, DECISIVE[i][0])
    for i in inert:
        _remove(rec, INERT[i])
    result = run(trial, rec)
    if not decisive:
        assert result.verdict == ELIGIBLE, show(result)
        return
    # missing data can only make criteria unknown: never eligible, never ineligible
    assert result.verdict == REVIEW, show(result)
    assert result.ids(FAIL) == []
    assert set(result.ids(UNKNOWN)) == {c for i in decisive for c in _cids(DECISIVE[i][2])}, show(result)
    for i in decisive:
        assert DECISIVE[i][1] in result.missing, (DECISIVE[i][1], result.missing)

"""Fail closed: one clock, stale labs, phases and counts, the open world, text for numbers.

Each table row is a record change a site could meet and the status a careful clinician
expects; none of them may give a pass that the record does not support. Trials are small
criteria texts compiled here, so each row shows one rule alone; the bundled trials are
driven through the same paths by tests/test_safety_corpus.py.
"""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from trialscreen.criteria.compile import compile_text
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import patient_from_dict
from trialscreen.semantics.timewin import Duration

AS_OF = date(2025, 6, 2)


def trial(rule: str, head: str = "") -> object:
    text = (f"id: T-FC\ntitle: fail closed\nsource: tests\nversion: '1'\n{head}"
            f"inclusion:\n  - id: I1\n    text: the rule\n    rule: {rule}\n")
    return compile_text(text, "t.yaml")


def one(rule: str, record: dict, head: str = "", **kw):
    rec = {"id": "P", "as_of": AS_OF.isoformat(), **copy.deepcopy(record)}
    return screen(trial(rule, head), patient_from_dict(rec, "p.json"), AS_OF, **kw).criteria[0]


# --- 1. one clock ----------------------------------------------------------------------------

FUTURE = [
    # rule, record, status, words in the reason
    ("{diagnosis: multiple_myeloma}",
     {"diagnoses": [{"name": "multiple_myeloma", "date": "2025-07-01"}], "complete": ["diagnoses"]},
     "unknown", "multiple myeloma 2025-07-01 is after the as-of date 2025-06-02"),
    ("{treatment: asct}",
     {"treatments": [{"type": "asct", "date": "2025-07-01"}], "complete": ["treatments"]},
     "unknown", "ASCT 2025-07-01 is after the as-of date 2025-06-02"),
    ("{not: {treatment: asct}}",       # a planned ASCT is not 'no ASCT' either
     {"treatments": [{"type": "asct", "date": "2025-07-01"}], "complete": ["treatments"]},
     "unknown", "after the as-of date"),
    ("{treatment: chemotherapy, within: 4 weeks}",
     {"treatments": [{"type": "chemotherapy", "start": "2025-06-20"}], "complete": ["treatments"]},
     "unknown", "chemotherapy 2025-06-20 is after the as-of date"),
    ("{condition: progression}",
     {"conditions": {"progression": {"present": True, "date": "2025-08-01"}}},
     "unknown", "progression 2025-08-01 is after the as-of date"),
    ("{not: {condition: progression}}",   # an assessment made later says nothing of today
     {"conditions": {"progression": {"present": False, "date": "2025-08-01"}}},
     "unknown", "after the as-of date"),
    ("{cytogenetics: {none_of: [del(17p)]}}",
     {"cytogenetics": {"del(17p)": {"result": "not detected", "date": "2025-06-10"}}},
     "unknown", "del(17p) 2025-06-10 is after the as-of date"),
    ("{lab: creatinine, lt: 177 umol/L}",
     {"labs": {"creatinine": {"value": 88, "unit": "umol/L", "date": "2025-06-03"}}},
     "unknown", "after the as-of date"),
    # a parent reported not detected later rules its children out only from that date
    ("{cytogenetics: {none_of: [amp(1q)]}}",
     {"cytogenetics": {"1q+": {"result": "not detected", "date": "2025-06-10"}}},
     "unknown", "amp(1q) 2025-06-10 is after the as-of date"),
    # a course that began before and ends after the as-of date is ongoing on it
    ("{treatment: chemotherapy, within: 4 weeks}",
     {"treatments": [{"type": "chemotherapy", "start": "2025-01-10", "end": "2025-09-30"}],
      "complete": ["treatments"]},
     "pass", "2025-01-10, ongoing (planned end 2025-09-30)"),
]


@pytest.mark.parametrize("rule,record,status,words", FUTURE, ids=[f"{i}-{r[0]}" for i, r in enumerate(FUTURE)])
def test_nothing_dated_after_the_as_of_date_has_happened(rule, record, status, words):
    got = one(rule, record)
    assert got.status == status, got.reason
    assert words in got.reason, got.reason
    if status == "unknown":
        assert got.missing


def test_a_planned_end_after_the_as_of_date_is_shown_as_ongoing(nct05378971, eligible_record):
    from conftest import screen_record, status_of

    eligible_record["treatments"].append({"type": "maintenance", "start": "2025-05-01", "end": "2026-05-01"})
    e7 = status_of(screen_record(nct05378971, eligible_record), "E7")
    assert e7.status == "fail"
    assert "maintenance (2025-05-01, ongoing (planned end 2026-05-01))" in e7.reason


# --- 2. labs go stale ------------------------------------------------------------------------

WINDOWS = [
    # criterion within, trial screening_window, --max-lab-age, lab date, status, words
    (None, None, None, "2025-05-06", "pass", "dated 2025-05-06, 27 days old"),
    (None, None, None, "2025-05-04", "unknown", "older than 28 days (the default maximum lab age"),
    (None, None, "8 weeks", "2025-04-20", "pass", "43 days old"),
    (None, None, "8 weeks", "2025-04-01", "unknown", "the site's maximum lab age of 8 weeks"),
    (None, "14 days", "8 weeks", "2025-05-10", "unknown", "the trial's screening window of 14 days"),
    (None, "14 days", None, "2025-05-20", "pass", "13 days old"),
    ("90 days", "14 days", None, "2025-03-10", "pass", "84 days old"),
    ("7 days", "90 days", None, "2025-05-20", "unknown", "this criterion's window"),
    (None, None, None, None, "unknown", "has no date"),
    (None, None, None, "2022-06-01", "unknown", "older than 28 days"),
]


@pytest.mark.parametrize("within,window,site,when,status,words", WINDOWS)
def test_a_lab_decides_only_inside_its_window(within, window, site, when, status, words):
    rule = "{lab: creatinine, lt: 177 umol/L" + (f", within: {within}" if within else "") + "}"
    head = f"screening_window: {window}\n" if window else ""
    lab = {"value": 88, "unit": "umol/L", **({"date": when} if when else {})}
    oldest = None
    if site:
        n, unit = site.split()
        oldest = Duration(int(n), unit)
    got = one(rule, {"labs": {"creatinine": lab}}, head, max_lab_age=oldest)
    assert got.status == status, got.reason
    assert words in got.reason, got.reason
    if status == "unknown":
        assert any("fetch a current creatinine" in m for m in got.missing), got.missing


def test_lab_date_dates_the_labs_that_give_none():
    rule = "{lab: creatinine, lt: 177 umol/L}"
    assert one(rule, {"lab_date": "2025-05-30", "labs": {"creatinine": "88 umol/L"}}).status == "pass"
    own = {"lab_date": "2025-05-30", "labs": {"creatinine": {"value": 88, "unit": "umol/L", "date": "2024-01-01"}}}
    assert one(rule, own).status == "unknown"   # a lab's own date wins


def test_qualitative_labs_go_stale_too():
    rule = "{lab: hbsag, is: negative}"
    assert one(rule, {"labs": {"hbsag": {"result": "negative", "date": "2025-05-30"}}}).status == "pass"
    got = one(rule, {"labs": {"hbsag": "negative"}})
    assert got.status == "unknown" and "has no date" in got.reason


def test_max_lab_age_on_the_command_line(run, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"id": "W", "labs": {"creatinine": {"value": 88, "unit": "umol/L",
                                                                   "date": "2025-04-20"}}}))
    criteria = tmp_path / "T-FC.yaml"
    criteria.write_text("id: T-FC\ntitle: t\nsource: s\nversion: '1'\ninclusion:\n  - id: I1\n    text: t\n"
                        "    rule: {lab: creatinine, lt: 177 umol/L}\n")
    base = ("screen", str(path), "-t", str(criteria), "--as-of", "2025-06-02", "-f", "json")
    assert json.loads(run(*base).stdout)[0]["verdict"] == "needs_review"
    assert json.loads(run(*base, "--max-lab-age", "8 weeks").stdout)[0]["verdict"] == "eligible"
    bad = run(*base, "--max-lab-age", "soon")
    assert bad.exit_code == 2 and "--max-lab-age 'soon' is not a duration" in bad.stderr


def test_every_bundled_trial_states_its_screening_window():
    from trialscreen.criteria.library import bundled_trials, load_trial

    for path in bundled_trials():
        t = load_trial(str(path))
        assert t.screening_window == Duration(28, "days"), t.id
        assert "screening_window" in path.read_text(encoding="utf-8")


# --- 3. phases and counts ---------------------------------------------------------------------

IND = "{treatment: induction, duration: {le: 12 months}}"
PHASES = [
    # treatments, complete, status, words
    ([{"type": "induction", "start": "2024-01-10", "end": "2024-09-10"},
      {"type": "induction", "start": "2024-08-01", "end": "2025-05-10"}], True, "fail",
     "the phase 2024-01-10 to 2025-05-10: 486 days"),
    ([{"type": "induction", "start": "2024-01-10", "end": "2024-06-10"},
      {"type": "induction", "start": "2024-07-01", "end": "2024-12-01"}], True, "pass",
     "the phase 2024-01-10 to 2024-12-01: 326 days"),
    ([{"type": "induction", "start": "2024-01-10", "end": "2024-06-10"}], False, "unknown",
     "induction 2024-01-10 to 2024-06-10"),          # an unlisted line could lengthen it
    ([{"type": "induction", "start": "2023-01-10", "end": "2024-06-10"}], False, "fail",
     "induction 2023-01-10 to 2024-06-10"),          # too long whatever else there is
    ([{"type": "induction", "start": "2024-01-10", "end": "2024-06-10"},
      {"type": "inductionish therapy", "start": "2024-06-01", "end": "2025-04-01"}], True, "unknown",
     "might be one"),
    ([{"type": "induction", "start": "2024-01-10", "end": "2024-06-10"},
      {"type": "induction", "start": "2025-07-01", "end": "2025-12-01"}], True, "unknown",
     "induction 2025-07-01 is after the as-of date"),
    ([{"type": "induction", "start": "2024-09-10"}], True, "pass", "ongoing"),   # 9 months so far
    ([{"type": "induction", "start": "2024-01-10"}], True, "fail", "ongoing"),   # 16 months so far
    ([], True, "fail", "no matching treatment recorded"),
]


@pytest.mark.parametrize("treatments,complete,status,words", PHASES)
def test_a_duration_measures_the_whole_phase(treatments, complete, status, words):
    record = {"treatments": treatments, "complete": ["treatments"] if complete else []}
    got = one(IND, record)
    assert got.status == status, got.reason
    assert words in got.reason, got.reason


LINES = "{treatment: any, count: {ge: 2}}"
COUNTS = [
    # treatments, complete, status
    ([{"type": "induction", "start": "2023-01-01", "end": "2023-06-01", "line": 1},
      {"type": "asct", "date": "2023-07-01", "line": 1}], True, "fail"),       # one line
    ([{"type": "induction", "start": "2023-01-01", "end": "2023-06-01", "line": 1},
      {"type": "chemotherapy", "start": "2024-01-01", "end": "2024-06-01", "line": 2}], True, "pass"),
    ([{"type": "induction", "start": "2023-01-01", "end": "2023-06-01"}], False, "unknown"),
    ([{"type": "induction", "start": "2023-01-01", "end": "2023-06-01"},
      {"type": "chemotherapy", "start": "2025-07-01"}], True, "unknown"),    # the second is planned
    ([], True, "fail"),
]


@pytest.mark.parametrize("treatments,complete,status", COUNTS)
def test_a_count_reads_the_whole_history(treatments, complete, status):
    record = {"treatments": treatments, "complete": ["treatments"] if complete else []}
    assert one(LINES, record).status == status


def test_count_and_duration_are_checked_when_the_file_loads():
    from trialscreen.errors import CriteriaError

    with pytest.raises(CriteriaError, match="count needs one comparison"):
        trial("{treatment: any, count: {ge: two}}")
    with pytest.raises(CriteriaError, match="count or duration, not both"):
        trial("{treatment: any, count: {ge: 2}, duration: {le: 3 months}}")


# --- 4. the open world -----------------------------------------------------------------------

OPEN = [
    # rule, record, status, words
    ("{cytogenetics: {none_of: [del(17p), t(4;14)]}}",
     {"cytogenetics": {"del(17p)": "not detected", "t(4;14)": "not detected", "i(17q)": "detected"}},
     "unknown", "unrecognised finding 'i(17q)' detected: a person must judge"),
    ("{cytogenetics: {none_of: [del(17p)]}}",          # known data already decide it
     {"cytogenetics": {"del(17p)": "detected", "i(17q)": "detected"}}, "fail", "del(17p) detected"),
    ("{cytogenetics: {none_of: [del(17p)]}}",          # an unknown finding reported absent changes nothing
     {"cytogenetics": {"del(17p)": "not detected", "i(17q)": "not detected"}}, "pass", "not detected"),
    ("{not: {condition: cns_involvement}}",
     {"conditions": {"cns_involvement": False, "leptomeningeal disease": True}},
     "unknown", "unrecognised condition 'leptomeningeal disease' present"),
    ("{not: {treatment: any, drug: [lenalidomide]}}",
     {"treatments": [{"type": "chemotherapy", "start": "2024-01-01", "end": "2024-03-01",
                      "drugs": ["XQ-7781 investigational"]}], "complete": ["treatments"]},
     "unknown", "is 'xq_7781_investigational' one of lenalidomide"),
]


@pytest.mark.parametrize("rule,record,status,words", OPEN, ids=[f"{i}" for i in range(len(OPEN))])
def test_what_the_vocabulary_cannot_place_is_never_read_as_absent(rule, record, status, words):
    got = one(rule, record)
    assert got.status == status, got.reason
    assert words in got.reason + " ".join(got.missing), (got.reason, got.missing)


def test_warnings_are_in_every_output(run, tmp_path, eligible_record):
    eligible_record["cytogenetics"]["i(17q)"] = "detected"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(eligible_record))
    base = ("screen", str(path), "-t", "NCT05378971")
    as_json = json.loads(run(*base, "-f", "json").stdout)[0]
    assert as_json["verdict"] == "needs_review"
    assert any("'i(17q)'" in w for w in as_json["warnings"])
    assert "unrecognised cytogenetic finding 'i(17q)' detected" in " ".join(run(*base).stdout.split())
    assert "unrecognised cytogenetic finding 'i(17q)' detected" in run(*base, "-f", "markdown").stdout


# --- 5. text where a number belongs ----------------------------------------------------------

HBV = "{lab: hbv_dna, gt: 200 IU/mL}"
TEXT = [
    # cell, status, words
    ("not detected", "fail", "below the detection limit: < 20 IU/mL"),
    ("Target Not Detected", "fail", "below the detection limit"),
    ("<LoD", "fail", "below the detection limit"),
    ("not detected (<500 IU/mL)", "unknown", "< 500 IU/mL"),     # an old assay's limit decides nothing
    ("< 20 IU/mL", "fail", "<20 IU/mL"),
    ("1500 IU/mL", "pass", "1500 IU/mL"),
    ("hemolysed", "unknown", "cannot be used"),
    ("see comment", "unknown", "cannot be used"),
]


@pytest.mark.parametrize("cell,status,words", TEXT)
def test_laboratory_words_for_a_viral_load(cell, status, words):
    got = one(HBV, {"lab_date": "2025-05-30", "labs": {"hbv_dna": cell}})
    assert got.status == status, got.reason
    assert words in got.reason, got.reason


@pytest.mark.parametrize("lab,cell", [("creatinine", "<2.1 umol/L"), ("platelets", ">150000 x10^9/L")])
def test_a_bound_no_sample_can_have_is_unknown_check_the_unit(lab, cell):
    threshold = {"creatinine": "lt: 177 umol/L", "platelets": "gt: 75 x10^9/L"}[lab]
    got = one(f"{{lab: {lab}, {threshold}}}", {"lab_date": "2025-05-30", "labs": {lab: cell}})
    assert got.status == "unknown" and "check the unit" in got.reason, got.reason


def test_not_detected_without_a_known_detection_limit_is_unknown_not_a_refusal():
    got = one("{lab: creatinine, lt: 177 umol/L}", {"lab_date": "2025-05-30", "labs": {"creatinine": "not detected"}})
    assert got.status == "unknown" and "detection limit is not known" in got.reason


# --- found in review -------------------------------------------------------------------------

def test_absence_assessed_before_the_window_closed_is_not_absence_for_the_window():
    """'Not progressed within 3 months of ASCT': an assessment 9 days after ASCT says
    nothing of the months after it."""
    rule = "{not: {condition: progression, within: 3 months, after: asct}}"
    base = {"treatments": [{"type": "asct", "date": "2025-02-20"}], "complete": ["treatments"]}
    early = dict(base, conditions={"progression": {"present": False, "date": "2025-03-01"}})
    got = one(rule, early)
    assert got.status == "unknown" and "absent on 2025-03-01, not assessed until 2025-05-20" in got.reason
    late = dict(base, conditions={"progression": {"present": False, "date": "2025-05-25"}})
    assert one(rule, late).status == "pass"


@pytest.mark.parametrize("rule,lab,status,words", [
    ("{lab: hemoglobin, ge: LLN - 20 g/L}", {"value": 11.0, "unit": "g/dL", "lln": 0}, "unknown", "no LLN given"),
    ("{lab: alt, lt: 3 x ULN}", {"value": 30, "unit": "U/L", "lln": 0, "uln": 40}, "pass", "ULN 40 U/L"),
])
def test_an_lln_of_zero_is_no_lower_limit(rule, lab, status, words):
    name = rule.split(",")[0].split()[-1]
    got = one(rule, {"lab_date": "2025-05-30", "labs": {name: lab}})
    assert got.status == status and words in got.reason, got.reason


def test_a_misspelt_section_refuses_the_record_instead_of_reading_as_none():
    from trialscreen.errors import PatientError

    record = {"id": "P", "treatment": [{"type": "induction", "start": "2010-01-01"}], "complete": ["treatments"]}
    with pytest.raises(PatientError, match="did you mean 'treatments'"):
        patient_from_dict(record, "p.json")


def test_a_condition_ending_before_it_starts_is_unknown():
    got = one("{not: {condition: thrombosis, active: true}}",
              {"conditions": {"thrombosis": {"present": True, "date": "2025-05-20", "end": "2025-01-20"}}})
    assert got.status == "unknown" and "ends before it starts" in got.reason


@pytest.mark.parametrize("treatments,status", [
    ([{"type": "induction", "start": "2024-01-01", "end": "2024-05-01", "line": 1},
      {"type": "asct", "date": "2024-06-01", "line": "1"}], "fail"),          # 1 and '1' are one line
    ([{"type": "induction", "start": "2024-01-01", "end": "2024-05-01", "line": "Line 1"},
      {"type": "chemotherapy", "start": "2024-09-01", "end": "2024-10-01", "line": 2.0}], "pass"),
    ([{"type": "induction", "start": "2024-01-01", "end": "2024-05-01"},
      {"type": "asct", "date": "2024-06-01"},
      {"type": "consolidation", "start": "2024-07-01", "end": "2024-08-01"}], "unknown"),  # 1 to 3 lines
])
def test_lines_of_therapy_are_counted_by_line_number(treatments, status):
    got = one(LINES, {"treatments": treatments, "complete": ["treatments"]})
    assert got.status == status, got.reason


def test_a_recorded_age_grows_older_with_the_as_of_date():
    rule = "{field: age, between: [18, 80]}"
    rec = {"age": 80, "as_of": "2022-06-01"}
    got = screen(trial(rule), patient_from_dict({"id": "P", **rec}, "p.json"), AS_OF).criteria[0]
    assert got.status == "fail" and "80 as recorded on 2022-06-01, so 83 to 84" in got.reason
    near = screen(trial("{field: age, ge: 18}"),
                  patient_from_dict({"id": "P", "age": 17, "as_of": "2025-01-01"}, "p.json"), AS_OF).criteria[0]
    assert near.status == "unknown" and near.missing == ["birth_date (the age is known only to a range at this date)"]


def test_a_site_maximum_shorter_than_the_trial_window_wins():
    head = "screening_window: 28 days\n"
    lab = {"labs": {"creatinine": {"value": 88, "unit": "umol/L", "date": "2025-05-20"}}}
    assert one("{lab: creatinine, lt: 177 umol/L}", lab, head).status == "pass"
    got = one("{lab: creatinine, lt: 177 umol/L}", lab, head, max_lab_age=Duration(7, "days"))
    assert got.status == "unknown" and "the site's maximum lab age of 7 days" in got.reason


def test_a_kind_of_a_treatment_type_matches_it():
    got = one("{treatment: radiotherapy, within: 4 weeks}",
              {"treatments": [{"type": "SBRT", "start": "2025-05-20", "end": "2025-05-24"}],
               "complete": ["treatments"]})
    assert got.status == "pass" and "SBRT" in got.reason


def test_a_phase_with_an_undated_member_is_decided_when_it_is_already_too_long():
    got = one(IND, {"treatments": [{"type": "induction", "date": "2024-08-01"},
                                   {"type": "induction", "start": "2023-01-01", "end": "2024-06-01"}],
                    "complete": ["treatments"]})
    assert got.status == "fail", got.reason


def test_an_integer_too_long_to_convert_is_an_error_not_a_crash(run, tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"id": "P", "ecog": ' + "1" * 5000 + "}")
    result = run("screen", str(path), "-t", "NCT05378971")
    assert result.exit_code == 65 and "is not a number a patient record may hold" in result.stderr
    csv_path = tmp_path / "b.csv"
    csv_path.write_text('id,neoplasms\nP1,"[' + "1" * 5000 + ']"\n')
    batch = run("batch", str(csv_path), "-t", "NCT05378971", "--quiet")
    assert batch.exit_code == 1 and "not a JSON list" in batch.stdout

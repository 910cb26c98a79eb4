"""Each test reproduces a wrong verdict, a crash or a silent acceptance found in
review, and pins the behaviour a coordinator should see instead."""

from datetime import date

import pytest

from conftest import screen_record, status_of
from trialscreen.criteria.compile import compile_text
from trialscreen.errors import CriteriaError, PatientError
from trialscreen.patient.load import patient_from_dict


def test_treatment_still_running_at_the_as_of_date_is_within_the_last_4_weeks(nct05378971, eligible_record):
    eligible_record["treatments"].append({"type": "chemotherapy", "start": "2025-05-01", "end": "2025-07-15"})
    result = screen_record(nct05378971, eligible_record)
    assert status_of(result, "E7").status == "fail"
    assert result.verdict == "ineligible"


def test_treatment_starting_after_the_as_of_date_has_not_happened(nct05378971, eligible_record):
    """It cannot make E7 (therapy within 4 weeks) met, and since it would have mattered
    a person must judge it (a planned course, or a date typed wrong): never a pass."""
    eligible_record["treatments"].append({"type": "chemotherapy", "start": "2025-07-01"})
    e7 = status_of(screen_record(nct05378971, eligible_record), "E7")
    assert e7.status == "unknown"
    assert "chemotherapy 2025-07-01 is after the as-of date 2025-06-02" in e7.reason
    assert any(m.startswith("treatments[2] (chemotherapy dated 2025-07-01") for m in e7.missing)


@pytest.mark.parametrize("conditions,cid,status", [
    ({"dvt": {"present": True, "grade": 2, "active": False},
      "pulmonary_embolism": {"present": True, "active": True}}, "E10", "fail"),
    ({"peripheral_sensory_neuropathy": {"present": True, "grade": 1},
      "peripheral_motor_neuropathy": {"present": True}}, "E5", "unknown"),
    ({"peripheral_sensory_neuropathy": {"present": True, "grade": 1},
      "peripheral_motor_neuropathy": {"present": True, "grade": 3, "active": True}}, "E5", "fail"),
], ids=["dvt-and-pe", "neuropathy-grade-missing", "neuropathy-motor-grade-3"])
def test_every_spelling_of_a_condition_counts(nct05378971, eligible_record, conditions, cid, status):
    del eligible_record["conditions"]["thrombosis"], eligible_record["conditions"]["peripheral_neuropathy"]
    eligible_record["conditions"].update(conditions)
    assert status_of(screen_record(nct05378971, eligible_record), cid).status == status


@pytest.mark.parametrize("edit,cid", [
    (lambda r: r["conditions"].update(peripheral_neuropathy={"present": False, "grade": 3}), "E5"),
    (lambda r: r["conditions"].update(thrombosis={"present": False, "active": True}), "E10"),
    (lambda r: r["conditions"].update(thrombosis={"present": "maybe"}), "E10"),
])
def test_a_condition_that_contradicts_itself_is_unknown_not_a_refusal(nct05378971, eligible_record, edit, cid):
    edit(eligible_record)
    patient = patient_from_dict(eligible_record, "p.json")
    assert any("the criteria that need it are unknown" in w.message for w in patient.warnings)
    got = status_of(screen_record(nct05378971, eligible_record), cid)
    assert got.status == "unknown" and "cannot be read" in got.reason


@pytest.mark.parametrize("edit,words", [
    (lambda r: r["attestations"].update({"Investigator considers suitable": False}), "contradicts"),
    (lambda r: r["cytogenetics"].update({"17p-": {"result": "detected", "percent": 10},
                                         "del(17p)": {"result": "detected", "percent": 30}}), "different results"),
    (lambda r: r.update(age=16), "does not agree with the birth date"),
    (lambda r: r["treatments"].append({"type": "surgery", "date": "2025-05-20", "major": ["yes"]}),
     "single value"),
    (lambda r: r.update(neoplasms=[{"type": "prostate_cancer", "stage": ["T1a"]}]), "single value"),
])
def test_contradictions_and_malformed_values_are_errors_not_verdicts(eligible_record, edit, words):
    edit(eligible_record)
    with pytest.raises(PatientError, match=words):
        patient_from_dict(eligible_record, "p.json")


def test_induction_with_a_single_date_has_no_known_length(nct05378971, eligible_record):
    eligible_record["treatments"][0] = {"type": "induction", "date": "2023-01-10"}
    result = screen_record(nct05378971, eligible_record)
    i2 = status_of(result, "I2")
    assert i2.status == "unknown"
    assert "treatments[0].start and end" in i2.missing


@pytest.mark.parametrize("lab", ["platelets", "creatinine"])
def test_a_lab_dated_after_the_as_of_date_does_not_count(nct05378971, eligible_record, lab):
    eligible_record["labs"][lab]["date"] = "2025-09-01"
    result = screen_record(nct05378971, eligible_record)
    assert status_of(result, "I5").status == "unknown"
    assert result.verdict == "needs_review"


def test_lab_reasons_show_the_date(nct05378971, eligible_record):
    reason = status_of(screen_record(nct05378971, eligible_record), "I5").reason
    assert "creatinine 88 umol/L < 177 umol/L (dated 2025-05-28, 5 days old)" in reason


def test_a_window_that_has_not_closed_is_not_yet_known(nct05378971, eligible_record):
    result = screen_record(nct05378971, eligible_record, as_of=date(2025, 4, 3))
    i2 = status_of(result, "I2")
    assert i2.status == "unknown"
    assert i2.missing == ["conditions.progression (its window runs until 2025-05-20)"]


HEAD = "id: T1\ntitle: t\nsource: s\nversion: '1'\n"


@pytest.mark.parametrize("body,words", [
    ("exclusion:\n  - id: E1\n    text: a\n    rule: {allergy: []}\n", "empty list"),
    ("inclusion:\n  - id: I1\n    text: a\n    rule: {treatment: []}\n", "empty list"),
    ("inclusion:\n  - id: I1\n    text: a\n    rule: {condition: []}\n", "empty list"),
    ("inclusion:\n  - id: I1\n    text: a\n    rule: {use: [crab]}\n", "use names one definition"),
    ("inclusion:\n  - id: I1\n    text: a\n    rule: {treatment: surgery, with: {major: {a: 1}}}\n", "needs a value"),
    ("inclusion: []\n", "no criteria"),
])
def test_authoring_mistakes_are_errors_not_silent_eligibles(body, words):
    with pytest.raises(CriteriaError) as exc:
        compile_text(HEAD + body, "t.yaml")
    assert any(words in p.message for p in exc.value.problems), exc.value.problems


def test_unwritable_output_is_a_clean_error(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from conftest import ROOT
    from trialscreen_cli.main import app

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["batch", "examples/batch/patients.csv", "-t", "NCT05378971",
                                      "--out", str(tmp_path / "no" / "such" / "x.csv")])
    assert result.exit_code == 73
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("treatment", [
    {"type": "chemo", "date": "2025-05-25"},
    {"type": "Radiation therapy", "start": "2025-05-10", "end": "2025-05-20"},
])
def test_treatment_type_synonyms_are_recognised(nct05378971, eligible_record, treatment):
    eligible_record["treatments"].append(treatment)
    assert status_of(screen_record(nct05378971, eligible_record), "E7").status == "fail"


def test_an_unrecognised_treatment_type_cannot_rule_anything_out(nct05378971, eligible_record):
    eligible_record["treatments"].append({"type": "experimental protocol X", "date": "2025-05-25"})
    result = screen_record(nct05378971, eligible_record)
    e7 = status_of(result, "E7")
    assert e7.status == "unknown"
    assert any("experimental_protocol_x" in m for m in e7.missing)
    p = patient_from_dict(eligible_record, "p.json")
    assert any("unknown treatment type" in str(w) for w in p.warnings)


def test_asct_under_its_long_name_takes_the_asct_path(nct05378971, eligible_record):
    eligible_record["treatments"][1]["type"] = "Autologous stem cell transplant"
    result = screen_record(nct05378971, eligible_record)
    assert status_of(result, "I2").status == "pass" and status_of(result, "I3").status == "not_applicable"


@pytest.mark.parametrize("allergy,status", [
    ("Revlimid", "fail"), ("lenalidomide (rash)", "fail"), ("Thalomid", "fail"),
    ("penicillin", "pass"), ("xyzzy-9", "unknown"),
])
def test_allergies_by_brand_name_and_free_text(nct05378971, eligible_record, allergy, status):
    eligible_record["allergies"] = [allergy]
    assert status_of(screen_record(nct05378971, eligible_record), "E2").status == status


def test_reasons_never_show_a_value_equal_to_a_threshold_it_is_not_equal_to(nct05378971, eligible_record):
    eligible_record["labs"]["creatinine"] = {"value": 2.0022, "unit": "mg/dL", "date": "2025-05-28"}
    eligible_record["labs"]["platelets"] = {"value": 75000.04, "unit": "/mm3", "date": "2025-05-28"}
    reason = status_of(screen_record(nct05378971, eligible_record), "I5").reason
    assert "creatinine 2.0022 mg/dL = 176.998 umol/L < 177 umol/L" in reason
    assert "platelets 75000.04 /mm3 = 75.00004 x10^9/L > 75 x10^9/L" in reason


def test_unknown_applicability_asks_for_both_what_decides_it_and_what_the_rule_needs(nct05378971, eligible_record):
    eligible_record["childbearing_potential"] = None
    del eligible_record["childbearing_potential"]
    i6 = status_of(screen_record(nct05378971, eligible_record), "I6")
    assert i6.status == "unknown"
    assert i6.missing == ["childbearing_potential", "attestations.contraception_requirements_accepted",
                          "attestations.monthly_pregnancy_tests_agreed"]
    assert i6.reason.startswith("undecided: cannot tell whether it applies")


def _batch(tmp_path, text, *args):
    from typer.testing import CliRunner

    from trialscreen_cli.main import app

    path = tmp_path / "in.csv"
    path.write_text(text)
    return CliRunner().invoke(app, ["batch", str(path), *args])


def test_batch_blank_lab_with_a_reference_range_is_a_missing_lab(tmp_path):
    result = _batch(tmp_path, "id,alt,alt_uln,ecog\nX,,40,1\n", "-t", "NCT05378971", "--quiet")
    assert result.exit_code == 0, result.stderr
    row = result.stdout.splitlines()[1]
    assert ",needs_review," in row and "labs.alt" in row


def test_batch_unit_on_a_column_without_units_is_refused(tmp_path):
    result = _batch(tmp_path, "id,age [months]\nX,70\n", "-t", "NCT06863584")
    assert result.exit_code == 65
    assert "age [months]" in result.stderr and "has no unit" in result.stderr


def test_batch_summary_says_when_a_trial_is_only_partly_encoded(tmp_path):
    result = _batch(tmp_path, "id,age\nX,50\n", "-t", "NCT06863584")
    assert "NCT06863584 is only partly encoded" in result.stderr


def test_a_bug_while_screening_one_row_loses_that_row_only(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from trialscreen.evaluate.context import Context
    from trialscreen_cli.main import app

    real = Context.field

    def flaky(ctx, name):      # a bug in judging B's ECOG (the only ECOG of 2)
        if name == "ecog" and ctx.patient.ecog == 2:
            raise ZeroDivisionError("boom")
        return real(ctx, name)

    monkeypatch.setattr(Context, "field", flaky)
    path = tmp_path / "in.csv"
    path.write_text("id,ecog\nA,1\nB,2\nC,1\n")
    result = CliRunner().invoke(app, ["batch", str(path), "-t", "NCT05378971", "--quiet"])
    assert result.exit_code == 70
    rows = result.stdout.splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["A", "B", "C"]
    assert ",error," in rows[1] and "internal error (ZeroDivisionError)" in rows[1]
    assert "internal error on 1 row(s)" in result.stderr

"""`trialscreen batch --extract EXTRACT.yaml` (issue 16): a long extract of one row per result,
diagnosis and treatment, screened without reshaping. Each test writes a small extract in the
issue's shape and asserts what a user sees: rows in id order, verdicts and reasons, the summary's
warnings and notes, exit codes."""

from __future__ import annotations

import csv
import io
import json

import pytest

EXTRACT = """layout: long
as_of: {as_of}
patients:
  file: PATIENTS.csv
  id: SUBJECT_ID
  columns: {{GENDER: {{field: sex, values: {{F: female, M: male}}}}, DOB: birth_date}}
results:
  - file: LABEVENTS.csv
    id: SUBJECT_ID
    test: ITEMID
    tests: {{file: D_LABITEMS.csv, key: ITEMID, loinc: LOINC_CODE, name: LABEL}}
    value: VALUE
    unit: VALUEUOM
    date: CHARTTIME
    low: REF_LOW
    high: REF_HIGH
diagnoses:
  - file: DIAGNOSES_ICD.csv
    id: SUBJECT_ID
    code: ICD10_CODE
    system: icd10cm
    date: CHARTDATE
treatments:
  - file: PRESCRIPTIONS.csv
    id: SUBJECT_ID
    drug: DRUG
    start: STARTDATE
    end: ENDDATE
"""
FILES = {
    "PATIENTS.csv": "SUBJECT_ID,GENDER,DOB\n10,F,1961-03-15\n9,M,1725-01-01\n100,M,1950-02-01\n",
    "LABEVENTS.csv": (
        "SUBJECT_ID,ITEMID,VALUE,VALUEUOM,CHARTTIME,REF_LOW,REF_HIGH\n"
        "10,50912,0.9,mg/dL,2025-04-01 08:00:00,0.5,1.1\n"
        "10,50912,2.4,mg/dL,2025-05-30 08:00:00,0.5,1.1\n"         # the latest on or before the as-of date
        "10,50912,1.0,mg/dL,2025-06-10 08:00:00,0.5,1.1\n"         # after it: not yet happened
        "10,51265,180,K/uL,2025-05-30 08:00:00,150,400\n"          # placed by its name (no LOINC)
        "10,99999,5,xx,2025-05-30 08:00:00,,\n"                    # no dictionary row: not placed
        "9,50912,1.0,mg/dL,2025-05-29 08:00:00,,\n"
        "100,50912,<0.5,mg/dL,2025-05-20 10:00:00,,\n"
        "100,50912,ERROR,mg/dL,2025-05-21 10:00:00,,\n"            # the latest decides: unusable
        "7,50912,1.0,mg/dL,2025-05-29 08:00:00,,\n"),             # a patient the patients file lacks
    "D_LABITEMS.csv": "ITEMID,LABEL,LOINC_CODE\n50912,Creatinine,2160-0\n51265,Platelet Count,\n",
    "DIAGNOSES_ICD.csv": "SUBJECT_ID,ICD10_CODE,CHARTDATE\n10,C90.00,2024-07-10\n10,I10,2020-01-01\n",
    "PRESCRIPTIONS.csv": "SUBJECT_ID,DRUG,STARTDATE,ENDDATE\n10,Lenalidomide,2024-07-20,2024-12-10\n",
}


def _extract(tmp_path, as_of: str = "2025-06-02", **changes):
    for name, text in {**FILES, **changes}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    path = tmp_path / "extract.yaml"
    path.write_text(EXTRACT.format(as_of=as_of), encoding="utf-8")
    return path


def _jsonl(text: str) -> dict:
    return {r["patient"]["id"]: r for r in map(json.loads, text.splitlines())}


def _reason(result: dict, cid: str) -> str:
    """The criterion's reason and every check's words."""
    c = next(c for c in result["criteria"] if c["id"] == cid)
    return " | ".join([c["reason"]] + [k["text"] for k in c["checks"]])


def test_an_extract_screens_patient_by_patient_in_id_order(run, tmp_path):
    path = _extract(tmp_path)
    result = run("batch", "--extract", str(path), "--trial", "NCT05378971")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["id"] for r in rows] == ["9", "10", "100"]             # whole numbers by value
    assert [r["row"] for r in rows] == ["1", "2", "3"] and all(r["error"] == "" for r in rows)
    assert "eligible" not in {r["verdict"] for r in rows}


def test_the_latest_result_before_the_as_of_date_decides_and_is_named(run, tmp_path):
    out = _jsonl(run("batch", "--extract", str(_extract(tmp_path)), "--trial", "NCT05378971", "-f", "jsonl",
                     "--quiet").stdout)
    i5 = _reason(out["10"], "I5")
    assert "creatinine 2.4 mg/dL = 212.2 umol/L, not < 177 umol/L (dated 2025-05-30, 3 days old; the latest of " \
           "2 results)" in i5                                      # the 2025-06-10 result has not happened yet
    assert "platelets 180 K/uL" in i5                              # placed by the dictionary's name
    assert out["10"]["verdict"] == "ineligible"
    assert "the recorded value cannot be used" in _reason(out["100"], "I5")     # ERROR, the latest, decides


def test_what_cannot_be_placed_is_said_once_and_never_guessed(run, tmp_path):
    result = run("batch", "--extract", str(_extract(tmp_path)), "--trial", "NCT05378971", "--out",
                 str(tmp_path / "o.csv"))
    err = " ".join(result.stderr.split())
    assert "1 rows of 1 test(s) nobody can place were not read as such: 99999 (1)" in err
    assert "1 rows of 1 diagnosis code(s) nobody can place were not read as such: ICD10CM I10 (1)" in err
    assert "1 results dated after their patient's as-of date were not read" in err
    assert "1 results rows name a patient the patients file does not have" in err


def test_an_age_no_person_can_have_is_unknown_with_a_sentence(run, tmp_path):
    result = run("batch", "--extract", str(_extract(tmp_path)), "--trial", "NCT05378971", "-f", "jsonl")
    assert "patient 9: the birth date 1725-01-01 makes the patient 300 years old on 2025-06-02: the age is " \
           "unknown" in " ".join(result.stderr.split())
    nine = _jsonl(result.stdout)["9"]
    assert next(c["status"] for c in nine["criteria"] if c["id"] == "I1") == "unknown"
    assert "age: not recorded" in _reason(nine, "I1")


def test_latest_result_makes_each_patients_as_of_its_last_result(run, tmp_path):
    out = _jsonl(run("batch", "--extract", str(_extract(tmp_path, as_of="latest_result")), "--trial",
                     "NCT05378971", "-f", "jsonl", "--quiet").stdout)
    assert (out["10"]["as_of"], out["9"]["as_of"], out["100"]["as_of"]) == ("2025-06-10", "2025-05-29", "2025-05-21")


def test_a_file_in_another_encoding_is_read_as_it_says(run, tmp_path):
    path = _extract(tmp_path)
    (tmp_path / "D_LABITEMS.csv").write_bytes("ITEMID,LABEL,LOINC_CODE\n50912,Kreatinin (Blut) \u00e4,2160-0\n"
                                              "51265,Platelet Count,\n".encode("cp1252"))
    text = path.read_text(encoding="utf-8").replace("name: LABEL}", "name: LABEL, encoding: cp1252}")
    path.write_text(text, encoding="utf-8")
    result = run("batch", "--extract", str(path), "--trial", "NCT05378971", "-f", "jsonl", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "creatinine 2.4 mg/dL" in _reason(_jsonl(result.stdout)["10"], "I5")


@pytest.mark.parametrize("change,code,words", [
    (("value: VALUE", "valeu: VALUE"), 65, "did you mean 'value'?"),
    (("file: PRESCRIPTIONS.csv", "file: NOPE.csv"), 66, "no such file"),
    (("code: ICD10_CODE", "code: ICD_CODE"), 65, "DIAGNOSES_ICD.csv has no column 'ICD_CODE'"),
    (("system: icd10cm", "system: loinc"), 65, "system 'loinc' is not a code system trialscreen reads"),
    (("as_of: 2025-06-02", "as_of: soon"), 65, "as_of 'soon' is not a date"),
])
def test_a_wrong_extract_description_is_one_sentence_with_its_place(run, tmp_path, change, code, words):
    path = _extract(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    result = run("batch", "--extract", str(path), "--trial", "NCT05378971")
    assert result.exit_code == code and words in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr or "NOPE.csv" in result.stderr


def test_an_input_and_an_extract_together_are_a_usage_error(run, tmp_path):
    result = run("batch", "examples/batch/patients.csv", "--extract", str(_extract(tmp_path)))
    assert result.exit_code == 2 and "an INPUT, or --extract" in result.stderr


def test_the_example_extract_screens_as_its_json_twins(run):
    """examples/extract/ (make_extract.py, seeded): the extract and the same patients as JSON
    records give the same rows, cell for cell but `row`, on NCT05378971."""
    import subprocess
    import sys

    from conftest import ROOT

    check = subprocess.run([sys.executable, str(ROOT / "examples" / "extract" / "make_extract.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    got = run("batch", "--extract", "examples/extract/extract.yaml", "--trial", "NCT05378971", "--quiet")
    want = run("batch", "examples/extract/twins.jsonl", "--trial", "NCT05378971", "--as-of", "2025-06-02", "--quiet")
    assert got.exit_code == want.exit_code == 0, got.stderr + want.stderr
    rows = list(csv.DictReader(io.StringIO(got.stdout)))
    twins = {r["id"]: r for r in csv.DictReader(io.StringIO(want.stdout))}
    assert len(rows) == len(twins) == 12 and [r["id"] for r in rows] == sorted(twins, key=int)
    for row in rows:
        assert {k: v for k, v in row.items() if k != "row"} == {k: v for k, v in twins[row["id"]].items()
                                                               if k != "row"}, row["id"]
    assert {r["verdict"] for r in rows} == {"needs_review", "ineligible"}
    said = run("batch", "--extract", "examples/extract/extract.yaml", "--trial", "NCT05378971",
               "--out", "-", "--format", "jsonl")
    err = " ".join(said.stderr.split())
    assert "98 rows of 2 test(s) nobody can place were not read as such: 51999 (49), PT (49)" in err
    assert "the latest of" in said.stdout


@pytest.mark.parametrize("earlier,code,words", [(3, 0, "the latest of 4 results"), (-1, 65, "is not a count of "
                                                "earlier results"), ("2", 65, "is not a count of earlier results")])
def test_the_record_says_how_many_earlier_results_there_were(run, tmp_path, earlier, code, words):
    from conftest import EXAMPLES

    record = json.loads((EXAMPLES / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    record["labs"]["creatinine"]["earlier"] = earlier
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = run("screen", str(path), "--trial", "NCT05378971")
    assert result.exit_code == code and words in result.stdout + result.stderr


def test_duckdb_never_draws_its_progress_bar_into_the_rows(tmp_path):
    """DuckDB prints a progress bar on standard output for a query over 2 seconds, which is where
    `--out -` writes the rows: both DuckDB readers turn it off."""
    from trialscreen.extract.source import ExtractTables
    from trialscreen.extract.spec import load_extract
    from trialscreen.omop.source import open_source

    tables = ExtractTables(load_extract(str(_extract(tmp_path))))
    try:
        assert tables.con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    finally:
        tables.close()
    from conftest import ROOT

    source = open_source(str(ROOT / "tests" / "data" / "omop-synthea27nj"))
    try:
        assert source.con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    finally:
        source.close()


def test_an_id_is_one_patient_only_when_its_text_is(run, tmp_path):
    """Sections are merged by the key they were sorted by: '010' and ' 10.0' are not patient 10
    (their rows are said as rows of patients the patients file lacks), an id with letters sorts
    after the numbers and keeps its rows."""
    labs = FILES["LABEVENTS.csv"] + "010,50912,9.9,mg/dL,2025-05-30 08:00:00,,\n 10.0,50912,9.9,mg/dL,2025-05-30,,\n" \
        "A7,50912,1.1,mg/dL,2025-05-30 08:00:00,,\n"
    path = _extract(tmp_path, **{"LABEVENTS.csv": labs,
                                 "PATIENTS.csv": FILES["PATIENTS.csv"] + "A7,F,1970-01-01\n"})
    result = run("batch", "--extract", str(path), "--trial", "NCT05378971", "-f", "jsonl")
    out = _jsonl(result.stdout)
    assert list(out) == ["9", "10", "100", "A7"]
    assert "9.9 mg/dL" not in _reason(out["10"], "I5") and "creatinine 1.1 mg/dL" in _reason(out["A7"], "I5")
    assert "3 results rows name a patient the patients file does not have" in " ".join(result.stderr.split())


def _one_patient(tmp_path, labs: str, dictionary: str = FILES["D_LABITEMS.csv"], **more):
    return _extract(tmp_path, **{"PATIENTS.csv": "SUBJECT_ID,GENDER,DOB\n10,F,1961-03-15\n",
                                 "LABEVENTS.csv": "SUBJECT_ID,ITEMID,VALUE,VALUEUOM,CHARTTIME,REF_LOW,REF_HIGH\n" + labs,
                                 "D_LABITEMS.csv": dictionary, **more})


def _screened(run, path, *more) -> tuple:
    result = run("batch", "--extract", str(path), "--trial", "NCT05378971", "-f", "jsonl", *more)
    assert result.exit_code == 0, result.stderr
    return _jsonl(result.stdout), " ".join(result.stderr.split())


def test_the_command_lines_as_of_date_wins_over_the_extracts(run, tmp_path):
    path = _one_patient(tmp_path, "10,50912,0.9,mg/dL,2025-06-01 08:00:00,,\n10,50912,3.4,mg/dL,2025-06-10 08:00:00,,\n")
    out, _ = _screened(run, path, "--as-of", "2025-06-15")
    assert out["10"]["as_of"] == "2025-06-15" and "creatinine 3.4 mg/dL" in _reason(out["10"], "I5")


def test_one_days_results_are_ordered_by_their_time_as_the_file_writes_it(run, tmp_path):
    path = _one_patient(tmp_path, "10,50912,3.4,mg/dL,05/30/2025 10:00,,\n10,50912,0.9,mg/dL,05/30/2025 09:00,,\n")
    path.write_text(path.read_text(encoding="utf-8").replace("high: REF_HIGH", "high: REF_HIGH\n    date_format: "
                                                             "'%m/%d/%Y %H:%M'"), encoding="utf-8")
    out, _ = _screened(run, path)
    assert "creatinine 3.4 mg/dL" in _reason(out["10"], "I5")


def test_a_time_after_a_date_only_format_orders_one_days_results(run, tmp_path):
    """date_format %d.%m.%Y, cells '30.05.2025 14:30': the time the cell gives orders the day's results,
    as the batch reader reads such a cell (batch/dates.py local_moment, one reading for both)."""
    path = _one_patient(tmp_path, "10,50912,3.4,mg/dL,30.05.2025 14:30,,\n10,50912,0.9,mg/dL,30.05.2025 09:00,,\n")
    path.write_text(path.read_text(encoding="utf-8").replace("high: REF_HIGH", "high: REF_HIGH\n    date_format: "
                                                             "dd.mm.yyyy"), encoding="utf-8")
    out, _ = _screened(run, path)
    assert "creatinine 3.4 mg/dL" in _reason(out["10"], "I5")


@pytest.mark.parametrize("labs,words", [
    ("10,50912,0.9,mg/dL,2025-05-30 08:00:00,,\n10,50912,3.4,mg/dL,2025-05-30 08:00:00,,\n",
     "creatinine: results of one instant (2025-05-30 08:00:00) disagree, so none of them decides"),
    ("10,50912,0.9,mg/dL,2025-05-30,,\n10,50912,3.4,mg/dL,2025-05-30,,\n",
     "creatinine: 2 results of 2025-05-30 without their times disagree"),
    ("10,50912,0.9,mg/dL,2025-05-01 08:00:00,,\n10,50912,3.4,mg/dL,soon,,\n",
     "creatinine: a result's date cannot be read, and it might be the latest"),
])
def test_results_that_cannot_be_ordered_decide_nothing(run, tmp_path, labs, words):
    out, err = _screened(run, _one_patient(tmp_path, labs))
    assert words in err and "(1 patient)" in err
    assert "no creatinine value" in _reason(out["10"], "I5") and out["10"]["verdict"] != "eligible"


@pytest.mark.parametrize("dictionary,words", [
    ("ITEMID,LABEL,LOINC_CODE\n50912,Creatinine,2160-0\n50912,Bilirubin,\n",
     "50912 (in the dictionary 2 times, with different meanings)"),
    ("ITEMID,LABEL,LOINC_CODE\n50912,Bilirubin,2160-0\n", "Bilirubin (its LOINC 2160-0 is creatinine, its name is "
                                                          "bilirubin)"),
])
def test_a_test_whose_meaning_is_in_doubt_is_placed_by_nothing(run, tmp_path, dictionary, words):
    out, err = _screened(run, _one_patient(tmp_path, "10,50912,0.9,mg/dL,2025-05-30 08:00:00,,\n", dictionary))
    assert words in err
    assert "no creatinine value" in _reason(out["10"], "I5") and "no bilirubin value" in _reason(out["10"], "I5")


def test_a_dictionary_code_listed_twice_alike_counts_each_result_once(run, tmp_path):
    twice = "ITEMID,LABEL,LOINC_CODE\n50912,Creatinine,2160-0\n50912,creatinine,2160-0\n"
    labs = "10,50912,0.9,mg/dL,2025-05-01 08:00:00,,\n10,50912,1.0,mg/dL,2025-05-30 08:00:00,,\n"
    out, _ = _screened(run, _one_patient(tmp_path, labs, twice))
    assert "; the latest of 2 results)" in _reason(out["10"], "I5")


def test_rows_without_an_id_and_repeated_patients_are_said(run, tmp_path):
    path = _extract(tmp_path, **{"PATIENTS.csv": FILES["PATIENTS.csv"] + ",F,1960-01-01\nNA,F,1960-01-01\n10,F,1961-03-15\n",
                                 "LABEVENTS.csv": FILES["LABEVENTS.csv"] + ",50912,1.0,mg/dL,2025-05-29,,\n"
                                 "999,50912,1.0,mg/dL,2025-05-29,,\n"})
    result = run("batch", "--extract", str(path), "--trial", "NCT05378971")
    assert result.exit_code == 1                                   # error rows, as a CSV batch has them
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    errors = [r["error"] for r in rows if r["verdict"] == "error"]
    assert len(errors) == 3 and sum("the id cell is empty" in e for e in errors) == 2
    assert any("patient 10 is in the patients file twice" in e for e in errors)
    err = " ".join(result.stderr.split())
    assert "1 results rows have no patient id and were not read" in err
    assert "2 results rows name a patient the patients file does not have" in err      # 7, and 999 after the last


def test_an_impossible_age_is_unknown_even_without_results(run, tmp_path):
    path = _extract(tmp_path, as_of="latest_result", **{"PATIENTS.csv": "SUBJECT_ID,GENDER,DOB\n5,M,1725-01-01\n"})
    out, err = _screened(run, path)
    assert out["5"]["verdict"] == "needs_review" and "makes the patient" in err

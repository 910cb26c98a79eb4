"""`trialscreen batch`: what a data manager sees when screening a CSV of patients.

Verdicts, statuses, output columns, row numbers, exit codes and error messages,
through the command line (typer's CliRunner) and, for the parity property,
through :func:`trialscreen.batch.run.run_batch` directly.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import ELIGIBLE, EXAMPLES, ROOT
from trialscreen_cli.main import app

EXAMPLE_CSV = ROOT / "examples" / "batch" / "patients.csv"
TRIAL = "NCT05378971"
CRITERIA = ["I1", "I2", "I3", "I4", "I5", "I6", "I7",
            "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10", "E11"]
FIXED = ["id", "trial", "verdict", "failed", "unknown", "missing", "error", "covers"]
MISSING_TOKENS = ["", "NA", "N/A", ".", "unknown"]


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------



def _example_table():
    with EXAMPLE_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


HEADER, ROWS = _example_table()
BY_ID = {r[0]: r for r in ROWS}


def variant(base: str, new_id: str, changes: dict | None = None) -> list[str]:
    """A copy of an example row (by id) with some cells changed (keyed by header)."""
    row = list(BY_ID[base])
    row[0] = new_id
    for column, value in (changes or {}).items():
        row[HEADER.index(column)] = value
    return row


def csv_text(header, rows, delimiter=",", lineterminator="\n") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_csv(path: Path, header, rows, delimiter=",", lineterminator="\n", encoding="utf-8") -> Path:
    path.write_bytes(csv_text(header, rows, delimiter, lineterminator).encode(encoding, "surrogateescape"))
    return path


def read_out(text: str):
    """(header, rows as dicts) of a batch CSV output."""
    rows = list(csv.reader(io.StringIO(text)))
    assert rows, "no output at all"
    header = rows[0]
    return header, [dict(zip(header, r)) for r in rows[1:]]


def batch_ok(run, *args, input=None, code=0):
    """Run batch (output on stdout) and return (header, rows); the exit code must be ``code``."""
    result = run("batch", *args, input=input)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return read_out(result.stdout)


def flat(text: str) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(text.split())


@functools.lru_cache(maxsize=None)
def trial_obj():
    from trialscreen.criteria.library import load_trial

    return load_trial(TRIAL)


def second_trial_file(tmp_path: Path, trial_id: str = "NCT99999999") -> Path:
    text = (ROOT / "criteria" / f"{TRIAL}.yaml").read_text(encoding="utf-8")
    assert f"id: {TRIAL}\n" in text
    path = tmp_path / f"{trial_id}.yaml"
    path.write_text(text.replace(f"id: {TRIAL}\n", f"id: {trial_id}\n", 1), encoding="utf-8")
    return path


# --- a patient record written as a CSV row, following the column convention ---------------

def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


SCALAR_FIELDS = ("id", "sex", "age", "birth_date", "as_of", "ecog", "weight", "height",
                 "childbearing_potential", "pregnant", "lactating", "transplant_candidate")


def record_to_cells(rec: dict) -> dict:
    """One patient record (the JSON model) as {column: cell} by the documented convention."""
    cells: dict = {}
    for key in SCALAR_FIELDS:
        if rec.get(key) is not None:
            cells[key] = _cell(rec[key])
    for name, lab in (rec.get("labs") or {}).items():
        if isinstance(lab, dict):
            value = lab.get("value", lab.get("result"))
            words = isinstance(value, str) and any(ch.isalpha() for ch in value)  # 'not detected'
            cells[name] = f"{_cell(value)} {lab['unit']}" if lab.get("unit") and not words else _cell(value)
            for attr in ("uln", "lln", "date"):
                if attr in lab:
                    cells[f"{name}_{attr}"] = _cell(lab[attr])
        else:
            cells[name] = _cell(lab)
    for name, res in (rec.get("cytogenetics") or {}).items():
        if isinstance(res, dict):
            cells[name] = _cell(res.get("result"))
            if "percent" in res:
                cells[f"{name}_percent"] = _cell(res["percent"])
        else:
            cells[name] = _cell(res)
    for name, cond in (rec.get("conditions") or {}).items():
        if isinstance(cond, dict):
            for attr, v in cond.items():
                cells[name if attr == "present" else f"{name}_{attr}"] = _cell(v)
        else:
            cells[name] = _cell(cond)
    diagnoses = rec.get("diagnoses")
    if diagnoses is not None:
        first = diagnoses[0] if diagnoses else None
        if first is not None and "name" in first and all(_scalar(v) for v in first.values()):
            for attr, v in first.items():
                column = {"name": "diagnosis", "date": "diagnosis_date"}.get(attr, f"diagnosis.{attr}")
                cells[column] = _cell(v)
            if diagnoses[1:]:
                cells["diagnoses"] = json.dumps(diagnoses[1:])
        else:
            cells["diagnoses"] = json.dumps(diagnoses)
    treatments = rec.get("treatments")
    if treatments is not None:
        types = [t.get("type") for t in treatments]
        as_list = []
        for t in treatments:
            if types.count(t.get("type")) == 1 and all(_scalar(v) for v in t.values()):
                for attr, v in t.items():
                    if attr == "type":
                        continue
                    sep = "_" if attr in ("date", "start", "end") else "."
                    cells[f"{t['type']}{sep}{attr}"] = _cell(v)
            else:
                as_list.append(t)
        if as_list or not treatments:
            cells["treatments"] = json.dumps(as_list)
    if rec.get("neoplasms") is not None:
        cells["neoplasms"] = json.dumps(rec["neoplasms"])
    if rec.get("allergies") is not None:
        cells["allergies"] = ";".join(rec["allergies"])
    for name, v in (rec.get("attestations") or {}).items():
        cells[f"attestation.{name}"] = _cell(v)
    if rec.get("complete") is not None:
        cells["complete"] = ";".join(rec["complete"])
    return cells


def records_to_csv(records) -> str:
    all_cells = [record_to_cells(r) for r in records]
    header: list = []
    for cells in all_cells:
        for k in cells:
            if k not in header:
                header.append(k)
    return csv_text(header, [[c.get(h, "") for h in header] for c in all_cells])


# --------------------------------------------------------------------------------------------
# 1. the bundled example file
# --------------------------------------------------------------------------------------------

EXAMPLE_EXPECTED = [
    # id, verdict, failed, unknown
    ("B-001", "eligible", "", ""),
    ("B-002", "ineligible", "I5", ""),
    ("B-003", "ineligible", "E1", ""),
    ("B-004", "needs_review", "", "I5; I7; E1"),
    ("B-005", "eligible", "", ""),
    ("B-006", "eligible", "", ""),
    ("B-007", "ineligible", "E6", ""),
    ("B-008", "ineligible", "E7", ""),
    ("B-009", "ineligible", "E5", ""),
    ("B-010", "ineligible", "I5", ""),
]


@pytest.fixture
def example_out(run):
    return batch_ok(run, EXAMPLE_CSV, "--trial", TRIAL, "--quiet")


def test_example_output_columns_in_order(example_out):
    header, _ = example_out
    assert header == FIXED + CRITERIA + ["row"]


def test_example_rows_in_input_order_with_file_row_numbers(example_out):
    _, rows = example_out
    assert [r["id"] for r in rows] == [r[0] for r in ROWS]
    assert [r["row"] for r in rows] == [str(n) for n in range(2, 12)]
    assert {r["trial"] for r in rows} == {TRIAL}
    assert all(r["error"] == "" for r in rows)


@pytest.mark.parametrize("pid,verdict,failed,unknown", EXAMPLE_EXPECTED)
def test_example_verdicts(example_out, pid, verdict, failed, unknown):
    _, rows = example_out
    [row] = [r for r in rows if r["id"] == pid]
    assert row["verdict"] == verdict
    assert row["failed"] == failed
    assert row["unknown"] == unknown
    statuses = {c: row[c] for c in CRITERIA}
    for cid in filter(None, failed.split("; ")):
        assert statuses[cid] == "fail"
    for cid in filter(None, unknown.split("; ")):
        assert statuses[cid] == "unknown"
    assert set(statuses.values()) <= {"pass", "fail", "unknown", "not_applicable"}
    assert [c for c, s in statuses.items() if s == "fail"] == list(filter(None, failed.split("; ")))
    assert [c for c, s in statuses.items() if s == "unknown"] == list(filter(None, unknown.split("; ")))


@pytest.mark.parametrize("pid,applies", [
    ("B-001", {"I2": "pass", "I3": "not_applicable", "I6": "not_applicable"}),   # ASCT path
    ("B-005", {"I2": "not_applicable", "I3": "pass", "I6": "not_applicable"}),   # non-ASCT path
    ("B-006", {"I2": "pass", "I3": "not_applicable", "I6": "pass"}),             # male, childbearing potential
])
def test_example_path_criteria(example_out, pid, applies):
    _, rows = example_out
    [row] = [r for r in rows if r["id"] == pid]
    assert {c: row[c] for c in applies} == applies


def test_example_needs_review_names_the_missing_data(example_out):
    _, rows = example_out
    [row] = [r for r in rows if r["id"] == "B-004"]
    assert row["missing"].split("; ") == ["labs.anc", "attestations.informed_consent_signed",
                                          "cytogenetics.t(4;14)"]
    assert all(r["missing"] == "" for r in rows if r["id"] != "B-004")


def test_example_to_an_output_file_and_clean_exit(run, tmp_path):
    out = tmp_path / "result.csv"
    result = run("batch", EXAMPLE_CSV, "--trial", TRIAL, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    header, rows = read_out(out.read_text(encoding="utf-8"))
    assert header == FIXED + CRITERIA + ["row"]
    assert [(r["id"], r["verdict"]) for r in rows] == [(e[0], e[1]) for e in EXAMPLE_EXPECTED]
    err = flat(result.stderr)
    assert "10 rows in, 10 rows out" in err
    assert "eligible 3" in err and "needs_review 1" in err and "ineligible 6" in err


def test_quiet_prints_nothing_on_stderr(run):
    result = run("batch", EXAMPLE_CSV, "--trial", TRIAL, "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_stdin_to_stdout(run):
    header, rows = batch_ok(run, "-", "--trial", TRIAL, "--quiet", input=EXAMPLE_CSV.read_bytes())
    assert header == FIXED + CRITERIA + ["row"]
    assert [(r["id"], r["verdict"]) for r in rows] == [(e[0], e[1]) for e in EXAMPLE_EXPECTED]


# --------------------------------------------------------------------------------------------
# 2. delimiters, encodings, line ends, decimal commas
# --------------------------------------------------------------------------------------------

def _expected_core():
    return [(str(i + 2), e[0], e[1], e[2], e[3]) for i, e in enumerate(EXAMPLE_EXPECTED)]


def _core(rows):
    return [(r["row"], r["id"], r["verdict"], r["failed"], r["unknown"]) for r in rows]


@pytest.mark.parametrize("name,delimiter,lineterminator,encoding,option", [
    ("semicolon-detected", ";", "\n", "utf-8", []),
    ("semicolon-option-name", ";", "\n", "utf-8", ["--delimiter", "semicolon"]),
    ("semicolon-option-char", ";", "\n", "utf-8", ["--delimiter", ";"]),
    ("tab-detected", "\t", "\n", "utf-8", []),
    ("tab-option", "\t", "\n", "utf-8", ["--delimiter", "tab"]),
    ("comma-option", ",", "\n", "utf-8", ["--delimiter", "comma"]),
    ("utf8-bom", ",", "\n", "utf-8-sig", []),
    ("crlf", ",", "\r\n", "utf-8", []),
    ("bom-crlf-semicolon", ";", "\r\n", "utf-8-sig", []),
    ("bom-crlf-tab", "\t", "\r\n", "utf-8-sig", ["--delimiter", "tab"]),
])
def test_same_data_in_other_dialects(run, tmp_path, name, delimiter, lineterminator, encoding, option):
    path = write_csv(tmp_path / f"{name}.csv", HEADER, ROWS, delimiter, lineterminator, encoding)
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    header, rows = batch_ok(run, path, "--trial", TRIAL, "--quiet", *option)
    assert header == FIXED + CRITERIA + ["row"]
    assert _core(rows) == _expected_core()
    [b004] = [r for r in rows if r["id"] == "B-004"]
    assert b004["missing"] == "labs.anc; attestations.informed_consent_signed; cytogenetics.t(4;14)"


def test_bom_on_stdin(run):
    data = b"\xef\xbb\xbf" + EXAMPLE_CSV.read_bytes().replace(b"\n", b"\r\n")
    _, rows = batch_ok(run, "-", "--trial", TRIAL, "--quiet", input=data)
    assert _core(rows) == _expected_core()


DECIMAL_ROWS = [
    # id, creatinine [mg/dL], alt, alt_uln, verdict: 1,9 mg/dL = 168 umol/L < 177; 40,5 < 3 x 13,6
    ("D-1", "1,9", "40,5 U/L", "13,6", "eligible", ""),
    ("D-2", "2,1", "32 U/L", "40", "ineligible", "I5"),      # 2,1 mg/dL = 185.6 umol/L
    ("D-3", "1,0", "40,5 U/L", "13,4", "ineligible", "I5"),   # 40,5 > 3 x 13,4 = 40,2
    ("D-4", "1,9", "32 U/L", "40", "eligible", ""),
]


def _decimal_rows():
    # every number of the row in decimal-comma notation: B-001's '2.1 x10^9/L' and '2.5 g/L'
    # are refused in a decimal-comma file (a dot there is not a decimal point)
    return [variant("B-001", pid, {"creatinine [mg/dL]": cr, "alt": alt, "alt_uln": uln,
                                   "anc": "2,1 x10^9/L", "m_protein": "2,5 g/L"})
            for pid, cr, alt, uln, _, _ in DECIMAL_ROWS]


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize("how", ["option", "mapping"])
def test_decimal_comma(run, tmp_path, delimiter, how):
    path = write_csv(tmp_path / "dc.csv", HEADER, _decimal_rows(), delimiter)
    if how == "option":
        args = ["--decimal-comma"]
    else:
        mapping = tmp_path / "dc.yaml"
        mapping.write_text("decimal_comma: true\n", encoding="utf-8")
        args = ["--columns", mapping]
    _, rows = batch_ok(run, path, "--trial", TRIAL, "--quiet", *args)
    assert [(r["id"], r["verdict"], r["failed"], r["error"]) for r in rows] == \
        [(pid, verdict, failed, "") for pid, _, _, _, verdict, failed in DECIMAL_ROWS]


def test_decimal_comma_not_assumed(run, tmp_path):
    """Without the option a decimal comma is not silently read as a thousands separator."""
    path = write_csv(tmp_path / "dc.csv", HEADER, _decimal_rows(), ";")
    _, rows = batch_ok(run, path, "--trial", TRIAL, "--quiet", code=1)
    assert rows[0]["verdict"] == "error"
    assert rows[0]["error"].startswith("row 2, column 'alt': ")
    assert "not a number" in rows[0]["error"]
    assert [r["verdict"] for r in rows] == ["error"] * 4


@pytest.mark.parametrize("how", ["option", "mapping"])
def test_decimal_comma_in_a_comma_delimited_file_is_a_usage_error(run, tmp_path, how):
    if how == "option":
        args = ["--decimal-comma"]
    else:
        mapping = tmp_path / "dc.yaml"
        mapping.write_text("decimal_comma: true\n", encoding="utf-8")
        args = ["--columns", mapping]
    result = run("batch", EXAMPLE_CSV, "--trial", TRIAL, "--quiet", *args)
    assert result.exit_code == 2
    assert "decimal comma" in result.stderr
    assert "comma-delimited" in result.stderr
    # no patient rows were written under a usage error
    assert [line for line in result.stdout.splitlines() if line.startswith("2,")] == []


# --------------------------------------------------------------------------------------------
# 3. missing cells
# --------------------------------------------------------------------------------------------

MISSING_COLUMNS = [
    # column, the criterion that becomes unknown, the data item named as missing
    ("anc", "I5", "labs.anc"),
    ("platelets", "I5", "labs.platelets"),
    ("creatinine [mg/dL]", "I5", "labs.creatinine"),
    ("ecog", "I4", "ecog"),
    ("birth_date", "I1", "age or birth_date"),
    ("del(17p)", "E1", "cytogenetics.del(17p)"),
    ("attestation.informed_consent_signed", "I7", "attestations.informed_consent_signed"),
    ("peripheral_neuropathy_grade", "E5", "conditions.peripheral_neuropathy.grade"),
    ("cns_involvement", "E4", "conditions.cns_involvement"),
    ("hbv_dna", "E6", "labs.hbv_dna"),
]


@pytest.fixture(scope="module")
def missing_out(tmp_path_factory):
    """One file: B-001 with one cell blanked by each token, in each column."""
    rows = []
    for column, _, _ in MISSING_COLUMNS:
        for i, token in enumerate(MISSING_TOKENS):
            rows.append(variant("B-001", f"{column}|{i}", {column: token}))
    path = write_csv(tmp_path_factory.mktemp("missing") / "missing.csv", HEADER, rows)
    result = CliRunner().invoke(app, ["batch", str(path), "--trial", TRIAL, "--quiet"])
    assert result.exit_code == 0, result.stdout
    return {r["id"]: r for r in read_out(result.stdout)[1]}


@pytest.mark.parametrize("token", range(len(MISSING_TOKENS)), ids=[repr(t) for t in MISSING_TOKENS])
@pytest.mark.parametrize("column,cid,item", MISSING_COLUMNS)
def test_missing_tokens_make_the_criterion_unknown(missing_out, column, cid, item, token):
    row = missing_out[f"{column}|{token}"]
    assert row["error"] == ""
    assert row["verdict"] == "needs_review"       # never a pass, never a fail (not read as 0)
    assert row[cid] == "unknown"
    assert row["unknown"] == cid
    assert item in row["missing"].split("; ")


def test_missing_lab_is_not_zero(run, tmp_path):
    """An empty platelet cell must not be read as 0 (which would fail I5)."""
    rows = [variant("B-001", "Z-1", {"platelets": ""}), variant("B-001", "Z-2", {"platelets": "0 x10^9/L"})]
    _, out = batch_ok(run, write_csv(tmp_path / "z.csv", HEADER, rows), "--trial", TRIAL, "--quiet")
    assert [(r["verdict"], r["I5"]) for r in out] == [("needs_review", "unknown"), ("ineligible", "fail")]


def _b001_without_empty_cells():
    keep = [i for i, v in enumerate(BY_ID["B-001"]) if v != ""]
    return [HEADER[i] for i in keep], keep


def test_custom_missing_tokens(run, tmp_path):
    header, keep = _b001_without_empty_cells()
    rows = []
    for pid, column, token in [("C-1", "anc", "-999"), ("C-2", "anc", "not measured"),
                               ("C-3", "ecog", "-999"), ("C-4", "anc", "2.1 x10^9/L")]:
        row = variant("B-001", pid, {column: token})
        rows.append([row[i] for i in keep])
    path = write_csv(tmp_path / "custom.csv", header, rows)
    mapping = tmp_path / "m.yaml"
    mapping.write_text('missing: ["-999", "not measured"]\n', encoding="utf-8")
    _, out = batch_ok(run, path, "--trial", TRIAL, "--quiet", "--columns", mapping)
    assert [(r["id"], r["verdict"], r["unknown"], r["error"]) for r in out] == [
        ("C-1", "needs_review", "I5", ""),
        ("C-2", "needs_review", "I5", ""),
        ("C-3", "needs_review", "I4", ""),
        ("C-4", "eligible", "", ""),
    ]


def test_custom_missing_tokens_keep_empty_cells_missing(run, tmp_path):
    """A `missing:` list in the mapping adds tokens; an empty cell stays missing."""
    rows = [variant("B-001", "C-1", {"anc": "-999"}), variant("B-001", "C-2", {"anc": ""}),
            variant("B-001", "C-3")]
    path = write_csv(tmp_path / "custom.csv", HEADER, rows)
    mapping = tmp_path / "m.yaml"
    mapping.write_text('missing: ["-999"]\n', encoding="utf-8")
    _, out = batch_ok(run, path, "--trial", TRIAL, "--quiet", "--columns", mapping)
    assert [(r["id"], r["verdict"], r["unknown"], r["error"]) for r in out] == [
        ("C-1", "needs_review", "I5", ""),
        ("C-2", "needs_review", "I5", ""),
        ("C-3", "eligible", "", ""),
    ]


# --------------------------------------------------------------------------------------------
# 4. censored values
# --------------------------------------------------------------------------------------------

CENSORED_TRIAL = """\
id: TEST-CENSORED
title: Censored lab values
source: tests/test_batch.py
version: "1"
complete: true
inclusion:
  - id: I1
    text: Marrow plasma cells below 60 %.
    rule: {lab: bm_plasma_cells, lt: 60 %}
  - id: I2
    text: Marrow plasma cells above 5 %.
    rule: {lab: bm_plasma_cells, gt: 5 %}
  - id: I3
    text: HBV DNA above 200 IU/mL.
    rule: {lab: hbv_dna, gt: 200 IU/mL}
  - id: I4
    text: HBV DNA below 5000 IU/mL.
    rule: {lab: hbv_dna, lt: 5000 IU/mL}
"""

CENSORED_CASES = [
    # id, bm_plasma_cells, hbv_dna, I1, I2, I3, I4
    ("P1", "<10 %", ">1000 IU/mL", "pass", "unknown", "pass", "unknown"),
    ("P2", "<3 %", "<100 IU/mL", "pass", "fail", "fail", "pass"),
    ("P3", ">70 %", ">10000 IU/mL", "fail", "pass", "pass", "fail"),
    ("P4", "<=5 %", ">=5000 IU/mL", "pass", "fail", "pass", "fail"),
    ("P5", "< 10%", "> 1000 IU/mL", "pass", "unknown", "pass", "unknown"),
    ("P6", ">5 %", "<=200 IU/mL", "unknown", "pass", "fail", "pass"),
    ("P7", "30 %", "1000 IU/mL", "pass", "pass", "pass", "pass"),
]


@pytest.fixture
def censored_trial(tmp_path):
    path = tmp_path / "TEST-CENSORED.yaml"
    path.write_text(CENSORED_TRIAL, encoding="utf-8")
    return path


@pytest.mark.parametrize("layout", ["value-unit", "unit-in-header"])
def test_censored_values_are_bounds(run, tmp_path, censored_trial, layout):
    dated = ["2025-06-02", "2025-06-01"]   # as_of, lab_date: current labs
    if layout == "value-unit":
        header = ["id", "as_of", "lab_date", "bm_plasma_cells", "hbv_dna"]
        rows = [[c[0], *dated, c[1], c[2]] for c in CENSORED_CASES]
    else:
        header = ["id", "as_of", "lab_date", "bm_plasma_cells [%]", "hbv_dna [IU/mL]"]
        rows = [[c[0], *dated, c[1].replace("%", "").strip(), c[2].replace("IU/mL", "").strip()]
                for c in CENSORED_CASES]
    path = write_csv(tmp_path / "censored.csv", header, rows)
    header_out, out = batch_ok(run, path, "--trial", censored_trial, "--quiet")
    assert header_out == FIXED + ["I1", "I2", "I3", "I4", "row"]
    got = [(r["id"], r["I1"], r["I2"], r["I3"], r["I4"]) for r in out]
    assert got == [(c[0], *c[3:]) for c in CENSORED_CASES]
    assert all(r["error"] == "" for r in out)
    p1 = out[0]
    assert p1["verdict"] == "needs_review"
    assert "labs.bm_plasma_cells" in p1["missing"] and "labs.hbv_dna" in p1["missing"]


def test_censored_value_with_decimal_comma(run, tmp_path, censored_trial):
    path = write_csv(tmp_path / "c.csv", ["id", "as_of", "lab_date", "bm_plasma_cells", "hbv_dna"],
                     [["Q1", "2025-06-02", "2025-06-01", "<5,5 %", "200,5 IU/mL"],
                      ["Q2", "2025-06-02", "2025-06-01", "<60,5 %", ">4999,5 IU/mL"]], ";")
    _, out = batch_ok(run, path, "--trial", censored_trial, "--quiet", "--decimal-comma")
    assert [(r["id"], r["I1"], r["I2"], r["I3"], r["I4"]) for r in out] == [
        ("Q1", "pass", "unknown", "pass", "pass"),
        ("Q2", "unknown", "unknown", "pass", "unknown"),
    ]


# --------------------------------------------------------------------------------------------
# 5. unknown and unused columns
# --------------------------------------------------------------------------------------------

def test_unknown_column_warned_once_with_did_you_mean(run, tmp_path):
    header = HEADER + ["creatinin", "hemoglobin", "plateletts"]
    rows = [r + ["1.0 mg/dL", "118 g/L", "3"] for r in ROWS]
    summary = tmp_path / "summary.json"
    result = run("batch", write_csv(tmp_path / "u.csv", header, rows), "--trial", TRIAL,
                 "--summary", summary)
    assert result.exit_code == 0, result.stderr
    # results unchanged: the unknown columns are ignored
    _, out = read_out(result.stdout)
    assert _core(out) == _expected_core()
    err = flat(result.stderr)
    # one line for the columns nothing recognises, each with its 'did you mean'
    assert err.count("2 columns are not recognised and are ignored: creatinin (did you mean 'creatinine'?), "
                     "plateletts (did you mean 'platelets'?)") == 1, err
    # and one for those the trial does not read (not parsed)
    assert err.count("hemoglobin") == 1
    assert re.search(r"note: \d+ columns are not used by NCT05378971: [^:]*hemoglobin", err), err
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert len(data["warnings"]) == 1
    assert "did you mean 'creatinine'?" in data["warnings"][0]
    assert "hemoglobin" not in json.dumps(data["warnings"])
    assert "hemoglobin" in data["unused_columns"] and "hemoglobin" in data["notes"][0]


def test_unknown_column_not_in_rows(run, tmp_path):
    header = HEADER + ["creatinin"]
    rows = [r + ["1.0 mg/dL"] for r in ROWS]
    header_out, out = batch_ok(run, write_csv(tmp_path / "u.csv", header, rows), "--trial", TRIAL, "--quiet")
    assert header_out == FIXED + CRITERIA + ["row"]
    assert all(r["error"] == "" for r in out)


def test_no_id_column_is_invalid_input(run, tmp_path):
    header = ["patient"] + HEADER[1:]
    result = run("batch", write_csv(tmp_path / "noid.csv", header, ROWS), "--trial", TRIAL, "--quiet")
    assert result.exit_code == 65
    assert "'id'" in result.stderr


def test_missing_input_file(run, tmp_path):
    result = run("batch", tmp_path / "nope.csv", "--trial", TRIAL, "--quiet")
    assert result.exit_code == 66
    assert "nope.csv" in result.stderr


# --------------------------------------------------------------------------------------------
# 6. nothing lost
# --------------------------------------------------------------------------------------------

def _mixed_file(tmp_path: Path) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerow(variant("B-001", "G-1"))                                               # row 2
    w.writerow(variant("B-001", "X-NUM", {"ecog": "one"}))                           # row 3
    w.writerow(variant("B-001", "X-UNIT", {"anc": "2.1 furlongs"}))                  # row 4
    w.writerow(variant("B-002", "G-2"))                                               # row 5
    w.writerow(variant("B-001", "X-CELLS")[:-3])                                      # row 6
    w.writerow(variant("B-001", "X-DATE", {"birth_date": "1961-13-45"}))             # row 7
    w.writerow(variant("B-001", "X-UTF8", {"ecog": "1\udcff"}))                      # row 8
    w.writerow(variant("B-001", ""))                                                  # row 9
    w.writerow(variant("B-004", "G-3"))                                               # row 10
    path = tmp_path / "mixed.csv"
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogateescape"))
    return path


MIXED = [
    # row, id, verdict, fragments expected in the error cell
    ("2", "G-1", "eligible", []),
    ("3", "X-NUM", "error", ["row 3", "column 'ecog'", "ECOG"]),
    # a lab cell in an unknown unit is read, not lost: its criteria are unknown
    ("4", "X-UNIT", "needs_review", []),
    ("5", "G-2", "ineligible", []),
    ("6", "X-CELLS", "error", ["row 6", "61 cells", "64"]),
    ("7", "X-DATE", "error", ["row 7", "column 'birth_date'", "not a date"]),
    ("8", "X-UTF8", "error", ["row 8", "column 'ecog'", "UTF-8"]),
    ("9", "row 9", "error", ["row 9", "column 'id'", "empty"]),
    ("10", "G-3", "needs_review", []),
]


@pytest.fixture
def mixed_run(run, tmp_path):
    summary = tmp_path / "summary.json"
    result = run("batch", _mixed_file(tmp_path), "--trial", TRIAL, "--summary", summary)
    return result, read_out(result.stdout)[1], json.loads(summary.read_text(encoding="utf-8"))


def test_nothing_lost_every_row_out_in_order(mixed_run):
    result, rows, _ = mixed_run
    assert result.exit_code == 1
    assert [(r["row"], r["id"], r["verdict"]) for r in rows] == [(m[0], m[1], m[2]) for m in MIXED]
    for r in rows:
        if r["verdict"] == "error":
            assert all(r[c] == "" for c in CRITERIA)
            assert r["failed"] == r["unknown"] == r["missing"] == ""
        else:
            assert r["error"] == ""


@pytest.mark.parametrize("row,pid,verdict,fragments", [m for m in MIXED if m[2] == "error"],
                         ids=[m[1] for m in MIXED if m[2] == "error"])
def test_nothing_lost_error_cell_says_where(mixed_run, row, pid, verdict, fragments):
    _, rows, _ = mixed_run
    [r] = [r for r in rows if r["row"] == row]
    assert r["verdict"] == "error"
    for fragment in fragments:
        assert fragment in r["error"], (fragment, r["error"])


def test_nothing_lost_summary_counts(mixed_run):
    result, rows, summary = mixed_run
    assert summary["rows_in"] == 9
    assert summary["rows_out"] == 9 == len(rows)
    assert summary["error_rows"] == 5
    assert summary["unusable_cells"] == 1
    [tally] = summary["trials"]
    assert tally["trial"] == TRIAL
    assert tally["verdicts"] == {"eligible": 1, "needs_review": 2, "ineligible": 1, "error": 5}
    err = flat(result.stderr)
    assert "9 rows in, 9 rows out, 5 rows with errors" in err
    assert "error: row 3, column 'ecog'" in err
    assert "warning: row 4, column 'anc'" in err


BAD_CELLS = [
    # column, cell, fragments of the error besides the row number and the column
    ("anc", "2,1 x10^9/L", ["not a number"]),
    ("ecog", "one", ["ECOG"]),
    ("ecog", "7", ["ECOG"]),
    ("sex", "q", ["not a sex"]),
    ("attestation.informed_consent_signed", "maybe", ["not true or false"]),
    ("neoplasms", "[oops", ["JSON"]),
    ("complete", "foo", ["not a list section"]),
    ("birth_date", "15/03/1961", ["not a date"]),
    ("diagnosis_date", "2024-02-30", ["not a date"]),
    ("induction_start", "2024-02-30", ["not a date"]),
    ("asct_date", "20/02/2025", ["not a date"]),
    ("as_of", "yesterday", ["not a date"]),
]


# A lab cell that is read but cannot be used is not a lost row: the row is screened,
# the criteria that need the lab are unknown, and the 'missing' cell names the column.
UNUSABLE_CELLS = [
    ("creatinine [mg/dL]", "abc", ["not a number"]),
    ("creatinine [mg/dL]", "1.o", ["not a number"]),
    ("creatinine [mg/dL]", "1..2", ["not a number"]),
    ("creatinine [mg/dL]", "-1", ["negative"]),
    ("anc", "two x10^9/L", ["not a number"]),
    ("anc", "2.1 furlongs", ["unit"]),
    ("platelets", "180", ["needs a unit"]),
    ("alt_uln", "forty", ["not a number"]),
    ("hcv_rna", "maybe", ["not a result"]),
]


@pytest.mark.parametrize("column,cell,fragments", UNUSABLE_CELLS, ids=[f"{c}={v}" for c, v, _ in UNUSABLE_CELLS])
def test_unusable_lab_cell_makes_its_criteria_unknown_naming_the_column(run, tmp_path, column, cell, fragments):
    rows = [variant("B-001", "OK-1"), variant("B-001", "BAD", {column: cell}), variant("B-001", "OK-2")]
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)
    _, out = batch_ok(run, path, "--trial", TRIAL, "--quiet")
    assert [(r["id"], r["verdict"]) for r in out] == [("OK-1", "eligible"), ("BAD", "needs_review"),
                                                      ("OK-2", "eligible")]
    assert out[1]["error"] == ""
    assert f"column '{column}'" in out[1]["missing"], out[1]["missing"]
    for fragment in fragments:
        assert fragment in out[1]["missing"], (fragment, out[1]["missing"])
    loud = run("batch", path, "--trial", TRIAL)
    assert f"row 3, column '{column}'" in " ".join(loud.stderr.split())


@pytest.mark.parametrize("column,cell,fragments", BAD_CELLS, ids=[f"{c}={v}" for c, v, _ in BAD_CELLS])
def test_bad_cell_error_names_row_and_column(run, tmp_path, column, cell, fragments):
    rows = [variant("B-001", "OK-1"), variant("B-001", "BAD", {column: cell}), variant("B-001", "OK-2")]
    _, out = batch_ok(run, write_csv(tmp_path / "bad.csv", HEADER, rows), "--trial", TRIAL, "--quiet",
                      code=1)
    assert [(r["id"], r["verdict"]) for r in out] == [("OK-1", "eligible"), ("BAD", "error"),
                                                      ("OK-2", "eligible")]
    error = out[1]["error"]
    assert error.startswith(f"row 3, column '{column}'"), error
    for fragment in fragments:
        assert fragment in error, (fragment, error)


@pytest.mark.parametrize("column,cell", [("ecog", "seven7"), ("birth_date", "1961-13-45"),
                                         ("sex", "heavy123")])
def test_cell_values_only_shown_with_verbose(run, tmp_path, column, cell):
    """Error cells name the row and column; the patient's value only with --verbose."""
    path = write_csv(tmp_path / "v.csv", HEADER, [variant("B-001", "V-1", {column: cell})])
    quiet = run("batch", path, "--trial", TRIAL, "--quiet")
    loud = run("--verbose", "batch", path, "--trial", TRIAL, "--quiet")
    assert quiet.exit_code == loud.exit_code == 1
    [q] = read_out(quiet.stdout)[1]
    [v] = read_out(loud.stdout)[1]
    assert q["error"].startswith(f"row 2, column '{column}': ")
    assert v["error"].startswith(f"row 2, column '{column}': ")
    assert cell not in q["error"]
    assert cell in v["error"]


def test_unreadable_csv_quoting_is_an_error_row(run, tmp_path):
    """A row the CSV reader cannot parse (text after a closing quote) is an error row that
    says its row number, and the batch goes on."""
    lines = csv_text(HEADER, [variant("B-001", "OK-1"), variant("B-001", "OK-2")]).splitlines()
    bad = 'BAD,"fe"male' + "," * (len(HEADER) - 2)
    data = "\n".join([lines[0], lines[1], bad, lines[2]]) + "\n"
    summary = tmp_path / "s.json"
    result = run("batch", "-", "--trial", TRIAL, "--quiet", "--summary", summary, input=data.encode())
    assert result.exit_code == 1
    _, out = read_out(result.stdout)
    assert [(r["row"], r["verdict"]) for r in out] == [("2", "eligible"), ("3", "error"), ("4", "eligible")]
    assert [out[0]["id"], out[2]["id"]] == ["OK-1", "OK-2"]
    assert out[1]["error"].startswith("row 3"), out[1]["error"]
    data = json.loads(summary.read_text())
    assert (data["rows_in"], data["rows_out"], data["error_rows"]) == (3, 3, 1)


def test_errors_only_file_is_exit_1_and_clean_file_exit_0(run, tmp_path):
    rows = [variant("B-001", "BAD", {"ecog": "one"})]
    assert run("batch", write_csv(tmp_path / "a.csv", HEADER, rows), "-t", TRIAL, "-q").exit_code == 1
    rows = [variant("B-002", "INELIGIBLE")]
    assert run("batch", write_csv(tmp_path / "b.csv", HEADER, rows), "-t", TRIAL, "-q").exit_code == 0


def test_empty_file_is_invalid_input(run, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = run("batch", path, "--trial", TRIAL, "--quiet")
    assert result.exit_code == 65
    assert "empty" in result.stderr


def test_header_only_file_is_zero_rows(run, tmp_path):
    path = write_csv(tmp_path / "h.csv", HEADER, [])
    summary = tmp_path / "s.json"
    header, rows = batch_ok(run, path, "--trial", TRIAL, "--quiet", "--summary", summary)
    assert header == FIXED + CRITERIA + ["row"] and rows == []
    data = json.loads(summary.read_text())
    assert (data["rows_in"], data["rows_out"], data["error_rows"]) == (0, 0, 0)


# --------------------------------------------------------------------------------------------
# 7. a --columns mapping for a real export
# --------------------------------------------------------------------------------------------

EXPORT_RENAME = {"id": "PATIENT_ID", "sex": "SEX", "creatinine [mg/dL]": "CREAT_SERUM", "platelets": "PLT",
                 "t(4;14)": "FISH_T_4_14", "del(17p)": "FISH_DEL_17P"}
EXPORT_DROP = {"birth_date", "del(17p)_percent"}
EXPORT_HEADER = [EXPORT_RENAME.get(c, c) for c in HEADER if c not in EXPORT_DROP] + ["AGE_YRS"]

EXPORT_MAPPING = """\
# a site's EHR export
columns:
  PATIENT_ID: id
  AGE_YRS: age
  SEX:
    field: sex
    values: {F: female, M: male}
  CREAT_SERUM: {field: creatinine, unit: mg/dL}
  PLT: {field: platelets, unit: K/uL}
  FISH_T_4_14:
    field: t(4;14)
    values: {1: detected, 0: not detected, NA: null}
  FISH_DEL_17P:
    field: del(17p)
    values: {1: detected, 0: not detected, NA: null}
"""

EXPORT_CASES = [
    # id, changes to the B-001 export row, verdict, failed, unknown, error fragments
    ("R-1", {}, "eligible", "", "", []),
    ("R-2", {"PLT": "68"}, "ineligible", "I5", "", []),
    ("R-3", {"PLT": "76"}, "eligible", "", "", []),
    ("R-4", {"FISH_T_4_14": "1"}, "ineligible", "E1", "", []),
    ("R-5", {"FISH_DEL_17P": "1"}, "ineligible", "E1", "", []),
    ("R-6", {"FISH_T_4_14": "NA"}, "needs_review", "", "E1", []),
    ("R-7", {"FISH_T_4_14": ""}, "needs_review", "", "E1", []),
    ("R-8", {"CREAT_SERUM": "2.1"}, "ineligible", "I5", "", []),
    ("R-9", {"CREAT_SERUM": "1.9"}, "eligible", "", "", []),
    ("R-10", {"AGE_YRS": "17"}, "ineligible", "I1", "", []),
    ("R-11", {"SEX": "M", "childbearing_potential": "yes",
              "attestation.contraception_requirements_accepted": "yes"}, "eligible", "", "", []),
    ("R-12", {"FISH_T_4_14": "2"}, "error", "", "", ["row 13", "column 'FISH_T_4_14'", "coded values"]),
    ("R-13", {"SEX": "X"}, "error", "", "", ["row 14", "column 'SEX'", "coded values"]),
    ("R-14", {"AGE_YRS": ""}, "needs_review", "", "I1", []),
]


def _export_row(pid: str, changes: dict) -> list[str]:
    d = dict(zip(HEADER, BY_ID["B-001"]))
    d.update({"sex": "F", "creatinine [mg/dL]": "1.0", "platelets": "180", "t(4;14)": "0", "del(17p)": "0"})
    row = dict(zip(EXPORT_HEADER, [d[c] for c in HEADER if c not in EXPORT_DROP] + ["64"]))
    row["PATIENT_ID"] = pid
    row.update(changes)
    return [row[c] for c in EXPORT_HEADER]


@pytest.fixture
def export_run(run, tmp_path):
    path = write_csv(tmp_path / "ehr_export.csv", EXPORT_HEADER,
                     [_export_row(pid, ch) for pid, ch, *_ in EXPORT_CASES])
    mapping = tmp_path / "export.yaml"
    mapping.write_text(EXPORT_MAPPING, encoding="utf-8")
    result = run("batch", path, "--trial", TRIAL, "--columns", mapping, "--quiet")
    return result, read_out(result.stdout)


def test_export_mapping_screens_without_editing(export_run):
    result, (header, rows) = export_run
    assert result.exit_code == 1            # two rows carry coded values not in the mapping
    assert header == FIXED + CRITERIA + ["row"]
    assert [r["id"] for r in rows] == [c[0] for c in EXPORT_CASES]


@pytest.mark.parametrize("pid,changes,verdict,failed,unknown,fragments", EXPORT_CASES,
                         ids=[c[0] for c in EXPORT_CASES])
def test_export_mapping_rows(export_run, pid, changes, verdict, failed, unknown, fragments):
    _, (_, rows) = export_run
    [row] = [r for r in rows if r["id"] == pid]
    assert (row["verdict"], row["failed"], row["unknown"]) == (verdict, failed, unknown), row
    for fragment in fragments:
        assert fragment in row["error"], (fragment, row["error"])
    if verdict != "error":
        assert row["error"] == ""


@pytest.mark.parametrize("text,line,message", [
    ("columns:\n  PATIENT_ID: id\ncolums:\n  X: age\n", 3, "unknown key 'colums'"),
    ("columns:\n  PATIENT_ID: id\n  CREAT_SERUM:\n    field: creatinine\n    units: mg/dL\n", 5,
     "unknown key 'units'"),
    ("delimiter: semicolon\nmissing: [NA]\ndecimal_comma: true\nfoo: 1\n", 4, "unknown key 'foo'"),
])
def test_mapping_with_unknown_key_is_invalid_input(run, tmp_path, text, line, message):
    mapping = tmp_path / "bad_mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    result = run("batch", EXAMPLE_CSV, "--trial", TRIAL, "--columns", mapping, "--quiet")
    assert result.exit_code == 65
    assert f"bad_mapping.yaml:{line}" in result.stderr
    assert message in result.stderr
    assert result.stdout == ""


def test_mapping_file_missing_is_exit_66(run, tmp_path):
    result = run("batch", EXAMPLE_CSV, "--trial", TRIAL, "--columns", tmp_path / "none.yaml", "--quiet")
    assert result.exit_code == 66
    assert "none.yaml" in result.stderr


def test_mapping_null_drops_a_column(run, tmp_path):
    """Mapping a column to null ignores it: here the t(4;14) result is dropped."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  t(4;14): null\n", encoding="utf-8")
    _, rows = batch_ok(run, EXAMPLE_CSV, "--trial", TRIAL, "--columns", mapping, "--quiet")
    [b001] = [r for r in rows if r["id"] == "B-001"]
    assert b001["verdict"] == "needs_review" and b001["unknown"] == "E1"


# --------------------------------------------------------------------------------------------
# 8. JSON Lines output
# --------------------------------------------------------------------------------------------

EXAMPLE_JSONS = sorted(EXAMPLES.glob(f"{TRIAL}-*.json"))


@pytest.mark.parametrize("how", ["out-jsonl", "format-jsonl"])
@pytest.mark.parametrize("example", EXAMPLE_JSONS, ids=[p.stem for p in EXAMPLE_JSONS])
def test_jsonl_is_the_screen_json_object(run, tmp_path, example, how):
    record = json.loads(example.read_text(encoding="utf-8"))
    path = tmp_path / "one.csv"
    path.write_text(records_to_csv([record]), encoding="utf-8")
    if how == "out-jsonl":
        out = tmp_path / "result.jsonl"
        result = run("batch", path, "--trial", TRIAL, "--out", out, "--quiet")
        text = out.read_text(encoding="utf-8")
    else:
        result = run("batch", path, "--trial", TRIAL, "--format", "jsonl", "--quiet")
        text = result.stdout
    assert result.exit_code == 0, (result.stdout, result.stderr)
    lines = text.splitlines()
    assert len(lines) == 1
    got = json.loads(lines[0])

    screened = run("screen", example, "--trial", TRIAL, "--format", "json")
    assert screened.exit_code == 0, screened.stderr
    [want] = json.loads(screened.stdout)

    assert got["row"] == 2
    assert got["patient"] == want["patient"]
    assert got["trial"] == want["trial"]
    assert got["as_of"] == want["as_of"]
    assert got["verdict"] == want["verdict"]
    assert got["missing"] == want["missing"]
    assert [(c["id"], c["status"]) for c in got["criteria"]] == [(c["id"], c["status"]) for c in want["criteria"]]
    assert [(c["id"], c["reason"]) for c in got["criteria"]] == [(c["id"], c["reason"]) for c in want["criteria"]]
    assert [(c["id"], c["missing"]) for c in got["criteria"]] == [(c["id"], c["missing"]) for c in want["criteria"]]
    assert got["criteria_sha256"] == want["criteria_sha256"]
    # and nothing else differs: the whole object, plus `row`
    assert {k: v for k, v in got.items() if k != "row"} == want


def test_jsonl_one_object_per_patient_and_trial_with_error_rows(run, tmp_path):
    rows = [variant("B-001", "J-1"), variant("B-001", "J-2", {"ecog": "one"}), variant("B-004", "J-3")]
    path = write_csv(tmp_path / "j.csv", HEADER, rows)
    other = second_trial_file(tmp_path)
    result = run("batch", path, "--trial", TRIAL, "--trial", other, "--format", "jsonl", "--quiet")
    assert result.exit_code == 1
    objs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["row"], o["patient"]["id"], o["trial"]["id"], o["verdict"]) for o in objs] == [
        (2, "J-1", TRIAL, "eligible"), (2, "J-1", "NCT99999999", "eligible"),
        (3, "J-2", TRIAL, "error"), (3, "J-2", "NCT99999999", "error"),
        (4, "J-3", TRIAL, "needs_review"), (4, "J-3", "NCT99999999", "needs_review"),
    ]
    assert "row 3, column 'ecog'" in objs[2]["error"]
    assert objs[4]["missing"] == ["labs.anc", "attestations.informed_consent_signed", "cytogenetics.t(4;14)"]
    assert all(len(o["criteria"]) == 18 for o in objs if o["verdict"] != "error")


# --------------------------------------------------------------------------------------------
# 9. several trials
# --------------------------------------------------------------------------------------------

def test_two_trials_two_rows_per_patient(run, tmp_path):
    other = second_trial_file(tmp_path)
    summary = tmp_path / "s.json"
    header, rows = batch_ok(run, EXAMPLE_CSV, "--trial", TRIAL, "--trial", other, "--quiet",
                            "--summary", summary)
    a_cols = [f"{TRIAL}:{c}" for c in CRITERIA]
    b_cols = [f"NCT99999999:{c}" for c in CRITERIA]
    assert header == FIXED + a_cols + b_cols + ["row"]
    assert len(rows) == 2 * len(ROWS)
    assert [(r["id"], r["trial"]) for r in rows] == [
        (pid, t) for pid in (r[0] for r in ROWS) for t in (TRIAL, "NCT99999999")]
    for first, second in zip(rows[::2], rows[1::2]):
        assert first["row"] == second["row"]
        assert (first["verdict"], first["failed"], first["unknown"], first["missing"]) == \
            (second["verdict"], second["failed"], second["unknown"], second["missing"])
        assert [first[c] for c in a_cols] == [second[c] for c in b_cols]
        assert all(first[c] == "" for c in b_cols)     # each row carries its own trial's statuses
        assert all(second[c] == "" for c in a_cols)
    assert [(r["id"], r["verdict"]) for r in rows[::2]] == [(e[0], e[1]) for e in EXAMPLE_EXPECTED]
    [b002] = [r for r in rows if r["id"] == "B-002" and r["trial"] == "NCT99999999"]
    assert b002["NCT99999999:I5"] == "fail"
    data = json.loads(summary.read_text())
    assert data["rows_in"] == 10 and data["rows_out"] == 20
    assert [t["trial"] for t in data["trials"]] == [TRIAL, "NCT99999999"]
    assert data["trials"][0]["verdicts"] == data["trials"][1]["verdicts"]
    assert data["trials"][0]["criteria"] == data["trials"][1]["criteria"]


def test_two_trials_error_row_for_each_trial(run, tmp_path):
    other = second_trial_file(tmp_path)
    path = write_csv(tmp_path / "e.csv", HEADER, [variant("B-001", "E-1", {"ecog": "one"})])
    summary = tmp_path / "s.json"
    _, rows = batch_ok(run, path, "--trial", TRIAL, "--trial", other, "--quiet", "--summary", summary, code=1)
    assert [(r["id"], r["trial"], r["verdict"]) for r in rows] == [("E-1", TRIAL, "error"),
                                                                   ("E-1", "NCT99999999", "error")]
    data = json.loads(summary.read_text())
    assert (data["rows_in"], data["rows_out"], data["error_rows"]) == (1, 2, 1)
    assert [t["verdicts"]["error"] for t in data["trials"]] == [1, 1]


# --------------------------------------------------------------------------------------------
# 10. the attrition summary
# --------------------------------------------------------------------------------------------

ATTRITION = {
    # criterion: (fail, fail_only, unknown) for the example file
    "I1": (0, 0, 0), "I2": (0, 0, 0), "I3": (0, 0, 0), "I4": (0, 0, 0),
    "I5": (2, 2, 1), "I6": (0, 0, 0), "I7": (0, 0, 1),
    "E1": (1, 1, 1), "E2": (0, 0, 0), "E3": (0, 0, 0), "E4": (0, 0, 0),
    "E5": (1, 1, 0), "E6": (1, 1, 0), "E7": (1, 1, 0), "E8": (0, 0, 0),
    "E9": (0, 0, 0), "E10": (0, 0, 0), "E11": (0, 0, 0),
}


@pytest.fixture(scope="module")
def example_summary(tmp_path_factory):
    path = tmp_path_factory.mktemp("summary") / "summary.json"
    result = CliRunner().invoke(app, ["batch", str(EXAMPLE_CSV), "--trial", TRIAL, "--quiet",
                                      "--summary", str(path)])
    assert result.exit_code == 0
    return json.loads(path.read_text(encoding="utf-8"))


def test_summary_counts(example_summary):
    assert (example_summary["rows_in"], example_summary["rows_out"], example_summary["error_rows"]) == (10, 10, 0)
    [tally] = example_summary["trials"]
    assert tally["trial"] == TRIAL
    assert tally["verdicts"] == {"eligible": 3, "needs_review": 1, "ineligible": 6, "error": 0}
    assert [c["id"] for c in tally["criteria"]] == CRITERIA


@pytest.mark.parametrize("cid,expected", ATTRITION.items())
def test_attrition_per_criterion(example_summary, cid, expected):
    [tally] = example_summary["trials"]
    [c] = [c for c in tally["criteria"] if c["id"] == cid]
    assert (c["fail"], c["fail_only"], c["unknown"]) == expected


def test_attrition_fail_only_excludes_patients_failing_two(run, tmp_path):
    rows = [
        variant("B-003", "T-1", {"platelets": "68 K/uL"}),        # fails I5 and E1
        variant("B-002", "T-2"),                                   # fails I5 only
        variant("B-003", "T-3"),                                   # fails E1 only
        variant("B-004", "T-4"),                                   # unknown on I5, I7, E1
        variant("B-001", "T-5", {"ecog": "4", "attestation.investigator_considers_suitable": "no"}),  # I4 + E11
        variant("B-001", "T-6", {"ecog": "one"}),                  # error
    ]
    summary = tmp_path / "s.json"
    result = run("batch", write_csv(tmp_path / "a.csv", HEADER, rows), "-t", TRIAL, "--summary", summary)
    assert result.exit_code == 1
    [tally] = json.loads(summary.read_text())["trials"]
    counts = {c["id"]: (c["fail"], c["fail_only"], c["unknown"]) for c in tally["criteria"]}
    assert counts["I5"] == (2, 1, 1)
    assert counts["E1"] == (2, 1, 1)
    assert counts["I4"] == (1, 0, 0)
    assert counts["E11"] == (1, 0, 0)
    assert counts["I7"] == (0, 0, 1)
    assert tally["verdicts"] == {"eligible": 0, "needs_review": 1, "ineligible": 4, "error": 1}
    table = result.stderr
    assert "Attrition, NCT05378971" in table
    assert "Fail only this" in table


def test_attrition_table_on_stderr(run):
    result = run("batch", EXAMPLE_CSV, "--trial", TRIAL)
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    [i5] = [line for line in lines if line.split()[:1] == ["I5"]]
    assert i5.split()[1:4] == ["2", "2", "1"]
    assert "████▒▒" in i5 and "20% /  10%" in i5          # 2 of 10 fail it, 1 of 10 unknown on it
    [e1] = [line for line in lines if line.split()[:1] == ["E1"]]
    assert e1.split()[1:4] == ["1", "1", "1"]


def test_a_criterion_unknown_for_everyone_is_a_full_bar_of_unknown(run, tmp_path):
    """The attrition bar draws unknown as its own segment: a criterion nobody can be judged on is
    not drawn as 0% (issue 15)."""
    import csv

    rows = list(csv.reader(EXAMPLE_CSV.read_text(encoding="utf-8").splitlines()))
    drop = rows[0].index("attestation.informed_consent_signed")
    cut = tmp_path / "no-consent.csv"
    with cut.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([c for i, c in enumerate(r) if i != drop] for r in rows)
    result = run("batch", str(cut), "--trial", TRIAL)
    [i7] = [line for line in result.stderr.splitlines() if line.split()[:1] == ["I7"]]
    assert "▒" * 20 in i7 and "0% / 100%" in i7



# --------------------------------------------------------------------------------------------
# 11. parity: the batch result equals `screen` on the same patient written as JSON
# --------------------------------------------------------------------------------------------

FINDINGS = ["del(17p)", "amp(1q)", "t(4;14)", "t(14;16)", "t(14;20)", "t(11;14)", "TP53 mutation"]
ATTESTATIONS = ["informed_consent_signed", "pomalidomide_tolerable", "refuses_contraception",
                "antithrombotic_therapy_accepted", "investigator_considers_suitable",
                "maximum_response_reached", "contraception_requirements_accepted",
                "monthly_pregnancy_tests_agreed"]
# the I5 labs: (analyte, threshold in the first unit, passing side, {unit: factor to the first unit})
I5_LABS = [
    ("alt", 120.0, "below", {"U/L": 1.0, "IU/L": 1.0}),                     # 3 x ULN 40
    ("ast", 120.0, "below", {"U/L": 1.0, "IU/L": 1.0}),
    ("bilirubin", 35.0, "below", {"umol/L": 1.0, "mg/dL": 17.1}),
    ("creatinine", 177.0, "below", {"umol/L": 1.0, "mg/dL": 88.4}),
    ("anc", 1.0, "above", {"x10^9/L": 1.0, "cells/uL": 0.001, "K/uL": 1.0}),
    ("platelets", 75.0, "above", {"x10^9/L": 1.0, "K/uL": 1.0, "/mm3": 0.001}),
]
_BASE_RECORD = json.loads(ELIGIBLE.read_text(encoding="utf-8"))

_tri = st.sampled_from([True, False, None])
# around the threshold (exactly on it, just either side) or anywhere in a wide range
_near = st.one_of(st.sampled_from([0.5, 0.9, 0.99, 0.999, 1.0, 1.001, 1.01, 1.1, 2.0]),
                  st.floats(0.3, 3.0, allow_nan=False, allow_infinity=False))


@st.composite
def patients(draw):
    """Variations of the eligible example: most fields stay as they are, a few move, so that
    every verdict and every status of the varied criteria turns up."""
    rec = json.loads(json.dumps(_BASE_RECORD))
    rec["sex"] = draw(st.sampled_from(["female", "male"]))
    ecog = draw(st.sampled_from([0, 1, 1, 2, 3, 4, 5, None]))
    rec.pop("ecog")
    if ecog is not None:
        rec["ecog"] = ecog
    rec.pop("birth_date")
    how_old = draw(st.sampled_from(["birth_date", "birth_date", "edge", "age", "none"]))
    if how_old == "birth_date":
        rec["birth_date"] = draw(st.dates(date(1925, 1, 1), date(2012, 12, 31))).isoformat()
    elif how_old == "edge":   # the 18th birthday around the as-of date 2025-06-02
        rec["birth_date"] = draw(st.sampled_from(["2007-06-01", "2007-06-02", "2007-06-03"]))
    elif how_old == "age":
        rec["age"] = draw(st.integers(10, 95))
    for flag, choices in (("childbearing_potential", [False, False, True, None]),
                          ("transplant_candidate", [True, True, False, None])):
        value = draw(st.sampled_from(choices))
        rec.pop(flag, None)
        if value is not None:
            rec[flag] = value
    # every I5 lab in a unit of its own; the varied ones around their threshold or absent
    varied = draw(st.sets(st.sampled_from([lab[0] for lab in I5_LABS]), max_size=2))
    for name, threshold, passing, units in I5_LABS:
        unit = draw(st.sampled_from(sorted(units)))
        if name in varied:
            mult = draw(st.one_of(_near, st.none()))
            if mult is None:
                del rec["labs"][name]
                continue
        else:
            mult = 0.5 if passing == "below" else 2.0
        lab = rec["labs"][name]
        lab["value"], lab["unit"] = float(f"{threshold * mult / units[unit]:.4g}"), unit
    cyto = {f: "not detected" for f in FINDINGS}
    for finding in draw(st.sets(st.sampled_from(FINDINGS), max_size=2)):
        result = draw(st.sampled_from(["detected", None]))
        if result is None:
            del cyto[finding]
        else:
            cyto[finding] = result
    rec["cytogenetics"] = cyto
    grade = draw(st.one_of(st.integers(0, 2), st.integers(0, 5), st.just(False), st.none()))
    if grade is None:
        del rec["conditions"]["peripheral_neuropathy"]
    elif grade is False:
        rec["conditions"]["peripheral_neuropathy"] = False
    else:
        rec["conditions"]["peripheral_neuropathy"] = {"present": True, "grade": grade}
    atts = {name: name != "refuses_contraception" for name in ATTESTATIONS}
    for name in draw(st.sets(st.sampled_from(ATTESTATIONS), max_size=2)):
        value = draw(_tri)
        if value is None:
            del atts[name]
        else:
            atts[name] = value
    rec["attestations"] = atts
    treatments = [t for t in rec["treatments"] if t["type"] == "induction"]
    treatments[0].pop("drugs")    # a list attribute has no column of its own; it is not screened on
    if draw(st.sampled_from([True, True, False])):
        treatments.append({"type": "asct", "date": "2025-02-20", "conditioning": "melphalan 200 mg/m2"})
    if draw(st.booleans()):
        treatments.append({"type": "consolidation", "start": "2025-01-05", "end": "2025-03-01"})
    rec["treatments"] = treatments
    return rec


def _json_side(trial, rec):
    from trialscreen.errors import PatientError
    from trialscreen.evaluate.screen import screen
    from trialscreen.patient.load import patient_from_dict

    try:
        patient = patient_from_dict(json.loads(json.dumps(rec)), "gen.json")
    except PatientError:
        return ("error", None, None)
    result = screen(trial, patient, None, explain=True)
    return (result.verdict, {c.id: c.status for c in result.criteria}, "; ".join(result.missing))


def _csv_side(trial, text):
    from trialscreen.batch.run import run_batch
    from trialscreen.render.batch import Writer

    out = io.StringIO()
    summary = run_batch(io.StringIO(text, newline=""), "gen.csv", [trial], Writer(out, "csv", [trial]))
    _, rows = read_out(out.getvalue())
    assert summary.rows_in == summary.rows_out == len(rows)
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patients(), min_size=1, max_size=4))
def test_parity_batch_equals_screen(records):
    trial = trial_obj()
    for i, rec in enumerate(records):
        rec["id"] = f"P-{i}"
    rows = _csv_side(trial, records_to_csv(records))
    assert [r["id"] for r in rows] == [r["id"] for r in records]
    for rec, row in zip(records, rows):
        verdict, statuses, missing = _json_side(trial, rec)
        assert row["verdict"] == verdict, (rec, row)
        if verdict == "error":
            continue
        assert {c: row[c] for c in CRITERIA} == statuses, (rec, row)
        assert row["missing"] == missing, (rec, row)


def test_parity_example_jsons():
    """The bundled JSON examples, written as CSV rows, screen identically."""
    trial = trial_obj()
    for example in EXAMPLE_JSONS:
        rec = json.loads(example.read_text(encoding="utf-8"))
        [row] = _csv_side(trial, records_to_csv([rec]))
        verdict, statuses, missing = _json_side(trial, rec)
        assert (row["verdict"], {c: row[c] for c in CRITERIA}, row["missing"]) == (verdict, statuses, missing), \
            example.name


# --------------------------------------------------------------------------------------------
# 12. streaming: flat memory
# --------------------------------------------------------------------------------------------

sys.path.insert(0, str(ROOT / "bench"))
from memory import CHILD  # noqa: E402  (the benchmark's own peak-memory child process)


def _generated_file(path: Path, n: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for i in range(n):
            row = list(ROWS[i % len(ROWS)])
            row[0] = f"M{i:07d}"
            w.writerow(row)
    return path


def _peak_rss(path: Path, out: Path) -> tuple[int, float, int]:
    cmd = [sys.executable, "-c", CHILD, "batch", str(path), "--trial", TRIAL, "--quiet", "--out", str(out)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_COLOR": "1"})
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = int(proc.stderr.rsplit("peak_rss_kb=", 1)[1].split()[0])
    with out.open(encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    return peak, elapsed, lines - 1


def test_memory_is_flat_as_rows_grow(tmp_path):
    small = _generated_file(tmp_path / "small.csv", 2_000)
    peak_small, _, rows_small = _peak_rss(small, tmp_path / "small.out.csv")
    assert rows_small == 2_000
    # always run: a slow machine makes this test slow, never skipped (about 10 s here)
    large = _generated_file(tmp_path / "large.csv", 20_000)
    peak_large, _, rows_large = _peak_rss(large, tmp_path / "large.out.csv")
    assert rows_large == 20_000
    grew = (peak_large - peak_small) / 1024
    assert grew <= 10, f"peak RSS grew by {grew:.1f} MiB from 2,000 to 20,000 rows " \
                       f"({peak_small / 1024:.1f} -> {peak_large / 1024:.1f} MiB)"


def test_covers_says_a_partly_encoded_trials_verdict_is_not_the_whole_protocol(run):
    """A verdict of a trial marked complete: false covers only its encoded criteria; the CSV
    says so on every row, so a filtered or copied result cannot lose it."""
    _, rows = batch_ok(run, EXAMPLE_CSV, "--trial", "NCT05378971", "--trial", "NCT06863584", "--quiet")
    covers = {(r["trial"], r["covers"]) for r in rows}
    assert covers == {("NCT05378971", "all criteria"), ("NCT06863584", "encoded criteria only")}


@pytest.mark.parametrize("end,e7", [("unknown", "unknown"), ("NA", "unknown"), ("", "fail")])
def test_an_end_cell_saying_unknown_is_an_end_nobody_recorded_not_a_course_going_on(run, tmp_path, end, e7):
    """induction_end 'unknown' (a missing token): the induction ended on a day nobody recorded, so
    whether it ran into the last 4 weeks is unknown (E7); an empty end is a course still going on."""
    lines = (ROOT / "examples" / "batch" / "patients.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = next(r for r in csv.DictReader(lines))
    row["induction_start"], row["induction_end"] = "2024-07-20", end
    path = tmp_path / "p.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row[h] for h in header) + "\n", encoding="utf-8")
    said = run("batch", str(path), "--trial", "NCT05378971", "--as-of", "2025-06-02", "-f", "jsonl", "--quiet")
    (result,) = [json.loads(line) for line in said.stdout.splitlines()]
    assert next(c["status"] for c in result["criteria"] if c["id"] == "E7") == e7

"""Numbers in a batch file are read exactly as the file writes them.

In a decimal-comma file (``decimal_comma: true`` / ``--decimal-comma``) ``1,5`` is 1.5, and a
dot is a thousands separator only where the mapping says ``thousands: "."``; without that,
``1.500 IU/mL`` (one thousand five hundred, in European notation) is an error for its cell,
never 1.5. A table of cells and mappings goes through :func:`run_batch` on a small trial whose
explanations show the number read; the cases of the issue go through the command line on
NCT05378971; the mapping's ``thousands`` key is checked for the combinations it refuses.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from pathlib import Path

import pytest

from conftest import ROOT
from trialscreen.batch.mapping import Mapping, MappingEntry, load_mapping
from trialscreen.batch.plan import plan_columns
from trialscreen.batch.rows import RowError, row_to_record
from trialscreen.units.normalize import split_value

NUMBERS_TRIAL = """\
id: TEST-NUMBERS
title: Numbers as written
source: tests/test_decimal_numbers.py
version: "1"
complete: true
inclusion:
  - {id: I1, text: HBV DNA above 200 IU/mL., rule: {lab: hbv_dna, gt: 200 IU/mL}}
  - {id: I2, text: Platelets above 75 x 10^9/L., rule: {lab: platelets, gt: 75 x10^9/L}}
  - {id: I3, text: ALT below 3 x ULN., rule: {lab: alt, lt: 3 x ULN}}
  - {id: I4, text: Weight at least 40 kg., rule: {field: weight, ge: 40 kg}}
  - {id: I5, text: Height at least 100 cm., rule: {field: height, ge: 100 cm}}
  - {id: I6, text: Age at least 18., rule: {field: age, ge: 18}}
  - {id: I7, text: ECOG 0 to 3., rule: {field: ecog, in: 0..3}}
  - {id: I8, text: Hemoglobin above its LLN., rule: {lab: hemoglobin, gt: LLN}}
  - {id: I9, text: Platelets above their LLN., rule: {lab: platelets, gt: LLN}}
exclusion:
  - id: E1
    text: del(17p) in at least 20 % of cells.
    rule: {cytogenetics: {any_of: [del(17p)], min_percent: 20}}
  - id: E2
    text: Peripheral neuropathy of grade 3 or more.
    rule: {condition: peripheral_neuropathy, grade: {ge: 3}}
"""

# A good row, in whole numbers: the same cells in every notation.
BASE = {
    "id": "N-0", "hbv_dna": "350 IU/mL", "platelets": "180 x10^9/L", "alt": "32 U/L", "alt_uln": "40",
    "weight": "64 kg", "height": "165 cm", "age": "64", "ecog": "1", "hemoglobin": "13 g/dL",
    "hemoglobin_lln": "11", "del(17p)": "detected", "del(17p)_percent": "12",
    "peripheral_neuropathy": "yes", "peripheral_neuropathy_grade": "2", "as_of": "2025-06-02",
    # current labs (dates are not numbers: left as written in every notation)
    "hbv_dna_date": "2025-05-30", "platelets_date": "2025-05-30", "alt_date": "2025-05-30",
    "hemoglobin_date": "2025-05-30", "platelets_lln": "150 x10^9/L",
}
HEADER = list(BASE)

# The mappings (every file is semicolon-delimited).
PLAIN = "delimiter: semicolon\n"                                   # decimal point, no grouping
DC = PLAIN + "decimal_comma: true\n"                               # 1,5
DCT = DC + 'thousands: "."\n'                                      # 1.500,5
DCS = DC + 'thousands: " "\n'                                      # 1 500,5
PTC = PLAIN + 'thousands: ","\n'                                   # 1,500.5
MAPPINGS = {"plain": PLAIN, "dc": DC, "dc+dot": DCT, "dc+space": DCS, "point+comma": PTC}


class Err:
    """An expected error for the cell: the row's verdict is 'error', its message names the
    row and the column and holds ``fragment``."""

    def __init__(self, fragment: str):
        self.fragment = fragment

    def __repr__(self):
        return f"Err({self.fragment!r})"


DOT = Err("a number with a dot in a decimal-comma file: is the dot a thousands separator? "
          "Say `thousands: \".\"` in the mapping, or correct the cell")
GROUPING = Err("not a number as this file writes numbers")
COMMA = Err("a comma in a number, in a file read with a decimal point")

# mapping, column, cell, the number read (as the explanation shows it) or the error
CASES = [
    # lab values with their unit in the cell
    ("dc", "hbv_dna", "1,5 IU/mL", 1.5),
    ("dc", "hbv_dna", "1500 IU/mL", 1500),
    ("dc", "hbv_dna", "1.500 IU/mL", DOT),                     # the issue: was read as 1.5
    ("dc", "hbv_dna", "1.500,5 IU/mL", DOT),
    ("dc", "hbv_dna", "1,500.5 IU/mL", DOT),
    ("dc", "hbv_dna", ".5 IU/mL", DOT),
    ("dc", "hbv_dna", "1,5,3 IU/mL", GROUPING),
    ("dc+dot", "hbv_dna", "1.500 IU/mL", 1500),
    ("dc+dot", "hbv_dna", "1.500,5 IU/mL", 1500.5),
    ("dc+dot", "hbv_dna", "1.000.000 IU/mL", 1_000_000),
    ("dc+dot", "hbv_dna", "1500 IU/mL", 1500),
    ("dc+dot", "hbv_dna", "350,25 IU/mL", 350.25),
    ("dc+dot", "hbv_dna", "1.50 IU/mL", GROUPING),
    ("dc+dot", "hbv_dna", "1.5000 IU/mL", GROUPING),
    ("dc+dot", "hbv_dna", ".5 IU/mL", GROUPING),
    ("dc+dot", "hbv_dna", "1500.000 IU/mL", GROUPING),
    ("dc+dot", "hbv_dna", "1,500.5 IU/mL", GROUPING),
    ("dc+dot", "hbv_dna", "1..500 IU/mL", GROUPING),
    ("dc+space", "hbv_dna", "1 500 IU/mL", 1500),
    ("dc+space", "hbv_dna", "1\u202f500,5 IU/mL", 1500.5),        # narrow no-break space
    ("dc+space", "hbv_dna", "1\u00a0500 IU/mL", 1500),            # no-break space
    ("dc+space", "hbv_dna", "1.500 IU/mL", GROUPING),
    ("dc+space", "hbv_dna", "1 5000 IU/mL", GROUPING),
    ("point+comma", "hbv_dna", "1,500 IU/mL", 1500),
    ("point+comma", "hbv_dna", "1,500.5 IU/mL", 1500.5),
    ("point+comma", "hbv_dna", "1.5 IU/mL", 1.5),
    ("point+comma", "hbv_dna", "1,50 IU/mL", GROUPING),
    ("point+comma", "hbv_dna", "1,5 IU/mL", GROUPING),
    ("plain", "hbv_dna", "1.500 IU/mL", 1.5),                   # a decimal point file: 1.5
    ("plain", "hbv_dna", "1,500 IU/mL", COMMA),                 # a comma stays refused
    ("plain", "hbv_dna", "1,5 IU/mL", COMMA),
    # censored values
    ("dc", "hbv_dna", "<1.500 IU/mL", DOT),
    ("dc", "hbv_dna", ">1.500 IU/mL", DOT),
    ("dc+dot", "hbv_dna", "<1.500 IU/mL", 1500),
    ("dc+dot", "hbv_dna", ">= 1.500,5 IU/mL", 1500.5),
    ("dc+dot", "hbv_dna", "<1.50 IU/mL", GROUPING),
    ("dc", "hbv_dna", "<1,5 IU/mL", 1.5),
    # counts: the issue's platelets, and powers of ten (a unit's number is the unit's)
    ("dc", "platelets", "75.000 /mm3", DOT),                    # the issue: was read as 75
    ("dc+dot", "platelets", "75.000 /mm3", 75000),
    ("dc+dot", "platelets", "150.000 /uL", 150000),
    ("dc", "platelets", "182,5 x10^9/L", 182.5),
    ("dc+space", "platelets", "180 10^9/L", 180),
    ("dc+space", "platelets", "150 000 /mm3", 150000),
    # reference limits
    ("dc", "alt_uln", "13,6", 13.6),
    ("dc", "alt_uln", "1.000", DOT),
    ("dc+dot", "platelets_lln", "150.000 /uL", 150),             # in the value's unit, x10^9/L
    ("dc", "platelets_lln", "150.000 /uL", DOT),
    ("dc+dot", "alt_uln", "40 U/L", 40),
    ("dc", "hemoglobin_lln", "11,5", 11.5),
    ("dc", "hemoglobin_lln", "11.5", DOT),
    ("dc+dot", "hemoglobin_lln", "11.5", GROUPING),
    ("dc", "alt", "40.5 U/L", DOT),
    # weight, height, age, ECOG
    ("dc", "weight", "64,5 kg", 64.5),
    ("dc", "weight", "64.5 kg", DOT),
    ("dc+dot", "weight", "64.5 kg", GROUPING),
    ("dc+dot", "weight", "64.500 g", 64.5),
    ("dc", "height", "1.650 mm", DOT),
    ("dc+dot", "height", "1.650 mm", 165),
    ("dc", "height", "1,65 m", 165),
    ("dc", "age", "64,5", 64.5),
    ("dc", "age", "64.5", DOT),
    ("dc", "ecog", "1.0", DOT),
    ("plain", "age", "64,5", COMMA),
    # the share of cells, the grade
    ("dc", "del(17p)_percent", "12,5", 12.5),
    ("dc", "del(17p)_percent", "12.5", DOT),
    ("dc+dot", "del(17p)_percent", "12.5", GROUPING),
    ("dc", "peripheral_neuropathy_grade", "2.0", DOT),
    ("dc+dot", "peripheral_neuropathy_grade", "2.0", GROUPING),
]


def _named(analyte: str) -> str:
    """How explanations name the analyte (its vocabulary short name: hbv_dna is 'HBV DNA')."""
    from trialscreen import vocab
    from trialscreen.explain.names import analyte_name

    return analyte_name(vocab.analytes().get(analyte))


def _lab_check(criteria, analyte: str) -> dict:
    """The explanation's check of ``analyte``, wherever the engine puts it."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "lab" and str(node.get("text", "")).startswith(_named(analyte) + " "):
                found.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(criteria)
    assert found, f"no check of {analyte} in {json.dumps(criteria)[:2000]}"
    return found[0]


def _check_texts(criteria, cid) -> str:
    return json.dumps(next(c for c in criteria if c["id"] == cid))


def number_read(result: dict, column: str):
    """The number the screening used for ``column``'s cell, from the JSON Lines output."""
    crit = result["criteria"]
    if column in ("hbv_dna", "platelets", "alt", "hemoglobin"):
        return _lab_check(crit, column)["value"]
    if column in ("alt_uln", "hemoglobin_lln"):
        return _lab_check(crit, column.rsplit("_", 1)[0])["reference_value"]
    if column == "platelets_lln":
        return _lab_check(next(c for c in crit if c["id"] == "I9"), "platelets")["reference_value"]
    if column in ("weight", "height", "age", "ecog"):
        cid = {"weight": "I4", "height": "I5", "age": "I6", "ecog": "I7"}[column]
        check = json.loads(_check_texts(crit, cid))
        values = [c["value"] for c in check.get("checks", []) if "value" in c]
        assert values, check
        return values[0]
    raise AssertionError(column)


@functools.lru_cache(maxsize=None)
def _batch(mapping_name: str, tmp: str):
    """All the table's rows of one mapping through run_batch: {row id: JSON Lines result}."""
    from trialscreen.batch.run import run_batch
    from trialscreen.criteria.library import load_trial
    from trialscreen.render.batch import Writer

    folder = Path(tmp)
    trial_file = folder / "TEST-NUMBERS.yaml"
    trial_file.write_text(NUMBERS_TRIAL, encoding="utf-8")
    trial = load_trial(str(trial_file))
    mapping_file = folder / f"{mapping_name}.yaml"
    mapping_file.write_text(MAPPINGS[mapping_name], encoding="utf-8")
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(HEADER)
    ids = []
    for i, (name, column, cell, _) in enumerate(CASES):
        if name != mapping_name:
            continue
        row = dict(BASE, id=f"N-{i}")
        row[column] = cell
        w.writerow([row[h] for h in HEADER])
        ids.append(f"N-{i}")
    out = io.StringIO()
    summary = run_batch(io.StringIO(buf.getvalue(), newline=""), "numbers.csv", [trial],
                        Writer(out, "jsonl", [trial]), mapping=load_mapping(str(mapping_file)))
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    by_id = {r["patient"]["id"]: r for r in results}
    assert sorted(by_id) == sorted(ids)
    return by_id, summary


@pytest.fixture(scope="module")
def table_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("numbers"))


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{m}:{c}={v!r}" for m, c, v, _ in CASES])
def test_cell_is_read_as_written(table_dir, index):
    mapping_name, column, cell, expected = CASES[index]
    by_id, summary = _batch(mapping_name, table_dir)
    result = by_id[f"N-{index}"]
    if isinstance(expected, Err):
        assert result["verdict"] == "error", (cell, result.get("criteria"))
        assert result["error"].startswith(f"row {result['row']}, column '{column}': "), result["error"]
        assert expected.fragment in result["error"], result["error"]
        assert cell not in result["error"]          # patient values stay out of messages
        assert summary.error_rows >= 1
        return
    assert result["verdict"] != "error", result.get("error")
    if column == "del(17p)_percent":
        assert f"in {expected:g}% of cells" in _check_texts(result["criteria"], "E1")
    elif column == "age":   # read as written, then used in whole years as a birth date gives it
        assert f"{expected:g} ({math.floor(expected)} whole years) as recorded" in _check_texts(
            result["criteria"], "I6") or expected == math.floor(expected)
        assert number_read(result, column) == math.floor(expected), cell
    else:
        got = number_read(result, column)
        assert got == pytest.approx(expected), (cell, got)


def test_censor_kept_with_the_grouped_number(table_dir):
    [index] = [i for i, c in enumerate(CASES) if c[:3] == ("dc+dot", "hbv_dna", "<1.500 IU/mL")]
    by_id, _ = _batch("dc+dot", table_dir)
    check = _lab_check(by_id[f"N-{index}"]["criteria"], "hbv_dna")
    assert (check["censor"], check["value"], check["unit"]) == ("<", 1500, "IU/mL")


def test_other_rows_of_the_file_go_on(table_dir):
    """An unreadable number fails its row only: the good rows of the same file are screened."""
    by_id, summary = _batch("dc", table_dir)
    errors = [r for r in by_id.values() if r["verdict"] == "error"]
    good = [r for r in by_id.values() if r["verdict"] != "error"]
    assert errors and good
    assert summary.error_rows == len(errors)
    assert summary.rows_in == len(by_id)


# --------------------------------------------------------------------------------------------
# the issue's cases, through the command line on NCT05378971
# --------------------------------------------------------------------------------------------

TRIAL = "NCT05378971"
EXAMPLE_CSV = ROOT / "examples" / "batch" / "patients.csv"
LAB_DATE = "2025-05-30"   # within any screening window before the as-of date 2025-06-02


def _issue_file(tmp_path: Path, changes: dict) -> Path:
    """B-001 of the example, every number in decimal-comma notation and every lab dated,
    in a semicolon file, with ``changes``."""
    with EXAMPLE_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    row.update({"creatinine [mg/dL]": "1,0", "anc": "2,1 x10^9/L", "m_protein": "2,5 g/L"})
    row.update(changes)
    labs = ["alt", "ast", "bilirubin", "creatinine [mg/dL]", "anc", "platelets", "m_protein", "hbsag",
            "anti_hbc", "hbv_dna", "hcv_antibody", "hiv_antibody"]
    for lab in labs:
        header.append(lab.split(" ")[0] + "_date")
        row[header[-1]] = LAB_DATE if row.get(lab) else ""
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(header)
        w.writerow([row.get(h, "") for h in header])
    return path


def _cli(run, tmp_path, changes, mapping_text, *extra, fmt="csv"):
    mapping = tmp_path / "export-columns.yaml"
    mapping.write_text(mapping_text, encoding="utf-8")
    result = run("batch", _issue_file(tmp_path, changes), "--columns", mapping, "--trial", TRIAL,
                 "--out", "-", "--format", fmt, "--quiet", *extra)
    return result


def _csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("column,cell", [("hbv_dna", "1.500 IU/mL"), ("platelets", "75.000 /mm3")])
def test_issue_dotted_number_without_thousands_is_a_row_error(run, tmp_path, column, cell):
    changes = {column: cell, "hbsag": "positive"} if column == "hbv_dna" else {column: cell}
    result = _cli(run, tmp_path, changes, DC)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    [row] = _csv_rows(result.stdout)
    assert row["verdict"] == "error"
    assert row["row"] == "2"
    assert row["error"].startswith(f"row 2, column '{column}': a number with a dot in a decimal-comma file")
    assert 'thousands: "."' in row["error"]
    assert row["E6"] == "" and row["I5"] == ""           # no criterion is judged on it


def test_issue_hbv_dna_with_thousands_dot_is_1500(run, tmp_path):
    """1.500 IU/mL with `thousands: "."` is 1500 IU/mL: active hepatitis B, E6 fails."""
    result = _cli(run, tmp_path, {"hbv_dna": "1.500 IU/mL", "hbsag": "positive"}, DCT, fmt="jsonl")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    [res] = [json.loads(line) for line in result.stdout.splitlines()]
    e6 = next(c for c in res["criteria"] if c["id"] == "E6")
    assert e6["status"] == "fail", e6
    check = _lab_check(e6, "hbv_dna")
    assert (check["value"], check["unit"]) == (1500, "IU/mL")


def test_issue_hbv_dna_with_thousands_dot_csv(run, tmp_path):
    result = _cli(run, tmp_path, {"hbv_dna": "1.500 IU/mL", "hbsag": "positive"}, DCT)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    [row] = _csv_rows(result.stdout)
    assert (row["verdict"], row["E6"], row["error"]) == ("ineligible", "fail", "")
    assert "E6" in row["failed"].split("; ")


def test_issue_platelets_with_thousands_dot_is_75000(run, tmp_path):
    """75.000 /mm3 is 75 x10^9/L, not 0.075: I5 sees 75000 /mm3 (and it is not above 75)."""
    result = _cli(run, tmp_path, {"platelets": "75.000 /mm3"}, DCT, fmt="jsonl")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    [res] = [json.loads(line) for line in result.stdout.splitlines()]
    i5 = next(c for c in res["criteria"] if c["id"] == "I5")
    check = _lab_check(i5, "platelets")
    assert (check["value"], check["unit"]) == (75000, "/mm3")
    assert check["converted"] == pytest.approx(75.0)
    result = _cli(run, tmp_path, {"platelets": "75.001 /mm3"}, DCT)
    [row] = _csv_rows(result.stdout)
    assert row["I5"] == "pass", row                      # 75.001 x10^9/L > 75


def test_issue_hbv_dna_in_decimal_comma_is_1_5(run, tmp_path):
    """The decimal comma itself still reads: 1,5 IU/mL is 1.5 (below 200: E6 passes)."""
    result = _cli(run, tmp_path, {"hbv_dna": "1,5 IU/mL", "hbsag": "positive"}, DC)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    [row] = _csv_rows(result.stdout)
    assert (row["E6"], row["error"]) == ("pass", "")


def test_issue_with_the_decimal_comma_option(run, tmp_path):
    """--decimal-comma on the command line: the same refusal as decimal_comma: true."""
    result = _cli(run, tmp_path, {"hbv_dna": "1.500 IU/mL", "hbsag": "positive"}, PLAIN, "--decimal-comma")
    assert result.exit_code == 1, (result.stdout, result.stderr)
    [row] = _csv_rows(result.stdout)
    assert row["verdict"] == "error" and row["error"].startswith("row 2, column 'hbv_dna': ")


def test_dates_are_not_numbers(run, tmp_path):
    """Dates are left as written: a dotted date is refused as a date, not as a number."""
    result = _cli(run, tmp_path, {"birth_date": "15.03.1961"}, DCT)
    [row] = _csv_rows(result.stdout)
    assert row["verdict"] == "error"
    assert row["error"].startswith("row 2, column 'birth_date': ")
    assert "not a date" in row["error"] and "thousands" not in row["error"]
    result = _cli(run, tmp_path, {}, DCT)               # ISO dates in a thousands-dot file
    [row] = _csv_rows(result.stdout)
    assert row["error"] == "", row["error"]


# --------------------------------------------------------------------------------------------
# the mapping's thousands key
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,line,column,fragment", [
    ('delimiter: semicolon\nthousands: "."\n', 2, 12, 'thousands: "." needs decimal_comma: true'),
    ('delimiter: semicolon\ndecimal_comma: false\nthousands: "."\n', 3, 12,
     'thousands: "." needs decimal_comma: true'),
    ('decimal_comma: true\nthousands: ","\n', 2, 12, "cannot go with decimal_comma: true"),
    ('decimal_comma: true\nthousands: "\'"\n', 2, 12, "thousands must be"),
    ("decimal_comma: true\nthousands: 3\n", 2, 12, "thousands must be"),
    ('decimal_comma: true\nthousands: "_"\n', 2, 12, "thousands must be"),
    ('decimal_comma: true\nthousands: [" "]\n', 2, 12, "thousands must be"),
])
def test_thousands_mapping_errors_are_located(run, tmp_path, text, line, column, fragment):
    mapping = tmp_path / "bad_mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    result = run("batch", EXAMPLE_CSV, "--trial", TRIAL, "--columns", mapping, "--quiet")
    assert result.exit_code == 65, (result.stdout, result.stderr)
    assert f"bad_mapping.yaml:{line}:{column}" in result.stderr
    assert fragment in " ".join(result.stderr.split())
    assert result.stdout == ""


@pytest.mark.parametrize("mapping_text,option,fragment", [
    ('decimal_comma: true\nthousands: "."\n', "--no-decimal-comma", "a dot cannot be both"),
    ('delimiter: semicolon\nthousands: ","\n', "--decimal-comma", "a comma cannot be both"),
])
def test_option_contradicting_thousands_is_a_usage_error(run, tmp_path, mapping_text, option, fragment):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(mapping_text, encoding="utf-8")
    result = run("batch", _issue_file(tmp_path, {}), "--trial", TRIAL, "--columns", mapping, option, "--quiet")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert fragment in " ".join(result.stderr.split())
    assert [line for line in result.stdout.splitlines() if line.startswith("B-001")] == []


def test_thousands_is_a_known_mapping_key(tmp_path):
    mapping = tmp_path / "m.yaml"
    for text, expected in [('decimal_comma: true\nthousands: "."\n', "."),
                           ("decimal_comma: true\nthousands: .\n", "."),
                           ('decimal_comma: true\nthousands: " "\n', " "),
                           ('decimal_comma: true\nthousands: "\\u202f"\n', " "),
                           ('decimal_comma: true\nthousands: "\\u00a0"\n', " "),
                           ('thousands: ","\n', ","),
                           ('thousands: " "\n', " "),
                           ("decimal_comma: true\n", None)]:
        mapping.write_text(text, encoding="utf-8")
        assert load_mapping(str(mapping)).thousands == expected, text


# --------------------------------------------------------------------------------------------
# what the record reader receives from a row, and split_value
# --------------------------------------------------------------------------------------------

def _record(cells: dict, **mapping):
    plan = plan_columns(list(cells), Mapping(**mapping), "t.csv")
    return row_to_record(plan, list(cells.values()))[0]


@pytest.mark.parametrize("cell,mapping,expected", [
    ("1.500 IU/mL", {"decimal_comma": True, "thousands": "."}, "1500 IU/mL"),
    ("<1.500,5 IU/mL", {"decimal_comma": True, "thousands": "."}, "<1500.5 IU/mL"),
    ("not detected (<1.500 IU/mL)", {"decimal_comma": True, "thousands": "."}, "not detected (<1500 IU/mL)"),
    ("not detected (<20,5 IU/mL)", {"decimal_comma": True}, "not detected (<20.5 IU/mL)"),
    ("not detected", {"decimal_comma": True}, "not detected"),
    ("1,5 mL/min/1.73m2", {"decimal_comma": True}, "1.5 mL/min/1.73m2"),   # the unit's own dot
    ("1.500 IU/mL", {}, "1.500 IU/mL"),                                      # a decimal point file
])
def test_record_gets_plain_numbers(cell, mapping, expected):
    assert _record({"id": "x", "hbv_dna": cell}, **mapping)["labs"]["hbv_dna"] == expected


@pytest.mark.parametrize("cell", ["not detected (<1.500 IU/mL)", "1.500", "<1.500 IU/mL"])
def test_record_refuses_a_dot_in_decimal_comma(cell):
    with pytest.raises(RowError) as info:
        _record({"id": "x", "hbv_dna": cell}, decimal_comma=True)
    assert info.value.column == "hbv_dna"
    assert "a number with a dot in a decimal-comma file" in info.value.message


def test_mapped_values_are_the_mappings_notation():
    """A coded value the mapping gives (YAML: 35.5) is not read in the file's notation."""
    mapping = Mapping(columns={"del(17p)_percent": MappingEntry(None, None, {"high": "35.5"})},
                      decimal_comma=True)
    plan = plan_columns(["id", "del(17p)", "del(17p)_percent"], mapping, "t.csv")
    record, _ = row_to_record(plan, ["x", "detected", "high"])
    assert record["cytogenetics"]["del(17p)"]["percent"] == 35.5


@pytest.mark.parametrize("text,decimal_comma,thousands,expected", [
    # the default: unchanged
    ("1.4 mg/dL", False, None, (None, 1.4, "mg/dL")),
    ("1.500 IU/mL", False, None, (None, 1.5, "IU/mL")),
    ("1,5", False, None, ValueError),
    ("<10 %", False, None, ("<", 10.0, "%")),
    # a decimal comma: a dot in the number is refused
    ("1,5", True, None, (None, 1.5, "")),
    ("≤ 2,5 %", True, None, ("<=", 2.5, "%")),
    ("1.500 IU/mL", True, None, ValueError),
    ("1.500,5", True, None, ValueError),
    ("1.5", True, None, ValueError),
    (".5", True, None, ValueError),
    ("1,5,3", True, None, ValueError),
    ("1,5 mL/min/1.73m2", True, None, (None, 1.5, "mL/min/1.73m2")),
    ("60 mL/min/1.73m2", True, None, (None, 60.0, "mL/min/1.73m2")),
    # thousands only where allowed, and only between groups of three digits
    ("1.500 IU/mL", True, ".", (None, 1500.0, "IU/mL")),
    ("1.500,5", True, ".", (None, 1500.5, "")),
    ("75.000 /mm3", True, ".", (None, 75000.0, "/mm3")),
    ("<1.500", True, ".", ("<", 1500.0, "")),
    ("1.50", True, ".", ValueError),
    ("1.5000", True, ".", ValueError),
    (".5", True, ".", ValueError),
    ("1 500,5 g/L", True, " ", (None, 1500.5, "g/L")),
    ("1\u202f500 IU/mL", True, "\u202f", (None, 1500.0, "IU/mL")),
    ("1 5000", True, " ", ValueError),
    ("2 10^9/L", True, " ", (None, 2.0, "10^9/L")),
    ("1,500.5 mg", False, ",", (None, 1500.5, "mg")),
    ("1,50", False, ",", ValueError),
    # a decimal mark that is also the thousands separator: refused
    ("1.500", False, ".", ValueError),
    ("1,500", True, ",", ValueError),
])
def test_split_value(text, decimal_comma, thousands, expected):
    if expected is ValueError:
        with pytest.raises(ValueError):
            split_value(text, decimal_comma, thousands)
    else:
        assert split_value(text, decimal_comma, thousands) == expected


def test_split_value_default_is_unchanged():
    assert split_value("1.500 IU/mL") == (None, 1.5, "IU/mL")
    assert split_value("1,5", decimal_comma=True) == (None, 1.5, "")
    with pytest.raises(ValueError):
        split_value("1.500 IU/mL", decimal_comma=True)

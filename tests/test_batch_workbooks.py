"""Excel workbooks as a user meets them (review of issue 14's inputs): error cells (#N/A from a
failed VLOOKUP), percent-formatted cells and date cells under a mapping's date_format read as the
CSV Excel saves from the sheet would hold them, never as an empty cell or a number 100 times off.
The workbooks are written by tests/test_batch_inputs.py's write_xlsx (zipfile and minimal XML)."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

from conftest import ROOT
from test_batch_inputs import EXAMPLE, ErrorCell, Formula, Percent, _example_sheet, summary_of, write_xlsx


def _with(header: list, row: list, column: str, value, pid: str) -> list:
    out = list(row)
    out[0], out[header.index(column)] = pid, value
    return out


_ERROR_COLUMNS = ("allergies", "neoplasms", "sex", "transplant_candidate", "anc")


def test_an_error_cell_is_never_an_empty_cell(run, tmp_path):
    header, *body = _example_sheet()
    b001 = body[0]
    rows = [header, b001] + [_with(header, b001, c, ErrorCell("#N/A"), f"err:{c}") for c in _ERROR_COLUMNS]
    rows.append(_with(header, b001, "weight", ErrorCell("#REF!"), "err:weight"))    # a column no trial reads
    write_xlsx(tmp_path / "errors.xlsx", {"Patients": rows})
    out, summary, stderr, code = summary_of(run, tmp_path, tmp_path / "errors.xlsx")
    verdicts = {r["id"]: r["verdict"] for r in out}
    assert verdicts["B-001"] == "eligible"
    assert verdicts == {"B-001": "eligible", "err:allergies": "needs_review", "err:neoplasms": "error",
                        "err:sex": "error", "err:transplant_candidate": "error", "err:anc": "needs_review",
                        "err:weight": "eligible"}, stderr
    errors = {r["id"]: r["error"] for r in out if r["error"]}
    assert errors["err:neoplasms"].startswith("row 4, column 'neoplasms': ")
    assert errors["err:sex"].startswith("row 5, column 'sex': ")
    assert errors["err:transplant_candidate"].startswith("row 6, column 'transplant_candidate': ")
    anc = next(r for r in out if r["id"] == "err:anc")
    assert "labs.anc (column 'anc': " in anc["missing"]
    assert "'#N/A' one of" in next(r for r in out if r["id"] == "err:allergies")["missing"]
    assert code == 1 and summary["error_rows"] == 3 and summary["unusable_cells"] == 1


def test_an_error_cell_reads_as_the_csv_excel_saves(run, tmp_path):
    """The CSV saved from the sheet holds the text #N/A: both give the same rows."""
    header, *body = _example_sheet()
    cells = [_with(header, body[0], c, ErrorCell("#DIV/0!"), f"e:{c}") for c in _ERROR_COLUMNS]
    write_xlsx(tmp_path / "book.xlsx", {"S": [header, *cells]})
    text = [next(csv.reader([line])) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()[:2]]
    saved = tmp_path / "saved.csv"
    with saved.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(
            [text[0], *[_with(text[0], text[1], c, "#DIV/0!", f"e:{c}") for c in _ERROR_COLUMNS]])
    from_book, _, stderr, code = summary_of(run, tmp_path, tmp_path / "book.xlsx")
    from_csv, _, _, csv_code = summary_of(run, tmp_path, saved)
    assert from_book == from_csv and code == csv_code == 1, stderr


def test_a_formula_without_its_result_is_not_an_empty_cell(run, tmp_path):
    """A workbook saved by a program that does not calculate holds a formula and no result: the
    cell is its formula (=1/0), which its column cannot read, never an empty cell."""
    header, *body = _example_sheet()
    computed = Formula("0+1")
    computed.cached = 1
    rows = [header, _with(header, body[0], "ecog", Formula("1/0"), "P-1"),
            _with(header, body[0], "ecog", computed, "P-2")]
    write_xlsx(tmp_path / "formulas.xlsx", {"S": rows})
    out, summary, stderr, code = summary_of(run, tmp_path, tmp_path / "formulas.xlsx")
    assert [(r["id"], r["verdict"]) for r in out] == [("P-1", "error"), ("P-2", "eligible")], stderr
    assert out[0]["error"].startswith("row 2, column 'ecog': ")
    assert code == 1 and summary["error_rows"] == 1


def _percent_book(tmp_path: Path, values: list) -> Path:
    header = ["id", "bm_plasma_cells", "bm_plasma_cells_date", "urine_m_protein", "urine_m_protein_date"]
    rows = [[f"P{i}", v, date(2025, 5, 28), "1.5 g/24 h", date(2025, 5, 28)] for i, v in enumerate(values)]
    write_xlsx(tmp_path / "percent.xlsx", {"Labs": [header, *rows]})
    return tmp_path / "percent.xlsx"


def _screen(run, path: Path, trial: str = "NCT00480363") -> list[dict]:
    out = path.with_suffix(".out.csv")
    result = run("batch", str(path), "--trial", trial, "--as-of", "2025-06-02", "--out", str(out), "-q")
    assert result.exit_code in (0, 1), result.stderr
    return list(csv.DictReader(out.open(encoding="utf-8")))


def test_a_percent_cell_is_its_percentage(run, tmp_path):
    """Excel shows 45% and stores 0.45: the CSV it saves holds 45%, and so does the batch's line."""
    book = _percent_book(tmp_path, [Percent(0.45), Percent(0.05)])
    saved = tmp_path / "percent.csv"
    saved.write_text("id,bm_plasma_cells,bm_plasma_cells_date,urine_m_protein,urine_m_protein_date\n"
                     "P0,45%,2025-05-28,1.5 g/24 h,2025-05-28\nP1,5%,2025-05-28,1.5 g/24 h,2025-05-28\n",
                     encoding="utf-8")
    from_book = _screen(run, book)
    assert [(r["id"], r["I3"]) for r in from_book] == [("P0", "pass"), ("P1", "unknown")]  # >= 10 % read right
    assert from_book == _screen(run, saved)


def test_percent_samples_and_a_format_with_decimals(run, tmp_path):
    shown = Percent(0.455)
    shown.decimals = True                               # 0.0%: Excel shows 45.5%
    book = _percent_book(tmp_path, [Percent(0.45), shown, 0.45])
    result = run("columns", str(book), "--trial", "NCT00480363", "--format", "json")
    assert result.exit_code == 0, result.stderr
    import json

    column = next(c for c in json.loads(result.stdout)["columns"] if c["column"] == "bm_plasma_cells")
    assert [s["cell"] for s in column["samples"]] == ["45%", "45.5%", "0.45"]


def _si_workbook(tmp_path: Path) -> Path:
    """examples/batch/si-export.csv as the workbook it was saved from: its dd.mm.yyyy dates date
    cells, its decimal-comma numbers number cells."""
    lines = (ROOT / "examples" / "batch" / "si-export.csv").read_text(encoding="cp1252").splitlines()[1:]

    def typed(text: str):
        m = re.fullmatch(r"(\d\d)\.(\d\d)\.(\d{4})", text)
        if m:
            return date(int(m[3]), int(m[2]), int(m[1]))
        if re.fullmatch(r"-?\d+(,\d+)?", text):
            return float(text.replace(",", ".")) if "," in text else int(text)
        return text or None

    rows = [[typed(c) for c in row] for row in csv.reader(lines, delimiter=";")]
    assert any(isinstance(c, date) for c in rows[1])
    write_xlsx(tmp_path / "si.xlsx", {"Export": rows})
    return tmp_path / "si.xlsx"


def test_date_cells_with_a_mapping_date_format(run, tmp_path):
    """The mapping's date_format (dd.mm.yyyy) says how the CSV writes dates; a date cell is a date."""
    mapping = ROOT / "examples" / "batch" / "si-export-columns.yaml"
    book_rows, book_summary, stderr, book_code = summary_of(run, tmp_path, _si_workbook(tmp_path),
                                                            "--columns", mapping)
    csv_rows, _, _, csv_code = summary_of(run, tmp_path, ROOT / "examples" / "batch" / "si-export.csv",
                                          "--columns", mapping)
    assert book_summary["error_rows"] == 0, stderr
    assert [(r["id"], r["verdict"]) for r in book_rows] == [(r["id"], r["verdict"]) for r in csv_rows]
    assert book_code == csv_code


def test_a_date_cell_is_never_written_as_another_date():
    """A date_format the date cannot be read back from (yy: 1948 would read as 2048) gives the ISO
    date, which that column then refuses: an error row, never a patient 100 years younger."""
    from trialscreen.batch.workbook import cell_text

    assert cell_text(date(1948, 10, 5), date_format="%d.%m.%Y") == "05.10.1948"
    assert cell_text(date(1998, 10, 5), date_format="%d.%m.%y") == "05.10.98"
    assert cell_text(date(1948, 10, 5), date_format="%d.%m.%y") == "1948-10-05"


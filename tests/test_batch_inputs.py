"""What `batch` and `screen` read, as a user meets it (issue 14, items 4 and 5): CSV files as Excel
and registries write them (a 'sep=' first line, blank rows, one id on several rows), Excel
workbooks, JSON Lines and folders of JSON records, and Ctrl-C in the middle of a batch."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import ROOT
from trialscreen_cli.main import app

TRIAL = "NCT05378971"
HEADER = "id;age;ecog;creatinine [mg/dL]"
EXAMPLE = ROOT / "examples" / "batch" / "patients.csv"
ELIGIBLE = ROOT / "examples" / "patients" / "NCT05378971-eligible.json"


def rows_of(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text)))


def batch(run, *args):
    """`batch ... --trial NCT05378971 --as-of 2025-06-02`: typer's Result."""
    return run("batch", *map(str, args), "--trial", TRIAL, "--as-of", "2025-06-02")


def summary_of(run, tmp_path: Path, *args) -> tuple:
    """Run a batch into out.csv with --summary: (rows, summary dict, stderr, exit code)."""
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = batch(run, *args, "--out", out, "--summary", summary)
    data = json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}
    return (rows_of(out) if out.exists() else []), data, result.stderr, result.exit_code


# --- Ctrl-C ----------------------------------------------------------------------------------

def _big_csv(path: Path, rows: int) -> None:
    header, *body = EXAMPLE.read_text(encoding="utf-8").splitlines()
    with path.open("w", encoding="utf-8") as f:
        f.write(header + "\n")
        for i in range(rows):
            line = body[i % len(body)]
            f.write(f"P-{i:07d}" + line[line.index(","):] + "\n")


# The child restores Python's own SIGINT handler: a process started in the background by a shell
# without job control inherits SIGINT ignored, and Python then installs no handler at all.
_CHILD = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "from trialscreen_cli.main import run; sys.argv[0] = 'trialscreen'; run(sys.argv[1:])")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_ctrl_c_keeps_the_complete_rows_and_exits_130(tmp_path, suffix):
    source, out = tmp_path / "big.csv", tmp_path / f"out{suffix}"
    _big_csv(source, 300_000)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "cli")])}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, "batch", str(source), "--trial", TRIAL,
                              "--as-of", "2025-06-02", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size < 200_000) and time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    said = lines[0]
    assert said.startswith("trialscreen: interrupted after ") and f"written so far are in {out}" in said, said
    written = int(said.split("after ")[1].split(" rows")[0].replace(",", ""))
    assert f"; the {written:,} rows written so far" in said
    assert 0 < written < 300_000
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    rows = rows_of(out)               # every line parses
    assert len(rows) == written
    ids = [r["id"] if suffix == ".csv" else r["patient"]["id"] for r in rows]
    assert ids == [f"P-{i:07d}" for i in range(written)]      # in order, none cut short
    if suffix == ".csv":
        assert all(r["row"].isdigit() and r["verdict"] for r in rows)


@pytest.mark.parametrize("module, source", [
    ("trialscreen.batch.records", ROOT / "examples" / "patients"),
    ("trialscreen.fhir.run", ROOT / "tests" / "data" / "fhir-bulk-10-patients"),
])
def test_ctrl_c_in_a_batch_of_records_or_a_fhir_export(run, tmp_path, monkeypatch, module, source):
    """Ctrl-C after the second patient (the third one's screening is interrupted)."""
    import importlib

    target = importlib.import_module(module)
    screen_patient, calls = target.screen_patient, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return screen_patient(*args, **kwargs)

    monkeypatch.setattr(target, "screen_patient", interrupted)
    out = tmp_path / "out.csv"
    result = run("batch", source, "--trial", TRIAL, "--as-of", "2023-06-01", "--out", out)
    assert result.exit_code == 130
    assert f"trialscreen: interrupted after 2 rows; the 2 rows written so far are in {out}" in result.stderr
    assert len(rows_of(out)) == 2


def test_ctrl_c_before_any_row_keeps_no_file(run, tmp_path, monkeypatch):
    import trialscreen.batch.records as records

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(records, "screen_patient", interrupted)
    out = tmp_path / "out.jsonl"
    result = run("batch", ROOT / "examples" / "patients", "--trial", TRIAL, "--out", out)
    assert result.exit_code == 130
    assert f"interrupted before any row was written; {out} was not kept" in result.stderr
    assert not out.exists()


def test_the_complete_lines_of_a_file_cut_short(tmp_path):
    from trialscreen_cli.shared import complete_lines

    cut = tmp_path / "cut.csv"
    cut.write_bytes(b"id,row\nA,2\nB,3\nC,")
    assert complete_lines(str(cut)) == 3
    assert cut.read_bytes() == b"id,row\nA,2\nB,3\n"
    whole = tmp_path / "whole.csv"
    whole.write_bytes(b"id,row\nA,2\n")
    assert complete_lines(str(whole)) == 2 and whole.read_bytes() == b"id,row\nA,2\n"


# --- CSV: Excel's sep= line, blank rows, repeated ids -------------------------------------------

def _run(tmp_path: Path, text: str, *more: str):
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["batch", str(src), "--trial", "NCT05378971", "--as-of", "2025-06-02",
                                      "--out", str(out), "--summary", str(summary), *more])
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))) if out.exists() else []
    data = json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}
    return result, rows, data


def test_a_sep_line_names_the_delimiter_and_is_not_the_header(tmp_path):
    result, rows, _ = _run(tmp_path, "sep=;\n" + HEADER + "\nP1;64;1;1,0\nP2;70;2;1,2\n", "--decimal-comma")
    assert result.exit_code == 0, result.stderr
    assert [(r["id"], r["row"]) for r in rows] == [("P1", "3"), ("P2", "4")]     # file lines, sep= counted


def test_a_sep_line_wins_over_what_the_header_looks_like(tmp_path):
    # the header has more commas than semicolons: without sep= it would be read as comma-delimited
    result, rows, _ = _run(tmp_path, "sep=;\nid;note\nP1;a,b,c\n")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in rows] == ["P1"]


@pytest.mark.parametrize("blank", [";;;", "", " ; ;;"])
def test_blank_rows_are_skipped_and_counted(tmp_path, blank):
    result, rows, summary = _run(tmp_path, f"{HEADER}\nP1;64;1;1.0\n{blank}\n{blank}\nP2;70;2;1.2\n")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in rows] == ["P1", "P2"]
    assert summary["blank_rows"] == 2 and summary["error_rows"] == 0
    assert "2 blank row(s) skipped" in result.stderr


def _repeated(n: int) -> str:
    return HEADER + "\n" + "".join(f"{'H-1' if i % 3 == 0 else f'P{i}'};64;1;1.0\n" for i in range(n))


def test_an_id_on_several_rows_is_named_in_the_summary(tmp_path):
    result, rows, summary = _run(tmp_path, _repeated(9))
    assert result.exit_code == 0, result.stderr
    assert len(rows) == 9 and summary["duplicate_ids"] == 2
    said = [w for w in summary["warnings"] if w.startswith("ID H-1")]
    assert said == ["ID H-1 appears 3 times (rows 2, 5, 8)"]


def test_duplicate_ids_can_be_errors(tmp_path):
    result, rows, summary = _run(tmp_path, _repeated(9), "--duplicate-ids", "error")
    assert result.exit_code == 1
    errors = [r for r in rows if r["verdict"] == "error"]
    assert [(r["id"], r["row"]) for r in errors] == [("H-1", "5"), ("H-1", "8")]
    assert all("given first at row 2" in r["error"] for r in errors)
    assert rows[0]["verdict"] != "error"


def test_many_repeated_ids_are_listed_within_bounds(tmp_path):
    text = HEADER + "\n" + "".join(f"P{i % 30};64;1;1.0\n" for i in range(300))
    _, rows, summary = _run(tmp_path, text)
    said = [w for w in summary["warnings"] if w.startswith("ID ") or "more ids" in w]
    assert len(said) == 21 and said[-1] == "... and 10 more ids given on several rows"
    assert said[0].startswith("ID P0 appears 10 times (rows 2, 32, ")


# --- CSV: a quote that is not closed --------------------------------------------------------

_QUOTED = "id,ecog,sex\nP1,1,female\nP2,1,female\n{bad}\nP4,1,female\nP5,1,female\nP6,1,female\n"


@pytest.mark.parametrize("bad", ['P3,1,"female', 'P3,1,female,"see note'])
def test_an_unclosed_quote_is_an_error_row_and_the_rows_after_it_are_read(tmp_path, bad):
    result, rows, summary = _run(tmp_path, _QUOTED.format(bad=bad))
    assert result.exit_code == 1
    assert [(r["id"], r["row"], r["verdict"] == "error") for r in rows] == [
        ("P1", "2", False), ("P2", "3", False), ("row 4", "4", True), ("P4", "5", False), ("P5", "6", False),
        ("P6", "7", False)]
    assert rows[2]["error"].startswith("row 4: unreadable CSV: a quote opened in this row is not closed")
    assert "the next 3 line(s)" in rows[2]["error"]
    assert summary["rows_in"] == 6 and summary["error_rows"] == 1


def test_a_quote_closed_rows_later_merges_nothing(tmp_path):
    """The quote of row 4 is closed in row 6 and followed by more: rows 5 and 6 are rows again."""
    result, rows, summary = _run(tmp_path, _QUOTED.format(bad='P3,1,"female').replace("P5,1,female",
                                                                                       'P5,1,fe"male'))
    assert [(r["id"], r["row"]) for r in rows] == [("P1", "2"), ("P2", "3"), ("row 4", "4"), ("P4", "5"),
                                                   ("P5", "6"), ("P6", "7")]
    assert summary["rows_in"] == 6 and summary["error_rows"] >= 1 and result.exit_code == 1


def test_a_valid_multi_line_cell_is_the_row_of_its_first_line(tmp_path):
    result, rows, _ = _run(tmp_path, 'id,ecog,note\nP1,1,"two\nlines"\nP2,1,x\n')
    assert result.exit_code == 0, result.stderr
    assert [(r["id"], r["row"]) for r in rows] == [("P1", "2"), ("P2", "4")]


# --- Excel workbooks -------------------------------------------------------------------------

class ErrorCell(str):
    """A cell holding an Excel error value (#N/A, #REF!): a formula's cached result."""


class Formula(str):
    """A formula cell, with its cached result (a number) or none (saved by a program that does not
    calculate, as openpyxl)."""

    cached = None


class Percent(float):
    """A number cell with a percent format (Excel shows 45%, stores 0.45): 0%, or 0.0% with
    ``decimals``."""

    decimals = False


def write_xlsx(path: Path, sheets: dict) -> None:
    """A minimal .xlsx: {sheet name: rows}; a cell is text, a number, a bool, a date or a datetime
    (stored as Excel stores them: a serial number with a date format), an ErrorCell, a Percent, a
    Formula, or None (no cell)."""
    import zipfile
    from datetime import date, datetime
    from xml.sax.saxutils import escape

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"

    def cell(ref: str, value) -> str:
        if value is None:
            return ""
        if isinstance(value, ErrorCell):
            return f'<c r="{ref}" t="e"><f>VLOOKUP(A1,Other!A:B,2,FALSE)</f><v>{escape(value)}</v></c>'
        if isinstance(value, Formula):
            return f'<c r="{ref}"><f>{escape(value)}</f><v>{"" if value.cached is None else value.cached}</v></c>'
        if isinstance(value, Percent):
            return f'<c r="{ref}" s="{4 if value.decimals else 3}"><v>{float(value)!r}</v></c>'
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, datetime):
            serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
            return f'<c r="{ref}" s="2"><v>{serial}</v></c>'
        if isinstance(value, date):
            return f'<c r="{ref}" s="1"><v>{(value - date(1899, 12, 30)).days}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"><v>{value!r}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'

    def column(i: int) -> str:
        name = ""
        i += 1
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(65 + rest) + name
        return name

    names = list(sheets)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.'
                      'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(len(names)))
            + '</Types>'))
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/'
                                  'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>' + "".join(
            f'<sheet name="{escape(n)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
            + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}">' + "".join(
            f'<Relationship Id="rId{i + 1}" Type="{rel}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(names))) + f'<Relationship Id="rId{len(names) + 1}" Type="{rel}/styles" '
            'Target="styles.xml"/></Relationships>')
        z.writestr("xl/styles.xml", (
            f'<styleSheet xmlns="{main}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>'
            '<numFmt numFmtId="165" formatCode="0.0%"/></numFmts><fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/>'
            '</borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="5"><xf numFmtId="0"/>'
            '<xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/>'
            '<xf numFmtId="9" applyNumberFormat="1"/><xf numFmtId="165" applyNumberFormat="1"/></cellXfs>'
            '</styleSheet>'))
        for i, rows in enumerate(sheets.values()):
            body = "".join(f'<row r="{r}">' + "".join(cell(f"{column(c)}{r}", v) for c, v in enumerate(row))
                           + "</row>" for r, row in enumerate(rows, 1))
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", f'<worksheet xmlns="{main}"><sheetData>{body}'
                                                           '</sheetData></worksheet>')


def _typed(text: str):
    """A CSV cell as Excel holds it once typed in: a number, a date, or text ('' is no cell)."""
    import re
    from datetime import date

    if text == "":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        return date.fromisoformat(text)
    return text


def _example_sheet() -> list:
    return [[_typed(c) for c in row] for row in csv.reader(EXAMPLE.read_text(encoding="utf-8").splitlines())]


def test_a_workbook_gives_the_same_rows_as_its_csv(run, tmp_path):
    sheet = _example_sheet()
    assert any(isinstance(c, float) for row in sheet for c in row)      # numbers and dates are typed cells
    book = tmp_path / "patients.xlsx"
    write_xlsx(book, {"Patients": sheet})
    expected, expected_summary, _, code = summary_of(run, tmp_path, EXAMPLE)
    rows, summary, stderr, book_code = summary_of(run, tmp_path, book)
    assert book_code == code, stderr
    assert rows == expected
    assert summary["rows_in"] == expected_summary["rows_in"] and summary["trials"] == expected_summary["trials"]


def test_a_sheet_by_name_else_the_first(run, tmp_path):
    header, *body = _example_sheet()
    book = tmp_path / "book.xlsx"
    write_xlsx(book, {"Notes": [["id"], ["not a patient"]], "Screening": [header, body[0], [None] * len(header),
                                                                           body[1]]})
    rows, summary, stderr, code = summary_of(run, tmp_path, book, "--sheet", "Screening")
    assert [r["id"] for r in rows] == ["B-001", "B-002"] and [r["row"] for r in rows] == ["2", "4"]
    assert summary["blank_rows"] == 1
    first, _, _, _ = summary_of(run, tmp_path, book)
    assert [r["id"] for r in first] == ["not a patient"]
    wrong = batch(run, book, "--sheet", "Screen", "-q")
    assert wrong.exit_code == 2
    assert "the workbook" in wrong.stderr and "has no sheet 'Screen'" in wrong.stderr
    assert "its sheets: 'Notes', 'Screening'" in wrong.stderr


def test_sheet_is_for_workbooks_only(run):
    result = batch(run, EXAMPLE, "--sheet", "Patients", "-q")
    assert result.exit_code == 2 and "--sheet names a sheet of an Excel workbook" in result.stderr


def test_a_file_that_is_not_a_workbook(run, tmp_path):
    fake = tmp_path / "export.xlsx"
    fake.write_text("id,age\nA,50\n", encoding="utf-8")
    result = batch(run, fake, "-q")
    assert result.exit_code == 65, result.stderr
    assert "cannot be read as an Excel workbook" in result.stderr and "Traceback" not in result.stderr


def test_cells_read_as_the_csv_excel_saves():
    from datetime import date, datetime, time

    from trialscreen.batch.sources import cell_text

    assert [cell_text(v) for v in (61.0, 61.5, 0.1 + 0.2, 1e-05, -3.0, 7)] == ["61", "61.5", "0.3", "0.00001", "-3", "7"]
    assert cell_text(40.5, decimal_comma=True) == "40,5"
    assert cell_text(date(2025, 5, 28)) == "2025-05-28"
    assert cell_text(datetime(2025, 5, 28, 14, 30)) == "2025-05-28T14:30:00"
    assert cell_text(time(14, 30)) == "14:30:00"
    assert (cell_text(True), cell_text(False), cell_text("x")) == ("TRUE", "FALSE", "x")


def _verdicts(rows) -> list:
    return [(r["id"], r["verdict"]) for r in rows]


def test_a_workbook_with_a_decimal_comma(run, tmp_path):
    """Its number cells are written with a decimal comma, as its text cells are ('2,1 x10^9/L')."""
    import re

    header, *body = _example_sheet()
    assert any(isinstance(c, float) for row in body for c in row)
    book = tmp_path / "comma.xlsx"
    write_xlsx(book, {"S": [header, *[[re.sub(r"(\d)\.(\d)", r"\1,\2", c) if isinstance(c, str) else c
                                       for c in row] for row in body]]})
    rows, _, stderr, code = summary_of(run, tmp_path, book, "--decimal-comma")
    expected, _, _, expected_code = summary_of(run, tmp_path, EXAMPLE)
    assert _verdicts(rows) == _verdicts(expected) and code == expected_code, stderr


# --- JSON patient records --------------------------------------------------------------------

RECORDS = sorted((ROOT / "examples" / "patients").glob("NCT05378971-*.json"))


def _jsonl(tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "patients.jsonl"
    lines = [json.dumps(json.loads(p.read_text(encoding="utf-8"))) for p in RECORDS]
    path.write_text("\n".join([*lines[:2], *extra, "", *lines[2:]]) + "\n", encoding="utf-8")
    return path


def _screened(run, path: Path) -> dict:
    result = run("screen", str(path), "--trial", TRIAL, "--as-of", "2025-06-02", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return {r["patient"]["id"]: r["verdict"] for r in json.loads(result.stdout)}


def test_json_lines_one_output_row_per_record_as_screen_says(run, tmp_path):
    expected = {}
    for p in RECORDS:
        expected.update(_screened(run, p))
    rows, summary, stderr, code = summary_of(run, tmp_path, _jsonl(tmp_path))
    assert code == 0, stderr
    assert {r["id"]: r["verdict"] for r in rows} == expected
    assert [r["row"] for r in rows] == ["1", "2", "3", "4"]          # each record's position
    assert summary["rows_in"] == 4


def test_a_record_that_cannot_be_read_is_an_error_row_and_the_batch_goes_on(run, tmp_path):
    bad = json.loads(RECORDS[0].read_text(encoding="utf-8"))
    bad["id"], bad["ecog"] = "BAD-ECOG", 9
    path = _jsonl(tmp_path, '{"id": "broken", ', json.dumps(bad))
    rows, summary, stderr, code = summary_of(run, tmp_path, path)
    assert code == 1
    assert len(rows) == 6 and summary["error_rows"] == 2
    errors = {r["id"]: r["error"] for r in rows if r["verdict"] == "error"}
    assert set(errors) == {f"{path} line 3", "BAD-ECOG"}
    assert errors[f"{path} line 3"].startswith(f"{path}:3")
    assert errors["BAD-ECOG"].startswith(f"{path}:4") and "ecog" in errors["BAD-ECOG"]
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5", "6"]


def test_a_folder_and_several_json_files_give_the_rows_of_their_json_lines(run, tmp_path):
    folder = tmp_path / "patients"
    folder.mkdir()
    for p in RECORDS:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "README.txt").write_text("not a record", encoding="utf-8")
    lines, _, _, _ = summary_of(run, tmp_path, _jsonl(tmp_path))
    by_folder, summary, stderr, code = summary_of(run, tmp_path, folder)
    assert code == 0, stderr
    by_files, _, _, _ = summary_of(run, tmp_path, *sorted(folder.glob("*.json")))
    key = sorted((r["id"], r["verdict"], r["failed"], r["unknown"]) for r in lines)
    assert sorted((r["id"], r["verdict"], r["failed"], r["unknown"]) for r in by_folder) == key
    assert by_files == by_folder


def test_what_a_folder_holds_besides_records_is_named_once(run, tmp_path):
    """A CSV, a text file, an editor's backup and a subfolder of records are not read: the summary
    says so, once, with their names."""
    folder = tmp_path / "patients"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.json").write_bytes(ELIGIBLE.read_bytes())
    (folder / "sub" / "c.json").write_bytes(ELIGIBLE.read_bytes())
    (folder / "a.json~").write_bytes(ELIGIBLE.read_bytes())
    (folder / "p.csv").write_bytes(EXAMPLE.read_bytes())
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0")
    rows, summary, stderr, code = summary_of(run, tmp_path, folder)
    assert code == 0 and len(rows) == 1 and summary["rows_in"] == 1, stderr
    assert summary["notes"] == [f"not read in {folder}: 3 file(s) that are not patient records (.json, .jsonl): "
                                "a.json~, notes.txt, p.csv; 1 folder(s): sub; 1 hidden file(s) or folder(s)"]
    assert "a.json~, notes.txt, p.csv" in " ".join(stderr.split())


def test_a_json_file_that_cannot_be_read_is_an_error_row_naming_it(run, tmp_path):
    folder = tmp_path / "patients"
    folder.mkdir()
    (folder / "a.json").write_bytes(RECORDS[0].read_bytes())
    (folder / "b.json").write_text('{"id": "x",\n "age": }', encoding="utf-8")
    rows, summary, stderr, code = summary_of(run, tmp_path, folder)
    assert code == 1
    error = next(r for r in rows if r["verdict"] == "error")
    assert error["id"] == str(folder / "b.json") and error["error"].startswith(f"{folder / 'b.json'}:2")
    assert summary["rows_in"] == 2


def test_repeated_record_ids_are_said_too(run, tmp_path):
    one = RECORDS[0].read_text(encoding="utf-8")
    path = tmp_path / "twice.jsonl"
    path.write_text(json.dumps(json.loads(one)) + "\n" + json.dumps(json.loads(one)) + "\n", encoding="utf-8")
    rows, summary, _, code = summary_of(run, tmp_path, path, "--duplicate-ids", "error")
    pid = json.loads(one)["id"]
    assert code == 1 and [r["verdict"] == "error" for r in rows] == [False, True]
    assert f"id {pid} was given first at row 1" in rows[1]["error"]
    assert summary["duplicate_ids"] == 1
    assert f"ID {pid} appears 2 times (rows 1, 2): every row after the first is an error" in summary["warnings"]


def test_a_folder_of_an_export_and_records_is_a_usage_error(run, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "p1"}\n', encoding="utf-8")
    (folder / "a.json").write_bytes(RECORDS[0].read_bytes())
    result = batch(run, folder, "-q")
    assert result.exit_code == 2
    assert ("holds both a FHIR Bulk Data export (Patient.ndjson) and JSON patient records (a.json): one folder "
            "is read as one kind") in result.stderr
    (folder / "a.json").unlink()
    (folder / "manifest.json").write_text('{"transactionTime": "2025-01-01", "output": []}', encoding="utf-8")
    assert "holds both" not in batch(run, folder, "-q").stderr        # a Bulk Data manifest is the export's


def test_an_empty_folder_and_csv_options_with_records(run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = batch(run, empty, "-q")
    assert result.exit_code == 2 and "holds no patient records" in result.stderr
    result = batch(run, _jsonl(tmp_path), "--delimiter", ";", "-q")
    assert result.exit_code == 2 and "--columns and --delimiter are for CSV files and workbooks" in result.stderr
    result = batch(run, EXAMPLE, RECORDS[0], "-q")
    assert result.exit_code == 2 and "several inputs are JSON patient records" in result.stderr
    assert batch(run, tmp_path / "nowhere.json", "-q").exit_code == 66


def test_screen_several_files_a_folder_and_json_lines(run, tmp_path):
    folder = tmp_path / "patients"
    folder.mkdir()
    for p in RECORDS:
        (folder / p.name).write_bytes(p.read_bytes())
    each = {}
    for p in RECORDS:
        each.update(_screened(run, p))
    assert _screened(run, folder) == each
    assert _screened(run, _jsonl(tmp_path)) == each
    result = run("screen", str(RECORDS[0]), str(RECORDS[1]), "--trial", TRIAL, "--as-of", "2025-06-02")
    assert result.exit_code == 0
    assert result.stdout.startswith("Which trials could these patients enter?\nPatient")


def test_screen_a_bad_line_is_the_error_after_the_others_are_screened(run, tmp_path):
    result = run("screen", str(_jsonl(tmp_path, "[1, 2]")), "--trial", TRIAL, "--as-of", "2025-06-02",
                 "--format", "json")
    assert result.exit_code == 65
    assert len(json.loads(result.stdout)) == 4
    assert "patients.jsonl:3" in result.stderr and "must be a JSON object" in result.stderr


def test_a_cell_warning_many_rows_share_keeps_a_few_rows_and_a_count(tmp_path):
    """One warning line for 3,000 rows, and the summary keeps five rows and a count for it, not
    one entry per row (memory stays flat whatever the row count)."""
    from trialscreen.batch.run import run_batch
    from trialscreen.criteria.library import load_trial
    from trialscreen.render.batch import Writer

    text = HEADER + "\n" + "".join(f"P{i};64;1;1.0 parsecs\n" for i in range(3000))
    trials = [load_trial(TRIAL)]
    summary = run_batch(io.StringIO(text, newline=None), "in.csv", trials, Writer(io.StringIO(), "csv", trials))
    said = [w for w in summary.warnings if "creatinine" in str(w)]
    assert len(said) == 1 and said[0].endswith(": 3,000 rows (2, 3, 4, 5, 6 and 2,995 more)"), said
    assert summary.unusable_cells == 3000
    assert all(len(rows) <= 5 for _, rows in summary.cell_warnings.values())


def test_a_blank_first_row_is_said_as_such_not_an_empty_file(run, tmp_path):
    (tmp_path / "lead.csv").write_text("\n;;\nid,ecog,sex\nP1,1,female\n", encoding="utf-8")
    write_xlsx(tmp_path / "lead.xlsx", {"S": [[None], [None], ["id", "ecog"], ["P1", 1]]})
    (tmp_path / "blank.csv").write_text("\n\n ,\n", encoding="utf-8")
    for name in ("lead.csv", "lead.xlsx"):
        result = batch(run, tmp_path / name, "-q")
        assert result.exit_code == 65
        assert "the first row is blank: the header row must be the first" in result.stderr
        assert "empty" not in result.stderr
    assert "the file is empty" in batch(run, tmp_path / "blank.csv", "-q").stderr


def test_columns_with_no_name_are_said_by_position(tmp_path):
    result, rows, summary = _run(tmp_path, "id,ecog,,,\nP1,1,,,\n")
    assert result.exit_code == 0 and len(rows) == 1, result.stderr
    said = [w for w in summary["warnings"] if "no name" in w]
    assert len(said) == 1 and said[0].endswith(
        "3 columns have no name and are ignored (columns: 3, 4, 5) (name them in the header row, or leave them: "
        "nothing reads them)"), said
    assert not [w for w in summary["warnings"] if "not recognised" in w]

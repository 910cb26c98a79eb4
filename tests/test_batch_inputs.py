"""What `batch` and `screen` read besides one CSV file, as a user meets it (issue 14, items 4 and 5):
Excel workbooks, JSON Lines and folders of JSON records, Excel's blank rows and `sep=` line,
repeated ids, and Ctrl-C in the middle of a batch."""

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

from conftest import ROOT

TRIAL = "NCT05378971"
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


def test_the_complete_lines_of_a_file_cut_short(tmp_path):
    from trialscreen_cli.shared import complete_lines

    cut = tmp_path / "cut.csv"
    cut.write_bytes(b"id,row\nA,2\nB,3\nC,")
    assert complete_lines(str(cut)) == 3
    assert cut.read_bytes() == b"id,row\nA,2\nB,3\n"
    whole = tmp_path / "whole.csv"
    whole.write_bytes(b"id,row\nA,2\n")
    assert complete_lines(str(whole)) == 2 and whole.read_bytes() == b"id,row\nA,2\n"


# --- CSV: Excel's blank rows and sep= line, repeated ids -------------------------------------

def _example(ids=None) -> tuple[str, list[str]]:
    """The example CSV's header and rows; ``ids`` renames the rows in turn."""
    header, *body = EXAMPLE.read_text(encoding="utf-8").splitlines()
    if ids is not None:
        body = [pid + body[i % len(body)][body[i % len(body)].index(","):] for i, pid in enumerate(ids)]
    return header, body


def _verdicts(rows) -> list:
    return [(r["id"], r["verdict"]) for r in rows]


def test_excel_blank_rows_are_skipped_and_counted(run, tmp_path):
    header, body = _example()
    width = header.count(",")
    path = tmp_path / "blank.csv"
    path.write_text("\n".join([header, body[0], "," * width, body[1], "", "   ", ",,", body[2]]) + "\n",
                    encoding="utf-8")
    rows, summary, stderr, code = summary_of(run, tmp_path, path)
    assert code == 0, stderr
    assert [r["id"] for r in rows] == ["B-001", "B-002", "B-003"]
    assert [r["row"] for r in rows] == ["2", "4", "8"]       # the file's lines, blanks counted
    assert summary["blank_rows"] == 4 and summary["rows_in"] == 3 and summary["error_rows"] == 0
    assert "3 rows in, 3 rows out, 4 blank rows skipped" in stderr


@pytest.mark.parametrize("sep, said", [(";", "sep=;"), ("\t", "sep=\t"), ("\t", "sep=\\t"), ("|", "sep=|"),
                                       (",", "sep=,")])
def test_a_sep_line_names_the_delimiter_and_is_not_the_header(run, tmp_path, sep, said):
    header, body = _example()
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    expected, _, _, code = summary_of(run, tmp_path, plain)
    assert code == 0
    text = io.StringIO()
    csv.writer(text, delimiter=sep, lineterminator="\r\n").writerows(csv.reader([header, *body]))
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + said + "\r\n" + text.getvalue()).encode("utf-8"))
    rows, summary, stderr, code = summary_of(run, tmp_path, path)
    assert code == 0, stderr
    assert _verdicts(rows) == _verdicts(expected)
    assert [int(r["row"]) for r in rows] == [int(r["row"]) + 1 for r in expected]   # its lines, the sep= one too


def test_a_sep_line_with_nothing_after_it_is_an_empty_file(run, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("sep=;\n", encoding="utf-8")
    result = batch(run, path, "-q")
    assert result.exit_code == 65
    assert "the file is empty: it needs a header row" in result.stderr and ":2" in result.stderr


def _repeated_file(tmp_path) -> Path:
    ids = ["H-0001", "A", "H-0001", "B", "H-0001", "A", "C"]
    header, body = _example(ids)
    path = tmp_path / "repeats.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    return path


def test_repeated_ids_are_said_in_the_summary(run, tmp_path):
    rows, summary, stderr, code = summary_of(run, tmp_path, _repeated_file(tmp_path))
    assert code == 0, stderr
    assert len(rows) == 7 and not [r for r in rows if r["verdict"] == "error"]   # every row screened
    assert summary["duplicate_ids"] == [{"id": "H-0001", "times": 3, "rows": [2, 4, 6]},
                                        {"id": "A", "times": 2, "rows": [3, 7]}]
    said = [w for w in summary["warnings"] if w.startswith("ID ")]
    assert said[0].startswith("ID H-0001 appears 3 times (rows 2, 4, 6)")
    assert said[1] == "ID A appears 2 times (rows 3, 7)"
    assert "warning: ID H-0001 appears 3 times (rows 2, 4, 6)" in stderr


def test_duplicate_ids_error_makes_each_repeat_an_error_row(run, tmp_path):
    rows, summary, stderr, code = summary_of(run, tmp_path, _repeated_file(tmp_path), "--duplicate-ids", "error")
    assert code == 1
    errors = {r["row"]: r["error"] for r in rows if r["verdict"] == "error"}
    assert sorted(errors) == ["4", "6", "7"]
    assert errors["4"] == ("row 4, column 'id': the id H-0001 was given before, in row 2: a patient has one "
                           "row (--duplicate-ids error)")
    assert "in row 3" in errors["7"]
    assert [r["verdict"] != "error" for r in rows] == [True, True, False, True, False, False, True]
    assert summary["error_rows"] == 3
    assert "ID H-0001 appears 3 times (rows 2, 4, 6); the repeats are error rows" in summary["warnings"]


def test_many_repeats_are_listed_within_bounds():
    from trialscreen.batch.ids import SeenIds

    seen = SeenIds()
    for row in range(2, 52 + 2):
        seen.see("H-0001", row)
    for i in range(30):
        seen.see(f"X{i}", 100 + 2 * i)
        seen.see(f"X{i}", 101 + 2 * i)
    said = seen.sentences()
    assert said[0].startswith("ID H-0001 appears 52 times (rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...)")
    assert len(said) == 21 and said[-1] == "... and 11 more ids given more than once"

"""CSV files as Excel and registries write them: a 'sep=' first line, blank rows, one id on
several rows (issue 14)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialscreen_cli.main import app

ROOT = Path(__file__).resolve().parent.parent
HEADER = "id;age;ecog;creatinine [mg/dL]"


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

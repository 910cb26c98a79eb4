"""`trialscreen columns FILE [--columns MAP] [--trial ...]` (issue 14, item 3): each column, what it
maps to, its unit, whether the trials read it, sample cells as the batch reads them; exit 65
when the mapping has problems, each with its line. The table is a golden file."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, check_golden

BATCH = ROOT / "examples" / "batch"
EXAMPLES = [(p, p.with_name(p.stem + "-columns.yaml")) for p in sorted(BATCH.iterdir())
            if p.suffix in (".csv", ".tsv", ".xlsx") and p.with_name(p.stem + "-columns.yaml").exists()]




@pytest.mark.parametrize("export,mapping", EXAMPLES, ids=[e.name for e, _ in EXAMPLES])
def test_columns_on_every_example(run, export, mapping):
    """Every example export with its mapping: no problem, every column accounted for, the table golden."""
    rel = [str(p.relative_to(ROOT)) for p in (export, mapping)]
    result = run("columns", rel[0], "--columns", rel[1], "--trial", "NCT05378971")
    assert result.exit_code == 0, result.stderr
    check_golden(f"columns-{export.stem}.txt", result.stdout)
    data = json.loads(run("columns", rel[0], "--columns", rel[1], "--trial", "NCT05378971", "-f", "json").stdout)
    assert data["problems"] == []
    statuses = {c["status"] for c in data["columns"]}
    assert "used" in statuses and "problem" not in statuses
    for c in data["columns"]:
        for s in c["samples"]:
            assert not s["read"].startswith("error:") or c["status"] == "not used", (c["column"], s)


def test_columns_on_the_convention_file_without_a_mapping(run):
    result = run("columns", "examples/batch/patients.csv", "--trial", "NCT05378971", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    by = {c["column"]: c for c in data["columns"]}
    assert by["creatinine [mg/dL]"]["maps_to"] == "labs.creatinine" and by["creatinine [mg/dL]"]["unit"] == "mg/dL"
    assert by["weight"]["status"] == "not used" and by["id"]["status"] == "used"
    assert any("not used by NCT05378971" in n for n in data["notes"])


def test_a_mapping_with_problems_exits_65_and_lists_each(run, tmp_path):
    export = tmp_path / "f.tsv"
    export.write_text("PID\tECOG\tCREA\tB2M\tXX\n1\t1\t90\tjunk\t\n2\t-1\t80,5\t3\t\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("delimiter: tab\ncolumns:\n  PID: id\n  ECOG: {field: ecgo, missing: [\"-1\"]}\n"
                       "  CREA: {field: creatinine, unit: mmHg}\n  HB: hemoglobin\n", encoding="utf-8")
    result = run("columns", export, "--columns", mapping, "--trial", "NCT05378971")
    assert result.exit_code == 65
    out = result.stdout
    assert "m.yaml:4:17" in out and "did you mean 'ecog'" in out
    assert "m.yaml:5:35" in out and "mmHg" in out
    assert "m.yaml:6" in out and "'HB'" in out
    assert "3 problems in the mapping" in out
    data = json.loads(run("columns", export, "--columns", mapping, "--trial", "NCT05378971", "-f", "json").stdout)
    by = {c["column"]: c for c in data["columns"]}
    assert by["ECOG"]["status"] == by["CREA"]["status"] == "problem"
    assert by["XX"]["status"] == "not recognised" and by["B2M"]["status"] == "not used"
    assert [s["read"] for s in by["CREA"]["samples"]][0] == "90"
    assert by["CREA"]["samples"][1]["read"].startswith("error: not a number")
    # and batch refuses the same file before any row, with the same problems
    batch = run("batch", export, "--columns", mapping, "--trial", "NCT05378971", "--out", tmp_path / "o.csv")
    assert batch.exit_code == 65 and batch.stderr.count("trialscreen: error:") == 3


def test_columns_refuses_json_records(run):
    result = run("columns", "examples/patients/NCT05378971-eligible.json")
    assert result.exit_code == 2 and "not a CSV file" in result.stderr

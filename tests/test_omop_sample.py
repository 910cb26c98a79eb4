"""The public OMOP sample (28 synthetic Synthea persons, OHDSI's Synthea27Nj; tests/data/
omop-synthea27nj/README.md) screened against every bundled trial: what a data manager sees the
first time the route meets a real CDM, with vocabularies it only partly knows."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from trialscreen_cli.main import app

SAMPLE = Path(__file__).resolve().parent / "data" / "omop-synthea27nj"


def test_the_synthea_sample_screens_without_an_error(tmp_path):
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["omop", str(SAMPLE), "--as-of", "2022-10-01", "--out", str(out),
                                      "--summary", str(summary), "-q"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    data = json.loads(summary.read_text(encoding="utf-8"))
    persons = {r["id"] for r in rows}
    assert len(persons) == 28 and len(rows) == 28 * len(data["trials"])
    # nobody has a plasma-cell diagnosis, and no section is attested complete: never eligible
    assert Counter(r["verdict"] for r in rows)["eligible"] == 0
    assert all(r["error"] == "" for r in rows)
    # each concept nobody can place is reported once, with how many persons have it
    unplaced = [w for w in data["warnings"] if "is not in trialscreen's vocabularies" in w]
    assert unplaced and len(unplaced) == len(set(unplaced))
    labels = [w.split(" is not in")[0] for w in unplaced]
    assert len(labels) == len(set(labels))


def test_the_sample_is_read_in_person_id_order_and_limit_takes_the_first(tmp_path):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["omop", str(SAMPLE), "--as-of", "2022-10-01", "--trial", "NCT05378971",
                                      "--limit", "5", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    ids = [int(r["id"]) for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))]
    assert len(ids) == 5 and ids == sorted(ids)

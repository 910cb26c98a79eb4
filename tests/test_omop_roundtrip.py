"""Round trip: every golden case and example patient, exported as OMOP CDM tables
(`trialscreen export omop`) and screened from them (`trialscreen omop`), gets the verdict and the
criterion statuses it gets when screened from its JSON record."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from trialscreen.criteria.library import load_trial
from trialscreen.evaluate.screen import screen
from trialscreen.omop.export import export_records
from trialscreen.omop.run import read_attestations, run_omop
from trialscreen.omop.source import open_source
from trialscreen.patient.load import patient_from_dict
from trialscreen.render.batch import Writer

ROOT = Path(__file__).resolve().parent.parent


def _patients():
    for path in sorted((ROOT / "criteria" / "cases").glob("*/*.yaml")):
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        yield pytest.param(path.parent.name, case["patient"], case.get("as_of"), id=f"{path.parent.name}/{path.stem}")
    for path in sorted((ROOT / "examples" / "patients").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        yield pytest.param(path.stem.split("-")[0], record, record.get("as_of"), id=path.stem)


def _from_json(trial, record: dict, as_of: date) -> tuple:
    result = screen(trial, patient_from_dict(record, "record.json"), as_of)
    return _text(result.verdict), {c.id: _text(c.status) for c in result.criteria}


def _text(value) -> str:
    return getattr(value, "value", value)


def _from_omop(trial, folder: Path, as_of: date) -> tuple:
    out = io.StringIO()
    source = open_source(folder)
    try:
        summary = run_omop(source, [trial], Writer(out, "jsonl", [trial]), as_of=as_of,
                           attestations=read_attestations(str(folder / "attestations.csv")))
    finally:
        source.close()
    assert summary.error_rows == 0 and summary.internal_errors == 0, summary.errors
    (row,) = [json.loads(line) for line in out.getvalue().splitlines()]
    return row["verdict"], {c["id"]: c["status"] for c in row["criteria"]}


@pytest.mark.parametrize("trial_id, record, as_of", list(_patients()))
def test_a_record_screens_the_same_from_omop(trial_id, record, as_of, tmp_path):
    trial = load_trial(trial_id)
    when = date.fromisoformat(str(as_of)) if as_of else date(2025, 6, 1)
    export_records([record], tmp_path / "cdm", as_of=when)
    assert _from_omop(trial, tmp_path / "cdm", when) == _from_json(trial, record, when)


def test_export_omop_writes_the_tables_and_omop_reads_them_back(tmp_path):
    from typer.testing import CliRunner

    from trialscreen_cli.main import app

    example = ROOT / "examples" / "patients" / "NCT05378971-eligible.json"
    cdm = tmp_path / "cdm"
    result = CliRunner().invoke(app, ["export", "omop", str(example), "--out", str(cdm)])
    assert result.exit_code == 0, result.output
    assert "1 record(s) written" in result.output
    assert {p.name for p in cdm.iterdir()} >= {"PERSON.csv", "MEASUREMENT.csv", "CONCEPT.csv", "person_ids.csv",
                                               "attestations.csv"}
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["omop", str(cdm), "--trial", "NCT05378971", "--as-of", "2025-06-02",
                                      "--attestations", str(cdm / "attestations.csv"), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("1,NCT05378971,eligible,")


def test_export_omop_refuses_a_record_that_is_not_json(tmp_path):
    from typer.testing import CliRunner

    from trialscreen_cli.main import app

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["export", "omop", str(bad), "--out", str(tmp_path / "cdm")])
    assert result.exit_code == 65 and "bad.json" in result.output and "Traceback" not in result.output


def _edited(**changes) -> dict:
    record = json.loads((ROOT / "examples" / "patients" / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        record[key] = value(record[key]) if callable(value) else value
    return record


@pytest.mark.parametrize("record", [
    _edited(birth_date=" 1961-03-15 "),                                      # spaces the JSON reader accepts
    _edited(cytogenetics=lambda c: {**c, "del(17p)": {"result": "not detected", "method": "FISH", "percent": 0}}),
    _edited(treatments=lambda t: [*t, {"type": "maintenance", "start": "2025-03-01", "drugs": ["lenalidomide"]}]),
    _edited(conditions=lambda c: {**c, "peripheral_neuropathy": {"present": True, "grade": 2}}),   # undated
    _edited(labs=lambda labs: {**labs, "creatinine": {"value": "1,9", "unit": "mg/dL", "date": "2025-05-28"}}),
], ids=["birth-date-spaces", "finding-method", "ongoing-treatment", "undated-condition", "unreadable-value"])
def test_record_features_survive_the_round_trip(record, tmp_path):
    trial = load_trial("NCT05378971")
    when = date(2025, 6, 2)
    export_records([record], tmp_path / "cdm", as_of=when)
    assert _from_omop(trial, tmp_path / "cdm", when) == _from_json(trial, record, when)

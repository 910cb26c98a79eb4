"""A treatment that ended on a day nobody recorded (`"end": "unknown"`, README "record format"):
one treatment, in a window when it started in it, not when it started after it, otherwise
unknown; a window after it is in doubt; it lasted at most from its start to the as-of date. The
FHIR medication reader writes a stopped or completed course without an end this way (review 13b
W1, U1, U2, C1, W7, C4), and the export writes it back as a completed Procedure with a start.
"""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from conftest import ROOT
from test_fhir_review import AS_OF, BASE, _add, _screen
from trialscreen.criteria.library import load_trial
from trialscreen.evaluate.screen import screen
from trialscreen.explain.fetch import checklist
from trialscreen.fhir.export import bundle_of
from trialscreen.fhir.read import bundle_records
from trialscreen.patient.load import patient_from_dict

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LENALIDOMIDE = {"coding": [{"system": RXNORM, "code": "342369", "display": "lenalidomide"}]}

AFTER, ONE, SHORT, LONG, RECENT, POSTASCT = "I1", "I2", "I3", "I4", "I5", "I6"
TRIAL = """
id: ENDUNK
title: Rules reading a treatment whose end is unknown
source: https://example.org/endunk
version: "test"
complete: false
not_encoded: [everything else]
inclusion:
  - id: I1
    text: No progression within 6 months after the end of immunotherapy.
    rule: {not: {condition: progression, within: 6 months, after: immunotherapy}}
  - id: I2
    text: At most 1 course of immunotherapy.
    rule: {treatment: immunotherapy, count: {le: 1}}
  - id: I3
    text: Immunotherapy for no more than 12 months.
    rule: {treatment: immunotherapy, duration: {le: 12 months}}
  - id: I4
    text: Immunotherapy for at least 6 months.
    rule: {treatment: immunotherapy, duration: {ge: 6 months}}
  - id: I5
    text: Immunotherapy in the last 4 weeks.
    rule: {treatment: immunotherapy, within: 4 weeks}
  - id: I6
    text: Immunotherapy within 3 months after ASCT.
    rule: {treatment: immunotherapy, within: 3 months, after: asct}
"""


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    path = tmp_path_factory.mktemp("endunk") / "ENDUNK.yaml"
    path.write_text(TRIAL, encoding="utf-8")
    return load_trial(str(path))


def _record(*treatments: dict, progression: str | None = None) -> dict:
    record: dict = {"id": "p1", "as_of": AS_OF.isoformat(), "complete": ["treatments"],
                    "treatments": list(treatments)}
    if progression:
        record["conditions"] = {"progression": {"present": True, "date": progression}}
    return record


def _len(start: str = "2024-10-01", **more) -> dict:
    return {"type": "immunotherapy", "start": start, "end": "unknown", "drugs": ["lenalidomide"], **more}


def _statuses(trial, record: dict) -> tuple:
    result = screen(trial, patient_from_dict(record, "record.json"), AS_OF)
    return result, {c.id: getattr(c.status, "value", c.status) for c in result.criteria}


# --- the record format ---------------------------------------------------------------------------

def test_the_record_format_reads_an_unknown_end(run, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_record(_len())), encoding="utf-8")
    result = run("screen", path, "--trial", "NCT05378971", "--as-of", AS_OF.isoformat(), "--format", "json")
    assert result.exit_code in (0, 1, 2, 3) and "Traceback" not in result.stderr, result.stderr
    patient = patient_from_dict(_record(_len()), "p.json")
    (t,) = patient.treatments
    assert (t.start, t.end, t.end_unknown) == (date(2024, 10, 1), None, True)


def test_a_date_with_an_unknown_end_is_its_start():
    (t,) = patient_from_dict(_record({"type": "immunotherapy", "date": "2024-10-01", "end": "Unknown"})).treatments
    assert (t.start, t.date, t.end_unknown) == (date(2024, 10, 1), None, True)


@pytest.mark.parametrize("end", ["sometime", "unknwon", "2024-13-01"])
def test_an_end_that_is_neither_a_date_nor_unknown_is_refused(run, tmp_path, end):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_record(_len(end=end))), encoding="utf-8")
    result = run("screen", path, "--trial", "NCT05378971", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 65
    assert "treatments[0].end" in result.stderr and "unknown" in result.stderr


def test_unknown_is_an_end_of_treatments_only(run, tmp_path):
    path = tmp_path / "p.json"
    record = {"id": "p1", "diagnoses": [{"name": "multiple_myeloma", "date": "2024-01-01", "end": "unknown"}]}
    path.write_text(json.dumps(record), encoding="utf-8")
    assert run("screen", path, "--trial", "NCT05378971", "--as-of", AS_OF.isoformat()).exit_code == 65


# --- the window: Kleene ---------------------------------------------------------------------------

# RECENT (I5): [2025-05-05, 2025-06-02]; POSTASCT, the ASCT on 2024-06-01: [2024-06-01, 2024-09-01]
@pytest.mark.parametrize(("criterion", "start", "status"), [
    (RECENT, "2025-05-20", "pass"),        # started in the window
    (RECENT, "2025-05-05", "pass"),        # on its first day
    (RECENT, "2025-06-02", "pass"),        # on its last day, the as-of date
    (RECENT, "2025-01-01", "unknown"),     # before it: it may have run into it
    (POSTASCT, "2024-07-01", "pass"),
    (POSTASCT, "2024-05-01", "unknown"),
    (POSTASCT, "2024-10-01", "fail"),      # after the window: it cannot be in it
])
def test_an_unknown_end_in_a_window(trial, criterion, start, status):
    asct = {"type": "asct", "date": "2024-06-01"}
    result, statuses = _statuses(trial, _record(asct, _len(start)))
    assert statuses[criterion] == status
    if status == "unknown":
        (c,) = [c for c in result.criteria if c.id == criterion]
        assert "treatments[1].end" in [getattr(m, "path", "") for m in c.missing]


def test_an_ongoing_course_and_an_ended_one_differ_only_where_the_end_matters(trial):
    ongoing = {"type": "immunotherapy", "start": "2025-01-01"}
    assert _statuses(trial, _record(ongoing))[1][RECENT] == "pass"
    assert _statuses(trial, _record(_len("2025-01-01")))[1][RECENT] == "unknown"


# --- the anchor -----------------------------------------------------------------------------------

def test_a_window_after_a_course_with_an_unknown_end_is_in_doubt(trial):
    # review 13b W1: the progression of 2025-05-20 may be within 6 months of its end
    result, statuses = _statuses(trial, _record(_len(), progression="2025-05-20"))
    assert statuses[AFTER] == "unknown"
    (c,) = [c for c in result.criteria if c.id == AFTER]
    assert "treatments[0].end" in [getattr(m, "path", "") for m in c.missing]
    assert "treatment 1 of the record (its end unknown) might be a later immunotherapy" in json.dumps(c.checks)


def test_a_later_dated_course_does_not_lift_the_doubt_before_the_as_of_date(trial):
    # the unknown end may still be after 2025-01-01
    dated = {"type": "immunotherapy", "start": "2024-11-01", "end": "2025-01-01"}
    assert _statuses(trial, _record(_len(), dated, progression="2025-05-20"))[1][AFTER] == "unknown"


def test_a_course_that_ended_on_the_as_of_date_is_the_latest(trial):
    dated = {"type": "immunotherapy", "start": "2024-11-01", "end": AS_OF.isoformat()}
    result, _ = _statuses(trial, _record(_len(), dated, progression="2025-05-20"))
    (c,) = [c for c in result.criteria if c.id == AFTER]
    # not in doubt: unknown only because the window is still open on the as-of date
    assert "end unknown" not in json.dumps(c.checks)
    assert "treatments[0].end" not in [getattr(m, "path", "") for m in c.missing]


def test_the_control_with_an_end_decides(trial):
    dated = {"type": "immunotherapy", "start": "2024-10-01", "end": "2025-03-01", "drugs": ["lenalidomide"]}
    assert _statuses(trial, _record(dated, progression="2025-05-20"))[1][AFTER] == "fail"


# --- duration and count ---------------------------------------------------------------------------

def test_a_course_with_an_unknown_end_lasted_at_most_to_the_as_of_date(trial):
    # review 13b U2: 2024-10-01 to at most 2025-06-02 is 8 months: no more than 12
    result, statuses = _statuses(trial, _record(_len()))
    assert statuses[SHORT] == "pass"
    assert statuses[LONG] == "unknown"       # it may have stopped after a week
    (c,) = [c for c in result.criteria if c.id == LONG]
    assert "treatments[0].end" in [getattr(m, "path", "") for m in c.missing]


def test_a_course_too_long_whatever_its_end(trial):
    statuses = _statuses(trial, _record(_len("2023-01-01")))[1]
    assert statuses[SHORT] == "unknown"      # 2023-01-01 to at most 2025-06-02: it may be longer
    long_ago = _len("2023-01-01")
    dated = {"type": "immunotherapy", "start": "2023-01-01", "end": "2023-08-01"}
    assert _statuses(trial, _record(long_ago, dated))[1][LONG] == "pass"   # 7 months at least


def test_a_course_with_an_unknown_end_counts_once(trial):
    # review 13b U1: one course, not "1 counted, up to 2"
    result, statuses = _statuses(trial, _record(_len()))
    assert statuses[ONE] == "pass"
    (c,) = [c for c in result.criteria if c.id == ONE]
    assert "up to" not in json.dumps(c.checks)


# --- the words ------------------------------------------------------------------------------------

def test_the_explanation_and_the_checklist_say_the_end_is_unknown(trial):
    result, _ = _statuses(trial, _record(_len("2025-01-01")))
    checks = {c.id: json.dumps(c.checks) for c in result.criteria}
    assert "2025-01-01 to an unknown end" in checks[RECENT]
    assert "at most 152 days" in checks[SHORT]
    words = [i.words for i in checklist(result)]
    assert "when the immunotherapy (treatment 1 of the record) ended" in words, words


# --- the FHIR medication reader -------------------------------------------------------------------

def _bundle(resource: dict) -> dict:
    bundle = copy.deepcopy(BASE)
    _add(bundle, {"medicationCodeableConcept": LENALIDOMIDE, **resource})
    return bundle


def _statement(status: str = "stopped", **more) -> dict:
    return _bundle({"resourceType": "MedicationStatement", "id": "ms1", "status": status, **more})


def _read(bundle: dict) -> tuple:
    """(the lenalidomide treatments the reader wrote, its warnings)."""
    (built,) = bundle_records(bundle, "bundle.json", AS_OF)
    return [t for t in built.record["treatments"] if "lenalidomide" in (t.get("drugs") or ())
            and t.get("start") != "2024-07-20"], list(built.notes)


def test_a_stopped_course_without_an_end_is_one_item_with_an_unknown_end():
    # review 13b W1/U1/C1: not a dated copy and an undated one
    items, notes = _read(_statement(effectivePeriod={"start": "2024-10-01"}))
    assert items == [{"type": "immunotherapy", "start": "2024-10-01", "end": "unknown", "drugs": ["lenalidomide"]}]
    assert any("stopped" in n and "when it ended is unknown" in n for n in notes), notes


def test_a_stopped_statement_with_one_date_has_an_unknown_end():
    # review 13b W7: read as one day, it passed E7 (lenalidomide in the last 4 weeks)
    bundle = _statement(effectiveDateTime="2025-03-01")
    items, notes = _read(bundle)
    assert items == [{"type": "immunotherapy", "start": "2025-03-01", "end": "unknown", "drugs": ["lenalidomide"]}]
    assert _screen(bundle)[1]["E7"] == "unknown"


def test_a_completed_request_with_an_unreadable_supply_is_one_item_with_an_unknown_end():
    bundle = _bundle({"resourceType": "MedicationRequest", "id": "mr1", "status": "completed", "intent": "order",
                      "authoredOn": "2024-10-01",
                      "dispenseRequest": {"expectedSupplyDuration": {"value": 6, "unit": "cycles"}}})
    items, notes = _read(bundle)
    assert [i["end"] for i in items] == ["unknown"]
    assert any("expectedSupplyDuration" in n for n in notes), notes


@pytest.mark.parametrize(("resource", "words"), [
    # review 13b C4: each was read without a word
    ({"resourceType": "MedicationRequest", "id": "mr1", "status": "completed", "intent": "order",
      "authoredOn": "2025-04-10T25:00:00Z"}, 'start is not a date ("2025-04-10T25:00:00Z")'),
    ({"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
      "effectivePeriod": {"end": "2025-5-20"}}, 'effectivePeriod.end is not a date ("2025-5-20")'),
    ({"resourceType": "MedicationStatement", "id": "ms1", "status": "active",
      "effectivePeriod": {"start": "2024-01-01", "end": "2024-13-01"}}, 'effectivePeriod.end is not a date'),
])
def test_an_unreadable_medication_date_is_warned_about(resource, words):
    bundle = _bundle(resource)
    items, notes = _read(bundle)
    assert any(n.startswith("lenalidomide: a ") and words in n for n in notes), notes
    assert _screen(bundle)[0] == "needs_review"


def test_an_active_statement_with_an_unreadable_end_is_not_ongoing():
    items, _ = _read(_statement("active", effectivePeriod={"start": "2024-01-01", "end": "2024-13-01"}))
    assert [(i["start"], i["end"]) for i in items] == [("2024-01-01", "unknown")]


def test_the_reviews_probe_trial_reads_one_course(tmp_path):
    # review 13b U1 and U2 (T-meds.yaml I3, I4) and W1 (I1), from a FHIR bundle
    trial = tmp_path / "T.yaml"
    trial.write_text(TRIAL, encoding="utf-8")
    bundle = _statement(effectivePeriod={"start": "2024-10-01"})
    bundle["entry"] = [e for e in bundle["entry"] if not (
        e["resource"]["resourceType"].startswith("Procedure") or "lenalidomide" in json.dumps(e["resource"])
        and e["resource"].get("id") != "ms1")]
    (built,) = bundle_records(bundle, "bundle.json", AS_OF)
    built.record["conditions"] = {**built.record.get("conditions", {}),
                                  "progression": {"present": True, "date": "2025-05-20"}}
    result = screen(load_trial(str(trial)), patient_from_dict(built.record, "bundle.json"), AS_OF)
    statuses = {c.id: getattr(c.status, "value", c.status) for c in result.criteria}
    assert statuses[SHORT] == "pass" and statuses[AFTER] == "unknown"


def test_a_record_with_an_unknown_end_reads_back_the_same_from_fhir(trial):
    record = _record({"type": "asct", "date": "2024-06-01"}, _len("2024-07-01"), progression="2025-05-20")
    (built,) = bundle_records(bundle_of([record], AS_OF), "bundle.json", AS_OF)
    assert [t for t in built.record["treatments"] if t["type"] == "immunotherapy"] == [
        {"type": "immunotherapy", "start": "2024-07-01", "end": "unknown", "drugs": ["lenalidomide"]}]
    assert _statuses(trial, built.record)[1] == _statuses(trial, record)[1]


def test_export_omop_writes_an_unknown_end_that_omop_reads_back(run, tmp_path):
    """export omop wrote the word 'unknown' into procedure_end_date, and omop refused the export."""
    record = json.loads((ROOT / "examples" / "patients" / "NCT05378971-eligible.json").read_text(encoding="utf-8"))
    record["treatments"].append({"type": "radiotherapy", "start": "2025-04-20", "end": "unknown"})
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert run("export", "omop", str(path), "--out", str(tmp_path / "cdm")).exit_code == 0
    said = run("omop", str(tmp_path / "cdm"), "--trial", "NCT05378971", "--as-of", "2025-06-02",
               "--out", str(tmp_path / "out.jsonl"), "--quiet")
    assert said.exit_code == 0, said.stderr
    (row,) = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    direct = json.loads(run("screen", str(path), "--trial", "NCT05378971", "--as-of", "2025-06-02",
                            "-f", "json").stdout)[0]
    e7 = [next(c["status"] for c in r["criteria"] if c["id"] == "E7") for r in (row, direct)]
    assert e7 == ["unknown", "unknown"]       # it may have run into the last 4 weeks (attestations differ:
    assert "treatments[2].end" in row["missing"]          # OMOP takes them from a side file)

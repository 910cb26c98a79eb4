"""Screen JSON patient records in a batch (issue 14): JSON Lines files (a record a line), JSON files
(a record, or the patients of a FHIR Bundle), several of them or a folder of them.

Each record goes through the one record reader and the one evaluator and is written by the batch's
Writer exactly as a CSV row is: an output row per record and trial, ``id`` the record's id and
``row`` its position in the run (1 for the first record). A record that cannot be read is an error
row naming its file and line, and the batch goes on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from trialscreen.batch.ids import Ids
from trialscreen.batch.run import bug_row, fail_row, screen_patient
from trialscreen.batch.sources import is_lines, jsonl_lines
from trialscreen.batch.tally import Memos, Summary, TrialTally
from trialscreen.errors import Location, PatientError, TrialscreenError
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.patient.jsonpos import loads_strict
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import ReadMemo
from trialscreen.textio import MAX_BYTES

_KEPT = 500          # warnings kept in the summary


def run_records(files: list[str], trials, writer, *, as_of: date | None = None, progress=None,
                max_lab_age=None, duplicate_ids: str = "warn") -> Summary:
    """Screen every record of ``files`` (record_files: .json and .jsonl) into ``writer``."""
    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    ids = Ids(0, duplicate_ids == "error")
    memos = Memos(ReadMemo(), CriterionMemo())
    dates = (as_of, date.today())
    summary.notes.extend(getattr(files, "notes", []))    # what a folder holds that is not read
    writer.start()
    row = 0
    for path in files:
        for pid, patient in _records(path, as_of or dates[1], memos):
            row += 1
            summary.rows_in += 1
            if isinstance(patient, BaseException):
                _failed(summary, writer, trials, row, pid, patient)
            elif (first := ids.repeat_of([pid], row)) is not None and ids.error:
                fail_row(summary, writer, trials, row, pid, f"row {row}: id {pid} was given first at row {first} "
                         "(give each patient one record, or run with --duplicate-ids warn)")
            else:
                _note(summary, patient.warnings)
                screen_patient(summary, writer, trials, patient, row, pid, dates, max_lab_age, memos)
            if progress is not None:
                progress(row)
    said, summary.duplicate_ids = ids.report()
    summary.warnings.extend(said)
    return summary


def _failed(summary: Summary, writer, trials, row: int, pid: str, exc: BaseException) -> None:
    if isinstance(exc, TrialscreenError):
        fail_row(summary, writer, trials, row, pid, str(exc))
    else:
        bug_row(summary, writer, trials, row, pid, exc)    # type: ignore[arg-type]


def _note(summary: Summary, warnings: list) -> None:
    room = _KEPT - len(summary.warnings)
    summary.warnings.extend(str(w) for w in warnings[:max(room, 0)])


def _records(path: str, as_of: date, memos: Memos):
    """(id, Patient or the error that refused it) of each record of one file."""
    if not is_lines(path):
        yield from _json_file(path, as_of)
        return
    for number, text in jsonl_lines(path, MAX_BYTES):
        where = f"{path} line {number}"
        if isinstance(text, TrialscreenError):
            yield where, text
            continue
        data = None
        try:
            data = loads_strict(text, path)
            yield _id_of(data, where), _placed(patient_from_dict(data, path, memo=memos.reads), path, number)
        except TrialscreenError as exc:
            yield _id_of(data, where), _on_line(exc, path, number)
        except Exception as exc:  # noqa: BLE001 - a bug: this record is lost, the batch is not
            yield _id_of(data, where), exc


def _json_file(path: str, as_of: date):
    """A JSON file's record, or each patient of its FHIR Bundle."""
    from trialscreen.fhir.read import load_patients

    refused: list = []
    try:
        loaded = load_patients(path, as_of, refused)
    except TrialscreenError as exc:
        yield path, exc
        return
    for patient, _ in loaded:
        yield patient.id, patient
    for error in refused:
        yield path, error


def _id_of(data, where: str) -> str:
    pid = data.get("id") if isinstance(data, dict) else None
    return str(pid).strip() if isinstance(pid, (str, int)) and not isinstance(pid, bool) and str(pid).strip() \
        else where


def _on_line(exc: TrialscreenError, path: str, number: int) -> PatientError:
    """The error of one line's record, placed at that line of the file (the reader placed it in
    the line's own text)."""
    return PatientError(exc.message, Location(path, line=number, field=exc.location.field), exc.hint, exc.value)


def _placed(patient, path: str, number: int):
    """The record's warnings placed at its line of the file."""
    patient.warnings = [replace(w, location=Location(path, line=number, field=w.location.field))
                        for w in patient.warnings]
    return patient

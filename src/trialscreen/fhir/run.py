"""Screen every patient of a FHIR Bulk Data export with the batch's rows, summary and exit codes.

Each patient's resources (bulk.py) become a record (records.py), read by the one record reader and
screened by the one evaluator, written by the batch's Writer: an output row per patient and trial,
``id`` the Patient's id and ``row`` the patient's position in the run. What the reader warns about
is counted by message and said once with the number of patients; a code nobody can place is said
once, with the number of patients who have it.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from trialscreen.batch.run import bug_row, fail_row, screen_patient
from trialscreen.batch.tally import Memos, Summary, TrialTally
from trialscreen.errors import TrialscreenError
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.fhir.bulk import group
from trialscreen.fhir.read import unplaced_warning
from trialscreen.fhir.records import Deceased, build_record
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import ReadMemo

_KEPT = 500          # warnings kept in the summary
_OWN = ("'unplaced ",)


def run_bulk(path: str, trials, writer, *, as_of: date, progress=None, max_lab_age=None) -> Summary:
    """Screen every patient of the export at ``path`` (a folder or one NDJSON file) into ``writer``."""
    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    grouped = group(path)
    memos = Memos(ReadMemo(), CriterionMemo())
    unplaced: Counter = Counter()
    warned: Counter = Counter()
    dates = (as_of, date.today())
    deceased: list = []
    try:
        medications = grouped.medications()
        writer.start()
        for line, (patient, resources) in enumerate(grouped.each(), 1):
            summary.rows_in += 1
            pid = str(patient.get("id") or f"line {line}")
            refusal = grouped.refusal(patient)
            if refusal is not None:
                fail_row(summary, writer, trials, line, pid, refusal)
                continue
            try:
                built = build_record(patient, resources, as_of, medications)
                record = patient_from_dict(built.record, path, memo=memos.reads)
            except Deceased as exc:         # nobody to screen: left out, and said
                deceased.append(exc.message)
                continue
            except TrialscreenError as exc:
                fail_row(summary, writer, trials, line, pid, f"patient {pid}: {exc.message}" +
                         (f" ({exc.hint})" if exc.hint else ""))
                continue
            except Exception as exc:       # a bug: this patient is lost, the run is not
                bug_row(summary, writer, trials, line, pid, exc)
                continue
            unplaced.update(set(built.unplaced))
            warned.update(set(built.notes) | {_said(w) for w in record.warnings
                                               if not any(o in w.message for o in _OWN)})
            screen_patient(summary, writer, trials, record, line, pid, dates, max_lab_age, memos)
            if progress is not None:
                progress(line)
    finally:
        summary.warnings = _warnings(grouped, unplaced, warned)
        if deceased:
            summary.warnings.insert(0, f"{len(deceased):,} patient(s) recorded deceased by the as-of date, not "
                                       "screened (no output rows): " + "; ".join(deceased[:20])
                                    + (" ..." if len(deceased) > 20 else ""))
        grouped.close()
    return summary


def _said(w) -> str:
    where = w.location.field
    return (f"{where}: {w.message}" if where else w.message) + (f" ({w.hint})" if w.hint else "")


def _warnings(grouped, unplaced: Counter, warned: Counter) -> list:
    out = [f"{n:,} patient(s): {message}" for message, n in sorted(warned.items(), key=lambda kv: (-kv[1], kv[0]))]
    out += [unplaced_warning(role, label, n) for (role, label), n in
            sorted(unplaced.items(), key=lambda kv: (-kv[1], kv[0]))]
    if len(out) > _KEPT:
        out = out[:_KEPT] + [f"... and {len(out) - _KEPT:,} more warnings"]
    if grouped.orphans:
        out.append(f"{grouped.orphans:,} resource(s) name a patient the export does not hold (another person, a "
                   "display or an identifier no Patient carries, or nobody with several patients): not read")
    return out

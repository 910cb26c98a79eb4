"""Screen every person of an OMOP source, streaming, with the batch's rows, summary and exit codes.

Each person's rows (assemble.py) become a record (records.py), read by the one record reader and
screened by the one evaluator, written by the batch's Writer: an output row per person and trial,
``id`` the person_id and ``row`` the person's position in the run. What the reader warns about is
counted by message and reported once with the number of persons; a concept nobody can place is
reported once, by code, with the number of persons who have it.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from trialscreen.batch.run import bug_row, fail_row, screen_patient
from trialscreen.batch.tally import Memos, Summary, TrialTally
from trialscreen.errors import InputError, Location, TrialscreenError
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.omop.assemble import person_rows
from trialscreen.omop.concepts import place_concepts
from trialscreen.omop.records import build_record
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import ReadMemo
from trialscreen.vocab import name_key, yes_no

_KEPT = 500     # warnings kept in the summary (the terminal shows the first few)
PARALLEL_FROM = 2_000     # persons from which several processes pay for their start
# the reader's warnings about what records.py passed on unplaced: reported by concept instead
_OWN = ("'unplaced ",)


def run_omop(source, trials, writer, *, as_of: date, limit: int | None = None, complete: tuple = (),
             attestations: dict | None = None, progress=None, max_lab_age=None, workers: int = 1,
             parallel_from: int = PARALLEL_FROM) -> Summary:
    """Screen every person of ``source`` into ``writer``. ``workers`` > 1 screens ranges of persons
    in that many processes (omop/parallel.py) when the source has ``parallel_from`` persons or more
    (starting a process costs about a second); the output and the summary are the same."""
    import duckdb

    from trialscreen.omop.source import cast_error

    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    try:
        meanings = place_concepts(source)
        parallel = workers > 1 and _persons(source, limit) >= parallel_from
    except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
        raise cast_error(source, "concept", exc) from None
    memos = Memos(ReadMemo(), CriterionMemo())
    options = PersonOptions(str(source.path), as_of, date.today(), complete, attestations or {}, max_lab_age)
    writer.start()
    if parallel:
        from trialscreen.omop.parallel import run_parallel

        summary, unplaced, warned, outside, orphans = run_parallel(
            source, trials, writer, meanings, workers=workers, memory_limit=source.memory_limit,
            schema=source.schema, limit=limit, options=options, progress=progress)
        summary.warnings = run_warnings(unplaced, warned, outside, source.missing, orphans)
        return summary
    unplaced = Counter()
    warned = Counter()
    outside = 0
    orphans = {}
    for line, rows in enumerate(person_rows(source, as_of, limit, orphans), 1):
        noted = screen_person(summary, writer, trials, rows, line, options, memos)
        unplaced.update(noted.unplaced)
        warned.update(noted.warned)
        outside += noted.outside
        if progress is not None:
            progress(line)
    summary.warnings = run_warnings(unplaced, warned, outside, source.missing, orphans)
    return summary


def _persons(source, limit: int | None) -> int:
    n = source.con.execute("SELECT count(DISTINCT person_id) FROM person").fetchone()[0]
    return min(n, limit) if limit is not None else n


@dataclass(frozen=True)
class PersonOptions:
    """What every person of a run is screened with: the source's name (for the record reader),
    the as-of date, today (taken once per run), the sections attested for everyone, the
    attestations by person_id, and the oldest lab allowed."""

    path: str
    as_of: date
    today: date
    complete: tuple
    attestations: dict
    max_lab_age: object = None


@dataclass
class Noted:
    """What one person adds to a run's warnings: the concepts nobody can place (role, label), the
    rows dated outside the observation periods, and the reader's warnings (each said once)."""

    unplaced: set = field(default_factory=set)
    outside: int = 0
    warned: set = field(default_factory=set)


def screen_person(summary: Summary, writer, trials, rows, line: int, options: PersonOptions, memos: Memos) -> Noted:
    """One person's rows (assemble.PersonRows) built into a record, read and screened against every
    trial: the output rows go to ``writer`` and the counts to ``summary``. Every engine calls this
    for every person, so a person's rows and verdicts are the same on each."""
    summary.rows_in += 1
    pid = str(rows.person["person_id"])
    noted = Noted()
    if (rows.person.get("ts_rows") or 1) > 1:
        fail_row(summary, writer, trials, line, pid, f"person {pid}: person_id {pid} has "
                 f"{rows.person['ts_rows']} rows in PERSON (give each person one row)")
        return noted
    try:
        built = build_record(rows, options.as_of, complete=options.complete,
                             attestations=options.attestations.get(pid))
        noted.unplaced, noted.outside, noted.warned = set(built.unplaced), built.outside, set(built.notes)
        patient = patient_from_dict(built.record, options.path, memo=memos.reads)
    except TrialscreenError as exc:
        fail_row(summary, writer, trials, line, pid, f"person {pid}: {exc.message}" +
                 (f" ({exc.hint})" if exc.hint else ""))
        return noted
    except Exception as exc:      # a bug: this person is lost, the run is not
        bug_row(summary, writer, trials, line, pid, exc)
        return noted
    noted.warned |= {_said(w) for w in patient.warnings if not any(o in w.message for o in _OWN)}
    screen_patient(summary, writer, trials, patient, line, pid, (options.as_of, options.today),
                   options.max_lab_age, memos)
    return noted


def _said(w) -> str:
    where = w.location.field
    return (f"{where}: {w.message}" if where else w.message) + (f" ({w.hint})" if w.hint else "")


def run_warnings(unplaced: Counter, warned: Counter, outside: int, missing: list, orphans: dict) -> list:
    """The reader's warnings by how many persons they concern, then each concept nobody can place,
    once, then what the source lacks, then the rows of persons PERSON does not hold."""
    out = [f"{persons:,} person(s): {message}" for message, persons in
           sorted(warned.items(), key=lambda kv: (-kv[1], kv[0]))]
    for (role, label), persons in sorted(unplaced.items(), key=lambda kv: (-kv[1], kv[0])):
        what = "conditions" if role == "condition" else "treatments"
        out.append(f"{role} {label} is not in trialscreen's vocabularies: criteria about {what} are unknown "
                   f"for the {persons:,} person(s) with it (add the code to vocab/, or map it in CONCEPT)")
    if len(out) > _KEPT:
        out = out[:_KEPT] + [f"... and {len(out) - _KEPT:,} more warnings"]
    if outside:
        out.append(f"{outside:,} row(s) are dated outside their person's observation periods (read all the same)")
    if missing:
        out.append("tables not in the source, read as empty: " + ", ".join(t.upper() for t in missing))
    out += [f"{n:,} {stream} row(s) name a person_id PERSON does not hold: not read"
            for stream, n in sorted(orphans.items())]
    return out


def read_attestations(path: str) -> dict:
    """person_id -> {attestation: bool} from a CSV with columns person_id, attestation, value."""
    from trialscreen.textio import decode

    try:
        data = open(path, "rb").read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}", Location(path),
                         hint="give the CSV of person_id, attestation, value") from None
    text = decode(data, path)
    rows = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(rows, [])]
    if header[:3] != ["person_id", "attestation", "value"]:
        raise InputError(f"{path} must start with the header person_id,attestation,value", Location(path, line=1),
                         hint="one row per person and attestation, value true or false")
    out: dict = {}
    for line, cells in enumerate(rows, 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < 3:
            raise InputError(f"{path} line {line} has {len(cells)} cells where 3 are needed", Location(path, line=line))
        try:
            value = yes_no(cells[2])
        except ValueError:
            raise InputError(f"{path} line {line}: '{cells[2]}' is not true or false", Location(path, line=line),
                             hint="write true, false, yes or no") from None
        if value is not None:
            out.setdefault(cells[0].strip(), {})[name_key(cells[1])] = value
    return out

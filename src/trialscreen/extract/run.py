"""``batch --extract EXTRACT.yaml``: a long EHR extract screened patient by patient, in id order,
written exactly as a CSV batch writes its rows. Each section's rows come from DuckDB sorted by
patient id (extract/source.py) and are merged here one patient at a time, so memory is bounded by
the largest patient, not the files. Every patient goes through the one record reader and the one
evaluator (batch/run.py ``screen_patient``)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from trialscreen.batch.columns import DEFAULT_MISSING
from trialscreen.batch.dates import date_format_of, local_moment, timezone_of
from trialscreen.batch.run import bug_row, fail_row, screen_patient
from trialscreen.batch.tally import Memos, Summary, TrialTally
from trialscreen.errors import TrialscreenError
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.extract.records import patient_record, place_test
from trialscreen.extract.source import ExtractTables, q
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import ReadMemo

_SHOWN = 10       # labels named in a warning of things nobody could place


class _Cells:
    """How one file writes its cells: its missing tokens, date format and zone."""

    def __init__(self, source):
        extra = source.options.get("missing") or []
        self.missing = frozenset(DEFAULT_MISSING) | {str(t).strip().lower() for t in extra}
        fmt, zone = source.options.get("date_format"), source.options.get("timezone")
        self.dates = (date_format_of(fmt, source.where) if fmt else None, timezone_of(zone, source.where) if zone
                      else None)
        self.path = source.path.name

    def text(self, value) -> str | None:
        if value is None:
            return None
        text = str(value).strip()
        return None if text.lower() in self.missing else text

    def moment(self, value, bad: Counter) -> tuple:
        """(the day, the instant in the site's time or None when the cell gives no time) of a cell."""
        text = self.text(value)
        if text is None:
            return None, None
        try:
            stamp = local_moment(text, *self.dates)
        except ValueError:
            bad[self.path] += 1
            return None, None
        return stamp.date(), (stamp if len(text) > 10 else None)

    def day(self, value, bad: Counter) -> date | None:
        text = self.text(value)
        if text is None:
            return None
        try:
            return local_moment(text, *self.dates).date()
        except ValueError:
            bad[self.path] += 1
            return None


def run_extract(extract, trials, writer, *, as_of: date | None = None, progress=None, max_lab_age=None,
                memory_limit: str = "256MB") -> Summary:
    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    tables = ExtractTables(extract, memory_limit)
    memos = Memos(ReadMemo(), CriterionMemo())
    facts = {"unplaced": Counter(), "bad_dates": Counter(), "later": 0, "orphans": Counter(), "warned": Counter(),
             "no_id": Counter()}
    try:
        streams = _streams(tables, extract)
        writer.start()
        for row, (pid, person, sections, problem) in enumerate(_patients(tables, extract, streams, facts), 1):
            summary.rows_in += 1
            if problem:
                fail_row(summary, writer, trials, row, pid, f"{extract.patients.path.name}: {problem}")
            else:
                _screen_one(summary, writer, trials, row, pid, person, sections, as_of or extract.as_of,
                            (as_of, date.today()), max_lab_age, memos, facts)
            if progress is not None:
                progress(row)
    finally:
        tables.close()
    _facts_said(summary, facts)
    return summary


def _screen_one(summary, writer, trials, row, pid, person, sections, when, dates, max_lab_age, memos, facts):
    try:
        built = patient_record(pid, person, when, *sections)
        facts["later"] += built.later
        facts["unplaced"].update(built.unplaced)
        facts["warned"].update(built.conflicts)
        summary.warnings.extend(built.notes[:max(0, 500 - len(summary.warnings))])
        patient = patient_from_dict(built.record, f"patient {pid}", memo=memos.reads)
    except TrialscreenError as exc:
        fail_row(summary, writer, trials, row, pid, f"patient {pid}: {exc}")
        return
    except Exception as exc:  # noqa: BLE001 - a bug: this patient is lost, the run is not
        bug_row(summary, writer, trials, row, pid, exc)
        return
    for w in patient.warnings:                         # what the reader could not use: said once, counted
        facts["warned"][getattr(w, "message", str(w))] += 1
    screen_patient(summary, writer, trials, patient, row, pid, dates, max_lab_age, memos)


def _streams(tables: ExtractTables, extract) -> list:
    """Per file of a section: (section, its cells' reading, its (key, row) pairs in patient order)."""
    out: list = []
    for i, source in enumerate(extract.results):
        c, cells = source.columns, _Cells(source)
        cols = [q(c["id"]), *(q(c[k]) if k in c else "NULL" for k in ("test", "loinc", "value", "unit", "date",
                                                                       "low", "high", "flag"))]
        view = f"r{i}"
        if source.tests is not None and "test" in c:
            tables.dictionary(f"r{i}_tests", f"r{i}_dict", source.tests.columns)
            cols = [f"r{i}.{x}" if x.startswith('"') else x for x in cols] + ["d.loinc", "d.name", "d.meanings"]
            view = f"r{i} LEFT JOIN r{i}_dict d ON trim(r{i}.{q(c['test'])}) = d.key"
        else:
            cols += ["NULL", "NULL", "NULL"]
        out.append(("results", cells, tables.stream(view, ", ".join(cols))))
    for i, source in enumerate(extract.diagnoses):
        c = source.columns
        out.append(("diagnoses", _Cells(source), tables.stream(
            f"d{i}", f"{q(c['id'])}, {q(c['code'])}, {q(c['date']) if 'date' in c else 'NULL'}"), source.extra))
    for i, source in enumerate(extract.treatments):
        c = source.columns
        select = ", ".join([q(c["id"])] + [q(c[k]) if k in c else "NULL" for k in ("drug", "rxnorm", "start", "end")])
        out.append(("treatments", _Cells(source), tables.stream(f"t{i}", select)))
    return out


def _patients(tables: ExtractTables, extract, streams: list, facts: dict):
    """(pid, person fields, (results, diagnoses, treatments), problem) per row of the patients
    file, in id order; ``problem`` says why a row is not screened (no id, an id given twice)."""
    source, cells = extract.patients, _Cells(extract.patients)
    columns = list(source.extra)
    select = ", ".join([q(source.columns["id"])] + [q(c) for c in columns]) if columns else q(source.columns["id"])
    pending = [_Pending(s) for s in streams]
    last = None
    for key, row in tables.stream("p0", select):
        if cells.text(row[0]) is None:
            yield "", {}, ([], [], []), "the id cell is empty (or a missing-value token): no patient to screen"
            continue
        if key == last:
            yield key[2], {}, ([], [], []), (f"patient {key[2]} is in the patients file twice: its rows are "
                                             "screened with its first row, this one is not")
            continue
        last = key
        sections: tuple = ([], [], [])
        for p in pending:
            p.take(key, sections, facts)
        yield key[2], _person(source, cells, columns, row[1:], facts), sections, ""
    for p in pending:
        p.drain(facts)


def _person(source, cells, columns: list, values, facts: dict) -> dict:
    person = {}
    for column, value in zip(columns, values):
        spec, text = source.extra[column], cells.text(value)
        if text is not None and spec["values"] is not None:
            text = spec["values"].get(text.lower(), text)
        if spec["field"] == "birth_date" and text is not None:
            day = cells.day(text, facts["bad_dates"])
            text = day.isoformat() if day else text
        person[spec["field"]] = text
    return person


class _Pending:
    """One section stream, advanced patient by patient (its rows are sorted by pid like PATIENTS)."""

    def __init__(self, stream):
        self.kind, self.cells, self.rows = stream[0], stream[1], stream[2]
        self.extra = stream[3] if len(stream) > 3 else {}
        self.head = next(self.rows, None)

    def take(self, key: tuple, sections: tuple, facts: dict) -> None:
        """This section's rows of the patient ``key`` (the sort key of the SQL); the rows before it
        belong to patients the patients file does not have."""
        while self.head is not None and self.head[0] < key:
            self._orphan(facts)
        while self.head is not None and self.head[0] == key:
            self._add(self.head[1], sections, facts)
            self.head = next(self.rows, None)

    def drain(self, facts: dict) -> None:
        """The rows after the last patient: of patients the patients file does not have."""
        while self.head is not None:
            self._orphan(facts)

    def _orphan(self, facts: dict) -> None:
        facts["no_id" if self.head[0][2] == "" else "orphans"][self.kind] += 1
        self.head = next(self.rows, None)

    def _add(self, row, sections: tuple, facts: dict) -> None:
        t, bad = self.cells.text, facts["bad_dates"]
        if self.kind == "results":
            _, test, loinc, value, unit, when, low, high, flag, dict_loinc, dict_name, meanings = row
            label = t(dict_name) or t(test) or "?"
            if meanings is not None and meanings > 1:
                analyte, label = None, f"{t(test)} (in the dictionary {meanings} times, with different meanings)"
            else:
                analyte, why = place_test(t(loinc) or t(dict_loinc), t(dict_name) or t(test))
                label = f"{label} ({why})" if why else label
            day, moment = self.cells.moment(when, bad)
            sections[0].append({"analyte": analyte, "label": label, "value": t(value), "unit": t(unit),
                                "day": day, "moment": moment, "dated": t(when) is not None, "low": t(low),
                                "high": t(high), "flag": t(flag)})
        elif self.kind == "diagnoses":
            if t(row[1]) is not None:
                sections[1].append({"system": self.extra["system"], "code": t(row[1]),
                                    "day": self.cells.day(row[2], bad)})
        else:
            _, drug, rxnorm, start, end = row
            if t(drug) or t(rxnorm):
                sections[2].append({"drug": t(drug), "rxnorm": t(rxnorm), "start": self.cells.day(start, bad),
                                    "end": self.cells.day(end, bad)})


def _facts_said(summary: Summary, facts: dict) -> None:
    """What the run could not use, each said once with its count."""
    for what in ("test", "diagnosis code", "drug"):
        labels = Counter({label: n for (kind, label), n in facts["unplaced"].items() if kind == what})
        if labels:
            named = ", ".join(f"{label} ({n:,})" for label, n in labels.most_common(_SHOWN))
            more = f" and {len(labels) - _SHOWN:,} more" if len(labels) > _SHOWN else ""
            summary.warnings.insert(0, f"{sum(labels.values()):,} rows of {len(labels):,} {what}(s) nobody can place "
                                       f"were not read as such: {named}{more}")
    if facts["later"]:
        summary.notes.append(f"{facts['later']:,} results dated after their patient's as-of date were not read "
                             "(they had not happened yet)")
    for path, n in facts["bad_dates"].items():
        summary.warnings.append(f"{path}: {n:,} dates could not be read (give the file's date_format in the extract)")
    for message, n in facts["warned"].most_common(20):
        summary.warnings.append(f"{message} ({n:,} patient{'s' if n != 1 else ''})")
    for kind, n in facts["orphans"].items():
        summary.warnings.append(f"{n:,} {kind} rows name a patient the patients file does not have")
    for kind, n in facts["no_id"].items():
        summary.warnings.append(f"{n:,} {kind} rows have no patient id and were not read")

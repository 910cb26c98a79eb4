"""The executors' side of the Spark engine: a partition of persons in, their output rows out.

``screen_partition`` is the function ``mapInArrow`` runs. Each person's row (spark_assemble.py)
becomes the ``PersonRows`` the DuckDB engine streams, and ``run.screen_person`` builds, reads and
screens it with the batch's own functions into the batch ``Writer``: the text of every output row
is the Writer's, byte for byte. Beside each output row go what the summary counts (verdict, failed
and unknown criteria, the data missing); one note row per person (``trial`` -1) carries its error rows and warnings.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from trialscreen.batch.tally import ERROR, Memos, Summary, TrialTally
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.omop.assemble import PersonRows
from trialscreen.omop.queries import STREAMS
from trialscreen.omop.run import PersonOptions, screen_person
from trialscreen.omop.spark_assemble import PERSON_FIELDS, STREAM_COLUMN
from trialscreen.patient.memo import ReadMemo
from trialscreen.render.batch import Writer

OUTPUT_SCHEMA = ("line long, seq int, trial int, text string, cells array<string>, verdict string, "
                 "failed array<string>, unknown array<string>, missing array<string>, error_rows int, internal int, "
                 "errors array<string>, "
                 "unplaced array<struct<role:string,label:string>>, outside long, warned array<string>, "
                 "orphans array<struct<t:string,n:long>>")


class _Captured:
    """A text stream that keeps what was written since it was last taken."""

    def __init__(self):
        self.parts: list = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text[:-1] if text.endswith("\n") else text


class RowWriter(Writer):
    """The batch Writer, keeping each row's text and counts instead of writing them out."""

    def __init__(self, fmt: str, trials, cells: bool = False):
        self.captured = _Captured()
        super().__init__(self.captured, fmt, trials)
        self.index = {id(t): i for i, t in enumerate(trials)}
        self.by_id = {t.id: i for i, t in enumerate(trials)}
        self.cells = cells
        self.rows: list = []

    def header(self) -> str:
        self.start()
        return self.captured.take()

    def result(self, row: int, result) -> None:
        super().result(row, result)
        verdict, failed, unknown, missing = TrialTally.counted(result)
        self._keep(row, result.trial, verdict, list(failed), list(unknown), list(missing))

    def error(self, row: int, patient_id: str, trial, message: str) -> None:
        super().error(row, patient_id, trial, message)
        self._keep(row, trial, ERROR, [], [])

    def _keep(self, row: int, trial, verdict: str, failed: list, unknown: list,
              missing: list | None = None) -> None:
        text = self.captured.take()
        index = self.index.get(id(trial), self.by_id.get(trial.id, -1))
        self.rows.append({"line": row, "seq": len(self.rows), "trial": index, "text": text,
                          "cells": parse_cells(text) if self.cells else None, "verdict": verdict,
                          "failed": failed, "unknown": unknown, "missing": missing or []})


def parse_cells(line: str) -> list:
    """A CSV line's cells as the DuckDB engine's Parquet holds them: an empty cell is NULL."""
    return [c if c != "" else None for c in next(csv.reader(io.StringIO(line)))]


def screen_partition(batches, trials, options: PersonOptions, fmt: str, cells: bool):
    """mapInArrow's function: record batches of persons in, record batches of OUTPUT_SCHEMA out."""
    import pyarrow as pa

    schema = arrow_schema()
    memos = Memos(ReadMemo(), CriterionMemo())
    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    writer = RowWriter(fmt, trials, cells)
    for batch in batches:
        out: list = []
        for person in batch.to_pylist():
            out += screen_one(summary, writer, trials, person, options, memos)
        yield pa.RecordBatch.from_pylist(out, schema=schema)


def screen_one(summary: Summary, writer: RowWriter, trials, person: dict, options: PersonOptions,
               memos: Memos) -> list:
    """One person's output rows and their note row; for rows naming a person PERSON does not
    hold (no line), one note row counting them by table."""
    line = person["line"]
    if line is None:
        return [{"seq": -2, "trial": -2, "orphans": [{"t": table.upper(), "n": len(person[STREAM_COLUMN + name])}
                                                    for name, (table, _, _) in STREAMS.items()
                                                    if person[STREAM_COLUMN + name]]}]
    rows = PersonRows({k: _naive(person[k]) for k in PERSON_FIELDS},
                      {name: person[STREAM_COLUMN + name] or [] for name in STREAMS})
    errors, internal = summary.error_rows, summary.internal_errors
    summary.errors = []
    noted = screen_person(summary, writer, trials, rows, line, options, memos)
    out, writer.rows = writer.rows, []
    out.append({"line": line, "seq": -1, "trial": -1, "error_rows": summary.error_rows - errors,
                "internal": summary.internal_errors - internal, "errors": list(summary.errors),
                "unplaced": [{"role": r, "label": lbl} for r, lbl in sorted(noted.unplaced)],
                "outside": noted.outside, "warned": sorted(noted.warned)})
    return out


def arrow_schema():
    """OUTPUT_SCHEMA as Arrow types (built here: the executors have no JVM to parse it)."""
    import pyarrow as pa

    text = pa.list_(pa.string())
    return pa.schema([("line", pa.int64()), ("seq", pa.int32()), ("trial", pa.int32()), ("text", pa.string()),
                      ("cells", text), ("verdict", pa.string()), ("failed", text), ("unknown", text),
                      ("missing", text),
                      ("error_rows", pa.int32()), ("internal", pa.int32()), ("errors", text),
                      ("unplaced", pa.list_(pa.struct([("role", pa.string()), ("label", pa.string())]))),
                      ("outside", pa.int64()), ("warned", text),
                      ("orphans", pa.list_(pa.struct([("t", pa.string()), ("n", pa.int64())])))])


def _naive(value):
    """A timestamp as DuckDB gives it: without a time zone (the session's is UTC)."""
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value

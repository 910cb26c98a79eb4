"""Screen a CSV of patients, streaming: one row in, one output row per trial out.

Nothing is lost: a row that cannot be read (a wrong number of cells, bad
bytes, a coded value the mapping does not list) becomes an output row with
verdict ``error``, the reason and its row number, and the batch goes on. A cell
that is read but cannot be used (an unknown unit, a word where a number
belongs) leaves the criteria that need it unknown, named by row and column. Memory stays
flat: rows are read, screened and written a block at a time; the summary keeps only
counts; what repeats between rows is read and evaluated once and kept in bounded tables
(batch/reuse.py for the rows of the fast path; patient/memo.py and evaluate/reuse.py for
the rows read whole), which change no output.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

from trialscreen.batch.cells import RowError
from trialscreen.batch.columns import ColumnPlan, plan_columns
from trialscreen.batch.ids import Ids
from trialscreen.batch.mapping import Mapping
from trialscreen.batch.reuse import DistinctRows
from trialscreen.batch.rows import column_of, row_to_record
from trialscreen.errors import InputError, Location, PatientError, Problem, TrialscreenError, UsageError
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import ReadMemo
from trialscreen.patient.reader import UNUSABLE
from trialscreen.render.batch import Writer
from trialscreen.semantics.status import Verdict

ERROR = Verdict.ERROR.value
VERDICTS = tuple(v.value for v in (Verdict.ELIGIBLE, Verdict.NEEDS_REVIEW, Verdict.INELIGIBLE, Verdict.ERROR))
csv.field_size_limit(1_000_000)


@dataclass
class TrialTally:
    """Counts for one trial: verdicts and, per criterion, the attrition."""

    trial_id: str
    criteria: list
    verdicts: dict = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    fail: dict = field(default_factory=dict)
    fail_only: dict = field(default_factory=dict)
    unknown: dict = field(default_factory=dict)

    def __post_init__(self):
        for cid in self.criteria:
            self.fail[cid] = self.fail_only[cid] = self.unknown[cid] = 0

    def add(self, result) -> None:
        self.count(*self.counted(result))

    @staticmethod
    def counted(result) -> tuple:
        """(verdict, failed ids, unknown ids) of a result: what ``count`` adds."""
        return (result.verdict, tuple(c.id for c in result.criteria if c.status == "fail"),
                tuple(c.id for c in result.criteria if c.status == "unknown"))

    def count(self, verdict: str, failed: tuple, unknown: tuple, times: int = 1) -> None:
        self.verdicts[verdict] += times
        for cid in failed:
            self.fail[cid] += times
        if len(failed) == 1:
            self.fail_only[failed[0]] += times
        for cid in unknown:
            self.unknown[cid] += times

    def as_dict(self) -> dict:
        return {
            "trial": self.trial_id,
            "verdicts": dict(self.verdicts),
            "criteria": [{"id": cid, "fail": self.fail[cid], "fail_only": self.fail_only[cid],
                          "unknown": self.unknown[cid]} for cid in self.criteria],
        }


@dataclass
class Summary:
    rows_in: int = 0
    rows_out: int = 0
    error_rows: int = 0
    internal_errors: int = 0
    trials: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    errors: list = field(default_factory=list)     # the first errors, for the console
    ignored_columns: list = field(default_factory=list)
    unusable_cells: int = 0                        # cells read but not usable (their criteria unknown)
    blank_rows: int = 0                            # rows with no cell filled (Excel's), skipped
    duplicate_ids: int = 0                         # rows whose id an earlier row had

    def as_dict(self) -> dict:
        return {"rows_in": self.rows_in, "rows_out": self.rows_out, "error_rows": self.error_rows,
                "unusable_cells": self.unusable_cells, "blank_rows": self.blank_rows,
                "duplicate_ids": self.duplicate_ids,
                "trials": [t.as_dict() for t in self.trials],
                "warnings": [str(w) for w in self.warnings],
                "ignored_columns": self.ignored_columns}


@dataclass
class Memos:
    """What a batch reuses: record parts read and criteria evaluated for the rows it reads
    whole, and the distinct readings of the file's rows."""

    reads: ReadMemo
    criteria: CriterionMemo
    rows: DistinctRows | None = None    # the fast path of the file being read (batch/reuse.py)


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def run_batch(stream, source: str, trials, writer: Writer, *, mapping: Mapping | None = None,
              as_of: date | None = None, delimiter: str | None = None, decimal_comma: bool | None = None,
              progress=None, max_lab_age=None, reuse: bool = True, memos: Memos | None = None,
              duplicate_ids: str = "warn") -> Summary:
    """Screen every row of ``stream`` (text, opened with newline='') against ``trials``.
    What repeats from row to row is read and evaluated once (in ``memos``, or new ones);
    ``reuse=False`` reads and evaluates every row afresh, which gives the same output
    (tests/test_batch_reuse.py compares the two). ``duplicate_ids``: 'warn' reports ids given on
    several rows in the summary; 'error' also makes every repeat after the first an error row."""
    memo = (memos or Memos(ReadMemo(), CriterionMemo())) if reuse else None
    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    delim, header, plan, offset = _read_header(stream, source, mapping, delimiter, decimal_comma)
    today = date.today()     # the as-of date of rows with none, taken once: a run past midnight keeps its day
    fast = None
    if memo is not None:
        fast = memo.rows = DistinctRows(plan, source, trials, summary.trials, writer, as_of, max_lab_age,
                                        memo.reads, today=today)
    writer.start()
    _note_plan(summary, plan, trials)
    id_index = next(c.index for c in plan.columns if c.kind == "id")
    ids = Ids(id_index, duplicate_ids == "error")
    reader = csv.reader(stream, delimiter=delim, strict=True)
    block: list = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            block.append((reader.line_num + offset, None, exc))
        else:
            # the header (and a sep= line) were read apart: file line = reader's + offset
            if any(c.strip() for c in cells):
                block.append((reader.line_num + offset, cells, None))
            else:                       # a blank row (Excel's: delimiters and nothing else)
                summary.blank_rows += 1
        if len(block) == (fast.block if fast is not None else _BLOCK):
            _screen_block(summary, writer, trials, plan, header, ids, block, source, (as_of, today),
                          max_lab_age, memo, fast, progress)
            block = []
    _screen_block(summary, writer, trials, plan, header, ids, block, source, (as_of, today), max_lab_age,
                  memo, fast, progress)
    said, summary.duplicate_ids = ids.report()
    summary.warnings.extend(said)
    if summary.blank_rows:
        summary.warnings.append(f"{summary.blank_rows:,} blank row(s) skipped (no cell filled)")
    return summary




# Rows are read in blocks: the fast path (batch/reuse.py) looks a block up at once.
_BLOCK = 1024


def _screen_block(summary: Summary, writer: Writer, trials, plan: ColumnPlan, header: list[str], ids: Ids,
                  block: list, source: str, dates: tuple, max_lab_age, memo: Memos | None,
                  fast: DistinctRows | None, progress) -> None:
    """Screen a block of rows [(line, cells or None, csv error)] in their order: from the
    fast path where it can, else each row read whole. ``dates``: the batch's as-of date (or
    None) and the date of rows with none."""
    if fast is not None:
        fast.begin()
    id_index = ids.index
    repeats = {i: first for i, (line, cells, _) in enumerate(block) if cells is not None
               and (first := ids.repeat_of(cells, line)) is not None}
    refused = repeats if ids.error else {}
    found: dict = {}
    if fast is not None and fast.on:
        width = len(header)
        plain = [i for i, (_, cells, _) in enumerate(block) if cells is not None and len(cells) == width
                 and i not in refused]
        if _UNDECODED.search("".join(["".join(block[i][1]) for i in plain])):   # bad bytes: one search a block
            plain = [i for i in plain if _not_utf8(block[i][1]) is None]
        try:
            screened = fast.outcomes([(block[i][1], block[i][1][id_index].strip()) for i in plain])
        except Exception:  # noqa: BLE001 - a bug on the fast path: the block is read row by row, where it is reported
            screened = []
        found = {i: outcome for i, outcome in zip(plain, screened) if outcome is not None}
    for i, (line, cells, exc) in enumerate(block):
        summary.rows_in += 1
        if cells is None:
            fail_row(summary, writer, trials, line, f"row {line}",
                  row_message(line, None, f"unreadable CSV ({exc})", hint="check the quotes in this row"))
        elif i in refused:
            pid = cells[id_index].strip()
            fail_row(summary, writer, trials, line, pid,
                     row_message(line, header[id_index], f"id {pid} was given first at row {refused[i]}",
                                 hint="give each patient one row, or run with --duplicate-ids warn"))
        elif (outcomes := found.get(i)) is not None:
            pid = cells[id_index].strip()
            for outcome in outcomes:
                if outcome.template is None:
                    writer.result(line, replace(outcome.result, patient_id=pid))
                else:
                    writer.repeat(line, pid, outcome.template)
            summary.rows_out += len(trials)
        else:
            _screen_row(summary, writer, trials, plan, header, id_index, cells, line, source, dates, max_lab_age,
                        None if fast is not None and fast.plain else memo)
        if progress is not None:
            progress(summary.rows_in)
    for tally, outcomes in zip(summary.trials, zip(*found.values())):
        for outcome, times in Counter(outcomes).items():
            tally.count(*outcome.counted, times=times)
    if fast is not None:
        fast.timed(len(block))


def _read_header(stream, source: str, mapping: Mapping | None, delimiter: str | None,
                 decimal_comma: bool | None) -> tuple[str, list[str], ColumnPlan, int]:
    """Read and check the header row: the delimiter, the header cells and the column plan."""
    first = stream.readline()
    if "\x00" in first or any("\udc80" <= ch <= "\udcff" for ch in first[:2]):
        raise InputError("the file is UTF-16" if "\x00" in first or first[:2] in ("\udcff\udcfe", "\udcfe\udcff")
                         else "the header is not UTF-8", Location(source), hint="save it as UTF-8")
    if not first.strip():
        raise InputError("the file is empty: it needs a header row", Location(source, 1),
                         "the first row names the columns, with an 'id' column")
    offset = 1
    said = _SEP_LINE.match(first)
    if said:                    # Excel's 'sep=;' first line names the delimiter; the header follows
        first, offset = stream.readline(), 2
        if not first.strip():
            raise InputError("the file has a sep= line and no header row", Location(source, 2),
                             "the row after sep= names the columns, with an 'id' column")
    delim = delimiter or (said.group(1) if said else None) or (mapping.delimiter if mapping else None) \
        or sniff_delimiter(first)
    header = next(csv.reader([first], delimiter=delim))
    plan: ColumnPlan = plan_columns(header, mapping, source)
    if decimal_comma is not None:
        plan.decimal_comma = decimal_comma
    if plan.decimal_comma and delim == ",":
        raise UsageError("a decimal comma cannot be read in a comma-delimited file",
                         hint="use --delimiter ';' or a tab-delimited export")
    return delim, header, plan, offset


_SEP_LINE = re.compile(r"^sep=([,;\t|])\r?\n?$")


def _note_plan(summary: Summary, plan: ColumnPlan, trials) -> None:
    """Put the column plan's warnings, the partly encoded trials and the ignored columns in the summary."""
    summary.warnings.extend(plan.warnings)
    for t in trials:
        if not t.complete:
            summary.warnings.append(f"{t.id} is only partly encoded: its verdicts cover only the encoded "
                                    f"criteria (not encoded: {'; '.join(t.not_encoded)})")
    summary.ignored_columns = plan.ignored


def _screen_row(summary: Summary, writer: Writer, trials, plan: ColumnPlan, header: list[str], id_index: int,
                cells: list[str], line: int, source: str, dates: tuple, max_lab_age,
                memo: Memos | None = None) -> None:
    """Read one non-blank row into a patient and screen it, or write its error rows."""
    width = len(header)
    pid = cells[id_index].strip() if id_index < len(cells) else ""
    pid = pid or f"row {line}"
    if len(cells) != width:
        fail_row(summary, writer, trials, line, pid,
              f"row {line}: {len(cells)} cells where the header has {width}")
    elif (bad := _not_utf8(cells)) is not None:
        fail_row(summary, writer, trials, line, pid,
              row_message(line, header[bad], "holds bytes that are not UTF-8", hint="save the file as UTF-8"))
    else:
        where: dict = {}
        try:
            record, where = row_to_record(plan, cells)
            if "id" not in record:
                raise RowError("the id cell is empty", header[id_index])
            patient = patient_from_dict(record, source, memo=memo.reads if memo else None)
            if patient.warnings:
                _locate(patient, where, line, source, summary)
        except TrialscreenError as exc:
            column = exc.column if isinstance(exc, RowError) else column_of(exc, where)
            fail_row(summary, writer, trials, line, pid, row_message(line, column, exc.message, exc.value,
                                                                  "" if isinstance(exc, RowError) else exc.hint))
        except Exception as exc:  # a bug: this row is lost, the batch is not
            bug_row(summary, writer, trials, line, pid, exc)
        else:
            screen_patient(summary, writer, trials, patient, line, pid, dates, max_lab_age, memo)


def screen_patient(summary: Summary, writer: Writer, trials, patient, line: int, pid: str,
                    dates: tuple, max_lab_age, memo: Memos | None = None) -> None:
    """Screen one patient against every trial, writing and counting each result."""
    as_of, today = dates
    for tally, trial in zip(summary.trials, trials):
        try:
            result = screen(trial, patient, as_of, explain=writer.explain, max_lab_age=max_lab_age,
                            memo=memo.criteria if memo else None, today=today)
        except Exception as exc:
            bug_row(summary, writer, [trial], line, pid, exc, tallies=[tally])
            continue
        tally.add(result)
        writer.result(line, result)
        summary.rows_out += 1


_SHOWN_CELL_WARNINGS = 20


def _locate(patient, where: dict, line: int, source: str, summary: Summary) -> None:
    """Say a record's warnings (a cell that cannot be used, an unrecognised finding) by
    row and column, in the patient's warnings (JSON Lines), in the explanation of the
    criteria it leaves unknown (the 'missing' cell), and in the first few on stderr."""
    located: list = []
    columns: dict = {}
    for w in patient.warnings:
        column = column_of(PatientError(w.message, w.location), where) or w.location.field
        located.append(Problem(Location(source, row=line, field=column), w.message, w.hint, w.severity))
        columns.setdefault(".".join((w.location.field or "").split(".")[:2]), column)
    patient.warnings = located
    for name, lab in patient.labs.items():
        if lab.problem and f"labs.{name}" in columns:
            patient.labs[name] = replace(lab, problem=f"column '{columns[f'labs.{name}']}': {lab.problem}")
    summary.unusable_cells += sum(w.message.endswith(UNUSABLE) for w in located)
    room = _SHOWN_CELL_WARNINGS - len(summary.warnings)
    for w in located[:max(room, 0)]:
        summary.warnings.append(row_message(line, w.location.field, w.message, hint=w.hint))


_UNDECODED = re.compile("[\udc80-\udcff]")


def _not_utf8(cells) -> int | None:
    """The index of the first cell holding undecodable bytes (kept as surrogates)."""
    if not _UNDECODED.search("".join(cells)):
        return None
    return next(i for i, cell in enumerate(cells) if _UNDECODED.search(cell))


def row_message(line: int, column: str | None, message: str, value=None, hint: str = "") -> str:
    from trialscreen import errors

    if value is not None and errors.SHOW_VALUES:
        message += f" (value: {value!r})"
    if hint:
        message += f" ({hint})"
    return f"row {line}, column '{column}': {message}" if column else f"row {line}: {message}"


def fail_row(summary: Summary, writer: Writer, trials, line: int, pid: str, message: str, tallies=None) -> None:
    summary.error_rows += 1
    if len(summary.errors) < 20:
        summary.errors.append(message)
    for tally, trial in zip(tallies or summary.trials, trials):
        tally.verdicts[ERROR] += 1
        writer.error(line, pid, trial, message)
        summary.rows_out += 1


def bug_row(summary: Summary, writer: Writer, trials, line: int, pid: str, exc: Exception, tallies=None) -> None:
    """A bug met on one row: the row is reported as an error, the batch goes on,
    and the command ends with the exit code for bugs."""
    summary.internal_errors += 1
    fail_row(summary, writer, trials, line, pid,
          row_message(line, None, f"internal error ({type(exc).__name__}); this is a bug, please report it"),
          tallies)


def open_text(binary) -> io.TextIOWrapper:
    """Text over a binary stream: UTF-8 with or without BOM; bad bytes are kept
    as surrogates so that only their row fails, not the whole file."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")

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
from collections import Counter
from dataclasses import replace
from datetime import date

from trialscreen.batch.cells import RowError
from trialscreen.batch.columns import ColumnPlan
from trialscreen.batch.csvrows import csv_rows
from trialscreen.batch.header import UNDECODED, read_header
from trialscreen.batch.ids import Ids
from trialscreen.batch.mapping import Mapping
from trialscreen.batch.plan import plan_columns
from trialscreen.batch.reuse import DistinctRows
from trialscreen.batch.rows import column_of, row_to_record
from trialscreen.batch.tally import ERROR, Memos, Summary, TrialTally
from trialscreen.errors import Location, PatientError, Problem, TrialscreenError, UsageError
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.evaluate.screen import screen
from trialscreen.patient.load import patient_from_dict
from trialscreen.patient.memo import ReadMemo
from trialscreen.patient.reader import UNUSABLE
from trialscreen.render.batch import Writer

csv.field_size_limit(1_000_000)


def run_batch(stream, source: str, trials, writer: Writer, *, mapping: Mapping | None = None,
              as_of: date | None = None, delimiter: str | None = None, decimal_comma: bool | None = None,
              progress=None, max_lab_age=None, reuse: bool = True, memos: Memos | None = None,
              duplicate_ids: str = "warn", encoding: str | None = None) -> Summary:
    """Screen every row of ``stream`` (text, opened with newline='') against ``trials``.
    What repeats from row to row is read and evaluated once (in ``memos``, or new ones);
    ``reuse=False`` reads and evaluates every row afresh, which gives the same output
    (tests/test_batch_reuse.py compares the two). ``duplicate_ids``: 'warn' reports ids given on
    several rows in the summary; 'error' also makes every repeat after the first an error row."""
    memo = (memos or Memos(ReadMemo(), CriterionMemo())) if reuse else None
    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    delim, header, plan, offset = _read_header(stream, source, mapping, delimiter, decimal_comma, trials)
    if hasattr(stream, "planned"):      # a workbook: its date cells in the mapping's date_format
        stream.planned(plan)
    plan.encoding = "UTF-8" if encoding is None or encoding.replace("-", "").lower().startswith("utf8") else encoding
    today = date.today()     # the as-of date of rows with none, taken once: a run past midnight keeps its day
    fast = None
    if memo is not None:
        fast = memo.rows = DistinctRows(plan, source, trials, summary.trials, writer, as_of, max_lab_age,
                                        memo.reads, today=today)
    writer.start()
    _note_plan(summary, plan, trials)
    id_index = next(c.index for c in plan.columns if c.kind == "id")
    ids = Ids(id_index, duplicate_ids == "error")
    block: list = []
    width, constants = plan.width, plan.constants
    header = header + [c.header for c in plan.columns if c.constant is not None]
    # the header (and a sep= line) were read apart: the first row is on line offset + 1
    for line, cells, unreadable in csv_rows(stream, delim, offset + 1):
        if cells is None:
            block.append((line, None, unreadable))
        elif any(c.strip() for c in cells):
            if constants and len(cells) == width:
                cells.extend(constants)     # the mapping's constants: cells of every row
            block.append((line, cells, None))
        else:                       # a blank row (Excel's: delimiters and nothing else)
            summary.blank_rows += 1
        if len(block) == (fast.block if fast is not None else _BLOCK):
            _screen_block(summary, writer, trials, plan, header, ids, block, source, (as_of, today),
                          max_lab_age, memo, fast, progress)
            block = []
    _screen_block(summary, writer, trials, plan, header, ids, block, source, (as_of, today), max_lab_age,
                  memo, fast, progress)
    summary.warnings.extend(_cell_warning_lines(summary))
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
    """Screen a block of rows [(line, cells or None, why it cannot be read)] in their order: from the
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
        if UNDECODED.search("".join(["".join(block[i][1]) for i in plain])):   # bad bytes: one search a block
            plain = [i for i in plain if _not_utf8(block[i][1], plan) is None]
        try:
            screened = fast.outcomes([(block[i][1], block[i][1][id_index].strip()) for i in plain])
        except Exception:  # noqa: BLE001 - a bug on the fast path: the block is read row by row, where it is reported
            screened = []
        found = {i: outcome for i, outcome in zip(plain, screened) if outcome is not None}
    for i, (line, cells, exc) in enumerate(block):
        summary.rows_in += 1
        if cells is None:
            fail_row(summary, writer, trials, line, f"row {line}",
                     row_message(line, None, exc, hint="check the quotes in this row"))
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
                 decimal_comma: bool | None, trials=None) -> tuple[str, list[str], ColumnPlan, int]:
    """Read and check the header row: the delimiter, the header cells and the column plan."""
    delim, header, offset = read_header(stream, source, mapping, delimiter)
    plan: ColumnPlan = plan_columns(header, mapping, source, trials, header_line=offset)
    if decimal_comma is not None:
        plan.decimal_comma = decimal_comma
    if plan.decimal_comma and delim == ",":
        raise UsageError("a decimal comma cannot be read in a comma-delimited file",
                         hint="use --delimiter ';' or a tab-delimited export")
    return delim, header, plan, offset


def _note_plan(summary: Summary, plan: ColumnPlan, trials) -> None:
    """Put the column plan's warnings, the partly encoded trials and the ignored columns in the summary."""
    summary.warnings.extend(plan.warnings)
    for t in trials:
        if not t.complete:
            summary.warnings.append(f"{t.id} is only partly encoded: its verdicts cover only the encoded "
                                    f"criteria (not encoded: {'; '.join(t.not_encoded)})")
    summary.ignored_columns = plan.ignored
    summary.unused_columns = plan.unused
    summary.notes.extend(plan.notes)


def _screen_row(summary: Summary, writer: Writer, trials, plan: ColumnPlan, header: list[str], id_index: int,
                cells: list[str], line: int, source: str, dates: tuple, max_lab_age,
                memo: Memos | None = None) -> None:
    """Read one non-blank row into a patient and screen it, or write its error rows."""
    width = len(header)
    pid = cells[id_index].strip() if id_index < len(cells) else ""
    pid = pid or f"row {line}"
    if len(cells) != width:
        fail_row(summary, writer, trials, line, pid,
                 f"row {line}: {len(cells)} cells where the header has {plan.width}")
    elif (bad := _not_utf8(cells, plan)) is not None:
        fail_row(summary, writer, trials, line, pid,
                 row_message(line, header[bad], f"holds bytes that are not {plan.encoding}",
                             hint="save the file as UTF-8, or say its encoding (--encoding cp1252)"))
    else:
        try:
            patient, problems = _read_row(plan, cells, header, id_index, line, source, summary, memo)
        except Exception as exc:  # a bug: this row is lost, the batch is not
            bug_row(summary, writer, trials, line, pid, exc)
            return
        if problems:
            fail_row(summary, writer, trials, line, pid, "; ".join(problems))
        else:
            screen_patient(summary, writer, trials, patient, line, pid, dates, max_lab_age, memo)


_MOST_PROBLEMS = 20     # bad cells named for one row


def _read_row(plan: ColumnPlan, cells: list[str], header: list[str], id_index: int, line: int, source: str,
              summary: Summary, memo: Memos | None) -> tuple:
    """(patient, []) for a row that reads, else (None, the message of every bad cell): after a
    cell the reader refuses, the row is read again without that column, to find the next."""
    problems: list[str] = []
    while True:
        where: dict = {}
        try:
            record, where = row_to_record(plan, cells)
            if "id" not in record:
                raise RowError("the id cell is empty", header[id_index])
            patient = patient_from_dict(record, source, memo=memo.reads if memo else None)
        except TrialscreenError as exc:
            errors = [exc, *getattr(exc, "others", [])]
            bad = []
            for err in errors:
                column = err.column if isinstance(err, RowError) else column_of(err, where)
                hint = "" if isinstance(err, RowError) else err.hint
                text = row_message(line, column, err.message, err.value, hint)
                prefix = f"row {line}, "
                problems.append(text[len(prefix):] if problems and text.startswith(prefix) else text)
                bad.append(column)
            kept = [c for c in plan.columns if c.kind == "id" or c.header not in bad]
            if None in bad or len(problems) >= _MOST_PROBLEMS or len(kept) == len(plan.columns):
                return None, problems
            plan = replace(plan, columns=kept, roles={})
            continue
        if problems:
            return None, problems
        if patient.warnings:
            _locate(patient, where, line, source, summary)
        return patient, []


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


_CELL_WARNINGS = 200     # distinct (column, message) pairs kept for the summary; more are counted
_ROWS_NAMED = 5          # rows named per pair; the others only counted (memory stays flat)


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
    for w in located:
        key = (w.location.field, w.message, w.hint)
        if key in summary.cell_warnings or len(summary.cell_warnings) < _CELL_WARNINGS:
            seen = summary.cell_warnings.setdefault(key, [0, []])    # rows said, the first 5 of them
            seen[0] += 1
            if len(seen[1]) < _ROWS_NAMED:
                seen[1].append(line)
        else:
            summary.cell_warnings_dropped += 1


def _cell_warning_lines(summary: Summary) -> list[str]:
    """One line per column and message, however many rows say it: the first rows named."""
    lines = []
    for (column, message, hint), (count, rows) in summary.cell_warnings.items():
        if count == 1:
            lines.append(row_message(rows[0], column, message, hint=hint))
            continue
        more = f" and {count - len(rows):,} more" if count > len(rows) else ""
        where = f"column '{column}': " if column else ""
        named = ", ".join(map(str, rows))
        lines.append(f"{where}{message}{f' ({hint})' if hint else ''}: {count:,} rows ({named}{more})")
    if summary.cell_warnings_dropped:
        lines.append(f"... and {summary.cell_warnings_dropped:,} more cell warnings of other kinds")
    return lines




def _not_utf8(cells, plan: ColumnPlan) -> int | None:
    """The index of the first cell the plan reads holding undecodable bytes (kept as
    surrogates); a column no trial reads may hold any bytes."""
    if not UNDECODED.search("".join(cells)):
        return None
    used = sorted({c.index for c in plan.columns if c.constant is None})
    return next((i for i in used if i < len(cells) and UNDECODED.search(cells[i])), None)


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


def open_text(binary, encoding: str | None = None) -> io.TextIOWrapper:
    """Text over a binary stream: UTF-8 with or without BOM (or ``encoding``); bad bytes are
    kept as surrogates so that only a row that reads them fails, not the whole file."""
    if encoding is None or encoding.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
        encoding = "utf-8-sig"
    from trialscreen.batch.sources import DecodedText

    return DecodedText(binary, encoding=encoding, errors="surrogateescape", newline="")

"""A batch reuses what repeats from row to row (record parts read, criteria and leaves
evaluated: patient/memo.py, evaluate/reuse.py). It must not change one byte: every example
and corpus CSV, a bench file and a file whose cells never repeat give the same output rows,
summary and warnings with reuse as without it, in CSV and JSON Lines, for one trial and for
all, and with memos so small that they are emptied again and again."""

from __future__ import annotations

import io
import random
import sys
from datetime import date
from pathlib import Path

import pytest

from conftest import ROOT
from trialscreen.batch.mapping import load_mapping
from trialscreen.batch.run import run_batch
from trialscreen.batch.tally import Memos
from trialscreen.criteria.library import bundled_trials, load_trial
from trialscreen.errors import TrialscreenError
from trialscreen.evaluate.reuse import CriterionMemo
from trialscreen.patient.memo import ReadMemo, freeze
from trialscreen.render.batch import Writer

sys.path.insert(0, str(ROOT / "bench"))
from batch import HEADER, NARROW, make_distinct_row, make_row  # type: ignore[import-not-found]  # noqa: E402

CSVS = sorted([*(ROOT / "examples" / "batch").glob("*.csv"), *(ROOT / "tests" / "corpus" / "csv").glob("*.csv")])


def _generated(make, rows: int, seed: int, columns=HEADER) -> str:
    import csv

    rng = random.Random(seed)
    keep = [HEADER.index(c) for c in columns]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for i in range(rows):
        row = make(rng, i)
        w.writerow([row[k] for k in keep])
    return out.getvalue()


def _run(text: str, trials, fmt: str, mapping, memos, as_of=None) -> tuple:
    out = io.StringIO()
    try:
        summary = run_batch(io.StringIO(text, newline=""), "in.csv", trials, Writer(out, fmt, trials),
                            mapping=mapping, as_of=as_of, reuse=memos is not None, memos=memos)
    except TrialscreenError as exc:     # a file refused as a whole is refused the same way
        return "refused", str(exc)
    return out.getvalue(), summary.as_dict(), summary.errors


def _same(text: str, mapping=None, limit: int | None = None) -> None:
    for trials in ([load_trial("NCT05378971")], [load_trial(str(p)) for p in bundled_trials()]):
        for fmt in ("csv", "jsonl"):
            memos = Memos(ReadMemo(limit or 100_000), CriterionMemo(limit or 50_000))
            if limit:
                memos.criteria.leaves.limit = limit
            assert _run(text, trials, fmt, mapping, memos) == _run(text, trials, fmt, mapping, None)


def _repeated(path: Path) -> str:
    """The file with its data rows three times over: the second and third copies are read
    from the memos (errors and warnings included)."""
    raw = path.read_bytes().decode("utf-8", "surrogateescape")
    head, _, body = raw.partition("\n")
    return head + "\n" + (body if body.endswith("\n") or not body else body + "\n") * 3


@pytest.mark.parametrize("path", CSVS, ids=lambda p: p.name)
def test_reuse_changes_nothing_on_every_example_and_corpus_file(path):
    columns = path.with_name(path.stem + "-columns.yaml")
    mapping = load_mapping(str(columns)) if columns.exists() else None
    _same(_repeated(path), mapping)


def test_reuse_changes_nothing_on_the_bench_files_and_on_one_whose_cells_never_repeat():
    _same(_generated(make_row, 600, seed=3))
    _same(_generated(make_row, 600, seed=3, columns=NARROW))
    _same(_generated(make_distinct_row, 300, seed=4))


def _as_of_cycling(row: list[str], i: int) -> list[str]:
    row[HEADER.index("as_of")] = ("2025-06-02", "2025-07-15", "2026-01-01")[i % 3]
    return row


_IDS = ("A,1", 'B"2', "C\nline", " D ", "É-5", "F\x1b[31m", "G\udcff", "")


def test_ids_that_need_quoting_or_escaping_are_written_as_the_per_row_engine_writes_them():
    """The fast path writes a repeated line around the row's id: ids with the delimiter, a
    quote, a line break, spaces, accents, terminal escapes, bad bytes or nothing at all come
    out as csv.writer and JSON write them."""
    def make(rng, i):
        row = make_row(rng, i)
        row[0] = _IDS[i % len(_IDS)] + (str(i) if i % 3 else "")
        return row

    _same(_generated(make, 48, seed=9))


def test_criteria_with_no_column_in_the_file_are_evaluated_once_for_the_file(monkeypatch):
    """A file of ids and ECOG 0 to 4: the ECOG criterion (0-3) is evaluated once per distinct
    result of its leaf (met, not met), every other criterion (its inputs absent from every
    row) once for the whole file."""
    from collections import Counter

    import trialscreen.batch.reuse as reuse

    calls: Counter = Counter()
    real = reuse.evaluate_criterion

    def counting(criterion, ctx):
        calls[criterion.id] += 1
        return real(criterion, ctx)

    monkeypatch.setattr(reuse, "evaluate_criterion", counting)
    text = "id,ecog\n" + "".join(f"P{i},{i % 5}\n" for i in range(300))
    trials = [load_trial("NCT05378971")]
    reused = _run(text, trials, "csv", None, Memos(ReadMemo(), CriterionMemo()), as_of=date(2025, 6, 1))
    assert reused == _run(text, trials, "csv", None, None, as_of=date(2025, 6, 1))
    assert calls.pop("I4") == 2
    assert set(calls) == {c.id for c in trials[0].criteria} - {"I4"} and set(calls.values()) == {1}


def test_the_same_cells_on_other_as_of_dates_are_judged_on_those_dates():
    """Rows alike but for the as-of date: labs go stale and ages change with it."""
    _same(_generated(lambda rng, i: _as_of_cycling(make_row(rng, i), i), 300, seed=6))


def test_memos_emptied_when_full_change_nothing(monkeypatch):
    import trialscreen.batch.reuse as reuse

    _same(_generated(make_row, 300, seed=5), limit=7)
    # the fast path's tables emptied every block or so, and the two ways timed again each time
    monkeypatch.setattr(reuse, "_TRIAL_ROWS", 16)
    monkeypatch.setattr(reuse, "_BUDGET", 60_000)
    _same(_generated(make_row, 300, seed=5))


@pytest.mark.parametrize("fast_block, plain_block, kept", [(10.0, 1.0, False), (1.0, 10.0, True)])
def test_the_faster_way_reads_the_rest_of_the_file_and_that_changes_nothing(monkeypatch, fast_block,
                                                                             plain_block, kept):
    """The first block warms the tables up, the second is timed on the fast path, the third
    row by row; the faster way reads the rest. Either way the output is the per-row engine's
    (the clock is scripted here: a file whose cells never repeat, in blocks of 40 rows)."""
    import trialscreen.batch.reuse as reuse

    ticks = iter([0.0, 1.0, 0.0, fast_block, 0.0, plain_block, 0.0, 1.0, 0.0, 1.0])
    monkeypatch.setattr(reuse, "_TRIAL_ROWS", 40)
    monkeypatch.setattr(reuse, "_clock", lambda: next(ticks))
    text = _generated(make_distinct_row, 200, seed=8)
    trials = [load_trial("NCT05378971")]
    memos = Memos(ReadMemo(), CriterionMemo())
    assert _run(text, trials, "csv", None, memos) == _run(text, trials, "csv", None, None)
    assert memos.rows is not None and memos.rows.decided and memos.rows.on is kept
    assert memos.rows.seconds == {True: fast_block, False: plain_block}


def test_values_equal_but_written_differently_keep_their_own_words():
    """-0.0 equals 0.0, but an age recorded as -0.0 is explained as written (found in review)."""
    text = "id,age,as_of\nA,0,2025-01-01\nB,-0.0,2025-01-01\nC,0,2025-01-01\nD,-0.0,2025-01-01\n"
    trials = [load_trial("NCT05378971")]
    for fmt in ("csv", "jsonl"):
        reused = _run(text, trials, fmt, None, Memos(ReadMemo(), CriterionMemo()), as_of=date(2025, 6, 1))
        assert reused == _run(text, trials, fmt, None, None, as_of=date(2025, 6, 1))


def test_a_bug_while_reading_one_row_loses_that_row_only(monkeypatch):
    """A reader bug on one row (here forced) is that row's internal error, with or without
    reuse; the batch goes on (found in review: reuse let it escape)."""
    import trialscreen.patient.load as load

    real = load.read_lab

    def broken(r, analyte, raw, *args, **kwargs):
        if raw == "4.2 mg/dL":
            raise ZeroDivisionError("forced")
        return real(r, analyte, raw, *args, **kwargs)

    monkeypatch.setattr(load, "read_lab", broken)
    text = "id,creatinine\nA,1.0 mg/dL\nB,4.2 mg/dL\nC,1.0 mg/dL\nD,4.2 mg/dL\n"
    trials = [load_trial("NCT05378971")]
    reused = _run(text, trials, "csv", None, Memos(ReadMemo(), CriterionMemo()))
    assert reused == _run(text, trials, "csv", None, None)
    assert reused[0].count("internal error (ZeroDivisionError)") == 2


def test_memos_kept_from_another_file_do_not_leak_into_this_one():
    """The same cells mean other things in another file (a unit in the header): memos shared
    between two runs give each file its own result (found in review)."""
    trials = [load_trial("NCT05378971")]
    first = "id,as_of,lab_date,bilirubin [umol/L]\nA,2025-06-02,2025-05-28,20\n"
    second = "id,as_of,lab_date,bilirubin [mg/dL]\nB,2025-06-02,2025-05-28,20\n"
    memos = Memos(ReadMemo(), CriterionMemo())
    _run(first, trials, "csv", None, memos)
    assert _run(second, trials, "csv", None, memos) == _run(second, trials, "csv", None, None)


def test_the_memo_keys_tell_types_apart():
    keys = {freeze(v) for v in (1, 1.0, True, "1", 0.0, -0.0, None, [1], (1,), {"a": 1}, {"a": "1"})}
    assert len(keys) == 10   # [1] and (1,) are both a list of one 1: the record reader sees no difference


def _entries(rows) -> tuple[int, int]:
    """(entries, characters of output lines) the fast path's tables hold between them."""
    entries = sum(map(len, rows.tables)) + len(rows.results) + len(rows.leaves.interned)
    entries += sum(len(t) for _, _, _, tables in rows.leaves.nodes.values() for t in tables.values())
    size = 0
    for _, _, criteria, table in rows.trials:
        entries += len(table) + sum(len(c.evaluated) + len(c.signed) for c in criteria)
        size += sum(len(o.template[0]) + len(o.template[1]) if isinstance(o.template, tuple)
                    else len(o.template or "") for o in table.values())
    return entries, size


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_budget_counts_every_entry_and_the_bytes_of_the_lines_kept(monkeypatch, fmt):
    """JSON Lines outcomes with explanations are about 20 KiB each: the budget counts the
    characters of every line kept, and at least the size of a key for every entry of every
    table, a reading's for every reading (found in review: 477 MiB at 29,000 rows, as lines
    and criteria results went uncounted)."""
    import trialscreen.batch.reuse as reuse

    monkeypatch.setattr(reuse, "_BUDGET", 10**12)         # never emptied: everything stays counted
    text = _generated(make_distinct_row, 300, seed=11)
    trials = [load_trial(str(p)) for p in bundled_trials()]
    memos = Memos(ReadMemo(), CriterionMemo())
    monkeypatch.setattr(reuse, "_clock", lambda: 0.0)      # a tie: the fast path goes on
    assert _run(text, trials, fmt, None, memos) == _run(text, trials, fmt, None, None)
    rows = memos.rows
    assert rows is not None and rows.on
    entries, size = _entries(rows)
    readings = sum(map(len, rows.tables))
    assert entries > 300 and rows.kept >= 120 * entries + 1500 * readings + size


def test_tables_that_fill_within_a_block_still_let_the_rows_go_row_by_row(monkeypatch):
    """Five trials on a file whose cells never repeat fill the tables within a block: they are
    emptied, the two ways are still timed, and the rest is read row by row (found in review:
    the timing started over at every block and the rows never went row by row)."""
    import trialscreen.batch.reuse as reuse

    ticks = iter([0.0, 1.0, 0.0, 10.0, 0.0, 1.0] + [0.0] * 40)
    monkeypatch.setattr(reuse, "_TRIAL_ROWS", 40)
    monkeypatch.setattr(reuse, "_BUDGET", 50_000)
    monkeypatch.setattr(reuse, "_clock", lambda: next(ticks))
    text = _generated(make_distinct_row, 200, seed=12)
    trials = [load_trial(str(p)) for p in bundled_trials()]
    memos = Memos(ReadMemo(), CriterionMemo())
    assert _run(text, trials, "csv", None, memos) == _run(text, trials, "csv", None, None)
    assert memos.rows is not None and memos.rows.decided and not memos.rows.on and memos.rows.plain


def test_a_trial_reading_a_path_the_fast_path_cannot_place_keeps_every_row_read_whole(monkeypatch):
    """A criterion of the second trial reads a path no column group holds (forced here): every
    row is read whole, before and after the blocks that time the two ways (found in review:
    the timing turned the fast path on and the batch crashed)."""
    import trialscreen.batch.reuse as reuse

    real = reuse.group_of
    monkeypatch.setattr(reuse, "group_of", lambda path: None if path == "ecog" else real(path))
    monkeypatch.setattr(reuse, "_TRIAL_ROWS", 16)
    text = _generated(make_row, 120, seed=13)
    trials = [load_trial("NCT05378971"), *(load_trial(str(p)) for p in bundled_trials())]
    memos = Memos(ReadMemo(), CriterionMemo())
    assert _run(text, trials, "csv", None, memos) == _run(text, trials, "csv", None, None)
    assert memos.rows is not None and not memos.rows.on


def test_a_batch_past_midnight_screens_every_row_on_the_day_it_started(monkeypatch):
    """Rows with no as-of date are screened on the day the batch started, on both paths,
    even when the clock passes midnight during the run (found in review)."""
    import trialscreen.batch.reuse as reuse
    import trialscreen.batch.run as run
    import trialscreen.evaluate.screen as screen_module

    class Clock(date):
        days = iter(())

        @classmethod
        def today(cls):
            return next(cls.days)

    for module in (run, reuse, screen_module):
        monkeypatch.setattr(module, "date", Clock)
    text = _generated(make_row, 60, seed=14).replace(",as_of,", ",as_of_not_read,", 1)
    trials = [load_trial("NCT05378971")]
    for memos in (Memos(ReadMemo(), CriterionMemo()), None):
        Clock.days = (date.fromordinal(date(2025, 6, 1).toordinal() + k) for k in range(10**6))
        out, _, _ = _run(text, trials, "jsonl", None, memos)
        assert {line.split('"as_of": ')[1][:12] for line in out.splitlines()} == {'"2025-06-01"'}


def test_a_bug_on_the_fast_path_sends_its_block_row_by_row(monkeypatch):
    """Combining a trial's results raises on the fast path (forced here): the block is read
    row by row, and the output is the per-row engine's (found in review: the batch crashed)."""
    import trialscreen.batch.reuse as reuse

    def broken(*args):
        raise ZeroDivisionError("forced")

    monkeypatch.setattr(reuse, "combine", broken)
    text = _generated(make_row, 100, seed=15)
    trials = [load_trial("NCT05378971")]
    assert _run(text, trials, "csv", None, Memos(ReadMemo(), CriterionMemo())) == _run(text, trials, "csv", None, None)

"""10,000 rows, one in ten broken in a different way: rows in equal rows out,
every broken row reported with its row number, none of them eligible."""

import csv
import io
import sys

import pytest

from conftest import ROOT
from trialscreen.batch.run import open_text, run_batch
from trialscreen.criteria.library import load_trial
from trialscreen.render.batch import Writer

sys.path.insert(0, str(ROOT / "bench"))
from batch import HEADER, make_row  # noqa: E402

COL = {name: i for i, name in enumerate(HEADER)}


def _set(row, column, value):
    row = list(row)
    row[COL[column]] = value
    return row


# Each corruption: (name, how it breaks a good row, words the error cell must hold, or, for
# a cell that is read but cannot be used, None: the row is screened with that value unknown)
CORRUPTIONS = [
    ("bad number", lambda r: _set(r, "creatinine", "1..2 mg/dL"), None),
    ("unknown unit", lambda r: _set(r, "platelets", "150 furlongs"), None),
    ("too few cells", lambda r: r[:-3], "cells where the header has"),
    ("too many cells", lambda r: r + ["x", "y"], "cells where the header has"),
    ("bad date", lambda r: _set(r, "birth_date", "1961-02-30"), "column 'birth_date'"),
    ("impossible ECOG", lambda r: _set(r, "ecog", "7"), "column 'ecog'"),
    ("negative count", lambda r: _set(r, "platelets", "-5 x10^9/L"), None),
    ("NaN", lambda r: _set(r, "anc", "nan x10^9/L"), None),
    ("infinity", lambda r: _set(r, "bilirubin", "1e999 mg/dL"), None),
    ("empty id", lambda r: _set(r, "id", ""), "id"),
    ("bad qualitative", lambda r: _set(r, "del(17p)", "maybe"), None),
    ("bad neoplasm JSON", lambda r: _set(r, "neoplasms", "[{oops"), "column 'neoplasms'"),
    ("non-UTF-8", None, "not UTF-8"),
]


def build(rows: int):
    """The file as bytes, and for each data row its corruption (or None)."""
    import random

    rng = random.Random(5)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(HEADER)
    plan = []
    lines = []
    for i in range(rows):
        row = make_row(rng, i)
        kind = CORRUPTIONS[(i // 10) % len(CORRUPTIONS)] if i % 10 == 9 else None
        if kind and kind[1] is not None:
            row = kind[1](row)
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(row)
        line = buf.getvalue().encode()
        if kind and kind[1] is None:
            line = line.replace(b"female", b"f\xe9male").replace(b",male", b",m\xe9le")
        lines.append(line)
        plan.append(kind)
    data = out.getvalue().encode() + b"".join(lines)
    return data, plan


@pytest.fixture(scope="module")
def outcome():
    data, plan = build(10_000)
    trial = load_trial("NCT05378971")
    sink = io.StringIO()
    writer = Writer(sink, "csv", [trial])
    with open_text(io.BytesIO(data)) as stream:
        summary = run_batch(stream, "big.csv", [trial], writer)
    rows = list(csv.DictReader(io.StringIO(sink.getvalue())))
    return summary, rows, plan


def test_rows_in_equal_rows_out(outcome):
    summary, rows, plan = outcome
    assert summary.rows_in == summary.rows_out == len(rows) == len(plan) == 10_000
    assert [r["row"] for r in rows] == [str(i + 2) for i in range(10_000)]


def test_every_broken_row_is_reported_with_its_row_number(outcome):
    summary, rows, plan = outcome
    broken = [(r, kind) for r, kind in zip(rows, plan) if kind and kind[2] is not None]
    assert summary.error_rows == len(broken) == 538
    for row, (name, _, words) in broken:
        assert row["verdict"] == "error", (name, row)
        assert row["error"].startswith(f"row {row['row']}"), (name, row["error"])
        assert words in row["error"], (name, row["error"])


def test_a_cell_that_cannot_be_used_is_screened_unknown_never_eligible(outcome):
    summary, rows, plan = outcome
    unusable = [(r, kind) for r, kind in zip(rows, plan) if kind and kind[2] is None]
    assert summary.unusable_cells == len(unusable) == 462
    for row, (name, _, _) in unusable:
        assert row["verdict"] in ("ineligible", "needs_review"), (name, row)
        assert row["error"] == ""


def test_good_rows_are_screened_and_no_broken_row_is_eligible(outcome):
    summary, rows, plan = outcome
    for row, kind in zip(rows, plan):
        if kind:
            assert row["verdict"] != "eligible"
        else:
            assert row["verdict"] in ("eligible", "ineligible", "needs_review"), row
            assert row["error"] == ""
    assert summary.trials[0].verdicts["error"] == 538

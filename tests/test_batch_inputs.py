"""What `batch` and `screen` read besides one CSV file, as a user meets it (issue 14, items 4 and 5):
Excel workbooks, JSON Lines and folders of JSON records, Excel's blank rows and `sep=` line,
repeated ids, and Ctrl-C in the middle of a batch."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

TRIAL = "NCT05378971"
EXAMPLE = ROOT / "examples" / "batch" / "patients.csv"
ELIGIBLE = ROOT / "examples" / "patients" / "NCT05378971-eligible.json"


def rows_of(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return list(csv.DictReader(io.StringIO(text)))


def batch(run, *args):
    """`batch ... --trial NCT05378971 --as-of 2025-06-02`: typer's Result."""
    return run("batch", *map(str, args), "--trial", TRIAL, "--as-of", "2025-06-02")


def summary_of(run, tmp_path: Path, *args) -> tuple:
    """Run a batch into out.csv with --summary: (rows, summary dict, stderr, exit code)."""
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = batch(run, *args, "--out", out, "--summary", summary)
    data = json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}
    return (rows_of(out) if out.exists() else []), data, result.stderr, result.exit_code


# --- Ctrl-C ----------------------------------------------------------------------------------

def _big_csv(path: Path, rows: int) -> None:
    header, *body = EXAMPLE.read_text(encoding="utf-8").splitlines()
    with path.open("w", encoding="utf-8") as f:
        f.write(header + "\n")
        for i in range(rows):
            line = body[i % len(body)]
            f.write(f"P-{i:07d}" + line[line.index(","):] + "\n")


# The child restores Python's own SIGINT handler: a process started in the background by a shell
# without job control inherits SIGINT ignored, and Python then installs no handler at all.
_CHILD = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "from trialscreen_cli.main import run; sys.argv[0] = 'trialscreen'; run(sys.argv[1:])")


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_ctrl_c_keeps_the_complete_rows_and_exits_130(tmp_path, suffix):
    source, out = tmp_path / "big.csv", tmp_path / f"out{suffix}"
    _big_csv(source, 300_000)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "cli")])}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, "batch", str(source), "--trial", TRIAL,
                              "--as-of", "2025-06-02", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size < 200_000) and time.monotonic() < deadline:
        assert child.poll() is None, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    said = lines[0]
    assert said.startswith("trialscreen: interrupted after ") and f"written so far are in {out}" in said, said
    written = int(said.split("after ")[1].split(" rows")[0].replace(",", ""))
    assert f"; the {written:,} rows written so far" in said
    assert 0 < written < 300_000
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    rows = rows_of(out)               # every line parses
    assert len(rows) == written
    ids = [r["id"] if suffix == ".csv" else r["patient"]["id"] for r in rows]
    assert ids == [f"P-{i:07d}" for i in range(written)]      # in order, none cut short
    if suffix == ".csv":
        assert all(r["row"].isdigit() and r["verdict"] for r in rows)


def test_the_complete_lines_of_a_file_cut_short(tmp_path):
    from trialscreen_cli.shared import complete_lines

    cut = tmp_path / "cut.csv"
    cut.write_bytes(b"id,row\nA,2\nB,3\nC,")
    assert complete_lines(str(cut)) == 3
    assert cut.read_bytes() == b"id,row\nA,2\nB,3\n"
    whole = tmp_path / "whole.csv"
    whole.write_bytes(b"id,row\nA,2\n")
    assert complete_lines(str(whole)) == 2 and whole.read_bytes() == b"id,row\nA,2\n"

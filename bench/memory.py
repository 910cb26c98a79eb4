"""Benchmark: peak memory of `trialscreen batch` as the number of rows grows.

Rows are generated on the fly and piped into `trialscreen batch -` (nothing
is written to disk), and the batch process reports its own peak resident
memory. Flat memory means the peak hardly moves from the smallest run to the
largest.

    python bench/memory.py                       # 10,000 and 100,000 rows
    python bench/memory.py --rows 10000 1000000  # the million-row check (minutes)
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch import HEADER, make_row  # noqa: E402

CHILD = """
import resource, runpy, sys
sys.argv = ["trialscreen"] + sys.argv[1:]
try:
    runpy.run_module("trialscreen", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stderr.write(f"peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n")
sys.exit(code)
"""


def measure(rows: int) -> tuple[int, float, int]:
    """(peak RSS in KiB, seconds, output rows) for a batch of ``rows`` patients."""
    cmd = [sys.executable, "-c", CHILD, "batch", "-", "--trial", "NCT05378971", "--as-of", "2025-06-02",
           "--quiet"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rng = random.Random(11)
    out_rows = 0

    import threading

    def drain():
        nonlocal out_rows
        for _ in proc.stdout:
            out_rows += 1

    reader = threading.Thread(target=drain)
    reader.start()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for i in range(rows):
        w.writerow(make_row(rng, i))
        if i % 2000 == 1999:
            proc.stdin.write(buf.getvalue().encode())
            buf.seek(0)
            buf.truncate()
    proc.stdin.write(buf.getvalue().encode())
    proc.stdin.close()
    reader.join()
    err = proc.stderr.read().decode()
    proc.wait()
    elapsed = time.perf_counter() - start
    peak = int(err.rsplit("peak_rss_kb=", 1)[1].split()[0])
    return peak, elapsed, out_rows - 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    args = ap.parse_args()
    results = []
    for n in args.rows:
        peak, secs, out = measure(n)
        results.append((n, peak))
        print(f"rows {n:>10,}: peak RSS {peak / 1024:7.1f} MiB, {secs:7.1f} s, output rows {out:,}")
    base = results[0][1]
    for n, peak in results[1:]:
        print(f"peak RSS at {n:,} rows / at {results[0][0]:,} rows: {peak / base:.2f}")


if __name__ == "__main__":
    main()

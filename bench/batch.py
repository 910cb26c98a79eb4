"""Benchmark: `trialscreen batch` against a plain csv.reader/csv.writer copy.

Generates synthetic CSVs of N patients with every field NCT05378971 needs, in mixed US
and SI units: the bench file (cells repeat from row to row as in real exports), the same
patients in 20 columns (labs, cytogenetics, ECOG, diagnosis, dates) and a
high-cardinality file (every patient its own as-of date, lab date and birth date, every
lab value with two decimals: the worst case for reuse). For each, it times alternately in
the same run, as fresh processes with start-up included:
  (a) the `trialscreen batch` command;
  (b) a bare Python script that copies the file row by row with csv.reader/csv.writer:
      the floor for any tool that reads and writes these rows;
  (c) the library's per-row engine (`run_batch(..., reuse=False)`: every row read and
      evaluated afresh, as before issue 11) and the library with reuse, at the same as-of
      date as (a), for the high-cardinality file: reuse must not be slower there.
It prints patients per second, the ratio batch / copy, and each process's peak memory.

    python bench/batch.py                          # 100,000 rows, 3 rounds
    python bench/batch.py --rows 100000 1000000 --distinct-rows 100000 --rounds 3
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = [
    "id", "as_of", "lab_date", "sex", "birth_date", "ecog", "weight", "childbearing_potential", "transplant_candidate",
    "diagnosis", "diagnosis_date", "diagnosis.symptomatic", "diagnosis.status",
    "induction_start", "induction_end", "asct_date", "complete",
    "alt", "alt_uln", "ast", "ast_uln", "bilirubin", "creatinine", "anc", "platelets", "m_protein",
    "hbsag", "anti_hbc", "hcv_antibody", "hiv_antibody",
    "del(17p)", "1q21 amplification", "t(4;14)", "t(14;16)", "t(14;20)", "t(11;14)", "TP53 mutation",
    "cns_involvement", "peripheral_neuropathy", "peripheral_neuropathy_grade", "serious_infection",
    "thrombosis", "progression", "neoplasms",
    "attestation.informed_consent_signed", "attestation.pomalidomide_tolerable",
    "attestation.refuses_contraception", "attestation.antithrombotic_therapy_accepted",
    "attestation.investigator_considers_suitable",
]

COPY = """
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as src, open(sys.argv[2], "w", newline="", encoding="utf-8") as dst:
    w = csv.writer(dst, lineterminator="\\n")
    for row in csv.reader(src):
        w.writerow(row)
"""


def _lab(rng, si: float, us: float, si_unit: str, us_unit: str, spread: float) -> str:
    value = rng.uniform(1 - spread, 1 + spread)
    if rng.random() < 0.5:
        return f"{si * value:.3g} {si_unit}"
    return f"{us * value:.3g} {us_unit}"


def make_row(rng: random.Random, i: int) -> list[str]:
    no = "not detected"
    return [
        f"P{i:07d}", "2025-06-02", "2025-05-28", rng.choice(["female", "male"]), f"{rng.randint(1940, 1990)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        str(rng.choice([0, 1, 1, 2, 3, 4])), rng.choice(["64 kg", "150 lb", "81 kg"]), "no", "yes",
        "multiple_myeloma", "2024-07-10", "yes", "newly_diagnosed",
        "2024-07-20", "2024-12-10", rng.choice(["2025-02-20", ""]), "treatments;neoplasms;allergies;diagnoses",
        f"{rng.randint(10, 150)} U/L", "40", f"{rng.randint(10, 150)} IU/L", "40",
        _lab(rng, 12, 0.7, "umol/L", "mg/dL", 0.9),
        _lab(rng, 120, 1.36, "umol/L", "mg/dL", 0.7),
        rng.choice([f"{rng.uniform(0.5, 4):.2f} x10^9/L", f"{rng.randint(500, 4000)} cells/uL",
                    f"{rng.uniform(0.5, 4):.1f} K/uL"]),
        rng.choice([f"{rng.randint(40, 300)} x10^9/L", f"{rng.randint(40, 300)} K/uL",
                    f"{rng.randint(40, 300) * 1000} /mm3"]),
        rng.choice(["2.5 g/L", "0.25 g/dL", "12 g/L"]),
        "negative", "negative", "negative", "negative",
        rng.choice([no] * 9 + ["detected"]), no, rng.choice([no] * 9 + ["detected"]), no, no, no, no,
        "no", "yes", str(rng.choice([1, 1, 2, 3])), "no", "no", "no", "[]",
        rng.choice(["yes", "yes", ""]), "yes", "no", "yes", "yes",
    ]


# the lab columns of HEADER whose values make_distinct_row spreads
_LABS = ("alt", "ast", "bilirubin", "creatinine", "anc", "platelets", "m_protein")


def make_distinct_row(rng: random.Random, i: int) -> list[str]:
    """The worst case for reuse: every patient its own as-of date, lab date and birth date, and
    every lab value with two decimals, so almost no cell repeats from row to row."""
    row = make_row(rng, i)
    day = 1 + i % 28
    row[HEADER.index("as_of")] = f"2025-06-{day:02d}"
    row[HEADER.index("lab_date")] = f"2025-05-{rng.randint(1, 28):02d}"
    row[HEADER.index("birth_date")] = f"{rng.randint(1930, 1999)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    for name in _LABS:
        k = HEADER.index(name)
        number, _, unit = row[k].partition(" ")
        try:
            row[k] = f"{float(number) * rng.uniform(0.9, 1.1):.2f} {unit}".strip()
        except ValueError:
            pass
    return row


# The 20-column export of the issue: the labs with their units, the cytogenetics, ECOG, the
# diagnosis and the dates, as a registry export holds them.
NARROW = ["id", "as_of", "lab_date", "sex", "birth_date", "ecog", "diagnosis", "diagnosis_date",
          "alt", "alt_uln", "ast", "bilirubin", "creatinine", "anc", "platelets", "m_protein",
          "del(17p)", "t(4;14)", "1q21 amplification", "cns_involvement"]


def generate(path: Path, rows: int, seed: int = 7, distinct: bool = False, columns: list | None = None) -> None:
    rng = random.Random(seed)
    make = make_distinct_row if distinct else make_row
    keep = [HEADER.index(c) for c in (columns or HEADER)]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([HEADER[k] for k in keep])
        for i in range(rows):
            row = make(rng, i)
            w.writerow([row[k] for k in keep])


PER_ROW = """
import sys
from datetime import date
from trialscreen.batch.run import open_text, run_batch
from trialscreen.criteria.library import load_trial
from trialscreen.render.batch import Writer
trials = [load_trial("NCT05378971")]
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "w", newline="", encoding="utf-8") as dst:
    run_batch(open_text(src), sys.argv[1], trials, Writer(dst, "csv", trials), as_of=date(2025, 6, 2),
              reuse=sys.argv[3] == "reuse")
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak resident memory in MiB) of one fresh process."""
    import os

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    return elapsed, usage.ru_maxrss / 1024


def _rounds(commands: dict, rounds: int) -> dict:
    """name -> (median seconds, peak MiB), the commands timed alternately."""
    runs: dict = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            runs[name].append(timed(cmd))
    return {name: (statistics.median(t for t, _ in r), max(m for _, m in r)) for name, r in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000])
    ap.add_argument("--distinct-rows", type=int, nargs="+", default=None,
                    help="sizes of the high-cardinality file (default: as --rows; 0: none); the per-row "
                         "engine takes about a millisecond a row there")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    distinct = args.distinct_rows if args.distinct_rows is not None else args.rows
    runs = [(rows, kind) for rows in args.rows for kind in ("bench", "narrow")]
    runs += [(rows, "distinct") for rows in distinct if rows > 0]
    exe = str(Path(sys.executable))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "copy.py").write_text(COPY)
        (tmp / "per_row.py").write_text(PER_ROW)
        for rows, kind in runs:
            distinct = kind == "distinct"
            data = tmp / "patients.csv"
            generate(data, rows, distinct=distinct, columns=NARROW if kind == "narrow" else None)
            commands = {
                "copy": [exe, str(tmp / "copy.py"), str(data), str(tmp / "copy.csv")],
                "batch": [exe, "-m", "trialscreen", "batch", str(data), "--trial", "NCT05378971",
                          "--as-of", "2025-06-02", "--out", str(tmp / "out.csv"), "--quiet"],
            }
            if distinct:
                commands["per-row engine"] = [exe, str(tmp / "per_row.py"), str(data), str(tmp / "pr.csv"), "no"]
                commands["reuse engine"] = [exe, str(tmp / "per_row.py"), str(data), str(tmp / "re.csv"), "reuse"]
            got = _rounds(commands, args.rounds)
            kind = {"bench": f"bench file ({len(HEADER)} columns)", "narrow": f"{len(NARROW)}-column file",
                    "distinct": "high-cardinality file"}[kind]
            (c, cm), (b, bm) = got["copy"], got["batch"]
            print(f"{kind}, {rows:,} rows, {args.rounds} rounds (medians):")
            print(f"  csv copy (floor):   {c:7.2f} s  {rows / c:10,.0f} rows/s      peak {cm:6.1f} MiB")
            print(f"  trialscreen batch:  {b:7.2f} s  {rows / b:10,.0f} patients/s  peak {bm:6.1f} MiB")
            print(f"  ratio batch / copy: {b / c:.2f}  (target <= 2.5 at 100,000 rows, <= 2.0 at 1,000,000)")
            if distinct:
                (p, pm), (r, rm) = got["per-row engine"], got["reuse engine"]
                print(f"  library, per-row engine: {p:7.2f} s  peak {pm:6.1f} MiB; with reuse: {r:7.2f} s "
                      f"peak {rm:6.1f} MiB; ratio {r / p:.2f}  (target <= 1)")


if __name__ == "__main__":
    main()

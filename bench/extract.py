"""Long extracts (issue 16): patients per second and peak memory of `batch --extract`, against the
same patients as a wide CSV (one row each, the latest result of every analyte) through `batch`,
the baseline, the two timed alternately in fresh processes in the same run.

A synthetic extract is written first (never real data): N patients with about 50 results each
(10 analytes, 5 draws, in a dictionary of local codes), a diagnosis and a prescription. Memory
must stay bounded by the largest patient, not the files: the run is also made at a fifth of the
size, and both peaks are printed.

    python bench/extract.py [--patients 100000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import csv
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2025, 6, 2)
# (local code, label, LOINC or '', unit, low, high, value range)
TESTS = [("50861", "ALT", "1742-6", "IU/L", "0", "40", (8, 90)), ("50878", "AST", "1920-8", "IU/L", "0", "40", (8, 90)),
         ("50885", "Bilirubin, Total", "1975-2", "mg/dL", "0.1", "1.2", (0.2, 2.5)),
         ("50912", "Creatinine", "", "mg/dL", "0.5", "1.2", (0.5, 2.6)),
         ("51256", "Neutrophils", "", "K/uL", "1.5", "7.5", (0.5, 6.0)),
         ("51265", "Platelet Count", "", "K/uL", "150", "400", (40, 350)),
         ("51222", "Hemoglobin", "718-7", "g/dL", "12", "16", (8, 16)),
         ("50893", "Calcium, Total", "17861-6", "mg/dL", "8.4", "10.3", (8, 12)),
         ("51003", "M protein", "", "g/dL", "", "", (0.1, 4)), ("51274", "PT", "", "sec", "9.4", "12.5", (9, 15))]
_CHILD = """
import resource, sys, time, io
from datetime import date
from trialscreen.criteria.library import load_trial
from trialscreen.render.batch import Writer
trials = [load_trial("NCT05378971")]
out = open(sys.argv[3], "w", newline="")
start = time.perf_counter()
if sys.argv[1] == "extract":
    from trialscreen.extract.run import run_extract
    from trialscreen.extract.spec import load_extract
    summary = run_extract(load_extract(sys.argv[2]), trials, Writer(out, "csv", trials), memory_limit=sys.argv[4])
else:
    from trialscreen.batch.run import run_batch
    with open(sys.argv[2], encoding="utf-8", newline="") as f:
        summary = run_batch(f, sys.argv[2], trials, Writer(out, "csv", trials), as_of=date(2025, 6, 2))
elapsed = time.perf_counter() - start
out.close()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(summary.rows_in, summary.error_rows, round(elapsed, 2), round(peak, 1))
"""


def write_extract(folder: Path, patients: int, seed: int = 16) -> int:
    """The extract and its wide twin into ``folder``; the number of result rows."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    results = 0
    with open(folder / "PATIENTS.csv", "w", newline="") as p, open(folder / "LABEVENTS.csv", "w", newline="") as lab, \
            open(folder / "DIAGNOSES_ICD.csv", "w", newline="") as dx, \
            open(folder / "PRESCRIPTIONS.csv", "w", newline="") as rx, open(folder / "wide.csv", "w", newline="") as w:
        pw, lw, dw, rw, ww = (csv.writer(f) for f in (p, lab, dx, rx, w))
        pw.writerow(["SUBJECT_ID", "GENDER", "DOB"])
        lw.writerow(["SUBJECT_ID", "ITEMID", "VALUE", "VALUEUOM", "CHARTTIME", "REF_LOW", "REF_HIGH"])
        dw.writerow(["SUBJECT_ID", "ICD10_CODE", "CHARTDATE"])
        rw.writerow(["SUBJECT_ID", "DRUG", "STARTDATE", "ENDDATE"])
        names = ["alt", "ast", "bilirubin", "creatinine", "anc", "platelets", "hemoglobin", "calcium", "m_protein"]
        ww.writerow(["id", "sex", "birth_date", "diagnosis", "diagnosis_date", *names, *(f"{n}_date" for n in names),
                     "alt_uln", "ast_uln"])
        for n in range(1, patients + 1):
            pid, sex = str(100000 + n), rng.choice("FM")
            born = AS_OF - timedelta(days=rng.randrange(40 * 365, 85 * 365))
            pw.writerow([pid, sex, born.isoformat()])
            dw.writerow([pid, "C9000", "2024-07-10"])
            rw.writerow([pid, "Lenalidomide", "2024-07-20", "2024-12-10"])
            latest: dict = {}
            for draw in range(5):
                day = AS_OF - timedelta(days=rng.randrange(1, 200) if draw else rng.randrange(1, 20))
                for code, _, _, unit, low, high, (a, b) in TESTS:
                    value = round(rng.uniform(a, b), 1)
                    lw.writerow([pid, code, value, unit, f"{day} 08:00:00", low, high])
                    results += 1
                    if day >= latest.get(code, (date.min,))[0]:
                        latest[code] = (day, value, unit)
            cells = [latest[t[0]] for t in TESTS[:9]]
            ww.writerow([pid, "female" if sex == "F" else "male", born.isoformat(), "multiple myeloma",
                         "2024-07-10", *(f"{v} {u}" for _, v, u in cells), *(d.isoformat() for d, _, _ in cells),
                         "40", "40"])
    with open(folder / "D_LABITEMS.csv", "w", newline="") as d:
        dict_writer = csv.writer(d)
        dict_writer.writerow(["ITEMID", "LABEL", "LOINC_CODE"])
        dict_writer.writerows([(code, label, loinc) for code, label, loinc, *_ in TESTS])
    (folder / "extract.yaml").write_text(
        "layout: long\nas_of: 2025-06-02\n"
        "patients: {file: PATIENTS.csv, id: SUBJECT_ID, columns: {GENDER: {field: sex, values: {F: female, "
        "M: male}}, DOB: birth_date}}\n"
        "results:\n  - {file: LABEVENTS.csv, id: SUBJECT_ID, test: ITEMID, value: VALUE, unit: VALUEUOM, date: "
        "CHARTTIME, low: REF_LOW, high: REF_HIGH, tests: {file: D_LABITEMS.csv, key: ITEMID, loinc: LOINC_CODE, "
        "name: LABEL}}\n"
        "diagnoses:\n  - {file: DIAGNOSES_ICD.csv, id: SUBJECT_ID, code: ICD10_CODE, system: icd10cm, date: CHARTDATE}\n"
        "treatments:\n  - {file: PRESCRIPTIONS.csv, id: SUBJECT_ID, drug: DRUG, start: STARTDATE, end: ENDDATE}\n",
        encoding="utf-8")
    return results


def timed(kind: str, path: Path, out: Path, memory: str = "256MB") -> tuple:
    done = subprocess.run([sys.executable, "-c", _CHILD, kind, str(path), str(out), memory], capture_output=True,
                          text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    rows, errors, seconds, peak = done.stdout.split()
    return int(rows), int(errors), float(seconds), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--memory-limit", default="256MB", help="DuckDB's memory limit for the extract's sort")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in (args.patients // 5, args.patients):
            folder = Path(tmp) / str(size)
            t0 = time.perf_counter()
            results = write_extract(folder, size)
            print(f"{size:,} patients, {results:,} result rows written in {time.perf_counter() - t0:.0f} s")
            for _ in range(args.rounds):
                for kind, path in (("extract", folder / "extract.yaml"), ("wide", folder / "wide.csv")):
                    rows, errors, seconds, peak = timed(kind, path, folder / f"{kind}.out.csv", args.memory_limit)
                    print(f"  {kind:7} {rows:,} patients ({errors} error rows) in {seconds:.1f} s: "
                          f"{rows / seconds:,.0f} patients/s, peak {peak:,.0f} MB")


if __name__ == "__main__":
    main()

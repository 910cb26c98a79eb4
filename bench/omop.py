"""Benchmark: `trialscreen omop` on a synthetic OMOP CDM of N persons, against a bare DuckDB copy.

Generates (with DuckDB) a folder of Parquet tables: N persons, each with an observation period,
30 measurements (10 LOINC-coded analytes of NCT05378971 on 3 dates, UCUM units, some in US units),
3 condition occurrences (a myeloma diagnosis by ICD-10-CM, one condition by SNOMED, one code
nobody lists), 5 drug exposures (RxNorm ingredients: lenalidomide, bortezomib, dexamethasone,
aspirin, one unknown) and 2 observations (ECOG by LOINC answer, treatments attested complete).
Then it times alternately, in the same run, as fresh processes with start-up included:
  (a) `trialscreen omop DIR --trial NCT05378971 --as-of 2025-06-01 --out out.csv -q` (one process
      per CPU), and the same with `--workers 1`;
  (b) a bare DuckDB script that reads the same tables sorted by person_id and writes every row
      to CSV files: the floor for any tool that reads these rows person by person.
With --spark, also (c) the same command with `--engine spark` on local[2], whose output must be
the same bytes. It prints persons per second, the ratios omop / copy and spark / omop, and each
process's peak memory (for Spark, the largest process: the JVM).

    python bench/omop.py                            # 100,000 persons, 3 rounds
    python bench/omop.py --persons 100000 1000000 --rounds 2
    python bench/omop.py --persons 100000 --rounds 1 --spark
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# concept_id, vocabulary, code, class: codes the vocabularies list (and two nobody lists)
CONCEPTS = [
    (3016723, "LOINC", "2160-0", "Lab Test"), (3006923, "LOINC", "1742-6", "Lab Test"),
    (3013721, "LOINC", "1920-8", "Lab Test"), (3024128, "LOINC", "1975-2", "Lab Test"),
    (3024929, "LOINC", "777-3", "Lab Test"), (3000905, "LOINC", "6690-2", "Lab Test"),
    (3000963, "LOINC", "718-7", "Lab Test"), (3013429, "LOINC", "751-8", "Lab Test"),
    (3006906, "LOINC", "17861-6", "Lab Test"), (3020630, "LOINC", "2885-2", "Lab Test"),
    (8840, "UCUM", "mg/dL", "Unit"), (8749, "UCUM", "umol/L", "Unit"), (8645, "UCUM", "U/L", "Unit"),
    (8848, "UCUM", "10*3/uL", "Unit"), (8713, "UCUM", "g/dL", "Unit"), (8636, "UCUM", "g/L", "Unit"),
    (8753, "UCUM", "mmol/L", "Unit"),
    (35909776, "ICD10CM", "C90.00", "5-char billing code"), (316139, "SNOMED", "84114007", "Clinical Finding"),
    (4000001, "SNOMED", "999999999", "Clinical Finding"),
    (1712000, "RxNorm", "342369", "Ingredient"), (1336825, "RxNorm", "358258", "Ingredient"),
    (1518254, "RxNorm", "3264", "Ingredient"), (1112807, "RxNorm", "1191", "Ingredient"),
    (4000002, "RxNorm", "99999999", "Ingredient"),
    (3036277, "LOINC", "89247-1", "Clinical Observation"), (45876264, "LOINC", "LA9623-5", "Answer"),
    (2000000001, "trialscreen", "complete:treatments", "Site"),
]
# analyte concept, unit concept, low, high, decimals: values drawn uniformly and reported with the
# precision labs report them in (creatinine 0.87 mg/dL, ALT 34 U/L, platelets 212 x10^3/uL)
LABS = [(3016723, 8840, 0.6, 2.2, 2), (3006923, 8645, 10, 90, 0), (3013721, 8645, 10, 90, 0),
        (3024128, 8840, 0.2, 1.8, 1), (3024929, 8848, 60, 350, 0), (3000905, 8848, 1.0, 9.0, 1),
        (3000963, 8713, 8, 15, 1), (3013429, 8848, 0.5, 6, 2), (3006906, 8840, 8.0, 11.5, 1),
        (3020630, 8636, 55, 85, 0)]


def generate(folder: Path, persons: int) -> None:
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SELECT setseed(0.42)")

    def write(name: str, sql: str) -> None:
        con.execute(f"COPY ({sql}) TO '{folder / (name + '.parquet')}' (FORMAT parquet)")

    write("person", f"""SELECT i AS person_id, CASE WHEN i % 2 = 0 THEN 8532 ELSE 8507 END AS gender_concept_id,
        1940 + (i % 40) AS year_of_birth, 1 + i % 12 AS month_of_birth, 1 + i % 28 AS day_of_birth,
        0 AS race_concept_id, 0 AS ethnicity_concept_id, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END AS gender_source_value
        FROM range(1, {persons + 1}) t(i)""")
    write("observation_period", f"""SELECT i AS observation_period_id, i AS person_id,
        DATE '2015-01-01' AS observation_period_start_date, DATE '2025-12-31' AS observation_period_end_date,
        0 AS period_type_concept_id FROM range(1, {persons + 1}) t(i)""")
    labs = " UNION ALL ".join(f"SELECT {c} AS c, {u} AS u, {lo} AS lo, {hi} AS hi, {d} AS d"
                              for c, u, lo, hi, d in LABS)
    write("measurement", f"""SELECT row_number() OVER () AS measurement_id, p.i AS person_id,
        l.c AS measurement_concept_id, DATE '2025-05-30' - CAST(d.k * 20 + p.i % 7 AS INTEGER) AS measurement_date,
        0 AS measurement_type_concept_id, round(l.lo + random() * (l.hi - l.lo), l.d) AS value_as_number,
        l.u AS unit_concept_id FROM range(1, {persons + 1}) p(i), ({labs}) l, range(3) d(k)""")
    write("condition_occurrence", f"""SELECT row_number() OVER () AS condition_occurrence_id, p.i AS person_id,
        c.c AS condition_concept_id, DATE '2024-01-01' + CAST(p.i % 300 AS INTEGER) AS condition_start_date,
        0 AS condition_type_concept_id FROM range(1, {persons + 1}) p(i),
        (SELECT * FROM (VALUES (35909776), (316139), (4000001)) v(c)) c WHERE c.c <> 316139 OR p.i % 10 = 0""")
    write("drug_exposure", f"""SELECT row_number() OVER () AS drug_exposure_id, p.i AS person_id,
        d.c AS drug_concept_id, DATE '2024-03-01' + CAST(p.i % 200 AS INTEGER) AS drug_exposure_start_date,
        DATE '2024-09-01' + CAST(p.i % 200 AS INTEGER) AS drug_exposure_end_date, 0 AS drug_type_concept_id
        FROM range(1, {persons + 1}) p(i), (SELECT * FROM (VALUES (1712000), (1336825), (1518254), (1112807),
        (4000002)) v(c)) d""")
    write("observation", f"""SELECT row_number() OVER () AS observation_id, p.i AS person_id, o.c AS observation_concept_id,
        DATE '2025-05-25' AS observation_date, 0 AS observation_type_concept_id, o.v AS value_as_concept_id
        FROM range(1, {persons + 1}) p(i), (SELECT * FROM (VALUES (3036277, 45876264), (2000000001, NULL)) v(c, v)) o""")
    rows = " UNION ALL ".join(f"SELECT {cid} AS concept_id, '{code}' AS concept_name, 'X' AS domain_id, "
                              f"'{vocab}' AS vocabulary_id, '{klass}' AS concept_class_id, '{code}' AS concept_code"
                              for cid, vocab, code, klass in CONCEPTS)
    write("concept", rows)
    con.close()


COPY = """
import sys, duckdb
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute("SET memory_limit = '1GB'")
con.execute(f"SET temp_directory = '{out}.tmp'")
for t in ("person", "measurement", "condition_occurrence", "drug_exposure", "observation"):
    con.execute(f"COPY (SELECT * FROM read_parquet('{src}/{t}.parquet') ORDER BY person_id) TO '{out}.{t}.csv' (FORMAT csv)")
"""


def measure(persons: int, rounds: int, work: Path, spark: bool) -> None:
    folder = work / f"cdm-{persons}"
    start = time.perf_counter()
    generate(folder, persons)
    print(f"{persons:,} persons: CDM generated in {time.perf_counter() - start:.1f} s", flush=True)
    copy_script = work / "cdm_copy.py"   # not copy.py: it would shadow the standard library module
    copy_script.write_text(COPY, encoding="utf-8")
    omop_cmd = [sys.executable, "-m", "trialscreen", "omop", str(folder), "--trial", "NCT05378971",
                "--as-of", "2025-06-01", "--out", str(work / "out.csv"), "-q"]
    copy_cmd = [sys.executable, str(copy_script), str(folder), str(work / "copy.csv")]
    commands = {"omop": omop_cmd, "omop, 1 process": [*omop_cmd, "--workers", "1"], "copy": copy_cmd}
    if spark:     # the same screening on Spark local[2], into its own file
        commands["spark"] = [*omop_cmd[:-3], "--engine", "spark", "--out", str(work / "spark.csv"), "-q"]
    times: dict = {name: [] for name in commands}
    peaks: dict = {name: [] for name in commands}
    for _ in range(rounds):
        for name, cmd in commands.items():
            s, m = _child_peak(cmd)
            times[name].append(s)
            peaks[name].append(m)
    median = {name: statistics.median(ts) for name, ts in times.items()}
    for name in commands:
        print(f"  {name}: {median[name]:.1f} s ({persons / median[name]:,.0f} persons/s), "
              f"peak {max(peaks[name]):,.0f} MiB")
    print(f"  ratio omop / copy: {median['omop'] / median['copy']:.1f}; one process / parallel: "
          f"{median['omop, 1 process'] / median['omop']:.2f}", flush=True)
    if spark:
        same = (work / "out.csv").read_bytes() == (work / "spark.csv").read_bytes()
        print(f"  ratio spark / omop: {median['spark'] / median['omop']:.2f} (outputs identical: {same})", flush=True)


def _child_peak(cmd: list[str]) -> tuple[float, float]:
    """Seconds and the peak memory (MiB) of this command and every process it starts (the
    parallel workers, Spark's JVM), summed, sampled from /proc every 50 ms."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return seconds, peak / 1024


def _tree_rss(pid: int) -> int:
    """The resident memory (KiB) of a process and its descendants."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spark", action="store_true", help="also time --engine spark (local[2]; needs the extra)")
    args = parser.parse_args()
    os.environ.setdefault("TRIALSCREEN_SPARK_MASTER", "local[2]")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.persons:
            measure(n, args.rounds, Path(tmp), args.spark)


if __name__ == "__main__":
    main()

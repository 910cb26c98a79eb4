"""`trialscreen omop SOURCE --engine spark`: the DuckDB engine's rows, summary and exit codes, on Spark.

The source is read as DataFrames (spark_source.py), its concepts placed by the code the DuckDB
engine uses and each person's rows assembled with Spark SQL (spark_assemble.py); the executors
screen the persons with the library itself (spark_screen.py, ``mapInArrow``), so no criterion is
written twice. The output rows are written by Spark, in person_id order then trial order, into one
file: CSV (the same bytes the DuckDB engine writes), JSON Lines, or Parquet (the same columns). The
counts of the summary are Spark aggregations of what the executors report. PySpark is imported here
only, when the engine runs: ``pip install 'trialscreen[spark]'``.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from datetime import date
from functools import partial

from trialscreen.batch.tally import Summary, TrialTally
from trialscreen.errors import InputError, Location, UsageError
from trialscreen.omop.run import PersonOptions, run_warnings


def run_spark(path: str, trials, out: str, kind: str, *, schema: str | None = None, as_of: date,
              limit: int | None = None, complete: tuple = (), attestations: dict | None = None,
              max_lab_age=None, spark=None) -> Summary:
    """Screen every person of ``path`` (a folder of Parquet files, or a catalog schema) into ``out``
    ('-' standard output) as ``kind`` ('csv', 'jsonl' or 'parquet'). ``spark``: the session to use
    (default: the active one, else a local one)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError("--engine spark needs PySpark, which is not installed",
                         hint="pip install 'trialscreen[spark]', or run with --engine duckdb") from None
    from trialscreen.omop.spark_assemble import drop_views
    from trialscreen.omop.spark_output import check_target

    check_target(out)
    spark = spark or spark_session()
    if schema:
        path = f"{path}.{schema}"
    tables: dict = {}
    try:
        return _run(spark, path, trials, out, kind, tables,
                    PersonOptions(path, as_of, date.today(), tuple(complete), attestations or {}, max_lab_age), limit)
    except Exception as exc:
        raise _spark_error(exc, path) from None
    finally:
        drop_views(spark, tables)


def _run(spark, path: str, trials, out: str, kind: str, tables: dict, options: PersonOptions,
         limit: int | None) -> Summary:
    from pyspark import StorageLevel

    from trialscreen.omop.spark_assemble import person_frame, place_in_spark
    from trialscreen.omop.spark_output import write_rows
    from trialscreen.omop.spark_screen import OUTPUT_SCHEMA, RowWriter, screen_partition
    from trialscreen.omop.spark_source import open_spark_source

    source = open_spark_source(spark, path)
    tables.update(source.tables)
    place_in_spark(spark, source.tables)
    persons = person_frame(spark, source.tables, options.as_of, limit)
    fmt = "jsonl" if kind == "jsonl" else "csv"
    screen = partial(screen_partition, trials=trials, options=options, fmt=fmt, cells=kind == "parquet")
    screened = persons.mapInArrow(screen, OUTPUT_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        header = RowWriter("csv" if kind == "parquet" else fmt, trials).header()
        write_rows(spark, screened.where("trial >= 0"), out, kind, header)
        return summarise(screened, trials, source.missing)
    finally:
        screened.unpersist()


def _fact(kind: str, n: str, label: str = "CAST(NULL AS STRING)", role: str = "CAST(NULL AS STRING)",
          tally: str = "CAST(NULL AS INT), 'verdict', CAST(NULL AS STRING), 'failed', CAST(NULL AS ARRAY<STRING>), "
                       "'unknown', CAST(NULL AS ARRAY<STRING>), 'missing', CAST(NULL AS ARRAY<STRING>)") -> str:
    return (f"named_struct('kind', '{kind}', 'trial', {tally}, 'label', {label}, 'role', {role}, "
            f"'n', CAST({n} AS BIGINT))")


# What the summary counts, in one Spark job and one shuffle over the screened rows: each row's facts
# (kind, trial, verdict, failed, unknown, missing, label, role, n) summed by all but n: the tally groups, the
# concepts nobody can place, the warnings, the orphan rows by table and the totals.
FACTS = f"""
SELECT f.kind, f.trial, f.verdict, f.failed, f.unknown, f.missing, f.label, f.role, sum(f.n) AS n FROM (
  SELECT explode(CASE
    WHEN trial >= 0 THEN array({_fact('row', '1', tally="trial, 'verdict', verdict, 'failed', failed, "
                                                         "'unknown', unknown, 'missing', missing")})
    WHEN trial = -1 THEN concat(array({_fact('totals', '1')}, {_fact('error_rows', 'error_rows')},
                                      {_fact('internal', 'internal')}, {_fact('outside', 'outside')}),
                                transform(unplaced, u -> {_fact('unplaced', '1', 'u.label', 'u.role')}),
                                transform(warned, w -> {_fact('warned', '1', 'w')}))
    ELSE transform(orphans, o -> {_fact('orphans', 'o.n', 'o.t')}) END) AS f
  FROM ts_screened)
GROUP BY f.kind, f.trial, f.verdict, f.failed, f.unknown, f.missing, f.label, f.role
"""


def summarise(screened, trials, missing: list) -> Summary:
    """The batch Summary of the screened rows: verdicts, attrition, error rows and warnings counted
    by Spark (FACTS), the first errors fetched only when there are some."""
    from pyspark.sql import functions as F

    summary = Summary(trials=[TrialTally(t.id, [c.id for c in t.criteria]) for t in trials])
    screened.createOrReplaceTempView("ts_screened")
    facts: dict = {"unplaced": Counter(), "warned": Counter(), "orphans": {}}
    for r in screened.sparkSession.sql(FACTS).collect():
        n = r["n"] or 0
        if r["kind"] == "row":
            summary.trials[r["trial"]].count(r["verdict"], tuple(r["failed"]), tuple(r["unknown"]),
                                             tuple(r["missing"] or ()), times=n)
            summary.rows_out += n
        elif r["kind"] == "unplaced":
            facts["unplaced"][(r["role"], r["label"])] = n
        elif r["kind"] in ("warned", "orphans"):
            facts[r["kind"]][r["label"]] = n
        else:
            facts[r["kind"]] = n
    summary.rows_in, summary.error_rows = facts.get("totals", 0), facts.get("error_rows", 0)
    summary.internal_errors = facts.get("internal", 0)
    if summary.error_rows:
        first = screened.where((F.col("trial") == -1) & (F.size("errors") > 0)).orderBy("line") \
            .select("errors").limit(20).collect()
        summary.errors = [e for r in first for e in r["errors"]][:20]
    summary.warnings = run_warnings(facts["unplaced"], facts["warned"], facts.get("outside", 0), missing,
                                    facts["orphans"])
    screened.sparkSession.catalog.dropTempView("ts_screened")
    return summary


def spark_session():
    """The active Spark session, else a local one (master TRIALSCREEN_SPARK_MASTER, default local[*])
    unless spark-submit started this process. Timestamps are read in UTC, as DuckDB reads them."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.appName("trialscreen omop")
        if "PYSPARK_GATEWAY_PORT" not in os.environ:
            builder = (builder.master(os.environ.get("TRIALSCREEN_SPARK_MASTER", "local[*]"))
                       .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                       .config("spark.sql.shuffle.partitions", "8"))
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("FATAL")     # a failure is said in one sentence, not a Java trace
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def _spark_error(exc: Exception, path: str) -> Exception:
    """A Spark failure reading the source as one sentence; anything else unchanged (a bug)."""
    from pyspark.errors import PySparkException, PythonException

    from trialscreen.omop.spark_source import spark_message

    if isinstance(exc, PythonException) or not isinstance(exc, PySparkException) and \
            type(exc).__name__ != "Py4JJavaError":
        return exc
    return InputError(f"Spark cannot read the source: {spark_message(exc)}", Location(path),
                      hint="check that every file is Parquet (or CSV) with the CDM's columns")

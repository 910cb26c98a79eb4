"""Open an OMOP CDM source as Spark DataFrames with the DDL's names and types (the Spark engine).

The Spark twin of source.py: a folder with one Parquet (or CSV) file per table, names in any case,
or ``catalog.schema`` (or ``schema``) of the Spark catalog, read with ``spark.table``. Every table of
``tables.TABLES`` comes back with every DDL column, named in lower case and cast to its DDL type;
a column the source lacks is NULL, a table it lacks is empty (PERSON excepted). The measurement
numbers keep their text beside them (``value_as_number_text``), as source.py does, so an unreadable
number leaves its lab unusable; any other cell that is not its column's type stops the run with
the table and column named. pyspark is imported by the caller (spark.py), never at import time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from trialscreen.errors import InputError, Location
from trialscreen.omop.source import LENIENT
from trialscreen.omop.tables import REQUIRED, TABLES

_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")
_KEYS = {"concept": "concept_id", "concept_ancestor": "ancestor_concept_id"}
_SPARK_TYPES = {"BIGINT": "bigint", "INTEGER": "int", "DOUBLE": "double", "VARCHAR": "string",
                "DATE": "date", "TIMESTAMP": "timestamp"}
# what DuckDB reads as a DOUBLE from text (Spark's own cast also takes '1d' and hex)
_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$|^(?i)[+-]?(inf|infinity|nan)$"
_NAMESPACE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*([.][A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass
class SparkSource:
    """The source's tables as DataFrames (table -> DataFrame), and what was found."""

    path: str
    tables: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)       # table -> file, or 'table in the catalog'
    missing: list = field(default_factory=list)     # CDM tables the source does not have


def open_spark_source(spark, path: str) -> SparkSource:
    """The source at ``path`` (a folder, or a catalog namespace) with every CDM table cast."""
    source = SparkSource(path)
    p = Path(path)
    if p.is_dir():
        raw = _folder(spark, p, source)
    elif p.exists():
        raise InputError(f"{path} is a file: the Spark engine reads a folder of Parquet files or a catalog schema",
                         Location(path), hint="give the folder holding PERSON.parquet, or run with --engine duckdb")
    elif _NAMESPACE.match(path):
        raw = _catalog(spark, path, source)
    else:
        raise InputError(f"no such folder or Spark catalog schema: {path}", Location(path),
                         hint="give a folder of OMOP CDM Parquet files, or catalog.schema of the Spark catalog")
    checks = None
    for table, columns in TABLES.items():
        frame = raw.get(table)
        if frame is None:
            if table in REQUIRED:
                raise InputError(f"{path} has no {table.upper()} table", Location(path),
                                 hint="an OMOP CDM source needs PERSON; name the file PERSON.parquet")
            source.missing.append(table)
            frame = spark.range(0).select()
        source.tables[table], bad = _cast(frame, table, columns)
        if bad is not None:
            checks = bad if checks is None else checks.unionByName(bad)
    if checks is not None:
        _check_casts(checks, source)
    return source


def _folder(spark, p: Path, source: SparkSource) -> dict:
    """The table files of a folder: name -> DataFrame as read. A Parquet table may be a file or a
    folder of part files (as Spark writes it); macOS '._' files are skipped."""
    out: dict = {}
    for f in sorted(p.iterdir()):
        lower = f.name.lower()
        suffix = next((s for s in _SUFFIXES if lower.endswith(s)), None)
        if f.name.startswith(".") or suffix is None or lower[: -len(suffix)] not in TABLES:
            continue
        if not f.is_file() and not (f.is_dir() and suffix == ".parquet"):
            continue
        name = lower[: -len(suffix)]
        if name in out:
            raise InputError(f"{p} holds two files for {name.upper()}: {source.files[name]} and {f}",
                             Location(str(f)), hint="keep one file per table")
        source.files[name] = str(f)
        out[name] = _read_file(spark, f, suffix)
        key = _KEYS.get(name, "person_id")
        if key not in {c.strip().lower() for c in out[name].columns}:
            raise InputError(f"{f} has no {key} column", Location(str(f)),
                             hint="its first line must be the CDM column names")
    return out


def _read_file(spark, f: Path, suffix: str):
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        if suffix == ".parquet":
            return spark.read.parquet(str(f))
        return spark.read.csv(str(f), header=True, sep="\t" if suffix == ".tsv" else ",", quote='"',
                              escape='"', inferSchema=False, enforceSchema=False)
    except (PySparkException, Py4JJavaError) as exc:
        raise InputError(f"{f} cannot be read: {spark_message(exc)}", Location(str(f)),
                         hint="save it as Parquet, or CSV with a header row") from None


def _catalog(spark, namespace: str, source: SparkSource) -> dict:
    from pyspark.errors import PySparkException

    try:
        names = [r["tableName"] for r in spark.sql(f"SHOW TABLES IN {namespace}").collect()]
    except PySparkException as exc:
        raise InputError(f"no such folder or Spark catalog schema: {namespace} ({first_line(exc)})",
                         Location(namespace), hint="give a folder of Parquet files, or catalog.schema") from None
    out: dict = {}
    for table in sorted(names):
        name = table.lower()
        if name in TABLES and name not in out:
            out[name] = spark.table(f"{namespace}.`{table}`")
            source.files[name] = f"{namespace}.{table}"
    return out


def _cast(frame, table: str, columns: dict):
    """(each DDL column from the frame's column of that name (any case), cast to its type; the
    cells of text that do not cast to a strict column's type, as rows (table, column, value), or
    None when no column is strict). Written as SQL text: one call to Spark per table."""
    present = {c.strip().lower(): c for c in frame.columns}
    kinds = dict(frame.dtypes)
    lenient = LENIENT.get(table, ())
    parts, strict = [], []
    for column, kind in columns.items():
        spark_type = _SPARK_TYPES[kind]
        if column not in present:
            parts.append(f"CAST(NULL AS {spark_type}) AS {column}")
            if column in lenient:
                parts.append(f"CAST(NULL AS STRING) AS {column}_text")
            continue
        ref = "`" + present[column].replace("`", "``") + "`"
        text = f"NULLIF(TRIM(CAST({ref} AS STRING)), '')"
        if column in lenient:
            parts.append(f"CASE WHEN {text} RLIKE '{_NUMBER}' THEN CAST({text} AS DOUBLE) END AS {column}")
            parts.append(f"{text} AS {column}_text")
        elif kinds[present[column]] != "string":
            parts.append(f"CAST({ref} AS {spark_type}) AS {column}")
        else:
            cast = f"CAST(CAST({text} AS TIMESTAMP) AS DATE)" if kind == "DATE" else f"CAST({text} AS {spark_type})"
            parts.append(f"{cast} AS {column}")
            if spark_type != "string":
                strict.append(column)
                parts.append(f"{text} AS _ts_raw_{column}")
    typed = frame.selectExpr(*parts)
    bad = None
    if strict:
        cells = ", ".join(f"named_struct('c', '{c}', 'v', CASE WHEN {c} IS NULL THEN _ts_raw_{c} END)" for c in strict)
        bad = typed.selectExpr(f"'{table}' AS t", f"explode(array({cells})) AS x") \
            .where("x.v IS NOT NULL").selectExpr("t", "x.c", "x.v")
    return typed.selectExpr(*[c for c in typed.columns if not c.startswith("_ts_raw_")]), bad


def _check_casts(bad, source: SparkSource) -> None:
    """Stop the run when a cell of text does not cast to its column's type (Spark would read it as
    NULL): one Spark job over every table finds the first such cell."""
    found = bad.limit(1).collect()
    if found:
        table, column, value = found[0]
        where = source.files.get(table, source.path)
        raise InputError(f"{where}: {table}.{column} holds a value that is not its CDM type: "
                         f"'{value}' is not {TABLES[table][column]}", Location(where, field=column),
                         hint="correct the value, or leave the cell empty")


def spark_message(exc: Exception) -> str:
    """The first line of what a Spark failure says at its root (the Java cause's message, not
    'Exception thrown in awaitResult')."""
    java = getattr(exc, "java_exception", None) or getattr(exc, "_origin", None)
    text = ""
    try:
        while java is not None:
            text = str(java.getMessage() or text)
            java = java.getCause()
    except Exception:  # noqa: BLE001 - the gateway is gone: say what Python has
        text = ""
    return first_line(Exception(text)) if text.strip() else first_line(exc)


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

"""The Spark engine's output file: rows written by Spark in person_id order, then trial order.

Spark writes a folder of part files; the rows are gathered into one partition, sorted there by
(person's line, row within the person) and written as one part file, which is then moved to the
path asked for, so ``--out rows.csv`` is one file with the same bytes the DuckDB engine writes
(the CSV text is the batch Writer's, made on the executors). A path with a scheme (``s3://``,
``dbfs:/``) is written as Spark writes it there: a folder holding the one part file.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from trialscreen.errors import FileWriteError


def _remote(out: str) -> bool:
    return "://" in out or out.startswith("dbfs:")


def check_target(out: str) -> None:
    """Fail before a long run when ``out`` cannot be written."""
    if out == "-" or _remote(out):
        return
    target = Path(out)
    if target.is_dir() or not target.parent.is_dir():
        raise FileWriteError(f"cannot write {out}: " + ("it is a folder" if target.is_dir() else
                                                        "its folder does not exist"),
                             hint="check that the folder exists and can be written")


def write_rows(spark, rows, out: str, kind: str, header: str) -> None:
    """Write the screened rows (spark_screen.OUTPUT_SCHEMA, output rows only) to ``out``."""
    from pyspark.sql import functions as F

    from trialscreen.omop.spark_screen import parse_cells

    if kind == "parquet":
        names = parse_cells(header)
        frame = rows.select("line", "seq", *[F.col("cells")[i].alias(str(n)) for i, n in enumerate(names)])
    else:
        frame = rows.select("line", "seq", "text")
        if kind == "csv":
            frame = spark.createDataFrame([(0, 0, header)], "line long, seq int, text string").unionByName(frame)
    ordered = frame.repartition(1).sortWithinPartitions("line", "seq").drop("line", "seq")
    if _remote(out):
        _save(ordered, kind, out)
        return
    folder = Path(tempfile.mkdtemp(prefix=".trialscreen-spark-", dir=None if out == "-" else Path(out).parent))
    try:
        staging = folder / uuid.uuid4().hex
        _save(ordered, kind, staging.resolve().as_uri())
        parts = sorted(staging.glob("part-*"))
        if out == "-":
            for part in parts:
                sys.stdout.write(part.read_text(encoding="utf-8"))
            sys.stdout.flush()
        elif parts:
            shutil.move(str(parts[0]), out)
        else:
            Path(out).write_bytes(b"")
    except OSError as exc:
        raise FileWriteError(f"cannot write {out}: {exc.strerror}",
                             hint="check that the folder exists and can be written") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _save(frame, kind: str, where: str) -> None:
    writer = frame.write.mode("overwrite")
    if kind == "parquet":
        writer.parquet(where)
    else:
        writer.option("lineSep", "\n").text(where)

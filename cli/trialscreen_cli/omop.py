"""`trialscreen omop` (screen an OMOP CDM database) and `trialscreen export omop` (records as OMOP
tables). Parse, call the library (trialscreen.omop), render; DuckDB is imported only here."""

from __future__ import annotations

import enum
import sys
import typing
from pathlib import Path
from typing import List, Optional

import typer

from trialscreen.errors import UsageError
from trialscreen_cli.fhir_export import export_fhir
from trialscreen_cli.shared import (
    MAX_LAB_AGE_HELP,
    RunOutputs,
    fail_on_option,
    finish_run,
    handles_errors,
    interrupted_at,
    load_trials,
    open_for_writing,
    parse_as_of,
    parse_fail_on,
    parse_max_lab_age,
    report_option,
)

SECTIONS = ("diagnoses", "treatments", "neoplasms", "allergies", "conditions")


class Engine(str, enum.Enum):
    duckdb = "duckdb"
    spark = "spark"


def register(app: typer.Typer) -> None:
    app.command("omop")(handles_errors(omop))
    export = typer.Typer(help="Write patient records in other formats.", no_args_is_help=True)
    export.command("omop")(handles_errors(export_omop))
    export.command("fhir")(handles_errors(export_fhir))
    app.add_typer(export, name="export")


def omop(
    source: str = typer.Argument(..., help="OMOP CDM source: a DuckDB file, or a folder of one CSV or Parquet "
                                           "file per table (PERSON.csv, measurement.parquet, ...); with "
                                           "--engine spark, a folder of Parquet files or catalog.schema."),
    trial: Optional[List[str]] = typer.Option(
        None, "--trial", "-t", metavar="TRIAL",
            help="Trial id or criteria file; repeat for several. Default: every bundled trial."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE",
        help="Screening date YYYY-MM-DD (default: today)."),
    out: str = typer.Option("-", "--out", "-o", metavar="FILE",
        help="Output file: .csv, .jsonl or .parquet; '-' writes CSV "
             "to standard output."),
    summary_file: Optional[str] = typer.Option(None, "--summary", metavar="FILE",
        help="Also write the summary as JSON here."),
    report: Optional[str] = report_option(),
    fail_on: Optional[str] = fail_on_option(),
    engine: Engine = typer.Option(Engine.duckdb, "--engine", help="duckdb (one machine) or spark (pip install "
                                                                  "'trialscreen[spark]')."),
    limit: Optional[int] = typer.Option(None, "--limit", metavar="N", min=1, help="Screen the first N persons only."),
    complete: Optional[List[str]] = typer.Option(
        None, "--complete", metavar="SECTION",
            help="A section the database holds completely for the time a person is observed "
                 "(diagnoses, treatments, neoplasms, allergies, conditions); repeat for several."),
    attestations: Optional[str] = typer.Option(
        None, "--attestations", metavar="FILE", help="CSV of person_id,attestation,value: what investigators attest."),
    schema: Optional[str] = typer.Option(
        None, "--schema", metavar="SCHEMA",
            help="Schema of the CDM tables in a DuckDB file (--engine spark: of the catalog SOURCE)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary and no progress bar on stderr."),
    max_lab_age: Optional[str] = typer.Option(None, "--max-lab-age", metavar="AGE", help=MAX_LAB_AGE_HELP),
    workers: int = typer.Option(0, "--workers", metavar="N",
        min=0, help="DuckDB engine: processes screening in parallel "
                                                            "(default 0: one per CPU, for 2,000 persons or more)."),
):
    """Screen every person of an OMOP CDM v5.4 database; one output row per person and trial."""
    from datetime import date

    from trialscreen.omop.run import read_attestations

    kind = _kind(out)
    trials = load_trials(trial)
    options = dict(as_of=parse_as_of(as_of) or date.today(), limit=limit, complete=_sections(complete),
                   attestations=read_attestations(attestations) if attestations else None,
                   max_lab_age=parse_max_lab_age(max_lab_age))
    outputs = RunOutputs(summary_file, report, trials, source, options["as_of"].isoformat(), parse_fail_on(fail_on))
    outputs.check_writable()
    if engine is Engine.spark:
        from trialscreen.omop.spark import run_spark

        summary = run_spark(source, trials, out, kind, schema=schema, **options)
    else:
        from trialscreen.omop.parallel import default_workers

        summary = _run_duckdb(source, schema, trials, out, kind, quiet,
                              {**options, "workers": workers or default_workers()})
    finish_run(summary, outputs, quiet, "person")


def _sections(complete) -> tuple:
    sections = tuple(complete or ())
    for s in sections:
        if s not in SECTIONS:
            raise UsageError(f"--complete '{s}' is not a section", hint="use one of " + ", ".join(SECTIONS))
    return sections


def _kind(out: str) -> str:
    lower = out.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if out == "-" or lower.endswith(".csv"):
        return "csv"
    raise UsageError(f"--out '{out}' is not a .csv, .jsonl or .parquet file", hint="name the file by its format")


def _run_duckdb(path: str, schema, trials, out: str, kind: str, quiet: bool, options: dict):
    """Screen into ``out``; a run that does not finish leaves no half-written output file. Parquet
    is written through a CSV file the run fills first."""
    from trialscreen.omop.run import run_omop
    from trialscreen.omop.source import open_source
    from trialscreen.render.batch import Writer

    source = open_source(path, schema=schema)
    bar = draw = None
    if not quiet and sys.stderr.isatty():
        from trialscreen_cli.terminal import progress_bar

        bar, draw = progress_bar(path)
    seen = [0]

    def progress(rows: int) -> None:
        seen[0] = rows
        if draw is not None:
            draw(rows)
    staging = None
    target: typing.IO[str]
    if kind == "parquet":
        import tempfile

        staging = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8", newline="")
        target = staging
    else:
        target = sys.stdout if out == "-" else open_for_writing(out, newline="")
    finished = interrupted = False
    try:
        writer = Writer(target, "jsonl" if kind == "jsonl" else "csv", trials)
        summary = run_omop(source, trials, writer, progress=progress, **options)
        if staging is not None:
            staging.close()
            _to_parquet(source, staging.name, out)
        finished = True
    except KeyboardInterrupt:
        interrupted = staging is None     # a Parquet file is written at the end: nothing to keep
        if not interrupted:
            raise
    finally:
        if bar is not None:
            bar.stop()
        source.close()
        if target is not sys.stdout:
            target.close()
            if not finished and not interrupted and staging is None:
                Path(out).unlink(missing_ok=True)
        if staging is not None:
            Path(staging.name).unlink(missing_ok=True)
    if interrupted:
        interrupted_at(seen[0], out, header=kind == "csv")
    return summary


def _to_parquet(source, csv_path: str, out: str) -> None:
    from trialscreen.errors import FileWriteError

    quoted_in, quoted_out = (p.replace("'", "''") for p in (csv_path, out))
    try:
        source.con.execute(f"COPY (SELECT * FROM read_csv('{quoted_in}', header = true, all_varchar = true)) "
                           f"TO '{quoted_out}' (FORMAT parquet)")
    except Exception as exc:  # duckdb.IOException: the folder does not exist or cannot be written
        raise FileWriteError(f"cannot write {out}: {str(exc).splitlines()[0]}",
                             hint="check that the folder exists and can be written") from None



def export_omop(
    patients: List[str] = typer.Argument(..., help="Patient records (JSON), one or more."),
    out: str = typer.Option(..., "--out", "-o", metavar="FILE", help="Folder to write the OMOP CDM tables (CSV) into."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE",
        help="Date for what a record leaves undated (default: the record's as_of, else today)."),
):
    """Write patient records as OMOP CDM v5.4 tables (CSV) with a CONCEPT table for the codes used."""
    from trialscreen.omop.export import export_records
    from trialscreen.patient.jsonpos import loads_strict
    from trialscreen.patient.load import patient_from_dict, read_text

    records = []
    for path in patients:
        record = loads_strict(*read_text(path))
        patient_from_dict(record, path)      # a record the screener refuses is not exported either
        records.append(record)
    summary = export_records(records, Path(out), as_of=parse_as_of(as_of))
    typer.echo(f"{len(records)} record(s) written to {out}: {summary}")

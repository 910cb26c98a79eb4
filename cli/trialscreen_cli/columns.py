"""`trialscreen columns`: what a batch would make of a file's columns, without screening it.
Parse, call the library (trialscreen.batch.describe), render."""

from __future__ import annotations

import enum
from typing import List, Optional

import typer

from trialscreen_cli.shared import handles_errors, load_trials, open_input


class ColumnsFormat(str, enum.Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("columns")(handles_errors(columns))


def columns(
    path: str = typer.Argument(..., metavar="FILE", help="CSV file or Excel workbook (.xlsx), as `batch` reads it."),
    mapping_file: Optional[str] = typer.Option(None, "--columns", metavar="MAP",
        help="YAML mapping of export columns to fields."),
    trial: Optional[List[str]] = typer.Option(
        None, "--trial", "-t", metavar="TRIAL",
            help="Trial id or criteria file; repeat for several. Default: every bundled trial."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", metavar="DELIMITER",
        help="comma, semicolon, tab or pipe."),
    decimal_comma: Optional[bool] = typer.Option(None, "--decimal-comma/--no-decimal-comma",
                                                 help="Read 40,5 as 40.5."),
    encoding: Optional[str] = typer.Option(None, "--encoding", metavar="ENCODING",
        help="The file's text encoding, e.g. cp1252."),
    sheet: Optional[str] = typer.Option(None, "--sheet", metavar="SHEET",
        help="The sheet of an Excel workbook (default: the first)."),
    fmt: ColumnsFormat = typer.Option(ColumnsFormat.table, "--format", "-f", help="table or json."),
):
    """Show each column of FILE: what it maps to, its unit, whether the trials read it, and sample
    cells as read. Exits 65 when the mapping has problems (each listed with its line).

    Example: trialscreen columns examples/batch/registry.tsv --columns examples/batch/registry-columns.yaml
    """
    from trialscreen.batch.describe import describe_columns
    from trialscreen.batch.mapping import delimiter_of, encoding_of, load_mapping
    from trialscreen.batch.run import open_text
    from trialscreen.batch.sources import input_kind
    from trialscreen.errors import InputError
    from trialscreen.textio import json_text

    trials = load_trials(trial)
    mapping = load_mapping(mapping_file) if mapping_file else None
    delim = delimiter_of(delimiter) if delimiter else None
    code = encoding_of(encoding) if encoding else (mapping.encoding if mapping else None)
    source = "<stdin>" if path == "-" else path
    kind = input_kind([path])
    if kind not in ("csv", "workbook"):
        from trialscreen.errors import UsageError

        raise UsageError(f"{path} is not a CSV file or a workbook: JSON records and FHIR exports name their "
                         "fields themselves", hint="give `columns` the CSV or .xlsx file a batch would read")
    if kind == "workbook":
        from trialscreen.batch.sources import WORKBOOK_DELIMITER, workbook_lines

        comma = decimal_comma if decimal_comma is not None else bool(mapping and mapping.decimal_comma)
        stream, delim, code = workbook_lines(path, sheet, comma), WORKBOOK_DELIMITER, None
    else:
        stream = open_text(open_input(path), code)
    with stream:
        report = describe_columns(stream, source, mapping, trials, delimiter=delim, decimal_comma=decimal_comma,
                                  encoding=code or "UTF-8")
    if fmt is ColumnsFormat.json:
        typer.echo(json_text(report.as_dict(), indent=2))
    else:
        from trialscreen.render.columns import columns_text

        typer.echo(columns_text(report), nl=False)
    if report.problems:
        raise typer.Exit(InputError.exit_code)

"""What `batch` reads, each kind by its reader: a CSV file or standard input (batch/run.py), an
Excel workbook (read as the CSV saved from it, batch/sources.py), JSON patient records (JSON Lines,
JSON files, folders of them: batch/records.py) and a FHIR Bulk Data export (fhir/run.py)."""

from __future__ import annotations

from typing import List

from trialscreen.errors import UsageError
from trialscreen_cli.shared import RunOutputs, count_lines, finish_run, open_input, run_into


def batch_command(paths: List[str], extract, trials, out: str, kind: str, quiet: bool, outputs: RunOutputs,
                  given: dict) -> None:
    """`batch` once its options are parsed: the mapping and the reading options checked, the outputs
    checked writable, then the run of the input or of the extract."""
    from trialscreen.batch.mapping import delimiter_of, encoding_of, load_mapping

    mapping = load_mapping(given["columns"]) if given["columns"] else None
    options = {"as_of": given["as_of"], "max_lab_age": given["max_lab_age"], "mapping": mapping,
               "delimiter": delimiter_of(given["delimiter"]) if given["delimiter"] else None,
               "decimal_comma": given["decimal_comma"], "sheet": given["sheet"],
               "duplicate_ids": given["duplicate_ids"],
               "encoding": encoding_of(given["encoding"]) if given["encoding"] else (mapping.encoding if mapping
                                                                                     else None)}
    outputs.check_writable()
    if extract:
        batch_extract(extract, trials, out, kind, quiet, outputs, options)
    else:
        batch_inputs(paths, trials, out, kind, quiet, outputs, options)


def batch_inputs(paths: List[str], trials, out: str, kind: str, quiet: bool, outputs: RunOutputs,
                 options: dict) -> None:
    """Screen ``paths`` into ``out`` (format ``kind``) and finish the run (summary, exit code).
    ``options``: as_of, max_lab_age, mapping, delimiter, decimal_comma, sheet, duplicate_ids."""
    from trialscreen.batch.sources import input_kind, record_files
    from trialscreen.render.batch import Writer

    what = input_kind(paths)
    if options["sheet"] is not None and what != "workbook":
        raise UsageError("--sheet names a sheet of an Excel workbook (.xlsx)", hint="drop --sheet for this input")
    if options.get("encoding") and what != "csv" and not (what == "workbook" and options["mapping"]):
        raise UsageError("--encoding is for CSV files", hint="a workbook, JSON and FHIR say their own encoding")
    if what != "csv" and what != "workbook" and (options["mapping"] or options["delimiter"]):
        raise UsageError("--columns and --delimiter are for CSV files and workbooks",
                         hint="a JSON record or a FHIR export names its fields itself")
    if what == "bulk":
        from datetime import date

        from trialscreen.fhir.run import run_bulk

        summary = run_into(paths[0], out, quiet, lambda target, progress: run_bulk(
            paths[0], trials, Writer(target, kind, trials), as_of=options["as_of"] or date.today(),
            progress=progress, max_lab_age=options["max_lab_age"]))
        finish_run(summary, outputs, quiet, "patient")
        return
    if what == "records":
        from trialscreen.batch.records import run_records

        files = record_files(paths)
        one_file = len(files) == 1 and files[0].lower().endswith((".jsonl", ".ndjson"))
        expected = (count_lines(files[0]) if one_file else len(files)) if not quiet else None
        summary = run_into(paths[0], out, quiet, lambda target, progress: run_records(
            files, trials, Writer(target, kind, trials), as_of=options["as_of"], progress=progress,
            max_lab_age=options["max_lab_age"], duplicate_ids=options["duplicate_ids"]),
            total=expected)
        finish_run(summary, outputs, quiet, "record")
        return
    rows = max(0, (count_lines(paths[0]) or 0) - 1) if not quiet else None   # less the header
    finish_run(run_into(paths[0], out, quiet, _rows(paths[0], what, trials, kind, options), total=rows),
               outputs, quiet, "row")


def _rows(path: str, what: str, trials, kind: str, options: dict):
    """The run of a CSV file or a workbook: ``run(target, progress)``."""
    from trialscreen.render.batch import Writer

    source = "<stdin>" if path == "-" else path
    delimiter = options["delimiter"]
    if what == "workbook":
        from trialscreen.batch.sources import WORKBOOK_DELIMITER, workbook_lines

        comma = options["decimal_comma"]
        if comma is None:
            comma = bool(options["mapping"] and options["mapping"].decimal_comma)
        if delimiter is not None:
            raise UsageError("--delimiter is for CSV files: a workbook's cells are apart already",
                             hint="drop --delimiter for a workbook")
        lines = workbook_lines(path, options["sheet"], comma)
        delimiter = WORKBOOK_DELIMITER
    else:
        binary = open_input(path)

    def rows(target, progress):
        from trialscreen.batch.run import open_text, run_batch

        encoding = options.get("encoding") if what != "workbook" else None
        with (lines if what == "workbook" else open_text(binary, encoding)) as stream:
            return run_batch(stream, source, trials, Writer(target, kind, trials), progress=progress,
                             mapping=options["mapping"], as_of=options["as_of"], delimiter=delimiter,
                             decimal_comma=options["decimal_comma"], max_lab_age=options["max_lab_age"],
                             duplicate_ids=options["duplicate_ids"], encoding=encoding)

    return rows


def batch_extract(path: str, trials, out: str, kind: str, quiet: bool, outputs: RunOutputs, options: dict) -> None:
    """Screen the long extract ``path`` describes (extract/run.py) and finish the run."""
    from trialscreen.extract.run import run_extract
    from trialscreen.extract.spec import load_extract
    from trialscreen.render.batch import Writer

    extract = load_extract(path)
    patients = max(0, (count_lines(str(extract.patients.path)) or 0) - 1) if not quiet else None   # the bar's total
    summary = run_into(path, out, quiet, lambda target, progress: run_extract(
        extract, trials, Writer(target, kind, trials), as_of=options["as_of"], progress=progress,
        max_lab_age=options["max_lab_age"]), total=patients)
    finish_run(summary, outputs, quiet, "patient")

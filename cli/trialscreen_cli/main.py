"""The `trialscreen` command: parse, call the library, render. Nothing else.

Exit codes (documented in the README):
  0   the command ran (a screening ran, whatever the verdict; files are valid)
  1   batch: done, but some rows could not be read (each is in the output with verdict error);
      test: a golden case does not match, or a criterion status is never exercised;
      vocab: the word names nothing in the vocabularies (or names several entries)
  2   usage error: a bad option, a bad --as-of date, a trial id that names nothing
  65  invalid input: a patient record or a criteria file is wrong
  66  an input file does not exist or cannot be read
  73  an output file cannot be written
  70  a bug in trialscreen (please report it with the command you ran)
  130 interrupted (Ctrl-C); batch keeps the complete output rows written so far
"""

from __future__ import annotations

import enum
import os
import sys
from typing import List, Optional

import typer

from trialscreen import __version__
from trialscreen.errors import UsageError
from trialscreen_cli.helpfmt import add_examples, plain_help
from trialscreen_cli.shared import (
    EXIT_FAIL_ON,
    MAX_LAB_AGE_HELP,
    RunOutputs,
    fail_on_option,
    handles_errors,
    load_trials,
    parse_as_of,
    parse_fail_on,
    parse_max_lab_age,
    report_option,
    show,
    stderr,
)

EXIT_OK, EXIT_ROW_ERRORS, EXIT_USAGE, EXIT_INPUT, EXIT_NOINPUT, EXIT_BUG = 0, 1, 2, 65, 66, 70

plain_help()
app = typer.Typer(
    name="trialscreen",
    help="Screen patients against clinical-trial eligibility criteria, rule by rule.",
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


def _version(value: bool):
    if value:
        typer.echo(f"trialscreen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit."),
          verbose: bool = typer.Option(False, "--verbose", "-v",
                                       help="Show patient values in error messages (off by default: "
                                            "messages name the field and row only)."),
          no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar, even on a terminal.")):
    """Screen patients against clinical-trial eligibility criteria, rule by rule.

    Global options (--verbose, --no-progress) may also come after the command."""
    from trialscreen import errors
    from trialscreen_cli.shared import PROGRESS

    errors.SHOW_VALUES = verbose
    PROGRESS["on"] = not no_progress


@app.command()
@handles_errors
def screen(
    patients: List[str] = typer.Argument(
        ..., metavar="PATIENT",
        help="Patient record (JSON) or FHIR R4 Bundle; several, a JSON Lines file (a record a line) or a folder "
             "of them; '-' reads standard input."),
    trial: Optional[List[str]] = typer.Option(
        None, "--trial", "-t", metavar="TRIAL",
            help="Trial id or criteria file; repeat for several. Default: every bundled trial."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE", help="Screening date YYYY-MM-DD (default: the record's as_of, else today)."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="Output format: a table (plain text when "
                               "piped), json, markdown, or html (one self-contained page per patient and trial)."),
    max_lab_age: Optional[str] = typer.Option(None, "--max-lab-age", metavar="AGE", help=MAX_LAB_AGE_HELP),
    full_text: bool = typer.Option(False, "--full-text", help="Show each criterion's whole protocol text in the "
                                   "table (it is shortened to one line otherwise; markdown and html always show it)."),
    out: Optional[str] = typer.Option(None, "--out", "-o", metavar="FILE",
        help="Write to this file instead of standard output; with "
             "--format html and several results, a folder that gets one page each."),
    fail_on: Optional[str] = fail_on_option(),
):
    """Screen one patient (or each patient of a FHIR R4 Bundle, of several files or of a folder)
    against one or more trials and explain every criterion."""
    from trialscreen.evaluate.screen import screen as run_screen
    from trialscreen.fhir.read import load_all

    when = parse_as_of(as_of)
    oldest = parse_max_lab_age(max_lab_age)
    failing = parse_fail_on(fail_on)
    trials = load_trials(trial)
    refused: list = []
    loaded = load_all(patients, when, refused)
    results = [run_screen(t, record, when, max_lab_age=oldest) for record, _ in loaded for t in trials]
    if fmt is Format.table and out is None:
        show("results", results, full_text=full_text)      # a terminal's table, else plain text
    else:
        from trialscreen_cli.pages import write_results

        write_results(results, fmt.value, out, full_text)
    for _, warnings in loaded:
        for w in warnings:
            stderr(f"warning: {w}")
    if refused:       # the others were screened; the first refused patient is the error, and its exit code
        more = f" ({len(refused) - 1} more patient(s) refused too)" if len(refused) > 1 else ""
        raise type(refused[0])(refused[0].message + more, refused[0].location, refused[0].hint)
    if any(r.verdict in failing for r in results):
        raise typer.Exit(EXIT_FAIL_ON)


class BatchFormat(str, enum.Enum):
    csv = "csv"
    jsonl = "jsonl"


class DuplicateIds(str, enum.Enum):
    warn = "warn"
    error = "error"


@app.command()
@handles_errors
def batch(
    patients: Optional[List[str]] = typer.Argument(
        None, metavar="INPUT...",
        help="CSV of patients, one row each ('-' reads standard input); an Excel workbook (.xlsx); JSON "
             "patient records: JSON Lines (.jsonl, a record a line), .json files, or a folder of them; or a "
             "FHIR Bulk Data export: a folder of NDJSON files, or one .ndjson file."),
    trial: Optional[List[str]] = typer.Option(
        None, "--trial", "-t", metavar="TRIAL",
            help="Trial id or criteria file; repeat for several. Default: every bundled trial."),
    out: str = typer.Option("-", "--out", "-o", metavar="FILE",
        help="Output file (.csv or .jsonl); '-' writes standard output."),
    fmt: Optional[BatchFormat] = typer.Option(
        None, "--format", "-f", help="Output format; default from the --out extension, else csv."),
    extract: Optional[str] = typer.Option(None, "--extract", metavar="EXTRACT.yaml",
        help="A long EHR extract described by this YAML file (patients, results, diagnoses, treatments; one "
             "row per event), instead of INPUT."),
    columns: Optional[str] = typer.Option(None, "--columns", metavar="MAP",
        help="YAML mapping of export columns to fields."),
    as_of: Optional[str] = typer.Option(None, "--as-of", metavar="DATE",
        help="Screening date YYYY-MM-DD for every row."),
    delimiter: Optional[str] = typer.Option(
        None, "--delimiter", metavar="DELIMITER",
            help="comma, semicolon, tab or pipe (default: a sep= first line, else detected "
                 "from the header)."),
    decimal_comma: Optional[bool] = typer.Option(
        None, "--decimal-comma/--no-decimal-comma", help="Read 40,5 as 40.5 (tab- or semicolon-delimited files)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", metavar="SHEET", help="The sheet of an Excel workbook to read "
                                                              "(default: the first)."),
    encoding: Optional[str] = typer.Option(
        None, "--encoding", metavar="ENCODING",
            help="The CSV file's text encoding, e.g. cp1252 (default: the mapping's, else UTF-8)."),
    summary_file: Optional[str] = typer.Option(None, "--summary", metavar="FILE",
        help="Also write the summary as JSON here."),
    report: Optional[str] = report_option(),
    fail_on: Optional[str] = fail_on_option(),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary and no progress bar on stderr."),
    max_lab_age: Optional[str] = typer.Option(None, "--max-lab-age", metavar="AGE", help=MAX_LAB_AGE_HELP),
    duplicate_ids: DuplicateIds = typer.Option(
        DuplicateIds.warn, "--duplicate-ids", help="warn: name ids given on several rows in the summary; "
                                                   "error: also make every repeat after the first an error row."),
):
    """Screen a CSV of patients, an Excel workbook, JSON patient records, or a FHIR Bulk Data export;
    one output row per patient and trial, nothing lost. Ctrl-C keeps the rows written so far."""
    from trialscreen_cli.inputs import batch_command

    if bool(patients) == bool(extract):
        raise UsageError("give the patients to screen: an INPUT, or --extract EXTRACT.yaml (not both)",
                         hint="trialscreen batch patients.csv, or trialscreen batch --extract extract.yaml")
    when = parse_as_of(as_of)
    trials = load_trials(trial)
    kind = (fmt.value if fmt else ("jsonl" if out.lower().endswith((".jsonl", ".ndjson")) else "csv"))
    outputs = RunOutputs(summary_file, report, trials, extract or ", ".join(patients or []),
                         when.isoformat() if when else "each record's as_of, else the day of the run",
                         parse_fail_on(fail_on), page=out != "-")
    batch_command(patients or [], extract, trials, out, kind, quiet, outputs, {
        "as_of": when, "max_lab_age": parse_max_lab_age(max_lab_age), "columns": columns, "delimiter": delimiter,
        "decimal_comma": decimal_comma, "sheet": sheet, "duplicate_ids": duplicate_ids.value, "encoding": encoding})


class VocabFormat(str, enum.Enum):
    table = "table"
    json = "json"


@app.command()
@handles_errors
def vocab(
    words: Optional[List[str]] = typer.Argument(
        None, metavar="[KIND] [WORD]",
        help="KIND: analytes, units, findings, conditions, treatments, drugs or diagnoses. "
             "WORD: a name, synonym, LOINC code or unit spelling to look up (in every vocabulary "
             "when no KIND is given)."),
    fmt: VocabFormat = typer.Option(VocabFormat.table, "--format", "-f", help="Output format."),
):
    """List the vocabularies, list one, or say what a spelling resolves to."""
    from trialscreen.vocab import lookup

    words = list(words or [])
    kind = lookup.kind_of(words[0]) if words else None
    if kind:
        words = words[1:]
    elif len(words) > 1 and lookup.close_kinds(words[0]):
        raise UsageError(f"'{words[0]}' is not a vocabulary",
                         hint=f"did you mean '{lookup.close_kinds(words[0])[0]}'? the vocabularies are "
                              + ", ".join(lookup.KINDS))
    word = " ".join(words).strip()
    if not word:
        data = lookup.entries(kind) if kind else lookup.overview()
        if fmt is VocabFormat.json:
            from trialscreen.textio import json_text

            typer.echo(json_text(data, indent=2))
        else:
            from trialscreen_cli import terminal

            terminal.render_vocab_entries(kind, data) if kind else terminal.render_vocab_overview(data)
        return
    result = lookup.lookup(word, kind)
    if fmt is VocabFormat.json:
        from trialscreen.textio import json_text

        typer.echo(json_text(result.as_dict(), indent=2))
    else:
        from trialscreen_cli.terminal import render_vocab_lookup

        render_vocab_lookup(result)
    if not result.found:
        raise typer.Exit(EXIT_ROW_ERRORS)


from trialscreen_cli import omop as _omop_commands  # noqa: E402  (registers omop and export omop)

_omop_commands.register(app)

from trialscreen_cli import columns as _columns_command  # noqa: E402  (registers columns)

_columns_command.register(app)

from trialscreen_cli import authoring as _authoring_commands  # noqa: E402  (validate, test, explain, ...)

_authoring_commands.register(app)
add_examples(app)

_GLOBAL_FLAGS = ("-v", "--verbose", "--no-progress")


def global_options_first(argv: list) -> list:
    """The global flags (-v, --no-progress) moved before the subcommand, so that they work
    after it too (`trialscreen batch x.csv -v`); '--' ends the search."""
    if not argv:
        return argv
    head, rest = [], []
    for i, arg in enumerate(argv):
        if arg == "--":
            rest.extend(argv[i:])
            break
        (head if arg in _GLOBAL_FLAGS else rest).append(arg)
    return head + rest


def run(argv=None):
    """Entry point: run the app and turn every library error into one sentence."""
    argv = global_options_first(list(sys.argv[1:] if argv is None else argv))
    try:
        app(args=argv, prog_name="trialscreen", standalone_mode=True)
    except KeyboardInterrupt:
        stderr("trialscreen: interrupted")
        sys.exit(130)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:  # a bug: say so in one sentence, keep the traceback on demand
        if os.environ.get("TRIALSCREEN_DEBUG"):
            raise
        stderr(f"trialscreen: internal error: {type(exc).__name__}: {exc} "
                "(this is a bug; set TRIALSCREEN_DEBUG=1 for details and report it)")
        sys.exit(EXIT_BUG)


if __name__ == "__main__":  # pragma: no cover
    run()

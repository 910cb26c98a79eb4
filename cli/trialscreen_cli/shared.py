"""What the commands share: the parsers of their common options, opening files, and turning
library errors into one sentence on stderr with the documented exit code."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from typing import List, Optional

import typer

from trialscreen.errors import (
    CriteriaError,
    FileReadError,
    FileWriteError,
    MappingError,
    Problem,
    TrialscreenError,
    UsageError,
)

MAX_LAB_AGE_HELP = ("How old a lab may be where neither the criterion nor the trial's screening_window "
                    "says (default: 28 days), e.g. '6 weeks'.")


def handles_errors(func):
    """Turn library errors into one sentence on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TrialscreenError as exc:
            lines = _error_lines(exc)
            if getattr(kwargs.get("fmt"), "value", None) == "json":    # for machines: one JSON object
                _json_error(exc, lines[0])
            else:
                for line in lines:
                    stderr(f"trialscreen: error: {line}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            stderr("trialscreen: interrupted")
            raise typer.Exit(130) from None

    return wrapper


def _error_lines(exc) -> list[str]:
    """The error as the sentences a user reads (after 'trialscreen: error: ')."""
    if isinstance(exc, MappingError):      # every problem of the mapping, each once
        return [str(problem) for problem in exc.problems]
    if isinstance(exc, CriteriaError) and len(exc.problems) > 1:
        first = exc.problems[0]
        return [f"{first} (and {len(exc.problems) - 1} more; run 'trialscreen validate {first.location.file}' "
                "to see all)"]
    return [str(exc)]


def _json_error(exc, sentence: str) -> None:
    """The error as one JSON object on stderr: its exit code, kind, the sentence a person reads,
    and every problem with its place."""
    import json

    problems = list(getattr(exc, "problems", None) or [Problem(exc.location, exc.message, exc.hint)])
    # ASCII JSON: every control character and escape sequence of the input is a \\u escape
    sys.stderr.write(json.dumps({"error": {"code": exc.exit_code, "kind": type(exc).__name__,
                                           "message": safe(sentence),
                                           "problems": [p.as_dict() for p in problems]}}) + "\n")


def open_for_writing(path: str, newline=None):
    try:
        return open(path, "w", encoding="utf-8", newline=newline)
    except OSError as exc:
        raise FileWriteError(f"cannot write {path}: {exc.strerror}",
                             hint="check that the folder exists and can be written") from None


def open_input(path: str):
    """The bytes of ``path``; '-' is standard input."""
    try:
        return sys.stdin.buffer if path == "-" else open(path, "rb")
    except FileNotFoundError:
        raise FileReadError(f"no such file: {path}", hint="check the path") from None
    except OSError as exc:
        raise FileReadError(f"cannot read {path}: {exc.strerror}") from None


def parse_as_of(text: Optional[str]):
    if text is None:
        return None
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of '{text}' is not a date", hint="write it as YYYY-MM-DD") from None


def parse_max_lab_age(text: Optional[str]):
    if text is None:
        return None
    from trialscreen.semantics.timewin import parse_duration

    try:
        return parse_duration(text)
    except ValueError:
        raise UsageError(f"--max-lab-age '{text}' is not a duration",
                         hint="write it like '28 days', '6 weeks' or '3 months'") from None


def load_trials(ids: Optional[List[str]]):
    from trialscreen.criteria.library import bundled_trials, load_trial

    if ids:
        return [load_trial(t) for t in ids]
    paths = bundled_trials()
    if not paths:
        raise UsageError("no bundled trials were found", hint="give --trial PATH")
    return [load_trial(str(p)) for p in paths]


def where(problem) -> str:
    loc = problem.location
    text = str(loc)
    return safe(text) + ": " if text else ""


def safe(text: str) -> str:
    """Escape control characters and terminal escape sequences from input."""
    from trialscreen.textio import printable

    return printable(text)


def stderr(text: str):
    sys.stderr.write(safe(text) + "\n")


def stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):   # a replaced or closed stdout
        return False


def show(what: str, data, **options) -> None:
    """Tables with colours for a terminal (trialscreen_cli.terminal); plain text
    (trialscreen.render.text) for a pipe or a file, which also spares those runs importing
    rich. ``what``: results, explain or trials."""
    if stdout_is_terminal():
        from trialscreen_cli import terminal

        draw = {"results": terminal.render_results, "explain": terminal.render_explain,
                "trials": terminal.render_trials}[what]
        draw(data, **options)
    else:
        from trialscreen.render import text

        write = {"results": text.results_text, "explain": text.explain_text, "trials": text.trials_text}[what]
        typer.echo(write(data, **options), nl=False)


PROGRESS = {"on": True}      # --no-progress turns it off for every command


def count_lines(path: str) -> int | None:
    """The lines of a plain file (the rows a progress bar expects), or None for standard input,
    a folder, a workbook, or a file too big to count in a moment."""
    import os

    if path == "-" or not os.path.isfile(path) or path.lower().endswith((".xlsx", ".xlsm")):
        return None
    if os.path.getsize(path) > 2_000_000_000:
        return None
    lines = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return lines


def run_into(source: str, out: str, quiet: bool, run, total: int | None = None):
    """``run(target, progress)`` writing into ``out`` ('-': standard output), with a progress bar
    when stderr is a terminal. A run that fails leaves no half-written output file; one stopped
    by Ctrl-C keeps the complete rows written so far, says how many, and exits 130."""
    from pathlib import Path

    bar = None
    draw = None
    if not quiet and PROGRESS["on"] and sys.stderr.isatty():
        from trialscreen_cli.terminal import progress_bar

        bar, draw = progress_bar(source, total)
    seen = [0]

    def progress(rows: int) -> None:
        seen[0] = rows
        if draw is not None:
            draw(rows)

    target = sys.stdout if out == "-" else open_for_writing(out, newline="")
    finished = interrupted = False
    try:
        summary = run(target, progress)
        finished = True
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.stop()
        if target is not sys.stdout:
            target.close()
            if not finished and not interrupted:
                Path(out).unlink(missing_ok=True)
    if interrupted:
        interrupted_at(seen[0], out)
    return summary


def interrupted_at(rows: int, out: str, header: bool | None = None) -> None:
    """After Ctrl-C: keep ``out``'s complete lines (a line cut short is dropped), say how many
    output rows it holds, and exit 130. ``rows``: the input rows screened (said when the output
    is standard output, which cannot be counted). ``header``: whether ``out`` starts with a
    header line (default: a CSV file)."""
    if out == "-":
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        stderr(f"trialscreen: interrupted after {rows:,} rows; the rows written so far are on standard output")
        raise typer.Exit(130)
    written = complete_lines(out)
    if header if header is not None else not out.lower().endswith((".jsonl", ".ndjson")):
        written = max(written - 1, 0)
    if not written:
        from pathlib import Path

        Path(out).unlink(missing_ok=True)
        stderr(f"trialscreen: interrupted before any row was written; {out} was not kept")
    else:
        stderr(f"trialscreen: interrupted after {written:,} rows; the {written:,} rows written so far are in {out}")
    raise typer.Exit(130)


def complete_lines(path: str) -> int:
    """The number of lines of ``path`` that end in a newline; a last line cut short is removed."""
    try:
        with open(path, "rb+") as fh:
            lines = pos = end = 0          # end: the offset just past the last newline
            while chunk := fh.read(1 << 20):
                lines += chunk.count(b"\n")
                if (at := chunk.rfind(b"\n")) >= 0:
                    end = pos + at + 1
                pos += len(chunk)
            if end != pos:
                fh.truncate(end)
            return lines
    except OSError:
        return 0


@dataclass
class RunOutputs:
    """What a batch or omop run writes besides its rows: the --summary JSON, the --report page
    (with what it states: the trials, the input, the as-of date) and the --fail-on verdicts."""

    summary_file: Optional[str] = None
    report: Optional[str] = None
    trials: list = field(default_factory=list)
    source: str = ""
    as_of: str = ""
    fail_on: frozenset = frozenset()
    page: bool = False          # the rows go to a file, so a long summary may go through the pager

    def check_writable(self) -> None:
        """Fail now, not after a long run, on an output that cannot be written; a file there
        already is kept as it is until the run has its replacement (Ctrl-C or an input error
        leaves the last run's summary whole)."""
        from pathlib import Path

        for path in (self.summary_file, self.report):
            if not path:
                continue
            existed = Path(path).exists()
            try:
                open(path, "a", encoding="utf-8").close()
            except OSError as exc:
                raise FileWriteError(f"cannot write {path}: {exc.strerror}",
                                     hint="check that the folder exists and can be written") from None
            if not existed:
                Path(path).unlink(missing_ok=True)


def finish_run(summary, outputs: RunOutputs, quiet: bool, unit: str) -> None:
    """What `batch` and `omop` do after a run: the summary file and report, the summary on stderr,
    and the exit code the results decide (70 for a bug met on some rows, 1 for rows with errors,
    3 for a verdict named by --fail-on)."""
    import json

    if outputs.summary_file:
        with open_for_writing(outputs.summary_file) as fh:
            json.dump(summary.as_dict(), fh, indent=2)
    if outputs.report:
        from trialscreen.render.report import report_html

        with open_for_writing(outputs.report) as fh:
            fh.write(report_html(summary, outputs.trials, outputs.source, outputs.as_of))
    if not quiet:
        from trialscreen_cli.terminal import render_batch_summary

        render_batch_summary(summary, outputs.page)
    if summary.internal_errors:
        stderr(f"trialscreen: internal error on {summary.internal_errors} {unit}(s): this is a bug, please report it")
        raise typer.Exit(70)
    if summary.error_rows:
        raise typer.Exit(1)
    hits = {v: sum(t.verdicts.get(v, 0) for t in summary.trials) for v in outputs.fail_on}
    if any(hits.values()):
        raise typer.Exit(EXIT_FAIL_ON)


EXIT_FAIL_ON = 3     # a verdict named by --fail-on occurred (documented in the README)
FAIL_ON_HELP = ("Exit with code 3 when any result has one of these verdicts (comma-separated: eligible, "
                "ineligible, needs_review), for scripts.")


def report_option():
    return typer.Option(None, "--report", metavar="FILE", help="Also write a feasibility report here (one HTML "
                        "page: verdicts, attrition funnel and criteria charts, missing data).")


def fail_on_option():
    return typer.Option(None, "--fail-on", metavar="VERDICTS", help=FAIL_ON_HELP)


def parse_fail_on(text: Optional[str]) -> frozenset:
    if not text:
        return frozenset()
    words = {w.strip().lower().replace(" ", "_").replace("-", "_") for w in text.split(",") if w.strip()}
    known = {"eligible", "ineligible", "needs_review"}
    wrong = sorted(words - known)
    if wrong:
        raise UsageError(f"--fail-on '{wrong[0]}' is not a verdict", hint="use eligible, ineligible, needs_review")
    return frozenset(words)

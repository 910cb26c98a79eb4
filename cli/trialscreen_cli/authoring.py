"""The commands of trial authors and of the library: validate criteria files, run their golden
cases, explain a trial, print the JSON Schemas, list the bundled trials."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import List, Optional

import typer

from trialscreen.errors import CriteriaError
from trialscreen_cli.shared import handles_errors, safe, show, stderr, where

EXIT_ROW_ERRORS, EXIT_INPUT = 1, 65


def register(app: typer.Typer) -> None:
    app.command()(handles_errors(validate))
    app.command("test")(handles_errors(test_cases))
    app.command()(handles_errors(explain))
    app.command()(handles_errors(schema))
    app.command()(handles_errors(trials))


def validate(files: List[str] = typer.Argument(..., help="Criteria files to check.")):
    """Check criteria files and report every problem with file:line:column."""
    from trialscreen.criteria.library import load_trial

    failed = False
    for f in files:
        warnings: list = []
        if Path(f).name.startswith("_definitions"):
            from trialscreen.criteria.compile import compile_definitions, read_text

            try:
                defs = compile_definitions(read_text(Path(f)), f)
            except CriteriaError as exc:
                failed = True
                for p in exc.problems:
                    stderr(f"{where(p)}error: {p.message}" + (f" ({p.hint})" if p.hint else ""))
                continue
            typer.echo(f"{f}: ok, {len(defs)} shared definitions")
            continue
        try:
            trial = load_trial(f, warnings=warnings)
        except CriteriaError as exc:
            failed = True
            for p in exc.problems:
                stderr(f"{where(p)}error: {p.message}" + (f" ({p.hint})" if p.hint else ""))
            continue
        from trialscreen.criteria.lint import lint_trial

        for p in [*warnings, *lint_trial(trial)]:
            stderr(f"{where(p)}warning: {p.message}" + (f" ({p.hint})" if p.hint else ""))
        typer.echo(f"{f}: ok, {trial.id}, {len(trial.criteria)} criteria")
    if failed:
        raise typer.Exit(EXIT_INPUT)


def test_cases(
    paths: Optional[List[str]] = typer.Argument(None, help="Trial files or folders (default: the bundled library)."),
    coverage: bool = typer.Option(True, "--coverage/--no-coverage",
                                  help="Fail when a criterion is never driven to pass, fail or unknown."),
):
    """Run each trial's golden patient cases; report mismatches and untested statuses."""
    from trialscreen.criteria.cases import check_trial, trial_files
    from trialscreen.criteria.library import bundled_trials

    files = trial_files(paths) if paths else bundled_trials()
    failed = False
    for path in files:
        report = check_trial(path)
        if report.error:
            failed = True
            stderr(f"{path}: error: {report.error}")
            continue
        good = sum(1 for c in report.cases if c.ok)
        typer.echo(f"{report.trial_id}: {good}/{len(report.cases)} cases pass")
        for case in report.cases:
            if case.error:
                failed = True
                typer.echo(f"  FAIL {case.path}: {safe(case.error)}")
            for m in case.mismatches:
                failed = True
                typer.echo(f"  FAIL {case.path}: {safe(m)}")
        if report.gaps:
            by_status: dict = {}
            for cid, status in report.gaps:
                by_status.setdefault(status, []).append(cid)
            for status, ids in by_status.items():
                typer.echo(f"  untested: no case drives {', '.join(ids)} to {status}")
            failed = failed or coverage
        if not report.cases:
            typer.echo("  no cases: add some under cases/" + report.trial_id + "/")
            failed = failed or coverage
    if failed:
        raise typer.Exit(EXIT_ROW_ERRORS)


def explain(trial: str = typer.Argument(..., help="Trial id or criteria file.")):
    """Show a trial's encoded logic beside its protocol text."""
    from trialscreen.criteria.library import load_trial

    show("explain", load_trial(trial))


class SchemaKind(str, enum.Enum):
    criteria = "criteria"
    patient = "patient"


def schema(kind: SchemaKind = typer.Argument(SchemaKind.criteria, help="criteria or patient")):
    """Print the JSON Schema of criteria files or of patient records."""
    import json

    if kind is SchemaKind.criteria:
        from trialscreen.criteria.schema import criteria_schema

        typer.echo(json.dumps(criteria_schema(), indent=1, ensure_ascii=False))
    else:
        from importlib.resources import files

        typer.echo(files("trialscreen.patient").joinpath("patient.schema.json").read_text(encoding="utf-8"))


def trials():
    """List the bundled trials."""
    from trialscreen.criteria.library import bundled_trials, load_trial

    show("trials", [load_trial(str(p)) for p in bundled_trials()])

"""The commands of trial authors and of the library: validate criteria files, run their golden
cases, explain a trial, print the JSON Schemas, list the bundled trials. Each finds plain
records first, then prints them in the format asked for (table, json, markdown, html)."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import List, Optional

import typer

from trialscreen.errors import CriteriaError
from trialscreen_cli.shared import handles_errors, safe, show, stderr, where

EXIT_ROW_ERRORS, EXIT_INPUT = 1, 65


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


FORMAT_HELP = "Output format: table (plain text when piped), json (for machines), markdown or html."


def register(app: typer.Typer) -> None:
    app.command()(handles_errors(validate))
    app.command("test")(handles_errors(test_cases))
    app.command()(handles_errors(explain))
    app.command()(handles_errors(schema))
    app.command()(handles_errors(trials))


def _emit(fmt: Format, data, title: str, headers: list, rows: list, intro: str = "") -> None:
    """json: ``data`` as is; markdown and html: ``rows`` under ``headers``."""
    if fmt is Format.json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif fmt is Format.markdown:
        from trialscreen.render.records import table_markdown

        typer.echo(table_markdown(title, headers, rows, intro), nl=False)
    else:
        from trialscreen.render.records import table_html

        typer.echo(table_html(title, headers, rows, intro), nl=False)


def _problem_line(p, severity: str) -> str:
    return f"{where(p)}{severity}: {p.message}" + (f" ({p.hint})" if p.hint else "")


def _check_file(f: str) -> dict:
    """What validate finds in one file: ok or not, what it holds, its problems and warnings."""
    from trialscreen.criteria.library import load_trial

    out: dict = {"file": f, "ok": True, "trial": None, "criteria": None, "definitions": None, "problems": []}
    warnings: list = []
    try:
        if Path(f).name.startswith("_definitions"):
            from trialscreen.criteria.compile import compile_definitions, read_text

            out["definitions"] = len(compile_definitions(read_text(Path(f)), f))
            return out
        trial = load_trial(f, warnings=warnings)
    except CriteriaError as exc:
        out["ok"] = False
        out["problems"] = [p.as_dict() for p in exc.problems]
        out["_problems"] = [_problem_line(p, "error") for p in exc.problems]
        return out
    from trialscreen.criteria.lint import lint_trial

    found = [*warnings, *lint_trial(trial)]
    out.update(trial=trial.id, criteria=len(trial.criteria),
               problems=[dict(p.as_dict(), severity="warning") for p in found],
               _problems=[_problem_line(p, "warning") for p in found])
    return out


def validate(files: List[str] = typer.Argument(..., metavar="FILE", help="Criteria files to check."),
             fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Check criteria files and report every problem with file:line:column."""
    results = [_check_file(f) for f in files]
    if fmt is Format.table:
        for r in results:
            for line in r.get("_problems", []):
                stderr(line)
            if r["ok"]:
                held = (f"{r['definitions']} shared definitions" if r["definitions"] is not None
                        else f"{r['trial']}, {r['criteria']} criteria")
                typer.echo(f"{r['file']}: ok, {held}")
    else:
        data = [{k: v for k, v in r.items() if not k.startswith("_")} for r in results]
        rows = [[r["file"], "ok" if r["ok"] else "invalid", r["trial"] or "", p["severity"],
                 f"{p['line'] or ''}:{p['column'] or ''}", p["message"] + (f" ({p['hint']})" if p["hint"] else "")]
                for r in data for p in (r["problems"] or [{"severity": "", "line": None, "column": None,
                                                            "message": "no problem", "hint": ""}])]
        _emit(fmt, data, "trialscreen validate", ["File", "Status", "Trial", "Severity", "Line:column", "Message"],
              rows)
    if not all(r["ok"] for r in results):
        raise typer.Exit(EXIT_INPUT)


def _run_cases(path, coverage: bool) -> dict:
    """One trial's golden cases: how many pass, each failure, the statuses no case reaches."""
    from trialscreen.criteria.cases import check_trial

    report = check_trial(path)
    if report.error:
        return {"file": str(path), "trial": None, "error": str(report.error), "failed": True}
    failures = [{"case": str(c.path), "message": safe(m)} for c in report.cases
                for m in ([c.error] if c.error else []) + list(c.mismatches)]
    by_status: dict = {}
    for cid, status in report.gaps:
        by_status.setdefault(status, []).append(cid)
    untested = [{"status": s, "criteria": ids} for s, ids in by_status.items()]
    return {"file": str(path), "trial": report.trial_id, "cases": len(report.cases),
            "passed": sum(1 for c in report.cases if c.ok), "failures": failures, "untested": untested,
            "failed": bool(failures) or (coverage and (bool(untested) or not report.cases))}


def test_cases(
    paths: Optional[List[str]] = typer.Argument(None, metavar="[PATH]...",
                                                help="Trial files or folders (default: the bundled library)."),
    coverage: bool = typer.Option(True, "--coverage/--no-coverage",
                                  help="Fail when a criterion is never driven to pass, fail or unknown."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP),
):
    """Run each trial's golden patient cases; report mismatches and untested statuses."""
    from trialscreen.criteria.cases import trial_files
    from trialscreen.criteria.library import bundled_trials

    results = [_run_cases(p, coverage) for p in (trial_files(paths) if paths else bundled_trials())]
    if fmt is Format.table:
        for r in results:
            _print_cases(r)
    else:
        rows = [[r["trial"] or r["file"], r.get("error") or f"{r['passed']}/{r['cases']} cases pass",
                 "; ".join(f"{f['case']}: {f['message']}" for f in r.get("failures", [])),
                 "; ".join(f"{', '.join(u['criteria'])} never {u['status']}" for u in r.get("untested", []))]
                for r in results]
        _emit(fmt, results, "trialscreen test", ["Trial", "Cases", "Failures", "Untested"], rows)
    if any(r["failed"] for r in results):
        raise typer.Exit(EXIT_ROW_ERRORS)


def _print_cases(r: dict) -> None:
    if r.get("error"):
        stderr(f"{r['file']}: error: {r['error']}")
        return
    typer.echo(f"{r['trial']}: {r['passed']}/{r['cases']} cases pass")
    for f in r["failures"]:
        typer.echo(f"  FAIL {f['case']}: {f['message']}")
    for u in r["untested"]:
        typer.echo(f"  untested: no case drives {', '.join(u['criteria'])} to {u['status']}")
    if not r["cases"]:
        typer.echo("  no cases: add some under cases/" + r["trial"] + "/")


def explain(trial: str = typer.Argument(..., help="Trial id or criteria file."),
            fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """Show a trial's encoded logic beside its protocol text."""
    from trialscreen.criteria.library import load_trial
    from trialscreen.explain.describe import criterion_lines
    from trialscreen.render.summary import lab_window_words

    t = load_trial(trial)
    if fmt is Format.table:
        show("explain", t)
        return
    criteria = [{"id": c.id, "kind": c.kind, "text": c.text, "logic": criterion_lines(c), "note": c.note}
                for c in t.criteria]
    rows = [[c["id"], c["kind"], c["text"], " / ".join(line.strip() for line in c["logic"])] for c in criteria]
    _emit(fmt, dict(t.summary(), criteria=criteria), f"{t.id}: {t.title}", ["ID", "Kind", "Protocol text", "Encoded"],
          rows, f"{t.source} ({t.version}). {lab_window_words(t)}")


class SchemaKind(str, enum.Enum):
    criteria = "criteria"
    patient = "patient"


def schema(kind: SchemaKind = typer.Argument(SchemaKind.criteria, metavar="[criteria|patient]",
                                             help="criteria or patient")):
    """Print the JSON Schema of criteria files or of patient records."""
    if kind is SchemaKind.criteria:
        from trialscreen.criteria.schema import criteria_schema

        typer.echo(json.dumps(criteria_schema(), indent=1, ensure_ascii=False))
    else:
        from importlib.resources import files

        typer.echo(files("trialscreen.patient").joinpath("patient.schema.json").read_text(encoding="utf-8"))


def trials(fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """List the bundled trials."""
    from trialscreen.criteria.library import bundled_trials, load_trial
    from trialscreen.render.summary import criteria_counts

    found = [load_trial(str(p)) for p in bundled_trials()]
    if fmt is Format.table:
        show("trials", found)
        return
    data = [dict(t.summary(), criteria=len(t.criteria), counts=criteria_counts(t)) for t in found]
    rows = [[t.id, t.title, criteria_counts(t), "complete" if t.complete else "partial", t.version] for t in found]
    _emit(fmt, data, "Bundled trials", ["Trial", "Title", "Criteria", "Encoded", "Version"], rows)

"""How --help names what a command takes: words a user writes (PATIENT..., --as-of DATE,
--out FILE), not the types of the Python code behind them. Typer 0.29 prints a required argument
as {PATIENT} and a type as <list[str]>; this module is the one place that says otherwise, and
tests/test_cli_help.py checks every command's help for such placeholders."""

from __future__ import annotations

import inspect

from typer import core

_WORD = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN", "Path": "PATH"}


def _usage_name(self) -> str:
    name = self.display_name_raw
    name = name if self.required else f"[{name}]"
    return name + ("..." if self.nargs != 1 and not name.endswith("...") else "")


def _argument_type(self, ctx):
    return None if self.metavar else _words(self, ctx)


def _option_type(self, ctx):
    return self.metavar or _words(self, ctx)


def _words(self, ctx) -> str:
    desc = self.type_descriptor
    if desc.is_choice:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices or ()) + "]"
    annotation = desc.annotation
    inner = getattr(annotation, "__args__", None)
    if inner:
        annotation = inner[0]
    return _WORD.get(getattr(annotation, "__name__", ""), "TEXT")


def plain_help() -> None:
    """Make every command's --help speak in these words (called once, before the app runs)."""
    core.TyperArgument._usage_display_name = _usage_name          # type: ignore[method-assign]
    core.TyperArgument.display_type_rich = _argument_type          # type: ignore[method-assign]
    core.TyperOption.display_type_rich = _option_type              # type: ignore[method-assign]


# Examples at the end of each command's --help (the \b keeps click from rewrapping them).
EXAMPLES = {
    "screen": ["trialscreen screen examples/patients/NCT05378971-eligible.json --trial NCT05378971",
               "trialscreen screen patient.json --trial NCT05378971 --format html --out record.html",
               "trialscreen screen bundle.json --as-of 2025-06-02 --format json"],
    "batch": ["trialscreen batch examples/batch/patients.csv --trial NCT05378971 --out results.csv",
              "trialscreen batch export.tsv --columns export-columns.yaml --report feasibility.html --out results.csv",
              "trialscreen batch patients/ --trial NCT05378971 --fail-on ineligible --quiet"],
    "vocab": ["trialscreen vocab", "trialscreen vocab analytes", "trialscreen vocab 'IGH/FGFR3'"],
    "omop": ["trialscreen omop cdm.duckdb --trial NCT05378971 --out results.csv --report feasibility.html"],
    "columns": ["trialscreen columns examples/batch/registry.tsv --columns examples/batch/registry-columns.yaml "
                "--trial NCT05378971"],
    "validate": ["trialscreen validate criteria/NCT05378971.yaml", "trialscreen validate my-trial.yaml --format json"],
    "test": ["trialscreen test", "trialscreen test criteria/NCT05378971.yaml --format json"],
    "explain": ["trialscreen explain NCT05378971", "trialscreen explain NCT05378971 --format markdown"],
    "schema": ["trialscreen schema criteria > criteria.schema.json", "trialscreen schema patient"],
    "trials": ["trialscreen trials", "trialscreen trials --format json"],
    "fhir": ["trialscreen export fhir examples/patients/NCT05378971-eligible.json --out bundle.json"],
    "omop-export": ["trialscreen export omop examples/patients/*.json --out cdm/"],
}


def add_examples(app) -> None:
    """Append each command's examples to its help text (its docstring)."""
    for info in app.registered_commands:
        name = info.name or info.callback.__name__.replace("_", "-")
        _append(info.callback, EXAMPLES.get("test" if name == "test-cases" else name))
    for group in app.registered_groups:
        for info in group.typer_instance.registered_commands:
            name = info.name or info.callback.__name__
            _append(info.callback, EXAMPLES.get("omop-export" if name in ("omop", "export-omop") else name))


def _append(callback, examples) -> None:
    if not examples or "Examples:" in (callback.__doc__ or ""):
        return
    lines = "\n".join(f"  $ {e}" for e in examples)
    callback.__doc__ = inspect.cleandoc(callback.__doc__ or "") + f"\n\nExamples:\n\n\b\n{lines}\n"

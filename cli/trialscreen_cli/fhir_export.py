"""`trialscreen export fhir`: patient records as one FHIR R4 collection Bundle (docs/fhir.md).
Parse, call the library (trialscreen.fhir.export), report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from trialscreen_cli.shared import parse_as_of


def export_fhir(
    patients: List[str] = typer.Argument(..., help="Patient records (JSON), one or more."),
    out: str = typer.Option(..., "--out", "-o", metavar="FILE", help="The Bundle file (JSON) to write."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", metavar="DATE",
        help="Date the person fields (ECOG, weight, flags) are recorded on (default: the record's as_of, else "
             "today)."),
):
    """Write patient records as one FHIR R4 Bundle (type collection) that trialscreen reads back."""
    from trialscreen.fhir.export import export_records
    from trialscreen.patient.jsonpos import loads_strict
    from trialscreen.patient.load import patient_from_dict, read_text

    when = parse_as_of(as_of)
    records = []
    for path in patients:
        record = loads_strict(*read_text(path))
        patient_from_dict(record, path)      # a record the screener refuses is not exported either
        records.append(record)
    summary = export_records(records, Path(out), as_of=when, sources=list(patients))
    typer.echo(f"{len(records)} record(s) written to {out}: {summary}")

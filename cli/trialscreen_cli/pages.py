"""``screen --out`` and ``screen --format html``: results written to a file, or, for HTML with
several results, one page per patient and trial into a folder (a page is one record to file)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from trialscreen.errors import FileWriteError, UsageError
from trialscreen_cli.shared import open_for_writing, stderr

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def rendered(results, fmt: str, full_text: bool) -> str:
    """The whole output of ``screen`` in a format (html: one result only)."""
    if fmt == "html":
        from trialscreen.render.html import result_html

        return result_html(results[0])
    if fmt == "json":
        from trialscreen.render.json import results_json

        return results_json(results) + "\n"
    if fmt == "markdown":
        from trialscreen.render.markdown import results_markdown

        return results_markdown(results) + "\n"
    from trialscreen.render.text import results_text

    return results_text(results, full_text)


def page_name(result) -> str:
    """'EX-004_NCT05378971.html': the patient and trial, safe as a file name on every system."""
    patient = _UNSAFE.sub("_", str(result.patient_id)).strip("_") or "patient"
    if len(patient) > 80:             # file systems allow 255 bytes: a long id keeps its start and a hash
        import hashlib

        patient = patient[:64] + "-" + hashlib.sha256(str(result.patient_id).encode()).hexdigest()[:12]
    return f"{patient}_{_UNSAFE.sub('_', result.trial.id)[:80]}.html"


def write_results(results, fmt: str, out: str | None, full_text: bool) -> None:
    if fmt != "html" or len(results) == 1:
        text = rendered(results, fmt, full_text)
        if out is None or out == "-":
            typer.echo(text, nl=False)
            return
        with open_for_writing(out) as f:
            f.write(text)
        return
    if out is None or out == "-" or out.lower().endswith((".html", ".htm")):
        raise UsageError(f"--format html makes one page per patient and trial ({len(results)} here)",
                         hint="give a folder to write them into: --out pages/")
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileWriteError(f"cannot make the folder {out}: {exc.strerror}",
                             hint="check that its parent exists and can be written") from None
    from trialscreen.render.html import result_html

    names: dict = {}
    for r in results:
        name = page_name(r)
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:                     # two patients whose ids differ only in unsafe characters
            name = name[:-5] + f"-{names[name]}.html"
        with open_for_writing(str(folder / name)) as f:
            f.write(result_html(r))
    stderr(f"{len(results)} pages written to {out}")

"""`trialscreen columns` as text: one line per column of the file, what it maps to, its unit, whether
the selected trials read it, and sample cells as the batch reads them; then the mapping's problems."""

from __future__ import annotations

from trialscreen.textio import printable

_WIDTH = {"column": 24, "maps_to": 30, "unit": 10, "status": 24}


def _cut(text: str, width: int) -> str:
    text = printable(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _sample(samples: list) -> str:
    shown = []
    for s in samples:
        cell, read = printable(s["cell"]), printable(s["read"])
        shown.append(cell if read == cell.strip() else f"{cell} → {read}")
    return "; ".join(shown)


def columns_text(report) -> str:
    """The report (batch/describe.py ColumnReport) as an aligned table and a list of problems."""
    head = (f"{report.file}: {report.delimiter}-delimited, {report.encoding}, header on line {report.header_line}, "
            f"{report.rows_sampled:,} row(s) sampled")
    names = ("column", "maps_to", "unit", "status")
    lines = [head, "", "  ".join(n.replace("_", " ").ljust(_WIDTH[n]) for n in names) + "  samples (cell → read as)"]
    for c in report.columns:
        cells = [_cut(str(c[n] or "-"), _WIDTH[n]).ljust(_WIDTH[n]) for n in names]
        lines.append(("  ".join(cells) + "  " + _sample(c["samples"])).rstrip())
    for note in report.notes:
        lines.append(f"note: {printable(note)}")
    for w in report.warnings:
        lines.append(f"warning: {printable(str(w))}")
    for p in report.problems:
        lines.append(f"error: {printable(str(p))}")
    if report.problems:
        n = len(report.problems)
        where = "in the mapping" if report.mapped else "in the header (map the columns with --columns)"
        lines.append(f"{n} problem{'s' if n > 1 else ''} {where}: `batch` refuses this file until "
                     f"{'they are' if n > 1 else 'it is'} corrected")
    return "\n".join(lines) + "\n"

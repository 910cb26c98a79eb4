"""Screening results as Markdown (for notes, tickets and e-mail)."""

from __future__ import annotations

from trialscreen.render.summary import STATUS_WORD, VERDICT_WORD, ranked, why
from trialscreen.textio import printable


def _cell(text: str) -> str:
    return printable(" ".join(str(text).split())).replace("|", "\\|")


def result_markdown(result) -> str:
    t = result.trial
    lines = [f"## {t.id}: {_cell(t.title)}", ""]
    lines.append(f"**Verdict: {VERDICT_WORD[result.verdict]}** for patient `{_cell(result.patient_id)}` "
                 f"as of {result.as_of.isoformat()}")
    lines.append("")
    if not t.complete:
        lines.append(f"> This verdict covers only the encoded criteria. Not encoded: "
                     f"{_cell('; '.join(t.not_encoded))}")
        lines.append("")
    lines.append("| ID | Kind | Status | Reason |")
    lines.append("|---|---|---|---|")
    for c in result.criteria:
        lines.append(f"| {c.id} | {c.kind} | {STATUS_WORD[c.status]} | {_cell(c.reason)} |")
    if result.missing:
        lines.append("")
        lines.append("**Data to fetch:**")
        lines.append("")
        lines.extend(f"- {_cell(m)}" for m in result.missing)
    if result.warnings:
        lines.append("")
        lines.append("**What the record says that trialscreen could not use:**")
        lines.append("")
        lines.extend(f"- {_cell(w)}" for w in result.warnings)
    lines.append("")
    return "\n".join(lines)


def results_markdown(results) -> str:
    """One or several results; several get a ranked summary first."""
    if len(results) == 1:
        return result_markdown(results[0])
    results = ranked(results)
    lines = ["## Which trials could this patient enter?", "", "| Trial | Verdict | Why |", "|---|---|---|"]
    lines += [f"| {r.trial.id} | {VERDICT_WORD[r.verdict]} | {_cell(why(r))} |" for r in results]
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(result_markdown(r) for r in results)

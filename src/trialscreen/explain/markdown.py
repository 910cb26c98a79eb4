"""Screening results as Markdown (for notes, tickets and e-mail)."""

from __future__ import annotations

STATUS_WORD = {"pass": "✔ pass", "fail": "✘ fail", "unknown": "? unknown", "not_applicable": "– n/a"}
VERDICT_WORD = {"eligible": "ELIGIBLE", "ineligible": "INELIGIBLE", "needs_review": "NEEDS REVIEW"}


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def result_markdown(result) -> str:
    t = result.trial
    lines = [f"## {t.id}: {_cell(t.title)}", ""]
    lines.append(f"**Verdict: {VERDICT_WORD[result.verdict]}** for patient `{result.patient_id}` "
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
    lines.append("")
    return "\n".join(lines)

"""Screening results as Markdown (for notes, tickets and e-mail)."""

from __future__ import annotations

from trialscreen.textio import printable

STATUS_WORD = {"pass": "✔ pass", "fail": "✘ fail", "unknown": "? unknown", "not_applicable": "– n/a"}
VERDICT_WORD = {"eligible": "ELIGIBLE", "ineligible": "INELIGIBLE", "needs_review": "NEEDS REVIEW"}


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


_ORDER = {"eligible": 0, "needs_review": 1, "ineligible": 2}


def ranked(results) -> list:
    """Eligible first, then needs review (fewest undecided first), then ineligible."""
    return sorted(results, key=lambda r: (_ORDER[r.verdict], len(r.ids("unknown")), r.trial.id))


def why(result) -> str:
    if result.verdict == "ineligible":
        text = "fails " + ", ".join(result.ids("fail"))
    elif result.verdict == "needs_review":
        text = f"{len(result.ids('unknown'))} undecided: " + ", ".join(result.ids("unknown"))
    else:
        text = "every criterion met"
    if not result.trial.complete:
        text += " (trial only partly encoded)"
    return text


def results_markdown(results) -> str:
    """One or several results; several get a ranked summary first."""
    if len(results) == 1:
        return result_markdown(results[0])
    results = ranked(results)
    lines = ["## Which trials could this patient enter?", "", "| Trial | Verdict | Why |", "|---|---|---|"]
    lines += [f"| {r.trial.id} | {VERDICT_WORD[r.verdict]} | {_cell(why(r))} |" for r in results]
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(result_markdown(r) for r in results)

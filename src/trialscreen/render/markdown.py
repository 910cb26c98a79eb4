"""Screening results as Markdown (for notes, tickets, e-mail and the screening log): the verdict,
every criterion with its full protocol text, status and checks, the data to fetch as a checklist,
and the stamp and reviewer line that make it a record to file."""

from __future__ import annotations

from trialscreen.render.plain import REVIEWER, check_lines, fetch_groups, stamp, status_label
from trialscreen.render.summary import VERDICT_WORD, counts_words, ranked, why
from trialscreen.textio import printable


def md_cell(text) -> str:
    """Input text in a Markdown cell: one line, the table's bar escaped, and HTML's <, > and &
    as entities, so a record's text can never be markup where Markdown passes HTML through."""
    one = printable(" ".join(str(text).split()))
    return one.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def result_markdown(result) -> str:
    t = result.trial
    lines = [f"## {t.id}: {md_cell(t.title)}", ""]
    lines.append(f"**Verdict: {VERDICT_WORD[result.verdict]}** for patient **{md_cell(result.patient_id)}** "
                 f"as of {result.as_of.isoformat()} ({counts_words(result)})")
    lines.append("")
    if not t.complete:
        lines.append(f"> This verdict covers only the encoded criteria. Not encoded: "
                     f"{md_cell('; '.join(t.not_encoded))}")
        lines.append("")
    lines.append("| ID | Kind | Status | Criterion and checks |")
    lines.append("|---|---|---|---|")
    for c in result.criteria:
        checks = "".join(f"<br>{x.mark} {md_cell(x.text)}" for x in check_lines(c))
        lines.append(f"| {c.id} | {c.kind} | {status_label(c)} | **{md_cell(c.text)}**{checks} |")
    groups = fetch_groups(result)
    if groups:
        lines += ["", "### Data to fetch", ""]
        for title, items in groups:
            lines.append(f"**{title}**")
            lines.append("")
            lines.extend(f"- [ ] {md_cell(i.words)}" for i in items)
            lines.append("")
        lines.pop()
    if result.warnings:
        lines += ["", "### What the record says that trialscreen could not use", ""]
        lines.extend(f"- {md_cell(w)}" for w in result.warnings)
    lines += ["", "### Record", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {md_cell(value)} |" for label, value in stamp(result)]
    lines += ["", "  ".join(f"{label}: ____________" for label in REVIEWER), ""]
    return "\n".join(lines)


def results_markdown(results) -> str:
    """One or several results; several get a ranked summary first."""
    if len(results) == 1:
        return result_markdown(results[0])
    results = ranked(results)
    if len({r.patient_id for r in results}) > 1:       # several patients: say whose each line is
        lines = ["## Which trials could these patients enter?", "", "| Patient | Trial | Verdict | Why |",
                 "|---|---|---|---|"]
        lines += [f"| {md_cell(r.patient_id)} | {r.trial.id} | {VERDICT_WORD[r.verdict]} | {md_cell(why(r))} |"
                  for r in results]
    else:
        lines = ["## Which trials could this patient enter?", "", "| Trial | Verdict | Why |", "|---|---|---|"]
        lines += [f"| {r.trial.id} | {VERDICT_WORD[r.verdict]} | {md_cell(why(r))} |" for r in results]
    lines.append("")
    return "\n".join(lines) + "\n" + "\n".join(result_markdown(r) for r in results)

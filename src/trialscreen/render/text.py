"""Plain text: what ``screen``, ``explain`` and ``trials`` print when stdout is not a terminal
(a pipe, a file, a log). No colours, no box drawing and no wrapping: one line per criterion,
so that the output can be searched, diffed and read in any editor. The terminal gets the
coloured tables of trialscreen_cli.terminal instead."""

from __future__ import annotations

from trialscreen.explain.describe import criterion_lines
from trialscreen.render.plain import check_lines, fetch_groups, short_text, status_label
from trialscreen.render.summary import VERDICT_WORD, counts_words, criteria_counts, lab_window_words, ranked, why
from trialscreen.textio import printable

# statuses as words only (the terminal's symbols are for the eye, not for grep)
STATUS_PLAIN = {"pass": "pass", "fail": "fail", "unknown": "unknown", "not_applicable": "n/a"}


def _line(text) -> str:
    """Input text (ids, titles, reasons) on one line, control characters escaped."""
    return printable(" ".join(str(text).split()))


def columns(rows: list, gap: str = "  ") -> list[str]:
    """Rows of cells as lines, every column but the last padded to its widest cell."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [gap.join([c.ljust(w) for c, w in zip(r, widths)] + [r[-1]]).rstrip() for r in rows]


def result_text(result, full_text: bool = False) -> str:
    t = result.trial
    lines = [f"{_line(t.id)}  {_line(t.title)}",
             f"Verdict: {VERDICT_WORD[result.verdict]}  patient {_line(result.patient_id)}, "
             f"as of {result.as_of.isoformat()} ({counts_words(result)})"]
    if not t.complete:
        lines.append("This verdict covers only the encoded criteria; not encoded: " + _line("; ".join(t.not_encoded)))
    lines.append("")
    rows = [[_line(c.id), c.kind, status_label(c), _line(short_text(c.text, full_text))] for c in result.criteria]
    for c, line in zip(result.criteria, columns(rows)):
        lines.append(line)
        lines += [f"      {x.mark} {_line(x.text)}" for x in check_lines(c)]
    lines += fetch_lines(result)
    if result.warnings:
        lines += ["", "What the record says that trialscreen could not use:"]
        lines += [f"  - {_line(w)}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def fetch_lines(result) -> list[str]:
    """The data to fetch as a checklist by source (empty when nothing is missing)."""
    groups = fetch_groups(result)
    if not groups:
        return []
    lines = ["", "Data to fetch to decide the unknown criteria:"]
    for title, items in groups:
        lines.append(f"  {title}:")
        lines += [f"    [ ] {_line(i.words)}" for i in items]
    return lines


def results_text(results, full_text: bool = False) -> str:
    """One or several results; several get a ranked summary first."""
    if len(results) == 1:
        return result_text(results[0], full_text)
    results = ranked(results)
    rows = [["Trial", "Verdict", "Why"]] + [[_line(r.trial.id), VERDICT_WORD[r.verdict], _line(why(r))]
                                            for r in results]
    title = "Which trials could this patient enter?"
    if len({r.patient_id for r in results}) > 1:     # several patients: say whose each line is
        rows = [["Patient", *rows[0]]] + [[_line(r.patient_id), *row] for r, row in zip(results, rows[1:])]
        title = "Which trials could these patients enter?"
    head = title + "\n" + "\n".join(columns(rows)) + "\n"
    return "\n".join([head] + [result_text(r, full_text) for r in results])


def explain_text(trial) -> str:
    """A trial's protocol text, each criterion with its encoded logic below it."""
    lines = [f"{_line(trial.id)}  {_line(trial.title)}",
             f"source: {_line(trial.source)}  version: {_line(trial.version)}", lab_window_words(trial)]
    if not trial.complete:
        lines.append("Incomplete encoding; not encoded: " + _line("; ".join(trial.not_encoded)))
    for c in trial.criteria:
        lines += ["", f"{_line(c.id)}  {_line(c.text)}"]
        lines += [f"    {printable(x)}" for x in criterion_lines(c)]
    return "\n".join(lines) + "\n"


def trials_text(trials) -> str:
    rows = [["Trial", "Title", "Criteria", "Encoded"]]
    for t in trials:
        rows.append([_line(t.id), _line(t.title), criteria_counts(t), "complete" if t.complete else "partial"])
    return "\n".join(columns(rows)) + "\n"

"""Terminal rendering with rich: the only module that imports it.

Colour follows rich's own rules: none when stdout is not a terminal, none
when NO_COLOR is set. Every status also carries a symbol and a word, so
nothing depends on colour.
"""

from __future__ import annotations

import os
import sys

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from trialscreen.render.plain import check_lines, fetch_groups, short_text, status_label
from trialscreen.render.summary import (
    STATUS_WORD,
    VERDICT_WORD,
    counts_words,
    criteria_counts,
    lab_window_words,
    ranked,
    why,
)
from trialscreen.textio import printable


def _t(text, style: str = "") -> Text:
    """Text from input (ids, values, protocol text) with control characters escaped."""
    return Text(printable(text), style=style)

# the words are trialscreen.render.summary's; the colours are the terminal's own
STATUS = {k: (STATUS_WORD[k], style) for k, style in
          (("pass", "green"), ("fail", "bold red"), ("unknown", "yellow"), ("not_applicable", "dim"))}
VERDICT = {k: (VERDICT_WORD[k], style) for k, style in
           (("eligible", "bold green"), ("ineligible", "bold red"), ("needs_review", "bold yellow"))}


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def render_results(results, console: Console | None = None, full_text: bool = False) -> None:
    """The results as tables; on an interactive terminal, output taller than the screen (several
    trials) goes through the pager."""
    own = console is None
    console = console or _console()
    if own and console.is_terminal and sys.stdin.isatty():
        with console.capture() as captured:
            _draw_results(console, results, full_text)
        page_or_print(captured.get(), console.height, sys.stdout)
        return
    _draw_results(console, results, full_text)


def _draw_results(console: Console, results, full_text: bool) -> None:
    if len(results) > 1:
        results = ranked(results)
        render_summary(console, results)
    for result in results:
        render_result(console, result, full_text)


def page_or_print(text: str, height: int, stream) -> None:
    """Text through the pager when it is taller than the screen, else as it is."""
    if text.count("\n") < height:
        stream.write(text)
        return
    import pydoc

    os.environ.setdefault("LESS", "-R -F -X")      # colours, quit if it fits, keep it on the screen after
    pydoc.pager(text)


def render_summary(console: Console, results) -> None:
    several = len({r.patient_id for r in results}) > 1     # say whose each line is
    table = Table(title=f"Which trials could {'these patients' if several else 'this patient'} enter?",
                  box=box.SIMPLE_HEAD, title_justify="left")
    if several:
        table.add_column("Patient", no_wrap=True)
    table.add_column("Trial", no_wrap=True)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Why")
    for r in results:
        word, style = VERDICT[r.verdict]
        table.add_row(*([_t(r.patient_id)] if several else []), _t(r.trial.id), Text(word, style=style), _t(why(r)))
    console.print(table)


def render_result(console: Console, result, full_text: bool = False) -> None:
    t = result.trial
    word, style = VERDICT[result.verdict]
    head = Text()
    head.append(printable(t.id), style="bold")
    head.append(printable(f"  {t.title}") + "\n")
    head.append("Verdict: ")
    head.append(word, style=style)
    head.append(printable(f"  patient {result.patient_id}, as of {result.as_of.isoformat()} ({counts_words(result)})"))
    console.print(head)
    if not t.complete:
        console.print(_t("This verdict covers only the encoded criteria; not encoded: "
                         + "; ".join(t.not_encoded), style="yellow"))
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, expand=False)
    table.add_column("ID", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Criterion and checks", overflow="fold")
    for c in result.criteria:
        cell = Text(printable(short_text(c.text, full_text)), style="bold")
        for line in check_lines(c):
            cell.append("\n")
            cell.append(printable(f"{line.mark} {line.text}"), style=_MARK_STYLE.get(line.mark, ""))
        table.add_row(_t(c.id), c.kind, Text(status_label(c), style=STATUS[c.status][1]), cell)
    console.print(table)
    groups = fetch_groups(result)
    if groups:
        console.print(Text("Data to fetch to decide the unknown criteria:", style="bold"))
        for title, items in groups:
            console.print(_t(f"  {title}:"))
            for i in items:
                console.print(_t(f"    ☐ {i.words}"))
    if result.warnings:
        console.print(Text("What the record says that trialscreen could not use:", style="bold yellow"))
        for w in result.warnings:
            console.print(_t(f"  • {w}"))
    console.print()


_MARK_STYLE = {"✔": "green", "✘": "red", "?": "yellow", "·": "dim", "–": "dim"}


def render_explain(trial) -> None:
    from trialscreen.explain.describe import criterion_lines

    console = _console()
    head = Text()
    head.append(printable(trial.id), style="bold")
    head.append(printable(f"  {trial.title}") + "\n" + printable(f"source: {trial.source}  version: {trial.version}"))
    console.print(head)
    console.print(_t(lab_window_words(trial)))
    if not trial.complete:
        console.print(_t("Incomplete encoding; not encoded: " + "; ".join(trial.not_encoded), style="yellow"))
    table = Table(box=box.SIMPLE_HEAD, show_lines=True)
    table.add_column("ID", no_wrap=True)
    table.add_column("Protocol text", ratio=1, overflow="fold")
    table.add_column("Encoded logic", ratio=1, overflow="fold")
    for c in trial.criteria:
        table.add_row(_t(c.id), _t(c.text), Text("\n".join(printable(x) for x in criterion_lines(c))))
    console.print(table)


def render_trials(trials) -> None:
    console = _console()
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("Trial", no_wrap=True)
    table.add_column("Title", overflow="fold")
    table.add_column("Criteria", justify="right")
    table.add_column("Encoded")
    for t in trials:
        table.add_row(_t(t.id), _t(t.title), criteria_counts(t),
                      "complete" if t.complete else Text("partial", style="yellow"))
    console.print(table)


def progress_bar(source: str, total: int | None = None):
    """A progress bar on stderr (only used when stderr is a terminal): rows done, and with the
    ``total`` expected (the input's line count, where it can be counted) the percentage, the rate
    and the time left."""
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:,.0f} rows/s" if task.speed else "", style="dim")

    columns = [SpinnerColumn(), TextColumn("[bold]screening[/] " + escape(printable(source))), BarColumn(),
               TextColumn("{task.completed:,} rows"), Rate(), TimeElapsedColumn()]
    if total:
        columns[4:4] = [TaskProgressColumn()]
        columns += [TextColumn("left"), TimeRemainingColumn()]
    bar = Progress(*columns, console=Console(stderr=True), transient=True)
    task = bar.add_task("rows", total=total or None)
    bar.start()
    state = {"last": 0}

    def update(rows: int):
        if rows - state["last"] >= 500:
            bar.update(task, completed=min(rows, total) if total else rows)
            state["last"] = rows

    return bar, update


_SHOWN_WARNINGS = 20


def render_batch_summary(summary, page: bool = False) -> None:
    """Counts per verdict and, per trial, an attrition table with bars, on stderr. ``page``: the
    rows are not on the terminal, so a summary taller than it goes through the pager."""
    console = Console(stderr=True, highlight=False)
    parts = _summary_parts(summary)
    if not (page and console.is_terminal and sys.stdout.isatty() and sys.stdin.isatty()):
        for part in parts:
            console.print(part)
        return
    with console.capture() as captured:
        for part in parts:
            console.print(part)
    page_or_print(captured.get(), console.height, sys.stderr)


def _summary_parts(summary) -> list:
    parts: list = []
    head = Text()
    head.append(f"{summary.rows_in:,} rows in, {summary.rows_out:,} rows out", style="bold")
    if summary.error_rows:
        head.append(f", {summary.error_rows:,} rows with errors", style="bold red")
    parts.append(head)
    parts += [_t(f"note: {note}") for note in getattr(summary, "notes", [])]
    parts += [_t(f"warning: {w}", style="yellow") for w in summary.warnings[:_SHOWN_WARNINGS]]
    if len(summary.warnings) > _SHOWN_WARNINGS:
        parts.append(Text(f"... {len(summary.warnings) - _SHOWN_WARNINGS:,} more warnings (all of them in --summary)"))
    parts += [_t(f"error: {e}", style="red") for e in summary.errors[:5]]
    if summary.error_rows > 5:
        parts.append(Text(f"... {summary.error_rows - 5:,} more rows with errors (verdict 'error' in the output)"))
    for tally in summary.trials:
        total = sum(tally.verdicts.values())
        verdicts = _t(f"{tally.trial_id}: ")
        for name, style in (("eligible", "green"), ("needs_review", "yellow"), ("ineligible", "red"),
                            ("error", "magenta")):
            verdicts.append(f"{name} {tally.verdicts[name]:,}  ", style=style)
        parts.append(verdicts)
        table = Table(box=box.SIMPLE_HEAD, title=f"Attrition, {tally.trial_id} ({total:,} patients)",
                      title_justify="left")
        table.add_column("Criterion")
        table.add_column("Fail", justify="right")
        table.add_column("Fail only this", justify="right")
        table.add_column("Unknown", justify="right")
        table.add_column("Fail █ / unknown ▒", min_width=34)
        for cid in tally.criteria:
            table.add_row(cid, f"{tally.fail[cid]:,}", f"{tally.fail_only[cid]:,}", f"{tally.unknown[cid]:,}",
                          _share_bar(tally.fail[cid], tally.unknown[cid], total))
        parts.append(table)
    return parts


def _share_bar(fail: int, unknown: int, total: int, width: int = 20) -> Text:
    """A bar of the patients failing (█) and unknown on (▒) a criterion, then both shares: a
    criterion unknown for everyone is a full bar of ▒, not an empty one."""
    f = round(width * fail / total) if total else 0
    u = min(width - f, round(width * unknown / total)) if total else 0
    bar = Text()
    bar.append("█" * f, style="red")
    bar.append("▒" * u, style="yellow")
    bar.append("·" * (width - f - u), style="dim")
    bar.append(f" {fail / total if total else 0:4.0%} / {unknown / total if total else 0:4.0%}")
    return bar


# --- trialscreen vocab -----------------------------------------------------------------------

# Per vocabulary: the heading of the name column, then (heading, field) of the other columns.
_VOCAB_COLUMNS = {
    "analytes": ("Analyte", [("LOINC", "loinc"), ("Unit", "units"), ("Synonyms", "synonyms")]),
    "findings": ("Finding", [("Implies", "implies"), ("Synonyms", "synonyms")]),
    "conditions": ("Condition", [("Graded", "graded"), ("Synonyms", "synonyms")]),
    "treatments": ("Treatment", [("A kind of", "implies"), ("Synonyms", "synonyms")]),
    "drugs": ("Substance", [("Other names", "synonyms")]),
    "diagnoses": ("Diagnosis", [("Synonyms", "synonyms")]),
}


def _cell(value, sep: str = ", ") -> Text:
    if value is None or value == []:
        return Text("")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, (list, tuple)):
        return _t(sep.join(str(v) for v in value))
    return _t(value)


def render_vocab_overview(rows) -> None:
    console = _console()
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("Vocabulary", no_wrap=True)
    table.add_column("Entries", justify="right", no_wrap=True)
    table.add_column("Holds", overflow="fold")
    for r in rows:
        table.add_row(r["kind"], f"{r['entries']:,}", _t(r["holds"]))
    console.print(table)
    console.print(Text("trialscreen vocab KIND          list one vocabulary\n"
                       "trialscreen vocab [KIND] WORD   what a name, synonym, LOINC code or unit means\n"
                       "--format json                   the same as data, for scripts"))


def render_vocab_entries(kind: str, entries) -> None:
    console = _console()
    # the names keep their width; the synonyms (or, for units, the ratio columns) take the rest
    table = Table(box=box.SIMPLE_HEAD, show_lines=kind not in ("units", "drugs"), expand=True)
    if kind == "units":
        table.add_column("Spellings", ratio=3, overflow="fold")
        table.add_column("Unit", no_wrap=True)
        table.add_column("Means", ratio=3, overflow="fold")
        table.add_column("Note", ratio=3, overflow="fold")
        for e in entries:
            table.add_row(_cell(e["spellings"]), _t(e["unit"]), _t(e["means"]), _cell(e["note"]))
    else:
        head, columns = _VOCAB_COLUMNS[kind]
        longest = max((len(printable(e["name"])) for e in entries), default=0)
        table.add_column(head, width=min(max(longest, 16), 26), overflow="fold")  # the label wraps below
        for title, key in columns:
            if key == "synonyms":
                table.add_column(title, ratio=1, overflow="fold")
            else:
                table.add_column(title, overflow="fold")
        for e in entries:
            name = Text(printable(e["name"]), style="bold")
            if e.get("label") and e["label"] != e["name"]:
                name.append("\n" + printable(e["label"]))
            cells = [_cell(e.get(key), sep="\n" if key in ("loinc", "units") else ", ") for _, key in columns]
            if kind == "analytes" and e.get("class") == "qualitative":
                cells[1] = Text("qualitative", style="dim")
            table.add_row(name, *cells)
    console.print(table)
    if kind == "units":
        console.print(Text(f"{sum(len(e['spellings']) for e in entries)} spellings (case does not matter, except "
                           "in count prefixes such as K/uL); 'trialscreen vocab units WORD' reads one."))
    else:
        console.print(Text(f"{len(entries)} {kind}; 'trialscreen vocab {kind} WORD' looks one spelling up."))


def render_vocab_lookup(result) -> None:
    """Matches on stdout; a word that resolves to nothing, with what it is close to, on stderr.
    One line per sentence, never broken (the terminal wraps it), so it can be grepped."""
    if result.found:
        console = Console(highlight=False, soft_wrap=True)
        for line in result.sentences():
            console.print(_t(line))
        return
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for line in result.sentences():
        console.print(_t(line))
    for s in result.suggestions:
        names = " or ".join(f"'{n}'" for n in s.names)
        console.print(_t(f"  {s.kind}: did you mean {names}?" if result.kind is None else f"  did you mean {names}?"))
    if result.kind is None and result.unit_error and any(c in result.word for c in "/%^0123456789"):
        console.print(_t(f"  units: {result.unit_error}"))
    for m in result.elsewhere:
        console.print(_t(f"  elsewhere: {result.word} -> {m.summary}"))
    if result.kind:
        console.print(_t(f"Run 'trialscreen vocab {result.kind}' for the known "
                         + ("spellings." if result.kind == "units" else "names.")))
    elif not result.suggestions:
        console.print(Text("Nothing is close to it; run 'trialscreen vocab' to list the vocabularies."))

"""The feasibility report of a batch (``batch --report FILE.html``): for a principal investigator
who asks "how many would qualify, and what stops the rest?". One self-contained HTML page, charts
as inline SVG: the verdict counts, per trial the attrition funnel (how many are left after each
criterion in the trial's order) and per-criterion bars (fails it alone, fails it among others,
unknown on it), the data most often missing, and the reproducibility stamp."""

from __future__ import annotations

from trialscreen.explain.fetch import fetch_item, questions
from trialscreen.render.html import page, stamp_html
from trialscreen.render.html import text_html as _e
from trialscreen.render.plain import generated_at, short_text

_COLOURS = {"eligible": "#1b6e20", "needs_review": "#c98a00", "ineligible": "#b3261e", "error": "#7b1fa2",
            "fail_only": "#b3261e", "fail_other": "#e8837c", "unknown": "#c98a00"}
_WORDS = {"eligible": "eligible", "needs_review": "needs review", "ineligible": "ineligible", "error": "error",
          "fail_only": "fails this criterion alone", "fail_other": "fails it, and others too",
          "unknown": "unknown on it"}
_TOP_MISSING = 10
_BAR_W = 420


def _pct(n: int, total: int) -> str:
    return f"{n / total:.0%}" if total else "0%"


def _swatches(keys) -> str:
    return '<p class="legend">' + " ".join(
        f'<span><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="{_COLOURS[k]}"/>'
        f"</svg> {_WORDS[k]}</span>" for k in keys) + "</p>"


def verdict_svg(tally) -> str:
    """One stacked bar of the verdicts, each segment labelled with its count."""
    total = sum(tally.verdicts.values())
    parts, x = [], 0.0
    for v, n in tally.verdicts.items():
        if not n:
            continue
        w = _BAR_W * 1.5 * n / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="22" fill="{_COLOURS[v]}">'
                     f"<title>{_WORDS[v]}: {n:,} ({_pct(n, total)})</title></rect>")
        if w > 28:
            parts.append(f'<text x="{x + 4:.1f}" y="15" fill="#fff" font-size="11">{n:,}</text>')
        x += w
    width = int(_BAR_W * 1.5) + 2
    return (f'<svg class="chart" role="img" width="{width}" height="24" viewBox="0 0 {width} 24">'
            f"<title>Verdicts of {_e(tally.trial_id)}</title>{''.join(parts)}</svg>")


def funnel_svg(tally) -> str:
    """Patients still possible after each criterion, in the trial's order (excluded ones drop out)."""
    steps = tally.funnel()
    start = sum(n for v, n in tally.verdicts.items() if v != "error")
    rows = [("screened", start)] + [(f"after {cid}", left) for cid, left in steps]
    height = 18 * len(rows) + 4
    out = [f'<svg class="chart" role="img" width="{_BAR_W + 170}" height="{height}" '
           f'viewBox="0 0 {_BAR_W + 170} {height}"><title>Attrition funnel of {_e(tally.trial_id)}</title>']
    for i, (label, n) in enumerate(rows):
        y = 18 * i + 2
        w = _BAR_W * n / start if start else 0
        out.append(f'<text x="0" y="{y + 12}" font-size="11">{_e(label)}</text>'
                   f'<rect x="80" y="{y}" width="{w:.1f}" height="14" fill="#3c6e9f"><title>{_e(label)}: {n:,} '
                   f"patients left</title></rect>"
                   f'<text x="{84 + w:.1f}" y="{y + 12}" font-size="11">{n:,}</text>')
    out.append("</svg>")
    return "".join(out)


def criteria_svg(tally) -> str:
    """Per criterion, as a share of the screened patients: fails it alone, fails it among
    others, unknown on it: three segments, so a criterion unknown for everyone is seen."""
    total = sum(n for v, n in tally.verdicts.items() if v != "error")
    height = 18 * len(tally.criteria) + 4
    out = [f'<svg class="chart" role="img" width="{_BAR_W + 200}" height="{height}" '
           f'viewBox="0 0 {_BAR_W + 200} {height}"><title>Criteria of {_e(tally.trial_id)}</title>']
    for i, cid in enumerate(tally.criteria):
        y = 18 * i + 2
        parts = (("fail_only", tally.fail_only[cid]), ("fail_other", tally.fail[cid] - tally.fail_only[cid]),
                 ("unknown", tally.unknown[cid]))
        out.append(f'<text x="0" y="{y + 12}" font-size="11">{_e(cid)}</text>'
                   f'<rect x="50" y="{y}" width="{_BAR_W}" height="14" fill="#eef0f2"/>')
        x = 50.0
        for key, n in parts:
            w = _BAR_W * n / total if total else 0
            if n:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="14" fill="{_COLOURS[key]}">'
                           f"<title>{_e(cid)}: {n:,} {_WORDS[key]} ({_pct(n, total)})</title></rect>")
            x += w
        out.append(f'<text x="{56 + _BAR_W}" y="{y + 12}" font-size="11">fail {tally.fail[cid]:,} · unknown '
                   f"{tally.unknown[cid]:,}</text>")
    out.append("</svg>")
    return "".join(out)


def _missing_rows(tally, trial, total: int) -> list[str]:
    asked = questions(trial) if trial is not None else {}
    rows = []
    for path, n in tally.missing.most_common(_TOP_MISSING):
        item = fetch_item(path, asked)
        rows.append(f"<tr><td>{_e(item.words)}</td><td>{_e(item.source)}</td><td>{n:,}</td>"
                    f"<td>{_pct(n, total)}</td></tr>")
    return rows


def _trial_section(tally, trial) -> list[str]:
    total = sum(tally.verdicts.values())
    screened = total - tally.verdicts.get("error", 0)
    title = f"{tally.trial_id}: {trial.title}" if trial is not None else tally.trial_id
    counts = ", ".join(f"{_WORDS[v]} {n:,}" for v, n in tally.verdicts.items())
    body = [f'<section class="trial" id="trial-{_e(tally.trial_id)}">', f"<h2>{_e(title)}</h2>",
            f"<p>{total:,} patients: {_e(counts)}.</p>", verdict_svg(tally),
            _swatches(("eligible", "needs_review", "ineligible", "error"))]
    if trial is not None and not trial.complete:
        body.append('<p class="note">This trial is only partly encoded: its verdicts cover only the encoded '
                    "criteria.</p>")
    body += ["<h3>Attrition funnel</h3>", funnel_svg(tally), "<h3>What stops patients, criterion by criterion</h3>",
             criteria_svg(tally), _swatches(("fail_only", "fail_other", "unknown"))]
    if trial is not None:
        body += ['<table class="criteria"><thead><tr><th>ID</th><th>Criterion</th><th>Fail</th><th>Fail alone</th>'
                 "<th>Unknown</th></tr></thead><tbody>"]
        body += [f"<tr><td>{_e(c.id)}</td><td>{_e(short_text(c.text))}</td><td>{tally.fail[c.id]:,}</td>"
                 f"<td>{tally.fail_only[c.id]:,}</td><td>{tally.unknown[c.id]:,}</td></tr>" for c in trial.criteria]
        body.append("</tbody></table>")
    missing = _missing_rows(tally, trial, screened)
    if missing:
        body += ["<h3>Most often missing</h3>", '<table class="missing"><thead><tr><th>Data to fetch</th>'
                 "<th>From</th><th>Patients</th><th>Share</th></tr></thead><tbody>", *missing, "</tbody></table>"]
    body.append("</section>")
    return body


def report_html(summary, trials, source: str, as_of: str) -> str:
    """The whole report page. ``as_of``: the run's as-of date in words."""
    from trialscreen import __version__

    by_id = {t.id: t for t in trials}
    body = ["<h1>Feasibility report</h1>",
            f'<p class="sub">{_e(source)}: {summary.rows_in:,} rows in, {summary.rows_out:,} rows out'
            + (f", {summary.error_rows:,} rows with errors" if summary.error_rows else "") + "</p>"]
    for tally in summary.trials:
        body += _trial_section(tally, by_id.get(tally.trial_id))
    pairs = [("Input", source), ("As of", as_of), ("Engine", f"trialscreen {__version__}")]
    for t in trials:
        pairs.append((f"Trial {t.id}", f"{t.version or 'no version'}; criteria SHA-256 {t.sha256 or 'not recorded'}"))
    pairs.append(("Generated", generated_at().strftime("%Y-%m-%d %H:%M UTC")))
    body += ["<h2>Record</h2>", *stamp_html(pairs)]
    return page(f"Feasibility report: {source}", body)

"""A screening result as one self-contained HTML page (``screen --format html``): no script, no
network, CSS inline, printable on A4 and Letter alike. It holds the verdict, every criterion
with its protocol text, status and checks, the data to fetch as a checklist, what the record said
that could not be used, the reproducibility stamp and a reviewer line to sign."""

from __future__ import annotations

from html import escape

from trialscreen.render.plain import REVIEWER, check_lines, fetch_groups, stamp, status_label
from trialscreen.render.summary import VERDICT_WORD, counts_words
from trialscreen.textio import printable

# Shared by the screening page and the feasibility report (render/report.py).
STYLE = """
:root { --ok: #1b6e20; --bad: #b3261e; --maybe: #8a5a00; --muted: #5f6368; --rule: #d0d4d9; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f1f1f; margin: 0 auto; padding: 16px 20px; max-width: 1000px; }
h1 { font-size: 16pt; margin: 0 0 2px; } h2 { font-size: 12.5pt; margin: 18px 0 6px; }
h3 { font-size: 10.5pt; margin: 10px 0 4px; }
.sub { color: var(--muted); margin: 0 0 10px; }
.verdict { display: inline-block; font-weight: 700; font-size: 13pt; padding: 4px 12px; border-radius: 4px;
           border: 2px solid currentColor; margin: 6px 0; }
.eligible { color: var(--ok); } .ineligible { color: var(--bad); } .needs_review { color: var(--maybe); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 6px; border-bottom: 1px solid var(--rule); }
th { font-size: 9.5pt; color: var(--muted); border-bottom: 2px solid var(--rule); }
td.id, td.kind, td.status { white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
.s-pass { color: var(--ok); } .s-fail { color: var(--bad); font-weight: 700; } .s-unknown { color: var(--maybe); }
.s-not_applicable { color: var(--muted); }
.text { margin: 0 0 3px; font-weight: 600; }
ul.checks { margin: 0; padding: 0; list-style: none; font-size: 9.5pt; }
ul.checks li.other { color: var(--muted); }
ul.checklist { list-style: none; padding-left: 4px; margin: 2px 0 6px; }
ul.checklist li::before { content: "\\2610\\00a0"; }
dl.stamp { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; font-size: 9.5pt; }
dl.stamp dt { color: var(--muted); } dl.stamp dd { margin: 0; word-break: break-all; }
.review { display: flex; gap: 24px; margin-top: 22px; }
.review div { flex: 1; border-top: 1px solid #1f1f1f; padding-top: 3px; font-size: 9pt; color: var(--muted); }
.note { border-left: 3px solid var(--maybe); padding: 2px 8px; }
@page { margin: 14mm 12mm; }
@media print { body { padding: 0; max-width: none; font-size: 9.5pt; } a { color: inherit; text-decoration: none; } }
"""


def text_html(text) -> str:
    """Input text (ids, protocol text, values) as HTML text: one line, control characters and
    bidirectional overrides escaped, markup inert. Every HTML page of trialscreen writes text so."""
    return escape(printable(" ".join(str(text).split())))


_e = text_html


def page(title: str, body: list[str]) -> str:
    """A whole HTML document around ``body`` (lines of HTML)."""
    return "\n".join(['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{_e(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
                      *body, "</body>", "</html>", ""])


def stamp_html(pairs) -> list[str]:
    return ['<dl class="stamp">', *(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in pairs), "</dl>"]


def result_html(result) -> str:
    t = result.trial
    verdict = VERDICT_WORD[result.verdict]
    body = [f"<h1>Screening record: {_e(t.id)}</h1>", f'<p class="sub">{_e(t.title)}</p>',
            f'<div class="verdict {result.verdict}" id="verdict">{_e(verdict)}</div>',
            f"<p>Patient <strong>{_e(result.patient_id)}</strong>, as of {result.as_of.isoformat()}: "
            f"{_e(counts_words(result))}.</p>"]
    if not t.complete:
        body.append(f'<p class="note">This verdict covers only the encoded criteria. Not encoded: '
                    f"{_e('; '.join(t.not_encoded))}</p>")
    body += ['<h2>Criteria</h2>', '<table class="criteria">',
             "<thead><tr><th>ID</th><th>Kind</th><th>Status</th><th>Criterion and checks</th></tr></thead>",
             "<tbody>"]
    for c in result.criteria:
        checks = "".join(f'<li class="{"decisive" if x.decisive else "other"}">{_e(x.mark)} {_e(x.text)}</li>'
                         for x in check_lines(c))
        body.append(f'<tr id="criterion-{_e(c.id)}"><td class="id">{_e(c.id)}</td><td class="kind">{c.kind}</td>'
                    f'<td class="status s-{c.status}">{_e(status_label(c))}</td>'
                    f'<td><p class="text">{_e(c.text)}</p><ul class="checks">{checks}</ul></td></tr>')
    body += ["</tbody>", "</table>"]
    groups = fetch_groups(result)
    if groups:
        body.append("<h2>Data to fetch</h2>")
        for title, items in groups:
            body += [f"<h3>{_e(title)}</h3>", '<ul class="checklist">',
                     *(f"<li>{_e(i.words)}</li>" for i in items), "</ul>"]
    if result.warnings:
        body += ["<h2>What the record says that trialscreen could not use</h2>", "<ul>",
                 *(f"<li>{_e(w)}</li>" for w in result.warnings), "</ul>"]
    body += ["<h2>Record</h2>", *stamp_html(stamp(result)), '<div class="review">',
             *(f"<div>{_e(label)}</div>" for label in REVIEWER), "</div>"]
    return page(f"{t.id}: {result.patient_id}: {verdict}", body)

"""Lists of plain records (the trials, a trial's criteria, what validate and test found) as
Markdown or as one HTML page, for the commands whose output is a table rather than a screening
result: one renderer for all of them."""

from __future__ import annotations

from trialscreen.render.markdown import md_cell


def table_markdown(title: str, headers: list[str], rows: list[list], intro: str = "") -> str:
    lines = [f"## {md_cell(title)}", ""]
    if intro:
        lines += [md_cell(intro), ""]
    lines += ["| " + " | ".join(md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def table_html(title: str, headers: list[str], rows: list[list], intro: str = "") -> str:
    from trialscreen.render.html import page
    from trialscreen.render.html import text_html as cell

    body = [f"<h1>{cell(title)}</h1>"] + ([f'<p class="sub">{cell(intro)}</p>'] if intro else [])
    body += ["<table>", "<thead><tr>" + "".join(f"<th>{cell(h)}</th>" for h in headers) + "</tr></thead>", "<tbody>"]
    body += ["<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows]
    body += ["</tbody>", "</table>"]
    return page(title, body)

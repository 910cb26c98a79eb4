"""Small pieces of English shared by the check sentences: dates and their age, values,
items dated after the as-of date, and what a time window saw."""

from __future__ import annotations

import re
from datetime import date

from trialscreen.semantics.logic import fmt

RESULT_WORD = {True: "met", False: "not met", None: "unknown"}


def dated(as_of: date, when: date) -> str:
    """'dated 2025-05-28, 5 days old' (its age on the as-of date)."""
    days = (as_of - when).days
    age = "the as-of date" if days == 0 else f"{days} day{'s' if days != 1 else ''} old"
    return f"dated {when.isoformat()}, {age}"


def show_value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt(value)
    return str(value)


def future_words(as_of: date, what: str, when: date) -> str:
    return f"{what} {when.isoformat()} is after the as-of date {as_of.isoformat()}"


def _item_path(path: str) -> str:
    """'treatments[1]' as a reader says it: 'treatment 2 of the record'."""
    m = re.fullmatch(r"treatments\[(\d+)\]", path)
    return f"treatment {int(m.group(1)) + 1} of the record" if m else path


def span_words(span: tuple) -> str:
    """What a window saw of an item (the span ``evaluate.core.window_contains`` returns)."""
    case = span[0]
    if case == "anchor doubt":
        items = [_item_path(d[:-4]) + " (its end unknown)" if d.endswith(".end") else _item_path(d) for d in span[2]]
        return f"{', '.join(items)} might be a later {span[1]}"
    if case == "no anchor":
        return f"no date of {span[1]}"
    if case == "no date":
        return "no date"
    if case == "unknown end":
        return f"{span[1].isoformat()} to an unknown end"
    first, last, as_of = span[1], span[2], span[3]
    if last and last > as_of:   # planned to end after the as-of date: ongoing on it
        return f"{first.isoformat()}, ongoing (planned end {last.isoformat()})"
    if last and last != first:
        return f"{first.isoformat()} to {last.isoformat()}"
    return first.isoformat() if last else f"{first.isoformat()}, ongoing"


def window_words(window) -> str:
    """'within the last 3 months', 'within 100 days after asct'."""
    if window.after:
        from trialscreen.explain.names import term_name

        return f"within {window.within} after {term_name('treatment', window.after)}"
    return f"within the last {window.within}"

"""The evaluator's core: one function per node type, all / any / not and references, and
time windows.

``evaluate(node, ctx)`` returns ``(True | False | None, missing)``: the node's Kleene value
and, when it is unknown, the data that would decide it. With a trace on the context
(``ctx.trace``), each leaf also records what it saw (a ``Check`` of plain facts); the
explanations are written from those records by trialscreen.explain, never here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from trialscreen.evaluate.missing import NOTHING, Missing
from trialscreen.ir.base import All, Any, Node, Not, Reference, Window
from trialscreen.registry import registrar
from trialscreen.semantics.logic import k_not

EVALUATORS: dict[type, Callable] = {}


# @evaluates(key, ...): register the decorated function as the evaluator of these node types.
evaluates = registrar(EVALUATORS)


def evaluate(node: Node, ctx) -> tuple:
    """(value, missing) of ``node`` for the context's patient at its as-of date."""
    if ctx.leaves is not None:   # a batch: a leaf whose inputs an earlier row had is not judged again
        return ctx.leaves.result(node, ctx, EVALUATORS[type(node)])
    return EVALUATORS[type(node)](node, ctx)


def _junction(node, ctx, decisive: bool) -> tuple:
    """Kleene AND (decisive value False) or OR (decisive value True): one decisive item
    decides; otherwise any unknown item makes it unknown. With a trace, every item is
    evaluated (every failure is shown), and the records of the items that did not decide are
    kept as not decisive: the reason says what decided, the checks show every item."""
    missing: list = []
    result: bool | None = not decisive
    trace = ctx.trace
    if trace is None:
        for item in node.items:
            value, miss = evaluate(item, ctx)
            if value is decisive:
                return decisive, NOTHING
            if value is None:
                result = None
                missing.extend(miss)
        return result, tuple(missing) if result is None else NOTHING
    spans = []
    for item in node.items:
        start = len(trace)
        value, miss = evaluate(item, ctx)
        spans.append((start, len(trace), value))
        if value is decisive:
            result = decisive
        elif value is None and result is not decisive:
            result = None
            missing.extend(miss)
    if result is decisive:
        for start, end, value in spans:
            if value is not decisive:
                trace[start:end] = [replace(c, decisive=False) if c.decisive else c for c in trace[start:end]]
    return result, tuple(missing) if result is None else NOTHING


@evaluates(All)
def all_of(node: All, ctx) -> tuple:
    return _junction(node, ctx, False)


@evaluates(Any)
def any_of(node: Any, ctx) -> tuple:
    return _junction(node, ctx, True)


@evaluates(Not)
def not_(node: Not, ctx) -> tuple:
    value, missing = evaluate(node.item, ctx)
    return k_not(value), missing


@evaluates(Reference)
def reference(node: Reference, ctx) -> tuple:
    return evaluate(node.item, ctx)


# --- time windows ----------------------------------------------------------------------

def window_bounds(window: Window, ctx) -> tuple[date, date] | None:
    """(first, last) day of the window, or None when its anchor has no date."""
    if window.after:
        anchor, doubt = ctx.latest_treatment_date(window.after)
        if anchor is None or doubt:
            return None
        return anchor, window.within.after(anchor)
    return window.within.before(ctx.as_of), ctx.as_of


def window_still_open(window: Window, ctx) -> bool:
    """A window after an event that has not ended by the as-of date."""
    b = window_bounds(window, ctx) if window.after else None
    return b is not None and b[1] > ctx.as_of


def window_contains(window: Window, ctx, first: date | None, last: date | None, item: str = "",
                    of: str = "", end_unknown: bool = False) -> tuple:
    """Does the span [first, last] of an item (last None: ongoing) overlap the window?
    (True/False/None, missing, span) where span is what the explanation shows: ('anchor
    doubt', items), ('no anchor',), ('no date',), ('span', first, last, as_of) or ('unknown
    end', first, as_of). Whatever happens after the as-of date is not known at screening and
    does not count. An item that ended on a day nobody recorded (``end_unknown``) is in the
    window when it started in it, not when it started after it, and otherwise may have run
    into it (unknown, asking for its end)."""
    if window.after:
        anchor, doubt = ctx.latest_treatment_date(window.after)
        if doubt:
            return None, tuple(doubt_missing(ctx, d, window.after) for d in doubt), \
                ("anchor doubt", window.after, doubt)
        if anchor is None:
            return None, (Missing("treatments", ask=f"date of {window.after}"),), ("no anchor", window.after)
        start, end = anchor, min(window.within.after(anchor), ctx.as_of)
    else:
        start, end = window.within.before(ctx.as_of), ctx.as_of
    if first is None and last is None:
        return None, (Missing(f"{item}.date", of=of),), ("no date",)
    first = first or last   # callers have set aside items dated after the as-of date
    assert first is not None
    if end_unknown:
        inside = False if first > end else True if first >= start else None
        return inside, (Missing(f"{item}.end", of=of),) if inside is None else NOTHING, \
            ("unknown end", first, ctx.as_of)
    span = ("span", first, last, ctx.as_of)
    last = min(last or ctx.as_of, ctx.as_of)
    return first <= end and last >= start, NOTHING, span


def doubt_item(ctx, path: str):
    """The treatment a doubt path ('treatments[2]', 'treatments[2].end') names, or None."""
    index = int(path[path.index("[") + 1:path.index("]")])
    return next((t for t in ctx.patient.treatments if t.index == index), None)


def doubt_missing(ctx, path: str, after: str) -> Missing:
    """What to fetch about an item that might be a later anchor: its end, when it ended on a day
    nobody recorded ('treatments[2].end'), else which kind it is."""
    if path.endswith(".end"):
        item = doubt_item(ctx, path)
        return Missing(path, of=item.kind if item is not None else "")
    return Missing(f"{path}.type", f"is it a later {after}?")


def unrecognised_doubts(ctx, section: str, names) -> tuple:
    """(values, missing, items) for the entries of a section the vocabulary could not place
    (kept by the reader when the record says they are present): each might be one of
    ``names``, so each is an unknown with a question to answer."""
    others = ctx.patient.unrecognised.get(section, ())
    ask = ", ".join(names)
    return ([None] * len(others), [Missing(section, ask=f"is '{o}' one of {ask}?") for o in others],
            [("unrecognised", o) for o in others])


def future_missing(ctx, path: str, what: str, when: date) -> Missing:
    """What to fetch about an item dated after the as-of date."""
    return Missing(path, f"{what} dated {when.isoformat()}, after the as-of date {ctx.as_of.isoformat()}: "
                         "not happened by then; a person must judge")

"""Evaluating condition rules: each recorded state of the conditions the rule names
(present, absent, not known, assessed after the as-of date), its CTCAE grade, whether it
is active, its date against the window, and the conditions the vocabulary cannot place."""

from __future__ import annotations

from datetime import date

from trialscreen.evaluate.core import (
    doubt_item,
    doubt_missing,
    evaluates,
    future_missing,
    unrecognised_doubts,
    window_bounds,
    window_contains,
    window_still_open,
)
from trialscreen.evaluate.missing import NOTHING, Missing
from trialscreen.ir.conditions import ConditionTest
from trialscreen.semantics.logic import Interval, holds, k_and, k_or


@evaluates(ConditionTest)
def condition_test(node: ConditionTest, ctx) -> tuple:
    """Any recorded state of the conditions meets the rule. Each item seen is kept as a
    small tuple (its case, then its facts) for the explanation."""
    states = [st for n in node.names for st in ctx.patient.conditions.get(n, ())]
    if not states:
        miss = tuple(Missing(f"conditions.{n}") for n in node.names[:1])
        ctx.record(node, None, "condition.not recorded", miss)
        return None, miss
    # a condition the vocabulary cannot place might be one of these
    values, missing, items = unrecognised_doubts(ctx, "conditions", node.names)
    for st in states:
        value, miss, item = state_value(node, ctx, st)
        values.append(value)
        missing.extend(miss)
        items.append(item)
    result = k_or(values)
    if result is False and node.window is not None and window_still_open(node.window, ctx):
        # "no progression within 3 months of ASCT" cannot be known 6 weeks after it
        end = window_end(node, ctx)
        assert end is not None   # an open window has its anchor
        result = None
        missing.append(Missing(f"conditions.{node.names[0]}", f"its window runs until {end.isoformat()}"))
        items.append(("window open", end))
    elif result is False and node.window is not None and node.window.after and _may_be_open(node.window, ctx):
        # the anchor may be a later one, whose window has not closed by the as-of date: an
        # absence recorded by now does not cover it
        result = None
        after = node.window.after
        missing.extend(doubt_missing(ctx, d, after) for d in ctx.latest_treatment_date(after)[1])
        items.append(("window in doubt", node.window.after))
    out = tuple(missing) if result is None else NOTHING
    if ctx.trace is not None:
        ctx.record(node, result, "condition.read", out, items=tuple(items))
    return result, out


def _may_be_open(window, ctx) -> bool:
    """Whether a window after a treatment kind whose latest one is in doubt may still be open on
    the as-of date: an item that might be the anchor ends on its recorded day, or, with no end
    recorded, as late as the as-of date."""
    known, doubt = ctx.latest_treatment_date(window.after)
    latest = known
    for path in doubt:
        item = doubt_item(ctx, path)
        end = None if item is None or path.endswith(".end") or item.end_unknown else item.span()[1]
        candidate = min(end or ctx.as_of, ctx.as_of)
        latest = candidate if latest is None or candidate > latest else latest
    return bool(doubt) and latest is not None and window.within.after(latest) > ctx.as_of


def window_end(node: ConditionTest, ctx) -> date | None:
    """The last day of the rule's window, or None without a window or without its anchor."""
    if node.window is None:
        return None
    b = window_bounds(node.window, ctx)
    return None if b is None else b[1]


def state_value(node: ConditionTest, ctx, st) -> tuple:
    """(value, missing, item) of one recorded state of a condition the rule names."""
    path = f"conditions.{st.condition}"
    if st.date is not None and st.date > ctx.as_of:
        # an onset or an assessment not made by the as-of date says nothing of it
        return None, (future_missing(ctx, path, st.condition, st.date),), ("future", st.condition, st.date)
    if st.present is False:
        end = window_end(node, ctx)
        until = None if end is None else min(end, ctx.as_of)
        if st.date is not None and until is not None and st.date < until:
            # absent when assessed, but the window ran on after that assessment
            need = f"assessed on {st.date.isoformat()}; the window runs until {until.isoformat()}"
            return None, (Missing(path, need),), ("absent before", st.condition, st.date, until)
        return False, NOTHING, ("absent", st.condition)
    if st.present is None:
        return None, (Missing(path, st.problem),), ("not known", st.condition, st.problem)
    return present_value(node, ctx, st, path)


def present_value(node: ConditionTest, ctx, st, path: str) -> tuple:
    """(value, missing, item) of a condition recorded present: its grade, whether it is
    active and its date, as far as the rule asks about them."""
    checks: list = []
    missing: list = []
    grade = active = span = None
    if node.grade:
        op, n = node.grade
        if st.grade is None:
            checks.append(None)
            missing.append(Missing(f"{path}.grade"))
        else:
            checks.append(holds(op, Interval.of(st.grade), n))
            grade = st.grade
    if node.active is not None:
        active = st.active
        if active is None and st.end is not None:
            active = st.end > ctx.as_of
        if active is None:
            checks.append(None)
            missing.append(Missing(f"{path}.active"))
        else:
            checks.append(active == node.active)
    if node.window:
        inside, miss, span = window_contains(node.window, ctx, st.date, st.date, path)
        checks.append(inside)
        missing.extend(miss)
    return k_and(checks), tuple(missing), ("present", st.condition, grade, active, span)

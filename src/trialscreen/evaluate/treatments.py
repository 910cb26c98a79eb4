"""Evaluating treatment rules: an item of the types with the drugs (through the list-section
evaluator of evaluate/events.py), and the aggregates that read the whole history: how many
lines of therapy, and how long a phase lasted."""

from __future__ import annotations

import math

from trialscreen.evaluate.core import evaluates, future_missing, window_contains
from trialscreen.evaluate.events import complete_missing, event_test, filters, finish, match
from trialscreen.evaluate.missing import Missing
from trialscreen.ir.treatments import TreatmentTest
from trialscreen.semantics.logic import Interval, holds, k_and


def _line_number(value) -> int | None:
    """A treatment's line of therapy as a number (1, 1.0, '1', 'line 2'), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else None
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    words = "".join(ch for ch in str(value).lower() if ch.isalpha())
    return int(digits) if digits and words in ("", "line", "l") else None


@filters(TreatmentTest)
def drug_filter(node: TreatmentTest, ctx, item, path: str) -> tuple:
    """The item's drugs include one of the rule's (a drug the vocabulary does not know
    might be one of them)."""
    if node.drugs is None:
        return [], []
    drugs = item.attrs.get("drugs")
    if drugs is None:
        return [None], [Missing(f"{path}.drugs", of=item.kind)]
    if node.drugs & set(drugs):
        return [True], []
    unknown = [d[1:] for d in drugs if isinstance(d, str) and d.startswith("?")]
    if unknown:
        return [None], [Missing(f"{path}.drugs", f"is '{d}' one of {', '.join(sorted(node.drugs))}?")
                        for d in unknown]
    return [False], []


@evaluates(TreatmentTest)
def treatment_test(node: TreatmentTest, ctx) -> tuple:
    if node.duration is None and node.count is None:
        return event_test(node, ctx)
    # Aggregates read the whole history: the members are every treatment that
    # matches (sure), or might match or is dated after the as-of date (possible).
    sure: list = []
    possible: list = []
    missing: list = []
    seen: list = []
    for item in ctx.patient.treatments:
        path = f"{node.section}[{item.index}]"
        matched, miss = match(node, ctx, item, path)
        if miss is None or matched is False:
            continue
        first, last = item.span()
        future = first is not None and first > ctx.as_of
        if node.window and not future:
            inside, wmiss, _ = window_contains(node.window, ctx, first, last, path, item.kind, item.end_unknown)
            matched = k_and((matched, inside))
            miss = miss + list(wmiss)
            if matched is False:
                continue
        if future:
            possible.append(item)
            missing.append(future_missing(ctx, path, item.kind, first))
            seen.append(("future", item.kind, first))
        elif matched is None:
            possible.append(item)
            missing.extend(miss)
            seen.append(("might be", item.kind))
        else:
            sure.append((item, path))
    complete = node.section in ctx.patient.complete
    if not complete:
        missing.append(complete_missing(node))
    if node.count is not None:
        result = judge_count(node, sure, possible, complete, seen)
    else:
        result = judge_phase(node, ctx, sure, possible, complete, missing, seen)
    return finish(node, ctx, result, missing, seen)


def judge_count(node: TreatmentTest, sure, possible, complete: bool, seen: list):
    """At least as many as the sure ones (a shared 'line' counts once), at most those plus
    the possible ones, and without bound while the list is incomplete."""
    assert node.count is not None
    lines, unlined = set(), 0
    for item, _ in sure:
        line = _line_number(item.attrs.get("line"))
        if line is None:
            unlined += 1      # without a line number it may belong to a line already counted
        else:
            lines.add(line)
    low = max(len(lines), 1 if unlined else 0)
    high = (len(lines) + unlined + len(possible)) if complete else math.inf
    op, n = node.count
    seen.extend(("item", item) for item, _ in sure)
    seen.append(("counted", low, high))
    return holds(op, Interval(float(low), float(high)), float(n))


def judge_phase(node: TreatmentTest, ctx, sure, possible, complete: bool, missing: list, seen: list):
    """The phase runs from the first start to the last end of its treatments (ongoing ones
    to the as-of date; one that ended on a day nobody recorded, somewhere from its start to the
    as-of date). More treatments can only lengthen it, so a phase already too long stays so
    whatever the possible members are."""
    assert node.duration is not None
    op, dur = node.duration
    if not sure:
        if not possible and complete:
            seen.append(("none",))
            return False
        return None
    starts, ends, undated = [], [], False
    for item, path in sure:
        seen.append(("item", item))
        span = _phase_span(item, ctx.as_of)
        if span is None:  # a single date says nothing of how long it lasted
            missing.append(Missing(f"{path}.start and end"))
            undated = True
            continue
        if span[1] != span[2]:
            missing.append(Missing(f"{path}.end", of=item.kind))
        starts.append(span[0])
        ends.append(span[1:])
    if not starts:
        return None
    open_ended = bool(possible) or undated   # an undated member can only lengthen the phase
    first = min(starts)
    limit = dur.after(first)
    # the shortest and the longest the phase may have lasted: an unknown end lies between
    short, long_ = (_longer(op, max(e[i] for e in ends), limit) for i in (0, 1))
    if len(sure) > 1 and all(e[0] == e[1] for e in ends):
        seen.append(("phase", first, max(e[0] for e in ends)))
    if short != long_:
        return None
    longer = short
    result = not longer if op in ("<", "<=") else longer
    grows_to_pass = op in (">", ">=") and result is False
    shrinks_to_pass = op in ("<", "<=") and result is True
    if (open_ended or not complete) and (grows_to_pass or shrinks_to_pass):
        return None
    return result


def _phase_span(item, as_of) -> tuple | None:
    """(start, earliest end, latest end) of a member of a phase, None when it has no span."""
    start = item.start
    if start is None:
        return None
    if item.end_unknown:
        return start, start, as_of
    if item.end is not None and item.end <= as_of:
        return start, item.end, item.end
    if item.end is not None or not item.date:
        return start, as_of, as_of
    return None


def _longer(op: str, last, limit) -> bool:
    return {"<": last >= limit, "<=": last > limit, ">": last > limit, ">=": last >= limit}[op]

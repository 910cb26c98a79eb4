"""Evaluating cytogenetics rules: each finding the rule names as the record reports it
(detected, not detected, undecided, dated after the as-of date), its clone size against
the cut-off, and the findings the vocabulary cannot place."""

from __future__ import annotations

from trialscreen.evaluate.core import evaluates, future_missing, unrecognised_doubts
from trialscreen.evaluate.missing import NOTHING, Missing
from trialscreen.ir.findings import FindingTest
from trialscreen.semantics.logic import k_not, k_or


@evaluates(FindingTest)
def finding_test(node: FindingTest, ctx) -> tuple:
    """Any of (or none of) the findings is detected. Each item seen is kept as a small
    tuple (its case, then its facts) for the explanation."""
    # detected, but the vocabulary cannot place it: it might be any of these
    values, missing, items = unrecognised_doubts(ctx, "cytogenetics", node.findings)
    for name in node.findings:
        value, miss, item = finding_value(node, ctx, name)
        values.append(value)
        missing.extend(miss)
        items.append(item)
    found = k_or(values)
    result = found if node.mode == "any" else k_not(found)
    out = tuple(missing) if result is None else NOTHING
    if ctx.trace is not None:
        ctx.record(node, result, "cytogenetics.read", out, items=tuple(items))
    return result, out


def finding_value(node: FindingTest, ctx, name: str) -> tuple:
    """(value, missing, item) of one finding the rule names: is it detected (in at least
    the cut-off's share of cells)?"""
    path = f"cytogenetics.{name}"
    res = ctx.patient.cytogenetics.get(name)
    if res is None:
        return None, (Missing(path),), ("not reported", name)
    if res.date is not None and res.date > ctx.as_of:
        return None, (future_missing(ctx, path, name, res.date),), ("future", name, res.date)
    if res.problem:
        return None, (Missing(path, res.problem),), ("problem", name, res.problem)
    if res.detected is None:
        return None, (Missing(path),), ("undecided", name, res.raw_name)
    if res.detected is False:
        return False, NOTHING, ("not detected", name, res.raw_name)
    if node.min_percent is not None and res.percent is None:
        return None, (Missing(f"{path}.percent"),), ("no percent", name, res.raw_name, node.min_percent)
    if node.min_percent is not None and res.percent < node.min_percent:
        return False, NOTHING, ("below", name, res.raw_name, res.percent, node.min_percent)
    return True, NOTHING, ("detected", name, res.raw_name, res.percent)

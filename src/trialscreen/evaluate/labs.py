"""Evaluating lab rules: the value the context gives (or why it cannot be used), its age
against the lab window, the unit alternative, and the comparison with the threshold."""

from __future__ import annotations

from trialscreen.errors import UnitError
from trialscreen.evaluate.core import evaluates
from trialscreen.evaluate.missing import NOTHING, Missing
from trialscreen.ir.labs import Absolute, LabResult, LabTest, Relative
from trialscreen.semantics.logic import Interval, holds
from trialscreen.semantics.timewin import Duration
from trialscreen.units import convert


@evaluates(LabTest)
def lab_test(node: LabTest, ctx) -> tuple:
    lab, missing, note = ctx.lab(node.analyte)
    name = node.analyte.name
    if lab is None:
        if ctx.trace is not None:
            unusable = bool(name in ctx.patient.labs and ctx.patient.labs[name].problem)
            ctx.record(node, None, "lab.none", missing, unusable=unusable, note=note)
        return None, missing
    stale = lab_stale(ctx, lab, node.within, name)
    if stale:
        ctx.record(node, None, "lab.stale", stale[1], lab=lab, case=stale[0], note=note)
        return None, stale[1]
    chosen = node.alternatives[0]
    if len(node.alternatives) > 1:
        for alt in node.alternatives:
            if isinstance(alt[1], Absolute) and convert.convertible(lab.unit, alt[1].unit, node.analyte):
                chosen = alt
                break
        else:
            units = " or ".join(str(t.unit) for _, t in node.alternatives)
            miss = (Missing(f"labs.{name}", unit=units),)
            ctx.record(node, None, "lab.no unit", miss, lab=lab, units=units)
            return None, miss
    op, threshold = chosen
    judge = judge_absolute if isinstance(threshold, Absolute) else judge_relative
    result, miss, facts = judge(op, threshold, lab, node.analyte)
    if ctx.trace is not None:
        ctx.record(node, result, "lab.compared", miss, lab=lab, op=op, threshold=threshold, note=note, **facts)
    return result, miss


def judge_absolute(op: str, threshold: Absolute, lab, analyte) -> tuple:
    """(result, missing, facts) of ``lab op threshold``."""
    try:
        f = convert.factor(lab.unit, threshold.unit, analyte)
    except UnitError as exc:
        return None, (Missing(f"labs.{analyte.name}", unit=f"a unit convertible to {threshold.unit}"),), \
            {"case": "unit error", "message": exc.message}
    result = holds(op, lab_interval(lab).scaled(f), threshold.value)
    return result, _censored_missing(result, analyte.name), {"case": "compared", "factor": f}


def judge_relative(op: str, threshold: Relative, lab, analyte) -> tuple:
    """(result, missing, facts) of ``lab op k x ULN`` (or LLN, or ULN + d)."""
    ref = lab.uln if threshold.ref == "uln" else lab.lln
    if ref is None:
        return None, (Missing(f"labs.{analyte.name}.{threshold.ref}"),), {"case": "no reference"}
    interval = lab_interval(lab)
    f = 1.0
    if threshold.offset is None:
        limit = threshold.multiplier * ref
        unit = lab.unit
    else:
        assert threshold.offset_unit is not None   # an offset always has its unit
        try:
            f = convert.factor(lab.unit, threshold.offset_unit, analyte)
        except UnitError as exc:
            return None, (Missing(f"labs.{analyte.name}", unit=f"a unit convertible to {threshold.offset_unit}"),), \
                {"case": "unit error", "message": exc.message}
        interval = interval.scaled(f)
        unit = threshold.offset_unit
        limit = ref * f + threshold.offset
    result = holds(op, interval, limit)
    return result, _censored_missing(result, analyte.name), \
        {"case": "compared", "factor": f, "limit": limit, "unit": unit, "ref": ref}


def lab_interval(lab) -> Interval:
    """What is known of a lab value: exact, a censored bound, or the spread of a rounded log."""
    if lab.spread is not None:
        return Interval(*lab.spread)
    return Interval.of(lab.value, lab.censor)


def _censored_missing(result, name: str) -> tuple:
    """A bound such as '<1.5' that does not settle the comparison: fetch a value."""
    return (Missing(f"labs.{name}", "an exact value"),) if result is None else NOTHING


def lab_stale(ctx, lab, within: Duration | None, name: str):
    """Why the value cannot be used (after the as-of date, undated, or older than the
    window: the criterion's own ``within``, else the trial's screening window, else the
    site's maximum lab age), as (case, missing), or None."""
    source = lab.field if lab.field.startswith("labs.") else f"labs.{name}"
    fetched = source.split(".")[1]
    if lab.date is not None and lab.date > ctx.as_of:  # not known on the screening date
        return ("future",), (Missing(source, f"fetch a current {fetched}, dated on or before "
                                             f"{ctx.as_of.isoformat()}"),)
    window, whose = (within, "this criterion's window") if within is not None else ctx.lab_window
    if lab.date is None:  # a derived value names the field its date comes from
        return ("undated", window, whose), (Missing(source, f"fetch a current {fetched}, dated within {window} "
                                                            f"before {ctx.as_of.isoformat()}, or give its date"),)
    if lab.date < window.before(ctx.as_of):
        return ("old", window, whose), (Missing(source, f"fetch a current {fetched}, dated within {window} "
                                                        f"before {ctx.as_of.isoformat()}"),)
    return None


@evaluates(LabResult)
def lab_result(node: LabResult, ctx) -> tuple:
    name = node.analyte.name
    lab = ctx.patient.labs.get(name)
    if lab is None:
        miss: tuple = (Missing(f"labs.{name}"),)
        ctx.record(node, None, "lab result.none", miss)
        return None, miss
    stale = lab_stale(ctx, lab, node.within, name)
    if stale:
        ctx.record(node, None, "lab.stale", stale[1], lab=lab, case=stale[0], note="")
        return None, stale[1]
    if lab.problem:
        miss = (Missing(f"labs.{name}", lab.problem),)
        ctx.record(node, None, "lab result.problem", miss, lab=lab)
        return None, miss
    if lab.result is None:
        miss = (Missing(f"labs.{name}"),)
        ctx.record(node, None, "lab result.undecided", miss, lab=lab)
        return None, miss
    result = lab.result == node.expected
    ctx.record(node, result, "lab result.read", NOTHING, lab=lab)
    return result, NOTHING

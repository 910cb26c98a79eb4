"""Lab rules: a lab value against a threshold (absolute, or relative to the patient's own
ULN / LLN), and qualitative results."""

from __future__ import annotations

from dataclasses import dataclass

from trialscreen.errors import UnitError
from trialscreen.ir.base import NOTHING, Node, dated
from trialscreen.semantics.logic import SYMBOL, Interval, fmt, fmt_against, holds
from trialscreen.semantics.timewin import Duration
from trialscreen.units import convert
from trialscreen.units.normalize import Unit


@dataclass(frozen=True)
class Absolute:
    value: float
    unit: Unit
    text: str

    def judge(self, op: str, lab, analyte, explain: bool = True) -> tuple:
        """(result, sentence, missing, details) for ``lab op self``; without
        ``explain`` the sentence and details are left empty."""
        name = analyte.name
        try:
            f = convert.factor(lab.unit, self.unit, analyte)
        except UnitError as exc:
            return (None, f"{name} {lab.raw} cannot be compared with {self.text}: {exc.message}",
                    (f"labs.{name} in a unit convertible to {self.unit}",), {})
        interval = _interval(lab).scaled(f)
        result = holds(op, interval, self.value)
        miss = _censored_missing(result, name)
        if not explain:
            return result, "", miss, None
        shown = f"{name} {lab.raw}"
        converted = lab.value * f
        if lab.unit.display != self.unit.display or f != 1.0:
            shown += f" = {lab.censor or ''}{fmt_against(converted, self.value)} {self.unit}"
        details = {"value": lab.value, "unit": str(lab.unit), "censor": lab.censor,
                   "converted": converted, "converted_unit": str(self.unit),
                   "factor": f, "op": op, "threshold": self.value, "threshold_unit": str(self.unit)}
        return result, _sentence(shown, op, self.text, result), miss, details


@dataclass(frozen=True)
class Relative:
    """``k x ULN``, ``k x LLN``, ``ULN + d unit``, ``LLN - d unit``."""

    ref: str                      # "uln" or "lln"
    multiplier: float = 1.0
    offset: float | None = None
    offset_unit: Unit | None = None
    text: str = ""

    def judge(self, op: str, lab, analyte, explain: bool = True) -> tuple:
        name = analyte.name
        ref = lab.uln if self.ref == "uln" else lab.lln
        label = self.ref.upper()
        if ref is None:
            return (None, f"{name} {lab.raw}: no {label} given, so '{self.text}' cannot be judged",
                    (f"labs.{name}.{self.ref}",), {})
        interval = _interval(lab)
        f = 1.0
        if self.offset is None:
            limit = self.multiplier * ref
            unit = lab.unit
        else:
            assert self.offset_unit is not None   # an offset always has its unit
            try:
                f = convert.factor(lab.unit, self.offset_unit, analyte)
            except UnitError as exc:
                return (None, f"{name} {lab.raw} cannot be compared with {self.text}: {exc.message}",
                        (f"labs.{name} in a unit convertible to {self.offset_unit}",), {})
            interval = interval.scaled(f)
            unit = self.offset_unit
            limit = ref * f + self.offset
        result = holds(op, interval, limit)
        miss = _censored_missing(result, name)
        if not explain:
            return result, "", miss, None
        shown = f"{name} {lab.raw}" + (f" = {lab.censor or ''}{fmt_against(lab.value * f, limit)} {unit}"
                                       if f != 1.0 else "")
        how = f"{self.text} = {fmt(limit)} {unit} ({label} {fmt(ref)} {lab.unit})"
        details = {"value": lab.value, "unit": str(lab.unit), "censor": lab.censor, "op": op,
                   "reference": self.ref, "reference_value": ref, "threshold": limit,
                   "threshold_unit": str(unit)}
        return result, _sentence(shown, op, how, result), miss, details


def _interval(lab) -> Interval:
    """What is known of a lab value: exact, a censored bound, or the spread of a rounded log."""
    if lab.spread is not None:
        return Interval(*lab.spread)
    return Interval.of(lab.value, lab.censor)


def _censored_missing(result, name: str) -> tuple:
    """A bound such as '<1.5' that does not settle the comparison: fetch a value."""
    return (f"labs.{name} (an exact value)",) if result is None else NOTHING


def _sentence(shown: str, op: str, threshold: str, result) -> str:
    sym = SYMBOL.get(op, op)
    if result is True:
        return f"{shown} {sym} {threshold}"
    if result is False:
        return f"{shown}, not {sym} {threshold}"
    return f"{shown}: cannot tell whether {sym} {threshold}"


class LabTest(Node):
    """A lab value against one threshold, or against the first of several
    alternatives whose unit the patient's value converts to (``by_unit``)."""

    kind = "lab"

    def __init__(self, analyte, alternatives, within: Duration | None = None, text: str = ""):
        self.analyte = analyte
        self.alternatives = tuple(alternatives)   # ((op, threshold), ...)
        self.within = within
        self.text = text

    def describe(self):
        alts = " or, by unit, ".join(f"{SYMBOL.get(op, op)} {t.text}" for op, t in self.alternatives)
        out = f"{self.analyte.name} {alts}"
        if self.within:
            out += f" (a value from the last {self.within})"
        return out

    def eval(self, ctx):
        lab, missing, note = ctx.lab(self.analyte)
        name = self.analyte.name
        if lab is None:
            if ctx.explain:
                unusable = name in ctx.patient.labs and ctx.patient.labs[name].problem
                ctx.check(self, None, f"{name}: {note}" if unusable else
                          f"no {name} value" + (f" ({note})" if note else ""), missing)
            return None, missing
        stale = _stale(ctx, lab, self.within, name)
        if stale:
            ctx.check(self, None, stale[0] + (f" [{note}]" if note else ""), stale[1])
            return None, stale[1]
        chosen = self.alternatives[0]
        if len(self.alternatives) > 1:
            for alt in self.alternatives:
                if isinstance(alt[1], Absolute) and convert.convertible(lab.unit, alt[1].unit, self.analyte):
                    chosen = alt
                    break
            else:
                units = " or ".join(str(t.unit) for _, t in self.alternatives)
                words = f"{name} {lab.raw} is in none of the units this criterion uses ({units})"
                miss = (f"labs.{name} in {units}",)
                ctx.check(self, None, words, miss)
                return None, miss
        op, threshold = chosen
        result, words, miss, details = threshold.judge(op, lab, self.analyte, ctx.explain)
        if not ctx.explain:
            return result, miss
        if lab.date:
            words = f"{words} ({dated(ctx, lab.date)})"
            details = dict(details, date=lab.date.isoformat(), age_days=(ctx.as_of - lab.date).days)
        if note:
            words = f"{words} [{note}]"
        ctx.check(self, result, words, miss, details)
        return result, miss


def _stale(ctx, lab, within: Duration | None, name: str):
    """A reason the value cannot be used (after the as-of date, undated, or older
    than the window: the criterion's own ``within``, else the trial's screening
    window, else the site's maximum lab age), or None. (words, missing)."""
    source = lab.field if lab.field.startswith("labs.") else f"labs.{name}"
    fetched = source.split(".")[1]
    if lab.date is not None and lab.date > ctx.as_of:  # not known on the screening date
        return (f"{name} {lab.raw} is dated {lab.date.isoformat()}, after the as-of date "
                f"{ctx.as_of.isoformat()}: it had not been measured by then",
                (f"{source} (fetch a current {fetched}, dated on or before {ctx.as_of.isoformat()})",))
    window, whose = (within, "this criterion's window") if within is not None else ctx.lab_window
    if lab.date is None:  # a derived value names the field its date comes from
        return (f"{name} {lab.raw} has no date; only a value from the last {window} counts ({whose})",
                (f"{source} (fetch a current {fetched}, dated within {window} before "
                 f"{ctx.as_of.isoformat()}, or give its date)",))
    if lab.date < window.before(ctx.as_of):
        return (f"{name} {lab.raw} is {dated(ctx, lab.date)}, older than {window} ({whose})",
                (f"{source} (fetch a current {fetched}, dated within {window} before "
                 f"{ctx.as_of.isoformat()})",))
    return None


class LabResult(Node):
    """A qualitative lab result (positive / negative)."""

    kind = "lab"

    def __init__(self, analyte, expected: bool, within: Duration | None = None):
        self.analyte = analyte
        self.expected = expected
        self.within = within

    def describe(self):
        return f"{self.analyte.name} is {'positive' if self.expected else 'negative'}"

    def eval(self, ctx):
        name = self.analyte.name
        lab = ctx.patient.labs.get(name)
        if lab is None:
            miss = (f"labs.{name}",)
            ctx.check(self, None, f"no {name} result", miss)
            return None, miss
        stale = _stale(ctx, lab, self.within, name)
        if stale:
            ctx.check(self, None, stale[0], stale[1])
            return None, stale[1]
        if lab.problem:
            miss = (f"labs.{name} ({lab.problem})",)
            ctx.check(self, None, f"{name}: {lab.problem}", miss)
            return None, miss
        if lab.result is None:
            miss = (f"labs.{name}",)
            ctx.check(self, None, f"{name} result '{lab.raw}' decides nothing", miss)
            return None, miss
        result = lab.result == self.expected
        if ctx.explain:
            word = "positive" if lab.result else "negative"
            ctx.check(self, result, f"{name} {word} ({dated(ctx, lab.date)})", NOTHING,
                      {"value": word, "date": lab.date.isoformat()})
        return result, NOTHING

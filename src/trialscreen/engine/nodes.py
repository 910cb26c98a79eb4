"""The compiled form of a criterion: a small tree of node objects.

Criteria files are compiled once into these nodes (see trialscreen.criteria);
each node evaluates a patient to True, False or None (unknown) and returns
the data items that would decide it when the answer is unknown. When the
context asks for explanations, each leaf also records a *check*: plain data
with the value, the threshold, the conversion and a sentence for people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from trialscreen.engine.logic import SYMBOL, Interval, fmt, fmt_against, holds, holds_range, k_and, k_not, k_or
from trialscreen.engine.timewin import Duration
from trialscreen.errors import UnitError
from trialscreen.units import convert
from trialscreen.units.normalize import Unit

NOTHING: tuple = ()
RESULT_WORD = {True: "met", False: "not met", None: "unknown"}


class Node:
    """Base class. ``eval`` returns (value, missing)."""

    kind = "node"

    def eval(self, ctx) -> tuple[bool | None, tuple]:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> tuple:
        return ()


# --- logic ----------------------------------------------------------------------------

class _Junction(Node):
    """Kleene AND (decisive value False) or OR (decisive value True): one
    decisive child decides; otherwise any unknown child makes it unknown."""

    decisive: bool

    def __init__(self, items):
        self.items = tuple(items)

    def children(self):
        return self.items

    def eval(self, ctx):
        decisive = self.decisive
        missing: list = []
        result: bool | None = not decisive
        if not ctx.explain:
            for item in self.items:
                value, miss = item.eval(ctx)
                if value is decisive:
                    return decisive, NOTHING
                if value is None:
                    result = None
                    missing.extend(miss)
            return result, tuple(missing) if result is None else NOTHING
        # Explaining: every child is evaluated (every failure is shown), then only
        # the checks of the children that decided are kept.
        spans = []
        for item in self.items:
            start = len(ctx.checks)
            value, miss = item.eval(ctx)
            spans.append((start, len(ctx.checks), value))
            if value is decisive:
                result = decisive
            elif value is None and result is not decisive:
                result = None
                missing.extend(miss)
        if result is decisive:
            keep = [c for start, end, value in spans if value is decisive for c in ctx.checks[start:end]]
            del ctx.checks[spans[0][0]:]
            ctx.checks.extend(keep)
        return result, tuple(missing) if result is None else NOTHING


class All(_Junction):
    kind = "all"
    decisive = False

    def describe(self):
        return "all of"


class Any(_Junction):
    kind = "any"
    decisive = True

    def describe(self):
        return "any of"


class Not(Node):
    kind = "not"

    def __init__(self, item):
        self.item = item

    def eval(self, ctx):
        value, missing = self.item.eval(ctx)
        return k_not(value), missing

    def children(self):
        return (self.item,)

    def describe(self):
        return "not"


# --- time windows ----------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """A date must fall within ``within`` before the as-of date, or, with
    ``after``, within ``within`` after the latest treatment of that type."""

    within: Duration
    after: str | None = None

    def describe(self) -> str:
        if self.after:
            return f"within {self.within} after {self.after}"
        return f"within the last {self.within}"

    def bounds(self, ctx):
        """(first, last) day of the window, or None when its anchor has no date."""
        if self.after:
            anchor, doubt = ctx.latest_treatment_date(self.after)
            if anchor is None or doubt:
                return None
            return anchor, self.within.after(anchor)
        return self.within.before(ctx.as_of), ctx.as_of

    def still_open(self, ctx) -> bool:
        """A window after an event that has not ended by the as-of date."""
        b = self.bounds(ctx) if self.after else None
        return b is not None and b[1] > ctx.as_of

    def contains(self, ctx, first: date | None, last: date | None, item: str = "") -> tuple:
        """Does the span [first, last] of an item (last None: ongoing) overlap the
        window? (True/False/None, missing, words). Whatever happens after the
        as-of date is not known at screening and does not count."""
        b = self.bounds(ctx)
        if b is None:
            _, doubt = ctx.latest_treatment_date(self.after)
            if doubt:
                return None, tuple(f"{d}.type (is it a later {self.after}?)" for d in doubt), \
                    f"{', '.join(doubt)} might be a later {self.after}"
            return None, (f"treatments: date of {self.after}",), f"no date of {self.after}"
        start, end = b[0], min(b[1], ctx.as_of)
        if first is None and last is None:
            return None, (f"{item}.date",), "no date"
        first = first or last   # callers have set aside items dated after the as-of date
        if last and last > ctx.as_of:   # planned to end after the as-of date: ongoing on it
            shown = f"{first.isoformat()}, ongoing (planned end {last.isoformat()})"
        else:
            shown = f"{first.isoformat()} to {last.isoformat()}" if last and last != first else (
                first.isoformat() if last else f"{first.isoformat()}, ongoing")
        last = min(last or ctx.as_of, ctx.as_of)
        return first <= end and last >= start, NOTHING, shown


# --- thresholds -----------------------------------------------------------------------

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


# --- leaves -----------------------------------------------------------------------------

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
            words = f"{words} ({_dated(ctx, lab.date)})"
            details = dict(details, date=lab.date.isoformat(), age_days=(ctx.as_of - lab.date).days)
        if note:
            words = f"{words} [{note}]"
        ctx.check(self, result, words, miss, details)
        return result, miss


def _dated(ctx, when: date) -> str:
    """'dated 2025-05-28, 5 days old' (its age on the as-of date)."""
    days = (ctx.as_of - when).days
    age = "the as-of date" if days == 0 else f"{days} day{'s' if days != 1 else ''} old"
    return f"dated {when.isoformat()}, {age}"


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
        return (f"{name} {lab.raw} is {_dated(ctx, lab.date)}, older than {window} ({whose})",
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
            ctx.check(self, result, f"{name} {word} ({_dated(ctx, lab.date)})", NOTHING,
                      {"value": word, "date": lab.date.isoformat()})
        return result, NOTHING


FIELD_LABELS = {"age": "age", "sex": "sex", "ecog": "ECOG", "weight": "weight", "height": "height"}


class FieldTest(Node):
    """A patient field (age, sex, ECOG, weight, a yes/no flag) against values."""

    kind = "field"

    def __init__(self, field: str, op: str, value, text: str):
        self.field = field
        self.op = op          # <, <=, >, >=, ==, !=, in, between, outside
        self.value = value    # number, text, bool, tuple
        self.text = text

    def describe(self):
        return f"{self.field} {self.text}"

    def _on_value(self, value):
        if self.op == "in":
            return value in self.value
        if self.op in ("between", "outside"):
            return holds_range(self.op, Interval.of(float(value)), *self.value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return holds(self.op, Interval.of(float(value)), float(self.value))
        if self.op == "==":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        raise ValueError(self.op)  # pragma: no cover - the compiler refuses this

    def _on_range(self, span: Interval):
        if self.op == "in":
            if not all(isinstance(v, (int, float)) for v in self.value):
                return None
            return k_or(holds("==", span, float(v)) for v in self.value)
        if self.op in ("between", "outside"):
            return holds_range(self.op, span, *self.value)
        return holds(self.op, span, float(self.value))

    def eval(self, ctx):
        value, source, missing = ctx.field(self.field)
        label = FIELD_LABELS.get(self.field, self.field)
        if value is None:
            ctx.check(self, None, f"no {label}", missing)
            return None, missing
        shown_range = None
        if isinstance(value, tuple):   # known to a range only (an age recorded at another date)
            result = self._on_range(Interval(*value))
            if result is None:
                missing = ("birth_date (the age is known only to a range at this date)",)
                ctx.check(self, None, f"{label} {fmt(value[0])} to {fmt(value[1])}: cannot tell "
                          f"whether {self.text} ({source})", missing)
                return None, missing
            shown_range, value = f"{fmt(value[0])} to {fmt(value[1])}", value[0]
        else:
            result = self._on_value(value)
        if not ctx.explain:
            return result, NOTHING
        shown = shown_range or _show_value(value)
        if isinstance(value, (bool, str)):
            need = _show_value(self.value) if self.op == "==" else self.text
            words = f"{label}: {shown}" if result else f"{label}: {shown} (needs {need})"
        else:
            words = f"{label} {shown} {self.text}" if result else f"{label} {shown}, not {self.text}"
        if source:
            words += f" ({source})"
        ctx.check(self, result, words, NOTHING, {"value": value})
        return result, NOTHING


def _show_value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt(value)
    return str(value)


class FindingTest(Node):
    """Cytogenetics: any of (or none of) a list of findings is detected."""

    kind = "cytogenetics"

    def __init__(self, findings, mode: str = "any", min_percent: float | None = None):
        self.findings = tuple(findings)
        self.mode = mode
        self.min_percent = min_percent

    def describe(self):
        cut = f" (in at least {fmt(self.min_percent)}% of cells)" if self.min_percent else ""
        word = "any of" if self.mode == "any" else "none of"
        return f"cytogenetics: {word} {', '.join(self.findings)}{cut}"

    def eval(self, ctx):
        values = []
        missing = []
        parts = []
        explain = ctx.explain
        for other in ctx.patient.unrecognised.get("cytogenetics", ()):
            # detected, but the vocabulary cannot place it: it might be any of these
            values.append(None)
            missing.append(f"cytogenetics: is '{other}' one of {', '.join(self.findings)}?")
            parts.append(f"unrecognised finding '{other}' detected: a person must judge")
        for name in self.findings:
            res = ctx.patient.cytogenetics.get(name)
            if res is not None and res.date is not None and res.date > ctx.as_of:
                values.append(None)
                missing.append(_future_missing(ctx, f"cytogenetics.{name}", name, res.date))
                parts.append(_future_words(ctx, name, res.date))
                continue
            if res is not None and res.problem:
                values.append(None)
                missing.append(f"cytogenetics.{name} ({res.problem})")
                parts.append(f"{name}: {res.problem}")
                continue
            if not explain:
                values.append(self._value(res))
                if values[-1] is None:
                    missing.append(f"cytogenetics.{name}.percent" if res is not None and res.detected
                                   else f"cytogenetics.{name}")
                continue
            alias = ""
            if res and res.raw_name and res.raw_name != name:
                alias = f" ({res.raw_name})" if res.raw_name.startswith("implied") else f" (as '{res.raw_name}')"
            if res is None:
                values.append(None)
                missing.append(f"cytogenetics.{name}")
                parts.append(f"{name} not reported")
            elif res.detected is None:
                values.append(None)
                missing.append(f"cytogenetics.{name}")
                parts.append(f"{name}{alias} result undecided")
            elif res.detected is False:
                values.append(False)
                parts.append(f"{name}{alias} not detected")
            elif self.min_percent is not None and res.percent is None:
                values.append(None)
                missing.append(f"cytogenetics.{name}.percent")
                parts.append(f"{name}{alias} detected, percentage of cells not given "
                             f"(cut-off {fmt(self.min_percent)}%)")
            elif self.min_percent is not None and res.percent < self.min_percent:
                values.append(False)
                parts.append(f"{name}{alias} detected in {fmt(res.percent)}% of cells, below the "
                             f"{fmt(self.min_percent)}% cut-off")
            else:
                values.append(True)
                pct = f" in {fmt(res.percent)}% of cells" if res.percent is not None else ""
                parts.append(f"{name}{alias} detected{pct}")
        found = k_or(values)
        result = found if self.mode == "any" else k_not(found)
        miss = tuple(missing) if result is None else NOTHING
        if explain:
            ctx.check(self, result, "; ".join(parts), miss)
        return result, miss

    def _value(self, res):
        if res is None or res.detected is None:
            return None
        if res.detected is False:
            return False
        if self.min_percent is None:
            return True
        if res.percent is None:
            return None
        return res.percent >= self.min_percent


def _line_number(value) -> int | None:
    """A treatment's line of therapy as a number (1, 1.0, '1', 'line 2'), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else None
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    words = "".join(ch for ch in str(value).lower() if ch.isalpha())
    return int(digits) if digits and words in ("", "line", "l") else None


def _future_words(ctx, what: str, when: date) -> str:
    return f"{what} {when.isoformat()} is after the as-of date {ctx.as_of.isoformat()}"


def _future_missing(ctx, path: str, what: str, when: date) -> str:
    return (f"{path} ({what} dated {when.isoformat()}, after the as-of date {ctx.as_of.isoformat()}: "
            "not happened by then; a person must judge)")


class EventTest(Node):
    """Shared logic of list sections: an item matches the node's filters."""

    section = ""
    noun = ""

    def __init__(self, names, attrs=None, window: Window | None = None, text: str = "", maybe=(),
                 asked=None):
        self.names = frozenset(names) if names else None
        # the names the rule wrote, before the kinds below them were added (for sentences)
        self.asked = tuple(sorted(asked if asked is not None else (names or ())))
        self.attrs = dict(attrs or {})       # attribute -> tuple of allowed values
        self.window = window
        self.text = text
        self.maybe = frozenset(maybe)        # broader kinds: an item of one might be one of names

    def items(self, ctx):
        return getattr(ctx.patient, self.section)

    def item_filters(self, ctx, item, path) -> tuple:
        """Kleene results and missing of the extra filters of a subclass."""
        return [], []

    def match(self, ctx, item, path) -> tuple:
        """(Kleene result, missing) of whether ``item`` is one this rule is about,
        leaving its dates aside; None for a known item of another kind."""
        checks, missing = [], []
        if self.names is not None and item.kind not in self.names:
            if item.known and item.kind not in self.maybe:
                return None, None
            # a type the vocabulary does not know, or one recorded only as a broader kind
            # (a bare 'antineoplastic therapy'), might be one of the wanted ones
            checks.append(None)
            field = 'name' if self.section == 'diagnoses' else 'type'
            ask = "a known name" if not item.known else "which kind"
            missing.append(f"{path}.{field} ({ask}: is '{item.kind}' {self.wanted()}?)")
        checks.extend(_attrs_match(item, self.attrs, path, missing))
        extra, extra_missing = self.item_filters(ctx, item, path)
        checks.extend(extra)
        missing.extend(extra_missing)
        return k_and(checks), missing

    def eval(self, ctx):
        results = []
        missing: list = []
        notes = []
        for item in self.items(ctx):
            path = f"{self.section}[{item.index}]"
            matched, miss = self.match(ctx, item, path)
            if miss is None:
                continue
            first, last = item.span()
            if first is not None and first > ctx.as_of:
                # not happened by the as-of date: it cannot satisfy the rule, and where it
                # would have mattered a person must judge (a planned ASCT, a date typed wrong)
                if matched is False:
                    continue
                results.append(None)
                missing.append(_future_missing(ctx, path, item.kind, first))
                notes.append(_future_words(ctx, item.kind, first))
                continue
            checks = [matched]
            missing.extend(miss)
            if self.window:
                inside, miss, when = self.window.contains(ctx, first, last, path)
                checks.append(inside)
                missing.extend(miss)
                if ctx.explain:
                    notes.append(f"{item.kind} ({when})")
            elif ctx.explain:
                notes.append(self.show(item, ctx))
            results.append(k_and(checks))
        result = k_or(results)
        if result is False or not results:
            if self.section in ctx.patient.complete:
                result = False
            else:
                result = None
                missing.append(f"{self.section} (the complete list, or mark it complete)")
        return self.finish(ctx, result, missing, notes)

    def finish(self, ctx, result, missing, notes):
        miss = tuple(missing) if result is None else NOTHING
        if not ctx.explain:
            return result, miss
        what = self.text or self.short()
        seen = ", ".join(notes) if notes else f"no matching {self.noun} recorded"
        if result is True:
            words = f"{what}: yes ({seen})"
        elif result is False:
            words = f"{what}: no ({seen})"
        else:
            words = f"{what}: cannot tell ({seen})"
        ctx.check(self, result, words, miss)
        return result, miss

    def wanted(self) -> str:
        """'one of induction, asct', 'antineoplastic_therapy or a kind of it': for questions."""
        kinds = len(self.names) > len(self.asked)
        tail = (" or a kind of it" if len(self.asked) == 1 else " or a kind of them") if kinds else ""
        return "one of " + ", ".join(self.asked) + tail

    def short(self) -> str:
        """A brief name of what is looked for, for check sentences."""
        names = list(self.asked)
        what = " or ".join(names) if 0 < len(names) <= 3 else (
            f"{self.noun} of {len(names)} listed types" if names else self.noun)
        if self.names and len(self.names) > len(names):
            what += " (any kind)" if len(names) == 1 else " (or any kind of them)"
        if self.attrs:
            what += " (" + ", ".join(f"{k} {'/'.join(sorted(_show_value(x) for x in v))}"
                                     for k, v in self.attrs.items()) + ")"
        if self.window:
            what += f" {self.window.describe()}"
        return what

    def show(self, item, ctx):
        first, last = item.span()
        d = last or first
        return f"{item.kind}" + (f" {d.isoformat()}" if d else "")


def _attrs_match(item, attrs: dict, path: str, missing: list) -> list:
    """Kleene results of an item's attributes against the allowed values (an absent
    attribute is unknown and goes into ``missing``)."""
    from trialscreen.vocab import attributes

    out = []
    for attr, allowed in attrs.items():
        values, aliases = attributes().get(attr, (None, ()))
        have, where = item.attrs.get(attr), attr
        for alias in aliases:
            if have is not None:
                break
            have, where = item.attrs.get(alias), alias
        if have is None:
            out.append(None)
            missing.append(f"{path}.{attr}")
        elif values is not None:
            # a closed set of values: one no spelling matches is for a person to read (a
            # yes/no answer too: 'paraprotein: no' might mean nonsecretory)
            canonical = None if isinstance(have, bool) else values.canonical(have)
            if canonical is None:
                shown = ("yes" if have else "no") if isinstance(have, bool) else have
                out.append(None)
                missing.append(f"{path}.{where} ('{shown}' is not a known {attr}: "
                               f"is it {' or '.join(sorted(values.canonical(x) or str(x) for x in allowed))}?)")
            else:
                out.append(_norm(canonical) in allowed)
        else:
            out.append(_norm(have) in allowed)
    return out


def _norm(value):
    if isinstance(value, str):
        from trialscreen.vocab import name_key

        return name_key(value)
    return value


class DiagnosisTest(EventTest):
    kind = "diagnosis"
    section = "diagnoses"
    noun = "diagnosis"

    def describe(self):
        out = "diagnosis " + " or ".join(sorted(self.names))
        if self.attrs:
            out += " with " + ", ".join(f"{k} {'/'.join(sorted(_show_value(x) for x in v))}"
                                        for k, v in self.attrs.items())
        if self.window:
            out += f", {self.window.describe()}"
        return out


class TreatmentTest(EventTest):
    kind = "treatment"
    section = "treatments"
    noun = "treatment"

    def __init__(self, names, attrs=None, window=None, text="", drugs=None, duration=None, count=None,
                 maybe=(), asked=None):
        super().__init__(names, attrs, window, text, maybe, asked)
        self.drugs = frozenset(drugs) if drugs else None
        self.duration = duration        # (op, Duration): the length of the whole phase
        self.count = count              # (op, n): how many matching treatments (a 'line' counts once)

    def item_filters(self, ctx, item, path):
        if self.drugs is None:
            return [], []
        drugs = item.attrs.get("drugs")
        if drugs is None:
            return [None], [f"{path}.drugs"]
        if self.drugs & set(drugs):
            return [True], []
        unknown = [d[1:] for d in drugs if isinstance(d, str) and d.startswith("?")]
        if unknown:  # a drug the vocabulary does not know might be one of these
            return [None], [f"{path}.drugs (is '{d}' one of {', '.join(sorted(self.drugs))}?)" for d in unknown]
        return [False], []

    def eval(self, ctx):
        if self.duration is None and self.count is None:
            return super().eval(ctx)
        # Aggregates read the whole history: the members are every treatment that
        # matches (sure), or might match or is dated after the as-of date (possible).
        sure, possible, missing, notes = [], [], [], []
        for item in self.items(ctx):
            path = f"{self.section}[{item.index}]"
            matched, miss = self.match(ctx, item, path)
            if miss is None or matched is False:
                continue
            first, last = item.span()
            if self.window and not (first is not None and first > ctx.as_of):
                inside, wmiss, _ = self.window.contains(ctx, first, last, path)
                matched = k_and((matched, inside))
                miss = miss + list(wmiss)
                if matched is False:
                    continue
            if first is not None and first > ctx.as_of:
                possible.append((item, path))
                missing.append(_future_missing(ctx, path, item.kind, first))
                notes.append(_future_words(ctx, item.kind, first))
            elif matched is None:
                possible.append((item, path))
                missing.extend(miss)
                notes.append(f"{item.kind} (might be one)")
            else:
                sure.append((item, path))
        complete = self.section in ctx.patient.complete
        if not complete:
            missing.append(f"{self.section} (the complete list, or mark it complete)")
        if self.count is not None:
            result = self.judge_count(ctx, sure, possible, complete, notes)
        else:
            result = self.judge_phase(ctx, sure, possible, complete, missing, notes)
        return self.finish(ctx, result, missing, notes)

    def judge_count(self, ctx, sure, possible, complete, notes):
        """At least as many as the sure ones (a shared 'line' counts once), at most
        those plus the possible ones, and without bound while the list is incomplete."""
        lines, unlined = set(), 0
        for item, _ in sure:
            line = _line_number(item.attrs.get("line"))
            if line is None:
                unlined += 1      # without a line number it may belong to a line already counted
            else:
                lines.add(line)
        low = max(len(lines), 1 if unlined else 0)
        high = (len(lines) + unlined + len(possible)) if complete else math.inf
        op, n = self.count
        for item, _ in sure:
            notes.append(self.show(item, ctx))
        notes.append(f"{low} counted" + ("" if high == low else
                                          f", up to {'more' if high == math.inf else int(high)}"))
        return holds(op, Interval(float(low), float(high)), float(n))

    def judge_phase(self, ctx, sure, possible, complete, missing, notes):
        """The phase runs from the first start to the last end of its treatments
        (ongoing ones to the as-of date). More treatments can only lengthen it, so a
        phase already too long stays so whatever the possible members are."""
        op, dur = self.duration
        if not sure:
            if not possible and complete:
                notes.append(f"no matching {self.noun} recorded")
                return False
            return None
        starts, ends, undated = [], [], False
        for item, path in sure:
            start = item.start
            end = item.end if item.end is not None and item.end <= ctx.as_of else (
                ctx.as_of if start is not None and (item.end is not None or not item.date) else None)
            notes.append(self.show(item, ctx))
            if start is None or end is None:  # a single date says nothing of how long it lasted
                missing.append(f"{path}.start and end")
                undated = True
                continue
            starts.append(start)
            ends.append(end)
        if not starts:
            return None
        possible = possible or undated   # an undated member can only lengthen the phase
        first, last = min(starts), max(ends)
        limit = dur.after(first)
        longer = {"<": last >= limit, "<=": last > limit, ">": last > limit, ">=": last >= limit}[op]
        days = (last - first).days
        if len(sure) > 1:
            notes.append(f"the phase {first.isoformat()} to {last.isoformat()}: {days} days")
        result = not longer if op in ("<", "<=") else longer
        grows_to_pass = op in (">", ">=") and result is False
        shrinks_to_pass = op in ("<", "<=") and result is True
        if (possible or not complete) and (grows_to_pass or shrinks_to_pass):
            return None
        return result

    def describe(self):
        out = "treatment " + (" or ".join(self.asked) if self.names else "of any kind")
        if self.names and len(self.names) > len(self.asked):
            out += " (any kind)" if len(self.asked) == 1 else " (or any kind of them)"
        if self.drugs:
            out += " with " + " or ".join(sorted(self.drugs))
        if self.attrs:
            out += " where " + ", ".join(f"{k} {'/'.join(sorted(_show_value(x) for x in v))}"
                                         for k, v in self.attrs.items())
        if self.duration:
            out += f", lasting {SYMBOL[self.duration[0]]} {self.duration[1]} in all"
        if self.count:
            out += f", {SYMBOL[self.count[0]]} {self.count[1]} of them"
        if self.window:
            out += f", {self.window.describe()}"
        return out

    def show(self, item, ctx):
        span = ""
        end = item.end
        if end is not None and end > ctx.as_of:
            end = None  # planned to end after the as-of date: ongoing on it
        if item.start or item.end:
            span = f" {item.start.isoformat() if item.start else '?'} to " \
                   f"{end.isoformat() if end else 'ongoing'}"
            if item.end is not None and end is None:
                span += f" (planned end {item.end.isoformat()})"
        elif item.date:
            span = f" {item.date.isoformat()}"
        if self.duration is not None and item.start and (item.end or not item.date):
            days = ((end or ctx.as_of) - item.start).days
            span += f", {days} days (limit {SYMBOL[self.duration[0]]} {self.duration[1]})"
        return f"{item.kind}{span}"


class NeoplasmTest(EventTest):
    """Another neoplasm that is neither exempt nor tumour-free long enough."""

    kind = "neoplasm"
    section = "neoplasms"
    noun = "other neoplasm"

    def __init__(self, exempt, free_for: Duration | None, text=""):
        super().__init__(None, None, None, text)
        self.exempt = tuple(exempt)        # ((types, {attr: allowed}), ...)
        self.free_for = free_for

    def describe(self):
        out = "another neoplasm"
        if self.exempt:
            out += ", except " + "; ".join(_matcher_text(m) for m in self.exempt)
        if self.free_for:
            out += f", unless tumour-free for at least {self.free_for}"
        return out

    def item_filters(self, ctx, item, path):
        missing = []
        exempt_values = []
        for types, attrs in self.exempt:
            if item.kind not in types:
                exempt_values.append(False)
                continue
            exempt_values.append(k_and(_attrs_match(item, attrs, path, missing)))
        exempt = k_or(exempt_values)
        if self.free_for is None:
            recent = True
        else:
            active = item.attrs.get("active")
            since = item.attrs.get("tumor_free_since")
            if active is True:
                recent = True
            elif isinstance(since, str):
                try:
                    since_date = date.fromisoformat(since)
                except ValueError:
                    since_date = None
                recent = None if since_date is None else self.free_for.after(since_date) > ctx.as_of
                if since_date is None:
                    missing.append(f"{path}.tumor_free_since")
            else:
                recent = None
                missing.append(f"{path}.tumor_free_since")
        return [k_not(exempt), recent], missing

    def short(self):
        out = "another neoplasm, not exempt"
        if self.free_for:
            out += f" and not tumour-free for {self.free_for}"
        return out

    def show(self, item, ctx):
        since = item.attrs.get("tumor_free_since")
        return item.kind + (f", tumour-free since {since}" if since else "")


def _matcher_text(matcher) -> str:
    types, attrs = matcher
    out = " or ".join(sorted(types))
    if attrs:
        out += " (" + ", ".join(f"{k} {'/'.join(sorted(_show_value(x) for x in v))}"
                                for k, v in attrs.items()) + ")"
    return out


class ConditionTest(Node):
    """A condition (CTCAE-graded or not) is present, optionally with a grade,
    active, or dated within a window."""

    kind = "condition"

    def __init__(self, names, grade=None, active: bool | None = None, window: Window | None = None):
        self.names = tuple(names)
        self.grade = grade              # (op, int)
        self.active = active
        self.window = window

    def describe(self):
        out = " or ".join(self.names)
        if self.grade:
            out += f" of grade {SYMBOL[self.grade[0]]} {self.grade[1]}"
        if self.active is not None:
            out += ", active" if self.active else ", not active"
        if self.window:
            out += f", {self.window.describe()}"
        return out

    def _window_end(self, ctx):
        """The last day, up to the as-of date, that a windowed rule needs a condition's
        absence for; None without a window or without its anchor."""
        if self.window is None:
            return None
        b = self.window.bounds(ctx)
        return None if b is None else min(b[1], ctx.as_of)

    def eval(self, ctx):
        states = [st for n in self.names for st in ctx.patient.conditions.get(n, ())]
        if not states:
            miss = tuple(f"conditions.{n}" for n in self.names[:1])
            ctx.check(self, None, f"{self.names[0]} not recorded (present or absent)", miss)
            return None, miss
        values, missing, parts = [], [], []
        for other in ctx.patient.unrecognised.get("conditions", ()):
            # a condition the vocabulary cannot place might be one of these
            values.append(None)
            missing.append(f"conditions: is '{other}' one of {', '.join(self.names)}?")
            parts.append(f"unrecognised condition '{other}' present: a person must judge")
        for st in states:
            path = f"conditions.{st.condition}"
            if st.date is not None and st.date > ctx.as_of:
                # an onset or an assessment not made by the as-of date says nothing of it
                values.append(None)
                missing.append(_future_missing(ctx, path, st.condition, st.date))
                parts.append(_future_words(ctx, st.condition, st.date))
                continue
            if st.present is False:
                until = self._window_end(ctx)
                if st.date is not None and until is not None and st.date < until:
                    # absent when assessed, but the window ran on after that assessment
                    values.append(None)
                    missing.append(f"{path} (assessed on {st.date.isoformat()}; the window runs "
                                   f"until {until.isoformat()})")
                    parts.append(f"{st.condition}: absent on {st.date.isoformat()}, "
                                 f"not assessed until {until.isoformat()}")
                    continue
                values.append(False)
                parts.append(f"{st.condition}: absent")
                continue
            if st.present is None:
                values.append(None)
                missing.append(f"{path} ({st.problem})" if st.problem else path)
                parts.append(f"{st.condition}: {st.problem or 'not known'}")
                continue
            checks = []
            words = f"{st.condition}: present"
            if self.grade:
                op, n = self.grade
                if st.grade is None:
                    checks.append(None)
                    missing.append(f"{path}.grade")
                else:
                    checks.append(holds(op, Interval.of(st.grade), n))
                    words += f", grade {st.grade}"
            if self.active is not None:
                active = st.active
                if active is None and st.end is not None:
                    active = st.end > ctx.as_of
                if active is None:
                    checks.append(None)
                    missing.append(f"{path}.active")
                else:
                    checks.append(active == self.active)
                    words += ", active" if active else ", not active"
            if self.window:
                inside, miss, when = self.window.contains(ctx, st.date, st.date, path)
                checks.append(inside)
                missing.extend(miss)
                words += f", dated {when}"
            values.append(k_and(checks))
            parts.append(words)
        result = k_or(values)
        if result is False and self.window is not None and self.window.still_open(ctx):
            # "no progression within 3 months of ASCT" cannot be known 6 weeks after it
            end = self.window.bounds(ctx)[1]
            result = None
            missing.append(f"conditions.{self.names[0]} (its window runs until {end.isoformat()})")
            parts.append(f"the window runs until {end.isoformat()}, after the as-of date")
        miss = tuple(missing) if result is None else NOTHING
        if not ctx.explain:
            return result, miss
        prefix = self.describe()
        verdict = {True: "yes", False: "no", None: "cannot tell"}[result]
        ctx.check(self, result, f"{prefix}: {verdict} ({'; '.join(parts)})", miss)
        return result, miss


class AttestationTest(Node):
    """A human judgment recorded in the patient file (consent, investigator opinion)."""

    kind = "attestation"

    def __init__(self, name: str, expected: bool = True, question: str = ""):
        self.name = name
        self.expected = expected
        self.question = question

    def describe(self):
        q = f" ({self.question})" if self.question else ""
        return f"attestation {self.name} is {'yes' if self.expected else 'no'}{q}"

    def eval(self, ctx):
        value = ctx.patient.attestations.get(self.name)
        if value is None:
            miss = (f"attestations.{self.name}",)
            q = f": {self.question}" if self.question else ""
            ctx.check(self, None, f"attestation {self.name} not recorded{q}", miss)
            return None, miss
        result = value == self.expected
        if ctx.explain:
            ctx.check(self, result, f"attestation {self.name}: {'yes' if value else 'no'}", NOTHING,
                      {"value": value})
        return result, NOTHING


class AllergyTest(Node):
    kind = "allergy"

    def __init__(self, substances):
        self.substances = tuple(substances)

    def describe(self):
        return "allergy to " + " or ".join(self.substances)

    def eval(self, ctx):
        have = [s for s in self.substances if s in ctx.patient.allergies]
        if have:
            ctx.check(self, True, f"allergic to {', '.join(have)}")
            return True, NOTHING
        unknown = [a[1:] for a in ctx.patient.allergies if a.startswith("?")]
        if unknown:
            miss = tuple(f"allergies: is '{a}' one of {', '.join(self.substances)}?" for a in unknown)
            ctx.check(self, None, f"allergy to {', '.join(unknown)}: not a substance trialscreen knows", miss)
            return None, miss
        if "allergies" in ctx.patient.complete:
            ctx.check(self, False, f"no allergy to {' or '.join(self.substances)} (allergy list complete)")
            return False, NOTHING
        miss = ("allergies (the complete list, or mark it complete)",)
        ctx.check(self, None, f"allergy to {' or '.join(self.substances)} not known", miss)
        return None, miss


class Reference(Node):
    """A named definition used by a criterion (kept for the explanation)."""

    kind = "use"

    def __init__(self, name: str, item: Node):
        self.name = name
        self.item = item

    def describe(self):
        return f"definition '{self.name}'"

    def children(self):
        return (self.item,)

    def eval(self, ctx):
        return self.item.eval(ctx)


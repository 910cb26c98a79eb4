"""The words of list-section rules (diagnoses, other neoplasms, treatments): the rule text,
and the check sentence with every item the evaluator saw (evaluate/events.py and
evaluate/treatments.py record them)."""

from __future__ import annotations

import math

from trialscreen.explain.checks import sentence
from trialscreen.explain.describe import describes
from trialscreen.explain.names import term_name, words
from trialscreen.explain.words import future_words, show_value, span_words, window_words
from trialscreen.ir.events import DiagnosisTest, EventTest, NeoplasmTest
from trialscreen.ir.treatments import TreatmentTest
from trialscreen.semantics.logic import SYMBOL

_VERDICT = {True: "yes", False: "no", None: "cannot tell"}


def _attrs_words(attrs: tuple) -> str:
    """'stage II/III, line 1'."""
    return ", ".join(f"{k} {'/'.join(sorted(show_value(x) for x in v))}" for k, v in attrs)


def _any_kind(node: EventTest) -> str:
    if node.names and len(node.names) > len(node.asked):
        return " (any kind)" if len(node.asked) == 1 else " (or any kind of them)"
    return ""


@describes(DiagnosisTest)
def describe_diagnosis(node: DiagnosisTest) -> str:
    out = "diagnosis " + " or ".join(sorted(node.names or ()))
    if node.attrs:
        out += " with " + _attrs_words(node.attrs)
    if node.window:
        out += f", {window_words(node.window)}"
    return out


@describes(NeoplasmTest)
def describe_neoplasm(node: NeoplasmTest) -> str:
    out = "another neoplasm"
    if node.exempt:
        out += ", except " + "; ".join(_exemption(m) for m in node.exempt)
    if node.free_for:
        out += f", unless tumour-free for at least {node.free_for}"
    return out


def _exemption(matcher: tuple) -> str:
    types, attrs = matcher
    out = " or ".join(sorted(types))
    if attrs:
        out += f" ({_attrs_words(attrs)})"
    return out


@describes(TreatmentTest)
def describe_treatment(node: TreatmentTest) -> str:
    out = "treatment " + (" or ".join(node.asked) if node.names else "of any kind") + _any_kind(node)
    if node.drugs:
        out += " with " + " or ".join(sorted(node.drugs))
    if node.attrs:
        out += " where " + _attrs_words(node.attrs)
    if node.duration:
        out += f", lasting {SYMBOL[node.duration[0]]} {node.duration[1]} in all"
    if node.count:
        out += f", {SYMBOL[node.count[0]]} {node.count[1]} of them"
    if node.window:
        out += f", {window_words(node.window)}"
    return out


def _kind(node: EventTest) -> str | None:
    """The vocabulary the node's names come from (for their short names)."""
    return "treatment" if isinstance(node, TreatmentTest) else "diagnosis" if isinstance(node, DiagnosisTest) else None


def _name(node: EventTest, name: str) -> str:
    kind = _kind(node)
    return term_name(kind, name) if kind else name      # other neoplasms: as the record names them


def short(node: EventTest) -> str:
    """A brief name of what is looked for, for check sentences."""
    if isinstance(node, NeoplasmTest):
        out = "another neoplasm, not exempt"
        if node.free_for:
            out += f" and not tumour-free for {node.free_for}"
        return out
    names = [_name(node, n) for n in node.asked]
    what = " or ".join(names) if 0 < len(names) <= 3 else (
        f"{node.noun} of {len(names)} listed types" if names else node.noun)
    what += _any_kind(node)
    if node.attrs:
        what += " (" + ", ".join(f"{words(k)}: {'/'.join(sorted(words(show_value(x)) for x in v))}"
                                 for k, v in node.attrs) + ")"
    if node.window:
        what += f" {window_words(node.window)}"
    return what


@sentence("event.read")
def event_read(check, as_of):
    node = check.node
    seen = ", ".join(_seen_words(node, s, as_of) for s in _in_date_order(check.facts["seen"]))
    return f"{short(node)}: {_VERDICT[check.result]} ({seen or f'no matching {node.noun} recorded'})", None


def _in_date_order(seen: tuple) -> list:
    """The items in the order they happened (then by name), whatever order the source listed them
    in: a record and its FHIR Bundle list treatments differently and read the same. Undated items
    and the counts and phases that sum them up keep their place after the dated ones."""
    def when(s: tuple) -> tuple:
        day = s[1].span()[0] if s[0] == "item" else s[2] if s[0] == "future" else \
            s[2][1] if s[0] == "window" and s[2][0] in ("span", "unknown end") else None
        name = s[1].kind if s[0] == "item" else s[1] if s[0] in ("future", "window") else ""
        return (0, day.isoformat(), str(name)) if day is not None else (1, "", "")
    return sorted(seen, key=when)


def _seen_words(node: EventTest, seen: tuple, as_of) -> str:
    case = seen[0]
    if case == "future":
        return future_words(as_of, _name(node, seen[1]), seen[2])
    if case == "window":
        return f"{_name(node, seen[1])} ({span_words(seen[2])})"
    if case == "might be":
        return f"{_name(node, seen[1])} (might be one)"
    if case == "counted":
        low, high = seen[1], seen[2]
        return f"{low} counted" + ("" if high == low else f", up to {'more' if high == math.inf else int(high)}")
    if case == "phase":
        return f"the phase {seen[1].isoformat()} to {seen[2].isoformat()}: {(seen[2] - seen[1]).days} days"
    if case == "none":
        return f"no matching {node.noun} recorded"
    return _item_words(node, seen[1], as_of)


def _item_words(node: EventTest, item, as_of) -> str:
    """A matching item: its kind and dates (a treatment's span, a neoplasm's tumour-free date)."""
    if isinstance(node, NeoplasmTest):
        since = item.attrs.get("tumor_free_since")
        return item.kind + (f", tumour-free since {since}" if since else "")
    if not isinstance(node, TreatmentTest):
        first, last = item.span()
        d = last or first
        return _name(node, item.kind) + (f" {d.isoformat()}" if d else "")
    span = ""
    end = item.end
    if end is not None and end > as_of:
        end = None  # planned to end after the as-of date: ongoing on it
    if item.end_unknown:
        span = f" {item.start.isoformat()} to an unknown end" if item.start else " (no date, ended)"
    elif item.start or item.end:
        span = f" {item.start.isoformat() if item.start else '?'} to " \
               f"{end.isoformat() if end else 'ongoing'}"
        if item.end is not None and end is None:
            span += f" (planned end {item.end.isoformat()})"
    elif item.date:
        span = f" {item.date.isoformat()}"
    if node.duration is not None and item.start and (item.end or item.end_unknown or not item.date):
        days = ((end or as_of) - item.start).days
        most = "at most " if item.end_unknown else ""
        span += f", {most}{days} days (limit {SYMBOL[node.duration[0]]} {node.duration[1]})"
    return f"{_name(node, item.kind)}{span}"

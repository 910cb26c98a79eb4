"""The sentences of condition checks: the rule, its verdict, and each recorded state seen
(present with its grade, activity and date, absent, not known, or after the as-of date)."""

from __future__ import annotations

from datetime import date

from trialscreen.explain.checks import sentence
from trialscreen.explain.describe import describes
from trialscreen.explain.names import term_name
from trialscreen.explain.words import future_words, span_words, window_words
from trialscreen.ir.conditions import ConditionTest
from trialscreen.semantics.logic import SYMBOL

_VERDICT = {True: "yes", False: "no", None: "cannot tell"}


@describes(ConditionTest)
def describe_condition_test(node: ConditionTest) -> str:
    return _rule_words(node, str)


def _rule_words(node: ConditionTest, named=lambda n: term_name("condition", n)) -> str:
    """The condition asked about: 'CNS involvement', 'peripheral neuropathy of grade ≥ 3' (``named``
    gives each condition's name: its short name in sentences, the canonical one in rule text)."""
    out = " or ".join(named(n) for n in node.names)
    if node.grade:
        out += f" of grade {SYMBOL[node.grade[0]]} {node.grade[1]}"
    if node.active is not None:
        out += ", active" if node.active else ", not active"
    if node.window:
        out += f", {window_words(node.window)}"
    return out


@sentence("condition.not recorded")
def condition_not_recorded(check, as_of):
    return f"{term_name('condition', check.node.names[0])}: not recorded (present or absent)", None


@sentence("condition.read")
def condition_read(check, as_of):
    own = check.node.names[0] if len(check.node.names) == 1 else None
    parts = "; ".join(condition_words(item, as_of, own) for item in check.facts["items"])
    return f"{_rule_words(check.node)}: {_VERDICT[check.result]} ({parts})", None


def condition_words(item: tuple, as_of: date, own: str | None = None) -> str:
    """The words of one item a condition check saw (evaluate/conditions.py makes them); the
    condition's name is left out where it is the one the rule asks about (``own``)."""
    case = item[0]
    if case == "unrecognised":
        return f"unrecognised condition '{item[1]}' present: a person must judge"
    if case == "window open":
        return f"the window runs until {item[1].isoformat()}, after the as-of date"
    if case == "window in doubt":
        return (f"the {term_name('treatment', item[1])} the window runs after may be later than the one "
                "recorded, so the window may still be open")
    name = "" if item[1] == own else f"{term_name('condition', item[1])}: "
    if case == "future":
        return future_words(as_of, term_name("condition", item[1]), item[2])
    if case == "absent before":
        return f"{name}recorded absent on {item[2].isoformat()}, not assessed until {item[3].isoformat()}"
    if case == "absent":
        return f"{name}recorded absent"
    if case == "not known":
        return f"{name}{item[2] or 'not known'}"
    _, _, grade, active, span = item
    words = f"{name}recorded present"
    if grade is not None:
        words += f", grade {grade}"
    if active is not None:
        words += ", active" if active else ", not active"
    if span is not None:
        words += f", dated {span_words(span)}"
    return words

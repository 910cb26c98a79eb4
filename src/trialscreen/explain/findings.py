"""The sentences of cytogenetics checks: each finding as reported (and under which name),
its clone size against the cut-off, or why it decides nothing."""

from __future__ import annotations

from datetime import date

from trialscreen.explain.checks import sentence
from trialscreen.explain.describe import describes
from trialscreen.explain.words import future_words
from trialscreen.ir.findings import FindingTest
from trialscreen.semantics.logic import fmt


@describes(FindingTest)
def describe_finding_test(node: FindingTest) -> str:
    cut = f" (in at least {fmt(node.min_percent)}% of cells)" if node.min_percent else ""
    word = "any of" if node.mode == "any" else "none of"
    return f"cytogenetics: {word} {', '.join(node.findings)}{cut}"


@sentence("cytogenetics.read")
def finding_read(check, as_of):
    return "; ".join(finding_words(item, as_of) for item in check.facts["items"]), None


def finding_words(item: tuple, as_of: date) -> str:
    """The words of one item a cytogenetics check saw (evaluate/findings.py makes them)."""
    case, name = item[0], item[1]
    if case == "unrecognised":
        return f"unrecognised finding '{name}' detected: a person must judge"
    if case == "future":
        return future_words(as_of, name, item[2])
    if case == "problem":
        return f"{name}: {item[2]}"
    if case == "not reported":
        return f"{name} not reported"
    shown = name + reported_as(name, item[2])
    if case == "undecided":
        return f"{shown} result undecided"
    if case == "not detected":
        return f"{shown} not detected"
    if case == "no percent":
        return f"{shown} detected, percentage of cells not given (cut-off {fmt(item[3])}%)"
    if case == "below":
        return f"{shown} detected in {fmt(item[3])}% of cells, below the {fmt(item[4])}% cut-off"
    pct = f" in {fmt(item[3])}% of cells" if item[3] is not None else ""
    return f"{shown} detected{pct}"


def reported_as(name: str, raw_name: str) -> str:
    """' (as 'del 17p')' where the record names the finding otherwise, or ' (implied by ...)'."""
    if not raw_name or raw_name == name:
        return ""
    return f" ({raw_name})" if raw_name.startswith("implied") else f" (as '{raw_name}')"

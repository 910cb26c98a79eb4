"""The sentences of lab checks: the value as written, its conversion, the threshold, the
date and its age, or why the value decides nothing."""

from __future__ import annotations

from trialscreen.explain.checks import sentence
from trialscreen.explain.describe import describes
from trialscreen.explain.names import analyte_name
from trialscreen.explain.words import dated
from trialscreen.ir.labs import LabResult, LabTest
from trialscreen.semantics.logic import SYMBOL, fmt, fmt_against


@describes(LabTest)
def describe_lab_test(node: LabTest) -> str:
    alts = " or, by unit, ".join(f"{SYMBOL.get(op, op)} {t.text}" for op, t in node.alternatives)
    out = f"{node.analyte.name} {alts}"
    if node.within:
        out += f" (a value from the last {node.within})"
    return out


@describes(LabResult)
def describe_lab_result(node: LabResult) -> str:
    return f"{node.analyte.name} is {'positive' if node.expected else 'negative'}"


@sentence("lab.none")
def _none(check, as_of):
    name, note = analyte_name(check.node.analyte), check.facts["note"]
    if check.facts["unusable"]:
        return f"{name}: {note}", None
    return f"no {name} value" + (f" ({note})" if note else ""), None


@sentence("lab.stale")
def _stale(check, as_of):
    lab, case, note = check.facts["lab"], check.facts["case"], check.facts["note"]
    name = analyte_name(check.node.analyte)
    if case[0] == "future":
        words = (f"{name} {lab.raw} is dated {lab.date.isoformat()}, after the as-of date "
                 f"{as_of.isoformat()}: it had not been measured by then")
    elif case[0] == "undated":
        words = f"{name} {lab.raw} has no date; only a value from the last {case[1]} counts ({case[2]})"
    else:
        words = f"{name} {lab.raw} is {_when(lab, as_of)}, older than {case[1]} ({case[2]})"
    return words + (f" [{note}]" if note else ""), None


@sentence("lab.no unit")
def _no_unit(check, as_of):
    f = check.facts
    return (f"{analyte_name(check.node.analyte)} {f['lab'].raw} is in none of the units this criterion uses "
            f"({f['units']})"), None


@sentence("lab.compared")
def _compared(check, as_of):
    f = check.facts
    lab, op, threshold = f["lab"], f["op"], f["threshold"]
    name = analyte_name(check.node.analyte)
    details: dict = {}
    if f["case"] == "unit error":
        words = f"{name} {lab.raw} cannot be compared with {threshold.text}: {f['message']}"
    elif f["case"] == "no reference":
        words = (f"{name} {lab.raw}: no {threshold.ref.upper()} given, so '{threshold.text}' "
                 "cannot be judged")
    elif "limit" in f:
        words, details = _relative(name, lab, op, threshold, f, check.result)
    else:
        words, details = _absolute(name, lab, op, threshold, f["factor"], check.result)
    if lab.date:
        words = f"{words} ({_when(lab, as_of)})"
        details = dict(details, date=lab.date.isoformat(), age_days=(as_of - lab.date).days)
    if f["note"]:
        words = f"{words} [{f['note']}]"
    return words, details


def _absolute(name, lab, op, threshold, factor, result) -> tuple:
    shown = f"{name} {lab.raw}"
    converted = lab.value * factor
    if lab.unit.display != threshold.unit.display or factor != 1.0:
        shown += f" = {lab.censor or ''}{fmt_against(converted, threshold.value)} {threshold.unit}"
    details = {"value": lab.value, "unit": str(lab.unit), "censor": lab.censor,
               "converted": converted, "converted_unit": str(threshold.unit),
               "factor": factor, "op": op, "threshold": threshold.value, "threshold_unit": str(threshold.unit)}
    return _sentence(shown, op, threshold.text, result), details


def _relative(name, lab, op, threshold, f, result) -> tuple:
    factor, limit, unit, ref = f["factor"], f["limit"], f["unit"], f["ref"]
    shown = f"{name} {lab.raw}" + (f" = {lab.censor or ''}{fmt_against(lab.value * factor, limit)} {unit}"
                                   if factor != 1.0 else "")
    how = f"{threshold.text} = {fmt(limit)} {unit} ({threshold.ref.upper()} {fmt(ref)} {lab.unit})"
    details = {"value": lab.value, "unit": str(lab.unit), "censor": lab.censor, "op": op,
               "reference": threshold.ref, "reference_value": ref, "threshold": limit,
               "threshold_unit": str(unit)}
    return _sentence(shown, op, how, result), details


def _sentence(shown: str, op: str, threshold: str, result) -> str:
    sym = SYMBOL.get(op, op)
    if result is True:
        return f"{shown} {sym} {threshold}"
    if result is False:
        return f"{shown}, not {sym} {threshold}"
    return f"{shown}: cannot tell whether {sym} {threshold}"


@sentence("lab result.none")
def _result_none(check, as_of):
    return f"no {analyte_name(check.node.analyte)} result", None


@sentence("lab result.problem")
def _result_problem(check, as_of):
    return f"{analyte_name(check.node.analyte)}: {check.facts['lab'].problem}", None


@sentence("lab result.undecided")
def _result_undecided(check, as_of):
    return f"{analyte_name(check.node.analyte)} result '{check.facts['lab'].raw}' decides nothing", None


@sentence("lab result.read")
def _result_read(check, as_of):
    lab = check.facts["lab"]
    word = "positive" if lab.result else "negative"
    words = f"{analyte_name(check.node.analyte)} {word} ({_when(lab, as_of)})"
    return words, {"value": word, "date": lab.date.isoformat()}


def _when(lab, as_of) -> str:
    """'dated 2025-05-28, 5 days old', and where the source held more: '; the latest of 4 results'."""
    earlier = getattr(lab, "earlier", 0)
    return dated(as_of, lab.date) + (f"; the latest of {earlier + 1} results" if earlier else "")

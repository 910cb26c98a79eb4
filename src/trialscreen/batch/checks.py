"""Checks of a mapped column that need the patient reader's vocabulary, made once before the
first row (batch/plan.py records what they find as problems of the mapping): the unit of a
body measure, and the values a coded column maps its cells to."""

from __future__ import annotations

import difflib

from trialscreen import vocab
from trialscreen.batch.columns import Column
from trialscreen.errors import UnitError
from trialscreen.patient.fields import FLAGS

_BODY = {"weight": "kg", "height": "cm"}
_YES_NO = ("yes", "no", "true", "false")


def body_unit_problem(col: Column, unit: str) -> tuple[str, str] | None:
    """(message, hint) if the weight or height of ``col`` cannot be in ``unit``, else None."""
    from trialscreen.units import convert
    from trialscreen.units.normalize import normalize

    target = _BODY.get(col.key) if col.kind == "scalar" else None
    if target is None:
        return None
    try:
        convert.factor(normalize(unit, "body"), normalize(target, "body"))
    except UnitError as exc:
        return exc.message, f"give a unit of {col.key}, such as {target}" + (" or lb" if target == "kg" else " or in")
    return None


def value_problem(col: Column) -> tuple[str, str, str] | None:
    """(value, what it should be, hint) for the first mapped value of a coded column that its
    field cannot read (a misspelt 'femal' or 'detetced'), else None; fields whose values are
    free (a diagnosis, a grade) are not checked."""
    reader = _reader_of(col)
    if reader is None or not col.values:
        return None
    what, read, words = reader
    for value in col.values.values():
        if value is None:
            continue
        try:
            read(value)
        except ValueError:
            close = difflib.get_close_matches(value.lower(), words, n=1, cutoff=0.6)
            return value, what, f"did you mean '{close[0]}'?" if close else "use " + ", ".join(words)
    return None


def _reader_of(col: Column):
    """(what the field holds, a reader raising ValueError, its words) of a coded column, or None."""
    from trialscreen.patient.load import SEX_WORDS

    if col.kind == "scalar" and col.key == "sex":
        def sex(text: str) -> None:
            if text.strip().lower() not in SEX_WORDS:
                raise ValueError(text)
        return "a sex trialscreen knows", sex, ["female", "male", "other", "unknown"]
    if (col.kind == "scalar" and col.key in FLAGS) or col.kind in ("attestation", "condition") or \
            (col.kind == "condition_attr" and col.attr == "active"):
        return "a yes / no answer", vocab.yes_no, list(_YES_NO)
    qualitative_lab = col.kind == "lab" and getattr(vocab.analytes().get(col.key), "qualitative", False)
    if col.kind == "finding" or qualitative_lab:
        return "a result trialscreen reads", vocab.qualitative, ["detected", "not detected", "positive", "negative",
                                                                 "failed", "equivocal"]
    return None

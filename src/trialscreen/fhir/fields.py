"""A person field (ECOG, weight, height, pregnancy and the other flags) from an Observation's value
(docs/fhir.md, "Person fields").

What the record reader would refuse (an ECOG of 1.5, an answer code nobody lists) is not passed
on: the field is left out, so the criteria that read it are unknown, and the run says which
Observation it was (results.settle). The patient is screened all the same.
"""

from __future__ import annotations

import re

from trialscreen import vocab
from trialscreen.errors import UnitError
from trialscreen.fhir import values as v
from trialscreen.fhir.results import NOTE, observation_name
from trialscreen.patient.fields import FIELDS, range_of
from trialscreen.patient.load import SEX_WORDS
from trialscreen.units.convert import factor
from trialscreen.units.normalize import normalize

_UNREAD = object()
_CANONICAL = {"kg": "kg", "cm": "cm"}      # the unit a body measure's range is in
_AGE_UNITS = ("", "a", "yr", "yrs", "year", "years")


def field(obs: dict, name: str):
    """The value of field ``name`` as the record writes it, or a NOTE entry when it cannot be read."""
    known = FIELDS.get(name)
    if known is None:                          # a site code naming no field: the reader refuses it
        return _as_written(obs)
    read = {"integer": _number, "number": _number, "kg": _measure, "cm": _measure, "bool": _yes_no,
            "sex": _sex}[known.kind](obs, known)
    if read is not _UNREAD:
        return read
    return {NOTE: f"{name}: {observation_name(obs)} gives {_shown(obs)}, which trialscreen cannot read as "
                  f"{known.label}: not read ({known.label} is unknown)"}


def _as_written(obs: dict):
    q = obs.get("valueQuantity")
    if isinstance(q, dict) and q.get("value") is not None:
        return v.number(q["value"])
    for key in ("valueInteger", "valueBoolean", "valueString"):
        if key in obs:
            return obs[key]
    return v.answer(obs.get("valueCodeableConcept"))


def _text(obs: dict) -> str | None:
    """The value written as text: valueString, or a valueCodeableConcept's text with no answer code."""
    if isinstance(obs.get("valueString"), str):
        return obs["valueString"].strip()
    concept = v.obj(obs, "valueCodeableConcept")
    if v.answer(concept) is None and isinstance(concept.get("text"), str):
        return concept["text"].strip()
    return None


_SCORE_UNITS = ("", "1", "{score}", "{Score}", "{grade}", "score", "points")


def _number(obs: dict, known):
    """ECOG (a whole grade) or age: an integer, a quantity, a digit string or an answer code."""
    q = v.obj(obs, "valueQuantity")
    if known.name == "age" and "value" in q and v.unit(q).lower() not in _AGE_UNITS:
        return _UNREAD                          # an age in months is not read as years
    if known.name != "age" and "value" in q and v.unit(q).strip() not in _SCORE_UNITS:
        return _UNREAD                          # ECOG 3 '%' is some other scale (Karnofsky?): not a grade
    value = q.get("value") if "value" in q else obs.get("valueInteger")
    if value is None and "valueCodeableConcept" in obs:
        value = v.answer(obs["valueCodeableConcept"])
    text = _text(obs) if value is None else None
    if text is not None and re.fullmatch(r"\d+(\.\d+)?", text):
        value = float(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _UNREAD
    low, high = range_of(known.name)
    if not low <= value <= high or (known.kind == "integer" and value != int(value)):
        return _UNREAD
    return int(value) if known.kind == "integer" or float(value).is_integer() else value


def _measure(obs: dict, known):
    """Weight or height: a quantity whose unit the grammar reads, inside the field's range."""
    q = v.obj(obs, "valueQuantity")
    value = q.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or v.unit_clash(q, "body") is not None:
        return _UNREAD
    unit = v.unit(q, "body")
    try:
        amount = value * factor(normalize(unit, "body"), normalize(_CANONICAL[known.kind], "body"))
    except UnitError:
        return _UNREAD
    low, high = range_of(known.name)
    return f"{v.number(value)} {unit}" if low <= amount <= high else _UNREAD


def _yes_no(obs: dict, known):
    """A flag: valueBoolean, an answer code (true, false or unknown), or yes/no text."""
    if isinstance(obs.get("valueBoolean"), bool):
        return obs["valueBoolean"]
    said = v.answer(obs.get("valueCodeableConcept")) if "valueCodeableConcept" in obs else None
    if isinstance(said, bool) or said == "unknown":
        return said
    text = _text(obs)
    if said is not None or text is None:
        return _UNREAD
    try:
        read = vocab.yes_no(text)
    except ValueError:
        return _UNREAD
    return "unknown" if read is None else read         # written, and unknown: not left to an older one


def _sex(obs: dict, known):
    text = _text(obs)
    return text if text is not None and text.lower() in SEX_WORDS else _UNREAD


def _shown(obs: dict) -> str:
    """The value as a warning quotes it."""
    for key in ("valueQuantity", "valueCodeableConcept"):
        if isinstance(obs.get(key), dict):
            if key == "valueQuantity":
                return f"{key} {obs[key].get('value')!r} {v.unit(obs[key])}".strip()
            return f"{key} {v.label(obs[key])}"
    given = next((k for k in obs if k.startswith("value")), None)
    return f"{given} {obs[given]!r}" if given else "no value"

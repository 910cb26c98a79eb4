"""A person field (ECOG, weight, height, pregnancy and the other flags) from an Observation's value
(docs/fhir.md, "Person fields")."""

from __future__ import annotations

from trialscreen.fhir import values as v
from trialscreen.fhir.results import coded


def field(obs: dict, name: str):
    """A person field's value: a number (ECOG, age), a quantity with its unit (weight, height),
    a yes/no (the flags), an answer, or the text as written for the reader to refuse."""
    q = obs.get("valueQuantity")
    if isinstance(q, dict) and q.get("value") is not None:
        number = v.number(q["value"])
        return f"{number} {v.unit(q)}".strip() if name in ("weight", "height") else number
    for key in ("valueInteger", "valueBoolean"):
        if key in obs:
            return obs[key]
    if "valueCodeableConcept" in obs:
        found = v.answer(obs["valueCodeableConcept"])
        return found if found is not None else coded(obs["valueCodeableConcept"])
    return obs.get("valueString")

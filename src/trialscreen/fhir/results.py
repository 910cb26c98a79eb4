"""The values of Observations as the record writes them: a lab result, a person field, a
cytogenetic finding, a yes/no answer, a genomics-reporting Variant (docs/fhir.md).

Nothing is judged here: a value is passed on as the resource holds it, for the record reader.
"""

from __future__ import annotations

from functools import lru_cache

from trialscreen import vocab
from trialscreen.fhir import values as v
from trialscreen.vocab import codes


@lru_cache(maxsize=None)
def _genomics(part: str) -> frozenset:
    listed = (vocab.load_file("observations.yaml").get("genomics") or {}).get(part) or {}
    return frozenset((system, str(code)) for system, items in listed.items() for code in items)


def is_genomic(concept, part: str) -> bool:
    """Whether a code is the genomics-reporting ``part`` (variant, iscn, gene, copy_number)."""
    wanted = _genomics(part)
    return any((codes.system_of(s), c) in wanted for s, c in v.codings(concept))


def answered(obs: dict):
    """A yes/no value: valueBoolean, or a coded or written answer that is true or false."""
    if isinstance(obs.get("valueBoolean"), bool):
        return obs["valueBoolean"]
    said = v.answer(obs.get("valueCodeableConcept")) if "valueCodeableConcept" in obs else obs.get("valueString")
    if isinstance(said, bool):
        return said
    try:
        return vocab.yes_no(said) if isinstance(said, str) else None
    except ValueError:
        return None


def coded(concept):
    """A coded result as the record writes it: the answer, else the code as written (unreadable)."""
    found = v.answer(concept)
    if found is None:
        return f"{v.label(concept)} (an answer code trialscreen does not know)"
    if isinstance(found, bool):
        return "positive" if found else "negative"
    return found


def lab(obs: dict, name: str) -> dict | None:
    lab: dict = {}
    analyte = vocab.analytes().get(name)
    q = obs.get("valueQuantity")
    if isinstance(q, dict):
        value, comparator = v.number(q.get("value")), str(q.get("comparator") or "").strip()
        if value is None:
            return None
        lab["value"] = f"{comparator}{value}" if comparator else value
        if v.unit(q):
            lab["unit"] = v.unit(q)
    elif "valueCodeableConcept" in obs:
        lab["result" if analyte is not None and analyte.qualitative else "value"] = coded(obs["valueCodeableConcept"])
    elif isinstance(obs.get("valueString"), str):
        lab["value"] = obs["valueString"].strip()
    elif isinstance(obs.get("valueInteger"), int):
        lab["value"] = obs["valueInteger"]
    else:
        return None
    ranges = obs.get("referenceRange")
    first = ranges[0] if isinstance(ranges, list) and ranges and isinstance(ranges[0], dict) else {}
    for part, key in (("high", "uln"), ("low", "lln")):
        limit = first.get(part)
        if isinstance(limit, dict) and limit.get("value") is not None:
            unit = v.unit(limit) or lab.get("unit", "")
            lab[key] = f"{v.number(limit['value'])} {unit}".strip()
    return lab


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


def finding(obs: dict) -> dict:
    entry: dict = {}
    if "valueCodeableConcept" in obs:
        entry["result"] = coded(obs["valueCodeableConcept"])
    elif "valueBoolean" in obs:
        entry["result"] = "detected" if obs["valueBoolean"] else "not detected"
    else:
        entry["result"] = str(obs.get("valueString") or "not done")
    for comp in components(obs):
        if any(v.site(s, c) == ("attribute", "percent") for s, c in v.codings(comp.get("code"))):
            q = v.obj(comp, "valueQuantity")
            if q.get("value") is not None:
                entry["percent"] = v.number(q["value"])
    if v.attributes(obs).get("method") is not None:
        entry["method"] = v.attributes(obs)["method"]
    return entry


def components(obs: dict) -> list:
    """An Observation's components that are objects (a malformed one reads as absent)."""
    listed = obs.get("component")
    return [c for c in listed if isinstance(c, dict)] if isinstance(listed, list) else []


def variant(obs: dict) -> tuple:
    """A genomics-reporting Variant: the finding its ISCN component names (else its gene and copy
    number, else the Observation itself, which nobody can place), detected unless it says Absent."""
    iscn = gene = copies = None
    for comp in components(obs):
        code = comp.get("code")
        if is_genomic(code, "iscn"):
            iscn = comp.get("valueString") or v.obj(comp, "valueCodeableConcept").get("text")
        elif is_genomic(code, "gene"):
            concept = v.obj(comp, "valueCodeableConcept")
            gene = next((c.get("display") for c in v.items(concept, "coding") if isinstance(c, dict)
                         and c.get("display")),
                        concept.get("text"))
        elif is_genomic(code, "copy_number"):
            copies = comp.get("valueInteger", v.obj(comp, "valueQuantity").get("value"))
    said = v.answer(obs.get("valueCodeableConcept")) if "valueCodeableConcept" in obs else "detected"
    words = ("detected", "not detected", "positive", "negative")
    result = said if said in words else coded(obs["valueCodeableConcept"])
    if isinstance(iscn, str) and iscn.strip():
        name = iscn.strip()
    elif gene and copies is not None:
        name = f"{gene} x{v.number(copies)}"
    else:
        name = f"variant {v.label(obs.get('code'))}" + (f" of {gene}" if gene else "")
    return name, {"result": result}

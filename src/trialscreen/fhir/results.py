"""The values of Observations as the record writes them: a lab result, a person field, a
cytogenetic finding, a yes/no answer, a genomics-reporting Variant (docs/fhir.md).

Nothing is judged here: a value is passed on as the resource holds it, for the record reader.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache

from trialscreen import vocab
from trialscreen.fhir import ranges
from trialscreen.fhir import values as v
from trialscreen.patient.fields import FIELDS
from trialscreen.vocab import codes

NOTE = "fhir_note"     # what an entry's Observation could not give, said if the entry is read (settle)


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


def lab(obs: dict, name: str, of: dict | None = None) -> dict | None:
    """A lab result as the record writes it (value or result, unit, ULN and LLN); ``of``: the
    Observation a component belongs to, for the warnings. A unit whose UCUM code and written
    unit disagree makes the result unusable, with the reason the record reader says."""
    lab: dict = {}
    analyte = vocab.analytes().get(name)
    klass = analyte.klass if analyte is not None else None
    q = obs.get("valueQuantity")
    if isinstance(q, dict):
        value, comparator = v.number(q.get("value")), str(q.get("comparator") or "").strip()
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):      # said by the record reader
            return {"unusable": f"{observation_name(of or obs)} gives valueQuantity.value {json.dumps(value)}, "
                                "which is not a number"}
        clash = v.unit_clash(q, klass)
        if clash is not None:
            return {"unusable": f"{observation_name(of or obs)} gives {clash}"}     # the record reader says it
        lab["value"] = f"{comparator}{value}" if comparator else value
        if v.unit(q, klass):
            lab["unit"] = v.unit(q, klass)
        if v.unit_doubt(q, klass) is not None:
            _note(lab, f"{name}: {observation_name(of or obs)} gives {v.unit_doubt(q, klass)}")
    elif "valueCodeableConcept" in obs:
        lab["result" if analyte is not None and analyte.qualitative else "value"] = coded(obs["valueCodeableConcept"])
    elif isinstance(obs.get("valueString"), str):
        lab["value"] = obs["valueString"].strip()
    elif isinstance(obs.get("valueInteger"), int):
        lab["value"] = obs["valueInteger"]
    else:
        return None
    _reference(lab, obs, name, klass, observation_name(of or obs))
    return lab


def _reference(lab: dict, obs: dict, name: str, klass, where: str) -> None:
    """The ULN and LLN of the normal reference range: of the only one given, else chosen when
    the patient's sex and age are known (ranges.choose, through settle)."""
    found = []
    for rng in ranges.normal_ranges(obs):
        limits: dict = {}
        for part, key in (("high", "uln"), ("low", "lln")):
            limit = rng.get(part)
            if isinstance(limit, dict) and limit.get("value") is not None:
                if v.unit_clash(limit, klass) is not None:     # no limit from it; the value is read
                    _note(lab, f"{name}: {where} gives its {key.upper()} in {v.unit_clash(limit, klass)}: "
                               f"no {key.upper()} is read from it")
                    continue
                unit = v.unit(limit, klass) or lab.get("unit", "")
                limits[key] = f"{v.number(limit['value'])} {unit}".strip()
        found.append({"limits": limits, **ranges.conditions(rng)})
    if len(found) == 1 and all(found[0][k] is None for k in ("sex", "age", "other")):
        lab.update(found[0]["limits"])
    elif found:
        lab[ranges.RANGES] = {"of": where, "ranges": found}
    elif v.items(obs, "referenceRange"):
        _note(lab, f"{name}: {where} gives no normal reference range (only others): no ULN or LLN is read")


def _note(lab: dict, note: str) -> None:
    """A warning said if this result is the one read (settle): a lab's NOTE is a list."""
    lab.setdefault(NOTE, []).append(note)


def written_text(obs: dict) -> str | None:
    """An Observation's value written as text: valueString, or the text of a valueCodeableConcept
    that carries no answer code (a FISH result held as text). None when there is none."""
    text = obs.get("valueString")
    concept = v.obj(obs, "valueCodeableConcept")
    if not isinstance(text, str) and v.answer(concept) is None:
        text = concept.get("text")
    return text.strip() if isinstance(text, str) and text.strip() else None


def mentioned_findings(text: str) -> list:
    """The cytogenetic findings a free text names in any spelling of the vocabulary ('Deletion of
    17p (TP53) detected in 22% of nuclei': del(17p)); spellings shorter than 4 characters, which
    a text holds by chance, are left out."""
    findings = vocab.findings()
    folded = re.sub(r"[\s_]+", "", text.lower())
    return sorted({findings.index[key] for key in findings.index if len(key) >= 4 and key in folded})


def unknown_findings(obs: dict, text: str, day) -> list:
    """(finding, an unknown result of it) for each finding a free text under a code nobody lists
    names: the text is not read as a result, and an older one of the finding does not decide."""
    out = []
    for name in mentioned_findings(text):
        entry = {"result": "unknown", NOTE: f"{name}: {observation_name(obs)} under {v.label(obs.get('code'))}, a code "
                                            f"trialscreen does not list, says '{text}': {name} is unknown (give "
                                            "the result under a listed code)"}
        if day is not None:
            entry["date"] = day.isoformat()
        out.append((name, entry))
    return out


def unplaced_lab(obs: dict, notes: list) -> tuple:
    """A laboratory result (category laboratory, or no category and a quantity with a unit) under
    a code nobody lists: (the analyte its code's name gives, an unusable result of it), so an
    older result does not decide; else (None, None) with the code said once in ``notes``."""
    categories = {code for concept in v.items(obs, "category") for _, code in v.codings(concept)}
    if "laboratory" not in categories and (categories or not v.unit(v.obj(obs, "valueQuantity"))):
        return None, None                      # vital signs, surveys: not a lab
    label = v.label(obs.get("code"))
    concept = v.obj(obs, "code")
    names = [concept.get("text")] + [c.get("display") for c in v.items(concept, "coding") if isinstance(c, dict)]
    named = next((found for n in names if isinstance(n, str) for part in _name_parts(n)
                  if (found := vocab.analytes().canonical(part))), None)
    if named is None:
        note = _Unplaced(f"laboratory code {label} is not placed: not read")
        note.label = label
        _say_in(notes, note)
        return None, None
    return named, {"unusable": f"its latest result is under laboratory code {label}, which trialscreen does not "
                               "place (the code's name says it is this test)"}


class _Unplaced(str):
    """The note of a laboratory code nobody places; settle says them all in one line."""
    label = ""


@lru_cache(maxsize=None)
def _other_specimens() -> tuple:
    listed = (vocab.load_file("observations.yaml").get("lab_names") or {}).get("other_specimens") or ()
    return tuple(str(w).lower() for w in listed)


def _name_parts(name: str) -> list:
    """A lab code's name, then the parts of it an analyte's name may be when it is written as a
    LOINC long name ('Creatinine [Moles/volume] in Serum or Plasma', 'Creatinine, serum',
    'Creatinine in Serum or Plasma'): before ' [', ',', ' in ' or ' ('; not for a name that says
    another specimen than blood (urine)."""
    name = name.strip()
    words = set(re.findall(r"[a-z]+", name.lower()))
    if any(set(w.split()) <= words for w in _other_specimens()):
        return [name]
    cuts = (re.split(r"\s+\[", name)[0], name.split(",")[0], re.split(r"\s+in\s+", name, flags=re.I)[0],
            re.split(r"\s+\(", name)[0])
    return list(dict.fromkeys([name] + [c.strip() for c in cuts if c.strip()]))


def _unplaced_in_one_line(notes: list) -> None:
    """The laboratory codes nobody places, said in one line when there are several."""
    unplaced = [n for n in notes if isinstance(n, _Unplaced)]
    if len(unplaced) < 2:
        notes[:] = [str(n) for n in notes]
        return
    at = notes.index(unplaced[0])
    notes[:] = [n for n in notes if not isinstance(n, _Unplaced)]
    notes.insert(at, f"{len(unplaced)} laboratory codes are not placed, so not read: "
                     + ", ".join(n.label for n in unplaced))


def observation_name(obs: dict) -> str:
    """An Observation as a warning names it: by its id, else by its code and date."""
    if isinstance(obs.get("id"), str) and obs["id"].strip():
        return f"Observation {obs['id'].strip()}"
    _, when, _ = v.when(obs, "effective")
    return f"the Observation {v.label(obs.get('code'))}" + (f" of {when}" if when else "")


def settle(record: dict, built, as_of: date) -> None:
    """After the latest of each is written: the reference range of each lab chosen for this
    patient, and what the reader could not use said once (the notes entries carry), a person
    field that cannot be read left out, so that the criteria reading it are unknown."""
    for section in ("labs", "cytogenetics"):
        for name, entry in (record.get(section) or {}).items():
            if not isinstance(entry, dict):
                continue
            said = entry.pop(NOTE, None)
            for note in said if isinstance(said, list) else [said]:
                _say(built, note)
            if ranges.RANGES in entry:
                on = v.day(entry.get("date")) or as_of
                _say(built, ranges.choose(entry, name, record.get("sex"), ranges.age_on(record.get("birth_date"), on)))
    for name in FIELDS:
        said = record.get(name)
        if isinstance(said, dict) and NOTE in said:
            del record[name]
            _say(built, said[NOTE])
    _unplaced_in_one_line(built.notes)


def _say(built, note: str | None) -> None:
    _say_in(built.notes, note)


def _say_in(notes: list, note: str | None) -> None:
    if note and note not in notes:
        notes.append(note)


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

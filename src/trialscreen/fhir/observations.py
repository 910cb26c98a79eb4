"""Observations as labs, person fields, cytogenetics, conditions and attestations (docs/fhir.md).

Of several Observations of one lab, field or finding, the most recent on or before the as-of date
decides (latest local day, then instant, then the later in the file: fhir/latest.py); for a lab or
a field, results whose order cannot be told (an undated one beside dated ones) decide nothing
unless they agree. Nothing dated after the as-of date is read.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from trialscreen import vocab
from trialscreen.fhir import latest as order
from trialscreen.fhir import values as v
from trialscreen.omop.records import FIELD_DAYS
from trialscreen.vocab import codes, iscn
from trialscreen.vocab.iscn_parse import is_iscn

_NOT_READ = ("entered-in-error", "cancelled")
_KARYOTYPE = re.compile(r"\b(?:t|del|dup|inv|der|add|amp|ins|i|idic|ish)\(|^\s*\d{2},\s*X", re.I)
_KINDS = ("analyte", "field", "finding", "condition", "complete", "attestation")


@lru_cache(maxsize=None)
def _genomics(part: str) -> frozenset:
    listed = (vocab.load_file("observations.yaml").get("genomics") or {}).get(part) or {}
    return frozenset((system, str(code)) for system, items in listed.items() for code in items)


def _is(concept, part: str) -> bool:
    wanted = _genomics(part)
    return any((codes.system_of(s), c) in wanted for s, c in v.codings(concept))


class ObservationReader:
    """Collects a patient's Observations, then writes the latest of each into the record."""

    def __init__(self, as_of: date, built):
        self.as_of, self.built = as_of, built
        self.latest: dict = {}          # (section, name) -> (sort key, entry)
        self.attested: set = set()
        self.attestations: dict = {}
        self.seen: dict = {}            # lab or field slot -> every result (key, entry, has a time, date written)
        self.results: dict = {}         # lab slot -> how many results on or before the as-of date
        self.partial: str | None = None   # the partial date of the Observation being read

    def read(self, obs: dict, index: int) -> None:
        if v.status(obs) in _NOT_READ or not any(k.startswith("value") for k in obs) and not obs.get("component"):
            return                      # not a result (dataAbsentReason and no value)
        day, text, _ = v.when(obs, "effective")
        if day is not None and day > self.as_of:
            return                      # not happened yet on the as-of date
        span = v.partial(text) if day is None else None
        if span is not None and span[0] > self.as_of:
            return
        # a partial date sorts as late as it may be, and its result cannot be used (dated 2025-05)
        latest = day if span is None else min(span[1], self.as_of)
        key = order.sort_key(latest, text, index, day)
        self.partial = text if span is not None else None
        placed = v.place(obs.get("code"), _KINDS)
        if placed is None:
            self._unplaced(obs, key, day)
            return
        kind, name = placed
        if kind == "analyte":
            known = vocab.analytes().get(name)
            name = known.name if known is not None else name    # one slot per analyte, however named
            entry = _lab(obs, name)
            if entry is not None and day is not None:
                entry["date"] = day.isoformat()
            self._keep(("labs", name), key, entry, obs)
        elif kind == "field":
            self._keep(("fields", name), key, _field(obs, name), obs)
        elif kind == "finding":
            entry = _finding(obs)
            if day is not None:
                entry["date"] = day.isoformat()
            self._keep(("cytogenetics", vocab.findings().canonical(name) or name), key, entry, obs)
        elif kind == "condition":
            present = _answered(obs)
            entry = {"present": present if present is not None else "unknown"}
            if day is not None:
                entry["date"] = day.isoformat()
            self._keep(("conditions", name), key, entry, obs)
        elif kind in ("complete", "attestation") and _answered(obs) is not None:
            self._keep((kind, vocab.name_key(name)), key, {"said": _answered(obs)}, obs)   # the latest decides

    def _keep(self, slot: tuple, key: tuple, entry, obs: dict) -> None:
        if entry is None:
            entry = {"unusable": "a result trialscreen cannot read (not a quantity, a text or a coded "
                                 "answer)"} if slot[0] == "labs" else None
        if entry is None:
            return
        if self.partial and isinstance(entry, dict):
            entry["date"] = self.partial          # the record reader refuses it: the result is unusable
        if slot not in self.latest or self.latest[slot][0] <= key:
            self.latest[slot] = (key, entry, v.status(obs) == "preliminary")
        if slot[0] == "labs":
            self.results[slot] = self.results.get(slot, 0) + 1
        if slot[0] in ("labs", "fields"):
            written = str(v.when(obs, "effective")[1])
            self.seen.setdefault(slot, []).append((key, entry, key[0] and "T" in written, written))

    def _undecided(self) -> None:
        """Results of a lab or field that differ and whose order cannot be told (two of the latest
        day, one without its time; one with no readable date beside dated ones): none decides. The
        lab is unusable, the field is not read, and a warning says why."""
        for slot, seen in self.seen.items():
            key, entry, _ = self.latest[slot]
            why = order.undecided(seen, key, entry)
            if why is None:
                continue
            section, name = slot
            if section == "labs":
                # the record reader warns with the reason, and the criteria that need the lab give it
                self.latest[slot] = (key, {"unusable": f"{why}; none of them decides",
                                           **({"date": key[1].isoformat()} if key[0] else {})}, False)
            else:
                del self.latest[slot]
                self.built.notes.append(f"{name}: {why}; none of them decides (not read)")

    def _unplaced(self, obs: dict, key: tuple, day) -> None:
        """A cytogenetic result under a code the vocabularies do not list: a genomics-reporting
        Variant, or any Observation whose value is a nuc ish result. Anything else is not read."""
        text = obs.get("valueString")
        if _is(obs.get("code"), "variant"):
            name, entry = _variant(obs)
        elif isinstance(text, str) and is_iscn(text):
            name, entry = text.strip(), {"result": "detected"}     # the nuc ish text says what it found
        elif isinstance(text, str) and _KARYOTYPE.search(text):
            # a karyotype or ISCN text under a code nobody lists: a finding the reader cannot rule
            # out (t(4;14) in '46,XX,t(4;14)(p16;q32)[20]'), never dropped
            name, entry = text.strip(), {"result": "detected"}
        else:
            return
        if day is not None:
            entry["date"] = day.isoformat()
        self._keep(("cytogenetics", vocab.findings().canonical(name) or name), key, entry, obs)

    def _newest_cytogenetics(self) -> None:
        """A nuc ish result and a named finding it also reports: the later one decides (a FISH
        from May over a 'not detected' of last year), so they never contradict each other."""
        slots = {name: slot for slot in self.latest for section, name in [slot] if section == "cytogenetics"}
        for text, slot in list(slots.items()):
            if not is_iscn(text) or slot not in self.latest:
                continue
            try:
                concerned = {f for reading in iscn.read(text) for f in reading.concerned()}
            except iscn.IscnError:
                continue
            for name, other in slots.items():
                canonical = vocab.findings().canonical(name) or name
                if other == slot or is_iscn(name) or canonical not in concerned or other not in self.latest:
                    continue
                older = other if self.latest[other][0] < self.latest[slot][0] else slot
                del self.latest[older]
                if older == slot:
                    break

    def finish(self, record: dict) -> set:
        """Write the latest of each into ``record``; the sections attested complete."""
        self._newest_cytogenetics()
        self._undecided()
        fields: dict = {}
        for (section, name), (key, entry, preliminary) in sorted(self.latest.items(), key=lambda kv: kv[0]):
            if preliminary:
                self.built.notes.append(f"{name}: the result read is preliminary (status 'preliminary')")
            if section == "fields":
                fields[name] = (key, entry)
            elif section == "complete":
                if entry["said"] is True:
                    self.attested.add(name)
            elif section == "attestation":
                self.attestations[name] = entry["said"]
            else:
                if section == "labs" and self.results.get((section, name), 1) > 1:
                    entry = {**entry, "earlier": self.results[(section, name)] - 1}   # named in the explanation
                record.setdefault(section, {})[name] = entry
        for name, (key, value) in fields.items():
            when = key[-1]
            if name == "age" and when != self.as_of:
                continue                 # an age holds on the day it was recorded
            if when is None or (self.as_of - when).days > FIELD_DAYS:
                self.built.notes.append(f"{name} recorded more than {FIELD_DAYS} days before the as-of date "
                                        "(or undated): not read")
                continue
            record[name] = value
        if self.attestations:
            record["attestations"] = dict(self.attestations)
        return set(self.attested)


def _answered(obs: dict):
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


def _coded(concept):
    """A coded result as the record writes it: the answer, else the code as written (unreadable)."""
    found = v.answer(concept)
    if found is None:
        return f"{v.label(concept)} (an answer code trialscreen does not know)"
    if isinstance(found, bool):
        return "positive" if found else "negative"
    return found


def _lab(obs: dict, name: str) -> dict | None:
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
        lab["result" if analyte is not None and analyte.qualitative else "value"] = _coded(obs["valueCodeableConcept"])
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


def _field(obs: dict, name: str):
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
        return found if found is not None else _coded(obs["valueCodeableConcept"])
    return obs.get("valueString")


def _finding(obs: dict) -> dict:
    entry: dict = {}
    if "valueCodeableConcept" in obs:
        entry["result"] = _coded(obs["valueCodeableConcept"])
    elif "valueBoolean" in obs:
        entry["result"] = "detected" if obs["valueBoolean"] else "not detected"
    else:
        entry["result"] = str(obs.get("valueString") or "not done")
    for comp in _components(obs):
        if any(v.site(s, c) == ("attribute", "percent") for s, c in v.codings(comp.get("code"))):
            q = v.obj(comp, "valueQuantity")
            if q.get("value") is not None:
                entry["percent"] = v.number(q["value"])
    if v.attributes(obs).get("method") is not None:
        entry["method"] = v.attributes(obs)["method"]
    return entry


def _components(obs: dict) -> list:
    """An Observation's components that are objects (a malformed one reads as absent)."""
    listed = obs.get("component")
    return [c for c in listed if isinstance(c, dict)] if isinstance(listed, list) else []


def _variant(obs: dict) -> tuple:
    """A genomics-reporting Variant: the finding its ISCN component names (else its gene and copy
    number, else the Observation itself, which nobody can place), detected unless it says Absent."""
    iscn = gene = copies = None
    for comp in _components(obs):
        code = comp.get("code")
        if _is(code, "iscn"):
            iscn = comp.get("valueString") or v.obj(comp, "valueCodeableConcept").get("text")
        elif _is(code, "gene"):
            concept = v.obj(comp, "valueCodeableConcept")
            gene = next((c.get("display") for c in v.items(concept, "coding") if isinstance(c, dict)
                         and c.get("display")),
                        concept.get("text"))
        elif _is(code, "copy_number"):
            copies = comp.get("valueInteger", v.obj(comp, "valueQuantity").get("value"))
    said = v.answer(obs.get("valueCodeableConcept")) if "valueCodeableConcept" in obs else "detected"
    words = ("detected", "not detected", "positive", "negative")
    result = said if said in words else _coded(obs["valueCodeableConcept"])
    if isinstance(iscn, str) and iscn.strip():
        name = iscn.strip()
    elif gene and copies is not None:
        name = f"{gene} x{v.number(copies)}"
    else:
        name = f"variant {v.label(obs.get('code'))}" + (f" of {gene}" if gene else "")
    return name, {"result": result}

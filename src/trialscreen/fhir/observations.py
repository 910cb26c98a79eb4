"""Observations as labs, person fields, cytogenetics, conditions and attestations (docs/fhir.md).

Of several Observations of one lab, field or finding, the most recent on or before the as-of date
decides (latest local day, then instant, then the later in the file: fhir/latest.py); for a lab or
a field, results whose order cannot be told (an undated one beside dated ones) decide nothing
unless they agree. Nothing dated after the as-of date is read.
"""

from __future__ import annotations

import re
from datetime import date

from trialscreen import vocab
from trialscreen.fhir import latest as order
from trialscreen.fhir import values as v
from trialscreen.fhir.fields import field as _field
from trialscreen.fhir.results import answered as _answered
from trialscreen.fhir.results import (
    components,
    is_genomic,
    mentioned_findings,
    unknown_findings,
    unplaced_lab,
    variant,
    written_text,
)
from trialscreen.fhir.results import finding as _finding
from trialscreen.fhir.results import lab as _lab
from trialscreen.omop.records import FIELD_DAYS
from trialscreen.vocab import iscn
from trialscreen.vocab.iscn_parse import is_iscn

_NOT_READ = ("entered-in-error", "cancelled")
_KARYOTYPE = re.compile(r"\b(?:t|del|dup|inv|der|add|amp|ins|i|idic|ish)\(|^\s*\d{2},\s*X", re.I)
_KINDS = ("analyte", "field", "finding", "condition", "complete", "attestation")


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
            self.seen.setdefault(slot, []).append((key, entry, v.clock(written) if key[0] else None, written))

    def _undecided(self) -> None:
        """Results of a lab or field that differ and whose order cannot be told (two of the latest
        day, one without its time; one with no readable date beside dated ones): none decides. The
        lab is unusable, the field is not read, and a warning says why."""
        for slot, seen in self.seen.items():
            key, entry, _ = self.latest[slot]
            why = order.undecided(seen, key, entry, vocab.analytes().get(slot[1]) if slot[0] == "labs" else None)
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
        """An Observation under a code the vocabularies do not list. A cytogenetic result is read:
        a genomics-reporting Variant, or a nuc ish or karyotype text (valueString, or the text of a
        valueCodeableConcept). A panel's components under lab codes are read as those labs, dated
        by the panel. Else free text naming a cytogenetic finding makes it unknown, and a
        laboratory result is said once and not read (unplaced_lab)."""
        text = written_text(obs)
        if is_genomic(obs.get("code"), "variant"):
            name, entry = variant(obs)
        elif text is not None and (is_iscn(text) or _KARYOTYPE.search(text)):
            # the nuc ish text says what it found; a karyotype under a code nobody lists is a
            # finding the reader cannot rule out (t(4;14) in '46,XX,t(4;14)(p16;q32)[20]'), never dropped
            name, entry = text, {"result": "detected"}
        elif self._components(obs, key, day):
            return
        elif text is not None and mentioned_findings(text):
            for name, entry in unknown_findings(obs, text, day):
                self._keep(("cytogenetics", name), key, entry, obs)
            return
        else:
            slot, entry = unplaced_lab(obs, self.built.notes)
            if slot is not None:
                if day is not None:
                    entry["date"] = day.isoformat()
                self._keep(("labs", slot), key, entry, obs)
            return
        if day is not None:
            entry["date"] = day.isoformat()
        self._keep(("cytogenetics", vocab.findings().canonical(name) or name), key, entry, obs)

    def _components(self, obs: dict, key: tuple, day) -> bool:
        """A panel's components under lab codes, each read as a result of its analyte dated by
        the panel (creatinine in a metabolic panel). Whether any was."""
        placed = False
        for comp in components(obs):
            found = v.place(comp.get("code"), ("analyte",))
            known = vocab.analytes().get(found[1]) if found is not None else None
            if known is None:
                continue
            entry, placed = _lab(comp, known.name, obs), True
            if entry is not None and day is not None:
                entry["date"] = day.isoformat()
            self._keep(("labs", known.name), key, entry, obs)
        return placed

    def _newest_cytogenetics(self) -> None:
        """A nuc ish result and a named finding it also reports, or two nuc ish results of one
        finding: the later one decides (a FISH from May over a 'not detected' of last year, or
        over last year's FISH), so they never contradict each other."""
        slots = {name: slot for slot in self.latest for section, name in [slot] if section == "cytogenetics"}
        for text, slot in list(slots.items()):
            concerned = _concerned(text)
            if not concerned or slot not in self.latest:
                continue
            for name, other in slots.items():
                canonical = vocab.findings().canonical(name) or name
                reports = concerned & _concerned(name) if is_iscn(name) else canonical in concerned
                if other == slot or not reports or other not in self.latest:
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


def _concerned(text: str) -> set:
    """The findings a nuc ish result reports on (detected or not); none for any other name."""
    if not is_iscn(text):
        return set()
    try:
        return {f for reading in iscn.read(text) for f in reading.concerned()}
    except iscn.IscnError:
        return set()

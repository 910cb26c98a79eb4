"""Medication statements, requests and administrations, and procedures, as treatments (docs/fhir.md).

A medication is placed by its RxNorm or ATC code (else by its Medication's ingredients); the drug
vocabulary says which treatment type an exposure to it is. A medication nobody can place is a
treatment of unknown type, so rules about treatments are unknown, and its code is reported once.
A procedure nobody can place is read only when the treatment list is attested complete.
"""

from __future__ import annotations

from datetime import date, timedelta

from trialscreen import vocab
from trialscreen.fhir import values as v
from trialscreen.vocab import codes

_NOT_TAKEN = ("entered-in-error", "cancelled", "draft", "not-taken", "not-done", "intended", "declined",
              "preparation")
_NOT_GIVEN = ("proposal", "plan")
_ONGOING = ("active", "in-progress", "on-hold")
# exposures of one drug less than this apart are one course (OHDSI's drug era persistence window)
ERA_GAP_DAYS = 30


class MedicationReader:
    def __init__(self, as_of: date, built, medications: dict):
        self.as_of, self.built, self.medications = as_of, built, medications
        self.treatments: list = []                # from procedures
        self.exposures: list = []                 # from medications: joined into courses at the end
        self.unplaced_procedures: list = []       # (label, entry): read when the list is attested complete

    def read(self, res: dict, index: int) -> None:
        if v.status(res) in _NOT_TAKEN:
            return
        if res.get("resourceType") == "MedicationRequest" and v.status(res, "intent") in _NOT_GIVEN:
            return
        start, end = self._period(res)
        entry = self._dated(start, end, v.status(res) in _ONGOING)
        if entry is None:
            return
        by_type: dict = {}
        for kind_of, drug in self._drugs(res):
            item = by_type.setdefault(kind_of, {"type": kind_of, **entry, "drugs": []})
            if drug:
                item["drugs"].append(drug)
        for item in by_type.values():
            if not item["drugs"]:
                del item["drugs"]
            self.exposures.append(item)

    def _period(self, res: dict) -> tuple:
        """(start, end) texts. A request or a dispense says when the drug was ordered or handed
        over, not until when it was taken: its end is the latest of the dosage's bounds, the
        supply it gives and its validity ('' when none says: ongoing)."""
        kind = res.get("resourceType")
        if kind not in ("MedicationRequest", "MedicationDispense"):
            return v.period(res, "effective")
        dispense = v.obj(res, "dispenseRequest")
        validity = v.obj(dispense, "validityPeriod")
        start = str(res.get("authoredOn") or validity.get("start") or "") if kind == "MedicationRequest" else \
            str(res.get("whenHandedOver") or res.get("whenPrepared") or "")
        ends = [str(validity.get("end") or "")]
        for dose in v.items(res, "dosageInstruction"):
            timing = (dose.get("timing") or {}) if isinstance(dose, dict) else {}
            bounds = (timing.get("repeat") or {}).get("boundsPeriod") if isinstance(timing, dict) else None
            ends.append(str((bounds or {}).get("end") or "") if isinstance(bounds, dict) else "")
        supply = dispense.get("expectedSupplyDuration") or res.get("daysSupply")
        first = v.day(start)
        if first is not None and isinstance(supply, dict) and isinstance(supply.get("value"), (int, float)):
            days = supply["value"] * (7 if supply.get("code") == "wk" else 1) * (1 + int(dispense.get(
                "numberOfRepeatsAllowed") or 0))
            ends.append((first + timedelta(days=min(days, 36_500))).isoformat())
        dated = [e for e in ends if v.day(e) is not None]
        return start, max(dated, key=lambda e: v.day(e) or date.min) if dated else ""

    def _dated(self, start: str, end: str, ongoing: bool) -> dict | None:
        """The dates of a treatment: a day, or a start and an end that has happened by the as-of
        date; None when it starts after the as-of date."""
        first, last = v.day(start), v.day(end)
        if first is not None and first > self.as_of:
            return None
        if first is None:           # an end alone dates the treatment by its end, as a record does
            return {"end": last.isoformat()} if last is not None and last <= self.as_of and not ongoing else {}
        if start == end and not ongoing:
            return {"date": first.isoformat()}
        out = {"start": first.isoformat()}
        if last is not None and last <= self.as_of and not ongoing:
            out["end"] = last.isoformat()
        return out

    def _drugs(self, res: dict) -> list:
        """(treatment type, drug name) of each ingredient a medication places; a drug that is no
        treatment gives nothing."""
        concept = res.get("medicationCodeableConcept")
        medication = None
        if concept is None:
            medication = self._medication(res)
            concept = (medication or {}).get("code")
        found = _drug(concept)
        if found is None and medication is not None:
            parts = [_drug(i.get("itemCodeableConcept")) for i in v.items(medication, "ingredient")
                     if isinstance(i, dict)]
            if parts and all(p is not None for p in parts):
                return [row for p in parts for row in p or ()]
        if found is None:
            label = v.label(concept)
            self.built.unplaced.append(("drug", label))
            return [(f"unplaced drug {label}", "")]
        return found

    def _medication(self, res: dict) -> dict | None:
        ref = v.reference_id(res.get("medicationReference"))
        if ref.startswith("#"):
            return next((c for c in v.items(res, "contained") if isinstance(c, dict)
                         and c.get("resourceType") == "Medication" and c.get("id") == ref[1:]), None)
        return next((self.medications[k] for k in v.ref_keys(ref) if k in self.medications), None)

    def procedure(self, res: dict, index: int) -> None:
        if v.status(res) in ("not-done", "entered-in-error", "preparation"):
            return                   # not done, or not begun
        start, end = v.period(res, "performed")
        entry = self._dated(start, end, v.status(res) == "in-progress")
        if entry is None:
            return
        placed = v.place(res.get("code"), ("treatment",))
        if placed is None:
            label = v.label(res.get("code"))
            self.unplaced_procedures.append((label, {"type": f"unplaced procedure {label}", **entry}))
            return
        self.treatments.append({"type": placed[1], **entry, **v.attributes(res)})

    def finish(self, record: dict, listed: bool) -> None:
        """The treatments into ``record``; with the treatment list attested complete, a procedure
        nobody can place too, as a treatment of unknown type (the list must not pretend to be
        complete)."""
        treatments = courses(self.exposures) + self.treatments
        if listed:
            for label, entry in self.unplaced_procedures:
                self.built.unplaced.append(("procedure", label))
                treatments.append(entry)
        if treatments:
            record.setdefault("treatments", []).extend(treatments)


def _drug(concept) -> list | None:
    """[(treatment type, drug)] of a medication code: a listed drug with the type an exposure to
    it is (a type a person must judge, such as a glucocorticoid's, named so), an ATC class that is
    a treatment type, [] for a drug that is no treatment; None when nothing places it."""
    placed = v.place(concept, ("drug", "treatment"))
    if placed is None:
        return None
    kind, name = placed
    if kind == "treatment":
        return [(vocab.treatments().canonical(name) or name, "")]
    canonical = vocab.drugs().canonical(name)
    if canonical is None:          # a site code naming a drug the vocabulary does not know
        return [(f"{name} (treatment type not recorded)", "?" + name)]
    treatment = codes.drug_treatment(canonical)
    if treatment is None:
        return []
    if treatment == "ask":
        return [(f"{canonical} (treatment type not recorded)", canonical)]
    return [(treatment, canonical)]


def courses(exposures: list) -> list:
    """Exposures of the same type and drugs, each less than ERA_GAP_DAYS after the previous one
    ended (or while it is ongoing), joined into one course from the first start to the last end
    (ongoing if any is). A course covers its short gaps, so a rule about recent treatment reads it
    as no shorter than the exposures; undated exposures are kept once each."""
    groups: dict = {}
    for item in exposures:
        groups.setdefault((item["type"], tuple(item.get("drugs") or ())), []).append(item)
    out: list = []
    for items in groups.values():
        undated = [i for i in items if not (i.get("date") or i.get("start"))]
        out += [dict(t) for t in {tuple(sorted((k, tuple(x) if isinstance(x, list) else x) for k, x in i.items())): i
                                  for i in undated}.values()]
        spans = sorted(((i.get("start") or i["date"], i.get("end") or i.get("date"), i) for i in items
                        if i.get("date") or i.get("start")), key=lambda s: s[0])
        current: list = []
        for start, end, item in spans:
            if current and (current[1] is None or date.fromisoformat(start) <= date.fromisoformat(current[1])
                            + timedelta(days=ERA_GAP_DAYS)):
                current[1] = None if current[1] is None or end is None else max(current[1], end)
                continue
            if current:
                out.append(_course(*current))
            current = [start, end, item]
        if current:
            out.append(_course(*current))
    return out


def _course(start: str, end: str | None, item: dict) -> dict:
    course = {k: x for k, x in item.items() if k not in ("date", "start", "end")}
    if end == start and item.get("date"):
        course["date"] = start
    else:
        course["start"] = start
        if end is not None:
            course["end"] = end
    return course

"""Medication statements, requests and administrations, and procedures, as treatments (docs/fhir.md).

A medication is placed by its RxNorm or ATC code (else by its Medication's ingredients); the drug
vocabulary says which treatment type an exposure to it is. A medication nobody can place is a
treatment of unknown type, so rules about treatments are unknown, and its code is reported once.
A procedure nobody can place is read only when the treatment list is attested complete.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache

from trialscreen import vocab
from trialscreen.fhir import values as v
from trialscreen.vocab import codes

_NOT_TAKEN = ("entered-in-error", "cancelled", "draft", "not-taken", "not-done", "intended", "declined",
              "preparation")
_NOT_GIVEN = ("proposal", "plan", "option")     # intents that order nothing
_ONGOING = ("active", "in-progress", "on-hold")
DAY = 86_400                               # seconds
MAX_DAYS = 36_500                          # a longer supply is read as this long
# exposures of one drug less than this apart are one course (OHDSI's drug era persistence window)
ERA_GAP_DAYS = 30
UNKNOWN = "unknown"                        # the end of a course that ended on a day nobody recorded


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
        start, end, why = self._period(res)
        ongoing = v.status(res) in _ONGOING
        if not ongoing and not why and v.day(end) is None:
            # it has stopped or been completed (or says neither), and nobody says when
            why = f"status is '{v.status(res) or '(none)'}', with no end date"
        # an end that was written but cannot be read ended it too (a request's supply in no unit
        # of time while it is active does not: the order is still active)
        ended = bool(why) and (not ongoing or res.get("resourceType") not in ("MedicationRequest",
                                                                              "MedicationDispense"))
        entry = self._dated(start, "" if ended else end, ended or ongoing)
        if entry is None:
            return
        if ended:
            entry["end"] = UNKNOWN      # one item: it ended on a day nobody recorded (README)
        drugs = self._drugs(res)
        bad_start = f"start is not a date ({_shown(start)})" if start.strip() and v.day(start) is None else ""
        if ended or bad_start:
            self._unknown_end(res, drugs, "; ".join(w for w in (bad_start, why if ended else "") if w),
                              v.day(start) is not None)
        by_type: dict = {}
        for kind_of, drug in drugs:
            item = by_type.setdefault(kind_of, {"type": kind_of, **entry, "drugs": []})
            if drug:
                item["drugs"].append(drug)
        for item in by_type.values():
            if not item["drugs"]:
                del item["drugs"]
            self.exposures.append(item)

    def _unknown_end(self, res: dict, drugs: list, why: str, dated: bool) -> None:
        """The warning that a medication's end (or its start) is unknown, once per patient for the
        same words (no id or date, so a batch's summary counts the patients it concerns); none for a
        drug nobody placed, which is warned about already and makes the rules about treatments
        unknown."""
        names = [d.lstrip("?") for kind, d in drugs if not kind.startswith("unplaced ")]
        names = [n for n in names if n] or [kind for kind, _ in drugs if not kind.startswith("unplaced ")]
        if not names:
            return
        what = "when it ended is unknown (read as ended on a day nobody recorded, after its start and on " \
            "or before the as-of date)" if dated else "when it was taken is unknown (read with no date)"
        note = f"{', '.join(dict.fromkeys(names))}: a {res.get('resourceType')} whose {why}: {what}"
        if note not in self.built.notes:
            self.built.notes.append(note)

    def _period(self, res: dict) -> tuple:
        """(start, end, why) texts. A request or a dispense says when the drug was ordered or handed
        over, not until when it was taken: its end is the latest of the dosage's bounds, the
        supply it gives and its validity ('' when none says: ongoing). ``why``: what makes the end
        unknown (an element of the wrong shape, a duration in no unit of time), '' when nothing
        does; then ``end`` is the latest end that could be read, the earliest it may have been."""
        kind = res.get("resourceType")
        problems: list = []
        if kind not in ("MedicationRequest", "MedicationDispense"):
            start, end = v.period(res, "effective")
            if end != start:
                end = _end(end, "effectivePeriod.end", problems)
            elif kind == "MedicationStatement" and v.status(res) == "stopped" and not isinstance(
                    res.get("effectivePeriod"), dict):
                # a course stopped, dated by one day: when it began, not when it stopped
                return start, "", "status is 'stopped', with one date and no end date"
            return start, end, "; ".join(problems)
        request = kind == "MedicationRequest"
        dispense = _part(res, "dispenseRequest", problems, "") if request else {}
        validity = _part(dispense, "validityPeriod", problems, "dispenseRequest.")
        start = str(res.get("authoredOn") or validity.get("start") or "") if request else \
            str(res.get("whenHandedOver") or res.get("whenPrepared") or "")
        first = v.day(start)
        ends = [_end(validity.get("end"), "dispenseRequest.validityPeriod.end", problems)]
        ends += _bounds(res, first, problems)
        ends.append(_supply(res, dispense, request, first, problems))
        dated = [e for e in ends if v.day(e) is not None]
        end = max(dated, key=lambda e: v.day(e) or date.min) if dated else ""
        return start, end, "; ".join(dict.fromkeys(problems))

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
        ongoing = v.status(res) in ("in-progress", "on-hold")
        ended = not ongoing and isinstance(res.get("performedPeriod"), dict) and v.day(start) is not None \
            and v.day(end) is None     # done, from a start, until a day nobody recorded
        entry = self._dated(start, "" if ended else end, ongoing or ended)
        if entry is None:
            return
        if ended:
            entry["end"] = UNKNOWN
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


def _part(parent: dict, key: str, problems: list, where: str) -> dict:
    """``parent[key]``, an object: {} when it is absent, and a problem when it is anything else."""
    found = parent.get(key) if isinstance(parent, dict) else None
    if found is not None and not isinstance(found, dict):
        problems.append(f"{where}{key} is not an object ({_shown(found)})")
    return found if isinstance(found, dict) else {}


def _end(text, where: str, problems: list) -> str:
    """An end date-time as written, '' when absent; one that is not a full date is a problem."""
    if text is None or text == "":
        return ""
    if v.day(text) is None:
        problems.append(f"{where} is not a date ({_shown(text)})")
        return ""
    return str(text)


def _bounds(res: dict, first: date | None, problems: list) -> list:
    """The ends the dosage instructions give: each ``timing.repeat`` bound (a period's end, a
    duration or a range's high from ``first``)."""
    doses = res.get("dosageInstruction")
    if doses is not None and not isinstance(doses, list):
        problems.append(f"dosageInstruction is not a list ({_shown(doses)})")
    ends: list = []
    for i, dose in enumerate(doses if isinstance(doses, list) else ()):
        where = f"dosageInstruction[{i}]."
        if not isinstance(dose, dict):
            problems.append(f"{where[:-1]} is not an object ({_shown(dose)})")
            continue
        timing = _part(dose, "timing", problems, where)
        repeat = _part(timing, "repeat", problems, where + "timing.")
        where += "timing.repeat."
        ends.append(_end(_part(repeat, "boundsPeriod", problems, where).get("end"), where + "boundsPeriod.end",
                         problems))
        if "boundsDuration" in repeat:
            ends.append(_after(first, repeat["boundsDuration"], 1, where + "boundsDuration", problems))
        if "boundsRange" in repeat:
            high = _part(repeat, "boundsRange", problems, where).get("high")
            ends.append(_after(first, high, 1, where + "boundsRange.high", problems))
    return ends


def _supply(res: dict, dispense: dict, request: bool, first: date | None, problems: list) -> str:
    """The end of the supply: a request's expected supply times one plus the repeats allowed,
    a dispense's days supply (a number with no unit is days, as its name says)."""
    if not request:
        quantity = res.get("daysSupply")
        return "" if quantity is None else _after(first, quantity, 1, "daysSupply", problems, unitless=DAY)
    quantity = dispense.get("expectedSupplyDuration")
    if quantity is None:
        return ""
    repeats = dispense.get("numberOfRepeatsAllowed")
    if repeats is None:
        repeats = 0
    elif isinstance(repeats, bool) or not isinstance(repeats, (int, float)) or repeats < 0 \
            or not float(repeats).is_integer():
        problems.append(f"dispenseRequest.numberOfRepeatsAllowed is not a number of repeats ({_shown(repeats)})")
        repeats = 0             # at least the one supply
    return _after(first, quantity, 1 + int(repeats), "dispenseRequest.expectedSupplyDuration", problems)


def _after(first: date | None, quantity, times: int, where: str, problems: list, unitless=None) -> str:
    """``first`` plus ``times`` the Duration ``quantity``, rounded up to a whole day (so a course
    ends later, never earlier, than it says); '' with a problem when the duration cannot be read."""
    seconds = duration_seconds(quantity, unitless)
    if seconds is None:
        problems.append(f"{where} is not a duration in a unit of time ({_shown(quantity)})")
        return ""
    if first is None:
        return ""
    days = min(math.ceil(seconds * times / DAY), MAX_DAYS)
    try:
        return (first + timedelta(days=days)).isoformat()
    except OverflowError:
        return date.max.isoformat()


def duration_seconds(quantity, unitless: int | None = None) -> Fraction | None:
    """A Duration (a Quantity of time) in seconds: its UCUM code (with the UCUM system, or none),
    else its unit as written (durations.yaml); ``unitless`` seconds a unit for one with neither.
    None when it cannot be read: no number, a negative one, a unit that is not of time, or a code
    and a unit that disagree."""
    if not isinstance(quantity, dict):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    by_code, by_word = _time_units()
    code, text = quantity.get("code"), quantity.get("unit")
    code = code.strip() if isinstance(code, str) and str(quantity.get("system") or v.UCUM).strip() == v.UCUM \
        else None
    text = text.strip().lower() if isinstance(text, str) and text.strip() else None
    if code:
        unit = by_code.get(code)
        if unit is None or (text is not None and by_word.get(text, unit) != unit):
            return None
    elif text is not None:
        unit = by_word.get(text)
    elif quantity.get("code") is None and quantity.get("system") is None:
        unit = unitless
    else:
        unit = None
    return None if unit is None else Fraction(value) * unit


@lru_cache(maxsize=1)
def _time_units() -> tuple:
    """(UCUM code -> seconds, written unit -> seconds), from durations.yaml."""
    data = vocab.load_file("durations.yaml")
    by_code = {str(code): int(seconds) for code, seconds in data["ucum"].items()}
    by_word = {code.lower(): seconds for code, seconds in by_code.items()}
    for code, words in data["words"].items():
        by_word.update({str(w).lower(): by_code[str(code)] for w in words})
    return by_code, by_word


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


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
    (ongoing if any is, of an unknown end if the last joined has one; an exposure after an unknown
    end begins another course). A course covers its short gaps, so a rule about recent treatment reads it
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
            # after a course that ended on a day nobody recorded, whether the gap was short is unknown
            if current and current[1] != UNKNOWN and (current[1] is None or date.fromisoformat(start)
                                                      <= date.fromisoformat(current[1]) + timedelta(days=ERA_GAP_DAYS)):
                current[1] = None if current[1] is None or end is None else UNKNOWN if end == UNKNOWN else \
                    max(current[1], end)
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

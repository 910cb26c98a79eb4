"""Which of an Observation's reference ranges gives a lab's ULN and LLN (docs/fhir.md, "Labs").

A range whose ``type`` is not the normal range (a therapeutic or critical one) is no ULN. A range
whose ``appliesTo`` names the other sex, or whose ``age`` leaves the patient out, does not apply;
one whose ``appliesTo`` or ``age`` the reader cannot check gives no limits of its own. Of the
ranges left, one gives the limits; several that differ give none (a criterion that needs the ULN
is unknown), and the run says why. The codes are those of vocab/observations.yaml
(``reference_range``).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from trialscreen import vocab
from trialscreen.fhir import values as v
from trialscreen.vocab import codes

RANGES = "fhir_ranges"       # an entry's ranges still to choose from, until the patient is known
_YEARS = {"a": 1.0, "y": 1.0, "yr": 1.0, "yrs": 1.0, "year": 1.0, "years": 1.0,
          "mo": 1 / 12, "month": 1 / 12, "months": 1 / 12,
          "wk": 7 / 365.25, "week": 7 / 365.25, "weeks": 7 / 365.25,
          "d": 1 / 365.25, "day": 1 / 365.25, "days": 1 / 365.25}


@lru_cache(maxsize=None)
def _data() -> dict:
    return vocab.load_file("observations.yaml").get("reference_range") or {}


def _listed(concept, listed: dict) -> bool:
    """Whether a concept carries one of the ``listed`` codes (system -> codes) or ``words``."""
    for system, code in v.codings(concept):
        if code in {str(c) for c in listed.get(codes.system_of(system) or system, ())}:
            return True
    words = {str(w).lower() for w in listed.get("words", ())}
    written = [concept.get("text")] + [c.get("display") for c in v.items(concept, "coding") if isinstance(c, dict)]
    return any(isinstance(w, str) and w.strip().lower() in words for w in written)


def _normal(rng: dict) -> bool:
    """A range with no type, or of the normal type: the one a ULN comes from."""
    kind = rng.get("type")
    if kind is None:
        return True
    listed = {**(_data().get("normal_type") or {}), "words": _data().get("normal_words") or ()}
    return isinstance(kind, dict) and _listed(kind, listed)


def _years(quantity) -> float | None:
    if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), (int, float)):
        return None
    for spelling in (quantity.get("code"), quantity.get("unit")):
        if isinstance(spelling, str) and spelling.strip().lower() in _YEARS:
            return float(quantity["value"]) * _YEARS[spelling.strip().lower()]
    return None


def conditions(rng: dict) -> dict:
    """Whom a range is for: ``sex`` (male, female or None), ``age`` ([low, high] in years, None
    for no bound) and ``other`` (an appliesTo or an age the reader cannot check, as a warning
    names it; None when there is none)."""
    said: dict = {"sex": None, "age": None, "other": None}
    unchecked = []
    for concept in v.items(rng, "appliesTo"):
        sex = next((s for s, listed in (_data().get("sex") or {}).items()
                    if isinstance(concept, dict) and _listed(concept, listed)), None)
        if sex is None:
            unchecked.append(f"appliesTo {v.label(concept)}")     # a race, a pregnancy: cannot be checked
        else:
            said["sex"] = sex
    age = rng.get("age")
    if isinstance(age, dict):
        low, high = age.get("low"), age.get("high")
        bounds = [_years(low) if low is not None else None, _years(high) if high is not None else None]
        if (low is not None and bounds[0] is None) or (high is not None and bounds[1] is None):
            unchecked.append("age " + " to ".join(_shown(q) for q in (low, high) if q is not None))
        else:
            said["age"] = bounds
    if unchecked:
        said["other"] = ", ".join(unchecked)
    return said


def _shown(quantity) -> str:
    if not isinstance(quantity, dict):
        return repr(quantity)
    return f"{quantity.get('value')!r} {quantity.get('unit') or quantity.get('code') or ''}".strip()


def normal_ranges(obs: dict) -> list:
    """The Observation's reference ranges (objects) of the normal type, in order."""
    return [r for r in v.items(obs, "referenceRange") if isinstance(r, dict) and _normal(r)]


def age_on(birth, on: date) -> float | None:
    """Age in years on a day (whole years and the part of the year since the birthday)."""
    born = v.day(birth)
    if born is None or on < born:
        return None
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    try:
        last = born.replace(year=born.year + years)
    except ValueError:                   # born on 29 February
        last = date(born.year + years, 3, 1)
    return years + (on - last).days / 366


def choose(entry: dict, name: str, sex: str | None, age: float | None) -> str | None:
    """Set the entry's ULN and LLN from the one range that applies to the patient (or that all
    ranges that may apply agree on); else give none and return the sentence that says why. A range
    for a population the reader cannot check (pregnancy, an age in a unit it does not read) gives
    no limits of its own: it decides only beside one that applies and says the same."""
    stash = entry.pop(RANGES)
    applying = [r for r in stash["ranges"] if _applies(r, sex, age)]
    if not applying:
        return (f"{name}: none of the {len(stash['ranges'])} reference ranges of {stash['of']} applies to this "
                "patient (sex, age): no ULN or LLN is read from it")
    doubts = [_unchecked(r, sex, age) for r in applying]
    unchecked = sorted({d for d in doubts if d})
    because = (f" (a range for {'; '.join(unchecked)}, which trialscreen cannot check for this patient)"
               if unchecked else "")
    if any(r["limits"] != applying[0]["limits"] for r in applying):
        return (f"{name}: {stash['of']} gives {len(applying)} reference ranges that may apply to this patient "
                f"and differ{because}: no ULN or LLN is read from it")
    if all(doubts):
        some = "a reference range" if len(applying) == 1 else "reference ranges"
        return (f"{name}: {stash['of']} gives {some} only for {'; '.join(unchecked)}, which trialscreen "
                "cannot check for this patient: no ULN or LLN is read from it")
    entry.update(applying[0]["limits"])
    return None


def _unchecked(rng: dict, sex: str | None, age: float | None) -> str | None:
    """Whom a range is for when the reader cannot tell that the patient is one (its own words, or
    a sex or an age the record does not give); None when it can."""
    if rng["other"]:
        return rng["other"]
    if rng["sex"] is not None and sex is None:
        return f"the {rng['sex']} sex (the patient's is not recorded)"
    if rng["age"] is not None and age is None:
        return "an age range (the patient's birth date is not recorded)"
    return None


def _applies(rng: dict, sex: str | None, age: float | None) -> bool:
    """Whether a range may apply: not when it names the other sex or an age the patient is not."""
    if rng["sex"] is not None and sex is not None and rng["sex"] != sex:
        return False
    if rng["age"] is not None and age is not None:
        low, high = rng["age"]
        if (low is not None and age < low) or (high is not None and age > high):
            return False
    return True

"""One patient's rows of a long extract as the record ``patient_from_dict`` reads.

Nothing is judged here: the record reader decides what a value means (a unit it does not know,
``<5``, ``pending``: unusable or a bound, as in every other input). What is decided here is only
which rows a record holds:
- a result is placed by its LOINC code first (the dictionary's or a ``loinc`` column), then by its
  name through the analyte vocabulary; a result that cannot be placed is counted, never guessed;
- of several results of one analyte, the most recent on or before the as-of date is the record's
  (a result dated after it has not happened yet), with how many earlier ones there were (``earlier``);
- a code of a diagnosis is placed through the vocabularies' codes (ICD-10-CM, ICD-9-CM, SNOMED);
  one nobody can place is passed on as an unrecognised condition (the criteria about conditions
  are then unknown), as OMOP's reader does;
- a drug by name or RxNorm code becomes a treatment of its drug vocabulary type;
- a birth date that makes the patient older than any person is left out, with a sentence: the age
  is then unknown, never a pass (de-identified extracts shift the ages over 89).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from trialscreen import vocab
from trialscreen.vocab import codes

OLDEST = 130         # years: the patient reader's age range


@dataclass
class Built:
    record: dict
    unplaced: list = field(default_factory=list)       # (what, label) nobody can place
    notes: list = field(default_factory=list)          # sentences for the run's warnings
    later: int = 0                                     # results dated after the as-of date
    conflicts: list = field(default_factory=list)      # (sentence) of labs no result decides


def place_test(loinc: str | None, name: str | None) -> tuple:
    """(the analyte a result is of, or None; why not). By LOINC code, else by its name; a LOINC
    code and a name that place it as two different analytes place it as neither."""
    by_code = by_name = None
    if loinc:
        found = codes.lookup("LOINC", str(loinc).strip())
        by_code = found.name if found is not None and found.kind == "analyte" else None
    if name:
        by_name = vocab.analytes().canonical(str(name).strip())
    if by_code and by_name and by_code != by_name:
        return None, f"its LOINC {loinc} is {by_code}, its name is {by_name}"
    return by_code or by_name, ""


def patient_record(pid: str, person: dict, as_of: date | None, results: list, diagnoses: list,
                   treatments: list) -> Built:
    """``person``: field -> text; ``results``: dicts with analyte (or None and label), value, unit,
    day (date or None), low, high, flag; ``diagnoses``: system, code, day; ``treatments``: drug,
    rxnorm, start, end (dates or None)."""
    built = Built({"id": pid})
    record = built.record
    record.update({k: v for k, v in person.items() if v is not None and k != "birth_date"})
    when = as_of or max((r["day"] for r in results if r["day"] is not None), default=None)
    if when is not None:
        record["as_of"] = when.isoformat()
    _birth(built, person.get("birth_date"), when or date.today())
    _labs(built, results, when)
    _diagnoses(built, diagnoses)
    _treatments(built, treatments)
    return built


def _birth(built: Built, birth: str | None, when: date | None) -> None:
    if birth is None:
        return
    try:
        born = date.fromisoformat(birth)
    except ValueError:
        built.record["birth_date"] = birth       # the reader refuses it with its own sentence
        return
    if when is not None and not 0 <= (when.year - born.year) <= OLDEST:
        built.notes.append(f"patient {built.record['id']}: the birth date {birth} makes the patient "
                           f"{when.year - born.year} years old on {when.isoformat()}: the age is unknown (a "
                           "de-identified extract may shift the ages over 89)")
        return
    built.record["birth_date"] = birth


def _labs(built: Built, results: list, when: date | None) -> None:
    by_analyte: dict = {}
    for r in results:
        if r["analyte"] is None:
            built.unplaced.append(("test", r["label"]))
        elif when is not None and r["day"] is not None and r["day"] > when:
            built.later += 1
        else:
            by_analyte.setdefault(r["analyte"], []).append(r)
    labs = {}
    for name, rows in by_analyte.items():
        r, why = latest(rows)
        if r is None:
            built.conflicts.append(f"{name}: {why}, so none of them decides (the lab is unknown)")
            continue
        entry: dict = {"value": r["value"] if r["value"] is not None else ""}
        if r["unit"]:
            entry["unit"] = r["unit"]
        if r["day"] is not None:
            entry["date"] = r["day"].isoformat()
        for key, attr in (("low", "lln"), ("high", "uln")):
            if r.get(key):
                entry[attr] = f"{r[key]} {r['unit']}" if r["unit"] else r[key]
        if r.get("flag"):
            entry["flag"] = r["flag"]
        if len(rows) > 1:
            entry["earlier"] = len(rows) - 1
        labs[name] = entry
    if labs:
        built.record["labs"] = labs


def latest(rows: list) -> tuple:
    """(the result that decides, or None; why none does). The latest day decides; on that day the
    latest time. Results that cannot be ordered (a date that could not be read beside dated ones,
    one day's results without their times, two at one instant) decide only if they say the same."""
    if any(r["dated"] and r["day"] is None for r in rows):
        return None, "a result's date cannot be read, and it might be the latest"
    dated = [r for r in rows if r["day"] is not None]
    if not dated:
        return _same(rows, "results without a date")
    top = max(r["day"] for r in dated)
    day = [r for r in dated if r["day"] == top]
    if len(day) == 1:
        return day[0], ""
    if any(r["moment"] is None for r in day):
        return _same(day, f"{len(day)} results of {top.isoformat()} without their times")
    last = max(r["moment"] for r in day)
    return _same([r for r in day if r["moment"] == last], f"results of one instant ({last.isoformat(sep=' ')})")


def _same(rows: list, what: str) -> tuple:
    values = {(r["value"], r["unit"], r.get("low"), r.get("high")) for r in rows}
    return (rows[-1], "") if len(values) == 1 else (None, f"{what} disagree")


def _diagnoses(built: Built, rows: list) -> None:
    record = built.record
    for r in rows:
        found = codes.lookup(r["system"], r["code"])
        day = r["day"].isoformat() if r["day"] is not None else None
        if found is not None and found.kind == "none":
            continue                 # listed as no condition any rule reads (vocab/not_conditions.yaml)
        if found is None or found.kind not in ("diagnosis", "condition"):
            label = f"{r['system']} {r['code']}"
            built.unplaced.append(("diagnosis code", label))
            record.setdefault("conditions", {})[f"unplaced {label}"] = True
        elif found.kind == "diagnosis":
            record.setdefault("diagnoses", []).append({"name": found.name, **({"date": day} if day else {})})
        else:
            record.setdefault("conditions", {})[found.name] = {"present": True, **({"date": day} if day else {})}


def _treatments(built: Built, rows: list) -> None:
    for r in rows:
        name: str | None = None
        if r.get("rxnorm"):
            found = codes.lookup("RxNorm", r["rxnorm"])
            name = found.name if found is not None and found.kind == "drug" else None
        if name is None and r.get("drug"):
            name = vocab.drugs().canonical(str(r["drug"]).strip())
        if name is None:
            label = r.get("drug") or f"RxNorm {r.get('rxnorm')}"
            built.unplaced.append(("drug", label))
            kind, drugs = f"unplaced drug {label}", []
        else:
            typed = codes.drug_treatment(name)
            if not typed:
                continue                 # a drug that is no treatment (aspirin)
            kind, drugs = (f"{name} (treatment type not recorded)" if typed == "ask" else typed), [name]
        entry: dict = {"type": kind, **({"drugs": drugs} if drugs else {})}
        if r["start"] is not None:
            entry["start"] = r["start"].isoformat()
        if r["end"] is not None:
            entry["end"] = r["end"].isoformat()
        built.record.setdefault("treatments", []).append(entry)

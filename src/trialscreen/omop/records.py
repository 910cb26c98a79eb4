"""A person's OMOP rows as a patient record: the dict ``patient_from_dict`` reads (docs/omop.md).

Nothing is judged here. A value is passed on as the database holds it (number, operator, unit
text, date) and the one record reader decides what it can use; a concept no vocabulary can place is
passed on in a form the reader cannot place either (an unrecognised condition, a treatment of an
unknown type), so the criteria that read it become unknown, and the person's ``Unplaced`` labels
go to the run's warnings, once per concept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from trialscreen import vocab

SECTIONS = ("diagnoses", "treatments", "neoplasms", "allergies", "conditions")
_EVENT_TABLES = {"condition_occurrence": "conditions", "procedure_occurrence": "procedures",
                 "drug_exposure": "drugs", "measurement": "measurement"}


@dataclass
class Built:
    record: dict
    unplaced: list = field(default_factory=list)      # (role, label) of concepts nobody can place
    outside: int = 0                                   # rows dated outside every observation period
    notes: list = field(default_factory=list)          # what was not read, for the run's warnings


# A person field (ECOG, pregnancy, weight) recorded longer ago than this before the as-of date is
# not read: it says how the person was then, not now.
FIELD_DAYS = 90
_BLOCKED_BY_UNPLACED_CONDITION = ("diagnoses", "neoplasms", "allergies", "conditions")


def build_record(rows, as_of: date, *, complete: tuple = (), attestations: dict | None = None) -> Built:
    person = rows.person
    record: dict = {"id": str(person["person_id"])}
    built = Built(record)
    _person(person, record)
    periods = [p for p in (person.get("periods") or []) if p and p[0] is not None and p[1] is not None]
    current = next(((s, e) for s, e in periods if s <= as_of <= e), None)   # the period of the as-of date
    items: dict = {}                       # (stream, item id) -> the item dict, for attributes
    fields: dict = {}                      # field -> its latest row, over MEASUREMENT and OBSERVATION
    occurrences: dict = {}                 # condition -> its occurrences (entries), oldest first
    _measured(rows.rows.get("measured", []), record, items, fields)
    attested = _observed(rows.rows.get("observed", []), record, fields, current, built)
    _fields(record, fields, as_of, built)
    _conditions(rows.rows.get("conditions", []), record, items, occurrences, built, as_of)
    listed = "treatments" in set(complete) | attested
    _procedures(rows.rows.get("procedures", []), record, items, built if listed else None, as_of)
    _drugs(rows.rows.get("drugs", []), record, items, built, as_of)
    _attributes(rows.rows.get("observed", []), items)
    for name, entries in occurrences.items():
        record.setdefault("conditions", {})[name] = merged_occurrences(entries)
    built.outside = sum(1 for stream in rows.rows.values() for r in stream
                        if r.get("day") is not None and periods and not any(s <= r["day"] <= e for s, e in periods))
    sections = (set(complete) | attested) if current else set()
    if any(role == "condition" for role, _ in built.unplaced):
        sections -= set(_BLOCKED_BY_UNPLACED_CONDITION)      # the unplaced one might belong to any of them
    record["complete"] = sorted(s for s in sections if s in SECTIONS and s != "conditions")
    if "conditions" in sections:
        absent_conditions(record)
    if attestations:
        record["attestations"] = dict(attestations)
    return built


def _person(person: dict, record: dict) -> None:
    sex = person.get("sex") or ""
    if not sex:
        source = (person.get("gender_source_value") or "").strip().lower()
        sex = {"m": "male", "f": "female", "male": "male", "female": "female"}.get(source, "")
    if sex:
        record["sex"] = sex
    birth = person.get("birth_datetime")
    if birth is not None:
        record["birth_date"] = _iso(birth)
    elif all(person.get(k) for k in ("year_of_birth", "month_of_birth", "day_of_birth")):
        try:
            record["birth_date"] = date(person["year_of_birth"], person["month_of_birth"],
                                        person["day_of_birth"]).isoformat()
        except ValueError:
            pass        # not a calendar date: no birth date, so age is unknown


def _iso(day) -> str:
    return (day.date() if isinstance(day, datetime) else day).isoformat()


def _number(value: float):
    return int(value) if float(value).is_integer() and abs(value) < 1e15 else value


def absent_conditions(record: dict) -> None:
    """An attested condition list: every condition of the vocabulary not recorded is absent, if its
    codes could have recorded it (a condition with no code, such as CNS involvement, stays
    unknown) and no diagnosis recorded names it (AL amyloidosis is an amyloidosis)."""
    from trialscreen.vocab import codes, name_key

    diagnosed = [name_key(d.get("name", "")) for d in record.get("diagnoses", [])]
    conditions = record.setdefault("conditions", {})
    for name in vocab.conditions().entries:
        if codes.codes_of("condition", name) and not any(name_key(name) in d for d in diagnosed):
            conditions.setdefault(name, False)


def merged_occurrences(entries: list) -> dict:
    """Several occurrences of one condition as one state a rule cannot read too kindly: present,
    ongoing if any occurrence is (else ended at the last end), dated by the latest start and undated
    if any is, at the highest grade recorded (a grade that is not a number, as recorded, so that it
    stays unreadable), active if any occurrence is (or as recorded when one says what is not yes/no)."""
    if len(entries) == 1:
        return entries[0]
    out = dict(entries[-1])
    for key in ("date", "end", "grade", "active"):
        out.pop(key, None)
    out["present"] = True
    dates = [e.get("date") for e in entries]
    if all(dates):
        out["date"] = max(dates)
    ends = [e.get("end") for e in entries]
    if all(ends):
        out["end"] = max(ends)
    grades = [e["grade"] for e in entries if e.get("grade") is not None]
    numbers = [g for g in grades if isinstance(g, int) and not isinstance(g, bool)]
    if grades:
        out["grade"] = max(numbers) if len(numbers) == len(grades) else next(g for g in grades if g not in numbers)
    actives = [e["active"] for e in entries if e.get("active") is not None]
    if actives:
        odd = [a for a in actives if not isinstance(a, bool)]
        out["active"] = odd[0] if odd else any(actives)
    return out


def _measured(rows: list, record: dict, items: dict, fields: dict) -> None:
    for r in rows:
        kind, name = r["kind"], r["name"]
        if kind == "analyte":
            items[("measurement", r["measurement_id"])] = record.setdefault("labs", {})[name] = _lab(r, name)
        elif kind == "finding":
            entry: dict = {"result": _word(r) or "not done", "date": _iso(r["day"])}
            if r["value_as_number"] is not None and r["answer"]:
                entry["percent"] = _number(r["value_as_number"])
            items[("measurement", r["measurement_id"])] = record.setdefault("cytogenetics", {})[name] = entry
        elif kind == "field":
            _latest(fields, name, r)


def _latest(fields: dict, name: str, r: dict) -> None:
    if name not in fields or fields[name]["day"] <= r["day"]:
        fields[name] = r


def _fields(record: dict, fields: dict, as_of: date, built: Built) -> None:
    """Each field from its latest row, when that row is recent enough to describe the person now
    (an age only on the day it was recorded: it holds on that day)."""
    for name, r in fields.items():
        if name == "age" and r["day"] != as_of:
            continue
        if (as_of - r["day"]).days > FIELD_DAYS:
            built.notes.append(f"{name} recorded more than {FIELD_DAYS} days before the as-of date: not read")
            continue
        _field(record, name, r)


def _unit(r: dict) -> str:
    if r["unit"] is not None:
        return r["unit"]
    if r["unit_concept_id"]:
        return f"concept {r['unit_concept_id']} (not in CONCEPT)"
    return (r["unit_source_value"] or "").strip()


def _lab(r: dict, name: str) -> dict:
    lab: dict = {"date": _iso(r["day"])}
    if (r.get("results") or 1) > 1:
        lab["earlier"] = r["results"] - 1            # named in the explanation: the latest of N results
    analyte = vocab.analytes().get(name)
    qualitative = analyte is not None and analyte.qualitative
    if r["value_as_number_text"] is not None and not (qualitative and r["answer"]):
        unit = _unit(r)
        operator = r["operator"] if r["operator_concept_id"] else ""
        if operator is None:
            operator = "?"
        number = r["value_as_number"]
        written = r["value_as_number_text"] if number is None else str(_number(number))
        lab["value"] = f"{operator}{written}" if operator or number is None else _number(number)
        lab["unit"] = unit
        for column, key in (("range_high", "uln"), ("range_low", "lln")):
            if r[f"{column}_text"] is not None:
                limit = r[column] if r[column] is not None else r[f"{column}_text"]
                lab[key] = f"{_number(limit) if isinstance(limit, float) else limit} {unit}".strip()
    elif r["answer"] is not None and not qualitative and _unit(r):
        lab["value"], lab["unit"] = r["answer"], _unit(r)      # 'not detected' IU/mL: below the detection limit
    elif r["answer"] is not None or r["value_as_concept_id"]:
        lab["result"] = _word(r)
    else:
        lab["value"] = r["value_source_value"].strip()        # the result as written: the reader decides
        if _unit(r):
            lab["unit"] = _unit(r)
    return lab


def _word(r: dict) -> str | None:
    answer = r.get("answer")
    if answer is None and r.get("value_as_concept_id"):
        return f"concept {r['value_as_concept_id']} (not in CONCEPT)"
    return answer


def _field(record: dict, name: str, r: dict) -> None:
    """A person field from its latest row (rows come oldest first, so the last one stays)."""
    if name in ("weight", "height"):
        if r.get("value_as_number") is not None:
            record[name] = f"{_number(r['value_as_number'])} {_unit(r)}".strip()
        return
    value = r.get("value_as_number")
    if name in ("ecog", "age"):
        if value is None and r.get("answer") not in (None, "unknown"):
            value = r["answer"]
        record[name] = _number(float(value)) if value is not None and _is_number(value) else value
        return
    word = _word(r)
    record[name] = word if word is not None else (bool(value) if value in (0, 1) else value)


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _observed(rows: list, record: dict, fields: dict, current: tuple | None, built: Built) -> set:
    """Fields, allergies, attested sections, treatments noted and condition assertions; the
    sections attested (an attestation counts in the observation period of the as-of date only)."""
    attested: set = set()
    for r in rows:
        kind, name = r["kind"], r["name"]
        if kind == "field":
            _latest(fields, name, r)
        elif kind == "treatment":       # a status code: it says a treatment happened, not when
            record.setdefault("treatments", []).append({"type": name})
        elif kind == "allergy":
            substance = (r["value_as_string"] or "").strip() if name == "other" else name
            if substance:
                record.setdefault("allergies", []).append(substance)
        elif kind == "complete":
            if current is not None and current[0] <= r["day"] <= current[1]:
                attested.add(name)
        elif kind in ("condition", "finding", "diagnosis"):
            _asserted(record, kind, name, r)
        elif kind == "unplaced":        # a diagnosis code nobody can place, recorded as an observation
            built.unplaced.append(("condition", name))
            record.setdefault("conditions", {})[f"unplaced {name}"] = True
    return attested


def _asserted(record: dict, kind: str, name: str, r: dict) -> None:
    """An observation of a condition, finding or diagnosis: its value says present or absent; with
    no value it is recorded, so present (the usual OMOP form of a finding in OBSERVATION)."""
    answer, day = r["answer"], _iso(r["day"])
    if kind == "condition":
        record.setdefault("conditions", {})[name] = {"present": answer if answer is not None else True, "date": day}
    elif kind == "finding":
        record.setdefault("cytogenetics", {})[name] = {"result": answer or "not done", "date": day}
    elif answer is None or answer == "true":
        record.setdefault("diagnoses", []).append({"name": name, "date": day})


def _ended(day, as_of: date):
    """An end date after the as-of date has not happened: the item is ongoing then."""
    return _iso(day) if day is not None and day <= as_of else None


def _conditions(rows: list, record: dict, items: dict, occurrences: dict, built: Built, as_of: date) -> None:
    for r in rows:
        kind, name = r["kind"], r["name"]
        if kind == "unplaced":
            built.unplaced.append(("condition", name))
            record.setdefault("conditions", {})[f"unplaced {name}"] = True
            continue
        if kind == "condition":
            entry: dict = {"present": True, "date": _iso(r["day"])}
            if (end := _ended(r["end_day"], as_of)) is not None:
                entry["end"] = end
            occurrences.setdefault(name, []).append(entry)
        elif kind == "treatment":         # a status code (history of chemotherapy): happened, not when
            entry = {"type": name}
            record.setdefault("treatments", []).append(entry)
        else:
            key = "name" if kind == "diagnosis" else "type"
            entry = {key: name, "date": _iso(r["day"])}
            if (end := _ended(r["end_day"], as_of)) is not None:
                entry["end"] = end
            record.setdefault("diagnoses" if kind == "diagnosis" else "neoplasms", []).append(entry)
        items[("conditions", r["item_id"])] = entry


def _procedures(rows: list, record: dict, items: dict, built: Built | None, as_of: date) -> None:
    """Procedures that are treatments. ``built`` is given when the site attests the treatment list
    complete: then a procedure nobody can place might be a treatment, and is passed on as one of
    unknown type (the list must not pretend to be complete); otherwise it is not read."""
    for r in rows:
        name = r["name"]
        if r["kind"] == "unplaced":
            if built is None:
                continue
            built.unplaced.append(("procedure", name))
            name = f"unplaced procedure {name}"
        entry: dict = {"type": name, "date": _iso(r["day"])}
        if r["end_day"] is not None:      # an end after the as-of date has not happened: ongoing
            entry = {"type": name, "start": _iso(r["day"])}
            if (end := _ended(r["end_day"], as_of)) is not None:
                entry["end"] = end
        record.setdefault("treatments", []).append(entry)
        items[("procedures", r["item_id"])] = entry


def _drugs(rows: list, record: dict, items: dict, built: Built, as_of: date) -> None:
    """Exposures: one treatment per exposure and type, with its drugs."""
    by_exposure: dict = {}
    for r in rows:
        unplaced = r["kind"] == "unplaced" or r["name"].startswith("?")
        name, detail = r["name"].lstrip("?"), "ask" if r["kind"] == "unplaced" else r["detail"]
        if unplaced:
            built.unplaced.append(("drug", name))
        if not detail:
            continue            # a substance that is not a treatment (aspirin)
        if detail == "ask":     # a person must judge the type: rules on treatment types are unknown
            kind_of = f"unplaced drug {name}" if unplaced else f"{name} (treatment type not recorded)"
        else:
            kind_of = detail
        entry = by_exposure.setdefault((r["item_id"], kind_of), {"type": kind_of, "start": _iso(r["day"]),
                                                                 "drugs": []})
        if (end := _ended(r["end_day"], as_of)) is not None:
            entry["end"] = end
        if name:
            entry["drugs"].append(name)
    for (item_id, _), entry in by_exposure.items():
        if not entry["drugs"]:
            del entry["drugs"]
        record.setdefault("treatments", []).append(entry)
        items.setdefault(("drugs", item_id), []).append(entry)


def _attributes(rows: list, items: dict) -> None:
    """Attribute observations, each on the item its event id points to."""
    for r in rows:
        if r["kind"] != "attribute" or r["event_table"] not in _EVENT_TABLES:
            continue
        found = items.get((_EVENT_TABLES[r["event_table"]], r["observation_event_id"]))
        for item in found if isinstance(found, list) else [found] if found is not None else []:
            _attribute(item, r)


def _attribute(item: dict, r: dict) -> None:
    """One attribute observation on one item."""
    value = r["answer"] if r["answer"] is not None else (
        _number(r["value_as_number"]) if r["value_as_number"] is not None else r["value_as_string"])
    if value in ("true", "false"):
        value = value == "true"
    if r["name"] == "drug":
        item.setdefault("drugs", []).append(value)
    elif r["name"] == "undated":         # the row's date stands in for a date the record lacked
        if value is True:
            item.pop("date", None)
            item.pop("start", None)
    elif r["name"] == "end_unknown":     # ended on a day nobody recorded: its date is its start
        if value is True and "end" not in item:
            item["start"] = item.pop("date", None) or item.get("start")
            item["end"] = "unknown"
    elif r["name"] == "ongoing":         # started and not ended: a start, not a single day
        if value is True and "date" in item and "end" not in item:
            item["start"] = item.pop("date")
    else:
        item[r["name"]] = value

"""Read a patient record (JSON, see patient.schema.json) into a :class:`Patient`.

Errors name the file, the line and column, and the field, and say what to do.
Only a broken structure refuses a record. A name the vocabulary does not know is a
warning; recorded as present or detected, it keeps every rule reading its section
from passing on its absence. A value that cannot be used is a warning and leaves the
criteria that need it unknown (labs: trialscreen.patient.labs).
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from trialscreen import textio, vocab
from trialscreen.errors import FileReadError, Location, PatientError
from trialscreen.patient.cytogenetics import read_cytogenetics
from trialscreen.patient.fields import FLAGS, range_of
from trialscreen.patient.jsonpos import loads_strict
from trialscreen.patient.labs import read_lab
from trialscreen.patient.memo import ReadMemo
from trialscreen.patient.model import ConditionState, Event, LabValue, Patient
from trialscreen.patient.reader import Reader, known_names, type_word
from trialscreen.textio import MAX_BYTES  # the one size limit of every input

SECTIONS = ("diagnoses", "treatments", "neoplasms", "allergies")
TOP_KEYS = {
    "$schema", "id", "sex", "age", "birth_date", "ecog", "as_of", "lab_date", "weight", "height", "labs",
    "cytogenetics", "conditions", "diagnoses", "treatments", "neoplasms", "allergies",
    "attestations", "complete", "notes", *FLAGS,
}
_SEX = {"f": "female", "female": "female", "woman": "female", "w": "female",
        "m": "male", "male": "male", "man": "male"}
SEX_WORDS = frozenset(_SEX) | {"other", "unknown", "x"}     # what a sex can be written as

# Plausibility limits: a value outside them is a data error, not a patient.
LIMITS = {"age": range_of("age"), "ecog": range_of("ecog"), "weight_kg": range_of("weight"),
          "height_cm": range_of("height")}


def read_text(path: str) -> tuple[str, str]:
    """Read a patient file (or '-' for stdin) as text; return (text, name for messages)."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        name = "<stdin>"
    else:
        p = Path(path)
        try:
            if p.is_dir():
                raise FileReadError(f"'{path}' is a folder, not a patient file", Location(path))
            if p.stat().st_size > MAX_BYTES:
                raise PatientError(f"the file is larger than {MAX_BYTES // 1_000_000} MB",
                                   Location(path), hint="a patient record is a small JSON file")
            data = p.read_bytes()
        except FileNotFoundError:
            raise FileReadError(f"no such file: {path}", Location(path),
                                hint="check the path") from None
        except PermissionError:
            raise FileReadError(f"cannot read {path}: permission denied", Location(path)) from None
        name = path
    if len(data) > MAX_BYTES:
        raise PatientError(f"the input is larger than {MAX_BYTES // 1_000_000} MB", Location(name))
    return decode(data, name), name


def decode(data: bytes, name: str) -> str:
    return textio.decode(data, name, PatientError)


def load_patient(path: str) -> Patient:
    text, name = read_text(path)
    return parse_patient(text, name)


def parse_patient(text: str, name: str = "<patient>") -> Patient:
    data = loads_strict(text, name)
    return patient_from_dict(data, name, text)


def patient_from_dict(data, source: str | None = None, text: str | None = None,
                      memo: ReadMemo | None = None) -> Patient:
    """Validate and normalise a decoded patient record. A batch passes a ``memo``
    (patient/memo.py): the parts its rows repeat are read once."""
    r = Reader(source, text)
    if not isinstance(data, dict):
        raise PatientError(f"a patient record must be a JSON object, not {type_word(data)}", Location(source))
    _check_top_keys(r, data)
    if "id" not in data:
        raise PatientError("the record has no 'id'", Location(source, 1, 1, field="id"),
                           hint='add "id": "..." to the record')
    pid = data["id"]
    if isinstance(pid, int) and not isinstance(pid, bool):
        pid = str(pid)
    p = Patient(id=r.string(pid, ("id",)), source=source)
    _read_person(r, data, p)
    _read_flags(r, data, p)
    # lab_date: the date of the labs that give none of their own (one date per panel)
    panel = r.date(data["lab_date"], ("lab_date",)) if data.get("lab_date") is not None else None
    reads = memo or _NO_MEMO
    if data.get("labs") is not None:
        p.labs = _labs(r, r.mapping(data["labs"], ("labs",)), panel, reads)
    if data.get("cytogenetics") is not None:
        cyto = r.mapping(data["cytogenetics"], ("cytogenetics",))
        p.cytogenetics = reads.read(r, (cyto,), read_cytogenetics, (cyto,), dict)
    if data.get("conditions") is not None:
        conditions = r.mapping(data["conditions"], ("conditions",))
        p.conditions = reads.read(r, (conditions,), _conditions, (conditions,), dict)
    for section, key in (("diagnoses", "name"), ("treatments", "type"), ("neoplasms", "type")):
        if data.get(section) is not None:
            items = data[section]
            setattr(p, section, reads.read(r, (section, items), _events, (items, section, key), list))
    _read_lists(r, data, p)
    p.warnings = r.warnings
    p.unrecognised = {k: tuple(v) for k, v in r.unrecognised.items()}
    return p


def _check_top_keys(r: Reader, data: dict) -> None:
    """An unknown top-level key is a warning; one that looks like a known one ('treatment' for
    'treatments') is an error: ignoring it would drop what the record says."""
    for key in data:
        if key not in TOP_KEYS:
            close = [k for k in TOP_KEYS if vocab.name_key(k) == vocab.name_key(key)] or \
                difflib.get_close_matches(vocab.name_key(key), sorted(TOP_KEYS), n=1, cutoff=0.8)
            if close:
                raise r.fail((key,), f"unknown field '{key}'", hint=f"did you mean '{close[0]}'?")
            r.warn((key,), f"unknown field '{key}' is ignored", "see patient.schema.json")


def _read_person(r: Reader, data: dict, p: Patient) -> None:
    """Sex, age or birth date, ECOG, the as-of date, weight and height, with their checks."""
    if data.get("sex") is not None:
        sex = data["sex"]
        key = sex.strip().lower() if isinstance(sex, str) else None
        if key not in SEX_WORDS:
            raise r.fail(("sex",), "is not a sex trialscreen knows", hint="use female or male", value=sex)
        p.sex = _SEX.get(key)
    if data.get("age") is not None:
        p.age = r.number(data["age"], ("age",), *LIMITS["age"])
    if data.get("birth_date") is not None:
        p.birth_date = r.date(data["birth_date"], ("birth_date",))
    if data.get("ecog") is not None:
        ecog = data["ecog"]
        # the range first: NaN, infinity and 400-digit integers all fail it without overflow
        low, high = LIMITS["ecog"]
        if isinstance(ecog, bool) or not isinstance(ecog, (int, float)) or not low <= ecog <= high or ecog != int(ecog):
            raise r.fail(("ecog",), "is not an ECOG grade 0 to 5", value=ecog)
        p.ecog = int(ecog)
    if data.get("as_of") is not None:
        p.as_of = r.date(data["as_of"], ("as_of",))
    if p.birth_date and p.as_of and p.birth_date > p.as_of:
        raise r.fail(("birth_date",), "the birth date is after the as-of date")
    if p.birth_date and (p.as_of or date.today()).year - p.birth_date.year > LIMITS["age"][1]:
        raise r.fail(("birth_date",), f"gives an age over {LIMITS['age'][1]}", value=data["birth_date"],
                     hint="correct the birth date")
    if p.birth_date and p.age is not None and p.as_of:
        computed, _ = p.age_at(p.as_of)     # whole years from the birth date: a number
        if isinstance(computed, float) and abs(computed - p.age) > 1:
            raise r.fail(("age",), "does not agree with the birth date at the as-of date",
                         hint="give one of age and birth_date, or correct one", value=p.age)
    if data.get("weight") is not None:
        p.weight_kg = r.quantity(data["weight"], ("weight",), "body", "kg", *LIMITS["weight_kg"], "'68 kg'")
    if data.get("height") is not None:
        p.height_cm = r.quantity(data["height"], ("height",), "body", "cm", *LIMITS["height_cm"], "'170 cm'")


def _read_flags(r: Reader, data: dict, p: Patient) -> None:
    """The yes/no flags; pregnant and not of childbearing potential contradict each other."""
    for flag in FLAGS:
        if flag in data:
            p.flags[flag] = r.boolean(data[flag], (flag,))
    if p.flags.get("pregnant") is True and p.flags.get("childbearing_potential") is False:
        # one of the two is wrong; a rule must not pass on the one that says "cannot be pregnant"
        p.flags["childbearing_potential"] = None
        r.unusable(r.where(("childbearing_potential",)), "'childbearing_potential: false' contradicts "
                   "'pregnant: true'", "correct the one that is wrong")


def _read_lists(r: Reader, data: dict, p: Patient) -> None:
    """Allergies, attestations and the list of sections the record marks complete."""
    if data.get("allergies") is not None:
        for i, a in enumerate(r.array(data["allergies"], ("allergies",))):
            text = r.string(a, ("allergies", i))
            p.allergies.append(vocab.substance(text) or "?" + text)  # '?': a substance not recognised
    if data.get("attestations") is not None:
        atts = r.mapping(data["attestations"], ("attestations",))
        for key, raw in atts.items():
            name, value = vocab.name_key(key), r.boolean(raw, ("attestations", key))
            if name in p.attestations and p.attestations[name] != value:
                raise r.fail(("attestations", key), f"contradicts another spelling of the attestation '{name}'",
                             hint="keep the one that applies")
            p.attestations[name] = value
    if data.get("complete") is not None:
        complete = set()
        for i, name in enumerate(r.array(data["complete"], ("complete",))):
            if name not in SECTIONS:
                raise r.fail(("complete", i), f"'{name}' is not a list section",
                             hint="complete may name " + ", ".join(SECTIONS))
            complete.add(name)
        p.complete = frozenset(complete)


def condition_present(raw) -> bool | None:
    """Whether an entry of 'conditions' reports its condition present (None: cannot tell)."""
    if isinstance(raw, dict):
        if raw.get("present") is None and isinstance(raw.get("grade"), int):
            return raw["grade"] > 0
        raw = raw.get("present")
    try:
        return vocab.yes_no(raw) if not isinstance(raw, (int, float)) or isinstance(raw, bool) else None
    except (ValueError, TypeError):
        return None


class _Direct:
    """No memo: each part is read."""

    @staticmethod
    def read(r, key, compute, args, copy=None, kind=None):
        return compute(r, *args)


_NO_MEMO = _Direct()


def _labs(r: Reader, labs: dict, panel=None, memo=_NO_MEMO) -> dict:
    out: dict[str, LabValue] = {}
    for name, canonical, raw, path in known_names(r, labs, "labs", vocab.analytes()):
        analyte = vocab.analytes().entries[canonical]
        if analyte.name in out:
            raise r.fail(path, f"'{name}' repeats {analyte.name}, given already as "
                         f"'{out[analyte.name].field.split('.', 1)[1]}'",
                         hint="give each lab once (the value the screening should use)")
        out[analyte.name] = memo.read(r, (analyte.name, raw, path, panel), read_lab, (analyte, raw, path, False, panel),
                                      kind=analyte.name)
    return out


def _conditions(r: Reader, data: dict) -> dict:
    out: dict[str, tuple] = {}
    for name, canonical, raw, path in known_names(r, data, "conditions", vocab.conditions(), condition_present):
        if not isinstance(raw, (bool, str, dict)) and raw is not None:
            raise r.fail(path, "a condition is true / false or an object with present, grade, date")
        if isinstance(raw, dict):
            for key in raw:
                if key not in ("present", "grade", "date", "end", "active", "note"):
                    raise r.fail(path + (key,), f"unknown key '{key}' in a condition",
                                 hint="a condition has present, grade, date, end and active")
        try:
            state = _condition(r, canonical, name, raw, path)
        except PatientError as exc:
            r.unusable(exc.location, exc.message, exc.hint)
            state = ConditionState(canonical, None, raw_name=name,
                                   problem=f"the recorded state cannot be read: {exc.message}")
        # Several spellings of one condition (sensory and motor neuropathy, DVT and
        # pulmonary embolism) are all kept: a rule holds if it holds for any of them.
        out[canonical] = out.get(canonical, ()) + (state,)
    return out


def _condition(r: Reader, canonical: str, name: str, raw, path: tuple) -> ConditionState:
    if not isinstance(raw, dict):
        return ConditionState(canonical, r.boolean(raw, path), raw_name=name)
    grade = raw.get("grade")
    if grade is not None:
        if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade <= 5:
            raise r.fail(path + ("grade",), "is not a CTCAE grade 0 to 5", value=grade)
    present = r.boolean(raw.get("present"), path + ("present",))
    active = r.boolean(raw.get("active"), path + ("active",))
    if present is None and grade is not None:
        present = grade > 0
    if present is False and ((grade or 0) > 0 or active is True):
        raise r.fail(path, "says absent but gives a grade or says active",
                     hint="correct 'present', 'grade' or 'active' so that they agree")
    start, end = r.opt_date(raw, "date", path), r.opt_date(raw, "end", path)
    if start and end and end < start:
        raise r.fail(path + ("end",), "ends before it starts", hint="correct 'date' or 'end'")
    return ConditionState(canonical, present, grade, start, end, active, name)


def _events(r: Reader, data, section: str, key: str) -> list:
    items = r.array(data, (section,))
    out = []
    for i, raw in enumerate(items):
        path = (section, i)
        obj = r.mapping(raw, path)
        if key not in obj:
            raise r.fail(path, f"each item of {section} needs '{key}'")
        kind = vocab.name_key(r.string(obj[key], path + (key,)))
        known = True
        terms = {"diagnoses": vocab.diagnoses, "treatments": vocab.treatments}.get(section)
        if terms is not None:
            canonical = terms().canonical(kind)
            if canonical is None:
                known = False
                r.warn(path + (key,), f"unknown {terms().kind} '{obj[key]}': rules about "
                       f"{section} cannot rule it out", terms().suggest(kind))
            kind = canonical or kind
        attrs = {}
        for k, v in obj.items():
            if k in (key, "date", "start", "end"):
                continue
            if k == "drugs":
                v = [vocab.substance(d) or "?" + vocab.name_key(d)  # '?': a drug not recognised
                     for d in (r.string(d, path + ("drugs", j)) for j, d in enumerate(r.array(v, path + ("drugs",))))]
            elif isinstance(v, str):
                try:  # the words yes / no, not 1 / 0 (which may be a line number)
                    answer = vocab.yes_no(v, digits=False)
                except ValueError:
                    answer = None
                v = answer if answer is not None else v.strip()
            elif v is not None and not isinstance(v, (bool, int, float)):
                raise r.fail(path + (k,), "must be a single value (text, number, true or false)")
            attrs[vocab.name_key(k)] = v
        event = _dated_event(r, obj, path, section, Event(kind, attrs=attrs, index=i, known=known))
        if event.start and event.end and event.end < event.start:
            raise r.fail(path + ("end",), "ends before it starts")
        out.append(event)
    return out


def _dated_event(r: Reader, obj: dict, path: tuple, section: str, event: Event) -> Event:
    """The event with its dates. A treatment's ``"end": "unknown"`` says it ended, on or before
    the as-of date, on a day nobody recorded: its ``date``, if it gives one, is its start."""
    day, start, end = r.opt_date(obj, "date", path), r.opt_date(obj, "start", path), obj.get("end")
    if section == "treatments" and isinstance(end, str) and vocab.name_key(end) == "unknown":
        return replace(event, date=None if start is None else day, start=start or day, end_unknown=True)
    if section == "treatments" and end is not None:
        try:
            return replace(event, date=day, start=start, end=r.opt_date(obj, "end", path))
        except PatientError:
            raise r.fail(path + ("end",), "is not a date, nor 'unknown'", value=end,
                         hint="write dates as YYYY-MM-DD, or \"unknown\" for a treatment that ended on a day "
                              "nobody recorded") from None
    return replace(event, date=day, start=start, end=r.opt_date(obj, "end", path))

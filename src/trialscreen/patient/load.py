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
from datetime import date
from pathlib import Path

from trialscreen import textio, vocab
from trialscreen.errors import FileReadError, Location, PatientError
from trialscreen.patient.jsonpos import loads_strict
from trialscreen.patient.labs import read_lab
from trialscreen.patient.model import ConditionState, Event, FindingResult, Patient
from trialscreen.patient.reader import _kind, _Reader
from trialscreen.vocab import iscn

MAX_BYTES = 5_000_000

SECTIONS = ("diagnoses", "treatments", "neoplasms", "allergies")
FLAGS = ("childbearing_potential", "pregnant", "lactating", "transplant_candidate")
TOP_KEYS = {
    "$schema", "id", "sex", "age", "birth_date", "ecog", "as_of", "lab_date", "weight", "height", "labs",
    "cytogenetics", "conditions", "diagnoses", "treatments", "neoplasms", "allergies",
    "attestations", "complete", "notes", *FLAGS,
}
_SEX = {"f": "female", "female": "female", "woman": "female", "w": "female",
        "m": "male", "male": "male", "man": "male"}

# Plausibility limits: a value outside them is a data error, not a patient.
LIMITS = {"age": (0, 130), "weight_kg": (0.5, 500), "height_cm": (30, 260)}


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


def patient_from_dict(data, source: str | None = None, text: str | None = None) -> Patient:
    """Validate and normalise a decoded patient record."""
    r = _Reader(source, text)
    if not isinstance(data, dict):
        raise PatientError(f"a patient record must be a JSON object, not {_kind(data)}", Location(source))
    for key in data:
        if key not in TOP_KEYS:
            close = [k for k in TOP_KEYS if vocab.name_key(k) == vocab.name_key(key)] or \
                difflib.get_close_matches(vocab.name_key(key), sorted(TOP_KEYS), n=1, cutoff=0.8)
            if close:  # 'treatment' for 'treatments': ignoring it would drop what the record says
                raise r.fail((key,), f"unknown field '{key}'", hint=f"did you mean '{close[0]}'?")
            r.warn((key,), f"unknown field '{key}' is ignored", "see patient.schema.json")
    if "id" not in data:
        raise PatientError("the record has no 'id'", Location(source, 1, 1, field="id"),
                           hint='add "id": "..." to the record')
    pid = data["id"]
    if isinstance(pid, int) and not isinstance(pid, bool):
        pid = str(pid)
    p = Patient(id=r.string(pid, ("id",)), source=source)
    if data.get("sex") is not None:
        sex = data["sex"]
        key = sex.strip().lower() if isinstance(sex, str) else None
        if key not in _SEX and key not in ("other", "unknown", "x"):
            raise r.fail(("sex",), "is not a sex trialscreen knows", hint="use female or male", value=sex)
        p.sex = _SEX.get(key)
    if data.get("age") is not None:
        p.age = r.number(data["age"], ("age",), *LIMITS["age"])
    if data.get("birth_date") is not None:
        p.birth_date = r.date(data["birth_date"], ("birth_date",))
    if data.get("ecog") is not None:
        ecog = data["ecog"]
        # the range first: NaN, infinity and 400-digit integers all fail it without overflow
        if isinstance(ecog, bool) or not isinstance(ecog, (int, float)) or not 0 <= ecog <= 5 or ecog != int(ecog):
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
        computed, _ = p.age_at(p.as_of)
        if abs(computed - p.age) > 1:
            raise r.fail(("age",), "does not agree with the birth date at the as-of date",
                         hint="give one of age and birth_date, or correct one", value=p.age)
    if data.get("weight") is not None:
        p.weight_kg = r.quantity(data["weight"], ("weight",), "body", "kg", *LIMITS["weight_kg"], "'68 kg'")
    if data.get("height") is not None:
        p.height_cm = r.quantity(data["height"], ("height",), "body", "cm", *LIMITS["height_cm"], "'170 cm'")
    for flag in FLAGS:
        if flag in data:
            p.flags[flag] = r.boolean(data[flag], (flag,))
    # lab_date: the date of the labs that give none of their own (one date per panel)
    panel = r.date(data["lab_date"], ("lab_date",)) if data.get("lab_date") is not None else None
    if data.get("labs") is not None:
        p.labs = _labs(r, r.mapping(data["labs"], ("labs",)), panel)
    if data.get("cytogenetics") is not None:
        p.cytogenetics = _cytogenetics(r, r.mapping(data["cytogenetics"], ("cytogenetics",)))
    if data.get("conditions") is not None:
        p.conditions = _conditions(r, r.mapping(data["conditions"], ("conditions",)))
    if data.get("diagnoses") is not None:
        p.diagnoses = _events(r, data["diagnoses"], "diagnoses", "name")
    if data.get("treatments") is not None:
        p.treatments = _events(r, data["treatments"], "treatments", "type")
    if data.get("neoplasms") is not None:
        p.neoplasms = _events(r, data["neoplasms"], "neoplasms", "type")
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
    p.warnings = r.warnings
    p.unrecognised = {k: tuple(v) for k, v in r.unrecognised.items()}
    return p


def _known(r: _Reader, data: dict, section: str, vocabulary, present=None):
    """(name, canonical, raw, path) for each entry whose name the vocabulary knows.

    An unknown name is a warning. Where ``present`` says the record reports it as
    present or detected (or cannot tell), it is kept in ``r.unrecognised[section]``:
    the rules reading that section cannot rule it out, and become unknown unless
    known data already decide them. An unknown name reported absent changes nothing."""
    for name, raw in data.items():
        path = (section, name)
        canonical = vocabulary.canonical(name)
        refusal = vocabulary.ambiguity(name) if canonical is None else None
        if refusal:  # 'K': potassium or kappa? Never guessed, never dropped: the record is refused
            raise r.fail(path, refusal, hint="rename the entry to the full name of what was measured, "
                         "or to its LOINC code")
        if canonical is None:
            state = present(raw) if present is not None else False
            if state is False:
                absent = " (reported absent)" if present is not None else ""
                r.warn(path, f"unknown {vocabulary.kind} '{name}'{absent} is ignored", vocabulary.suggest(name))
            else:
                word = {"cytogenetics": "detected", "conditions": "present"}.get(section, "recorded")
                r.unrecognised.setdefault(section, []).append(str(name))
                r.warn(path, f"unrecognised {vocabulary.kind} '{name}' {word}: criteria about "
                       f"{section} cannot rule it out, so a person must judge them", vocabulary.suggest(name))
            continue
        yield name, canonical, raw, path


def _finding_present(raw) -> bool | None:
    """Whether an entry of 'cytogenetics' reports its finding detected (None: cannot tell)."""
    value = raw.get("result") if isinstance(raw, dict) else raw
    try:
        return vocab.qualitative(value)
    except (ValueError, TypeError):
        return None


def _condition_present(raw) -> bool | None:
    """Whether an entry of 'conditions' reports its condition present (None: cannot tell)."""
    if isinstance(raw, dict):
        if raw.get("present") is None and isinstance(raw.get("grade"), int):
            return raw["grade"] > 0
        raw = raw.get("present")
    try:
        return vocab.yes_no(raw) if not isinstance(raw, (int, float)) or isinstance(raw, bool) else None
    except (ValueError, TypeError):
        return None


def _labs(r: _Reader, labs: dict, panel=None) -> dict:
    out = {}
    for name, canonical, raw, path in _known(r, labs, "labs", vocab.analytes()):
        analyte = vocab.analytes().entries[canonical]
        if analyte.name in out:
            raise r.fail(path, f"'{name}' repeats {analyte.name}, given already as "
                         f"'{out[analyte.name].field.split('.', 1)[1]}'",
                         hint="give each lab once (the value the screening should use)")
        out[analyte.name] = read_lab(r, analyte, raw, path, panel=panel)
    return out


def _cytogenetics(r: _Reader, data: dict) -> dict:
    """Each entry names a finding (a vocabulary spelling) with its result, or is an ISCN
    interphase FISH result ('nuc ish...', as the key or as the value of any key such as
    "fish"), read by trialscreen.vocab.iscn."""
    out = {}
    keys = {}      # raw_name of a result -> the record's key it came from (for located errors)
    mixed = set()  # findings whose percentages disagree between two results (then unknown)
    reports = {k: v for k, v in data.items() if _iscn_text(k, v) is not None}
    named = {k: v for k, v in data.items() if k not in reports}
    for name, canonical, raw, path in _known(r, named, "cytogenetics", vocab.findings(), _finding_present):
        keys[name] = name
        percent = None
        value = raw
        when = None
        if isinstance(raw, dict):
            for key in raw:
                if key not in ("result", "percent", "date", "method"):
                    raise r.fail(path + (key,), f"unknown key '{key}' in a cytogenetic result",
                                 hint="use result and percent")
            value = raw.get("result")
            if raw.get("percent") is not None:
                percent = r.number(raw["percent"], path + ("percent",), 0, 100)
            when = r.opt_date(raw, "date", path)
        if isinstance(value, (dict, list)):
            raise r.fail(path, f"is not a result for {canonical}", hint="use " + vocab.QUALITATIVE_WORDS)
        problem = ""
        try:
            detected = vocab.qualitative(value)
        except ValueError:
            detected, problem = None, f"the result for {canonical} cannot be read"
            r.unusable(r.where(path), problem, "use " + vocab.QUALITATIVE_WORDS)
        previous = out.get(canonical)
        if previous is not None and (previous.detected, previous.percent) != (detected, percent):
            raise r.fail(path, f"'{name}' and '{previous.raw_name}' both report {canonical} "
                         "with different results", hint="keep the one that applies")
        out[canonical] = FindingResult(canonical, detected, percent, name, when, problem)
    for name, raw in reports.items():
        _iscn_entry(r, name, raw, out, keys, mixed)
    return _implied(r, out, keys)


_ISCN_HINT = ("check the FISH report; where the lab states the finding, give it by name "
              "(\"del(17p)\": {\"result\": \"detected\", \"percent\": 22.5})")


def _iscn_text(name, raw) -> str | None:
    """The ISCN text of a cytogenetics entry ('nuc ish...' as its key or its value), or None."""
    if iscn.is_iscn(name):
        return name
    value = raw.get("result") if isinstance(raw, dict) else raw
    return value if iscn.is_iscn(value) else None


def _iscn_entry(r: _Reader, name: str, raw, out: dict, keys: dict, mixed: set) -> None:
    """Read one ISCN entry into ``out``. A string that cannot be read completely, or an
    abnormal signal no finding names, is an unrecognised finding detected (rules reading
    cytogenetics cannot rule it out); a pattern of a known probe this reader has no rule for
    leaves the findings it concerns unknown, with the reason."""
    path = ("cytogenetics", name)
    text = _iscn_text(name, raw)
    in_key = text == name
    percent = when = None
    value = raw
    if isinstance(raw, dict):
        for key in raw:
            if key not in ("result", "percent", "date", "method"):
                raise r.fail(path + (key,), f"unknown key '{key}' in a cytogenetic result",
                             hint="use result, percent, date and method")
        value = raw.get("result")
        if raw.get("percent") is not None:
            percent = r.number(raw["percent"], path + ("percent",), 0, 100)
        when = r.opt_date(raw, "date", path)
    undecided = ""
    if in_key and not (isinstance(raw, dict) and value is None):
        try:
            state = vocab.qualitative(value) if not isinstance(value, (dict, list)) else None
        except ValueError:
            state = None
        if state is not True:  # the text is the result; 'not detected' or 'failed' beside it is not clear
            undecided = "the value beside the nuc ish result is not 'detected'"
    label = name if in_key else f"{name} (nuc ish)"
    try:
        readings = iscn.read(text)
    except iscn.IscnError as exc:
        r.unrecognised.setdefault("cytogenetics", []).append(label)
        r.warn(path, f"unrecognised cytogenetic finding '{label}' detected: the nuc ish result cannot be "
               f"read ({exc}), so criteria about cytogenetics cannot rule out what it reports and a person "
               "must judge them", _ISCN_HINT)
        return
    if percent is not None and (len(readings) > 1 or (readings[0].percent is not None
                                                       and abs(readings[0].percent - percent) > 1e-9)):
        raise r.fail(path + ("percent",), "differs from the nuclei [n/total] of the nuc ish result",
                     hint="leave percent out: it is read from [n/total]")
    keys[text] = name
    for reading in readings:
        share = reading.percent if reading.percent is not None else percent
        if undecided:
            kept = [_merge(r, out, keys, mixed, path, FindingResult(finding, None, None, text, when, undecided))
                    for finding in reading.concerned()]
            if any(kept):
                r.unusable(r.where(path), undecided, "write 'detected', or an object with date and method")
        else:
            for finding, detected in reading.findings.items():
                _merge(r, out, keys, mixed, path,
                       FindingResult(finding, detected, share if detected else None, text, when))
            for finding, why in reading.unusable.items():
                if _merge(r, out, keys, mixed, path, FindingResult(finding, None, None, text, when, why)):
                    r.unusable(r.where(path), f"{finding} cannot be read from the nuc ish result: {why}", _ISCN_HINT)
        for what in reading.unrecognised:
            r.unrecognised.setdefault("cytogenetics", []).append(what)
            r.warn(path, f"unrecognised cytogenetic finding '{what}' detected: criteria about cytogenetics "
                   "cannot rule it out, so a person must judge them", _ISCN_HINT)
        for probe in reading.ignored:
            r.warn(path, f"probe '{probe}' of the nuc ish result is not one trialscreen reads; its two "
                   "signals (the normal count) are ignored", "see iscn_probes in vocab/cytogenetics.yaml")


def _merge(r: _Reader, out: dict, keys: dict, mixed: set, path: tuple, res: FindingResult) -> bool:
    """Add a result read from ISCN; False when an earlier result decides the finding instead.
    A clear result stands over an undecided one; two clear results that disagree refuse the
    record. Percentages: one given fills in one not given; two that differ (a break-apart and
    a fusion probe count their own nuclei) leave the finding detected, its percentage unknown."""
    prev = out.get(res.finding)
    if prev is None or (prev.detected is None and res.detected is not None):
        out[res.finding] = res
        return True
    if res.detected is None:
        return False
    if prev.detected != res.detected:
        other = keys.get(prev.raw_name, prev.raw_name)
        raise r.fail(path, f"'{path[-1]}' and '{other}' both report {res.finding} with different results",
                     hint="keep the one that applies")
    if res.finding in mixed or res.percent is None:
        return True
    if prev.percent is None:
        out[res.finding] = res
    elif abs(prev.percent - res.percent) > 1e-9:
        mixed.add(res.finding)
        out[res.finding] = FindingResult(res.finding, True, None, prev.raw_name, prev.date)
        r.unusable(r.where(path), f"the percentage of cells with {res.finding} differs between two "
                   "results", "give the percentage that applies under the finding's name")
    return True


def _implied(r: _Reader, out: dict, keys: dict | None = None) -> dict:
    """Apply the vocabulary's ``implies`` links, along whole chains: a detected finding
    implies its parents (amp(1q) -> 1q+, monosomy 17 -> del(17p)); a parent not detected rules
    out its children (IGH rearrangement not detected -> no t(4;14)). A parent detected says
    nothing of its children: they stay as reported (absent: unknown)."""
    parents = vocab.findings().parents
    keys = keys or {}
    changed = True
    while changed:
        changed = False
        for child, res in list(out.items()):
            if res.detected is not True:
                continue
            for parent in parents.get(child, ()):
                have = out.get(parent)
                if have is not None and have.detected is False:
                    raise r.fail(("cytogenetics", keys.get(res.raw_name, res.raw_name)),
                                 f"{child} is detected but {parent} is reported not detected",
                                 hint="these results contradict each other; check the report")
                if have is None:
                    out[parent] = FindingResult(parent, True, None, f"implied by {res.raw_name}", res.date)
                    changed = True
        for parent, res in list(out.items()):
            if res.detected is not False:
                continue
            for child, ps in parents.items():
                if parent in ps and child not in out:
                    out[child] = FindingResult(child, False, None, f"implied by {res.raw_name} not detected",
                                               res.date)  # as old (or as far in the future) as its source
                    changed = True
    return out


def _conditions(r: _Reader, data: dict) -> dict:
    out = {}
    for name, canonical, raw, path in _known(r, data, "conditions", vocab.conditions(), _condition_present):
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


def _condition(r: _Reader, canonical: str, name: str, raw, path: tuple) -> ConditionState:
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


def _events(r: _Reader, data, section: str, key: str) -> list:
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
        event = Event(kind, r.opt_date(obj, "date", path), r.opt_date(obj, "start", path),
                      r.opt_date(obj, "end", path), attrs, i, known)
        if event.start and event.end and event.end < event.start:
            raise r.fail(path + ("end",), "ends before it starts")
        out.append(event)
    return out

"""The parts of FHIR R4 resources the reader reads: codings placed by code, dates, quantities,
answers, references and the site extensions (docs/fhir.md, "Codes" and "Dates").

Nothing is judged here: a value is returned as the resource holds it, for records.py to pass on.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from trialscreen import vocab
from trialscreen.errors import UnitError
from trialscreen.units.convert import factor
from trialscreen.units.normalize import normalize
from trialscreen.units.ucum import from_ucum
from trialscreen.vocab import codes

UCUM = "http://unitsofmeasure.org"
ATTRIBUTE = "urn:trialscreen:attribute:"
# the site vocabulary's kinds the reader reads itself, beside those vocab.codes places
SITE_KINDS = ("analyte", "finding", "condition", "diagnosis", "neoplasm", "treatment", "drug", "field",
              "result", "complete", "attestation", "attribute", "allergy")


def obj(resource: dict, key: str) -> dict:
    """``resource[key]`` when it is an object, else {} (a malformed element reads as absent)."""
    found = resource.get(key) if isinstance(resource, dict) else None
    return found if isinstance(found, dict) else {}


def items(resource, key: str) -> list:
    """``resource[key]`` when it is a list, else [] (a malformed element reads as absent)."""
    found = resource.get(key) if isinstance(resource, dict) else None
    return found if isinstance(found, list) else []


def codings(concept) -> list:
    """The (system, code) pairs of a CodeableConcept (or of a Coding), in order."""
    if not isinstance(concept, dict):
        return []
    listed = items(concept, "coding") if "coding" in concept else [concept]
    return [(str(c.get("system") or ""), str(c.get("code")).strip()) for c in listed
            if isinstance(c, dict) and c.get("code") is not None and str(c.get("code")).strip()]


def label(concept) -> str:
    """A CodeableConcept named for a warning: its first coding, and its text or display."""
    pairs = codings(concept)
    text = ""
    if isinstance(concept, dict):
        text = concept.get("text") or next((c.get("display") for c in items(concept, "coding")
                                            if isinstance(c, dict) and c.get("display")), "") or ""
    if not pairs:
        return f"'{text}' (no code)" if text else "with no code"
    system, code = pairs[0]
    name = codes.system_of(system) or system or "no system"
    return f"{name} {code}" + (f" '{text}'" if text else "")


def site(system: str, code: str) -> tuple | None:
    """A site code ``KIND:NAME`` as (kind, name), or None for any other coding."""
    if codes.system_of(system) != codes.SITE:
        return None
    kind, _, name = code.partition(":")
    kind, name = kind.strip().lower(), name.strip()
    if kind == "lab":
        kind = "analyte"            # lab:NAME names an analyte, as the reader places a LOINC code
    return (kind, name) if kind in SITE_KINDS and name else None


def place(concept, kinds: tuple) -> tuple | None:
    """What a CodeableConcept names, as (kind, name), among ``kinds``: an ambiguous diagnosis code
    decides over the others (it says the others are not sure); else the first coding placed. A
    site code names what it says, as written (the record reader canonicalises it). None: nothing."""
    found = []
    for system, code in codings(concept):
        own = site(system, code)
        if own is not None:
            if own[0] in kinds:
                found.append(own)
            continue
        hit = codes.lookup(system, code)
        if hit is not None and hit.kind in kinds:
            if hit.kind == "diagnosis" and vocab.diagnoses().canonical(hit.name) is None:
                return hit.kind, hit.name
            found.append((hit.kind, hit.name))
    return found[0] if found else None


def answer(concept):
    """The answer a coded value means (a grade, True/False, a result word, 'unknown'), or None."""
    for system, code in codings(concept):
        own = site(system, code)
        if own is not None and own[0] == "result":
            return own[1]
        value = codes.answer(system, code)
        if value is not None:
            return value
    return None


def partial(text) -> tuple | None:
    """A partial date ('2025', '2025-05') as its first and last day; None for anything else."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}(-\d{2})?", text.strip()):
        return None
    year, _, month = text.strip().partition("-")
    try:
        first = date(int(year), int(month or 1), 1)
        nxt = date(first.year + (1 if not month or first.month == 12 else 0),
                   1 if not month or first.month == 12 else first.month + 1, 1)
    except ValueError:
        return None
    return first, date.fromordinal(nxt.toordinal() - 1)


# what may follow the date of a dateTime: a possible time of day, and a zone
_TIME = re.compile(r"(T([01]\d|2[0-3]):[0-5]\d(:([0-5]\d|60)(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?)?")


def day(text) -> date | None:
    """The local date a FHIR date or dateTime is written with; None for a partial or bad date,
    and for a date with an impossible time ('2025-05-30T25:99:00Z': the file is not valid)."""
    text = text.strip() if isinstance(text, str) else text
    if not isinstance(text, str) or len(text) < 10 or not _TIME.fullmatch(text[10:]):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def clock(text) -> str | None:
    """What time a dateTime gives: 'zoned' (a time and its zone), 'local' (a time with no zone,
    which FHIR does not allow: it orders only against other local times), or None (a date alone,
    or no date)."""
    text = text.strip() if isinstance(text, str) else ""
    if day(text) is None or "T" not in text:
        return None
    return "zoned" if re.search(r"(Z|[+-]\d{2}:\d{2})$", text) else "local"


def instant(text: str, on: date | None) -> datetime:
    """When a date-time happened, in UTC, for ordering results of one local day (the day orders
    first: a date alone at 00:00 UTC would sort before the evening before in a US zone): a time
    without a zone is placed as if in UTC, which orders it only against other times without a
    zone (fhir/latest.py: beside a zoned result of its day, neither decides); a date alone as
    its midnight; datetime.min when undated."""
    if on is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else None
    except ValueError:
        moment = None
    if moment is None:
        return datetime(on.year, on.month, on.day, tzinfo=timezone.utc)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def when(resource: dict, *keys: str) -> tuple:
    """The first of ``keys`` (``effective``, ``onset``, ``performed``) present on the resource, as
    (date or None, the text it sorts by, written: whether any date was given)."""
    for key in keys:
        if isinstance(resource.get(key + "DateTime"), str):
            text = resource[key + "DateTime"]
            return day(text), text, True
        period = resource.get(key + "Period")
        if isinstance(period, dict) and (period.get("end") or period.get("start")):
            text = period.get("end") or period.get("start") if key == "effective" else period.get("start")
            return day(text), str(text or ""), True
        if isinstance(resource.get(key + "Instant"), str):
            return day(resource[key + "Instant"]), resource[key + "Instant"], True
    if "effective" in keys and isinstance(resource.get("issued"), str):
        return day(resource["issued"]), resource["issued"], True
    return None, "", False


def period(resource: dict, key: str) -> tuple:
    """(start text, end text) of ``key`` as a period or a single date-time ('' when absent)."""
    if isinstance(resource.get(key + "Period"), dict):
        p = resource[key + "Period"]
        return str(p.get("start") or ""), str(p.get("end") or "")
    single = resource.get(key + "DateTime") or resource.get(key + "Instant")
    return (str(single), str(single)) if isinstance(single, str) else ("", "")


def unit(quantity: dict, klass: str | None = None) -> str:
    """A Quantity's unit: its UCUM code through the unit grammar, else its unit as written. The
    unit as written is used also when the grammar cannot read the code but can read it (``klass``:
    the analyte's class, which decides U/L and K/uL). A trailing note in brackets ('mg/dL (calc)')
    is not part of the unit. See unit_clash for when the two disagree, unit_doubt for a written
    unit nobody reads beside a code."""
    code, text = _ucum_code(quantity), _written(quantity)
    if code and (not text or _grammar(from_ucum(code), klass) is not None or _grammar(_bare(text), klass) is None):
        return from_ucum(code)
    if text:
        return _bare(text) if _grammar(_bare(text), klass) is not None else text
    other = quantity.get("code")               # a code of another system, alone
    return other.strip() if isinstance(other, str) else ""


def unit_clash(quantity: dict, klass: str | None = None) -> str | None:
    """Why a Quantity's unit cannot be used when its UCUM code and its unit as written are both
    units the grammar reads but not the same unit (mg/dL against umol/L, or 'mg/dL (calc)': one
    of them is wrong); None when they agree, when one is missing or when the grammar cannot read one."""
    code, text = _ucum_code(quantity), _written(quantity)
    coded, written = _grammar(from_ucum(code), klass), _grammar(_bare(text), klass)
    if coded is None or written is None:
        return None
    try:
        same = (coded.expr, coded.scale) == (written.expr, written.scale) or abs(factor(coded, written) - 1) < 1e-9
    except UnitError:
        same = False
    return None if same else f"the unit '{text}' and the UCUM code '{code}', which are not the same unit"


def unit_doubt(quantity: dict, klass: str | None = None) -> str | None:
    """What a warning says when a Quantity's UCUM code is read beside a unit as written that the
    grammar cannot read, so nobody can tell that the two agree; None otherwise."""
    code, text = _ucum_code(quantity), _written(quantity)
    if not code or not text or _grammar(from_ucum(code), klass) is None or _grammar(_bare(text), klass) is not None:
        return None
    return (f"the unit '{text}', which trialscreen cannot read, beside the UCUM code '{code}': the code is "
            "read, not checked against the unit")


def _bare(text: str) -> str:
    """A unit as written without a trailing note in brackets: 'mg/dL (calc)' -> 'mg/dL'."""
    return re.sub(r"\s*\([^()]*\)$", "", text).strip()


def _ucum_code(quantity: dict) -> str:
    code = quantity.get("code")
    ucum = str(quantity.get("system") or "").strip() == UCUM
    return code.strip() if ucum and isinstance(code, str) else ""


def _written(quantity: dict) -> str:
    text = quantity.get("unit")
    return text.strip() if isinstance(text, str) else ""


def _grammar(spelling: str, klass: str | None):
    """The unit grammar's reading of a spelling, or None (empty, or not a unit it reads)."""
    if not spelling:
        return None
    try:
        return normalize(spelling, klass)
    except UnitError:
        return None


def number(value):
    """A JSON number as the record writes it: 2.0 as 2."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def status(resource: dict, key: str = "status") -> str:
    value = resource.get(key)
    if isinstance(value, dict):          # clinicalStatus, verificationStatus: a CodeableConcept
        listed = [c for c in items(value, "coding") if isinstance(c, dict) and isinstance(c.get("code"), str)]
        hl7 = [c for c in listed if str(c.get("system") or "").startswith("http://terminology.hl7.org/")]
        chosen = (hl7 or listed)[:1]     # the HL7 code system's code, else the first
        return chosen[0]["code"].strip().lower() if chosen else ""
    return str(value or "").strip().lower()


def attributes(resource: dict) -> dict:
    """The site attribute extensions of a resource: key -> value (several ``drug`` ones as a list)."""
    out: dict = {}
    for ext in items(resource, "extension"):
        url = ext.get("url") if isinstance(ext, dict) else None
        if not isinstance(url, str) or not url.startswith(ATTRIBUTE):
            continue
        key = url[len(ATTRIBUTE):]
        value = next((ext[k] for k in ("valueString", "valueInteger", "valueDecimal", "valueBoolean",
                                       "valueCode") if k in ext), None)
        if key == "drug":
            out.setdefault("drugs", []).append(value)
        else:
            out[key] = number(value)
    return out


def reference_id(ref) -> str:
    """The reference text of a Reference (``Patient/1``, ``urn:uuid:...``), or ''."""
    if isinstance(ref, dict):
        ref = ref.get("reference")
    return ref.strip() if isinstance(ref, str) else ""


def patient_refs(resource: dict) -> list:
    """The references a resource makes to its patient (``subject``, ``patient``), those that name
    a Patient first (a subject may be a Group)."""
    refs = [r for r in (reference_id(resource.get("subject")), reference_id(resource.get("patient"))) if r]
    return sorted(refs, key=lambda r: "Patient/" not in r and not r.startswith("urn:"))


def ref_keys(ref: str) -> list:
    """The keys a reference may match a Patient by: itself and ``Patient/ID`` from a URL."""
    out = [ref]
    ref = re.sub(r"/_history/[^/]*$", "", ref)          # a versioned reference names the resource
    out.append(ref)
    parts = ref.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] in ("Patient", "Medication"):
        out.append(f"{parts[-2]}/{parts[-1]}")
    return out

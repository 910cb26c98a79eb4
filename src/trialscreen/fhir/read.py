"""FHIR R4 Bundles: each Patient in one, with its resources, as a patient record (docs/fhir.md).

``bundle_records`` groups a bundle's resources by the Patient they name and builds each record
(records.py); ``load_patients`` is what ``trialscreen screen`` calls on a file: a Bundle gives its
patients, anything else is read as a patient record, as before.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from trialscreen import vocab
from trialscreen.errors import FileReadError, InputError, Location, PatientError, Problem
from trialscreen.fhir import values as v
from trialscreen.fhir.records import Deceased, build_record, patient_id
from trialscreen.fhir.subjects import NOBODY, Index, absolute, unversioned
from trialscreen.patient.fields import FIELDS
from trialscreen.patient.jsonpos import loads_strict
from trialscreen.patient.load import condition_present
from trialscreen.textio import MAX_BYTES, decode
from trialscreen.vocab.iscn_parse import is_iscn

MAX_BUNDLE_BYTES = 100_000_000       # an $everything bundle is larger than a record
# the resource types a rule reads (and Medication, which medicationReference points to, and
# DiagnosticReport, whose contained Observations are read)
READ_TYPES = frozenset({"Patient", "Observation", "Condition", "MedicationStatement", "MedicationRequest",
                        "MedicationDispense", "DiagnosticReport",
                        "MedicationAdministration", "Medication", "Procedure", "AllergyIntolerance"})
_OWN = ("'unplaced ",)      # the reader's warnings about what records.py passed on unplaced
_PAGE_LAB = "only one page of the bundle was read, and a newer result may be on another page"


def is_bundle(data) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def bundle_records(bundle: dict, source: str, as_of: date, notes: list | None = None,
                   deceased: list | None = None, refused: list | None = None) -> list:
    """The records (omop.records.Built) of every Patient in ``bundle``, in entry order.
    ``notes``, when given, receives what concerns the bundle rather than one patient (else every
    patient's notes do); ``deceased``, when given, receives the sentence for each Patient
    recorded deceased by the as-of date, who is left out (else that is an error); ``refused``,
    when given, receives the error of a Patient that cannot be screened (given twice, differently),
    and the others are read (else that error is raised)."""
    patients, medications, others = _entries(bundle, source)
    lost: list = []
    for res in others:
        owner = patients.index.owner(res)
        if owner is None and len(patients.items) == 1:
            owner = 0                    # a resource naming nobody, in a one-patient bundle
        if owner is None or owner == NOBODY:
            lost.append(res)
        else:
            patients.items[owner][1].append(res)
    said = _bundle_notes(bundle, lost)
    built = []
    for i, (p, resources) in enumerate(patients.items):
        if i in patients.conflicted:
            error = _given_twice(p, source)
            if refused is None:
                raise error
            refused.append(error)
            continue
        try:
            b = build_record(p, _on_a_page(resources) if _paged(bundle) else resources, as_of, medications)
            if _paged(bundle):
                _latest_unknown(b.record)
        except Deceased as exc:
            if deceased is None:
                raise
            deceased.append(exc.message)
            continue
        b.record["id"] = b.record["id"] or f"patient {i + 1}"
        built.append(b)
    if notes is not None:
        notes.extend(said)
    else:
        for b in built:
            b.notes.extend(said)
    return built


def _bundle_notes(bundle: dict, lost: list) -> list:
    """What concerns every patient of the bundle: resources left out (the first three named), and
    a bundle that is one page."""
    said = []
    if lost:
        named = ", ".join(_named(res) for res in lost[:3]) + (f" and {len(lost) - 3:,} more" if len(lost) > 3 else "")
        said.append(f"{len(lost):,} resource(s) of the bundle name no Patient in it (their subject is another "
                    "person, an identifier no Patient of the bundle carries, or nobody while the bundle holds "
                    f"several patients): not read ({named}; if one is a patient's own, give its subject as a "
                    "reference to the Patient)")
    if _paged(bundle):
        said.append("the bundle is one page of a larger result (it has a 'next' or 'previous' link): the "
                    "other pages were not read, so what is not on this page is not known to be absent, and "
                    "a newer result may be on another: no section is taken as attested complete, the labs "
                    "are unusable, and the person fields (ecog, weight, ...), the conditions and cytogenetic "
                    "findings recorded absent and the attestations of this page are not read, so no patient "
                    "of it is eligible (give every page in one bundle)")
    return said


def _latest_unknown(record: dict) -> None:
    """What the latest result decides, read from one page (_paged): unknown, since a newer result
    may be on another page. Labs are unusable with that reason; person fields, recorded absences
    and attestations are left out (the page's warning names them), so their criteria are unknown."""
    labs = record.get("labs") or {}
    for name, entry in labs.items():
        if not (isinstance(entry, dict) and "unusable" in entry):
            kept = {k: entry[k] for k in ("date", "earlier") if isinstance(entry, dict) and k in entry}
            labs[name] = {"unusable": _PAGE_LAB, **kept}
    for name in FIELDS:
        if name != "sex":                # sex is the Patient's own, on this page
            record.pop(name, None)
    record.pop("attestations", None)
    for section, absent in (("conditions", _recorded_absent), ("cytogenetics", _not_detected)):
        held = record.get(section)
        if isinstance(held, dict):
            record[section] = {name: entry for name, entry in held.items() if not absent(name, entry)}


def _recorded_absent(name: str, entry) -> bool:
    return condition_present(entry) is False


def _not_detected(name: str, entry) -> bool:
    """A finding not reported detected, or a nuc ish result (which reports its probes' absences)."""
    said = entry.get("result") if isinstance(entry, dict) else entry
    try:
        return is_iscn(name) or not isinstance(said, str) or vocab.qualitative(said) is not True
    except ValueError:
        return True


def _named(resource: dict) -> str:
    """A resource as a coordinator finds it on the server: Observation/cr-other."""
    kind = resource.get("resourceType") if isinstance(resource.get("resourceType"), str) else "a resource"
    ident = resource.get("id")
    return f"{kind}/{ident.strip()}" if isinstance(ident, str) and ident.strip() else f"{kind} with no id"


def _paged(bundle: dict) -> bool:
    """Whether the bundle is one page of a paged search ($everything is paged by many servers)."""
    links = [bundle["link"]] if isinstance(bundle.get("link"), dict) else v.items(bundle, "link")   # one, not a list
    return any(isinstance(link, dict) and link.get("url")
               and str(link.get("relation") or "").strip().lower() in ("next", "previous", "prev")
               for link in links)


def _on_a_page(resources: list) -> list:
    """A page's resources but its complete:SECTION attestations: a page cannot hold every item."""
    def attests(res: dict) -> bool:
        return res.get("resourceType") == "Observation" and any(
            (v.site(system, code) or ("",))[0] == "complete" for system, code in v.codings(res.get("code")))
    return [r for r in resources if not attests(r)]


def _given_twice(patient: dict, source: str) -> PatientError:
    name = f"Patient/{patient['id']}" if isinstance(patient.get("id"), str) else f"Patient {patient_id(patient)!r}"
    return PatientError(f"{name} is given twice in the bundle, differently (two people, or two servers' "
                        "copies): which resources are whose cannot be told, so it is not screened",
                        Location(source, field="entry"),
                        hint="give each patient once, or the versions of one with their meta.versionId")


def _latest_versions(entries: list) -> list:
    """The entries holding a resource, one per resource type and id: the highest meta.versionId
    (else the latest meta.lastUpdated, else the first given, as a history bundle lists the newest
    first), so that a corrected or entered-in-error version hides the one it replaces. A Patient
    given again, differently, that is no other version of it (the same version, or another
    server's fullUrl) is kept beside it, for _entries to refuse."""
    best: dict = {}
    order: list = []
    for e in _flat(entries):
        res = e.get("resource")
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            continue
        key = (res["resourceType"], res.get("id")) if isinstance(res.get("id"), str) else (None, len(order))
        if key in best and key[0] == "Patient" and res != best[key]["resource"] and not _versions(e, best[key]):
            key = (None, len(order))
        if key not in best:
            order.append(key)
            best[key] = e
        elif key[0] is not None and _version(res) > _version(best[key]["resource"]):
            best[key] = e
    return [best[k] for k in order]


def _versions(a: dict, b: dict) -> bool:
    """Whether two entries of one type and id are two versions of one resource: they can be
    ordered, and they are not the fullUrls of two servers."""
    urls = [str(e.get("fullUrl") or "").strip() for e in (a, b)]
    if all(absolute(u) for u in urls) and unversioned(urls[0]) != unversioned(urls[1]):
        return False
    return _version(a["resource"]) != _version(b["resource"])
def _flat(entries: list, depth: int = 0):
    """The entries holding a resource, those of a Bundle inside the bundle too (a document or
    message bundle holds its resources so)."""
    for e in entries:
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict):
            continue
        if res.get("resourceType") == "Bundle" and isinstance(res.get("entry"), list) and depth < 5:
            yield from _flat(res["entry"], depth + 1)
        else:
            yield e


def _version(res: dict) -> tuple:
    meta = v.obj(res, "meta")
    number = str(meta.get("versionId") or "")
    return (int(number) if number.isdigit() else -1, str(meta.get("lastUpdated") or ""))


class _Patients:
    def __init__(self):
        self.items: list = []          # (Patient resource, its resources)
        self.index = Index()           # finds the Patient a resource names
        self.conflicted: set = set()   # Patients given twice, differently: not screened


def _entries(bundle: dict, source: str) -> tuple:
    """The bundle's Patients, its Medications by reference, and its other resources read."""
    entries = bundle.get("entry")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise InputError(f"{source}: the Bundle's 'entry' is not a list", Location(source, field="entry"),
                         hint="a Bundle holds its resources as entry[].resource")
    patients = _Patients()
    medications: dict = {}
    others: list = []
    for e in _latest_versions(entries):
        res = e.get("resource")
        if res["resourceType"] not in READ_TYPES:
            continue
        url = str(e.get("fullUrl") or "").strip()
        if res["resourceType"] == "Patient":
            known = patients.index.known(res, url)
            if known is not None and res != patients.items[known][0]:
                patients.conflicted.add(known)
            if known is None:
                known = len(patients.items)
                patients.items.append((res, []))
            patients.index.add(known, res, url)
        elif res["resourceType"] == "Medication":
            names = [n for n in (url, f"Medication/{res.get('id')}" if res.get("id") else "") if n]
            medications.update({n: res for n in names})
        else:
            others.append(res)
    if not patients.items:
        raise InputError(f"{source} is a FHIR Bundle with no Patient resource, so there is nobody to screen",
                         Location(source), hint="export the bundle with the Patient ($everything includes it)")
    return patients, medications, others


def load_patients(path: str, as_of: date | None, refused: list | None = None) -> list:
    """(Patient, warnings) of a file given to ``screen``: each patient of a FHIR Bundle (screened
    as of ``as_of``, else today), or the one patient record it holds. What the FHIR reader notes
    is among the patient's warnings, so every output format shows it. ``refused``, when given,
    receives the error of each patient of a bundle whose record cannot be read, so that the others
    are screened all the same (else the first such error is raised)."""
    from trialscreen.patient.load import patient_from_dict

    text, name = _read(path)
    data = loads_strict(text, name)
    if not is_bundle(data):
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise PatientError(f"the file is larger than {MAX_BYTES // 1_000_000} MB", Location(name),
                               hint="a patient record is a small JSON file")
        patient = patient_from_dict(data, name, text)
        return [(patient, [str(w) for w in patient.warnings])]
    notes: list = []
    deceased: list = []
    out: list = []
    for built in bundle_records(data, name, as_of or date.today(), notes, deceased, refused):
        try:
            patient = patient_from_dict(built.record, name)
        except PatientError as exc:
            if refused is None:
                raise
            refused.append(PatientError(f"patient {built.record['id']}: {exc.message}", exc.location, exc.hint))
            continue
        kept = [w for w in patient.warnings if not any(o in w.message for o in _OWN)]
        kept += [Problem(Location(name), n, severity="warning") for n in built.notes]
        kept += [Problem(Location(name), unplaced_warning(role, label, None), severity="warning")
                 for role, label in dict.fromkeys(built.unplaced)]
        shared = [Problem(Location(name), n, severity="warning") for n in notes]
        patient.warnings[:] = kept + shared          # every result of the bundle says what concerns it
        out.append((patient, [str(w) for w in kept + (shared if not out else [])]))    # the terminal: once
    if not out and refused:
        raise refused.pop(0)
    if not out:
        raise InputError(f"{name}: every Patient in the bundle is recorded deceased ({'; '.join(deceased)})",
                         Location(name), hint="nobody to screen")
    out[0][1].extend(f"{name}: {n}" for n in deceased)
    return out


def unplaced_warning(role: str, label: str, persons: int | None) -> str:
    """The one sentence about a code nobody can place."""
    what = "conditions" if role == "condition" else "treatments"
    who = "" if persons is None else f" for the {persons:,} patient(s) with it"
    return (f"{role} {label} is not in trialscreen's vocabularies: criteria about {what} are unknown{who} "
            "(add the code to vocab/)")


def _read(path: str) -> tuple[str, str]:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_BUNDLE_BYTES + 1)
        name = "<stdin>"
    else:
        p = Path(path)
        try:
            if p.is_dir():
                raise FileReadError(f"'{path}' is a folder, not a patient file", Location(path),
                                    hint="screen a folder of NDJSON (a Bulk Data export) with 'trialscreen batch'")
            if p.stat().st_size > MAX_BUNDLE_BYTES:
                raise PatientError(f"the file is larger than {MAX_BUNDLE_BYTES // 1_000_000} MB", Location(path),
                                   hint="split the bundle, or export NDJSON and use 'trialscreen batch'")
            data = p.read_bytes()
        except FileNotFoundError:
            raise FileReadError(f"no such file: {path}", Location(path), hint="check the path") from None
        except PermissionError:
            raise FileReadError(f"cannot read {path}: permission denied", Location(path)) from None
        name = path
    if len(data) > MAX_BUNDLE_BYTES:
        raise PatientError(f"the input is larger than {MAX_BUNDLE_BYTES // 1_000_000} MB", Location(name))
    return decode(data, name, PatientError, MAX_BUNDLE_BYTES), name


def load_all(paths: list, as_of: date | None, refused: list) -> list:
    """(Patient, warnings) of every patient ``screen`` is given: a record or Bundle file each
    (load_patients), a JSON Lines file a record a line, a folder its .json and .jsonl files in name
    order. With one record or Bundle file this is load_patients; otherwise a file or line that
    cannot be read goes to ``refused`` and the others are screened."""
    if len(paths) == 1 and (paths[0] == "-" or not (Path(paths[0]).is_dir() or paths[0].lower().endswith(".jsonl"))):
        return load_patients(paths[0], as_of, refused)      # the common case, without importing more
    from trialscreen.batch.sources import is_lines, record_files

    for path in paths:
        if path != "-" and Path(path).is_dir() and not record_files([path]):
            raise FileReadError(f"'{path}' is a folder with no .json or .jsonl patient file", Location(path),
                                hint="screen a folder of NDJSON (a Bulk Data export) with 'trialscreen batch'")
    out: list = []
    for path in record_files(paths):
        try:
            out += _lines_of(path, refused) if is_lines(path) else load_patients(path, as_of, refused)
        except (InputError, FileReadError) as exc:
            refused.append(exc)
    if not out and refused:
        raise refused.pop(0)
    return out


def _lines_of(path: str, refused: list) -> list:
    """(Patient, warnings) of each line of a JSON Lines file of records; a line that cannot be read
    goes to ``refused``, placed at its line."""
    from trialscreen.batch.sources import jsonl_lines
    from trialscreen.patient.load import patient_from_dict

    out = []
    for number, text in jsonl_lines(path, MAX_BYTES):
        try:
            if isinstance(text, InputError):
                raise text
            patient = patient_from_dict(loads_strict(text, path), path)
        except InputError as exc:
            refused.append(PatientError(exc.message, Location(path, number, field=exc.location.field), exc.hint,
                                        exc.value))
            continue
        patient.warnings[:] = [Problem(Location(path, number, field=w.location.field), w.message, w.hint, w.severity)
                               for w in patient.warnings]
        out.append((patient, [str(w) for w in patient.warnings]))
    return out

"""FHIR R4 Bundles: each Patient in one, with its resources, as a patient record (docs/fhir.md).

``bundle_records`` groups a bundle's resources by the Patient they name and builds each record
(records.py); ``load_patients`` is what ``trialscreen screen`` calls on a file: a Bundle gives its
patients, anything else is read as a patient record, as before.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from trialscreen.errors import FileReadError, InputError, Location, PatientError
from trialscreen.fhir import values as v
from trialscreen.fhir.records import build_record
from trialscreen.patient.jsonpos import loads_strict
from trialscreen.textio import MAX_BYTES, decode

MAX_BUNDLE_BYTES = 100_000_000       # an $everything bundle is larger than a record
# the resource types a rule reads (and Medication, which medicationReference points to)
READ_TYPES = frozenset({"Patient", "Observation", "Condition", "MedicationStatement", "MedicationRequest",
                        "MedicationAdministration", "Medication", "Procedure", "AllergyIntolerance"})
_OWN = ("'unplaced ",)      # the reader's warnings about what records.py passed on unplaced


def is_bundle(data) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def bundle_records(bundle: dict, source: str, as_of: date) -> list:
    """The records (omop.records.Built) of every Patient in ``bundle``, in entry order."""
    entries = bundle.get("entry")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise InputError(f"{source}: the Bundle's 'entry' is not a list", Location(source, field="entry"),
                         hint="a Bundle holds its resources as entry[].resource")
    patients: list = []          # (Patient resource, its resources)
    keys: dict = {}              # a reference to a Patient -> its index
    medications: dict = {}
    others: list = []
    for e in entries:
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") not in READ_TYPES:
            continue
        names = [n for n in (str(e.get("fullUrl") or "").strip(),
                             f"{res['resourceType']}/{res.get('id')}" if res.get("id") else "") if n]
        if res["resourceType"] == "Patient":
            known = next((keys[n] for n in names if n in keys), None)
            if known is None:
                known = len(patients)
                patients.append((res, []))
            keys.update({n: known for n in names})
        elif res["resourceType"] == "Medication":
            medications.update({n: res for n in names})
        else:
            others.append(res)
    if not patients:
        raise InputError(f"{source} is a FHIR Bundle with no Patient resource, so there is nobody to screen",
                         Location(source), hint="export the bundle with the Patient ($everything includes it)")
    lost = 0
    for res in others:
        found = [keys[k] for ref in v.patient_refs(res) for k in v.ref_keys(ref) if k in keys]
        if found:
            patients[found[0]][1].append(res)
        elif not v.patient_refs(res) and len(patients) == 1:
            patients[0][1].append(res)
        else:
            lost += 1
    built = [build_record(p, resources, as_of, medications) for p, resources in patients]
    for i, b in enumerate(built):
        if not b.record["id"]:
            b.record["id"] = f"patient {i + 1}"
    if lost:
        built[0].notes.append(f"{lost:,} resource(s) of the bundle name no Patient in it (or none, with "
                              "several patients in the bundle): not read")
    return built


def load_patients(path: str, as_of: date | None) -> list:
    """(Patient, warnings) of a file given to ``screen``: each patient of a FHIR Bundle (screened
    as of ``as_of``, else today), or the one patient record it holds."""
    from trialscreen.patient.load import patient_from_dict

    text, name = _read(path)
    data = loads_strict(text, name)
    if not is_bundle(data):
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise PatientError(f"the file is larger than {MAX_BYTES // 1_000_000} MB", Location(name),
                               hint="a patient record is a small JSON file")
        patient = patient_from_dict(data, name, text)
        return [(patient, [str(w) for w in patient.warnings])]
    out = []
    for built in bundle_records(data, name, as_of or date.today()):
        patient = patient_from_dict(built.record, name)
        warnings = [str(w) for w in patient.warnings if not any(o in w.message for o in _OWN)]
        warnings += [f"{built.record['id']}: {n}" for n in built.notes]
        warnings += [unplaced_warning(role, label, None) for role, label in dict.fromkeys(built.unplaced)]
        out.append((patient, warnings))
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

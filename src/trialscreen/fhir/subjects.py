"""Whom a FHIR resource is about: the person its ``subject`` or ``patient`` names (docs/fhir.md, "Inputs").

A resource belongs to the Patient its reference names (``Patient/ID``, an absolute URL, the
``fullUrl`` of the Patient's entry) or, with no reference text, the Patient that carries the
identifier it names (system and value; the value alone when either side has no system). One that
names somebody the input does not hold (another MRN, another server's URL) belongs to nobody: it is
not read. A display alone names nobody, as no subject does. The bundle reader (read.py) and the
Bulk reader (bulk.py) both follow this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trialscreen.fhir import values as v

NOBODY = -1          # names somebody who is not in the input


@dataclass
class Named:
    """What a resource's subject and patient elements name: reference texts (those naming a
    Patient first), identifiers (system, value), and whether they name anybody at all."""

    refs: list
    identifiers: list
    anybody: bool


def named(resource: dict) -> Named:
    refs = v.patient_refs(resource)
    identifiers = []
    anybody = bool(refs)
    for key in ("subject", "patient"):
        ref = resource.get(key)
        if not isinstance(ref, dict):
            continue
        ident = identifier(ref.get("identifier"))
        if ident is not None:
            identifiers.append(ident)
        if ident is not None:
            anybody = True
        # a display alone identifies nobody: the resource is read as one with no subject (the only
        # Patient's, in a one-patient bundle, where a server put it; nobody's with several)
    return Named(refs, identifiers, anybody)


def identifier(ident) -> tuple | None:
    """An Identifier as (system, value), '' for no system; None without a value."""
    value = ident.get("value") if isinstance(ident, dict) else None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    value = str(value).strip()
    system = ident.get("system")
    return (system.strip() if isinstance(system, str) else "", value) if value else None


def identifiers_of(patient: dict) -> list:
    """The (system, value) identifiers a Patient carries."""
    return [i for i in (identifier(x) for x in v.items(patient, "identifier")) if i is not None]


def same_identifier(a: tuple, b: tuple) -> bool:
    return a[1] == b[1] and (a[0] == b[0] or not a[0] or not b[0])


def absolute(url: str) -> bool:
    return bool(re.match(r"https?://", url, re.I))


def unversioned(url: str) -> str:
    return re.sub(r"/_history/[^/]*$", "", url.strip()).rstrip("/")


@dataclass
class Index:
    """The Patients of a bundle, for finding the one a resource names."""

    keys: dict = field(default_factory=dict)         # a reference to a Patient -> its index
    urls: dict = field(default_factory=dict)         # index -> its absolute fullUrl
    idents: list = field(default_factory=list)       # (system, value, index)

    def add(self, index: int, patient: dict, full_url: str) -> None:
        names = [unversioned(full_url)] if full_url else []
        if isinstance(patient.get("id"), str) and patient["id"].strip():
            names.append(f"Patient/{patient['id'].strip()}")
        self.keys.update({n: index for n in names})
        if full_url and absolute(full_url):
            self.urls.setdefault(index, unversioned(full_url))
        self.idents += [(*i, index) for i in identifiers_of(patient)]

    def known(self, patient: dict, full_url: str) -> int | None:
        """The index of a Patient already added under the same fullUrl or id."""
        names = [unversioned(full_url)] if full_url else []
        if isinstance(patient.get("id"), str) and patient["id"].strip():
            names.append(f"Patient/{patient['id'].strip()}")
        return next((self.keys[n] for n in names if n in self.keys), None)

    def owner(self, resource: dict) -> int | None:
        """The index of the Patient ``resource`` names; NOBODY when it names somebody not in the
        bundle; None when it names nobody at all."""
        said = named(resource)
        if said.refs:
            found = [i for i in (self._by_reference(r) for r in said.refs) if i is not None]
            return found[0] if found else NOBODY
        if said.identifiers:             # the first, as the Bulk reader reads it
            carriers = {i for s, val, i in self.idents if same_identifier((s, val), said.identifiers[0])}
            return carriers.pop() if len(carriers) == 1 else NOBODY
        return NOBODY if said.anybody else None

    def _by_reference(self, ref: str) -> int | None:
        ref = unversioned(ref)
        if ref in self.keys:
            return self.keys[ref]
        parts = ref.split("/")
        if len(parts) < 2 or parts[-2] != "Patient":
            return None
        index = self.keys.get(f"Patient/{parts[-1]}")
        # an absolute URL names the Patient of that fullUrl; one of another server names somebody else
        if index is not None and absolute(ref) and index in self.urls:
            return None
        return index

"""Codes of the standard terminologies (LOINC, SNOMED CT, ICD-10-CM, RxNorm, ATC) to vocabulary entries.

The codes are data: the ``codes:`` of each entry of conditions.yaml, diagnoses.yaml,
treatments.yaml and drugs.yaml, the analytes' LOINC codes, observations.yaml (the person
fields a code names and the coded answers), and not_conditions.yaml: codes a problem list holds
that are no condition any rule reads (employment, education), kind ``none``, "placed: nothing
trialscreen reads". A code that is not listed names nothing: it is never matched by its display
name. ICD-10-CM, ICD-9-CM and ATC are hierarchical codes, so a code matches its longest listed
prefix (C90.01 is C90.0, L01XG01 is under L01); the other systems match exactly.

The site vocabulary ``trialscreen`` (docs/omop.md) names entries directly: ``KIND:NAME``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from trialscreen import vocab

SITE = "trialscreen"
# the vocabularies with codes: kind -> (loader, data file)
_TERMS = {"condition": vocab.conditions, "diagnosis": vocab.diagnoses,
          "treatment": vocab.treatments, "drug": vocab.drugs}
_SITE_KINDS = {"lab": "analyte", "analyte": "analyte", "finding": "finding", "condition": "condition",
               "diagnosis": "diagnosis", "treatment": "treatment", "drug": "drug", "field": "field"}
_PREFIX_SYSTEMS = ("ICD10CM", "ICD9CM", "ATC")
# how sources spell the systems: OMOP vocabulary_id, FHIR system URIs
_SYSTEMS = {"loinc": "LOINC", "http://loinc.org": "LOINC", "snomed": "SNOMED", "snomedct": "SNOMED",
            "http://snomed.info/sct": "SNOMED", "icd10cm": "ICD10CM", "icd-10-cm": "ICD10CM",
            "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM", "icd9cm": "ICD9CM", "icd-9-cm": "ICD9CM",
            "http://hl7.org/fhir/sid/icd-9-cm": "ICD9CM", "rxnorm": "RxNorm",
            "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm", "atc": "ATC",
            "http://www.whocc.no/atc": "ATC", SITE: SITE, "urn:trialscreen": SITE,
            "ncit": "NCIT", "http://ncicb.nci.nih.gov/xml/owl/evs/thesaurus.owl": "NCIT"}


@dataclass(frozen=True)
class Code:
    """What a code names: ``kind`` analyte, finding, condition, diagnosis, treatment, drug or
    field, and the entry's canonical name; or kind ``none``, a code listed as nothing any rule
    reads (not_conditions.yaml), and its display."""

    kind: str
    name: str


def system_of(system: str) -> str | None:
    """The terminology a source's system name means ('snomed', 'http://snomed.info/sct' -> 'SNOMED')."""
    return _SYSTEMS.get(str(system).strip().lower())


def _key(system: str, code) -> str:
    """A code as the index holds it: ICD and ATC codes in capitals and without the dot (sources
    write C90.01 and C9001 alike)."""
    code = str(code).strip()
    return code.upper().replace(".", "") if system in _PREFIX_SYSTEMS else code


def _index() -> dict:
    """(system, code) -> Code, from every vocabulary; a code under two entries is an error in the data."""
    return _indexed()[0]


@lru_cache(maxsize=None)
def _indexed() -> tuple[dict, dict]:
    """The index, and Code -> the (system, code) pairs listed for it as the data files write them."""
    index: dict = {}
    listed_for: dict = {}

    def add(system: str, code, found: Code) -> None:
        if system_of(system) != system:
            raise ValueError(f"{found.kind} {found.name}: unknown code system {system!r}")
        key = (system, _key(system, code))
        if index.get(key, found) != found:
            raise ValueError(f"{system} code {code} names both {index[key].name} and {found.name}")
        index[key] = found
        listed_for.setdefault(found, []).append((system, str(code)))

    for name, analyte in vocab.analytes().entries.items():
        for code in analyte.codes:
            add("LOINC", code, Code("analyte", name))
    for kind, loader in _TERMS.items():
        for name, term in loader().entries.items():
            for system, listed in (term.extra.get("codes") or {}).items():
                for code in listed:
                    add(system, code, Code(kind, name))
    for system, listed in (vocab.load_file("diagnoses.yaml").get("ambiguous_codes") or {}).items():
        for code, label in listed.items():
            add(system, code, Code("diagnosis", str(label)))   # a name no diagnosis has: undecided
    for listed in vocab.load_file("not_conditions.yaml")["codes"]:
        add(listed["system"], listed["code"], Code("none", str(listed["display"])))
    for name, raw in _observations()["fields"].items():
        for system, listed in (raw.get("codes") or {}).items():
            for code in listed:
                add(system, code, Code("field", name))
    return index, listed_for


def _observations() -> dict:
    return vocab.load_file("observations.yaml")


def lookup(system: str, code) -> Code | None:
    """The entry a code names, or None. ``system`` as OMOP or FHIR spell it (any case)."""
    if code is None:
        return None
    name = system_of(system)
    if name is None:
        return None
    if name == SITE:
        return _site(str(code))
    index, key = _index(), _key(name, code)
    if name in _PREFIX_SYSTEMS:
        while key:
            if (found := index.get((name, key))) is not None:
                return found
            key = key[:-1]
        return None
    return index.get((name, key))


def _site(code: str) -> Code | None:
    written, _, name = code.partition(":")
    kind = _SITE_KINDS.get(written.strip().lower())
    if kind is None or not name.strip():
        return None
    if kind == "field":
        return Code("field", name.strip().lower())
    loader = {"analyte": vocab.analytes, "finding": vocab.findings, **_TERMS}[kind]
    canonical = loader().canonical(name.strip())
    return Code(kind, canonical) if canonical else None


def answer(system: str, code):
    """The answer a coded result means: a grade (int), True/False, a result word ('positive',
    'not detected') or 'unknown'; None for a code that is not an answer the vocabulary lists."""
    name = system_of(system)
    if name is None or code is None:
        return None
    return (_observations()["answers"].get(name) or {}).get(str(code).strip())


def codes_of(kind: str, name: str) -> list[tuple[str, str]]:
    """Every (system, code) listed for an entry, in the data file's order ([] when none)."""
    return list(_indexed()[1].get(Code(kind, name), ()))


def atc_to_judge(code) -> bool:
    """Whether an ATC class holds drugs that may or may not be antineoplastic therapy (drugs.yaml
    ``atc_to_judge``: glucocorticoids, immunostimulants, immunosuppressants), by prefix."""
    key = _key("ATC", code)
    return any(key.startswith(_key("ATC", c)) for c in vocab.load_file("drugs.yaml").get("atc_to_judge") or ())


def drug_treatment(name: str) -> str | None:
    """The treatment type an exposure to a drug is ('chemotherapy'), 'ask' when a person must
    judge it (a glucocorticoid may be antineoplastic or supportive), or None: not a treatment."""
    term = vocab.drugs().get(name)
    return term.extra.get("treatment") if term is not None else None

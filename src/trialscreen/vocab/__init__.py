"""The vocabularies: analytes, cytogenetic findings, conditions and diagnoses.

They are data (the YAML files beside this module), not code: adding a synonym
or an analyte is an edit to a data file. Names are matched after a light
normalisation (case, spaces, punctuation), and every look-up that fails can
say "did you mean ...".
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from trialscreen.units.normalize import Unit, normalize

_HERE = Path(__file__).parent


def _load(name: str) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(_HERE / name, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    """Key for analyte, condition and diagnosis names: 'Total Bilirubin' -> 'total_bilirubin'."""
    return re.sub(r"[^0-9a-z%+]+", "_", str(text).strip().lower()).strip("_")


_BANDS = re.compile(r"^(t\(\d+;\d+\))\(.*\)$")


@lru_cache(maxsize=65536)
def finding_key(text: str) -> str:
    """Key for cytogenetic findings: case, spaces and underscores do not matter."""
    s = re.sub(r"[\s_]+", "", str(text).strip().lower())
    m = _BANDS.match(s)
    return m.group(1) if m else s


@dataclass(frozen=True)
class Plausible:
    """What a real result looks like in one unit family, in its canonical unit:
    ``value`` for a lab value, ``limit`` for a ULN or LLN (None where labs publish
    no reference interval). Bounds are inclusive (see analytes.yaml)."""

    unit: Unit
    value: tuple[float, float]
    limit: tuple[float, float] | None = None


@dataclass(frozen=True)
class Analyte:
    name: str
    label: str
    klass: str
    units: tuple[Unit, ...]
    loinc: str | None = None
    molar_mass: float | None = None
    valence: int | None = None
    molar_units_refused: str | None = None
    synonyms: tuple[str, ...] = ()
    reference_units: tuple[Unit, ...] = ()   # units in which a bare-number ULN/LLN is accepted
    plausible: tuple[Plausible, ...] = ()     # one per unit family, in the order of units
    detection_limit: tuple[float, str] | None = None  # the bound 'not detected' stands for

    @property
    def qualitative(self) -> bool:
        return self.klass == "qualitative"


@dataclass(frozen=True)
class Term:
    """A named concept of a vocabulary (finding, condition, diagnosis)."""

    name: str
    label: str
    synonyms: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)


class Vocabulary:
    """One vocabulary: canonical entries and a synonym index."""

    def __init__(self, kind: str, entries: dict, keyfunc):
        self.kind = kind
        self.entries = entries
        self.keyfunc = keyfunc
        self.index: dict[str, str] = {}
        for canonical, entry in entries.items():
            for spelling in (canonical, *getattr(entry, "synonyms", ())):
                key = keyfunc(spelling)
                if self.index.get(key, canonical) != canonical:
                    raise ValueError(f"{kind} spelling {spelling!r} names two entries")
                self.index[key] = canonical

    def canonical(self, name) -> str | None:
        if not isinstance(name, str):
            name = str(name)
        return self.index.get(self.keyfunc(name))

    @property
    def parents(self) -> dict:
        """canonical -> the canonical names it implies (from 'implies' in the data)."""
        cached = getattr(self, "_parents", None)
        if cached is None:
            cached = {name: tuple(self.canonical(p) for p in getattr(term, "extra", {}).get("implies", []))
                      for name, term in self.entries.items()}
            self._parents = cached
        return cached

    def get(self, name):
        canonical = self.canonical(name)
        return self.entries[canonical] if canonical else None

    def suggest(self, name) -> str:
        """A 'did you mean ...' hint, or a pointer to the vocabulary."""
        close = difflib.get_close_matches(self.keyfunc(name), list(self.index), n=3, cutoff=0.6)
        names = []
        for key in close:
            canonical = self.index[key]
            if canonical not in names:
                names.append(canonical)
        if names:
            return "did you mean " + " or ".join(f"'{n}'" for n in names) + "?"
        return f"see the {self.kind} vocabulary (trialscreen/vocab) for the known names"

    def __contains__(self, name) -> bool:
        return self.canonical(name) is not None


@lru_cache(maxsize=None)
def analytes() -> Vocabulary:
    data = _load("analytes.yaml")["analytes"]
    entries = {}
    for name, raw in data.items():
        klass = raw.get("class", "chemistry")
        units = tuple(normalize(u, klass) for u in raw.get("units", []) or [])
        plausible = []
        for p in raw.get("plausible", []) or []:
            value = tuple(float(x) for x in p["value"])
            limit = tuple(float(x) for x in p["limit"]) if p.get("limit") is not None else None
            if any(len(r) != 2 or r[0] > r[1] for r in (value, limit) if r is not None):
                raise ValueError(f"analyte {name}: a plausible range is not [low, high]")
            plausible.append(Plausible(normalize(str(p["unit"]), klass), value, limit))
        entries[name] = Analyte(
            name=name,
            label=raw.get("label", name),
            klass=klass,
            units=units,
            loinc=raw.get("loinc"),
            molar_mass=raw.get("molar_mass"),
            valence=raw.get("valence"),
            molar_units_refused=raw.get("molar_units_refused"),
            synonyms=tuple(str(s) for s in raw.get("synonyms", []) or []),
            # dict.fromkeys: K/uL and 10^3/uL are one unit, kept once, in order
            reference_units=tuple(dict.fromkeys(normalize(str(u), klass)
                                                for u in raw.get("reference_units", []) or [])),
            plausible=tuple(plausible),
            detection_limit=_detection_limit(name, raw.get("detection_limit")),
        )
    return Vocabulary("analyte", entries, name_key)


def _detection_limit(name: str, raw) -> tuple[float, str] | None:
    """'20 IU/mL' -> (20.0, 'IU/mL'): what a result 'not detected' is known to be below."""
    if raw is None:
        return None
    number, _, unit = str(raw).strip().partition(" ")
    try:
        return float(number), unit.strip()
    except ValueError:
        raise ValueError(f"analyte {name}: detection_limit '{raw}' is not 'number unit'") from None


def _terms(file: str, top: str, kind: str, keyfunc) -> Vocabulary:
    data = _load(file)[top]
    entries = {}
    for name, raw in data.items():
        raw = raw or {}
        entries[name] = Term(
            name=name,
            label=raw.get("label", name),
            synonyms=tuple(str(s) for s in raw.get("synonyms", []) or []),
            extra={k: v for k, v in raw.items() if k not in ("label", "synonyms")},
        )
    return Vocabulary(kind, entries, keyfunc)


@lru_cache(maxsize=None)
def findings() -> Vocabulary:
    return _terms("cytogenetics.yaml", "findings", "cytogenetic finding", finding_key)


@lru_cache(maxsize=None)
def conditions() -> Vocabulary:
    return _terms("conditions.yaml", "conditions", "condition", name_key)


@lru_cache(maxsize=None)
def diagnoses() -> Vocabulary:
    return _terms("diagnoses.yaml", "diagnoses", "diagnosis", name_key)


@lru_cache(maxsize=None)
def treatments() -> Vocabulary:
    return _terms("treatments.yaml", "treatments", "treatment type", name_key)


@lru_cache(maxsize=None)
def drugs() -> Vocabulary:
    return _terms("drugs.yaml", "drugs", "substance", name_key)


def with_descendants(vocabulary: Vocabulary, names) -> list:
    """``names`` and every entry whose ``implies`` chain reaches one of them (sbrt implies
    radiotherapy, so a rule naming radiotherapy also matches sbrt)."""
    wanted = list(dict.fromkeys(names))
    parents = vocabulary.parents
    changed = True
    while changed:
        changed = False
        for child, ps in parents.items():
            if child not in wanted and any(p in wanted for p in ps):
                wanted.append(child)
                changed = True
    return wanted


def substance(text: str) -> str | None:
    """The substance a free-text entry names ('Revlimid', 'lenalidomide (rash)'),
    or None when it names none the vocabulary knows."""
    v = drugs()
    found = v.canonical(text)
    if found:
        return found
    key = "_" + name_key(text) + "_"
    for spelling, canonical in v.index.items():
        if f"_{spelling}_" in key:
            return canonical
    return None


# Qualitative results, shared by cytogenetics, serologies and other yes/no tests.
_POSITIVE = {"detected", "positive", "pos", "present", "yes", "y", "true", "1", "reactive", "abnormal", "+"}
# "-" is not here: in many exports it means "not done", so it stays missing.
_NEGATIVE = {"not detected", "notdetected", "not_detected", "negative", "neg", "absent", "no", "n",
             "false", "0", "non-reactive", "nonreactive", "non reactive", "undetected", "normal"}
_UNDECIDED = {"indeterminate", "equivocal", "failed", "not tested", "not done", "insufficient",
              "unknown", "pending", "inconclusive", "borderline"}


def qualitative(value) -> bool | None:
    """Read a qualitative result. True/False for a clear result, None for an
    explicit non-result (failed, equivocal, pending). Raises ValueError for
    text that is none of these."""
    if isinstance(value, bool):
        return value
    return _qualitative_text(str(value))


@lru_cache(maxsize=4096)
def _qualitative_text(value: str) -> bool | None:
    text = re.sub(r"\s+", " ", value.strip().lower())
    if text in _POSITIVE:
        return True
    if text in _NEGATIVE:
        return False
    if text in _UNDECIDED:
        return None
    raise ValueError(value)


_YES = {"true", "yes", "y", "1"}
_NO = {"false", "no", "n", "0"}


@lru_cache(maxsize=1024)
def yes_no(value, digits: bool = True) -> bool | None:
    """Read a yes/no answer: true/false, yes/no, y/n and (unless ``digits`` is
    off, where 1 might be a line number) 1/0. None for no answer ('', unknown).
    Raises ValueError for anything else. The one reader of yes/no text."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "unknown"):
        return None
    if text in _YES and (digits or not text.isdigit()):
        return True
    if text in _NO and (digits or not text.isdigit()):
        return False
    raise ValueError(value)


QUALITATIVE_WORDS = "detected / not detected (also positive / negative, true / false, present / absent)"
